//! Persistent subscriptions: server-side consumer groups with acks, retries,
//! parking and checkpoints. Nothing here knows about gRPC; the thin service is
//! [`crate::services::persistent`].
//!
//! # What the real server does, and this module imitates
//!
//! Facts below were concluded from the official clients (the Python
//! `kurrentdbclient` and the Rust `kurrentdb` crate) and the server's public
//! sources; they are the observable behaviour, not its implementation.
//!
//! - A group is named by its **subscription id** `<stream>::<group>`, where the
//!   stream part is `$all` for a subscription to all streams. The `Read` call's
//!   confirmation carries exactly that id; the Python client splits it at `::`
//!   and checks both halves.
//! - The group's **checkpoint** is the last event of
//!   `$persistentsubscription-<stream>::<group>-checkpoint`, event type
//!   `$SubscriptionCheckpoint` (older servers wrote `SubscriptionCheckpoint`; both
//!   are read back), whose data is a JSON *string*: the stream revision (`"5"`)
//!   for a stream group, `"C:<commit>/P:<prepare>"` for a `$all` group. The first
//!   write also sets `$maxCount: 2` on the checkpoint stream. A group that is
//!   loaded (created, or after `RestartSubsystem`) resumes *after* its
//!   checkpoint.
//! - **Parked** messages are link events (`$>`, data `<revision>@<stream>`) in
//!   `$persistentsubscription-<stream>::<group>-parked`. `ReplayParked` reads
//!   them back (links resolved), delivers the original events again, and then
//!   truncates the parked stream (`$tb`) past what it replayed. A replayed
//!   message is acked by the parked link's id (clients ack `link.id` when an
//!   event has a link).
//! - A message is delivered with `retry_count` 0; a nack with `Retry` (or
//!   `Unknown`) or a message timeout delivers it again with `retry_count + 1`
//!   while `retry_count < max_retry_count`, and parks it otherwise. `Park` parks
//!   at once, `Skip` drops it (as if acked), `Stop` drops the consumer.
//! - Consumer strategies: `DispatchToSingle` fills the first consumer's buffer
//!   before moving to the next; `RoundRobin` rotates between consumers with free
//!   slots; `Pinned` sends all events of one source stream to the same consumer
//!   (by a hash of the stream name).
//! - Errors (see [`crate::services::persistent`] for the statuses): creating a
//!   group that exists is `ALREADY_EXISTS`; reading, updating, deleting, getting
//!   info or replaying a missing group is `NOT_FOUND`; joining a group that has
//!   `max_subscriber_count` consumers is `FAILED_PRECONDITION` "Maximum
//!   subscriptions reached ...". `Update`, `Delete` and `RestartSubsystem` drop
//!   the connected consumers (`CANCELLED`, `exception:
//!   persistent-subscription-dropped`). `Delete` also deletes the checkpoint and
//!   parked streams, so a group created again under the same name starts over.
//!   Settings KurrentDB refuses (an unknown consumer strategy, a read batch
//!   not smaller than the history buffer, a bad `$all` start) fail the create
//!   or update ([`check_settings`], [`check_all_start`]).
//! - A consumer's buffer size bounds its unacknowledged messages; a message it
//!   does not acknowledge in time (or nacks to retry) waits in the retry buffer,
//!   which is served first, so its retries come before the next event.
//! - The statistics (`GetInfo`, `List`) follow KurrentDB's rules: see
//!   `group/buffer.rs` (which buffer an event sits in, catching up and live)
//!   and `group/stats.rs` (every figure).
//!
//! Group configurations are kept in memory only (the real server also stores
//! them in `$persistentSubscriptionConfig`); checkpoints and parked messages are
//! real streams in the [`Store`] and can be read like any other.

mod group;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;

pub(crate) use group::{Delivery, Group, GroupInfo, Message};

use crate::store::{CurrentRevision, Deletion, ExpectedRevision, Filter, Store};

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

/// The persistent-subscription subsystem: every group, by stream and name.
#[derive(Debug)]
pub(crate) struct Subsystem {
    store: Arc<Store>,
    /// The groups by (stream, group name).
    ///
    /// Lock order: taken alone. Nothing holding it takes a group's mutex or
    /// the store's lock.
    groups: Mutex<BTreeMap<(String, String), Arc<Group>>>,
    next_consumer: AtomicU64,
    /// Cleared when the subsystem is dropped: the group drivers stop.
    alive: Arc<AtomicBool>,
}

impl Drop for Subsystem {
    fn drop(&mut self) {
        // Group drivers check this when they wake up; wake them so that idle
        // ones stop too.
        self.alive.store(false, Ordering::Release);
        for group in self.groups.get_mut().values() {
            group.wake();
        }
    }
}

impl Subsystem {
    /// An empty subsystem over `store`.
    pub(crate) fn new(store: Arc<Store>) -> Subsystem {
        Subsystem {
            store,
            groups: Mutex::new(BTreeMap::new()),
            next_consumer: AtomicU64::new(1),
            alive: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Creates a group. Needs a tokio runtime (the group's driver task is
    /// spawned on it).
    pub(crate) fn create(
        &self,
        source: Source,
        group: &str,
        settings: Settings,
    ) -> Result<(), PersistentError> {
        let key = (source.name(), group.to_owned());
        let mut groups = self.groups.lock();
        if groups.contains_key(&key) {
            return Err(PersistentError::AlreadyExists);
        }
        check_settings(&settings)?;
        let g = Group::new(self.store.clone(), source, group.to_owned(), settings);
        Group::spawn_driver(&g, self.alive.clone());
        tracing::info!(group = %g.subscription_id(), "persistent subscription group created");
        groups.insert(key, g);
        Ok(())
    }

    /// Changes a group's settings (and start), dropping its consumers.
    pub(crate) fn update(
        &self,
        stream: &str,
        group: &str,
        settings: Settings,
    ) -> Result<(), PersistentError> {
        let g = self.get(stream, group)?;
        check_settings(&settings)?;
        g.update(settings);
        tracing::info!(group = %g.subscription_id(), "persistent subscription group updated");
        Ok(())
    }

    /// Deletes a group, dropping its consumers and deleting its checkpoint and
    /// parked streams.
    pub(crate) fn delete(&self, stream: &str, group: &str) -> Result<(), PersistentError> {
        let g = self
            .groups
            .lock()
            .remove(&(stream.to_owned(), group.to_owned()))
            .ok_or(PersistentError::NotFound)?;
        g.shut_down();
        tracing::info!(group = %g.subscription_id(), "persistent subscription group deleted");
        for name in [
            checkpoint_stream(stream, group),
            parked_stream(stream, group),
        ] {
            let name = Bytes::from(name);
            if self.store.stream_state(&name).0 != CurrentRevision::NoStream {
                let _ = self
                    .store
                    .delete(&name, ExpectedRevision::Any, Deletion::Soft);
            }
        }
        Ok(())
    }

    /// A group.
    pub(crate) fn get(&self, stream: &str, group: &str) -> Result<Arc<Group>, PersistentError> {
        self.groups
            .lock()
            .get(&(stream.to_owned(), group.to_owned()))
            .cloned()
            .ok_or(PersistentError::NotFound)
    }

    /// Every group, or those of one stream (`$all` for `$all` groups).
    pub(crate) fn list(&self, stream: Option<&str>) -> Vec<Arc<Group>> {
        self.groups
            .lock()
            .iter()
            .filter(|((s, _), _)| stream.is_none_or(|want| want == s))
            .map(|(_, g)| g.clone())
            .collect()
    }

    /// The position after the last record of the store.
    pub(crate) fn head_position(&self) -> u64 {
        self.store.head_position().0
    }

    /// A new consumer id.
    pub(crate) fn next_consumer_id(&self) -> u64 {
        self.next_consumer.fetch_add(1, Ordering::Relaxed)
    }

    /// Restarts every group: drops the consumers and reloads each group from
    /// its checkpoint.
    pub(crate) fn restart(&self) {
        let groups: Vec<Arc<Group>> = self.groups.lock().values().cloned().collect();
        tracing::info!(
            groups = groups.len(),
            "persistent subscription subsystem restarting"
        );
        for g in groups {
            g.restart();
        }
    }
}
