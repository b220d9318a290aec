//! The threads projections run on. Each runs a loop over its members
//! ([`Member`]): read a batch of the log from the furthest-behind member's
//! cursor, hand each record to every member that has not read it, write
//! what they all emitted in one append, checkpoint, and sleep on the store's
//! head watch when caught up.
//!
//! - **The standard projections share one thread** ([`SharedThread`]). All five
//!   read `$all` (`fromAll`), so one read, one look at each event's JSON and
//!   one append serve the five, where five threads each read, validated and
//!   wrote the same batch (KurrentDB, too, feeds its caught-up projections
//!   from one reader of the log, its heading event reader). A member far
//!   behind (reset, or enabled late, on a long log) is read for in batches
//!   of its own, in the same steps, until it is close enough to share
//!   theirs: the others' live events do not wait for it to catch up.
//! - **A user projection gets a thread of its own** ([`start`]), so that its
//!   JavaScript never runs on an async worker, never blocks appends or reads
//!   (the store's lock is only taken by the bounded reads and appends), and
//!   never holds another projection up.
//!
//! A member stops when asked (with or without a checkpoint), when its
//! handler faults, or when the subsystem is dropped (its stop channel
//! closes); a thread ends when it has no member left and no more can join.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::sync::{Notify, oneshot, watch};

use crate::store::{Direction, ExpectedRevision, PreparedWrite, ResolvedRecord, Store, WriteError};

use super::emit::write_failed;
use super::runner::{Facts, HandlerFactory, Joining, Member, RunConfig, Stop};
use super::state::{RunStatus, Shared};

/// Records read per batch.
pub(super) const BATCH: usize = 512;
/// Records looked at per batch at most (a filtering source).
const SCAN: usize = 4096;
/// How far (in log records) a member may be behind the one furthest ahead
/// and still share its batches (see [`step`]).
const NEAR: usize = SCAN;
/// How long a caught-up thread lets the log grow after it is woken before
/// it reads. Without it, every append woke the projections, each read the
/// one new record, and each link written woke them again. With it, the
/// appends of a millisecond are read as one batch and their links written
/// as one write: with the five standard projections running (then on a
/// thread each), 16,000 one-event appends from 8 appenders took 1.61x the
/// CPU of a server without projections, and 1.25x with it (release build,
/// medians of 5 paired runs). A live event reaches its projected streams
/// about a millisecond later per hop (KurrentDB's projections are
/// asynchronous too).
const COALESCE: std::time::Duration = std::time::Duration::from_millis(1);

/// How the manager and a thread talk: projections joining it, and the
/// wake-up for joins and stops.
#[derive(Default)]
struct Control {
    joining: Mutex<Vec<Joining>>,
    wake: Notify,
    /// No more members will join (the [`SharedThread`] was dropped).
    closed: AtomicBool,
}

/// A running projection, as the manager holds it.
pub(crate) struct Running {
    stop: watch::Sender<Stop>,
    done: Option<oneshot::Receiver<()>>,
    prepared: Option<oneshot::Receiver<()>>,
    control: Arc<Control>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("stop", &*self.stop.borrow())
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Waits until the projection's handler is built (its query compiled,
    /// its checkpoint loaded) or the projection faulted trying: KurrentDB
    /// answers a create, enable or update once the core projection is
    /// prepared (`ManagedProjection.Prepare`, `Reply`), so that a projection
    /// whose query cannot run is already faulted when the call returns.
    pub(crate) async fn prepared(&mut self) {
        if let Some(prepared) = self.prepared.take() {
            // An error: the thread could not start, and the projection
            // faulted saying so.
            let _ = prepared.await;
        }
    }

    /// Asks the projection to stop and waits until it has.
    pub(crate) async fn stop(mut self, how: Stop) {
        self.stop.send_replace(how);
        self.control.wake.notify_one();
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Dropped without `stop` (the subsystem is going): the member sees
        // its stop channel closed when the thread wakes.
        self.control.wake.notify_one();
    }
}

/// Hands `config`'s projection to the thread `control` speaks to; it starts
/// from the checkpoint in `shared`.
fn join(
    control: &Arc<Control>,
    config: RunConfig,
    shared: Arc<Mutex<Shared>>,
    factory: HandlerFactory,
) -> Running {
    let (stop_tx, stop_rx) = watch::channel(Stop::No);
    let (done_tx, done_rx) = oneshot::channel();
    let (prepared_tx, prepared_rx) = oneshot::channel();
    {
        let mut sh = shared.lock();
        sh.status = RunStatus::Running;
        sh.unprepared = false;
        sh.reason.clear();
        sh.events_processed = 0;
        sh.states = sh.checkpoint.states.clone();
    }
    control.joining.lock().push(Joining {
        config,
        shared,
        factory,
        stop: stop_rx,
        done: done_tx,
        prepared: prepared_tx,
    });
    control.wake.notify_one();
    Running {
        stop: stop_tx,
        done: Some(done_rx),
        prepared: Some(prepared_rx),
        control: control.clone(),
    }
}

/// Spawns a thread running `control`'s members; when it cannot, the
/// joining projections fault with the reason.
fn spawn(name: String, store: Arc<Store>, control: Arc<Control>, solo: bool) {
    let spawned = std::thread::Builder::new().name(name).spawn({
        let control = control.clone();
        move || run(&store, &control, solo)
    });
    if let Err(e) = spawned {
        for joining in control.joining.lock().drain(..) {
            let mut sh = joining.shared.lock();
            sh.status = RunStatus::Faulted;
            sh.reason = format!("cannot start the projection's thread: {e}");
        }
    }
}

/// Starts `config`'s projection on a thread of its own, from the checkpoint
/// in `shared`.
pub(crate) fn start(
    store: Arc<Store>,
    config: RunConfig,
    shared: Arc<Mutex<Shared>>,
    factory: HandlerFactory,
) -> Running {
    let control = Arc::new(Control::default());
    let name = format!("projection {}", config.name);
    let running = join(&control, config, shared, factory);
    spawn(name, store, control, true);
    running
}

/// The thread the standard projections share, started with the first.
pub(crate) struct SharedThread {
    store: Arc<Store>,
    control: Arc<Control>,
    started: Mutex<bool>,
}

impl std::fmt::Debug for SharedThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedThread")
            .field("started", &*self.started.lock())
            .finish_non_exhaustive()
    }
}

impl SharedThread {
    pub(crate) fn new(store: Arc<Store>) -> SharedThread {
        SharedThread {
            store,
            control: Arc::new(Control::default()),
            started: Mutex::new(false),
        }
    }

    /// Starts `config`'s projection on the shared thread, from the
    /// checkpoint in `shared`.
    pub(crate) fn start(
        &self,
        config: RunConfig,
        shared: Arc<Mutex<Shared>>,
        factory: HandlerFactory,
    ) -> Running {
        let running = join(&self.control, config, shared, factory);
        let mut started = self.started.lock();
        if !*started {
            *started = true;
            let name = "projections $standard".to_owned();
            spawn(name, self.store.clone(), self.control.clone(), false);
        }
        running
    }
}

impl Drop for SharedThread {
    fn drop(&mut self) {
        self.control.closed.store(true, Ordering::Release);
        self.control.wake.notify_one();
    }
}

/// A thread's loop (see the module's documentation). `solo`: the thread
/// ends with its one member.
fn run(store: &Arc<Store>, control: &Control, solo: bool) {
    let mut members: Vec<Member> = Vec::new();
    let mut buffers = Buffers::default();
    let mut head = store.watch_head();
    let mut source_head = store.watch_source_head();
    loop {
        let joining = std::mem::take(&mut *control.joining.lock());
        members.extend(joining.into_iter().filter_map(|j| Member::start(store, j)));
        members.retain_mut(|m| !m.stop_if_asked());
        if members.is_empty() {
            if solo || control.closed.load(Ordering::Acquire) {
                return;
            }
            wait(control, None);
            continue;
        }
        // A `fromAll` source passes records of non-system streams only, so
        // it waits for those and reads past the rest without copying them:
        // the projections' own output (links, results, checkpoints; all in
        // system streams) wakes no `fromAll` projection. A stream source may
        // read system streams (`fromCategory` reads `$ce-`), so it follows
        // every write.
        let from_all = members.iter().all(|m| m.from_all);
        let watch = if from_all {
            &mut source_head
        } else {
            &mut head
        };
        watch.borrow_and_update();
        if step(store, &mut members, from_all, &mut buffers) {
            wait(control, Some(watch));
        }
    }
}

/// The record buffers of a thread's two reads (see [`step`]), kept from
/// batch to batch.
#[derive(Default)]
struct Buffers {
    front: Vec<(usize, ResolvedRecord)>,
    behind: Vec<(usize, ResolvedRecord)>,
}

/// One batch for every member; whether the log's end was reached.
///
/// The members within [`NEAR`] records of the one furthest ahead share one
/// batch, read from the cursor of the furthest behind of them. Members
/// further behind (reset, or enabled late, on a long log) get a batch of
/// their own in the same step, so that the others' live events are not held
/// up while they catch up; once within [`NEAR`], they join the shared batch.
fn step(store: &Store, members: &mut Vec<Member>, from_all: bool, buffers: &mut Buffers) -> bool {
    let lead = members.iter().map(|m| m.cursor).max().unwrap_or(0);
    let near: Vec<bool> = members
        .iter()
        .map(|m| m.cursor.saturating_add(NEAR) >= lead)
        .collect();
    let front_buffer = std::mem::take(&mut buffers.front);
    let front = read(store, members, &near, true, from_all, front_buffer);
    let behind = near.contains(&false).then(|| {
        let buffer = std::mem::take(&mut buffers.behind);
        read(store, members, &near, false, from_all, buffer)
    });
    for (batch, side) in [(Some(&front), true), (behind.as_ref(), false)] {
        let Some(batch) = batch else { continue };
        for (index, record) in &batch.records {
            // Only a `fromAll` read numbers its records by log index.
            let facts = Facts::at(from_all.then(|| u32::try_from(*index).ok()).flatten());
            for (member, _) in members.iter_mut().zip(&near).filter(|(_, n)| **n == side) {
                member.take(*index, record, &facts);
            }
        }
    }
    let mut writes = Vec::new();
    let mut owners = Vec::new();
    for (i, member) in members.iter_mut().enumerate() {
        if member.failed().is_none() {
            let mine = member.prepare();
            owners.extend(std::iter::repeat_n(i, mine.len()));
            writes.extend(mine);
        }
    }
    write_all(store, writes, owners, members);
    // The buffers go back emptied (their room kept): an idle thread holds
    // no record's payload (a scavenge may have dropped it from the store).
    let (front_next, front_at_end) = (front.next, front.at_end);
    buffers.front = front.records;
    buffers.front.clear();
    let behind_next = behind.as_ref().map_or(0, |b| b.next);
    let behind_read = behind.is_some();
    if let Some(behind) = behind {
        buffers.behind = behind.records;
        buffers.behind.clear();
    }
    let mut near = near.into_iter();
    members.retain_mut(|member| {
        let next = if near.next().unwrap_or(true) {
            front_next
        } else {
            behind_next
        };
        match member.written(next) {
            Ok(()) => true,
            Err(reason) => {
                member.fault(reason);
                false
            }
        }
    });
    front_at_end && !behind_read
}

/// A batch of the log: each record with its log index, where to go on
/// from, and whether the end was reached.
struct Batch {
    records: Vec<(usize, ResolvedRecord)>,
    next: usize,
    at_end: bool,
}

/// Reads a batch for the members whose `near` is `side`, from the cursor
/// of the furthest behind of them; a `fromAll` read fills `buffer` (see
/// [`Store::read_all_source`]).
fn read(
    store: &Store,
    members: &[Member],
    near: &[bool],
    side: bool,
    from_all: bool,
    buffer: Vec<(usize, ResolvedRecord)>,
) -> Batch {
    let mut chosen = members.iter().zip(near).filter(|(_, n)| **n == side);
    let from = chosen.clone().map(|(m, _)| m.cursor).min().unwrap_or(0);
    if from_all {
        let batch = store.read_all_source(from, BATCH, SCAN, buffer);
        return Batch {
            records: batch.events,
            next: batch.next,
            at_end: batch.at_end,
        };
    }
    // Only a thread of its own reads this way (one member, at `from`): the
    // records are numbered from there, which is all `take` needs.
    let resolve = chosen.any(|(m, _)| m.resolve);
    let batch = store.read_all(from, Direction::Forwards, BATCH, SCAN, None, resolve);
    Batch {
        records: batch.events.into_iter().map(|r| (from, r)).collect(),
        next: batch.next,
        at_end: batch.at_end,
    }
}

/// The most events one append of [`write_all`] holds: KurrentDB's
/// `maxWriteBatchLength` (500, the most events its `EmittedStream` writes
/// at once). The store's write lock is held for a whole append, and every
/// client's append waits behind it; a batch's writes are not bounded
/// otherwise (the standard projections write about two links per event read,
/// 1,000 records a batch, and a JavaScript handler may emit thousands of
/// events per event within its time budget). Each append costs a little
/// (its checks, the wake-up of readers): at 128, the standard projections'
/// thread ran 2% more instructions per event than with one append a batch.
pub(super) const WRITE_CHUNK: usize = 500;

/// Writes every member's writes (`owners[k]` is the member of `writes[k]`),
/// in order, in appends of at most [`WRITE_CHUNK`] events (see [`chunks`]).
/// KurrentDB's `EmittedStream`, too, writes each stream on its own, a
/// stream's events in batches. When the store refuses an append (a member
/// emits to a deleted stream), the member at fault faults, and the others'
/// writes go again without it (at most one retry per member); what the
/// member wrote in earlier appends of the batch stays, as in KurrentDB.
fn write_all(
    store: &Store,
    writes: Vec<PreparedWrite>,
    owners: Vec<usize>,
    members: &mut [Member],
) {
    for (mut writes, mut owners) in chunks(writes, owners, WRITE_CHUNK) {
        // A member that faulted on an earlier chunk writes nothing more.
        if owners
            .iter()
            .any(|&owner| members[owner].failed().is_some())
        {
            (writes, owners) = writes
                .into_iter()
                .zip(owners)
                .filter(|(_, owner)| members[*owner].failed().is_none())
                .unzip();
        }
        append_chunk(store, writes, owners, members);
    }
}

/// `writes` (`owners[k]` the member of `writes[k]`) cut into appends of at
/// most `limit` events, in order: a write expecting any revision is cut
/// where an append fills; a write expecting more goes whole (its check
/// holds for its first event only), and may take an append past `limit`.
fn chunks(
    writes: Vec<PreparedWrite>,
    owners: Vec<usize>,
    limit: usize,
) -> Vec<(Vec<PreparedWrite>, Vec<usize>)> {
    let limit = limit.max(1);
    let mut out = Vec::new();
    let mut chunk = (Vec::new(), Vec::new());
    let mut room = limit;
    for (write, owner) in writes.into_iter().zip(owners) {
        if write.events.len() <= room || write.expected != ExpectedRevision::Any {
            room = room.saturating_sub(write.events.len());
            chunk.0.push(write);
            chunk.1.push(owner);
        } else {
            // Each event moved once (cutting the rest off again and again
            // would copy it once per append).
            let mut events = write.events.into_iter();
            while events.len() > 0 {
                let part: Vec<_> = events.by_ref().take(room).collect();
                room -= part.len();
                chunk.0.push(PreparedWrite {
                    stream: write.stream.clone(),
                    expected: ExpectedRevision::Any,
                    events: part,
                });
                chunk.1.push(owner);
                if room == 0 && events.len() > 0 {
                    out.push(std::mem::take(&mut chunk));
                    room = limit;
                }
            }
        }
        if room == 0 {
            out.push(std::mem::take(&mut chunk));
            room = limit;
        }
    }
    if !chunk.0.is_empty() {
        out.push(chunk);
    }
    out
}

/// Writes `writes` in one append (`owners[k]` is the member of `writes[k]`).
/// When the store refuses it, the member at fault faults and the others'
/// writes go again without it.
fn append_chunk(
    store: &Store,
    mut writes: Vec<PreparedWrite>,
    mut owners: Vec<usize>,
    members: &mut [Member],
) {
    while !writes.is_empty() {
        let streams: Vec<_> = writes.iter().map(|w| w.stream.clone()).collect();
        let refused = match store.append_emitted(writes) {
            Ok(_) => {
                for (stream, &owner) in streams.iter().zip(owners.iter()) {
                    members[owner].landed(stream);
                }
                break;
            }
            Err(refused) => refused,
        };
        let reason = write_failed(&refused.error);
        let at_fault: Vec<usize> = match &refused.error {
            WriteError::StreamDeleted { stream } => owners
                .iter()
                .zip(&refused.writes)
                .filter(|(_, w)| w.stream == *stream)
                .map(|(&owner, _)| owner)
                .collect(),
            _ => Vec::new(),
        };
        // Not one member's doing: they all fault with it.
        let at_fault = if at_fault.is_empty() {
            owners.clone()
        } else {
            at_fault
        };
        for owner in at_fault {
            members[owner].fail(&reason);
        }
        (writes, owners) = refused
            .writes
            .into_iter()
            .zip(owners)
            .filter(|(_, owner)| members[*owner].failed().is_none())
            .unzip();
    }
}

/// Sleeps until the log grows (when `head` is given) or the thread is woken
/// (a join or a stop). After growth it lets a millisecond's appends gather
/// (see [`COALESCE`]).
fn wait(control: &Control, head: Option<&mut watch::Receiver<usize>>) {
    let grew = futures::executor::block_on(async {
        match head {
            Some(head) => tokio::select! {
                changed = head.changed() => changed.is_ok(),
                () = control.wake.notified() => false,
            },
            None => {
                control.wake.notified().await;
                false
            }
        }
    });
    if grew {
        std::thread::sleep(COALESCE);
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use bytes::Bytes;
    use uuid::Uuid;

    use super::*;
    use crate::store::PreparedEvent;

    fn write(stream: &str, n: usize, expected: ExpectedRevision) -> PreparedWrite {
        PreparedWrite {
            stream: Bytes::copy_from_slice(stream.as_bytes()),
            expected,
            events: (0..n)
                .map(|_| PreparedEvent {
                    id: Uuid::new_v4(),
                    event_type: Cow::Borrowed("$>"),
                    is_json: false,
                    data_len: 0,
                    body: Default::default(),
                })
                .collect(),
        }
    }

    /// Each chunk as `(stream, events, owner)` per write.
    fn shape(chunks: &[(Vec<PreparedWrite>, Vec<usize>)]) -> Vec<Vec<(&str, usize, usize)>> {
        chunks
            .iter()
            .map(|(writes, owners)| {
                writes
                    .iter()
                    .zip(owners)
                    .map(|(w, &o)| (std::str::from_utf8(&w.stream).unwrap(), w.events.len(), o))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn writes_are_cut_into_appends_of_at_most_the_limit_in_order() {
        let any = ExpectedRevision::Any;
        let writes = vec![
            write("$ce-a", 3, any),
            write("$et-E", 9, any),
            write("$streams", 1, any),
        ];
        let ids: Vec<Uuid> = writes
            .iter()
            .flat_map(|w| &w.events)
            .map(|e| e.id)
            .collect();
        let chunks = chunks(writes, vec![0, 1, 2], 4);
        assert_eq!(
            shape(&chunks),
            [
                vec![("$ce-a", 3, 0), ("$et-E", 1, 1)],
                vec![("$et-E", 4, 1)],
                vec![("$et-E", 4, 1)],
                vec![("$streams", 1, 2)],
            ]
        );
        let after: Vec<Uuid> = chunks
            .iter()
            .flat_map(|(w, _)| w)
            .flat_map(|w| &w.events)
            .map(|e| e.id)
            .collect();
        assert_eq!(after, ids, "every event once, in order");
        assert!(
            chunks
                .iter()
                .flat_map(|(w, _)| w)
                .all(|w| w.expected == any)
        );
    }

    #[test]
    fn a_write_expecting_a_revision_is_never_cut() {
        let writes = vec![
            write("$ce-a", 2, ExpectedRevision::Any),
            write("out", 5, ExpectedRevision::Exact(7)),
            write("$ce-a", 1, ExpectedRevision::Any),
        ];
        let chunks = chunks(writes, vec![0, 1, 0], 4);
        assert_eq!(
            shape(&chunks),
            [vec![("$ce-a", 2, 0), ("out", 5, 1)], vec![("$ce-a", 1, 0)]]
        );
        assert_eq!(chunks[0].0[1].expected, ExpectedRevision::Exact(7));
        assert!(super::chunks(Vec::new(), Vec::new(), 4).is_empty());
    }
}
