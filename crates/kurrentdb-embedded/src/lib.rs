//! # kurrentdb-embedded
//!
//! An in-memory, [KurrentDB](https://www.kurrent.io)-compatible gRPC server,
//! for tests and local development, with no Docker and nothing to install.
//!
//! It speaks the KurrentDB wire protocol (v1 streams, v2 appends, persistent
//! subscriptions, server features, gossip) and answers like a real node does,
//! down to status codes, trailers and in-band results, so that code tested
//! against it works against KurrentDB. Everything lives in memory and is gone
//! when the server stops. Start one in-process per test with
//! [`EmbeddedServer::start`] (or [`EmbeddedServer::start_blocking`] in a plain
//! `#[test]`), on a free loopback port; it stops when dropped. Or run the
//! binary as a dev server for any KurrentDB client:
//! `kurrentdb-embedded --insecure --node-port 2113`.
//!
//! ## Which crate
//!
//! | crate | for |
//! |---|---|
//! | [`kurrentdbclient`] | async applications on tokio: `AsyncKurrentDBClient` |
//! | [`kurrentdbclient-blocking`](https://docs.rs/kurrentdbclient-blocking) | threaded code without an async runtime: `KurrentDBClient` |
//! | [`kurrentdb-event-store`](https://docs.rs/kurrentdb-event-store) | event-sourced applications: typed events, expected versions, snapshots |
//! | `kurrentdb-embedded` (this one) | tests and local development: an in-memory KurrentDB-compatible server, as a dev-dependency or a binary |
//!
//! ## Example: a test with a server of its own
//!
//! ```
//! use kurrentdb_embedded::EmbeddedServer;
//! use kurrentdbclient::{AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, StreamState};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In a `#[tokio::test]`: each test gets a fresh server of its own.
//! let server = EmbeddedServer::start().await?;
//! let client = AsyncKurrentDBClient::connect(&server.connection_string()).await?;
//! // The log starts with the events a fresh node writes (`$epoch-information`, ...).
//! let before = server.store().log_len();
//! client
//!     .append_to_stream(
//!         "order-1",
//!         StreamState::NoStream,
//!         [NewEvent::new("OrderPlaced", r#"{"total": 42}"#)],
//!         &AppendToStreamOptions::default(),
//!     )
//!     .await?;
//! // The store can be inspected in-process.
//! assert_eq!(server.store().log_len(), before + 1);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## Feature flags
//!
//! - `javascript` (on by default): user projections in JavaScript, run by an embedded
//!   QuickJS engine (rquickjs). Off, the native standard projections still run and a
//!   user projection faults with a state reason saying the engine is not built in.
//!
//! ## Public API
//!
//! Only what users, tests and the binary need is public, and this is all of
//! it:
//! - [`EmbeddedServer`] and its [`ServerOptions`] (also under [`server`]),
//!   and [`server::routes`]: the gRPC services over a store, for a test that
//!   serves them behind a tonic server of its own (the client's TLS tests
//!   record each call's headers with an interceptor there);
//! - [`EmbeddedCluster`] and its [`ClusterOptions`], [`NodeRole`] and
//!   [`Partition`];
//! - [`Store`] and [`StoreOptions`] (also under [`store`]): the store a
//!   server hands out for in-process inspection; and [`store::Matcher`], how
//!   client filter regexes are understood, with what it is made of and
//!   refused with ([`store::PrefixSet`], [`store::FilterError`]);
//! - [`Security`] (also under [`security`]) and the certificates its modes
//!   serve with, [`security::ServerCertificates`] and
//!   [`security::DevCertificates`] (which
//!   [`EmbeddedServer::dev_certificates`] hands out, to sign user
//!   certificates), with their error, [`security::TlsError`];
//! - [`RunProjections`] (also under [`projections`]), and
//!   [`projections::JAVASCRIPT`]: whether this build runs user projections
//!   (the `javascript` feature), for tests that expect either answer.
//!
//! Everything else is crate-internal (the crate warns on `unreachable_pub`).
//!
//! ## Layout
//!
//! After tokio's mini-redis. Each module below imports only the modules
//! listed before it, and each word names one thing:
//! - `index`: stream -> revisions, deletion and metadata;
//! - `log`: the append-only event log and its positions; `log/link.rs`: a
//!   standard projection's compact link, and the text a read writes it out
//!   as (whose JSON keys the projections' tags share);
//! - `ticks`: time as KurrentDB writes it (.NET ticks, and their text);
//! - [`store`]: the log and the index behind one lock, and the domain
//!   operations: `types` (what a write is asked and answers), `prepare`,
//!   `write` (appends and deletes), `read` (stream and `$all` reads),
//!   `filter` (the `$all` filter), `scavenge` (removing records),
//!   `projection_io` (the store as projections use it: their `$all` reads
//!   and bulk appends), `system` (the events a node writes itself);
//! - `subscriptions`: reads as streams of pages (catch-up, then live);
//! - `persistent/`: persistent subscriptions; `persistent/group/` is a
//!   consumer group (the one meaning of "group"), with a driver task that
//!   sleeps until its next deadline or a wake-up;
//! - [`projections`]: the projection subsystem (standard projections, user
//!   projections in JavaScript with the `javascript` feature):
//!   `projections/thread.rs` runs them, the five standard projections on one
//!   shared thread that follows the log, each user projection on a thread of
//!   its own; `projections/source.rs` is a projection's source definition,
//!   `projections/event.rs` an event as a projection sees it;
//! - `users`: users as KurrentDB keeps them, in streams;
//! - `scavenge_jobs`: the node's scavenge jobs, which the Operations service
//!   starts and stops (what a job removes is `store/scavenge.rs`'s);
//! - `membership`: the members of a node's cluster, their roles and
//!   elections (a single server is a cluster of one);
//! - [`security`]: the security modes and their TLS material (`tls`), who
//!   makes a call (`principal`), authentication (`auth`) and authorization
//!   (`authz`);
//! - `call_log`: what the server logs about connections and calls (a
//!   `tracing` layer, quiet unless a subscriber listens): the call log, so
//!   that `log` stays the event log;
//! - `catch_panic`: a handler's panic answers its call with `INTERNAL`;
//! - `metrics`: the figures `GET /metrics` reports, as KurrentDB names
//!   them, and the tower layer that counts and times gRPC calls;
//! - `services/`: one thin module per gRPC service; `services/streams/`
//!   holds both versions of the streams API (`v1.rs` with its `batch.rs`,
//!   `v2.rs`);
//! - `http/`: HTTP on the node's gRPC port (gRPC calls told apart by their
//!   content type): KurrentDB's `/health/live`, `/info`, `/gossip`,
//!   `/ping`, `/stats` and `/metrics`;
//! - `node/`: what a node is, for a single server and each node of a
//!   cluster alike: its options, the services it shares with the other
//!   nodes over one store, the task serving it, the role gate (the one place
//!   a node's role decides what it serves: not-leader answers as
//!   KurrentDB's) and its connections' fate (cut or hung);
//! - [`server`]: [`EmbeddedServer`], one node;
//! - `cluster`: [`EmbeddedCluster`], several nodes over one store, each on
//!   its own port, with gossip of every member, elections, and nodes that
//!   can be stopped, restarted and partitioned. `server` and `cluster`
//!   start their nodes from `node/` and do not import each other.
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples run as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod call_log;
mod catch_panic;
mod cluster;
mod http;
mod index;
mod log;
mod membership;
mod metrics;
mod node;
mod persistent;
pub mod projections;
mod scavenge_jobs;
pub mod security;
pub mod server;
mod services;
pub mod store;
mod subscriptions;
mod ticks;
mod users;

pub use cluster::{ClusterOptions, EmbeddedCluster, NodeRole, Partition};
pub use projections::RunProjections;
pub use security::Security;
pub use server::{EmbeddedServer, ServerOptions};
pub use store::{Store, StoreOptions};
