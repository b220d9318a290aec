//! Running one projection: a thread of its own that follows the log like a
//! subscriber (reads `$all` in bounded batches, sleeps on the store's head
//! watch when caught up), hands each event its source passes to the
//! projection's [`Handler`], writes what it emits and its results with the
//! store's append, and checkpoints.
//!
//! The thread is the projection's own so that a handler (JavaScript, for user
//! projections) never runs on an async worker and never blocks appends or
//! reads: the store's lock is only taken by the bounded reads and appends.
//! It stops when asked (with or without a checkpoint), when its handler
//! faults, or when the subsystem is dropped (its stop channel closes).
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

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::watch;
use uuid::Uuid;

use crate::store::{Direction, ExpectedRevision, ProposedEvent, Store, StreamWrite};

use super::emit::{Emitted, Pending, ProjectionVersion, Tag, Writer, correlation_id};
use super::source::{Selected, SourceDef, SourceEvent, SourceKind};
use super::state::{PartitionState, RunStatus, Shared};

/// Records read per batch.
const BATCH: usize = 512;
/// Records looked at per batch at most (a filtering source).
const SCAN: usize = 4096;
/// Handled events between checkpoints.
const CHECKPOINT_HANDLED: u64 = 4000;
/// Unhandled bytes between checkpoints.
const CHECKPOINT_UNHANDLED_BYTES: u64 = 10 * 1000 * 1000;
/// How long a caught-up projection lets the log grow after it is woken
/// before it reads. Without it, every append woke every running projection,
/// each read the one new record, and each link it wrote woke all of them
/// again. With it, the appends of a millisecond are read as one batch and
/// their links written as one write: with the five standard projections
/// running, 16,000 one-event appends from 8 appenders took 1.61x the CPU of a
/// server without projections, and 1.25x with it (release build, medians of
/// 5 paired runs). A live event reaches its projected streams about a
/// millisecond later per hop (KurrentDB's projections are asynchronous too).
const COALESCE: std::time::Duration = std::time::Duration::from_millis(1);

/// What a handler did with one event: the new state (and result) of a
/// partition, when it changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub partition: String,
    pub state: PartitionState,
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
    /// Processes one event, pushing what it emits. `Err` faults the
    /// projection with that reason.
    fn process(
        &mut self,
        ev: &SourceEvent<'_>,
        emitted: &mut Vec<Emitted>,
    ) -> Result<Vec<Change>, String>;
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
    pub name: String,
    pub version: ProjectionVersion,
    pub emit_enabled: bool,
    pub track_emitted_streams: bool,
}

/// A running projection, as the manager holds it.
#[derive(Debug)]
pub(crate) struct Running {
    stop: watch::Sender<Stop>,
    done: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Running {
    /// Asks the runner to stop and waits until it has.
    pub(crate) async fn stop(mut self, how: Stop) {
        self.stop.send_replace(how);
        if let Some(done) = self.done.take() {
            let _ = done.await;
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
    let (stop_tx, stop_rx) = watch::channel(Stop::No);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    {
        let mut sh = shared.lock();
        sh.status = RunStatus::Running;
        sh.reason.clear();
        sh.events_processed = 0;
        sh.states = sh.checkpoint.states.clone();
    }
    let thread_name = format!("projection {}", config.name);
    let spawned = std::thread::Builder::new().name(thread_name).spawn({
        let shared = shared.clone();
        move || {
            let mut runner = Runner {
                store,
                config,
                shared,
                stop: stop_rx,
                handled_since_checkpoint: 0,
                unhandled_bytes: 0,
            };
            let outcome = match factory() {
                Ok(handler) => runner.run(handler),
                Err(reason) => Err(reason),
            };
            if let Err(reason) = outcome {
                let mut sh = runner.shared.lock();
                sh.status = RunStatus::Faulted;
                sh.reason = reason;
            }
            let _ = done_tx.send(());
        }
    });
    if let Err(e) = spawned {
        let mut sh = shared.lock();
        sh.status = RunStatus::Faulted;
        sh.reason = format!("cannot start the projection's thread: {e}");
    }
    Running {
        stop: stop_tx,
        done: Some(done_rx),
    }
}

struct Runner {
    store: Arc<Store>,
    config: RunConfig,
    shared: Arc<Mutex<Shared>>,
    stop: watch::Receiver<Stop>,
    handled_since_checkpoint: u64,
    unhandled_bytes: u64,
}

impl Runner {
    /// The loop: read a batch, process it, write, checkpoint; wait when caught
    /// up. `Err` is a fault.
    fn run(&mut self, mut handler: Box<dyn Handler>) -> Result<(), String> {
        let (mut cursor, checkpoint_states) = {
            let sh = self.shared.lock();
            (sh.checkpoint.cursor, sh.checkpoint.states.clone())
        };
        handler.load(&checkpoint_states)?;
        // A `fromAll` source passes records of non-system streams only, so it
        // waits for those, and reads past the rest without copying them:
        // the projections' own output (links, results, checkpoints; all in
        // system streams) wakes no `fromAll` projection. A stream source may
        // read system streams (`fromCategory` reads `$ce-`), so it follows
        // every write.
        let from_all = handler.source().kind == SourceKind::All;
        let mut head = if from_all {
            self.store.watch_source_head()
        } else {
            self.store.watch_head()
        };
        let resolve = handler.source().resolves_links();
        let mut last_tag: Option<Tag> = self.shared.lock().checkpoint.tag.clone();
        loop {
            let stop = *self.stop.borrow();
            match stop {
                Stop::No => {}
                Stop::WithCheckpoint => {
                    self.checkpoint(handler.as_mut(), cursor, last_tag.as_ref())?;
                    self.shared.lock().status = RunStatus::Stopped;
                    return Ok(());
                }
                Stop::Now => {
                    self.shared.lock().status = RunStatus::Stopped;
                    return Ok(());
                }
            }
            head.borrow_and_update();
            let batch = if from_all {
                self.store.read_all_source(cursor, BATCH, SCAN)
            } else {
                self.store
                    .read_all(cursor, Direction::Forwards, BATCH, SCAN, None, resolve)
            };
            let mut pending = Vec::new();
            let mut changes = Vec::new();
            let mut handled = 0u64;
            for read in &batch.events {
                let original = read.original();
                let position = original.record.position;
                let Some(selected) = handler.source().select(read) else {
                    self.unhandled_bytes += original.record.body.len() as u64;
                    continue;
                };
                let tag = tag_of(handler.source(), &selected, position);
                let mut emitted = Vec::new();
                let change = match &selected {
                    Selected::Event(ev) => handler.process(ev, &mut emitted)?,
                    Selected::Deleted { stream, .. } => handler.deleted(stream)?,
                };
                handled += 1;
                if !emitted.is_empty() && !self.config.emit_enabled {
                    return Err("'emit' is not allowed by the projection/configuration/mode".into());
                }
                let (caused_by, correlation) = match &selected {
                    Selected::Event(ev) => (
                        Some(ev.record.record.id),
                        correlation_id(ev.is_json(), &ev.metadata()),
                    ),
                    Selected::Deleted { .. } => (None, None),
                };
                for e in emitted {
                    pending.push(Pending {
                        emitted: e,
                        caused_at: position,
                        tag: tag.clone(),
                        caused_by,
                        correlation_id: correlation.clone(),
                    });
                }
                for change in change {
                    changes.push((change, position, tag.clone(), caused_by));
                }
                last_tag = Some(tag);
            }
            cursor = batch.next;
            let user_emits = pending.len();
            let result_pending = self.apply_changes(handler.as_ref(), changes);
            self.write(pending, result_pending, user_emits)?;
            self.handled_since_checkpoint += handled;
            self.update_progress(cursor, handled, last_tag.as_ref(), from_all);
            if self.handled_since_checkpoint >= CHECKPOINT_HANDLED
                || self.unhandled_bytes >= CHECKPOINT_UNHANDLED_BYTES
            {
                self.checkpoint(handler.as_mut(), cursor, last_tag.as_ref())?;
            }
            if batch.at_end {
                self.wait(&mut head);
            }
        }
    }

    /// Sleeps until the log grows or a stop is asked (or the subsystem is
    /// gone, which is a stop).
    fn wait(&mut self, head: &mut watch::Receiver<usize>) {
        if head.has_changed().unwrap_or(false) || *self.stop.borrow() != Stop::No {
            return;
        }
        let stop = &mut self.stop;
        let outcome = futures::executor::block_on(async {
            tokio::select! {
                changed = head.changed() => changed.is_ok(),
                changed = stop.changed() => changed.is_ok(),
            }
        });
        if !outcome {
            // A sender is gone: the store or the subsystem was dropped.
            self.stop = watch::channel(Stop::Now).1;
        } else if *self.stop.borrow() == Stop::No {
            std::thread::sleep(COALESCE);
        }
    }

    /// Records the batch's state changes; returns the result events to write.
    fn apply_changes(
        &self,
        handler: &dyn Handler,
        changes: Vec<(Change, u64, Tag, Option<Uuid>)>,
    ) -> Vec<Pending> {
        let mut results = Vec::new();
        if changes.is_empty() {
            return results;
        }
        let output = handler.output_state();
        let result_stream = handler
            .result_stream()
            .unwrap_or_else(|| format!("$projections-{}-result", self.config.name));
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
            let mut push = |emitted: Emitted| {
                results.push(Pending {
                    emitted,
                    caused_at: position,
                    tag: tag.clone(),
                    caused_by,
                    correlation_id: None,
                })
            };
            if is_new {
                push(data_event(
                    format!("$projections-{}-partitions", self.config.name),
                    "$partition",
                    false,
                    change.partition.clone(),
                ));
            }
            if !result_changed {
                continue;
            }
            let (event_type, data) = match &change.state.result {
                Some(r) => ("Result", r.clone()),
                None => ("ResultRemoved", String::new()),
            };
            if change.partition.is_empty() {
                push(data_event(result_stream.clone(), event_type, true, data));
            } else {
                let stream = format!(
                    "$projections-{}-{}-result",
                    self.config.name, change.partition
                );
                push(data_event(stream, event_type, true, data));
            }
        }
        results
    }

    /// Writes the batch's emitted events and results; tracks emitted streams.
    fn write(
        &self,
        pending: Vec<Pending>,
        results: Vec<Pending>,
        user_emits: usize,
    ) -> Result<(), String> {
        if pending.is_empty() && results.is_empty() {
            return Ok(());
        }
        let mut sh = self.shared.lock();
        let version = self.config.version;
        let mut all = pending;
        all.extend(results);
        let written = sh
            .writer
            .write(&self.store, version, all)
            .map_err(|e| e.0)?;
        if user_emits == 0 {
            return Ok(());
        }
        let mut tracked = Vec::new();
        for stream in written {
            if sh.emitted_streams.insert(stream.clone()) && self.config.track_emitted_streams {
                tracked.push(stream);
            }
        }
        drop(sh);
        if !tracked.is_empty() {
            let events = tracked
                .into_iter()
                .map(|s| proposed("$StreamTracked", false, s.into_bytes(), Vec::new()))
                .collect();
            self.append(
                format!("$projections-{}-emittedstreams", self.config.name),
                events,
            )?;
        }
        Ok(())
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
            let pending = Pending {
                emitted: extra,
                caused_at: 0,
                tag: tag.clone(),
                caused_by: None,
                correlation_id: None,
            };
            let event = proposed(
                &pending.emitted.event_type,
                pending.emitted.is_json,
                pending.emitted.data.clone().into_bytes(),
                metadata.clone().into_bytes(),
            );
            self.append(pending.emitted.stream, vec![event])?;
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

fn data_event(stream: String, event_type: &str, is_json: bool, data: String) -> Emitted {
    Emitted {
        stream,
        event_type: event_type.to_owned(),
        is_json,
        data,
        extra: Default::default(),
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
