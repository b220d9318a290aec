//! # kurrentdbclient
//!
//! An async client for [KurrentDB](https://www.kurrent.io) (formerly EventStoreDB),
//! the event-store database, speaking its gRPC protocol on tokio and tonic: appends
//! (single-stream, and v2 multi-stream with consistency checks), reads of a stream
//! and of `$all`, catch-up and persistent subscriptions, stream metadata, and
//! cluster discovery. The entry point is [`AsyncKurrentDBClient`].
//!
//! ## Which crate
//!
//! | crate | for |
//! |---|---|
//! | `kurrentdbclient` (this one) | async applications on tokio: [`AsyncKurrentDBClient`] |
//! | [`kurrentdbclient-blocking`](https://docs.rs/kurrentdbclient-blocking) | threaded code without an async runtime: `KurrentDBClient`, the same calls, blocking |
//! | [`kurrentdb-event-store`](https://docs.rs/kurrentdb-event-store) | event-sourced applications: typed events, expected versions, snapshots |
//! | [`kurrentdb-embedded`](https://docs.rs/kurrentdb-embedded) | tests and local development: an in-memory KurrentDB-compatible server, in-process or as a binary |
//!
//! ## Example
//!
//! ```
//! use futures::StreamExt;
//! use kurrentdbclient::{
//!     AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, ReadStreamOptions, StreamState,
//! };
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An in-process server for the example (`kurrentdb-embedded`); a KurrentDB
//! // node is connected to the same way, e.g. "kurrentdb://127.0.0.1:2113?tls=false".
//! let server = kurrentdb_embedded::EmbeddedServer::start().await?;
//! let client = AsyncKurrentDBClient::connect(&server.connection_string()).await?;
//!
//! client
//!     .append_to_stream(
//!         "order-123",
//!         StreamState::NoStream,
//!         [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
//!         &AppendToStreamOptions::default(),
//!     )
//!     .await?;
//! let mut events = client.read_stream("order-123", &ReadStreamOptions::default()).await?;
//! while let Some(event) = events.next().await {
//!     let event = event?;
//!     assert_eq!(event.r#type, "OrderCreated");
//! }
//! # Ok(()) }
//! ```
//!
//! Every operation takes its required arguments plainly and its optional ones
//! through one options value per operation ([`options`], re-exported here), with a
//! per-call timeout and credentials. Errors are one enum, [`Error`], whose variants
//! say what happened and carry the facts.
//!
//! ## Feature flags
//!
//! - `server` (off by default): also generate the gRPC server stubs of the
//!   protocol in [`proto`]; `kurrentdb-embedded` turns it on. Clients do not
//!   need it.
//! - `opentelemetry` (off by default): carry the trace context through JSON
//!   event metadata (`$traceId`/`$spanId`, as the official clients do), so a
//!   subscription's consumer span links to the span that appended the event;
//!   see [`telemetry`].
//!
//! ## What is public
//!
//! - At the crate root: [`AsyncKurrentDBClient`]; every options type and
//!   constant of [`options`]; every value of [`types`]; [`Error`] and
//!   [`Result`]; [`Credentials`], [`ConnectionSettings`], [`Endpoint`] and
//!   [`NodePreference`]; [`StreamMetadata`] and [`StreamAcl`]; the `Stream`s
//!   of reads and subscriptions ([`ReadStream`], [`CatchupSubscription`],
//!   [`PersistentSubscription`]); and what the services answer with
//!   ([`SubscriptionInfo`], [`ProjectionStatistics`], [`ClusterMember`],
//!   [`ServerInfo`], [`ScavengeResult`], [`UserDetails`], ...).
//! - The modules they come from, which hold the rest of each service's
//!   public items: [`connection`] ([`connection::settings`] with
//!   [`ConnectionStringError`](connection::settings::ConnectionStringError),
//!   and [`connection::credentials`]), [`error`], [`metadata`],
//!   [`operations`], [`options`], [`persistent`], [`projections`],
//!   [`server`], [`streams`], [`telemetry`], [`types`] and [`users`].
//! - [`proto`], the generated wire types and gRPC stubs, **outside the
//!   semver guarantee** of the rest of the crate. It stays public because the
//!   embedded server (`kurrentdb-embedded`, with the `server` feature) is
//!   built on its server stubs, and tests and benches that speak the protocol
//!   directly use its messages and client stubs. But its types are prost's
//!   and tonic's (0.x crates): a release of this crate may change them when
//!   the `.proto` files change or when it moves to a new prost or tonic, in
//!   any version. Applications use the typed API above, which hides them.
//!
//! ## Layout
//!
//! Data flows one way: user call -> options -> request message -> channel
//! (deadline, credentials, leader routing) -> response -> typed result or
//! [`Error`]. Each module imports only modules below it, and no two files
//! import each other (`.ci/imports.py` checks both). From the top:
//!
//! - `client/`: the methods of [`AsyncKurrentDBClient`], one file per gRPC
//!   service (`streams`, `persistent`, `projections`, `users`, `operations`,
//!   `server`), and `call`, the one call path they share: a named call kind
//!   decides leader routing and the default deadline; one retry; statuses
//!   mapped by [`Error::from_status`].
//! - [`streams`], [`persistent`], [`projections`], [`users`],
//!   [`operations`]: per service, the request builders, the response
//!   conversion, and the `Stream` types of reads and subscriptions;
//!   [`server`]: what gossip and server info report; [`metadata`]: stream
//!   metadata.
//! - [`telemetry`]: the `tracing` spans of every call, and (feature
//!   `opentelemetry`) trace context carried through event metadata; `resume`:
//!   how a subscription resubscribes by itself.
//! - [`options`]: one options type per operation, one file per service as in
//!   `client/` (`options/streams.rs`, `options/persistent.rs` with a group's
//!   [`PersistentSubscriptionSettings`], `options/projections.rs`,
//!   `options/users.rs`, `options/operations.rs`, `options/server.rs`), all
//!   re-exported here; `options/mod.rs` holds the `options!` macro that
//!   defines them.
//! - [`connection`]: connection strings (`connection/settings/`), call
//!   credentials, and (private) channels, TLS and cluster discovery.
//! - [`error`]: the one error type; `error/status.rs`, the one place a gRPC
//!   status becomes an [`Error`]; and what a malformed connection string
//!   reports (`error/connection_string.rs`).
//! - [`types`]: the values that cross the API; `endpoint`: a node's
//!   [`Endpoint`]; `wire`: UUIDs and stream identifiers on the wire.
//! - [`proto`]: the generated wire types and gRPC stubs.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples compile as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod client;
pub mod connection;
mod endpoint;
pub mod error;
pub mod metadata;
pub mod operations;
pub mod options;
pub mod persistent;
pub mod projections;
pub mod proto;
mod resume;
pub mod server;
pub mod streams;
pub mod telemetry;
pub mod types;
pub mod users;
mod wire;

pub use client::AsyncKurrentDBClient;
pub use connection::credentials::Credentials;
pub use connection::settings::{ConnectionSettings, Endpoint, NodePreference};
pub use error::{Error, Result};
pub use metadata::{StreamAcl, StreamMetadata};
pub use operations::{ScavengeResult, ScavengeStatus};
pub use options::*;
pub use persistent::{
    AckId, ConsumerStrategy, NackAction, PersistentSubscription, PersistentSubscriptionAcker,
    SubscriptionInfo,
};
pub use projections::{ProjectionMode, ProjectionStatistics, ProjectionStatus};
pub use server::{ClusterMember, NodeState, ServerInfo, SupportedMethod};
pub use streams::{CatchupSubscription, ReadStream};
pub use types::*;
pub use users::UserDetails;
