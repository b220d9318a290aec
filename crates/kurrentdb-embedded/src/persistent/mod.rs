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
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

pub(crate) use group::{Delivery, Group, GroupFigures, GroupInfo, Message};
pub(crate) use types::parked_stream;
pub(crate) use types::{
    ALL_STREAM, ConsumerDetails, ConsumerStrategy, NackAction, PersistentError, Settings, Source,
    StartFrom, check_all_start,
};
use types::{check_settings, checkpoint_stream};

use crate::store::{CurrentRevision, Deletion, ExpectedRevision, Store};

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
