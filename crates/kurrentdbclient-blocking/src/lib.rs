//! # kurrentdbclient-blocking
//!
//! A blocking client for [KurrentDB](https://www.kurrent.io) (formerly
//! EventStoreDB): [`KurrentDBClient`] has every operation of
//! [`kurrentdbclient`]'s [`AsyncKurrentDBClient`], with the same names,
//! arguments and options types, each one running the async call to completion
//! on an internal tokio runtime. Reads are [`Iterator`]s ([`ReadStream`]);
//! subscriptions are [`Iterator`]s too: catch-up ones that another thread can
//! stop ([`CatchupSubscription`], [`StopHandle`]) and persistent ones with ack
//! and nack ([`PersistentSubscription`], [`persistent`]).
//!
//! ## Which crate
//!
//! | crate | for |
//! |---|---|
//! | [`kurrentdbclient`] | async applications on tokio: [`AsyncKurrentDBClient`] |
//! | `kurrentdbclient-blocking` (this one) | threaded code without an async runtime: [`KurrentDBClient`] |
//! | [`kurrentdb-event-store`](https://docs.rs/kurrentdb-event-store) | event-sourced applications: typed events, expected versions, snapshots |
//! | [`kurrentdb-embedded`](https://docs.rs/kurrentdb-embedded) | tests and local development: an in-memory KurrentDB-compatible server, in-process or as a binary |
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
//! ## Example
//!
//! ```
//! use kurrentdbclient_blocking::{
//!     AppendToStreamOptions, KurrentDBClient, NewEvent, ReadStreamOptions, StreamState,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An in-process server for the example (`kurrentdb-embedded`); a KurrentDB
//! // node is connected to the same way, e.g. "kurrentdb://127.0.0.1:2113?tls=false".
//! let server = kurrentdb_embedded::EmbeddedServer::start_blocking()?;
//! let client = KurrentDBClient::connect(&server.connection_string())?;
//!
//! client.append_to_stream(
//!     "order-123",
//!     StreamState::NoStream,
//!     [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
//!     &AppendToStreamOptions::default(),
//! )?;
//! for event in client.read_stream("order-123", &ReadStreamOptions::default())? {
//!     let event = event?;
//!     assert_eq!(event.r#type, "OrderCreated");
//! }
//! # Ok(()) }
//! ```
//!
//! The client is `Send + Sync` and cheap to clone: share one between threads.
//! Calling it from async code panics with a clear message rather than
//! deadlocking; see [`KurrentDBClient`](KurrentDBClient#calling-it-from-async-code).
//!
//! ## Feature flags
//!
//! None: every feature of the async client is there by default.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's example runs as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

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
