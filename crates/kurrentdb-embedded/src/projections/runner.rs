//! Running projections. A projection follows the log like a subscriber
//! (reads `$all` in bounded batches, sleeps on the store's head watch when
//! caught up), hands each event its source passes to the projection's
//! [`Handler`], writes what it emits and its results with the store's
//! append, and checkpoints. This module is one projection's part of that
//! (a [`Member`]); [`super::thread`] runs members on threads: the standard
//! projections all on one, sharing each batch read, each user projection on
//! its own.
//!
//! Streams, as KurrentDB names them (`ProjectionNamesBuilder`):
//! `$projections-<name>-checkpoint` (`$ProjectionCheckpoint`: data
//! `[state]` or `[state,result]`, metadata the checkpoint tag),
//! `$projections-<name>-<partition>-checkpoint` (`$Checkpoint`),
//! `$projections-<name>-result` (`Result` events, or `resultStreamName`),
//! `$projections-<name>-<partition>-result` (linked from the result stream),
//! `$projections-<name>-partitions` (`$partition`), and
//! `$projections-<name>-emittedstreams` (`$StreamTracked`).
//!
//! Checkpoints are written every 4,000 handled events (KurrentDB's
//! `CheckpointHandledThreshold`), after 10 MB of unhandled events
//! (`CheckpointUnhandledBytesThreshold`), and when the projection is disabled.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::store::{
    ExpectedRevision, PreparedWrite, ProposedEvent, ResolvedRecord, Store, StreamWrite,
};

use super::emit::{Cause, Data, Emits, Emitted, Writer, correlation_id};
use super::event::SourceEvent;
use super::source::{Selected, SourceDef, SourceKind};
use super::state::{PartitionState, RunStatus, Shared};
use super::tag::{ProjectionVersion, Tag};

/// Handled events between checkpoints.
const CHECKPOINT_HANDLED: u64 = 4000;
/// Unhandled bytes between checkpoints.
const CHECKPOINT_UNHANDLED_BYTES: u64 = 10 * 1000 * 1000;

/// What a handler did with one event: the new state (and result) of a
/// partition, when it changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub(crate) partition: String,
    pub(crate) state: PartitionState,
}

/// A projection's logic: the standard projections' native handlers, or a
/// JavaScript projection.
pub(crate) trait Handler {
    /// What the projection reads.
    fn source(&self) -> &SourceDef;
    /// Whether results are written (`outputState`, `transformBy`, ...).
    fn output_state(&self) -> bool {
        false
    }
    /// `resultStreamName` / `outputTo`, when set.
    fn result_stream(&self) -> Option<String> {
        None
    }
    /// Loads the partition states of a checkpoint.
    fn load(&mut self, states: &BTreeMap<String, PartitionState>) -> Result<(), String>;
    /// Processes one event, pushing what it emits to `out`. `Err` faults
    /// the projection with that reason.
    fn process(&mut self, ev: &SourceEvent<'_>, out: &mut Emits) -> Result<Vec<Change>, String>;
    /// Whether processing `ev` may emit or change a state. When it may
    /// not, the event is counted as handled without calling
    /// [`Handler::process`] (the standard projections act on a few of the
    /// events they read: `$streams` on each stream's first).
    fn may_act(&self, _ev: &SourceEvent<'_>) -> bool {
        true
    }
    /// A stream (a partition) was deleted (`$deleted` handlers).
    fn deleted(&mut self, _partition: &str) -> Result<Vec<Change>, String> {
        Ok(Vec::new())
    }
    /// What to emit along with a checkpoint at `position`.
    fn on_checkpoint(&mut self, _position: &Tag) -> Option<Emitted> {
        None
    }
}

/// Builds a projection's handler on its thread (a JavaScript engine is not
/// `Send`); `Err` faults the projection (a script that does not compile).
pub(crate) type HandlerFactory = Box<dyn FnOnce() -> Result<Box<dyn Handler>, String> + Send>;

/// How a running projection is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Keep running.
    No,
    /// Stop after writing a checkpoint (disable).
    WithCheckpoint,
    /// Stop now, without one (abort, reset, delete).
    Now,
}

/// What a runner needs to know of its projection.
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    pub(crate) name: String,
    pub(crate) version: ProjectionVersion,
    pub(crate) emit_enabled: bool,
    pub(crate) track_emitted_streams: bool,
}

/// A projection joining a runner thread: what the manager hands over.
pub(crate) struct Joining {
    pub(crate) config: RunConfig,
    pub(crate) shared: Arc<Mutex<Shared>>,
    pub(crate) factory: HandlerFactory,
    pub(crate) stop: watch::Receiver<Stop>,
    pub(crate) done: oneshot::Sender<()>,
    /// Told when the handler is built and its checkpoint loaded, or the
    /// projection faulted trying (see [`super::thread::Running::prepared`]).
    pub(crate) prepared: oneshot::Sender<()>,
}

/// What is worked out once per record for every member that reads it (the
/// members of one thread read the log the same way: see
/// [`super::thread`]).
#[derive(Default)]
pub(crate) struct Facts<'a> {
    /// The record's index in the log, when the read says (a `fromAll`
    /// read: what a compact link points to, see [`Emits::push_link`]).
    log_index: Option<u32>,
    /// Whether the record's data is valid JSON, once looked at.
    json_valid: OnceCell<bool>,
    /// The record's stream name, once checked as UTF-8.
    stream: OnceCell<Option<&'a str>>,
    /// The `$correlationId` of the record's metadata, once looked at.
    correlation: OnceCell<Option<Arc<str>>>,
    /// What each plain `fromAll` source selects (see
    /// [`SourceDef::shared_kind`]), once looked at.
    selected: [OnceCell<Option<Selected<'a>>>; 2],
}

impl Facts<'_> {
    /// The facts of the record at log index `log_index` (see
    /// [`Facts::log_index`]).
    pub(crate) fn at(log_index: Option<u32>) -> Self {
        Facts {
            log_index,
            ..Facts::default()
        }
    }
}

/// What one member made of one batch, until it is written (kept from batch
/// to batch, so that its buffers are allocated once).
#[derive(Default)]
struct Output {
    /// What the handler emitted, and the results to write.
    emits: Emits,
    changes: Vec<(Change, u64, Tag, Option<Uuid>)>,
    handled: u64,
    /// The streams of the batch's writes (for emitted-stream tracking).
    written: Vec<String>,
    /// The streams whose writes an append took (a batch's writes go in
    /// several appends, and one refused leaves the earlier ones written).
    landed: Vec<bytes::Bytes>,
    /// Why the member faults (the batch is then not written).
    failed: Option<String>,
}

/// A running projection, on a runner thread.
pub(crate) struct Member {
    runner: Runner,
    handler: Box<dyn Handler>,
    /// The log index to read from next.
    pub(crate) cursor: usize,
    last_tag: Option<Tag>,
    out: Output,
    done: Option<oneshot::Sender<()>>,
    /// Reads `fromAll` (see [`Store::read_all_source`]).
    pub(crate) from_all: bool,
    /// Reads with links resolved.
    pub(crate) resolve: bool,
}

impl Member {
    /// Builds the handler and loads the last checkpoint; `None` when that
    /// faulted the projection.
    pub(crate) fn start(store: &Arc<Store>, joining: Joining) -> Option<Member> {
        let Joining {
            config,
            shared,
            factory,
            stop,
            done,
            prepared,
        } = joining;
        let runner = Runner {
            store: store.clone(),
            config,
            shared,
            stop,
            handled_since_checkpoint: 0,
            unhandled_bytes: 0,
        };
        let (cursor, states, last_tag) = {
            let sh = runner.shared.lock();
            let c = &sh.checkpoint;
            (c.cursor, c.states.clone(), c.tag.clone())
        };
        let handler = factory().and_then(|mut handler| {
            handler.load(&states)?;
            Ok(handler)
        });
        let out = Output {
            emits: Emits::new(runner.config.version),
            ..Output::default()
        };
        let member = match handler {
            Ok(handler) => Some(Member {
                from_all: handler.source().kind == SourceKind::All,
                resolve: handler.source().resolves_links(),
                runner,
                handler,
                cursor,
                last_tag,
                out,
                done: Some(done),
            }),
            Err(reason) => {
                runner.fault(reason);
                runner.shared.lock().unprepared = true;
                let _ = done.send(());
                None
            }
        };
        let _ = prepared.send(());
        member
    }

    /// Stops the member if asked (writing a checkpoint first when asked
    /// so); whether it stopped.
    pub(crate) fn stop_if_asked(&mut self) -> bool {
        let asked = *self.runner.stop.borrow();
        // The manager gone without a word (the subsystem dropped) is a stop.
        let asked = if asked == Stop::No && self.runner.stop.has_changed().is_err() {
            Stop::Now
        } else {
            asked
        };
        match asked {
            Stop::No => return false,
            Stop::WithCheckpoint => {
                let written = self.runner.checkpoint(
                    self.handler.as_mut(),
                    self.cursor,
                    self.last_tag.as_ref(),
                );
                if let Err(reason) = written {
                    self.fault(reason);
                    return true;
                }
            }
            Stop::Now => {}
        }
        self.runner.shared.lock().status = RunStatus::Stopped;
        self.finish();
        true
    }

    /// Faults the projection with `reason`; it stops.
    pub(crate) fn fault(&mut self, reason: String) {
        self.runner.fault(reason);
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }

    /// Hands one record (at log index `index`) to the handler, if the
    /// source passes it and the member has not read it yet (nor faulted in
    /// this batch).
    pub(crate) fn take<'a>(&mut self, index: usize, read: &'a ResolvedRecord, facts: &Facts<'a>) {
        if index < self.cursor || self.out.failed.is_some() {
            return;
        }
        if let Err(reason) = self.take_one(read, facts) {
            self.out.failed = Some(reason);
        }
    }

    fn take_one<'a>(&mut self, read: &'a ResolvedRecord, facts: &Facts<'a>) -> Result<(), String> {
        let out = &mut self.out;
        let original = read.original();
        let position = original.record.position;
        let source = self.handler.source();
        let own;
        let selected = match source.shared_kind() {
            Some(kind) => facts.selected[kind]
                .get_or_init(|| {
                    // The two plain sources differ on link events only:
                    // for any other, what one selected is the other's.
                    let other = facts.selected[1 - kind].get();
                    match other {
                        Some(selected) if !read.original().record.is_link() => selected.clone(),
                        _ => source.select(read, &facts.stream, &facts.json_valid),
                    }
                })
                .as_ref(),
            None => {
                own = source.select(read, &facts.stream, &facts.json_valid);
                own.as_ref()
            }
        };
        let Some(selected) = selected else {
            self.runner.unhandled_bytes += original.record.body.len() as u64;
            return Ok(());
        };
        if let Selected::Event(ev) = selected
            && !self.handler.may_act(ev)
        {
            out.handled += 1;
            self.last_tag = Some(tag_of(source, selected, position));
            return Ok(());
        }
        let (caused_by, correlation_id) = match selected {
            Selected::Event(ev) => (
                Some(ev.record.record.id),
                facts
                    .correlation
                    .get_or_init(|| correlation_id(ev.is_json(), ev.metadata()))
                    .clone(),
            ),
            Selected::Deleted { .. } => (None, None),
        };
        // What the handler emits is written with its cause's metadata as
        // it is pushed.
        let tag = tag_of(source, selected, position);
        let emitted = out.emits.len();
        out.emits.begin(Cause {
            caused_at: position,
            tag,
            caused_by,
            correlation_id,
        });
        // The event read at its log index itself (not a link's target):
        // links to it may be compact.
        if let Selected::Event(ev) = selected
            && std::ptr::eq(ev.record, original)
            && let Some(index) = facts.log_index
        {
            out.emits.source_at(index);
        }
        let change = match selected {
            Selected::Event(ev) => self.handler.process(ev, &mut out.emits),
            Selected::Deleted { stream, .. } => self.handler.deleted(stream),
        };
        let tag = out.emits.end().map(|cause| cause.tag);
        let change = change?;
        out.handled += 1;
        if out.emits.len() > emitted && !self.runner.config.emit_enabled {
            return Err("'emit' is not allowed by the projection/configuration/mode".into());
        }
        if let Some(tag) = tag {
            for change in change {
                out.changes.push((change, position, tag.clone(), caused_by));
            }
            self.last_tag = Some(tag);
        }
        Ok(())
    }

    /// Why the member faults in this batch, if it does.
    pub(crate) fn failed(&self) -> Option<&str> {
        self.out.failed.as_deref()
    }

    /// Notes that an append took the member's write to `stream`.
    pub(crate) fn landed(&mut self, stream: &bytes::Bytes) {
        self.out.landed.push(stream.clone());
    }

    /// Faults the member in this batch (its writes were refused).
    pub(crate) fn fail(&mut self, reason: &str) {
        self.out.failed.get_or_insert_with(|| reason.to_owned());
    }

    /// The batch's writes: what the handler emitted, then its results.
    pub(crate) fn prepare(&mut self) -> Vec<PreparedWrite> {
        let out = &mut self.out;
        let user_emits = !out.emits.is_empty();
        self.runner
            .apply_changes(self.handler.as_ref(), out.changes.drain(..), &mut out.emits);
        if out.emits.is_empty() {
            return Vec::new();
        }
        let (writes, order) = self
            .runner
            .shared
            .lock()
            .writer
            .prepare(&self.runner.store, &mut out.emits);
        if user_emits {
            out.written = order;
        }
        writes
    }

    /// After the batch was written (or refused: `Err`, the member faults):
    /// tracks the streams emitted to, moves the cursor to `next`, records
    /// the progress, checkpoints when due.
    pub(crate) fn written(&mut self, next: usize) -> Result<(), String> {
        let handled = std::mem::take(&mut self.out.handled);
        self.out.emits.clear();
        self.out.changes.clear();
        let landed = std::mem::take(&mut self.out.landed);
        let written = std::mem::take(&mut self.out.written);
        if let Some(reason) = self.out.failed.take() {
            // What earlier appends of the batch wrote stays written (see
            // `thread::write_all`): those streams are tracked, so that a
            // reset or a delete with its emitted streams reaches them. The
            // fault's reason is the one reported, whatever tracking meets.
            let wrote = written
                .into_iter()
                .filter(|w| landed.iter().any(|l| l == w.as_bytes()))
                .collect();
            let _ = self.runner.track(wrote);
            return Err(reason);
        }
        self.runner.track(written)?;
        self.cursor = self.cursor.max(next);
        self.runner.handled_since_checkpoint += handled;
        self.runner
            .update_progress(self.cursor, handled, self.last_tag.as_ref(), self.from_all);
        if self.runner.handled_since_checkpoint >= CHECKPOINT_HANDLED
            || self.runner.unhandled_bytes >= CHECKPOINT_UNHANDLED_BYTES
        {
            self.runner
                .checkpoint(self.handler.as_mut(), self.cursor, self.last_tag.as_ref())?;
        }
        Ok(())
    }
}

/// A member's projection, apart from its handler.
struct Runner {
    store: Arc<Store>,
    config: RunConfig,
    shared: Arc<Mutex<Shared>>,
    stop: watch::Receiver<Stop>,
    handled_since_checkpoint: u64,
    unhandled_bytes: u64,
}

impl Runner {
    fn fault(&self, reason: String) {
        let mut sh = self.shared.lock();
        sh.status = RunStatus::Faulted;
        sh.reason = reason;
        // The writer counted the batch's emits as written when it prepared
        // them; a refused append wrote none of them. Run again, it reads
        // each stream's last event afresh, as KurrentDB's `EmittedStream`
        // does when it starts.
        sh.writer.clear();
    }

    /// Records the batch's state changes; emits their result events to
    /// `out`.
    fn apply_changes(
        &self,
        handler: &dyn Handler,
        changes: impl ExactSizeIterator<Item = (Change, u64, Tag, Option<Uuid>)>,
        out: &mut Emits,
    ) {
        if changes.len() == 0 {
            return;
        }
        let output = handler.output_state();
        let result_stream = handler
            .result_stream()
            .unwrap_or_else(|| format!("$projections-{}-result", self.config.name));
        let name = self.config.name.as_str();
        let mut sh = self.shared.lock();
        for (change, position, tag, caused_by) in changes {
            let previous = sh.states.get(&change.partition).cloned();
            let is_new = previous.is_none() && !change.partition.is_empty();
            let result_changed = previous.as_ref().map(|p| &p.result) != Some(&change.state.result);
            sh.dirty.insert(change.partition.clone());
            sh.states
                .insert(change.partition.clone(), change.state.clone());
            if !output {
                continue;
            }
            let cause = Cause {
                caused_at: position,
                tag,
                caused_by,
                correlation_id: None,
            };
            out.begin(cause);
            let partition = change.partition.as_str();
            if is_new {
                let stream = format!("$projections-{name}-partitions");
                let data = Data::Text(partition);
                out.push("$partition", false, [&stream, ""], data, |_| {});
            }
            if result_changed {
                let (event_type, data) = match &change.state.result {
                    Some(r) => ("Result", r.as_str()),
                    None => ("ResultRemoved", ""),
                };
                let partition_stream;
                let stream = if partition.is_empty() {
                    result_stream.as_str()
                } else {
                    partition_stream = format!("$projections-{name}-{partition}-result");
                    partition_stream.as_str()
                };
                out.push(event_type, true, [stream, ""], Data::Text(data), |_| {});
            }
        }
        out.end();
    }

    /// Records the streams a batch's emits went to; writes the new ones to
    /// `$projections-<name>-emittedstreams` when tracking.
    fn track(&self, written: Vec<String>) -> Result<(), String> {
        if written.is_empty() {
            return Ok(());
        }
        let mut tracked = Vec::new();
        {
            let mut sh = self.shared.lock();
            for stream in written {
                if sh.emitted_streams.insert(stream.clone()) && self.config.track_emitted_streams {
                    tracked.push(stream);
                }
            }
        }
        if tracked.is_empty() {
            return Ok(());
        }
        let events = tracked
            .into_iter()
            .map(|s| proposed("$StreamTracked", false, s.into_bytes(), Vec::new()))
            .collect();
        self.append(
            format!("$projections-{}-emittedstreams", self.config.name),
            events,
        )
    }

    /// Records the progress after a batch. A `fromAll` projection whose
    /// cursor is past the last record it could pass is caught up, whatever
    /// the projections wrote after it (it skips those unread when it next
    /// wakes): it shows no buffered events and 100%.
    fn update_progress(&self, cursor: usize, handled: u64, last: Option<&Tag>, from_all: bool) {
        let (len, source_len) = self.store.source_progress();
        let cursor = if from_all && cursor >= source_len {
            len.max(cursor)
        } else {
            cursor
        };
        let mut sh = self.shared.lock();
        sh.events_processed += handled as i64;
        if let Some(tag) = last {
            sh.position = Some(tag.clone());
        }
        sh.buffered = len.saturating_sub(cursor) as i64;
        sh.progress = if len == 0 {
            100.0
        } else {
            (cursor as f64 * 100.0 / len as f64) as f32
        };
    }

    /// Writes a checkpoint at `cursor`: the partition states changed since the
    /// last one, the root state, and what the handler adds.
    fn checkpoint(
        &mut self,
        handler: &mut dyn Handler,
        cursor: usize,
        tag: Option<&Tag>,
    ) -> Result<(), String> {
        self.handled_since_checkpoint = 0;
        self.unhandled_bytes = 0;
        let Some(tag) = tag else {
            // Nothing processed since the start: nothing to record.
            self.shared.lock().checkpoint.cursor = cursor;
            return Ok(());
        };
        let metadata = tag.to_json(Some(self.config.version), "");
        if let Some(extra) = handler.on_checkpoint(tag) {
            let event = proposed(
                &extra.event_type,
                extra.is_json,
                extra.data.into_bytes(),
                metadata.clone().into_bytes(),
            );
            self.append(extra.stream, vec![event])?;
        }
        let (root, dirty) = {
            let mut sh = self.shared.lock();
            let dirty: Vec<(String, PartitionState)> = std::mem::take(&mut sh.dirty)
                .into_iter()
                .filter(|p| !p.is_empty())
                .filter_map(|p| sh.states.get(&p).cloned().map(|s| (p, s)))
                .collect();
            (sh.states.get("").cloned().unwrap_or_default(), dirty)
        };
        for (partition, state) in dirty {
            let stream = format!("$projections-{}-{partition}-checkpoint", self.config.name);
            let event = proposed(
                "$Checkpoint",
                true,
                state.serialize().into_bytes(),
                metadata.clone().into_bytes(),
            );
            self.append(stream, vec![event])?;
        }
        let event = proposed(
            "$ProjectionCheckpoint",
            true,
            root.serialize().into_bytes(),
            metadata.into_bytes(),
        );
        self.append(
            format!("$projections-{}-checkpoint", self.config.name),
            vec![event],
        )?;
        let mut sh = self.shared.lock();
        sh.checkpoint.cursor = cursor;
        sh.checkpoint.tag = Some(tag.clone());
        sh.checkpoint.states = sh.states.clone();
        sh.last_checkpoint = Some(tag.clone());
        Ok(())
    }

    fn append(&self, stream: String, events: Vec<ProposedEvent>) -> Result<(), String> {
        self.store
            .append(vec![StreamWrite {
                stream: Bytes::from(stream.clone()),
                expected: ExpectedRevision::Any,
                events,
            }])
            .map(|_| ())
            .map_err(|e| format!("cannot write to {stream}: {e:?}"))
    }
}

/// The checkpoint tag of an event a source passed.
fn tag_of(source: &SourceDef, selected: &Selected<'_>, position: u64) -> Tag {
    match (&source.kind, selected) {
        (SourceKind::All, _) => Tag::Position(position),
        (SourceKind::Streams(_), Selected::Event(ev)) => {
            Tag::Streams(vec![(ev.position_stream.to_owned(), ev.position_revision)])
        }
        (SourceKind::Streams(_), Selected::Deleted { .. }) => Tag::Position(position),
    }
}

fn proposed(event_type: &str, is_json: bool, data: Vec<u8>, metadata: Vec<u8>) -> ProposedEvent {
    ProposedEvent {
        id: Uuid::new_v4(),
        event_type: event_type.to_owned(),
        is_json,
        data: Bytes::from(data),
        metadata: Bytes::from(metadata),
    }
}

impl Writer {
    /// Writes `$tb` at the current end of every stream in `streams`, hiding
    /// what a projection emitted before a reset (KurrentDB's `EmittedStream`
    /// truncates a stream written by an older epoch the same way).
    pub(crate) fn truncate(store: &Store, streams: &[String]) {
        for stream in streams {
            let (current, _) = store.stream_state(stream.as_bytes());
            let crate::store::CurrentRevision::Revision(last) = current else {
                continue;
            };
            let data = format!("{{\"$tb\":{}}}", last + 1);
            let _ = store.append(vec![StreamWrite {
                stream: Bytes::from(format!("$${stream}")),
                expected: ExpectedRevision::Any,
                events: vec![proposed("$metadata", true, data.into_bytes(), Vec::new())],
            }]);
        }
    }
}
