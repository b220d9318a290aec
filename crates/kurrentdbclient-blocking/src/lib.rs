//! # kurrentdbclient-blocking
//!
//! The blocking twin of [`kurrentdbclient`]: [`KurrentDBClient`] has every
//! operation of [`AsyncKurrentDBClient`], with the same names, arguments and
//! options types, each one running the async call to completion on an internal
//! tokio runtime. Reads are [`Iterator`]s ([`ReadStream`]); subscriptions are
//! [`Iterator`]s too: catch-up ones that another thread can stop
//! ([`CatchupSubscription`], [`StopHandle`]) and persistent ones with ack and
//! nack ([`PersistentSubscription`], [`persistent`]).
//!
//! This crate re-exports everything of `kurrentdbclient` (events, options,
//! errors, settings, and the async client itself), so it is the only
//! dependency a program needs. The names that differ in meaning are
//! [`ReadStream`], [`CatchupSubscription`] and [`PersistentSubscription`]: here
//! they are the blocking iterators over the async client's streams of the
//! same names (`kurrentdbclient::{ReadStream, CatchupSubscription,
//! PersistentSubscription}`), which [`async_client`](KurrentDBClient::async_client)
//! returns.
//!
//! The client is `Send + Sync` and cheap to clone: share one between threads.
//! Calling it from async code panics with a clear message rather than
//! deadlocking; see [`KurrentDBClient`](KurrentDBClient#calling-it-from-async-code).
//!
//! ```
//! use kurrentdbclient_blocking::options::{AppendToStreamOptions, ReadStreamOptions};
//! use kurrentdbclient_blocking::{KurrentDBClient, NewEvent, StreamState};
//!
//! # fn main() -> kurrentdbclient_blocking::Result<()> {
//! # let server = kurrentdb_embedded::EmbeddedServer::start_blocking().unwrap();
//! # let uri = server.connection_string();
//! // For example "kurrentdb://127.0.0.1:2113?tls=false".
//! let client = KurrentDBClient::connect(&uri)?;
//! client.append_to_stream(
//!     "order:123",
//!     StreamState::NoStream,
//!     [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
//!     &AppendToStreamOptions::default(),
//! )?;
//! for event in client.read_stream("order:123", &ReadStreamOptions::default())? {
//!     let event = event?;
//!     assert_eq!(event.r#type, "OrderCreated");
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod client;
mod iter;
pub mod persistent;
mod runtime;

// Everything the async crate exports (types, options, errors, settings,
// modules), so that users need this one dependency. The items defined here
// (`ReadStream`, `CatchupSubscription`, `PersistentSubscription`, `persistent`)
// shadow the async ones of the same name.
pub use kurrentdbclient::*;

pub use client::KurrentDBClient;
pub use iter::{CatchupSubscription, PersistentSubscription, ReadStream, StopHandle};
