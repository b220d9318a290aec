//! One consumer group: its read cursor, buffers, in-flight messages,
//! consumers and checkpoint, and the driver task that moves messages along.
//!
//! # How a message travels
//!
//! The driver takes the events written to the source since the group was
//! loaded into the live queue, and reads the source's history while the group
//! catches up, into the group's buffers (`buffer`: the rules of KurrentDB's
//! `StreamBuffer`). It dispatches messages (retries first) to consumers with
//! free slots, by the group's strategy, giving each message a sequence number
//! and an entry in the checkpoint `window` the first time it is sent; each
//! delivered message is in flight with a deadline. An ack or a skip completes it; a retry (nack, or
//! the deadline passing, or its consumer leaving) puts it back in `retry` with
//! `retry_count + 1`, or parks it past `max_retry_count`. Completed entries at
//! the front of the window advance the *safe* checkpoint (every message up to
//! it is done); the driver writes it to the checkpoint stream by the
//! `min/max_checkpoint_count` and `checkpoint_after` rules.
//!
//! # Where the code is
//!
//! - here: the group and the operations the service calls (connect, ack,
//!   nack, replay, update, ...);
//! - `message`: what consumers receive;
//! - `buffer`: the retry, read and live buffers, catching up and going live;
//! - `state`: what the group holds behind its mutex, and the parts it is
//!   made of (cursors, checkpoint window, consumers, in-flight messages,
//!   measures), which the files below act on;
//! - `driver`: the task, reading the source, timeouts, and when to wake up;
//! - `consumers`: choosing a consumer, delivering, retrying and parking;
//! - `checkpoint`: loading the group from its checkpoint, the checkpoint
//!   window, and writing checkpoints;
//! - `stats`: the statistics (`info`).
//!
//! Each file imports only those listed before it (`state` is below the
//! group, which holds it; the files after the group act on both).
//!
//! All state sits behind one `parking_lot::Mutex`, never held across an
//! `.await`; the store calls made under it are short and synchronous.

mod buffer;
mod checkpoint;
mod consumers;
mod driver;
mod message;
mod state;
mod stats;

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

pub(crate) use self::message::{Delivery, Message};
use self::state::{Consumer, Latencies, State};
pub(crate) use self::stats::{GroupFigures, GroupInfo};
use super::types::{ConsumerDetails, NackAction, PersistentError, Settings, Source, parked_stream};
use crate::index::META_PREFIX;
use crate::store::{
    Direction, ExpectedRevision, METADATA_EVENT_TYPE, ProposedEvent, Store, StreamWrite,
};

/// Parked messages read per store call by `ReplayParked`.
const REPLAY_PAGE: usize = 1024;

/// The most unacknowledged messages one consumer may hold, whatever buffer
/// size it asks for. KurrentDB takes any `int32` (its consumers' in-flight
/// limit); a consumer asking for 2^31-1 that never acks could make the group
/// read and track its whole source. Larger requests are clamped, not refused:
/// official clients send their buffer size as is.
pub(super) const MAX_CONSUMER_BUFFER: usize = 10_000;

/// How many messages wait at most in a consumer's channel, on their way to
/// its gRPC response.
const CONSUMER_CHANNEL: usize = 256;

/// A consumer group.
#[derive(Debug)]
pub(crate) struct Group {
    store: Arc<Store>,
    source: Source,
    name: String,
    /// The stream part of the subscription id (`$all` for `$all` groups).
    stream_name: String,
    /// The group's state.
    ///
    /// Lock order: this mutex first, then the store's lock. Code holding it
    /// calls the store (reads, and the system appends of checkpoints and
    /// parked messages); the store never calls back, and no other group's
    /// mutex or the subsystem's table is taken under it.
    state: Mutex<State>,
    /// Wakes the driver: a consumer joined or left, an ack or nack arrived, the
    /// group was updated, restarted, deleted, or its subsystem dropped.
    notify: Notify,
    /// How many times the driver stepped (tests check that an idle group
    /// sleeps).
    #[cfg(test)]
    steps: std::sync::atomic::AtomicUsize,
}

impl Group {
    pub(super) fn new(
        store: Arc<Store>,
        source: Source,
        name: String,
        settings: Settings,
    ) -> Arc<Group> {
        Arc::new(Group {
            store,
            stream_name: source.name(),
            source,
            name,
            state: Mutex::new(State::new(settings)),
            notify: Notify::new(),
            #[cfg(test)]
            steps: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The subscription id: `<stream>::<group>`.
    pub(crate) fn subscription_id(&self) -> String {
        format!("{}::{}", self.stream_name, self.name)
    }

    pub(crate) fn source(&self) -> &Source {
        &self.source
    }

    /// The stream part of the id (`$all` for `$all` groups).
    pub(crate) fn stream_name(&self) -> &str {
        &self.stream_name
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Wakes the driver up to look at the group again.
    pub(super) fn wake(&self) {
        self.notify.notify_one();
    }

    /// Adds a consumer that may hold `buffer_size` unacked messages.
    pub(crate) fn connect(
        &self,
        id: u64,
        buffer_size: usize,
        details: ConsumerDetails,
    ) -> Result<mpsc::Receiver<Delivery>, PersistentError> {
        let mut st = self.state.lock();
        if st.shut_down {
            return Err(PersistentError::NotFound);
        }
        let max = st.settings.max_subscriber_count as usize;
        if max > 0 && st.consumers.len() >= max {
            return Err(PersistentError::MaximumSubscribersReached);
        }
        let slots = buffer_size.clamp(1, MAX_CONSUMER_BUFFER);
        let latencies = st.settings.extra_statistics.then(Latencies::default);
        // The channel holds what was sent and not yet taken by the gRPC
        // response (which HTTP/2 flow control stops taking when the client
        // stops reading): bounded, whatever the buffer size, so a consumer
        // that reads nothing holds at most this many messages.
        let (tx, rx) = mpsc::channel(slots.min(CONSUMER_CHANNEL) + 8);
        st.consumers.push(Consumer {
            id,
            tx,
            slots,
            in_flight: 0,
            total_items: 0,
            last_total_items: 0,
            latencies,
            stopping: false,
            details,
        });
        drop(st);
        self.wake();
        tracing::debug!(group = %self.subscription_id(), consumer = id, "consumer joined");
        Ok(rx)
    }

    /// Removes a consumer; its unacked messages are retried.
    pub(crate) fn disconnect(&self, id: u64) {
        let mut st = self.state.lock();
        self.remove_consumer(&mut st, id, false);
        drop(st);
        self.wake();
        tracing::debug!(group = %self.subscription_id(), consumer = id, "consumer left");
    }

    /// Acks messages by id. Unknown ids are ignored.
    pub(crate) fn ack(&self, ids: &[Uuid]) {
        let mut st = self.state.lock();
        for id in ids {
            if let Some(m) = Self::take_in_flight(&mut st, id) {
                Self::complete(&mut st, &m);
            }
        }
        drop(st);
        self.wake();
    }

    /// Nacks messages by id.
    pub(crate) fn nack(&self, consumer: u64, ids: &[Uuid], action: NackAction, reason: &str) {
        let mut st = self.state.lock();
        let mut stop = false;
        for id in ids {
            let Some(m) = Self::take_in_flight(&mut st, id) else {
                continue;
            };
            match action {
                NackAction::Park => self.park(&mut st, m, reason),
                NackAction::Retry | NackAction::Unknown => self.retry_or_park(&mut st, m),
                NackAction::Skip => Self::complete(&mut st, &m),
                NackAction::Stop => {
                    self.retry_or_park(&mut st, m);
                    stop = true;
                }
            }
        }
        if stop {
            self.remove_consumer(&mut st, consumer, true);
        }
        drop(st);
        self.wake();
    }

    /// Delivers the parked messages again (those before revision `stop_at` of
    /// the parked stream, or all), then truncates the parked stream past them.
    pub(crate) fn replay_parked(&self, stop_at: Option<u64>) {
        tracing::info!(group = %self.subscription_id(), ?stop_at, "replaying parked messages");
        let parked = Bytes::from(parked_stream(&self.stream_name, &self.name));
        // Read in pages: the store's lock is never held for the whole
        // parked stream.
        let mut events = Vec::new();
        let mut from = Some(0);
        while let Some(next) = from {
            let Ok(batch) =
                self.store
                    .read_stream(&parked, Some(next), Direction::Forwards, REPLAY_PAGE, true)
            else {
                break;
            };
            let before = events.len();
            events.extend(
                batch
                    .events
                    .into_iter()
                    .take_while(|r| stop_at.is_none_or(|s| r.original().record.revision < s)),
            );
            let full_page = events.len() - before == REPLAY_PAGE;
            from = batch.next.filter(|_| full_page);
        }
        let mut st = self.state.lock();
        let mut last = None;
        let mut replayed = 0;
        for r in events {
            let revision = r.original().record.revision;
            last = Some(revision);
            if r.event.is_some() {
                st.buffers
                    .add_retry(Message::from_resolved(r, revision, true));
                replayed += 1;
            }
        }
        if let Some(last) = last {
            let meta = serde_json::json!({ "$tb": last.saturating_add(1) }).to_string();
            self.append_metadata(&parked, Bytes::from(meta));
        }
        st.parked_count = st.parked_count.saturating_sub(replayed);
        drop(st);
        self.wake();
    }

    /// `"5"` for a stream group, `"C:5/P:5"` for a `$all` group.
    pub(crate) fn format_position(&self, value: u64) -> String {
        if self.source.is_all() {
            format!("C:{value}/P:{value}")
        } else {
            value.to_string()
        }
    }

    /// New settings: the consumers are dropped and the group reloads from its
    /// checkpoint.
    pub(super) fn update(&self, settings: Settings) {
        let mut st = self.state.lock();
        st.settings = settings;
        Self::reset(&mut st);
        drop(st);
        self.wake();
    }

    /// Drops the consumers and reloads from the checkpoint.
    pub(super) fn restart(&self) {
        let mut st = self.state.lock();
        Self::reset(&mut st);
        drop(st);
        self.wake();
    }

    /// Stops the group for good (deleted).
    pub(super) fn shut_down(&self) {
        let mut st = self.state.lock();
        Self::reset(&mut st);
        st.shut_down = true;
        drop(st);
        self.wake();
    }

    fn reset(st: &mut State) {
        for c in st.consumers.drain(..) {
            let _ = c.tx.try_send(Delivery::Dropped);
        }
        let settings = st.settings.clone();
        *st = State::new(settings);
    }

    /// Writes `$metadata` for `stream` (to `$$<stream>`).
    fn append_metadata(&self, stream: &[u8], json: Bytes) {
        let meta_stream = [META_PREFIX.as_bytes(), stream].concat();
        self.append(Bytes::from(meta_stream), METADATA_EVENT_TYPE, true, json);
    }

    /// Appends one system event; whether it was written.
    fn append(&self, stream: Bytes, event_type: &str, is_json: bool, data: Bytes) -> bool {
        let write = StreamWrite {
            stream,
            expected: ExpectedRevision::Any,
            events: vec![ProposedEvent {
                id: Uuid::new_v4(),
                event_type: event_type.to_owned(),
                is_json,
                data,
                metadata: Bytes::new(),
            }],
        };
        match self.store.append(vec![write]) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(group = %self.subscription_id(), "system write failed: {e:?}");
                false
            }
        }
    }
}
