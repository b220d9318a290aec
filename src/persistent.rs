//! Persistent subscriptions: server-side consumer groups (competing consumers)
//! with acknowledgements, retries and parking.
//!
//! A group is created once ([`create_subscription_to_all`] or
//! [`create_subscription_to_stream`]); any number of consumers then join it
//! ([`read_subscription_to_all`] / [`read_subscription_to_stream`]) and share
//! its events according to the group's [`ConsumerStrategy`]. Each event must be
//! acknowledged ([`PersistentSubscription::ack`]) or negatively acknowledged
//! ([`PersistentSubscription::nack`] with a [`NackAction`]); events not acked
//! within the group's message timeout are delivered again with a higher
//! [`retry_count`](crate::RecordedEvent::retry_count), and parked after
//! `max_retry_count` retries.
//!
//! Acks and nacks are batched as the official clients batch them: one request
//! carries up to `max_ack_batch_size` ids of one action, and a batch is sent at
//! the latest `max_ack_delay` after its first id, or at once when the action
//! changes. [`PersistentSubscription::stop`] sends what is left; dropping the
//! subscription does so too, on a best-effort basis.
//!
//! Defaults follow the Python client (`message_timeout` 30 s, `max_retry_count`
//! 10, `min/max_checkpoint_count` 10/1000, `checkpoint_after` 2 s,
//! `max_subscriber_count` 5, buffers 500, `read_batch_size` 200, consumer
//! buffer 150, ack batches of 50 or every 200 ms).
//!
//! [`create_subscription_to_all`]: crate::AsyncKurrentDBClient::create_subscription_to_all
//! [`create_subscription_to_stream`]: crate::AsyncKurrentDBClient::create_subscription_to_stream
//! [`read_subscription_to_all`]: crate::AsyncKurrentDBClient::read_subscription_to_all
//! [`read_subscription_to_stream`]: crate::AsyncKurrentDBClient::read_subscription_to_stream

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tonic::transport::Channel;
pub use uuid::Uuid;

use crate::client::AsyncKurrentDBClient;
use crate::error::{Error, Result};
use crate::options::*;
use crate::proto::persistent as pp;
use crate::proto::persistent::persistent_subscriptions_client::PersistentSubscriptionsClient;
use crate::proto::shared::{self as ps, Empty, StreamIdentifier};
use crate::types::RecordedEvent;

/// The largest message accepted from the server.
const MAX_DECODING_MESSAGE_SIZE: usize = 17 * 1024 * 1024;

/// How a group shares its events between consumers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConsumerStrategy {
    /// Fill one consumer's buffer, then the next (the default).
    #[default]
    DispatchToSingle,
    /// Rotate between the consumers with free buffer slots.
    RoundRobin,
    /// Send all events of one stream to the same consumer.
    Pinned,
    /// Like `Pinned`, by correlation id (not supported by every server).
    PinnedByCorrelation,
    /// A strategy this client does not know, as the server named it.
    Other(String),
}

impl ConsumerStrategy {
    /// The strategy's name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ConsumerStrategy::DispatchToSingle => "DispatchToSingle",
            ConsumerStrategy::RoundRobin => "RoundRobin",
            ConsumerStrategy::Pinned => "Pinned",
            ConsumerStrategy::PinnedByCorrelation => "PinnedByCorrelation",
            ConsumerStrategy::Other(name) => name,
        }
    }

    /// Parses a strategy name.
    pub fn from_name(name: &str) -> ConsumerStrategy {
        match name {
            "DispatchToSingle" => ConsumerStrategy::DispatchToSingle,
            "RoundRobin" => ConsumerStrategy::RoundRobin,
            "Pinned" => ConsumerStrategy::Pinned,
            "PinnedByCorrelation" => ConsumerStrategy::PinnedByCorrelation,
            other => ConsumerStrategy::Other(other.to_owned()),
        }
    }

    /// The legacy enum number (`Update` only knows the first three).
    fn number(&self) -> Result<i32> {
        match self {
            ConsumerStrategy::DispatchToSingle => Ok(0),
            ConsumerStrategy::RoundRobin => Ok(1),
            ConsumerStrategy::Pinned => Ok(2),
            other => Err(Error::Programming(format!(
                "consumer strategy {} cannot be set by an update",
                other.as_str()
            ))),
        }
    }
}

/// What to do with a negatively acknowledged event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NackAction {
    /// Let the server decide (it retries).
    Unknown,
    /// Park the event (in the group's parked stream) until replayed.
    Park,
    /// Deliver the event again (with a higher retry count).
    Retry,
    /// Drop the event, as if it had been processed.
    Skip,
    /// Stop this consumer.
    Stop,
}

impl NackAction {
    fn wire(self) -> i32 {
        use pp::read_req::nack::Action;
        match self {
            NackAction::Unknown => Action::Unknown as i32,
            NackAction::Park => Action::Park as i32,
            NackAction::Retry => Action::Retry as i32,
            NackAction::Skip => Action::Skip as i32,
            NackAction::Stop => Action::Stop as i32,
        }
    }
}

// ---- info -----------------------------------------------------------------------

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
/// [`get_subscription_info`]: AsyncKurrentDBClient::get_subscription_info
/// [`list_subscriptions`]: AsyncKurrentDBClient::list_subscriptions
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
    fn from_proto(s: pp::SubscriptionInfo) -> SubscriptionInfo {
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

    /// The start as (from end, position): `start_from` is `"-1"` / `"C:-1/P:-1"`
    /// for the end, `"0"` / `"C:0/P:0"` for the start.
    fn start(&self) -> (bool, Option<u64>) {
        let text = self
            .start_from
            .strip_prefix("C:")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(&self.start_from);
        match text.parse::<i64>() {
            Ok(-1) => (true, None),
            Ok(0) | Err(_) => (false, None),
            Ok(n) => (false, u64::try_from(n).ok()),
        }
    }
}

// ---- requests ---------------------------------------------------------------------

fn stream_identifier(name: &str) -> Option<StreamIdentifier> {
    Some(StreamIdentifier {
        stream_name: Bytes::copy_from_slice(name.as_bytes()),
    })
}

fn check_group_name(group_name: &str) -> Result<()> {
    if group_name.is_empty() {
        return Err(Error::Programming("the group name is empty".into()));
    }
    Ok(())
}

fn ms_i32(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

fn count_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Settings common to create and update, with the Python client's defaults.
struct SettingsValues {
    resolve_links: bool,
    extra_statistics: bool,
    message_timeout: Duration,
    max_retry_count: u32,
    min_checkpoint_count: u32,
    max_checkpoint_count: u32,
    checkpoint_after: Duration,
    max_subscriber_count: u32,
    live_buffer_size: u32,
    read_batch_size: u32,
    history_buffer_size: u32,
    consumer_strategy: ConsumerStrategy,
}

macro_rules! settings_values {
    ($o:expr) => {
        SettingsValues {
            resolve_links: $o.resolve_links,
            extra_statistics: $o.extra_statistics,
            message_timeout: $o
                .message_timeout
                .unwrap_or(DEFAULT_PERSISTENT_SUB_MESSAGE_TIMEOUT),
            max_retry_count: $o
                .max_retry_count
                .unwrap_or(DEFAULT_PERSISTENT_SUB_MAX_RETRY_COUNT),
            min_checkpoint_count: $o
                .min_checkpoint_count
                .unwrap_or(DEFAULT_PERSISTENT_SUB_MIN_CHECKPOINT_COUNT),
            max_checkpoint_count: $o
                .max_checkpoint_count
                .unwrap_or(DEFAULT_PERSISTENT_SUB_MAX_CHECKPOINT_COUNT),
            checkpoint_after: $o
                .checkpoint_after
                .unwrap_or(DEFAULT_PERSISTENT_SUB_CHECKPOINT_AFTER),
            max_subscriber_count: $o
                .max_subscriber_count
                .unwrap_or(DEFAULT_PERSISTENT_SUB_MAX_SUBSCRIBER_COUNT),
            live_buffer_size: $o
                .live_buffer_size
                .unwrap_or(DEFAULT_PERSISTENT_SUB_LIVE_BUFFER_SIZE),
            read_batch_size: $o
                .read_batch_size
                .unwrap_or(DEFAULT_PERSISTENT_SUB_READ_BATCH_SIZE),
            history_buffer_size: $o
                .history_buffer_size
                .unwrap_or(DEFAULT_PERSISTENT_SUB_HISTORY_BUFFER_SIZE),
            consumer_strategy: $o.consumer_strategy.clone(),
        }
    };
}

macro_rules! updated_values {
    ($o:expr, $info:expr) => {{
        let i = $info;
        let n = |v: i32| u32::try_from(v).unwrap_or(0);
        SettingsValues {
            resolve_links: $o.resolve_links.unwrap_or(i.resolve_links),
            extra_statistics: $o.extra_statistics.unwrap_or(i.extra_statistics),
            message_timeout: $o.message_timeout.unwrap_or(i.message_timeout),
            max_retry_count: $o.max_retry_count.unwrap_or(n(i.max_retry_count)),
            min_checkpoint_count: $o.min_checkpoint_count.unwrap_or(n(i.min_checkpoint_count)),
            max_checkpoint_count: $o.max_checkpoint_count.unwrap_or(n(i.max_checkpoint_count)),
            checkpoint_after: $o.checkpoint_after.unwrap_or(i.checkpoint_after),
            max_subscriber_count: $o.max_subscriber_count.unwrap_or(n(i.max_subscriber_count)),
            live_buffer_size: $o.live_buffer_size.unwrap_or(n(i.live_buffer_size)),
            read_batch_size: $o.read_batch_size.unwrap_or(n(i.read_batch_size)),
            history_buffer_size: $o.history_buffer_size.unwrap_or(n(i.history_buffer_size)),
            consumer_strategy: $o
                .consumer_strategy
                .clone()
                .unwrap_or(i.consumer_strategy.clone()),
        }
    }};
}

impl SettingsValues {
    fn create(&self) -> pp::create_req::Settings {
        use pp::create_req::settings::{CheckpointAfter, MessageTimeout};
        pp::create_req::Settings {
            resolve_links: self.resolve_links,
            revision: 0,
            extra_statistics: self.extra_statistics,
            message_timeout: Some(MessageTimeout::MessageTimeoutMs(ms_i32(
                self.message_timeout,
            ))),
            max_retry_count: count_i32(self.max_retry_count),
            checkpoint_after: Some(CheckpointAfter::CheckpointAfterMs(ms_i32(
                self.checkpoint_after,
            ))),
            min_checkpoint_count: count_i32(self.min_checkpoint_count),
            max_checkpoint_count: count_i32(self.max_checkpoint_count),
            max_subscriber_count: count_i32(self.max_subscriber_count),
            live_buffer_size: count_i32(self.live_buffer_size),
            read_batch_size: count_i32(self.read_batch_size),
            history_buffer_size: count_i32(self.history_buffer_size),
            named_consumer_strategy: self.consumer_strategy.number().unwrap_or(0),
            consumer_strategy: self.consumer_strategy.as_str().to_owned(),
        }
    }

    fn update(&self) -> Result<pp::update_req::Settings> {
        use pp::update_req::settings::{CheckpointAfter, MessageTimeout};
        Ok(pp::update_req::Settings {
            resolve_links: self.resolve_links,
            revision: 0,
            extra_statistics: self.extra_statistics,
            message_timeout: Some(MessageTimeout::MessageTimeoutMs(ms_i32(
                self.message_timeout,
            ))),
            max_retry_count: count_i32(self.max_retry_count),
            checkpoint_after: Some(CheckpointAfter::CheckpointAfterMs(ms_i32(
                self.checkpoint_after,
            ))),
            min_checkpoint_count: count_i32(self.min_checkpoint_count),
            max_checkpoint_count: count_i32(self.max_checkpoint_count),
            max_subscriber_count: count_i32(self.max_subscriber_count),
            live_buffer_size: count_i32(self.live_buffer_size),
            read_batch_size: count_i32(self.read_batch_size),
            history_buffer_size: count_i32(self.history_buffer_size),
            named_consumer_strategy: self.consumer_strategy.number()?,
        })
    }
}

fn create_all_request(group_name: &str, o: &CreateSubscriptionToAllOptions) -> pp::CreateReq {
    use pp::create_req::all_options::filter_options::{Expression, Filter, Window};
    use pp::create_req::all_options::{AllOption, FilterOption, FilterOptions};
    let all_option = match (o.commit_position, o.from_end) {
        (Some(p), _) => AllOption::Position(pp::create_req::Position {
            commit_position: p,
            prepare_position: p,
        }),
        (None, true) => AllOption::End(Empty {}),
        (None, false) => AllOption::Start(Empty {}),
    };
    let exclude = crate::options::effective_exclude(&o.filter_exclude);
    let filter_option = if o.filter_include.is_empty() && exclude.is_empty() {
        FilterOption::NoFilter(Empty {})
    } else {
        let regex = if o.filter_include.is_empty() {
            crate::streams::construct_filter_exclude_regex(&exclude)
        } else {
            crate::streams::construct_filter_include_regex(&o.filter_include)
        };
        let expression = Expression {
            regex,
            prefix: Vec::new(),
        };
        FilterOption::Filter(FilterOptions {
            filter: Some(if o.filter_by_stream_name {
                Filter::StreamIdentifier(expression)
            } else {
                Filter::EventType(expression)
            }),
            window: Some(Window::Max(o.window_size.unwrap_or(DEFAULT_WINDOW_SIZE))),
            checkpoint_interval_multiplier: o
                .checkpoint_interval_multiplier
                .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER),
        })
    };
    pp::CreateReq {
        options: Some(pp::create_req::Options {
            stream_identifier: None,
            group_name: group_name.to_owned(),
            settings: Some(settings_values!(o).create()),
            stream_option: Some(pp::create_req::options::StreamOption::All(
                pp::create_req::AllOptions {
                    all_option: Some(all_option),
                    filter_option: Some(filter_option),
                },
            )),
        }),
    }
}

fn create_stream_request(
    group_name: &str,
    stream_name: &str,
    o: &CreateSubscriptionToStreamOptions,
) -> pp::CreateReq {
    use pp::create_req::stream_options::RevisionOption;
    let revision = match (o.stream_position, o.from_end) {
        (Some(p), _) => RevisionOption::Revision(p),
        (None, true) => RevisionOption::End(Empty {}),
        (None, false) => RevisionOption::Start(Empty {}),
    };
    pp::CreateReq {
        options: Some(pp::create_req::Options {
            stream_identifier: None,
            group_name: group_name.to_owned(),
            settings: Some(settings_values!(o).create()),
            stream_option: Some(pp::create_req::options::StreamOption::Stream(
                pp::create_req::StreamOptions {
                    stream_identifier: stream_identifier(stream_name),
                    revision_option: Some(revision),
                },
            )),
        }),
    }
}

// ---- the subscription ---------------------------------------------------------------

/// A command for the ack batcher.
enum AckCommand {
    Settle(Uuid, Option<NackAction>),
    Stop(Option<oneshot::Sender<()>>),
}

/// A cloneable handle that acks and nacks events of one
/// [`PersistentSubscription`], usable from any thread (the blocking twin's
/// consuming thread included). Acks are queued and sent in batches.
#[derive(Debug, Clone)]
pub struct PersistentSubscriptionAcker {
    tx: mpsc::UnboundedSender<AckCommand>,
}

impl std::fmt::Debug for AckCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckCommand::Settle(id, action) => write!(f, "Settle({id}, {action:?})"),
            AckCommand::Stop(_) => f.write_str("Stop"),
        }
    }
}

impl PersistentSubscriptionAcker {
    /// Acknowledges an event by its [`ack_id`](RecordedEvent::ack_id) (the
    /// link's id for a resolved link, else the event's id). Fails with
    /// [`Error::Programming`] after the subscription was stopped.
    pub fn ack(&self, event_id: Uuid) -> Result<()> {
        self.send(AckCommand::Settle(event_id, None))
    }

    /// Negatively acknowledges an event by its
    /// [`ack_id`](RecordedEvent::ack_id), telling the server what to do with it.
    pub fn nack(&self, event_id: Uuid, action: NackAction) -> Result<()> {
        self.send(AckCommand::Settle(event_id, Some(action)))
    }

    fn send(&self, command: AckCommand) -> Result<()> {
        self.tx
            .send(command)
            .map_err(|_| Error::Programming("the subscription has been stopped".into()))
    }
}

/// Turns queued acks and nacks into `ReadReq` batches: the options message
/// first, then batches of one action, each sent when full, when the action
/// changes, or `max_ack_delay` after its first id; on stop, the last batch,
/// then the end of the request stream.
struct Batcher {
    options: Option<pp::ReadReq>,
    rx: mpsc::UnboundedReceiver<AckCommand>,
    subscription_id: Arc<OnceLock<String>>,
    max_batch: usize,
    max_delay: Duration,
    held: Option<(Uuid, Option<NackAction>)>,
    stopping: bool,
    stopped: Vec<oneshot::Sender<()>>,
}

impl Batcher {
    fn request(&self, ids: Vec<Uuid>, action: Option<NackAction>) -> pp::ReadReq {
        let id = Bytes::from(self.subscription_id.get().cloned().unwrap_or_default());
        let ids = ids
            .into_iter()
            .map(|u| ps::Uuid {
                value: Some(ps::uuid::Value::String(u.to_string())),
            })
            .collect();
        let content = match action {
            None => pp::read_req::Content::Ack(pp::read_req::Ack { id, ids }),
            Some(a) => pp::read_req::Content::Nack(pp::read_req::Nack {
                id,
                ids,
                action: a.wire(),
                reason: String::new(),
            }),
        };
        pp::ReadReq {
            content: Some(content),
        }
    }

    fn finish(&mut self) -> Option<pp::ReadReq> {
        for tx in self.stopped.drain(..) {
            let _ = tx.send(());
        }
        None
    }

    async fn next(&mut self) -> Option<pp::ReadReq> {
        if let Some(options) = self.options.take() {
            return Some(options);
        }
        if self.stopping {
            return self.finish();
        }
        let mut ids = Vec::new();
        let mut action = None;
        if let Some((id, a)) = self.held.take() {
            ids.push(id);
            action = Some(a);
        }
        let mut deadline = tokio::time::Instant::now() + self.max_delay;
        loop {
            let command = if ids.is_empty() {
                self.rx.recv().await
            } else {
                match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                    Ok(command) => command,
                    Err(_) => return Some(self.request(ids, action.flatten())),
                }
            };
            match command {
                None | Some(AckCommand::Stop(_)) => {
                    if let Some(AckCommand::Stop(Some(tx))) = command {
                        self.stopped.push(tx);
                    }
                    self.stopping = true;
                    self.rx.close();
                    if ids.is_empty() {
                        return self.finish();
                    }
                    return Some(self.request(ids, action.flatten()));
                }
                Some(AckCommand::Settle(id, a)) => {
                    if ids.is_empty() {
                        deadline = tokio::time::Instant::now() + self.max_delay;
                    }
                    match action {
                        Some(current) if current != a => {
                            self.held = Some((id, a));
                            return Some(self.request(ids, current));
                        }
                        _ => {}
                    }
                    action = Some(a);
                    ids.push(id);
                    if ids.len() >= self.max_batch {
                        return Some(self.request(ids, a));
                    }
                }
            }
        }
    }
}

/// A persistent-subscription event as a [`RecordedEvent`] with its retry count.
fn convert_event(e: pp::read_resp::ReadEvent) -> Option<RecordedEvent> {
    let retry_count = match e.count {
        Some(pp::read_resp::read_event::Count::RetryCount(n)) => u32::try_from(n).ok(),
        _ => None,
    };
    crate::streams::convert_event_and_link(e.event, e.link, retry_count)
}

/// One consumer of a persistent subscription group: a
/// `Stream<Item = Result<RecordedEvent>>` of the events the server delivers
/// (each with its [`retry_count`](RecordedEvent::retry_count)), plus
/// [`ack`](Self::ack) and [`nack`](Self::nack).
///
/// The stream does not end by itself. Call [`stop`](Self::stop) to send the
/// remaining acks and leave the group; dropping the subscription also sends
/// them, without waiting.
pub struct PersistentSubscription {
    subscription_id: String,
    responses: Option<tonic::Streaming<pp::ReadResp>>,
    acker: PersistentSubscriptionAcker,
    stopping_grace: Duration,
    runtime: Option<tokio::runtime::Handle>,
}

impl std::fmt::Debug for PersistentSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistentSubscription")
            .field("subscription_id", &self.subscription_id)
            .field("stopped", &self.responses.is_none())
            .finish()
    }
}

impl PersistentSubscription {
    /// The subscription id the server confirmed: `<stream>::<group>` (`$all`
    /// as the stream for subscriptions to all streams).
    pub fn subscription_id(&self) -> &str {
        &self.subscription_id
    }

    /// Acknowledges an event by its [`ack_id`](RecordedEvent::ack_id).
    pub fn ack(&self, event_id: Uuid) -> Result<()> {
        self.acker.ack(event_id)
    }

    /// Negatively acknowledges an event by its [`ack_id`](RecordedEvent::ack_id).
    pub fn nack(&self, event_id: Uuid, action: NackAction) -> Result<()> {
        self.acker.nack(event_id, action)
    }

    /// A cloneable handle to ack and nack from elsewhere (another task or
    /// thread) while this subscription is being consumed.
    pub fn acker(&self) -> PersistentSubscriptionAcker {
        self.acker.clone()
    }

    /// Whether the subscription has stopped.
    pub fn is_stopped(&self) -> bool {
        self.responses.is_none()
    }

    /// Sends the queued acks and nacks, gives the server `stopping_grace` to
    /// process them (less when the server ends the call first), and ends the
    /// call. Later acks fail with [`Error::Programming`]; the stream ends.
    pub async fn stop(&mut self) {
        let Some(mut responses) = self.responses.take() else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        if self.acker.send(AckCommand::Stop(Some(tx))).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
        }
        let grace = self.stopping_grace;
        let _ = tokio::time::timeout(grace, async {
            while let Some(Ok(_)) = responses.next().await {}
        })
        .await;
    }
}

impl Drop for PersistentSubscription {
    fn drop(&mut self) {
        let Some(mut responses) = self.responses.take() else {
            return;
        };
        // Flush the acks; keep the call open for the grace period so that they
        // reach the server before the call is cancelled.
        let _ = self.acker.send(AckCommand::Stop(None));
        let grace = self.stopping_grace;
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move {
                let _ = tokio::time::timeout(grace, async {
                    while let Some(Ok(_)) = responses.next().await {}
                })
                .await;
            });
        }
    }
}

impl Stream for PersistentSubscription {
    type Item = Result<RecordedEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(responses) = this.responses.as_mut() else {
                return Poll::Ready(None);
            };
            match responses.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.responses = None;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(status))) => {
                    this.responses = None;
                    let _ = this.acker.send(AckCommand::Stop(None));
                    return Poll::Ready(Some(Err(Error::from_status(&status))));
                }
                Poll::Ready(Some(Ok(resp))) => {
                    if let Some(pp::read_resp::Content::Event(e)) = resp.content
                        && let Some(event) = convert_event(e)
                    {
                        return Poll::Ready(Some(Ok(event)));
                    }
                }
            }
        }
    }
}

// ---- the client's calls -------------------------------------------------------------

fn client(channel: Channel) -> PersistentSubscriptionsClient<Channel> {
    PersistentSubscriptionsClient::new(channel).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
}

impl AsyncKurrentDBClient {
    /// Creates a persistent subscription group on all streams. By default the
    /// group starts at the first event and excludes system events (as
    /// `read_all` does).
    ///
    /// A group of that name on `$all` that exists already gives
    /// [`Error::AlreadyExists`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, CreateSubscriptionToAllOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .create_subscription_to_all("group-1", &CreateSubscriptionToAllOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_subscription_to_all(
        &self,
        group_name: &str,
        options: &CreateSubscriptionToAllOptions,
    ) -> Result<()> {
        check_group_name(group_name)?;
        let request = create_all_request(group_name, options);
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                client(call.channel()).create(call.request(request)).await?;
                Ok(())
            }
        })
        .await
    }

    /// Creates a persistent subscription group on one stream (which need not
    /// exist yet), from its start by default.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, CreateSubscriptionToStreamOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .create_subscription_to_stream(
    ///         "group-1",
    ///         "order-123",
    ///         &CreateSubscriptionToStreamOptions::default(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        check_group_name(group_name)?;
        crate::streams::check_stream_name(stream_name)?;
        let request = create_stream_request(group_name, stream_name, options);
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                client(call.channel()).create(call.request(request)).await?;
                Ok(())
            }
        })
        .await
    }

    /// Joins a persistent subscription group on all streams: waits for the
    /// server's confirmation and returns the [`PersistentSubscription`].
    ///
    /// A missing group gives [`Error::NotFound`]; a group with its maximum
    /// number of consumers gives [`Error::MaximumSubscriptionsReached`].
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ReadSubscriptionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut subscription = client
    ///     .read_subscription_to_all("group-1", &ReadSubscriptionOptions::default())
    ///     .await?;
    /// while let Some(event) = subscription.next().await {
    ///     let event = event?;
    ///     println!("{} (retry {:?})", event.r#type, event.retry_count);
    ///     subscription.ack(event.ack_id())?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_subscription_to_all(
        &self,
        group_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        check_group_name(group_name)?;
        self.read_subscription(group_name, None, options).await
    }

    /// Joins a persistent subscription group on one stream (see
    /// [`read_subscription_to_all`](Self::read_subscription_to_all)).
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, NackAction, ReadSubscriptionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut subscription = client
    ///     .read_subscription_to_stream("group-1", "order-123", &ReadSubscriptionOptions::default())
    ///     .await?;
    /// if let Some(event) = subscription.next().await.transpose()? {
    ///     subscription.nack(event.ack_id(), NackAction::Park)?;
    /// }
    /// subscription.stop().await;
    /// # Ok(()) }
    /// ```
    pub async fn read_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        check_group_name(group_name)?;
        crate::streams::check_stream_name(stream_name)?;
        self.read_subscription(group_name, Some(stream_name), options)
            .await
    }

    async fn read_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        use pp::read_req::options::{StreamOption, UuidOption, uuid_option};
        let buffer_size = options
            .event_buffer_size
            .unwrap_or(DEFAULT_PERSISTENT_SUB_EVENT_BUFFER_SIZE);
        if buffer_size == 0 {
            return Err(Error::Programming(
                "event_buffer_size must be positive".into(),
            ));
        }
        let stream_option = match stream_name {
            Some(name) => StreamOption::StreamIdentifier(StreamIdentifier {
                stream_name: Bytes::copy_from_slice(name.as_bytes()),
            }),
            None => StreamOption::All(Empty {}),
        };
        let options_req = pp::ReadReq {
            content: Some(pp::read_req::Content::Options(pp::read_req::Options {
                stream_option: Some(stream_option),
                group_name: group_name.to_owned(),
                buffer_size: count_i32(buffer_size),
                uuid_option: Some(UuidOption {
                    content: Some(uuid_option::Content::String(Empty {})),
                }),
            })),
        };
        let max_batch = options
            .max_ack_batch_size
            .unwrap_or(DEFAULT_PERSISTENT_SUB_MAX_ACK_BATCH_SIZE)
            .max(1);
        let max_delay = options
            .max_ack_delay
            .unwrap_or(DEFAULT_PERSISTENT_SUB_MAX_ACK_DELAY);
        let stopping_grace = options
            .stopping_grace
            .unwrap_or(DEFAULT_PERSISTENT_SUB_STOPPING_GRACE);
        let expected_stream = stream_name.unwrap_or("$all").to_owned();
        self.run(options, true, false, |call| {
            let options_req = options_req.clone();
            let expected_stream = expected_stream.clone();
            async move {
                let (tx, rx) = mpsc::unbounded_channel();
                let subscription_id = Arc::new(OnceLock::new());
                let batcher = Batcher {
                    options: Some(options_req),
                    rx,
                    subscription_id: subscription_id.clone(),
                    max_batch,
                    max_delay,
                    held: None,
                    stopping: false,
                    stopped: Vec::new(),
                };
                let body = futures::stream::unfold(batcher, |mut b| async move {
                    b.next().await.map(|req| (req, b))
                });
                let mut responses = client(call.channel())
                    .read(call.request(body))
                    .await?
                    .into_inner();
                let first = match responses.message().await {
                    Ok(Some(first)) => first,
                    Ok(None) => {
                        return Err(Error::Protocol(
                            "the subscription ended before it was confirmed".into(),
                        ));
                    }
                    Err(status) => return Err(Error::from_status(&status)),
                };
                let Some(pp::read_resp::Content::SubscriptionConfirmation(confirmation)) =
                    first.content
                else {
                    return Err(Error::Protocol(
                        "expected a subscription confirmation first".into(),
                    ));
                };
                let id = confirmation.subscription_id;
                match id.split_once("::") {
                    Some((stream, group)) if stream == expected_stream && group == group_name => {}
                    _ => {
                        return Err(Error::Protocol(format!(
                            "confirmed subscription {id:?}, expected {expected_stream}::{group_name}"
                        )));
                    }
                }
                let _ = subscription_id.set(id.clone());
                Ok(PersistentSubscription {
                    subscription_id: id,
                    responses: Some(responses),
                    acker: PersistentSubscriptionAcker { tx },
                    stopping_grace,
                    runtime: tokio::runtime::Handle::try_current().ok(),
                })
            }
        })
        .await
    }

    /// Changes a group on all streams. Settings left unset keep their current
    /// values (the group's info is read first, as the Python client does). The
    /// server drops the group's consumers, which reconnect.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, UpdateSubscriptionToAllOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .update_subscription_to_all(
    ///         "group-1",
    ///         &UpdateSubscriptionToAllOptions::default().max_retry_count(3),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_subscription_to_all(
        &self,
        group_name: &str,
        options: &UpdateSubscriptionToAllOptions,
    ) -> Result<()> {
        use pp::update_req::all_options::AllOption;
        check_group_name(group_name)?;
        let info_options = GetSubscriptionInfoOptions {
            timeout: options.timeout,
            credentials: options.credentials.clone(),
        };
        let info = self
            .get_subscription_info(group_name, None, &info_options)
            .await?;
        let (info_end, info_position) = info.start();
        let all_option = match (options.commit_position, options.from_end) {
            (Some(p), _) => Some(p),
            (None, Some(_)) => None,
            (None, None) if info_end => None,
            (None, None) => info_position,
        };
        let from_end = options
            .from_end
            .unwrap_or(info_end && options.commit_position.is_none());
        let all_option = match (all_option, from_end) {
            (Some(p), _) => AllOption::Position(pp::update_req::Position {
                commit_position: p,
                prepare_position: p,
            }),
            (None, true) => AllOption::End(Empty {}),
            (None, false) => AllOption::Start(Empty {}),
        };
        let request = pp::UpdateReq {
            options: Some(pp::update_req::Options {
                stream_identifier: None,
                group_name: group_name.to_owned(),
                settings: Some(updated_values!(options, &info).update()?),
                stream_option: Some(pp::update_req::options::StreamOption::All(
                    pp::update_req::AllOptions {
                        all_option: Some(all_option),
                    },
                )),
            }),
        };
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                client(call.channel()).update(call.request(request)).await?;
                Ok(())
            }
        })
        .await
    }

    /// Changes a group on one stream (see
    /// [`update_subscription_to_all`](Self::update_subscription_to_all)).
    pub async fn update_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        use pp::update_req::stream_options::RevisionOption;
        check_group_name(group_name)?;
        crate::streams::check_stream_name(stream_name)?;
        let info_options = GetSubscriptionInfoOptions {
            timeout: options.timeout,
            credentials: options.credentials.clone(),
        };
        let info = self
            .get_subscription_info(group_name, Some(stream_name), &info_options)
            .await?;
        let (info_end, info_position) = info.start();
        let position = match (options.stream_position, options.from_end) {
            (Some(p), _) => Some(p),
            (None, Some(_)) => None,
            (None, None) if info_end => None,
            (None, None) => info_position,
        };
        let from_end = options
            .from_end
            .unwrap_or(info_end && options.stream_position.is_none());
        let revision = match (position, from_end) {
            (Some(p), _) => RevisionOption::Revision(p),
            (None, true) => RevisionOption::End(Empty {}),
            (None, false) => RevisionOption::Start(Empty {}),
        };
        let request = pp::UpdateReq {
            options: Some(pp::update_req::Options {
                stream_identifier: None,
                group_name: group_name.to_owned(),
                settings: Some(updated_values!(options, &info).update()?),
                stream_option: Some(pp::update_req::options::StreamOption::Stream(
                    pp::update_req::StreamOptions {
                        stream_identifier: stream_identifier(stream_name),
                        revision_option: Some(revision),
                    },
                )),
            }),
        };
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                client(call.channel()).update(call.request(request)).await?;
                Ok(())
            }
        })
        .await
    }

    /// Deletes a group: of `stream_name`, or of `$all` when `None`. Its
    /// consumers are dropped, and its checkpoint and parked events deleted, so
    /// a group created again with that name starts over. A missing group gives
    /// [`Error::NotFound`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, DeleteSubscriptionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .delete_subscription("group-1", None, &DeleteSubscriptionOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &DeleteSubscriptionOptions,
    ) -> Result<()> {
        use pp::delete_req::options::StreamOption;
        check_group_name(group_name)?;
        let stream_option = match stream_name {
            Some(name) => StreamOption::StreamIdentifier(StreamIdentifier {
                stream_name: Bytes::copy_from_slice(name.as_bytes()),
            }),
            None => StreamOption::All(Empty {}),
        };
        let request = pp::DeleteReq {
            options: Some(pp::delete_req::Options {
                stream_option: Some(stream_option),
                group_name: group_name.to_owned(),
            }),
        };
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                client(call.channel()).delete(call.request(request)).await?;
                Ok(())
            }
        })
        .await
    }

    /// A group's settings and statistics: of `stream_name`, or of `$all` when
    /// `None`. A missing group gives [`Error::NotFound`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, GetSubscriptionInfoOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let info = client
    ///     .get_subscription_info("group-1", None, &GetSubscriptionInfoOptions::default())
    ///     .await?;
    /// println!("{} parked", info.parked_message_count);
    /// # Ok(()) }
    /// ```
    pub async fn get_subscription_info(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &GetSubscriptionInfoOptions,
    ) -> Result<SubscriptionInfo> {
        use pp::get_info_req::options::StreamOption;
        check_group_name(group_name)?;
        let stream_option = match stream_name {
            Some(name) => StreamOption::StreamIdentifier(StreamIdentifier {
                stream_name: Bytes::copy_from_slice(name.as_bytes()),
            }),
            None => StreamOption::All(Empty {}),
        };
        let request = pp::GetInfoReq {
            options: Some(pp::get_info_req::Options {
                stream_option: Some(stream_option),
                group_name: group_name.to_owned(),
            }),
        };
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                let resp = client(call.channel())
                    .get_info(call.request(request))
                    .await?
                    .into_inner();
                let info = resp
                    .subscription_info
                    .ok_or_else(|| Error::Protocol("info response without info".into()))?;
                Ok(SubscriptionInfo::from_proto(info))
            }
        })
        .await
    }

    /// Every persistent subscription group.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ListSubscriptionsOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// for info in client.list_subscriptions(&ListSubscriptionsOptions::default()).await? {
    ///     println!("{}::{}", info.event_source, info.group_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_subscriptions(
        &self,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        use pp::list_req::options::ListOption;
        self.list(ListOption::ListAllSubscriptions(Empty {}), options)
            .await
    }

    /// The groups of one stream (`"$all"` for the groups on all streams); an
    /// empty list when there is none.
    pub async fn list_subscriptions_to_stream(
        &self,
        stream_name: &str,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        use pp::list_req::options::ListOption;
        use pp::list_req::stream_option::StreamOption;
        crate::streams::check_stream_name(stream_name)?;
        let stream_option = if stream_name == "$all" {
            StreamOption::All(Empty {})
        } else {
            StreamOption::Stream(StreamIdentifier {
                stream_name: Bytes::copy_from_slice(stream_name.as_bytes()),
            })
        };
        self.list(
            ListOption::ListForStream(pp::list_req::StreamOption {
                stream_option: Some(stream_option),
            }),
            options,
        )
        .await
    }

    async fn list(
        &self,
        list_option: pp::list_req::options::ListOption,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        let request = pp::ListReq {
            options: Some(pp::list_req::Options {
                list_option: Some(list_option),
            }),
        };
        let result = self
            .run(options, true, true, |call| {
                let request = request.clone();
                async move {
                    let resp = client(call.channel())
                        .list(call.request(request))
                        .await?
                        .into_inner();
                    Ok(resp
                        .subscriptions
                        .into_iter()
                        .map(SubscriptionInfo::from_proto)
                        .collect())
                }
            })
            .await;
        match result {
            // The server answers NOT_FOUND when a stream has no group.
            Err(Error::NotFound { .. }) => Ok(Vec::new()),
            other => other,
        }
    }

    /// Delivers a group's parked events again: of `stream_name`, or of `$all`
    /// when `None`.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ReplayParkedEventsOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .replay_parked_events("group-1", Some("order-123"), &ReplayParkedEventsOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn replay_parked_events(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReplayParkedEventsOptions,
    ) -> Result<()> {
        use pp::replay_parked_req::options::{StopAtOption, StreamOption};
        check_group_name(group_name)?;
        let stream_option = match stream_name {
            Some(name) => StreamOption::StreamIdentifier(StreamIdentifier {
                stream_name: Bytes::copy_from_slice(name.as_bytes()),
            }),
            None => StreamOption::All(Empty {}),
        };
        let stop_at = match options.stop_at {
            Some(n) => StopAtOption::StopAt(i64::try_from(n).unwrap_or(i64::MAX)),
            None => StopAtOption::NoLimit(Empty {}),
        };
        let request = pp::ReplayParkedReq {
            options: Some(pp::replay_parked_req::Options {
                group_name: group_name.to_owned(),
                stream_option: Some(stream_option),
                stop_at_option: Some(stop_at),
            }),
        };
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                client(call.channel())
                    .replay_parked(call.request(request))
                    .await?;
                Ok(())
            }
        })
        .await
    }

    /// Restarts the server's persistent-subscription subsystem: every group's
    /// consumers are dropped and every group reloads from its checkpoint.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, RestartPersistentSubscriptionSubsystemOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .restart_persistent_subscription_subsystem(
    ///         &RestartPersistentSubscriptionSubsystemOptions::default(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn restart_persistent_subscription_subsystem(
        &self,
        options: &RestartPersistentSubscriptionSubsystemOptions,
    ) -> Result<()> {
        self.run(options, true, true, |call| async move {
            client(call.channel())
                .restart_subsystem(call.request(Empty {}))
                .await?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_split_on_action_change_and_size() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut b = Batcher {
            options: None,
            rx,
            subscription_id: Arc::new(OnceLock::new()),
            max_batch: 2,
            max_delay: Duration::from_millis(50),
            held: None,
            stopping: false,
            stopped: Vec::new(),
        };
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        tx.send(AckCommand::Settle(ids[0], None)).unwrap();
        tx.send(AckCommand::Settle(ids[1], Some(NackAction::Park)))
            .unwrap();
        tx.send(AckCommand::Settle(ids[2], Some(NackAction::Park)))
            .unwrap();
        tx.send(AckCommand::Settle(ids[3], Some(NackAction::Park)))
            .unwrap();
        tx.send(AckCommand::Stop(None)).unwrap();
        let mut seen = Vec::new();
        while let Some(req) = b.next().await {
            match req.content.unwrap() {
                pp::read_req::Content::Ack(a) => seen.push(("ack", a.ids.len())),
                pp::read_req::Content::Nack(n) => seen.push(("nack", n.ids.len())),
                _ => unreachable!(),
            }
        }
        assert_eq!(seen, vec![("ack", 1), ("nack", 2), ("nack", 1)]);
    }
}
