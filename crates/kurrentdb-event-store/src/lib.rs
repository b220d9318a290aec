//! # kurrentdb-event-store
//!
//! An event-sourcing event store over KurrentDB: domain events as Rust types,
//! appended with optimistic locking, loaded by version range, with snapshots
//! and per-tenant isolation. [`EventStore`] is async (over
//! [`kurrentdbclient::AsyncKurrentDBClient`]); [`blocking::EventStore`] is its
//! blocking twin (over [`kurrentdbclient_blocking::KurrentDBClient`]).
//!
//! ## Which crate
//!
//! | crate | for |
//! |---|---|
//! | [`kurrentdbclient`] | async applications on tokio: `AsyncKurrentDBClient` |
//! | [`kurrentdbclient_blocking`] | threaded code without an async runtime: `KurrentDBClient` |
//! | `kurrentdb-event-store` (this one) | event-sourced applications: typed events, expected versions, snapshots; the client crates for everything else (subscriptions, `$all`, metadata) |
//! | [`kurrentdb-embedded`](https://docs.rs/kurrentdb-embedded) | tests and local development: an in-memory KurrentDB-compatible server, in-process or as a binary |
//!
//! ## Concepts
//!
//! - **Events** are user types implementing [`Event`] (serde, plus an event
//!   type name per kind of event; [`impl_event!`] writes the impl). They are
//!   wrapped in a [`WrappedEvent`] carrying id, version, times, commit
//!   position and metadata (correlation and causation ids). Payloads are JSON
//!   (`application/json`) unless another [`Codec`] is plugged in.
//! - **Versions** count from 1: the first event of a stream is version 1, and
//!   a stream that does not exist is at version 0. `append` takes the version
//!   the caller expects the stream to be at ([`ExpectedVersion`]); a stale one
//!   fails with [`EventStoreError::ConcurrencyConflict`] and writes nothing.
//! - **Stream ids** ([`StreamId`]) are names, UUIDs or integers, mapped to
//!   KurrentDB stream names by the scheme in [`stream_id`]: the id, or
//!   `{category}-{id}`, prefixed by `tenant:{tenant_id}:` in a store
//!   [scoped for a tenant](EventStore::scoped_for_tenant); snapshots live in
//!   `snapshot-{stream}`.
//!
//! ## Example
//!
//! ```
//! use kurrentdb_event_store::{EventStore, ExpectedVersion, StreamId, WrappedEvent, impl_event};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize)]
//! #[serde(tag = "type")]
//! enum CartEvent {
//!     ItemAdded { sku: String },
//!     ItemRemoved { sku: String },
//! }
//! impl_event!(enum CartEvent { ItemAdded, ItemRemoved });
//!
//! #[derive(Debug, Default, Serialize, Deserialize)]
//! struct Cart {
//!     items: Vec<String>,
//! }
//! impl_event!(struct Cart = "CartSnapshot");
//!
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An in-process server for the example; a real KurrentDB works the same.
//! let server = kurrentdb_embedded::EmbeddedServer::start().await?;
//! let store = EventStore::connect(&server.connection_string()).await?;
//! let cart_id = StreamId::new().with_category("cart");
//!
//! store
//!     .append(
//!         [CartEvent::ItemAdded { sku: "apple".into() }, CartEvent::ItemAdded { sku: "pear".into() }],
//!         &cart_id,
//!         ExpectedVersion::NEW_STREAM,
//!     )
//!     .await?;
//! let cart = Cart { items: vec!["apple".into(), "pear".into()] };
//! store.save_snapshot(&cart_id, WrappedEvent::new(cart).with_version(2)).await?;
//! store.append([CartEvent::ItemRemoved { sku: "pear".into() }], &cart_id, 2).await?;
//!
//! let loaded = store.load_with_snapshot::<Cart, CartEvent>(&cart_id).await?;
//! assert_eq!(loaded.snapshot.unwrap().version, Some(2));
//! assert_eq!(loaded.events_read, 1);
//! assert_eq!(loaded.events[0].version, Some(3));
//! # Ok(()) }
//! ```
//!
//! ## Feature flags
//!
//! None.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's example runs as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod blocking;
pub mod codec;
pub mod error;
pub mod event;
pub mod store;
pub mod stream_id;
mod time;
pub mod version;

pub use codec::{Codec, CodecError, JsonCodec};
pub use error::{EventStoreError, Result};
pub use event::{Event, EventMetadata, WrappedEvent};
pub use store::{EventStore, LoadedStream, UnknownEventPolicy};
pub use stream_id::{DEFAULT_TENANT, StreamId};
pub use version::ExpectedVersion;
