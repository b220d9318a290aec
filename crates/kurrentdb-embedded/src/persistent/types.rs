//! The value types of persistent subscriptions, below the subsystem and its
//! groups alike: a group's source and settings (and the checks KurrentDB
//! makes of them), its consumers' details, what a nack asks, the errors, and
//! the names of a group's system streams.

use std::time::Duration;

use bytes::Bytes;

use crate::store::Filter;

/// The stream name used for subscriptions to all streams.
pub(crate) const ALL_STREAM: &str = "$all";
/// The event type of a checkpoint event.
pub(crate) const CHECKPOINT_EVENT_TYPE: &str = "$SubscriptionCheckpoint";
/// The event type older servers used for checkpoints (still read back).
pub(crate) const LEGACY_CHECKPOINT_EVENT_TYPE: &str = "SubscriptionCheckpoint";

/// `$persistentsubscription-<stream>::<group>-checkpoint`.
pub(crate) fn checkpoint_stream(stream: &str, group: &str) -> String {
    format!("$persistentsubscription-{stream}::{group}-checkpoint")
}

/// `$persistentsubscription-<stream>::<group>-parked`.
pub(crate) fn parked_stream(stream: &str, group: &str) -> String {
    format!("$persistentsubscription-{stream}::{group}-parked")
}

/// What a group reads.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// One stream.
    Stream(Bytes),
    /// All streams, optionally filtered.
    All {
        /// The server-side filter, if any.
        filter: Option<Filter>,
    },
}

impl Source {
    /// The stream part of the subscription id: the stream name, or `$all`.
    pub(crate) fn name(&self) -> String {
        match self {
            Source::Stream(s) => String::from_utf8_lossy(s).into_owned(),
            Source::All { .. } => ALL_STREAM.to_owned(),
        }
    }

    /// Whether this is a `$all` source.
    pub(crate) fn is_all(&self) -> bool {
        matches!(self, Source::All { .. })
    }

    /// Whether this is a filtered `$all` source.
    pub(crate) fn is_filtered(&self) -> bool {
        matches!(self, Source::All { filter: Some(_) })
    }
}

/// Where a group without a checkpoint starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartFrom {
    /// The first event.
    Start,
    /// The end, as it is when the group is loaded.
    End,
    /// A stream revision (stream groups) or a commit position (`$all` groups),
    /// included.
    At(u64),
}

/// How events are shared between the consumers of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ConsumerStrategy {
    /// Fill one consumer's buffer, then the next.
    #[default]
    DispatchToSingle,
    /// Rotate between consumers.
    RoundRobin,
    /// Events of one stream go to one consumer.
    Pinned,
    /// Like `Pinned`, by correlation id (treated as `Pinned` here).
    PinnedByCorrelation,
}

impl ConsumerStrategy {
    /// The name on the wire (`named_consumer_strategy` in infos).
    pub(crate) fn name(self) -> &'static str {
        match self {
            ConsumerStrategy::DispatchToSingle => "DispatchToSingle",
            ConsumerStrategy::RoundRobin => "RoundRobin",
            ConsumerStrategy::Pinned => "Pinned",
            ConsumerStrategy::PinnedByCorrelation => "PinnedByCorrelation",
        }
    }

    /// Parses a strategy name; `None` for unknown names.
    pub(crate) fn from_name(name: &str) -> Option<ConsumerStrategy> {
        match name {
            "DispatchToSingle" => Some(ConsumerStrategy::DispatchToSingle),
            "RoundRobin" => Some(ConsumerStrategy::RoundRobin),
            "Pinned" => Some(ConsumerStrategy::Pinned),
            "PinnedByCorrelation" => Some(ConsumerStrategy::PinnedByCorrelation),
            _ => None,
        }
    }
}

/// A group's settings, as given to `Create` / `Update`.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Where to start when there is no checkpoint.
    pub(crate) start_from: StartFrom,
    /// Resolve link events.
    pub(crate) resolve_links: bool,
    /// Keep each consumer's latencies (reported in its statistics).
    pub(crate) extra_statistics: bool,
    /// How long a delivered message may stay unacknowledged before it is
    /// retried (zero: never).
    pub(crate) message_timeout: Duration,
    /// How many times a message is retried before it is parked.
    pub(crate) max_retry_count: u32,
    /// The shortest time between checkpoints.
    pub(crate) checkpoint_after: Duration,
    /// The fewest processed messages for a checkpoint.
    pub(crate) min_checkpoint_count: u32,
    /// Processed messages that force a checkpoint.
    pub(crate) max_checkpoint_count: u32,
    /// The most consumers at once (0: no limit).
    pub(crate) max_subscriber_count: u32,
    /// How many of the events written since the group was loaded it keeps
    /// (its live buffer).
    pub(crate) live_buffer_size: u32,
    /// How many events are read from the source at a time.
    pub(crate) read_batch_size: u32,
    /// The most messages its read and retry buffers hold together (its
    /// history buffer).
    pub(crate) history_buffer_size: u32,
    /// How events are shared between consumers.
    pub(crate) consumer_strategy: ConsumerStrategy,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            start_from: StartFrom::Start,
            resolve_links: false,
            extra_statistics: false,
            message_timeout: Duration::from_secs(30),
            max_retry_count: 10,
            checkpoint_after: Duration::from_secs(2),
            min_checkpoint_count: 10,
            max_checkpoint_count: 1000,
            max_subscriber_count: 0,
            live_buffer_size: 500,
            read_batch_size: 20,
            history_buffer_size: 500,
            consumer_strategy: ConsumerStrategy::DispatchToSingle,
        }
    }
}

/// Why a persistent-subscription operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PersistentError {
    /// The group exists already (`Create`).
    AlreadyExists,
    /// The group does not exist.
    NotFound,
    /// The group has its maximum number of consumers.
    MaximumSubscribersReached,
    /// KurrentDB refuses the settings, for this reason (see [`check_settings`]).
    Failed(String),
}

/// Why KurrentDB's subscription constructor refuses a read batch not smaller
/// than the buffer: `new ArgumentOutOfRangeException(string)` takes a
/// *parameter name*, so .NET's message is its standard text with the sentence
/// as the parameter (`PersistentSubscription.cs`).
pub(crate) const READ_BATCH_TOO_LARGE: &str = "Specified argument was out of the range of valid values. \
     (Parameter 'ReadBatchSize may not be greater than or equal to BufferSize')";

/// The settings checks of KurrentDB's subscription constructor
/// (`PersistentSubscription.cs`; its other checks are for arguments no client
/// supplies). The service turns the exception into a failed create or update
/// (`PersistentSubscriptionService.cs` catches it), which gRPC answers as
/// `INTERNAL` (see [`crate::services::persistent`]).
pub(crate) fn check_settings(settings: &Settings) -> Result<(), PersistentError> {
    if settings.read_batch_size >= settings.history_buffer_size {
        return Err(PersistentError::Failed(READ_BATCH_TOO_LARGE.to_owned()));
    }
    Ok(())
}

/// `ValidateStartFrom` of `PersistentSubscriptionService.cs`, for a `$all`
/// start position (`head`: the position after the last record). KurrentDB
/// reads the wire's `uint64`s as `long`s, so `u64::MAX` is its `-1` (both
/// `-1`: the end, accepted).
pub(crate) fn check_all_start(commit: u64, prepare: u64, head: u64) -> Result<(), PersistentError> {
    let fail = |what: &str| {
        Err(PersistentError::Failed(format!(
            "Invalid Start From position: {what}"
        )))
    };
    let (commit, prepare) = (commit as i64, prepare as i64);
    if prepare > commit {
        return fail("prepare position must be less than or equal to the commit position.");
    }
    if commit > i64::try_from(head).unwrap_or(i64::MAX) {
        return fail(
            "commit position must be less than or equal to the last commit position in the transaction file.",
        );
    }
    if (prepare <= -1 || commit <= -1) && !(prepare == -1 && commit == -1) {
        return fail(
            "prepare and commit positions must be greater than or equal to 0 or both equal to -1.",
        );
    }
    Ok(())
}

/// The nack actions of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NackAction {
    /// Let the server decide (retry).
    Unknown,
    /// Park the message.
    Park,
    /// Retry the message.
    Retry,
    /// Skip the message.
    Skip,
    /// Stop the consumer.
    Stop,
}

/// Who a consumer is, for statistics.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConsumerDetails {
    /// The peer's address.
    pub(crate) from: String,
    /// The user name (empty when anonymous).
    pub(crate) username: String,
    /// The `connection-name` the client sent.
    pub(crate) connection_name: String,
}
