//! The values that cross the client's API: events to append, recorded events read
//! back, stream states for optimistic concurrency, checkpoints and caught-up markers.
//!
//! Payloads are [`Bytes`], so event data and metadata are never copied between the
//! wire and the caller: a `RecordedEvent`'s `data` shares the buffer the gRPC frame
//! was decoded into.

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use uuid::Uuid;

/// The default content type of a [`NewEvent`] and a [`NewRecord`].
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// The content type for opaque binary payloads.
pub const CONTENT_TYPE_OCTET_STREAM: &str = "application/octet-stream";

/// The state a stream is expected to be in when appending, deleting or checking
/// consistency: the "current version" argument of the Python client.
///
/// `Version(n)` is an exact expectation: the stream's last event has stream
/// position `n` (positions count from 0). The other variants name states.
///
/// ```
/// use kurrentdbclient::StreamState;
/// assert_eq!(StreamState::from(3u64), StreamState::Version(3));
/// assert_eq!(StreamState::NoStream.to_string(), "NO_STREAM");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamState {
    /// No expectation: the operation proceeds whatever the stream's state.
    Any,
    /// The stream must not exist (never written, or deleted).
    NoStream,
    /// The stream must exist (have at least one event).
    Exists,
    /// The stream's last event must be at exactly this stream position.
    Version(u64),
}

impl StreamState {
    /// The v2 protocol's signed encoding: `-1` no stream, `-2` any, `-4` exists,
    /// and a revision as itself.
    pub fn to_v2(self) -> i64 {
        match self {
            StreamState::NoStream => -1,
            StreamState::Any => -2,
            StreamState::Exists => -4,
            StreamState::Version(v) => v as i64,
        }
    }

    /// Decodes the v2 protocol's signed encoding (see [`StreamState::to_v2`]),
    /// which is also how the v1 server numbers versions in its status messages
    /// and trailers. `-3` ("deleted" in some server versions) and other unknown
    /// negative values decode as [`StreamState::NoStream`].
    pub fn from_v2(value: i64) -> StreamState {
        match value {
            -2 => StreamState::Any,
            -4 => StreamState::Exists,
            v if v < 0 => StreamState::NoStream,
            v => StreamState::Version(v as u64),
        }
    }
}

impl From<u64> for StreamState {
    fn from(version: u64) -> Self {
        StreamState::Version(version)
    }
}

impl fmt::Display for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamState::Any => f.write_str("ANY"),
            StreamState::NoStream => f.write_str("NO_STREAM"),
            StreamState::Exists => f.write_str("EXISTS"),
            StreamState::Version(v) => write!(f, "{v}"),
        }
    }
}

/// A stream's state in a consistency check of
/// [`append_records`](crate::AsyncKurrentDBClient::append_records): what a
/// [`StreamStateCheck`] expects, and what a failed check reports
/// ([`ConsistencyCheckFailure`]). Beside the states of [`StreamState`] it has
/// KurrentDB 26.1's deletion states, so that a check can require a stream to
/// be soft deleted or tombstoned, and a failure says when one was.
///
/// A check may not expect [`StreamCondition::Any`] (the server refuses it with
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument)); a failure reports
/// it as the expectation of a stream the records write to without a check of
/// its own.
///
/// ```
/// use kurrentdbclient::{StreamCondition, StreamState};
/// assert_eq!(StreamCondition::from(StreamState::NoStream).to_v2(), -1);
/// assert_eq!(StreamCondition::from_v2(-6), StreamCondition::Tombstoned);
/// assert_eq!(StreamCondition::Version(3), StreamState::Version(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamCondition {
    /// Any state.
    Any,
    /// The stream has no event (never written, or soft deleted and not
    /// written since).
    NoStream,
    /// The stream has at least one event.
    Exists,
    /// The stream's last event is at exactly this stream position.
    Version(u64),
    /// The stream was soft deleted (and not written since).
    Deleted,
    /// The stream was tombstoned.
    Tombstoned,
}

impl StreamCondition {
    /// The v2 protocol's signed encoding: `-1` no stream, `-2` any, `-4`
    /// exists, `-5` deleted, `-6` tombstoned, and a revision as itself.
    pub fn to_v2(self) -> i64 {
        match self {
            StreamCondition::NoStream => -1,
            StreamCondition::Any => -2,
            StreamCondition::Exists => -4,
            StreamCondition::Deleted => -5,
            StreamCondition::Tombstoned => -6,
            StreamCondition::Version(v) => i64::try_from(v).unwrap_or(i64::MAX),
        }
    }

    /// Decodes the v2 protocol's signed encoding (see
    /// [`StreamCondition::to_v2`]); other negative values decode as
    /// [`StreamCondition::NoStream`].
    pub fn from_v2(value: i64) -> StreamCondition {
        match value {
            -2 => StreamCondition::Any,
            -4 => StreamCondition::Exists,
            -5 => StreamCondition::Deleted,
            -6 => StreamCondition::Tombstoned,
            v if v < 0 => StreamCondition::NoStream,
            v => StreamCondition::Version(v as u64),
        }
    }
}

impl From<StreamState> for StreamCondition {
    fn from(state: StreamState) -> Self {
        match state {
            StreamState::Any => StreamCondition::Any,
            StreamState::NoStream => StreamCondition::NoStream,
            StreamState::Exists => StreamCondition::Exists,
            StreamState::Version(v) => StreamCondition::Version(v),
        }
    }
}

impl From<u64> for StreamCondition {
    fn from(version: u64) -> Self {
        StreamCondition::Version(version)
    }
}

impl PartialEq<StreamState> for StreamCondition {
    fn eq(&self, other: &StreamState) -> bool {
        *self == StreamCondition::from(*other)
    }
}

impl fmt::Display for StreamCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamCondition::Any => f.write_str("ANY"),
            StreamCondition::NoStream => f.write_str("NO_STREAM"),
            StreamCondition::Exists => f.write_str("EXISTS"),
            StreamCondition::Deleted => f.write_str("DELETED"),
            StreamCondition::Tombstoned => f.write_str("TOMBSTONED"),
            StreamCondition::Version(v) => write!(f, "{v}"),
        }
    }
}

/// An event to be appended to a stream.
///
/// `id` defaults to a new random (v4) UUID and `content_type` to
/// `application/json`. The id is what makes a retried append idempotent: append
/// the same `NewEvent` (same id) twice with the same expected state and the event
/// is recorded once.
///
/// ```
/// use kurrentdbclient::NewEvent;
/// let event = NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)
///     .with_metadata(r#"{"by": "admin"}"#);
/// assert_eq!(event.content_type, "application/json");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The event type, for example `OrderCreated`. Must not be empty.
    pub r#type: String,
    /// The event payload.
    pub data: Bytes,
    /// Optional event metadata (empty by default).
    pub metadata: Bytes,
    /// The payload's content type: `application/json` (the default) or
    /// `application/octet-stream`.
    pub content_type: String,
    /// The event's unique id.
    pub id: Uuid,
}

impl NewEvent {
    /// A new JSON event with a fresh random id and no metadata.
    pub fn new(r#type: impl Into<String>, data: impl Into<Bytes>) -> Self {
        NewEvent {
            r#type: r#type.into(),
            data: data.into(),
            metadata: Bytes::new(),
            content_type: CONTENT_TYPE_JSON.to_owned(),
            id: Uuid::new_v4(),
        }
    }

    /// Sets the metadata.
    pub fn with_metadata(mut self, metadata: impl Into<Bytes>) -> Self {
        self.metadata = metadata.into();
        self
    }

    /// Sets the content type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// Sets the id (use this to make a retry idempotent across processes).
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }
}

/// Events for one stream in a [`multi_append_to_stream`] call, with the stream's
/// expected state.
///
/// [`multi_append_to_stream`]: crate::AsyncKurrentDBClient::multi_append_to_stream
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvents {
    /// The stream to append to.
    pub stream_name: String,
    /// The events, in order.
    pub events: Vec<NewEvent>,
    /// The state the stream must be in for the append to succeed.
    pub current_version: StreamState,
}

impl NewEvents {
    /// Groups events for one stream with its expected state.
    pub fn new(
        stream_name: impl Into<String>,
        events: impl IntoIterator<Item = NewEvent>,
        current_version: impl Into<StreamState>,
    ) -> Self {
        NewEvents {
            stream_name: stream_name.into(),
            events: events.into_iter().collect(),
            current_version: current_version.into(),
        }
    }
}

/// A record for [`append_records`]: an event that names its own stream, so records
/// for many streams can be interleaved in one atomic append.
///
/// [`append_records`]: crate::AsyncKurrentDBClient::append_records
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// The stream the record is appended to.
    pub stream_name: String,
    /// The event type. Must not be empty.
    pub r#type: String,
    /// The payload.
    pub data: Bytes,
    /// Optional metadata: empty, or a JSON object (see the append reference).
    pub metadata: Bytes,
    /// The payload's content type (`application/json` by default).
    pub content_type: String,
    /// The record's unique id (a new random UUID by default).
    pub id: Uuid,
}

impl NewRecord {
    /// A new JSON record for `stream_name` with a fresh random id.
    pub fn new(
        stream_name: impl Into<String>,
        r#type: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Self {
        NewRecord {
            stream_name: stream_name.into(),
            r#type: r#type.into(),
            data: data.into(),
            metadata: Bytes::new(),
            content_type: CONTENT_TYPE_JSON.to_owned(),
            id: Uuid::new_v4(),
        }
    }

    /// Sets the metadata.
    pub fn with_metadata(mut self, metadata: impl Into<Bytes>) -> Self {
        self.metadata = metadata.into();
        self
    }

    /// Sets the content type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// Sets the id.
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }
}

/// A consistency check for [`append_records`]: the named stream must be in the
/// expected state when the records are written, or nothing is written.
///
/// [`append_records`]: crate::AsyncKurrentDBClient::append_records
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStateCheck {
    /// The stream whose state is checked (it need not receive any record).
    pub stream_name: String,
    /// The state it must be in (a [`StreamState`] other than `Any`, a
    /// stream position, or [`StreamCondition::Deleted`] or
    /// [`StreamCondition::Tombstoned`]).
    pub expected_state: StreamCondition,
}

impl StreamStateCheck {
    /// A check that `stream_name` is in `expected_state`.
    pub fn new(stream_name: impl Into<String>, expected_state: impl Into<StreamCondition>) -> Self {
        StreamStateCheck {
            stream_name: stream_name.into(),
            expected_state: expected_state.into(),
        }
    }
}

/// One failed consistency check, as reported in
/// [`Error::ConsistencyChecksFailed`](crate::Error::ConsistencyChecksFailed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyCheckFailure {
    /// The index of the failed check in the request's list of checks.
    pub check_index: usize,
    /// The stream the check named.
    pub stream_name: String,
    /// The state the check expected.
    pub expected_state: StreamCondition,
    /// The state the stream was actually in: its position, no stream,
    /// deleted or tombstoned.
    pub actual_state: StreamCondition,
}

/// An event as recorded in KurrentDB, read from a stream, from `$all`, or
/// delivered by a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The event type.
    pub r#type: String,
    /// The payload.
    pub data: Bytes,
    /// The metadata.
    pub metadata: Bytes,
    /// The content type.
    pub content_type: String,
    /// The event's id.
    pub id: Uuid,
    /// The stream the event was recorded in.
    pub stream_name: String,
    /// The event's position in its stream (0 for the first event).
    pub stream_position: u64,
    /// The event's commit position in the global log (`$all`).
    pub commit_position: Option<u64>,
    /// The event's prepare position in the global log.
    pub prepare_position: Option<u64>,
    /// When the server recorded the event, if it said.
    pub recorded_at: Option<SystemTime>,
    /// When the event was read through a link (resolve links), the link event
    /// itself; `self` is then the event it points to.
    pub link: Option<Box<RecordedEvent>>,
    /// For persistent subscriptions: how many times the event was retried.
    pub retry_count: Option<u32>,
}

impl RecordedEvent {
    /// The id to acknowledge for a persistent subscription: the link's id when the
    /// event was resolved from a link, the event's own id otherwise.
    pub fn ack_id(&self) -> Uuid {
        self.link.as_ref().map_or(self.id, |link| link.id)
    }

    /// Whether this is a system event (its type starts with `$`).
    pub fn is_system_event(&self) -> bool {
        self.r#type.starts_with('$')
    }
}

/// A checkpoint from a filtered subscription: the server has searched the log up
/// to this position and found nothing more that matches. Record it to resume a
/// subscription without re-scanning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The commit position the search has reached.
    pub commit_position: u64,
    /// The prepare position the search has reached.
    pub prepare_position: u64,
    /// When the server sent the checkpoint, if it said.
    pub timestamp: Option<SystemTime>,
}

/// Where a catch-up subscription stood when the server sent a
/// [`SubscriptionItem::CaughtUp`] or [`SubscriptionItem::FellBehind`] marker, as
/// the server says: a subscription to a stream carries the stream position, one
/// to `$all` the log positions; KurrentDB before 24.x sends neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SubscriptionPosition {
    /// For a subscription to a stream: the stream position reached.
    pub stream_position: Option<u64>,
    /// For a subscription to `$all`: the commit position reached.
    pub commit_position: Option<u64>,
    /// For a subscription to `$all`: the prepare position reached.
    pub prepare_position: Option<u64>,
    /// When the server sent the marker, if it said.
    pub timestamp: Option<SystemTime>,
}

/// A marker from a catch-up subscription: every stored event has been delivered
/// and what follows is live.
pub type CaughtUp = SubscriptionPosition;

/// A marker from a catch-up subscription: it was live, fell too far behind the
/// head of the log, and is catching up again (a [`CaughtUp`] follows when it is
/// live again).
pub type FellBehind = SubscriptionPosition;

/// What [`append_to_stream`] reports of a successful append: the version to
/// expect for the next append and the position of the write in the log (the
/// official crate's `WriteResult`).
///
/// [`append_to_stream`]: crate::AsyncKurrentDBClient::append_to_stream
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteResult {
    /// The stream's version after the append: pass it as the `current_version`
    /// of the next append. [`StreamState::Version`] with the position of the
    /// stream's last event, or [`StreamState::NoStream`] when nothing was written
    /// to a stream that does not exist.
    pub next_expected_version: StreamState,
    /// The commit position of the last event written (0 when nothing was
    /// written).
    pub commit_position: u64,
}

/// What [`append_records`] and [`multi_append_to_stream`] report of a
/// successful transaction: its commit position and each written stream's new
/// position (the Python client's `AppendRecordsResult`).
///
/// [`append_records`]: crate::AsyncKurrentDBClient::append_records
/// [`multi_append_to_stream`]: crate::AsyncKurrentDBClient::multi_append_to_stream
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AppendRecordsResult {
    /// The commit position of the transaction.
    pub commit_position: u64,
    /// Each stream written, with the position of its last event now, in the
    /// order the server reports them.
    pub stream_positions: Vec<StreamPositionResult>,
}

impl AppendRecordsResult {
    /// The position of `stream_name`'s last event after the transaction, if the
    /// transaction wrote to it.
    pub fn stream_position(&self, stream_name: &str) -> Option<u64> {
        self.stream_positions
            .iter()
            .find(|s| s.stream_name == stream_name)
            .map(|s| s.stream_position)
    }
}

/// One stream's new position in an [`AppendRecordsResult`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamPositionResult {
    /// The stream.
    pub stream_name: String,
    /// The position of its last event.
    pub stream_position: u64,
}

/// An item of a subscription: an event, or (where asked for) a checkpoint or a
/// caught-up marker.
// Events are by far the most common item, so they are not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscriptionItem {
    /// An event.
    Event(RecordedEvent),
    /// A checkpoint (filtered `$all` subscriptions, when checkpoints are asked for).
    Checkpoint(Checkpoint),
    /// The subscription has caught up and is now live (when asked for).
    CaughtUp(CaughtUp),
    /// The subscription was live and fell behind; it is catching up again (when
    /// asked for).
    FellBehind(FellBehind),
}
