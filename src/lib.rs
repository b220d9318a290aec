//! # kurrentdbclient
//!
//! An async client for [KurrentDB](https://www.kurrent.io) (formerly EventStoreDB),
//! speaking its gRPC protocol over tonic.
//!
//! The entry point is [`AsyncKurrentDBClient`]. A blocking twin with the same calls,
//! `KurrentDBClient`, lives in the `kurrentdbclient-blocking` crate.
//!
//! ```no_run
//! use futures::StreamExt;
//! use kurrentdbclient::options::{AppendToStreamOptions, ReadStreamOptions};
//! use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};
//!
//! # async fn run() -> kurrentdbclient::Result<()> {
//! let client = AsyncKurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false").await?;
//! client
//!     .append_to_stream(
//!         "order:123",
//!         StreamState::NoStream,
//!         [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
//!         &AppendToStreamOptions::default(),
//!     )
//!     .await?;
//! let mut events = client.read_stream("order:123", &ReadStreamOptions::default()).await?;
//! while let Some(event) = events.next().await {
//!     println!("{:?}", event?);
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! Data flows one way: user call -> options -> request message -> channel
//! (deadline, credentials, leader routing) -> response -> typed result or
//! [`Error`].
//!
//! - `client/`: the methods of [`AsyncKurrentDBClient`], one file per gRPC
//!   service (`streams`, `persistent`, `server`), and `call`, the one call path
//!   they share: a named call kind decides leader routing and the default
//!   deadline; one retry; statuses mapped by [`Error::from_status`].
//! - [`streams`], [`persistent`]: per service, the request builders, the
//!   response conversion, and the `Stream` types of reads and subscriptions.
//! - [`server`]: what gossip and server info report.
//! - [`options`]: one options type per operation, all re-exported here.
//! - [`connection`]: connection strings, channels, TLS, credentials, discovery.
//! - [`types`], [`metadata`], [`error`]: the values that cross the API, and the
//!   one error type.
//! - [`proto`]: the generated wire types and gRPC stubs.
//! - [`telemetry`]: the `tracing` spans of every call, and (feature
//!   `opentelemetry`) trace context carried through event metadata.
#![warn(missing_docs)]

mod client;
pub mod connection;
pub mod error;
pub mod metadata;
pub mod options;
pub mod persistent;
pub mod proto;
pub mod server;
pub mod streams;
pub mod telemetry;
pub mod types;

pub use client::AsyncKurrentDBClient;
pub use connection::credentials::Credentials;
pub use connection::settings::{ConnectionSettings, Endpoint, NodePreference};
pub use error::{Error, Result};
pub use metadata::{StreamAcl, StreamMetadata};
pub use options::*;
pub use persistent::{
    ConsumerStrategy, NackAction, PersistentSubscription, PersistentSubscriptionAcker,
    SubscriptionInfo,
};
pub use server::{ClusterMember, NodeState, ServerInfo, SupportedMethod};
pub use streams::{CatchupSubscription, ReadStream};
pub use types::*;
