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
//! All state sits behind one `parking_lot::Mutex`, never held across an
//! `.await`; the store calls made under it are short and synchronous.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    CHECKPOINT_EVENT_TYPE, ConsumerDetails, ConsumerStrategy, LEGACY_CHECKPOINT_EVENT_TYPE,
    NackAction, PersistentError, Settings, Source, StartFrom, checkpoint_stream, parked_stream,
};
use crate::log::LINK_EVENT_TYPE;
use crate::store::{
    CurrentRevision, Direction, ExpectedRevision, LogStart, METADATA_EVENT_TYPE, NamedRecord,
    ProposedEvent, ResolvedRecord, Store, StreamWrite,
};

/// How often the driver looks at timeouts and checkpoints when nothing wakes
/// it.
const TICK: Duration = Duration::from_millis(20);
/// Records looked at per `$all` read.
const SCAN: usize = 4096;
/// The prefix of the system streams of persistent subscriptions; a `$all`
/// group does not deliver its own (or other groups') checkpoints and parked
/// links.
const SYSTEM_PREFIX: &[u8] = b"$persistentsubscription-";

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
    /// A message.
    Event(Box<Message>),
    /// The consumer was dropped by the server (update, delete, restart, nack
    /// with stop).
    Dropped,
}

#[derive(Debug)]
struct Consumer {
    id: u64,
    tx: mpsc::Sender<Delivery>,
    slots: usize,
    in_flight: usize,
    total_items: u64,
    stopping: bool,
    details: ConsumerDetails,
}

impl Consumer {
    fn free(&self) -> usize {
        if self.stopping {
            0
        } else {
            self.slots.saturating_sub(self.in_flight)
        }
    }
}

#[derive(Debug)]
struct InFlight {
    msg: Message,
    consumer: u64,
    deadline: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
enum Cursor {
    Stream(u64),
    All { index: usize, min_position: u64 },
}

#[derive(Debug)]
struct WindowEntry {
    seq: u64,
    value: u64,
    done: bool,
}

#[derive(Debug)]
struct State {
    settings: Settings,
    loaded: bool,
    shut_down: bool,
    cursor: Cursor,
    caught_up: bool,
    buffer: VecDeque<Message>,
    retry: VecDeque<Message>,
    in_flight: HashMap<Uuid, InFlight>,
    consumers: Vec<Consumer>,
    rr: usize,
    next_seq: u64,
    window: VecDeque<WindowEntry>,
    safe: Option<u64>,
    last_checkpointed: Option<u64>,
    processed_since_checkpoint: u64,
    last_checkpoint_at: Instant,
    last_known: Option<u64>,
    total_items: u64,
    parked_count: u64,
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
        }
    }
}

/// Statistics of one consumer.
#[derive(Debug, Clone)]
pub struct ConsumerInfo {
    /// Who it is.
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
    /// The group's name.
    pub group_name: String,
    /// `Live` when the group has read its source to the end, else `Behind`.
    pub status: &'static str,
    /// The settings.
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
    /// The consumers.
    pub connections: Vec<ConsumerInfo>,
}

/// A consumer group.
#[derive(Debug)]
pub struct Group {
    store: Arc<Store>,
    source: Source,
    name: String,
    stream_name: String,
    state: Mutex<State>,
    notify: Notify,
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
        })
    }

    /// Starts the task that reads, dispatches, times out and checkpoints. It
    /// ends when the group is deleted or the subsystem is dropped.
    pub(super) fn spawn_driver(group: &Arc<Group>, alive: Arc<AtomicBool>) {
        let group = group.clone();
        let mut head = group.store.watch_head();
        tokio::spawn(async move {
            loop {
                if !alive.load(Ordering::Acquire) || group.state.lock().shut_down {
                    break;
                }
                group.step();
                tokio::select! {
                    _ = group.notify.notified() => {}
                    changed = head.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                    _ = tokio::time::sleep(TICK) => {}
                }
            }
        });
    }

    /// The subscription id: `<stream>::<group>`.
    pub fn subscription_id(&self) -> String {
        format!("{}::{}", self.stream_name, self.name)
    }

    /// The source.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The stream part of the id (`$all` for `$all` groups).
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
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
        let slots = buffer_size.max(1);
        let (tx, rx) = mpsc::channel(slots + 8);
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
        self.notify.notify_one();
        Ok(rx)
    }

    /// Removes a consumer; its unacked messages are retried.
    pub fn disconnect(&self, id: u64) {
        let mut st = self.state.lock();
        self.remove_consumer(&mut st, id, false);
        drop(st);
        self.notify.notify_one();
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
        self.notify.notify_one();
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
        self.notify.notify_one();
    }

    /// Delivers the parked messages again (those before revision `stop_at` of
    /// the parked stream, or all), then truncates the parked stream past them.
    pub fn replay_parked(&self, stop_at: Option<u64>) {
        let parked = Bytes::from(parked_stream(&self.stream_name, &self.name));
        let Ok(batch) =
            self.store
                .read_stream(&parked, None, Direction::Forwards, usize::MAX, true)
        else {
            return;
        };
        let mut st = self.state.lock();
        let mut last = None;
        let mut replayed = 0;
        for r in batch.events {
            let revision = r.original().record.revision;
            if stop_at.is_some_and(|s| revision >= s) {
                break;
            }
            last = Some(revision);
            if r.event.is_some() {
                st.retry.push_back(Message::from_resolved(r, None));
                replayed += 1;
            }
        }
        if let Some(last) = last {
            let meta = serde_json::json!({ "$tb": last + 1 }).to_string();
            self.append(
                format!("$${}", parked_stream(&self.stream_name, &self.name)),
                METADATA_EVENT_TYPE,
                true,
                Bytes::from(meta),
            );
        }
        st.parked_count = st.parked_count.saturating_sub(replayed);
        drop(st);
        self.notify.notify_one();
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
        self.reset(&mut st);
        drop(st);
        self.notify.notify_one();
    }

    /// Drops the consumers and reloads from the checkpoint.
    pub(super) fn restart(&self) {
        let mut st = self.state.lock();
        self.reset(&mut st);
        drop(st);
        self.notify.notify_one();
    }

    /// Stops the group for good (deleted).
    pub(super) fn shut_down(&self) {
        let mut st = self.state.lock();
        self.reset(&mut st);
        st.shut_down = true;
        drop(st);
        self.notify.notify_one();
    }

    fn reset(&self, st: &mut State) {
        for c in st.consumers.drain(..) {
            let _ = c.tx.try_send(Delivery::Dropped);
        }
        let settings = st.settings.clone();
        *st = State::new(settings);
    }

    // ---- the driver's work ------------------------------------------------

    /// One round: load if needed, time out, read and dispatch, checkpoint.
    fn step(&self) {
        let mut st = self.state.lock();
        if st.shut_down {
            return;
        }
        if !st.loaded {
            self.load(&mut st);
        }
        self.expire(&mut st);
        for _ in 0..64 {
            self.fill(&mut st);
            if self.dispatch(&mut st) == 0 {
                break;
            }
        }
        self.maybe_checkpoint(&mut st);
    }

    /// Reads the checkpoint and the parked count, and places the cursor.
    fn load(&self, st: &mut State) {
        let checkpoint = self.read_checkpoint();
        let start = st.settings.start_from;
        st.cursor = match &self.source {
            Source::Stream(stream) => Cursor::Stream(match (checkpoint, start) {
                (Some(r), _) => r + 1,
                (None, StartFrom::Start) => 0,
                (None, StartFrom::At(r)) => r,
                (None, StartFrom::End) => match self.store.stream_state(stream).0 {
                    CurrentRevision::Revision(r) => r + 1,
                    CurrentRevision::NoStream => 0,
                },
            }),
            Source::All { .. } => {
                let from = match (checkpoint, start) {
                    (Some(p), _) => LogStart::After(p),
                    (None, StartFrom::At(p)) => LogStart::At(p),
                    (None, StartFrom::Start) => LogStart::Start,
                    (None, StartFrom::End) => LogStart::End,
                };
                match self.store.all_cursor(from) {
                    Ok(index) => Cursor::All {
                        index,
                        min_position: 0,
                    },
                    // Not a record's position: start at the first record after it.
                    Err(_) => Cursor::All {
                        index: 0,
                        min_position: match from {
                            LogStart::At(p) => p,
                            LogStart::After(p) => p.saturating_add(1),
                            LogStart::Start | LogStart::End => 0,
                        },
                    },
                }
            }
        };
        st.safe = checkpoint;
        st.last_checkpointed = checkpoint;
        st.last_known = checkpoint;
        st.parked_count = self.parked_count();
        st.last_checkpoint_at = Instant::now();
        st.loaded = true;
    }

    fn read_checkpoint(&self) -> Option<u64> {
        let stream = Bytes::from(checkpoint_stream(&self.stream_name, &self.name));
        let batch = self
            .store
            .read_stream(&stream, None, Direction::Backwards, 1, false)
            .ok()?;
        let record = &batch.events.first()?.event.as_ref()?.record;
        if !matches!(
            &*record.event_type,
            CHECKPOINT_EVENT_TYPE | LEGACY_CHECKPOINT_EVENT_TYPE
        ) {
            return None;
        }
        let text: String = serde_json::from_slice(&record.data()).ok()?;
        parse_checkpoint(&text)
    }

    fn parked_count(&self) -> u64 {
        let stream = Bytes::from(parked_stream(&self.stream_name, &self.name));
        match self
            .store
            .read_stream(&stream, None, Direction::Backwards, 1, false)
        {
            Ok(batch) => batch
                .last_revision
                .map_or(0, |last| (last + 1).saturating_sub(batch.first_revision)),
            Err(_) => 0,
        }
    }

    /// Reads the next batch from the source when the buffer runs low.
    fn fill(&self, st: &mut State) {
        let batch = st.settings.read_batch_size.max(1) as usize;
        if st.buffer.len() >= batch {
            return;
        }
        let resolve = st.settings.resolve_links;
        let records: Vec<(ResolvedRecord, u64)> = match (&self.source, st.cursor) {
            (Source::Stream(stream), Cursor::Stream(next)) => {
                match self.store.read_stream(
                    stream,
                    Some(next),
                    Direction::Forwards,
                    batch,
                    resolve,
                ) {
                    Ok(b) => {
                        st.caught_up = b.events.len() < batch;
                        st.cursor = Cursor::Stream(b.next.unwrap_or(next));
                        b.events
                            .into_iter()
                            .map(|e| {
                                let v = e.original().record.revision;
                                (e, v)
                            })
                            .collect()
                    }
                    Err(_) => {
                        st.caught_up = true;
                        Vec::new()
                    }
                }
            }
            (
                Source::All { filter },
                Cursor::All {
                    index,
                    min_position,
                },
            ) => {
                let b = self.store.read_all(
                    index,
                    Direction::Forwards,
                    batch,
                    SCAN,
                    filter.as_ref(),
                    resolve,
                );
                st.caught_up = b.at_end;
                st.cursor = Cursor::All {
                    index: b.next,
                    min_position,
                };
                b.events
                    .into_iter()
                    .filter(|e| {
                        let o = e.original();
                        o.record.position >= min_position && !o.stream.starts_with(SYSTEM_PREFIX)
                    })
                    .map(|e| {
                        let v = e.original().record.position;
                        (e, v)
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        for (record, value) in records {
            let seq = st.next_seq;
            st.next_seq += 1;
            st.window.push_back(WindowEntry {
                seq,
                value,
                done: false,
            });
            st.last_known = Some(value);
            st.buffer
                .push_back(Message::from_resolved(record, Some(seq)));
        }
    }

    /// Sends waiting messages (retries first) to consumers with free slots.
    /// Returns how many were sent.
    fn dispatch(&self, st: &mut State) -> usize {
        let mut sent = 0;
        loop {
            let from_retry = !st.retry.is_empty();
            let Some(msg) = (if from_retry {
                st.retry.front()
            } else {
                st.buffer.front()
            }) else {
                break;
            };
            let pin_key = msg.event.as_ref().unwrap_or(msg.original()).stream.clone();
            let Some(target) = choose(st, &pin_key) else {
                break;
            };
            let timeout = st.settings.message_timeout;
            let msg = if from_retry {
                st.retry.pop_front()
            } else {
                st.buffer.pop_front()
            }
            .expect("front exists");
            let consumer = &mut st.consumers[target];
            match consumer.tx.try_send(Delivery::Event(Box::new(msg.clone()))) {
                Ok(()) => {
                    consumer.in_flight += 1;
                    consumer.total_items += 1;
                    let consumer_id = consumer.id;
                    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
                    st.total_items += 1;
                    st.in_flight.insert(
                        msg.ack_id,
                        InFlight {
                            msg,
                            consumer: consumer_id,
                            deadline,
                        },
                    );
                    sent += 1;
                }
                Err(e) => {
                    let full = matches!(e, mpsc::error::TrySendError::Full(_));
                    let id = consumer.id;
                    if from_retry {
                        st.retry.push_front(msg);
                    } else {
                        st.buffer.push_front(msg);
                    }
                    if full {
                        break;
                    }
                    self.remove_consumer(st, id, false);
                }
            }
        }
        sent
    }

    fn expire(&self, st: &mut State) {
        let now = Instant::now();
        let expired: Vec<Uuid> = st
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(m) = Self::take_in_flight(st, &id) {
                self.retry_or_park(st, m);
            }
        }
    }

    fn maybe_checkpoint(&self, st: &mut State) {
        let Some(safe) = st.safe else {
            return;
        };
        if st.last_checkpointed == Some(safe) || st.processed_since_checkpoint == 0 {
            return;
        }
        let s = &st.settings;
        let due = st.processed_since_checkpoint >= u64::from(s.max_checkpoint_count.max(1))
            || (st.processed_since_checkpoint >= u64::from(s.min_checkpoint_count)
                && st.last_checkpoint_at.elapsed() >= s.checkpoint_after);
        if !due {
            return;
        }
        let stream = checkpoint_stream(&self.stream_name, &self.name);
        if self.store.stream_state(stream.as_bytes()).0 == CurrentRevision::NoStream {
            // First checkpoint: keep only the last two, as the real server does.
            self.append(
                format!("$${stream}"),
                METADATA_EVENT_TYPE,
                true,
                Bytes::from_static(br#"{"$maxCount":2}"#),
            );
        }
        let data = serde_json::Value::String(self.format_position(safe)).to_string();
        if self.append(stream, CHECKPOINT_EVENT_TYPE, true, Bytes::from(data)) {
            st.last_checkpointed = Some(safe);
            st.processed_since_checkpoint = 0;
            st.last_checkpoint_at = Instant::now();
        }
    }

    // ---- helpers ------------------------------------------------------------

    fn take_in_flight(st: &mut State, id: &Uuid) -> Option<Message> {
        let f = st.in_flight.remove(id)?;
        if let Some(c) = st.consumers.iter_mut().find(|c| c.id == f.consumer) {
            c.in_flight = c.in_flight.saturating_sub(1);
        }
        Some(f.msg)
    }

    /// Marks a message done: the checkpoint may advance past it.
    fn complete(st: &mut State, msg: &Message) {
        let Some(seq) = msg.seq else {
            return;
        };
        let Some(front) = st.window.front().map(|e| e.seq) else {
            return;
        };
        if seq < front {
            return;
        }
        if let Some(entry) = st.window.get_mut((seq - front) as usize) {
            if entry.done {
                return;
            }
            entry.done = true;
            st.processed_since_checkpoint += 1;
        }
        while st.window.front().is_some_and(|e| e.done) {
            let e = st.window.pop_front().expect("front exists");
            st.safe = Some(e.value);
        }
    }

    fn retry_or_park(&self, st: &mut State, mut msg: Message) {
        if msg.retry_count < st.settings.max_retry_count {
            msg.retry_count += 1;
            st.retry.push_back(msg);
        } else {
            self.park(st, msg, "Max retry count reached");
        }
    }

    /// Writes a link to the message's event to the parked stream.
    fn park(&self, st: &mut State, msg: Message, reason: &str) {
        // A replayed message's original record is the parked link itself: park
        // the event it points to instead.
        let target = if msg.seq.is_none() {
            msg.event.as_ref().unwrap_or(msg.original())
        } else {
            msg.original()
        };
        let data = format!(
            "{}@{}",
            target.record.revision,
            String::from_utf8_lossy(&target.stream)
        );
        tracing::debug!(group = %self.subscription_id(), %reason, "parking {data}");
        let stream = parked_stream(&self.stream_name, &self.name);
        if self.append(stream, LINK_EVENT_TYPE, false, Bytes::from(data)) {
            st.parked_count += 1;
        }
        Self::complete(st, &msg);
    }

    fn remove_consumer(&self, st: &mut State, id: u64, notify_dropped: bool) {
        let Some(i) = st.consumers.iter().position(|c| c.id == id) else {
            return;
        };
        let c = st.consumers.remove(i);
        if notify_dropped {
            let _ = c.tx.try_send(Delivery::Dropped);
        }
        let ids: Vec<Uuid> = st
            .in_flight
            .iter()
            .filter(|(_, f)| f.consumer == id)
            .map(|(k, _)| *k)
            .collect();
        for k in ids {
            if let Some(m) = Self::take_in_flight(st, &k) {
                self.retry_or_park(st, m);
            }
        }
    }

    /// Appends one system event; whether it was written.
    fn append(&self, stream: String, event_type: &str, is_json: bool, data: Bytes) -> bool {
        let write = StreamWrite {
            stream: Bytes::from(stream),
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

/// Picks the consumer for `msg` by the group's strategy.
fn choose(st: &mut State, pin_key: &Bytes) -> Option<usize> {
    let n = st.consumers.len();
    if n == 0 {
        return None;
    }
    match st.settings.consumer_strategy {
        ConsumerStrategy::DispatchToSingle => st.consumers.iter().position(|c| c.free() > 0),
        ConsumerStrategy::RoundRobin => {
            let start = st.rr % n;
            let found = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| st.consumers[i].free() > 0)?;
            st.rr = found + 1;
            Some(found)
        }
        ConsumerStrategy::Pinned | ConsumerStrategy::PinnedByCorrelation => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            pin_key.hash(&mut h);
            let i = (h.finish() % n as u64) as usize;
            (st.consumers[i].free() > 0).then_some(i)
        }
    }
}

/// Parses a checkpoint: `"5"` or `"C:5/P:5"`.
fn parse_checkpoint(text: &str) -> Option<u64> {
    if let Some(rest) = text.strip_prefix("C:") {
        let commit = rest.split('/').next()?;
        return commit.parse().ok();
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_checkpoint;

    #[test]
    fn checkpoints_parse_in_both_forms() {
        assert_eq!(parse_checkpoint("5"), Some(5));
        assert_eq!(parse_checkpoint("C:4096/P:4096"), Some(4096));
        assert_eq!(parse_checkpoint("x"), None);
    }
}
