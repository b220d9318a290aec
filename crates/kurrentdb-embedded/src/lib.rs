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
//! ## Layout
//!
//! After tokio's mini-redis:
//! - `log`: the append-only record log and its positions;
//! - `index`: stream -> revisions, deletion and metadata;
//! - [`store`]: both behind one lock, and the domain operations (`store/write`:
//!   appends and deletes; `store/read`: stream and `$all` reads;
//!   `store/filter`: the `$all` filter);
//! - `subscriptions`: reads as streams of pages (catch-up, then live);
//! - `persistent/`: persistent-subscription groups, each with a driver task
//!   that sleeps until its next deadline or a wake-up;
//! - [`projections`]: the projection subsystem (standard projections, user
//!   projections in JavaScript with the `javascript` feature): the five
//!   standard projections share one thread that follows the log, each user
//!   projection has a thread of its own;
//! - `services/`: one thin module per gRPC service;
//! - `logging`: what the server logs about connections and calls (a `tracing`
//!   layer around the services; quiet unless a subscriber listens);
//! - [`server`]: [`EmbeddedServer`], which serves them;
//! - [`cluster`]: [`EmbeddedCluster`], several nodes over one store, each on
//!   its own port, behind a role gate (the one place a node's role decides
//!   what it serves: not-leader answers as KurrentDB's), with gossip of every
//!   member, elections, and nodes that can be stopped, restarted and
//!   partitioned. A single server is a cluster of one through the same code.
//!
//! Only what users, tests and the binary need is public: the server and its
//! options, the [`Store`] it hands out for inspection, and [`store::Matcher`]
//! (how client filter regexes are understood). The rest is internal.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples run as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod call_log;
mod catch_panic;
pub mod cluster;
mod index;
mod log;
mod membership;
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
pub mod users;

pub use cluster::{ClusterOptions, EmbeddedCluster, NodeRole, Partition};
pub use projections::RunProjections;
pub use security::Security;
pub use server::{EmbeddedServer, ServerOptions};
pub use store::{Store, StoreOptions};
