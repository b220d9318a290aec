//! A group's statistics, computed as KurrentDB computes them
//! (`PersistentSubscriptionStats.cs`, `PersistentSubscriptionClient.cs` and
//! `RequestStatistics.cs` in `src/KurrentDB.Core/Services/PersistentSubscription/`,
//! turned into the wire's `SubscriptionInfo` by
//! `Services/Transport/Grpc/PersistentSubscriptions.Info.cs`).
//!
//! - `status`: `NotReady` until the checkpoint is loaded, then `Live` or
//!   `Behind` by the buffers' state (see `buffer`). (KurrentDB's state is a flags
//!   enum that can also show `OutstandingPageRequest` or
//!   `ReplayingParkedMessages` while an asynchronous read runs; reads here are
//!   synchronous, so those never show.)
//! - `read_buffer_count`, `retry_buffer_count`, `live_buffer_count`: the sizes of
//!   the three buffers.
//! - `total_items`: messages pushed to consumers, retries included
//!   (`MarkBeginProcessing` → `IncrementProcessed`); per connection, those
//!   pushed to it.
//! - `count_since_last_measurement` and `average_per_second` (per connection
//!   `average_items_per_second`): items pushed since the previous statistics
//!   call (a `GetInfo` or a `List`), and that count per second of the time since
//!   that call (since the group was loaded for the first call). Each call starts
//!   a new measurement: the figures are stateful.
//! - `total_in_flight_messages`: the sum of the connections' in-flight
//!   messages; `outstanding_messages_count`: the messages pushed and not yet
//!   acknowledged, retried or parked (the same number here: a consumer that
//!   leaves has its messages retried at once).
//! - `last_checkpointed_event_position`: the last checkpoint written or loaded;
//!   `last_known_event_position`: the highest position read from history or seen
//!   live since the group was loaded (not the loaded checkpoint). Both are stream
//!   revisions for a stream group and `C:<commit>/P:<prepare>` for `$all`.
//! - `parked_message_count`: the parked messages not yet replayed.
//! - per connection: `from` is empty (KurrentDB's gRPC `Read` passes
//!   `string.Empty` as the peer: `PersistentSubscriptions.Read.cs`), `username`
//!   the authenticated user or `anonymous`, `connection_name` the client's
//!   `connection-name` header or `<unknown>`, `available_slots` the buffer size
//!   minus the messages in flight to it; with `extra_statistics`, the latencies
//!   (in ms, from push to ack, nack, retry or park) of its last 1000 messages,
//!   as `Mean`, `Median`, `Fastest`, `Quintile 1`..`Quintile 5`, `90%`, `95%`,
//!   `99%`, `99.5%`, `99.9%` and `Highest`.

use std::time::Duration;

use tokio::time::Instant;

use super::Group;
use super::state::{Latencies, Measuring, State};
use crate::persistent::types::{ConsumerDetails, Settings};

/// Statistics of one consumer.
#[derive(Debug, Clone)]
pub(crate) struct ConsumerInfo {
    pub(crate) details: ConsumerDetails,
    /// Messages pushed to it.
    pub(crate) total_items: u64,
    /// Messages pushed to it since the previous statistics call.
    pub(crate) count_since_last_measurement: u64,
    /// That count per second.
    pub(crate) average_items_per_second: u64,
    /// Messages it may still receive before acking.
    pub(crate) available_slots: u64,
    /// Messages pushed to it and not yet acked.
    pub(crate) in_flight: u64,
    /// Its latency measurements (with extra statistics), name and milliseconds.
    pub(crate) measurements: Vec<(String, i64)>,
}

/// A group's configuration and statistics.
#[derive(Debug, Clone)]
pub(crate) struct GroupInfo {
    /// The stream, or `$all`.
    pub(crate) event_source: String,
    pub(crate) group_name: String,
    /// `NotReady`, `Behind` or `Live`.
    pub(crate) status: &'static str,
    pub(crate) settings: Settings,
    /// Messages pushed (retries included).
    pub(crate) total_items: u64,
    /// Messages pushed since the previous statistics call.
    pub(crate) count_since_last_measurement: u64,
    /// That count per second.
    pub(crate) average_per_second: u64,
    /// The last checkpoint written or loaded (`"5"`, or `"C:p/P:p"` for `$all`).
    pub(crate) last_checkpointed_event_position: Option<String>,
    /// The highest position read or seen live, in the same form.
    pub(crate) last_known_event_position: Option<String>,
    pub(crate) read_buffer_count: u64,
    pub(crate) retry_buffer_count: u64,
    pub(crate) live_buffer_count: u64,
    /// The sum of the connections' in-flight messages.
    pub(crate) total_in_flight_messages: u64,
    /// Messages pushed and not yet acked, retried or parked.
    pub(crate) outstanding_messages_count: u64,
    /// Messages in the parked stream not yet replayed.
    pub(crate) parked_message_count: u64,
    pub(crate) connections: Vec<ConsumerInfo>,
}

/// `count` per second of `elapsed`, as KurrentDB's integer division does it.
fn per_second(count: u64, elapsed: Duration) -> u64 {
    let nanos = elapsed.as_nanos();
    if nanos == 0 {
        return 0;
    }
    u64::try_from(u128::from(count) * 1_000_000_000 / nanos).unwrap_or(u64::MAX)
}

impl Group {
    /// The group's configuration and statistics. Starts a new measurement.
    pub(crate) fn info(&self) -> GroupInfo {
        let mut st = self.state.lock();
        let st = &mut *st;
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(st.measuring.since);
        let count = st.total_items.saturating_sub(st.measuring.total_items);
        st.measuring = Measuring {
            since: now,
            total_items: st.total_items,
        };
        let connections: Vec<ConsumerInfo> = st
            .consumers
            .iter_mut()
            .map(|c| {
                let since = c.total_items.saturating_sub(c.last_total_items);
                c.last_total_items = c.total_items;
                ConsumerInfo {
                    details: c.details.clone(),
                    total_items: c.total_items,
                    count_since_last_measurement: since,
                    average_items_per_second: per_second(since, elapsed),
                    available_slots: c.free() as u64,
                    in_flight: c.in_flight as u64,
                    measurements: c
                        .latencies
                        .as_ref()
                        .map(Latencies::measurements)
                        .unwrap_or_default(),
                }
            })
            .collect();
        let format = |v: u64| self.format_position(v);
        let (read, retry, live) = if st.loaded {
            (
                st.buffers.read.len(),
                st.buffers.retry.len(),
                st.buffers.live_queue.len(),
            )
        } else {
            (0, 0, 0)
        };
        GroupInfo {
            event_source: self.stream_name.clone(),
            group_name: self.name.clone(),
            status: status(st),
            settings: st.settings.clone(),
            total_items: st.total_items,
            count_since_last_measurement: count,
            average_per_second: per_second(count, elapsed),
            last_checkpointed_event_position: st.last_checkpointed.map(format),
            last_known_event_position: st.last_known.map(format),
            read_buffer_count: read as u64,
            retry_buffer_count: retry as u64,
            live_buffer_count: live as u64,
            total_in_flight_messages: connections.iter().map(|c| c.in_flight).sum(),
            outstanding_messages_count: st.in_flight.len() as u64,
            parked_message_count: st.parked_count,
            connections,
        }
    }
}

/// What `/metrics` reports of a group (KurrentDB's
/// `kurrentdb_persistent_sub_*`): read without starting a new measurement,
/// so scraping leaves `GetInfo`'s figures alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupFigures {
    /// The stream, or `$all`.
    pub(crate) event_source: String,
    pub(crate) group_name: String,
    /// A `$all` group (its positions are commit positions).
    pub(crate) all: bool,
    pub(crate) connections: u64,
    pub(crate) parked_messages: u64,
    pub(crate) in_flight_messages: u64,
    /// Messages pushed (retries included).
    pub(crate) items_processed: u64,
    /// The last known and last checkpointed positions: stream revisions for
    /// a stream group, commit positions for `$all`.
    pub(crate) last_known: Option<u64>,
    pub(crate) last_checkpointed: Option<u64>,
}

impl Group {
    /// The group's [`GroupFigures`].
    pub(crate) fn figures(&self) -> GroupFigures {
        let st = self.state.lock();
        GroupFigures {
            event_source: self.stream_name.clone(),
            group_name: self.name.clone(),
            all: self.source.is_all(),
            connections: st.consumers.len() as u64,
            parked_messages: st.parked_count,
            in_flight_messages: st.consumers.iter().map(|c| c.in_flight as u64).sum(),
            items_processed: st.total_items,
            last_known: st.last_known,
            last_checkpointed: st.last_checkpointed,
        }
    }
}

fn status(st: &State) -> &'static str {
    if !st.loaded {
        "NotReady"
    } else if st.buffers.live {
        "Live"
    } else {
        "Behind"
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::per_second;

    #[test]
    fn averages_divide_by_the_time_since_the_last_measurement() {
        assert_eq!(per_second(10, Duration::from_millis(500)), 20);
        assert_eq!(per_second(3, Duration::from_secs(2)), 1);
        assert_eq!(per_second(5, Duration::ZERO), 0);
    }
}
