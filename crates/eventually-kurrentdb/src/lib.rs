//! A [KurrentDB](https://www.kurrent.io) event store for
//! [eventually](https://crates.io/crates/eventually) 0.4 (its
//! `EventStore` trait, re-exported by `eventually` from `eventually-core`),
//! on the async [`kurrentdbclient`] client: what `eventually-postgres` is
//! for PostgreSQL.
//!
//! [`KurrentDBEventStore`] keeps each aggregate in a stream
//! `<category>-<id>`, checks `Expected::Exact` versions with KurrentDB's
//! expected revision (a conflict is [`EventStoreError::Conflict`], whose
//! `is_conflict_error()` is true), and stores events as JSON that any client
//! reads. `eventually`'s `Repository` takes it as it is.
//!
//! ```no_run
//! # use eventually_kurrentdb::KurrentDBEventStore;
//! # #[derive(serde::Serialize, serde::Deserialize)] enum AccountEvent { Opened }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = kurrentdbclient::AsyncKurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false").await?;
//! let store = KurrentDBEventStore::<String, AccountEvent>::new(client, "account")?;
//! // eventually_core::repository::Repository::new(MyAggregate.into(), store)
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod codec;
mod error;
mod event_type;
mod store;

pub use error::EventStoreError;
pub use store::KurrentDBEventStore;
