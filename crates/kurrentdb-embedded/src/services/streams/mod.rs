//! The streams API, in both of its versions:
//! - `v1`: `event_store.client.streams.Streams` (appends, reads and
//!   catch-up subscriptions, deletes), with its `BatchAppend` call in
//!   `batch`;
//! - `v2`: `kurrentdb.protocol.v2.streams.StreamsService` (multi-stream
//!   appends with consistency checks).

mod batch;
mod v1;
mod v2;

pub(crate) use v1::StreamsService;
pub(crate) use v2::StreamsV2Service;
