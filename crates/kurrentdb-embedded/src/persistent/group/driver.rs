//! The driver: the task that moves a group's messages along. Each step loads
//! the group if needed, retries timed-out messages, reads from the source and
//! dispatches, and writes a due checkpoint.
//!
//! # Sleeping
//!
//! Between steps the driver sleeps until whichever comes first:
//! - a wake-up: new events in the store (its `watch` of the log length), or
//!   the group's `Notify` (a consumer joined or left, an ack or nack, a replay,
//!   an update, restart or delete, the subsystem dropped);
//! - its next deadline: the earliest message timeout, the time the pending
//!   checkpoint becomes due, or a recheck (see [`RECHECK`]).
//!
//! An idle group (nothing in flight, no checkpoint pending) has no deadline
//! and does not wake up at all. No wake-up is lost: `Notify` keeps a permit
//! when nobody waits, and the `watch` remembers which length was seen, so a
//! change that lands while a step runs wakes the next wait at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::Group;
use super::message::Message;
use super::state::{Cursor, State};
use crate::persistent::types::{Source, StartFrom};
use crate::store::{Direction, LogStart, ResolvedRecord};

/// How soon the driver looks again when work waits that no wake-up announces:
/// a consumer's channel was full (it has not read what it was sent), a step
/// stopped after [`MAX_ROUNDS`], or a checkpoint write failed.
pub(super) const RECHECK: Duration = Duration::from_millis(20);
/// Read-and-dispatch rounds per step, so that one busy group cannot hold its
/// mutex for long.
const MAX_ROUNDS: usize = 64;
/// How long one step may go on reading and dispatching before it lets go of
/// the group's mutex (and its thread) and looks again at once. A filtered
/// `$all` read is bounded by the store (`store/read.rs`), but a step reads
/// many times.
const STEP_BUDGET: Duration = Duration::from_millis(2);
/// Records looked at per `$all` read.
const SCAN: usize = 4096;
/// The prefix of the system streams of persistent subscriptions; a `$all`
/// group does not deliver its own (or other groups') checkpoints and parked
/// links.
const SYSTEM_PREFIX: &[u8] = b"$persistentsubscription-";

impl Group {
    /// Starts the task that reads, dispatches, times out and checkpoints. It
    /// ends when the group is deleted or the subsystem is dropped (`alive`
    /// false, announced by [`Group::wake`]).
    pub(in crate::persistent) fn spawn_driver(group: &Arc<Group>, alive: Arc<AtomicBool>) {
        let group = group.clone();
        let mut head = group.store.watch_head();
        tokio::spawn(async move {
            loop {
                if !alive.load(Ordering::Acquire) || group.state.lock().shut_down {
                    break;
                }
                // A filtered `$all` group matches the client's filter: its
                // steps run off the async workers, like filtered reads.
                let deadline = if group.source.is_filtered() {
                    let g = group.clone();
                    group.store.off_workers(move |_| g.step()).await
                } else {
                    group.step()
                };
                let sleep = async {
                    match deadline {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = group.notify.notified() => {}
                    changed = head.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                    _ = sleep => {}
                }
            }
        });
    }

    /// One step: load if needed, time out, take live events, read history
    /// and dispatch, checkpoint. Returns when the driver must look again if
    /// nothing wakes it.
    fn step(&self) -> Option<Instant> {
        #[cfg(test)]
        self.steps.fetch_add(1, Ordering::Relaxed);
        let mut st = self.state.lock();
        if st.shut_down {
            return None;
        }
        if !st.loaded {
            self.load(&mut st);
        }
        st.recheck_at = None;
        self.expire(&mut st);
        let started = Instant::now();
        let mut rounds = 0;
        loop {
            let more_live = self.pull_live(&mut st);
            let read = self.fill(&mut st);
            let sent = self.dispatch(&mut st);
            if !more_live && !read && sent == 0 {
                break;
            }
            rounds += 1;
            if rounds == MAX_ROUNDS {
                st.recheck_at = Instant::now().checked_add(RECHECK);
                break;
            }
            if started.elapsed() >= STEP_BUDGET {
                st.recheck_at = Some(Instant::now());
                break;
            }
        }
        self.maybe_checkpoint(&mut st);
        st.next_deadline()
    }

    /// Takes one page of the events written to the source since the last look
    /// into the live queue (and, while live, the read buffer). Returns whether
    /// more are waiting.
    fn pull_live(&self, st: &mut State) -> bool {
        let (records, next, at_end) = self.read_source(st, st.live_cursor, LIVE_PAGE);
        st.live_cursor = next;
        let start = st.settings.start_from;
        for (record, value) in records {
            // `NotifyLiveSubscriptionMessage`: events before the group's start
            // are not its.
            if let StartFrom::At(from) = start
                && value < from
            {
                continue;
            }
            st.last_known = st.last_known.max(Some(value));
            if st
                .buffers
                .add_live(Message::from_resolved(record, value, false))
            {
                // Back to history, reading from this event on.
                st.cursor = match &self.source {
                    Source::Stream(_) => Cursor::Stream(value),
                    Source::All { .. } => {
                        Cursor::All(self.store.all_cursor_nearest(LogStart::At(value)))
                    }
                };
                st.history_at_end = false;
            }
        }
        !at_end
    }

    /// Reads the next batch of history while the group catches up and its
    /// buffers can take it (`TryReadingNewBatch`, `HandleReadCompleted`).
    /// Returns whether it read something and more may follow.
    fn fill(&self, st: &mut State) -> bool {
        let batch = st.read_batch();
        if st.buffers.live || !st.buffers.can_accept(batch) {
            return false;
        }
        let (records, next, at_end) = self.read_source(st, st.cursor, batch);
        st.cursor = next;
        st.history_at_end = at_end;
        let read = !records.is_empty();
        for (record, value) in records {
            st.last_known = st.last_known.max(Some(value));
            st.buffers
                .add_read(Message::from_resolved(record, value, false));
            if st.buffers.live {
                break;
            }
        }
        if at_end {
            st.buffers.reached_end();
        }
        read && !at_end
    }

    /// Reads up to `max` events of the source from `cursor`: the events with
    /// their revisions (stream groups) or positions (`$all` groups), where to
    /// continue, and whether the end was reached.
    fn read_source(
        &self,
        st: &State,
        cursor: Cursor,
        max: usize,
    ) -> (Vec<(ResolvedRecord, u64)>, Cursor, bool) {
        let resolve = st.settings.resolve_links;
        match (&self.source, cursor) {
            (Source::Stream(stream), Cursor::Stream(next)) => {
                match self
                    .store
                    .read_stream(stream, Some(next), Direction::Forwards, max, resolve)
                {
                    Ok(b) => {
                        let at_end = b.events.len() < max;
                        let events = b
                            .events
                            .into_iter()
                            .map(|e| {
                                let v = e.original().record.revision;
                                (e, v)
                            })
                            .collect();
                        (events, Cursor::Stream(b.next.unwrap_or(next)), at_end)
                    }
                    Err(_) => (Vec::new(), cursor, true),
                }
            }
            (Source::All { filter }, Cursor::All(index)) => {
                let b = self.store.read_all(
                    index,
                    Direction::Forwards,
                    max,
                    SCAN,
                    filter.as_ref(),
                    resolve,
                );
                let events = b
                    .events
                    .into_iter()
                    .filter(|e| !e.original().stream.starts_with(SYSTEM_PREFIX))
                    .map(|e| {
                        let v = e.original().record.position;
                        (e, v)
                    })
                    .collect();
                (events, Cursor::All(b.next), b.at_end)
            }
            _ => (Vec::new(), cursor, true),
        }
    }
}

/// The most events a group reads from its source at a time, whatever its
/// `read_batch_size` (a client's `u32`): one read is done under the store's
/// lock.
const MAX_READ_BATCH: usize = 4096;
/// The most live events taken per look (one store read).
const LIVE_PAGE: usize = 1024;

impl State {
    /// How many events the group reads at a time.
    fn read_batch(&self) -> usize {
        (self.settings.read_batch_size as usize).clamp(1, MAX_READ_BATCH)
    }

    /// The earliest of: a message timeout, the time the pending checkpoint
    /// becomes due (if it is not due already: a due one was just written, or
    /// its write failed and `recheck_at` is set), and `recheck_at`.
    fn next_deadline(&self) -> Option<Instant> {
        // What is due at some instant is seen at the first tick after it.
        let now = Instant::now();
        let timeout = self
            .in_flight
            .values()
            .filter_map(|f| f.deadline)
            .min()
            .map(|at| self.tick_at_or_after(at));
        let checkpoint = self
            .checkpoint_due_at()
            .map(|at| self.tick_at_or_after(at))
            .filter(|&at| at > now);
        [timeout, checkpoint, self.recheck_at]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use bytes::Bytes;
    use tokio::sync::mpsc;
    use tokio::time::{Instant, sleep, sleep_until};
    use uuid::Uuid;

    use super::super::state::TICK;
    use super::super::{Delivery, Group, Message};
    use crate::persistent::Subsystem;
    use crate::persistent::types::{ConsumerDetails, Settings, Source, checkpoint_stream};
    use crate::store::{
        CurrentRevision, ExpectedRevision, ProposedEvent, Store, StoreOptions, StreamWrite,
    };

    const STREAM: &str = "orders";

    fn start(settings: Settings) -> (Arc<Store>, Subsystem, Arc<Group>) {
        let store = Arc::new(Store::new(StoreOptions::default()));
        let subsystem = Subsystem::new(store.clone());
        subsystem
            .create(Source::Stream(Bytes::from(STREAM)), "g", settings)
            .unwrap();
        let group = subsystem.get(STREAM, "g").unwrap();
        (store, subsystem, group)
    }

    fn append_event(store: &Store) {
        let event = ProposedEvent {
            id: Uuid::new_v4(),
            event_type: "OrderPlaced".to_owned(),
            is_json: true,
            data: Bytes::from_static(b"{}"),
            metadata: Bytes::new(),
        };
        store
            .append(vec![StreamWrite {
                stream: Bytes::from(STREAM),
                expected: ExpectedRevision::Any,
                events: vec![event],
            }])
            .unwrap();
    }

    async fn next_message(rx: &mut mpsc::Receiver<Delivery>) -> Message {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(Delivery::Event(m))) => *m,
            other => panic!("expected a message in time, got {other:?}"),
        }
    }

    /// Steps the driver takes over `period` (after letting it settle). Used
    /// on a paused clock: tokio moves time only when every task waits, so
    /// the settling ends once the driver has done all it had to do, however
    /// busy the machine, and a driver that woke on a timer would still show
    /// its wake-ups in `period`.
    async fn steps_over(group: &Group, period: Duration) -> usize {
        sleep(Duration::from_millis(100)).await;
        let before = group.steps.load(Ordering::Relaxed);
        sleep(period).await;
        group.steps.load(Ordering::Relaxed) - before
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_group_does_not_wake_up() {
        let (store, _subsystem, group) = start(Settings::default());
        // No events, no consumers: the driver loads the group and sleeps (it
        // used to wake every 20 ms, 50 times a second).
        assert_eq!(steps_over(&group, Duration::from_secs(1)).await, 0);
        // A consumer joins: one step, then nothing while no event comes.
        let mut rx = group.connect(1, 10, ConsumerDetails::default()).unwrap();
        assert_eq!(steps_over(&group, Duration::from_secs(1)).await, 0);
        // A new event wakes the driver, which delivers it.
        append_event(&store);
        let message = next_message(&mut rx).await;
        assert_eq!(message.retry_count, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_driver_stops_when_its_subsystem_is_dropped() {
        let (_store, subsystem, group) = start(Settings::default());
        sleep(Duration::from_millis(100)).await;
        // The subsystem's table, the driver and this test hold the group.
        assert_eq!(Arc::strong_count(&group), 3);
        drop(subsystem);
        let dropped = Instant::now();
        while Arc::strong_count(&group) > 1 {
            assert!(
                dropped.elapsed() < Duration::from_secs(5),
                "the idle driver never noticed"
            );
            sleep(Duration::from_millis(5)).await;
        }
    }

    /// Time is paused in the tests of the clock (`start_paused`): tokio
    /// moves it to the next timer when every task waits, so the ticks come
    /// in order and at once, and what is asserted is which tick, not how
    /// long a busy machine took.
    #[tokio::test(start_paused = true)]
    async fn a_message_times_out_at_the_first_tick_after_its_timeout() {
        let timeout = Duration::from_millis(300);
        let (store, _subsystem, group) = start(Settings {
            message_timeout: timeout,
            ..Settings::default()
        });
        let origin = group.state.lock().tick_origin;
        let mut rx = group.connect(1, 10, ConsumerDetails::default()).unwrap();
        append_event(&store);
        let first = next_message(&mut rx).await;
        let delivered = Instant::now();
        assert_eq!(first.retry_count, 0);
        // Not acked: delivered again at the first tick after the timeout,
        // with nothing else to wake the driver.
        let again = next_message(&mut rx).await;
        assert_eq!((again.ack_id, again.retry_count), (first.ack_id, 1));
        let at = Instant::now();
        assert!(at >= delivered + timeout, "retried before its timeout");
        assert_eq!((at - origin).subsec_millis(), 0, "retried between ticks");
    }

    #[tokio::test(start_paused = true)]
    async fn an_ack_before_the_tick_is_in_time_although_the_timeout_passed() {
        let (store, _subsystem, group) = start(Settings {
            message_timeout: Duration::from_millis(100),
            ..Settings::default()
        });
        let origin = group.state.lock().tick_origin;
        let mut rx = group.connect(1, 10, ConsumerDetails::default()).unwrap();
        append_event(&store);
        let first = next_message(&mut rx).await;
        // Past the timeout, before the next tick (KurrentDB looks once a
        // second): the ack settles it, nothing is retried.
        let before_tick = group
            .state
            .lock()
            .tick_at_or_after(Instant::now() + Duration::from_millis(100));
        sleep_until(before_tick - Duration::from_millis(50)).await;
        assert!(Instant::now() - origin < Duration::from_secs(2));
        group.ack(&[first.ack_id]);
        sleep(Duration::from_secs(3)).await;
        assert!(rx.try_recv().is_err(), "nothing comes back");
        assert!(group.state.lock().in_flight.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_timeout_of_zero_retries_at_the_next_tick() {
        let (store, _subsystem, group) = start(Settings {
            message_timeout: Duration::ZERO,
            ..Settings::default()
        });
        let mut rx = group.connect(1, 10, ConsumerDetails::default()).unwrap();
        append_event(&store);
        let first = next_message(&mut rx).await;
        let delivered = Instant::now();
        let again = next_message(&mut rx).await;
        assert_eq!((again.ack_id, again.retry_count), (first.ack_id, 1));
        assert!(Instant::now() - delivered <= TICK, "retried within a tick");
    }

    #[tokio::test(start_paused = true)]
    async fn a_checkpoint_is_written_at_the_first_tick_after_checkpoint_after() {
        let checkpoint_after = Duration::from_millis(1500);
        let (store, _subsystem, group) = start(Settings {
            checkpoint_after,
            min_checkpoint_count: 1,
            ..Settings::default()
        });
        let origin = group.state.lock().tick_origin;
        let mut rx = group.connect(1, 10, ConsumerDetails::default()).unwrap();
        append_event(&store);
        let message = next_message(&mut rx).await;
        group.ack(&[message.ack_id]);
        // One message done, fewer than `max_checkpoint_count`: only the time
        // rule writes it, at the tick after `checkpoint_after` from the load.
        let stream = checkpoint_stream(STREAM, "g");
        let written = || store.stream_state(stream.as_bytes()).0 != CurrentRevision::NoStream;
        while !written() {
            assert!(
                Instant::now() - origin < Duration::from_secs(10),
                "never written"
            );
            sleep(Duration::from_millis(10)).await;
        }
        let at = Instant::now() - origin;
        assert!(at >= checkpoint_after, "written after {at:?}");
        assert!(
            at <= Duration::from_secs(2) + Duration::from_millis(10),
            "written after {at:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_checkpoint_after_of_zero_never_checkpoints_by_time() {
        let (store, _subsystem, group) = start(Settings {
            checkpoint_after: Duration::ZERO,
            min_checkpoint_count: 1,
            max_checkpoint_count: 10,
            ..Settings::default()
        });
        let mut rx = group.connect(1, 10, ConsumerDetails::default()).unwrap();
        append_event(&store);
        let message = next_message(&mut rx).await;
        group.ack(&[message.ack_id]);
        let stream = checkpoint_stream(STREAM, "g");
        let written = || store.stream_state(stream.as_bytes()).0 != CurrentRevision::NoStream;
        sleep(Duration::from_secs(30)).await;
        assert!(!written(), "a checkpoint by time");
        // The count rule still writes one.
        for _ in 0..10 {
            append_event(&store);
            let m = next_message(&mut rx).await;
            group.ack(&[m.ack_id]);
        }
        while !written() {
            sleep(Duration::from_millis(10)).await;
        }
    }

    /// Under the pinned strategy, a consumer with no free slot does not
    /// hold up the others: the messages pinned to it wait (in the retry
    /// buffer), the rest go on to their consumers.
    #[tokio::test(start_paused = true)]
    async fn a_busy_pinned_consumer_does_not_hold_up_the_others() {
        use std::hash::{Hash, Hasher};
        let store = Arc::new(Store::new(StoreOptions::default()));
        let subsystem = Subsystem::new(store.clone());
        let settings = Settings {
            consumer_strategy: crate::persistent::types::ConsumerStrategy::Pinned,
            ..Settings::default()
        };
        subsystem
            .create(Source::All { filter: None }, "g", settings)
            .unwrap();
        let group = subsystem.get("$all", "g").unwrap();
        let mut busy = group.connect(1, 1, ConsumerDetails::default()).unwrap();
        let mut free = group.connect(100, 200, ConsumerDetails::default()).unwrap();
        // Which consumer each stream is pinned to (the strategy's hash of
        // the stream name over the two consumers, in joining order).
        let pinned_to_free = |stream: &str| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            Bytes::from(stream.to_owned()).hash(&mut h);
            h.finish() % 2 == 1
        };
        let streams: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
        let expected: usize = streams.iter().filter(|s| pinned_to_free(s)).count() * 3;
        assert!(expected > 0 && expected < 60);
        for _ in 0..3 {
            for stream in &streams {
                store
                    .append(vec![StreamWrite {
                        stream: Bytes::from(stream.clone()),
                        expected: ExpectedRevision::Any,
                        events: vec![ProposedEvent {
                            id: Uuid::new_v4(),
                            event_type: "E".to_owned(),
                            is_json: true,
                            data: Bytes::from_static(b"{}"),
                            metadata: Bytes::new(),
                        }],
                    }])
                    .unwrap();
            }
        }
        // The busy consumer takes one message and never acks it.
        let held = next_message(&mut busy).await;
        assert!(!pinned_to_free(&String::from_utf8_lossy(
            &held.original().stream
        )));
        let mut got = 0;
        while got < expected {
            let m = next_message(&mut free).await;
            assert!(pinned_to_free(&String::from_utf8_lossy(
                &m.original().stream
            )));
            group.ack(&[m.ack_id]);
            got += 1;
        }
        assert!(busy.try_recv().is_err(), "one slot, one message");
    }
}
