//! One consumer group: its read cursor, buffers, in-flight messages,
//! consumers and checkpoint, and the driver task that moves messages along.
//!
//! # How a message travels
//!
//! The driver reads a batch from the source (the stream, or `$all` through the
//! filter) into `buffer`, giving each event a sequence number and an entry in
//! the checkpoint `window`. It dispatches messages (retries first) to consumers
//! with free slots, by the group's strategy; each delivered message is
//! in flight with a deadline. An ack or a skip completes it; a retry (nack, or
//! the deadline passing, or its consumer leaving) puts it back in `retry` with
//! `retry_count + 1`, or parks it past `max_retry_count`. Completed entries at
//! the front of the window advance the *safe* checkpoint (every message up to
//! it is done); the driver writes it to the checkpoint stream by the
//! `min/max_checkpoint_count` and `checkpoint_after` rules.
//!
//! # Where the code is
//!
//! - here: the group's state and the operations the service calls (connect,
//!   ack, nack, replay, info, update, ...);
//! - `driver`: the task, reading the source, timeouts, and when to wake up;
//! - `consumers`: choosing a consumer, delivering, retrying and parking;
//! - `checkpoint`: loading the group from its checkpoint, the checkpoint
//!   window, and writing checkpoints.
//!
//! All state sits behind one `parking_lot::Mutex`, never held across an
//! `.await`; the store calls made under it are short and synchronous.

mod checkpoint;
mod consumers;
mod driver;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use uuid::Uuid;

use self::checkpoint::WindowEntry;
use self::consumers::{Consumer, InFlight};
use self::driver::Cursor;
use super::{ConsumerDetails, NackAction, PersistentError, Settings, Source, parked_stream};
use crate::index::META_PREFIX;
use crate::store::{
    Direction, ExpectedRevision, METADATA_EVENT_TYPE, NamedRecord, ProposedEvent, ResolvedRecord,
    Store, StreamWrite,
};

/// Parked messages read per store call by `ReplayParked`.
const REPLAY_PAGE: usize = 1024;

/// The most unacknowledged messages one consumer may hold, whatever buffer
/// size it asks for. KurrentDB takes any `int32` (its consumers' in-flight
/// limit); a consumer asking for 2^31-1 that never acks could make the group
/// read and track its whole source. Larger requests are clamped, not refused:
/// official clients send their buffer size as is.
pub const MAX_CONSUMER_BUFFER: usize = 10_000;

/// How many messages wait at most in a consumer's channel, on their way to
/// its gRPC response.
const CONSUMER_CHANNEL: usize = 256;

/// A message for a consumer.
#[derive(Debug, Clone)]
pub struct Message {
    /// The event (resolved, when the original record is a link and links are
    /// resolved). `None` when a link could not be resolved.
    pub event: Option<NamedRecord>,
    /// The link that led to the event, if any.
    pub link: Option<NamedRecord>,
    /// How many times the message was retried.
    pub retry_count: u32,
    /// The id consumers ack with: the link's id if any, else the event's.
    pub ack_id: Uuid,
    /// The sequence number in the checkpoint window (`None` for replayed
    /// parked messages, which are outside it).
    seq: Option<u64>,
}

impl Message {
    fn from_resolved(r: ResolvedRecord, seq: Option<u64>) -> Message {
        let ack_id = r.original().record.id;
        Message {
            event: r.event,
            link: r.link,
            retry_count: 0,
            ack_id,
            seq,
        }
    }

    /// The record that was read: the link if any, else the event.
    pub fn original(&self) -> &NamedRecord {
        self.link
            .as_ref()
            .or(self.event.as_ref())
            .expect("a message has an event or a link")
    }
}

/// What a consumer receives.
#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Box<Message>),
    /// The consumer was dropped by the server (update, delete, restart, nack
    /// with stop).
    Dropped,
}

/// Everything about a group that changes, behind the group's mutex.
#[derive(Debug)]
struct State {
    settings: Settings,
    /// Whether the checkpoint was read and the cursor placed (the driver loads
    /// the group on its first step and after a reset).
    loaded: bool,
    /// The group was deleted: the driver stops.
    shut_down: bool,
    /// Where the next read from the source starts.
    cursor: Cursor,
    /// Whether the last read reached the end of the source.
    caught_up: bool,
    /// Read and waiting for a consumer.
    buffer: VecDeque<Message>,
    /// Waiting to be delivered again (served before `buffer`).
    retry: VecDeque<Message>,
    /// Delivered and not yet acked, by ack id.
    in_flight: HashMap<Uuid, InFlight>,
    consumers: Vec<Consumer>,
    /// The next consumer to try under the round-robin strategy.
    rr: usize,
    /// The sequence number of the next message read.
    next_seq: u64,
    /// Messages read and not yet done, in order, for the safe checkpoint.
    window: VecDeque<WindowEntry>,
    /// The revision or position up to which every message is done.
    safe: Option<u64>,
    last_checkpointed: Option<u64>,
    processed_since_checkpoint: u64,
    last_checkpoint_at: Instant,
    /// The revision or position of the last event read from the source.
    last_known: Option<u64>,
    /// Messages delivered (retries included).
    total_items: u64,
    parked_count: u64,
    /// When the driver must look again although no wake-up will come (see
    /// `driver::RECHECK`); cleared at each step.
    recheck_at: Option<Instant>,
}

impl State {
    fn new(settings: Settings) -> State {
        State {
            settings,
            loaded: false,
            shut_down: false,
            cursor: Cursor::Stream(0),
            caught_up: false,
            buffer: VecDeque::new(),
            retry: VecDeque::new(),
            in_flight: HashMap::new(),
            consumers: Vec::new(),
            rr: 0,
            next_seq: 0,
            window: VecDeque::new(),
            safe: None,
            last_checkpointed: None,
            processed_since_checkpoint: 0,
            last_checkpoint_at: Instant::now(),
            last_known: None,
            total_items: 0,
            parked_count: 0,
            recheck_at: None,
        }
    }
}

/// Statistics of one consumer.
#[derive(Debug, Clone)]
pub struct ConsumerInfo {
    pub details: ConsumerDetails,
    /// Messages delivered to it.
    pub total_items: u64,
    /// Messages it may still receive before acking.
    pub available_slots: u64,
    /// Messages delivered to it and not yet acked.
    pub in_flight: u64,
}

/// A group's configuration and statistics.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// The stream, or `$all`.
    pub event_source: String,
    pub group_name: String,
    /// `Live` when the group has read its source to the end, else `Behind`.
    pub status: &'static str,
    pub settings: Settings,
    /// Messages delivered (retries included).
    pub total_items: u64,
    /// The last checkpoint written (`"5"`, or `"C:p/P:p"` for `$all`).
    pub last_checkpointed_event_position: Option<String>,
    /// The last event read from the source, in the same form.
    pub last_known_event_position: Option<String>,
    /// Messages read and waiting for a consumer.
    pub read_buffer_count: u64,
    /// Messages waiting to be retried.
    pub retry_buffer_count: u64,
    /// Messages delivered and not yet acked.
    pub total_in_flight_messages: u64,
    /// Messages in the parked stream not yet replayed.
    pub parked_message_count: u64,
    pub connections: Vec<ConsumerInfo>,
}

/// A consumer group.
#[derive(Debug)]
pub struct Group {
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
    pub fn subscription_id(&self) -> String {
        format!("{}::{}", self.stream_name, self.name)
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The stream part of the id (`$all` for `$all` groups).
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Wakes the driver up to look at the group again.
    pub(super) fn wake(&self) {
        self.notify.notify_one();
    }

    /// Adds a consumer that may hold `buffer_size` unacked messages.
    pub fn connect(
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
            stopping: false,
            details,
        });
        drop(st);
        self.wake();
        tracing::debug!(group = %self.subscription_id(), consumer = id, "consumer joined");
        Ok(rx)
    }

    /// Removes a consumer; its unacked messages are retried.
    pub fn disconnect(&self, id: u64) {
        let mut st = self.state.lock();
        self.remove_consumer(&mut st, id, false);
        drop(st);
        self.wake();
        tracing::debug!(group = %self.subscription_id(), consumer = id, "consumer left");
    }

    /// The consumer leaves the pool (no new messages) but may still ack.
    pub fn stop_consumer(&self, id: u64) {
        let mut st = self.state.lock();
        if let Some(c) = st.consumers.iter_mut().find(|c| c.id == id) {
            c.stopping = true;
        }
    }

    /// Acks messages by id. Unknown ids are ignored.
    pub fn ack(&self, ids: &[Uuid]) {
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
    pub fn nack(&self, consumer: u64, ids: &[Uuid], action: NackAction, reason: &str) {
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
    pub fn replay_parked(&self, stop_at: Option<u64>) {
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
            last = Some(r.original().record.revision);
            if r.event.is_some() {
                st.retry.push_back(Message::from_resolved(r, None));
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

    /// The group's configuration and statistics.
    pub fn info(&self) -> GroupInfo {
        let st = self.state.lock();
        let format = |v: u64| self.format_position(v);
        GroupInfo {
            event_source: self.stream_name.clone(),
            group_name: self.name.clone(),
            status: if st.loaded && st.caught_up {
                "Live"
            } else {
                "Behind"
            },
            settings: st.settings.clone(),
            total_items: st.total_items,
            last_checkpointed_event_position: st.last_checkpointed.map(format),
            last_known_event_position: st.last_known.map(format),
            read_buffer_count: st.buffer.len() as u64,
            retry_buffer_count: st.retry.len() as u64,
            total_in_flight_messages: st.in_flight.len() as u64,
            parked_message_count: st.parked_count,
            connections: st
                .consumers
                .iter()
                .map(|c| ConsumerInfo {
                    details: c.details.clone(),
                    total_items: c.total_items,
                    available_slots: c.free() as u64,
                    in_flight: c.in_flight as u64,
                })
                .collect(),
        }
    }

    /// `"5"` for a stream group, `"C:5/P:5"` for a `$all` group.
    pub fn format_position(&self, value: u64) -> String {
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
