//! A [KurrentDB](https://www.kurrent.io) event repository for
//! [cqrs-es](https://crates.io/crates/cqrs-es), on the async
//! [`kurrentdbclient`] client: what `postgres-es` is for PostgreSQL.
//!
//! - Each aggregate instance is one stream, `<Aggregate::TYPE>-<aggregate id>`,
//!   so KurrentDB's `$ce-<Aggregate::TYPE>` groups the instances of a type.
//! - An event's sequence is its stream revision + 1; a commit appends at the
//!   revision its aggregate was loaded at, so a concurrent commit fails with
//!   cqrs-es's optimistic-lock error (`AggregateError::AggregateConflict`),
//!   never overwriting. Event ids derive from the aggregate, the sequence and
//!   the commit, so an append sent again after a lost answer is not written
//!   twice.
//! - Event type, payload and metadata are the KurrentDB event's type, JSON
//!   data and JSON metadata (with `eventVersion`): other clients read them as
//!   they are.
//! - Snapshots go to `snapshot-<Aggregate::TYPE>-<aggregate id>`, which keeps
//!   only its last event (`$maxCount` 1), with cqrs-es's check on the
//!   snapshot version.
//! - Replays ([`ReplayStream`](cqrs_es::persist::ReplayStream)) stream from
//!   the server without loading the events into memory.
//!
//! ```no_run
//! # use cqrs_es::{Aggregate, event_sink::EventSink};
//! # #[derive(Default, serde::Serialize, serde::Deserialize)]
//! # struct Account;
//! # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! # struct Opened;
//! # impl cqrs_es::DomainEvent for Opened {
//! #     fn event_type(&self) -> String { "Opened".into() }
//! #     fn event_version(&self) -> String { "1".into() }
//! # }
//! # #[derive(Debug, thiserror::Error)] #[error("no")] struct No;
//! # impl Aggregate for Account {
//! #     const TYPE: &'static str = "account";
//! #     type Command = (); type Event = Opened; type Error = No; type Services = ();
//! #     async fn handle(&mut self, _: (), _: &(), sink: &EventSink<Self>) -> Result<(), No> {
//! #         sink.write(Opened, self).await; Ok(())
//! #     }
//! #     fn apply(&mut self, _: Opened) {}
//! # }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = kurrentdbclient::AsyncKurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false").await?;
//! let cqrs = kurrentdb_es::kurrentdb_cqrs::<Account>(client, vec![], ());
//! cqrs.execute("account-42", ()).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod codec;
mod error;
mod naming;
mod repository;

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, CqrsFramework, Query};
use kurrentdbclient::AsyncKurrentDBClient;

pub use error::KurrentDBRepositoryError;
pub use repository::KurrentDBEventRepository;

/// A `CqrsFramework` on KurrentDB.
pub type KurrentDBCqrs<A> = CqrsFramework<A, PersistedEventStore<KurrentDBEventRepository, A>>;

/// A `CqrsFramework` whose aggregates are loaded from their events (every
/// event each time).
pub fn kurrentdb_cqrs<A: Aggregate>(
    client: AsyncKurrentDBClient,
    queries: Vec<Box<dyn Query<A>>>,
    services: A::Services,
) -> KurrentDBCqrs<A> {
    let store = PersistedEventStore::new_event_store(KurrentDBEventRepository::new(client));
    CqrsFramework::new(store, queries, services)
}

/// A `CqrsFramework` whose aggregates are loaded from a snapshot and the
/// events after it; a snapshot is written every `snapshot_size` events.
pub fn kurrentdb_snapshot_cqrs<A: Aggregate>(
    client: AsyncKurrentDBClient,
    queries: Vec<Box<dyn Query<A>>>,
    snapshot_size: usize,
    services: A::Services,
) -> KurrentDBCqrs<A> {
    let repository = KurrentDBEventRepository::new(client);
    let store = PersistedEventStore::new_snapshot_store(repository, snapshot_size);
    CqrsFramework::new(store, queries, services)
}

/// A `CqrsFramework` whose aggregates are loaded from their last snapshot
/// alone, written at every commit (the events are stored too).
pub fn kurrentdb_aggregate_cqrs<A: Aggregate>(
    client: AsyncKurrentDBClient,
    queries: Vec<Box<dyn Query<A>>>,
    services: A::Services,
) -> KurrentDBCqrs<A> {
    let store = PersistedEventStore::new_aggregate_store(KurrentDBEventRepository::new(client));
    CqrsFramework::new(store, queries, services)
}
