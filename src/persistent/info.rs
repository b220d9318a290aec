//! What the server reports about a group: [`SubscriptionInfo`] (settings and
//! statistics) with its [`ConnectionInfo`]s and their [`Measurement`]s, read
//! from the `GetInfo` and `List` answers.

use std::time::Duration;

use super::ConsumerStrategy;
use crate::error::{Error, Result};
use crate::proto::persistent as pp;

/// One measurement of a consumer's extra statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// The measurement's name.
    pub key: String,
    /// Its value.
    pub value: i64,
}

/// A consumer connected to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The consumer's address.
    pub from: String,
    /// The consumer's user.
    pub username: String,
    /// Events per second delivered to it.
    pub average_items_per_second: i32,
    /// Events delivered to it.
    pub total_items: i64,
    /// Events delivered since the last measurement.
    pub count_since_last_measurement: i64,
    /// Extra statistics.
    pub observed_measurements: Vec<Measurement>,
    /// How many more events it may receive before acking.
    pub available_slots: i32,
    /// Events delivered to it and not yet acked.
    pub in_flight_messages: i32,
    /// The consumer's connection name.
    pub connection_name: String,
}

/// A group's settings and statistics, as [`get_subscription_info`] and
/// [`list_subscriptions`] report them.
///
/// [`get_subscription_info`]: crate::AsyncKurrentDBClient::get_subscription_info
/// [`list_subscriptions`]: crate::AsyncKurrentDBClient::list_subscriptions
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInfo {
    /// The stream, or `$all`.
    pub event_source: String,
    /// The group's name.
    pub group_name: String,
    /// The group's status (`Live`, `Behind`, ...).
    pub status: String,
    /// Events per second.
    pub average_per_second: i32,
    /// Events delivered (retries included).
    pub total_items: i64,
    /// Events delivered since the last measurement.
    pub count_since_last_measurement: i64,
    /// The last checkpoint: a stream position, or `C:<commit>/P:<prepare>` for
    /// `$all` (empty before the first checkpoint).
    pub last_checkpointed_event_position: String,
    /// The last event read from the source, in the same form.
    pub last_known_event_position: String,
    /// Whether links are resolved.
    pub resolve_links: bool,
    /// Where the group starts: `0` / `-1` (end) / a position, or
    /// `C:0/P:0`, `C:-1/P:-1`, `C:p/P:p` for `$all`.
    pub start_from: String,
    /// The message timeout.
    pub message_timeout: Duration,
    /// Whether extra statistics are tracked.
    pub extra_statistics: bool,
    /// Retries before parking.
    pub max_retry_count: i32,
    /// Size of the live buffer.
    pub live_buffer_size: i32,
    /// Size of the history buffer.
    pub history_buffer_size: i32,
    /// Events read at a time.
    pub read_batch_size: i32,
    /// Shortest time between checkpoints.
    pub checkpoint_after: Duration,
    /// Fewest processed events before a checkpoint.
    pub min_checkpoint_count: i32,
    /// Processed events that force a checkpoint.
    pub max_checkpoint_count: i32,
    /// Events read and waiting for a consumer.
    pub read_buffer_count: i32,
    /// Events in the live buffer.
    pub live_buffer_count: i64,
    /// Events waiting to be retried.
    pub retry_buffer_count: i32,
    /// Events delivered and not yet acked.
    pub total_in_flight_messages: i32,
    /// Outstanding events.
    pub outstanding_messages_count: i32,
    /// How events are shared.
    pub consumer_strategy: ConsumerStrategy,
    /// Most consumers at once.
    pub max_subscriber_count: i32,
    /// Parked events not yet replayed.
    pub parked_message_count: i64,
    /// The connected consumers.
    pub connections: Vec<ConnectionInfo>,
}

impl SubscriptionInfo {
    /// Reads a group's info as the server sends it.
    pub(crate) fn from_proto(s: pp::SubscriptionInfo) -> SubscriptionInfo {
        let ms = |v: i32| Duration::from_millis(u64::try_from(v).unwrap_or(0));
        SubscriptionInfo {
            event_source: s.event_source,
            group_name: s.group_name,
            status: s.status,
            average_per_second: s.average_per_second,
            total_items: s.total_items,
            count_since_last_measurement: s.count_since_last_measurement,
            last_checkpointed_event_position: s.last_checkpointed_event_position,
            last_known_event_position: s.last_known_event_position,
            resolve_links: s.resolve_link_tos,
            start_from: s.start_from,
            message_timeout: ms(s.message_timeout_milliseconds),
            extra_statistics: s.extra_statistics,
            max_retry_count: s.max_retry_count,
            live_buffer_size: s.live_buffer_size,
            history_buffer_size: s.buffer_size,
            read_batch_size: s.read_batch_size,
            checkpoint_after: ms(s.check_point_after_milliseconds),
            min_checkpoint_count: s.min_check_point_count,
            max_checkpoint_count: s.max_check_point_count,
            read_buffer_count: s.read_buffer_count,
            live_buffer_count: s.live_buffer_count,
            retry_buffer_count: s.retry_buffer_count,
            total_in_flight_messages: s.total_in_flight_messages,
            outstanding_messages_count: s.outstanding_messages_count,
            consumer_strategy: ConsumerStrategy::from_name(&s.named_consumer_strategy),
            max_subscriber_count: s.max_subscriber_count,
            parked_message_count: s.parked_message_count,
            connections: s
                .connections
                .into_iter()
                .map(|c| ConnectionInfo {
                    from: c.from,
                    username: c.username,
                    average_items_per_second: c.average_items_per_second,
                    total_items: c.total_items,
                    count_since_last_measurement: c.count_since_last_measurement,
                    observed_measurements: c
                        .observed_measurements
                        .into_iter()
                        .map(|m| Measurement {
                            key: m.key,
                            value: m.value,
                        })
                        .collect(),
                    available_slots: c.available_slots,
                    in_flight_messages: c.in_flight_messages,
                    connection_name: c.connection_name,
                })
                .collect(),
        }
    }
}

/// The group info of a `GetInfo` answer.
pub(crate) fn from_get_info(resp: pp::GetInfoResp) -> Result<SubscriptionInfo> {
    let info = resp
        .subscription_info
        .ok_or_else(|| Error::Protocol("info response without info".into()))?;
    Ok(SubscriptionInfo::from_proto(info))
}

/// The group infos of a `List` answer.
pub(crate) fn from_list(resp: pp::ListResp) -> Vec<SubscriptionInfo> {
    resp.subscriptions
        .into_iter()
        .map(SubscriptionInfo::from_proto)
        .collect()
}
