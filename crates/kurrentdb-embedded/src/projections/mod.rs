//! The projection subsystem: the projection manager behind the Projections
//! gRPC service, the five standard projections (native), and user
//! projections in JavaScript (with the `javascript` feature).
//!
//! - `standard`: `$by_category`, `$by_event_type`, `$stream_by_category`,
//!   `$streams`, `$by_correlation_id`, written as KurrentDB's C# handlers;
//! - `source`: what a projection reads and which events pass;
//! - `event`: an event as a projection sees it;
//! - `emit`: how emitted events are written (metadata, tags, duplicates);
//! - `runner`: one projection's part of following the log (handing events
//!   to its handler, writing, checkpointing);
//! - `thread`: the threads that follow it: one shared by the standard
//!   projections (`thread::SharedThread`), one per user projection;
//! - `state`: what a runner and the manager share;
//! - `management`: what the management calls take and answer, and who may
//!   make them ([`RunAs`]);
//! - `js` (feature `javascript`): the JavaScript engine (QuickJS).
//!
//! # Management, as KurrentDB does it
//!
//! (`ProjectionManager.cs`, `ManagedProjection.cs`, `Services/Grpc/*.cs`.)
//! - On start the subsystem writes `$ProjectionsInitialized` to
//!   `$projections-$all`, then registers the standard projections there
//!   (`$ProjectionCreated`, data the name; projection ids are the event
//!   numbers, so 1 to 5), created disabled; `--start-standard-projections`
//!   enables them. Each projection's definition is written to
//!   `$projections-<name>` (`$ProjectionUpdated`, JSON) at every change; its
//!   version is that event's number, and its epoch the version it was last
//!   reset at (-1: never).
//! - Creating a taken name fails with ALREADY_EXISTS `"Duplicate projection
//!   names : <name>"`; any call naming a missing projection with NOT_FOUND
//!   `"Projection '<name>' not found"`; deleting a projection that is not
//!   stopped or faulted, or a standard one, with FAILED_PRECONDITION
//!   (KurrentDB 26.2's codes; older servers answered UNKNOWN).
//! - Disable stops after a checkpoint; abort stops without one; enable runs
//!   again from the last checkpoint; reset forgets the state and runs again
//!   from the start (emitted streams are truncated first); update replaces
//!   the query and restarts from the checkpoint; delete removes the
//!   projection (with its checkpoint and tracked emitted streams when asked).
//! - `--run-projections=System` runs only the standard projections (user
//!   projections can be managed but stay stopped); `None` leaves the
//!   service out, so it answers UNIMPLEMENTED.

mod emit;
mod event;
#[cfg(feature = "javascript")]
mod js;
mod json;
mod management;
mod runner;
mod source;
mod standard;
mod state;
mod tag;
#[cfg(test)]
mod tests;
mod thread;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::store::{Deletion, Direction, ExpectedRevision, ReadStreamError, Store};

use emit::Writer;
use management::cut;
pub(crate) use management::{
    DeleteStreams, Details, MAX_SHOWN_STATE, Mode, NewProjection, OpError, RunAs, Statistics,
};
use runner::{Handler, HandlerFactory, RunConfig, Stop};
use source::SourceDef;
use standard::Standard;
pub(crate) use state::{PartitionState, RunStatus, Shared};
use tag::ProjectionVersion;
use thread::{Running, SharedThread};

/// Whether this build runs JavaScript projections (the `javascript` feature).
pub const JAVASCRIPT: bool = cfg!(feature = "javascript");

/// Which projections run: KurrentDB's `--run-projections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunProjections {
    /// No projection subsystem: the Projections service answers UNIMPLEMENTED
    /// (KurrentDB's default).
    #[default]
    None,
    /// The standard projections only.
    System,
    /// Standard and user projections.
    All,
}

impl FromStr for RunProjections {
    type Err = String;

    /// `None`, `System` or `All`, in any case (as KurrentDB parses it).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(RunProjections::None),
            "system" => Ok(RunProjections::System),
            "all" => Ok(RunProjections::All),
            _ => Err(format!(
                "invalid --run-projections value {s:?} (expected None, System or All)"
            )),
        }
    }
}

/// The registration stream.
const REGISTRATION_STREAM: &str = "$projections-$all";

/// One managed projection.
#[derive(Debug)]
struct Managed {
    id: i64,
    name: String,
    standard: Option<Standard>,
    query: String,
    enabled: bool,
    emit_enabled: bool,
    track_emitted_streams: bool,
    epoch: i64,
    version: i64,
    shared: Arc<Mutex<Shared>>,
    running: Option<Running>,
    /// Aborted while running, and not started or disabled since: KurrentDB's
    /// managed state `Aborted` (`ManagedProjection.Abort` kills the core
    /// projection; `AbortingState` then sets `Aborted`). It is reported as
    /// "Aborted/Stopped" and cannot be deleted until disabled.
    aborted: bool,
}

impl Managed {
    fn version(&self) -> ProjectionVersion {
        ProjectionVersion {
            id: self.id,
            epoch: self.epoch,
            version: self.version,
        }
    }
}

/// The subsystem: every projection, by name.
#[derive(Debug)]
pub(crate) struct Projections {
    store: Arc<Store>,
    run: RunProjections,
    /// Management calls are serialized (they wait for runners to stop).
    registry: tokio::sync::Mutex<BTreeMap<String, Managed>>,
    /// The thread the standard projections run on.
    standard: SharedThread,
}

impl Projections {
    /// Starts the subsystem: registers the standard projections (enabled and
    /// running with `start_standard`).
    pub(crate) fn start(store: Arc<Store>, run: RunProjections, start_standard: bool) -> Self {
        let mut subsystem = Projections {
            standard: SharedThread::new(store.clone()),
            store,
            run,
            registry: tokio::sync::Mutex::new(BTreeMap::new()),
        };
        let mut registry = BTreeMap::new();
        subsystem.append(
            REGISTRATION_STREAM,
            "$ProjectionsInitialized",
            false,
            Vec::new(),
        );
        for s in Standard::ALL {
            let mut m = subsystem.register(s.name(), Some(s), s.config().to_owned(), false, true);
            m.track_emitted_streams = false;
            if start_standard {
                m.enabled = true;
                subsystem.persist(&mut m);
                subsystem.start_runner(&mut m);
            }
            registry.insert(m.name.clone(), m);
        }
        subsystem.registry = tokio::sync::Mutex::new(registry);
        subsystem
    }

    /// Creates a continuous projection, enabled. The checks come in
    /// KurrentDB's order: the handler's (emitted streams tracked without
    /// emitting), the mode, the caller ([`RunAs`]), the name, a duplicate.
    pub(crate) async fn create(&self, p: NewProjection, run_as: RunAs) -> Result<(), OpError> {
        if p.track_emitted_streams && !p.emit_enabled && p.mode == Mode::Continuous {
            return Err(OpError::Invalid(
                "EmitEnabled must be set to true to track emitted streams.".into(),
            ));
        }
        match p.mode {
            Mode::Continuous => {}
            Mode::Transient => {
                return Err(OpError::Unsupported(
                    "Transient projections are deprecated. Use the secondary indexing query API."
                        .into(),
                ));
            }
            Mode::OneTime => {
                return Err(OpError::Unsupported(
                    "One-time projections are not supported by the embedded server.".into(),
                ));
            }
        }
        run_as.check()?;
        if p.name.trim().is_empty() {
            return Err(OpError::Failed("Projection name is required".into()));
        }
        let mut registry = self.registry.lock().await;
        if registry.contains_key(&p.name) {
            return Err(OpError::Conflict(format!(
                "Duplicate projection names : {}",
                p.name
            )));
        }
        let mut m = self.register(&p.name, None, p.query, p.emit_enabled, true);
        m.track_emitted_streams = p.track_emitted_streams;
        self.start_prepared(&mut m).await;
        registry.insert(m.name.clone(), m);
        Ok(())
    }

    /// Replaces a projection's query (and emit setting).
    pub(crate) async fn update(
        &self,
        name: &str,
        query: String,
        emit_enabled: Option<bool>,
        run_as: RunAs,
    ) -> Result<(), OpError> {
        let mut registry = self.registry.lock().await;
        let m = get(&mut registry, name)?;
        run_as.check()?;
        if let Some(running) = m.running.take() {
            running.stop(Stop::WithCheckpoint).await;
        }
        m.query = query;
        if let Some(emit) = emit_enabled {
            m.emit_enabled = emit;
        }
        self.persist(m);
        if m.enabled {
            self.start_prepared(m).await;
        }
        Ok(())
    }

    /// Deletes a stopped projection, with the streams `what` names.
    pub(crate) async fn delete(
        &self,
        name: &str,
        what: DeleteStreams,
        run_as: RunAs,
    ) -> Result<(), OpError> {
        let mut registry = self.registry.lock().await;
        let m = get(&mut registry, name)?;
        if m.standard.is_some() {
            return Err(OpError::Failed(
                "We currently don't allow for the deletion of System Projections.".into(),
            ));
        }
        run_as.check()?;
        if m.aborted || (m.running.is_some() && m.shared.lock().status == RunStatus::Running) {
            return Err(OpError::Failed(
                "Cannot delete a projection that hasn't been stopped or faulted.".into(),
            ));
        }
        if let Some(running) = m.running.take() {
            running.stop(Stop::Now).await;
        }
        if what.checkpoint_stream {
            self.soft_delete(&format!("$projections-{name}-checkpoint"));
        }
        if what.emitted_streams && m.emit_enabled && m.track_emitted_streams {
            let tracking = format!("$projections-{name}-emittedstreams");
            for stream in self.tracked_streams(&tracking) {
                self.soft_delete(&stream);
            }
            self.soft_delete(&tracking);
        }
        self.append(
            REGISTRATION_STREAM,
            "$ProjectionDeleted",
            false,
            name.as_bytes().to_vec(),
        );
        registry.remove(name);
        Ok(())
    }

    /// Statistics of one projection, or of all.
    pub(crate) async fn statistics(&self, name: Option<&str>) -> Result<Vec<Statistics>, OpError> {
        let mut registry = self.registry.lock().await;
        if let Some(name) = name {
            let m = get(&mut registry, name)?;
            return Ok(vec![statistics_of(m)]);
        }
        let mut all: Vec<&Managed> = registry.values().collect();
        all.sort_by_key(|m| m.id);
        Ok(all.into_iter().map(statistics_of).collect())
    }

    /// One projection's statistics, definition and its first
    /// `max_partitions` partition states (see [`Details`]). Unlike
    /// [`Projections::state`], it answers for a projection that faulted
    /// before it ran (it has no partition).
    pub(crate) async fn details(
        &self,
        name: &str,
        max_partitions: usize,
    ) -> Result<Details, OpError> {
        let mut registry = self.registry.lock().await;
        let m = get(&mut registry, name)?;
        let statistics = statistics_of(m);
        let sh = m.shared.lock();
        let cut = |text: &Option<String>| text.as_deref().map(|t| cut(t, MAX_SHOWN_STATE));
        let partitions = sh
            .states
            .iter()
            .take(max_partitions)
            .map(|(partition, p)| {
                let shown = PartitionState {
                    state: cut(&p.state),
                    result: cut(&p.result),
                };
                (partition.clone(), shown)
            })
            .collect();
        Ok(Details {
            statistics,
            query: m.query.clone(),
            emit_enabled: m.emit_enabled,
            track_emitted_streams: m.track_emitted_streams,
            standard: m.standard.is_some(),
            partitions,
            partition_count: sh.states.len(),
        })
    }

    /// Enables a projection: it runs from its last checkpoint.
    pub(crate) async fn enable(&self, name: &str, run_as: RunAs) -> Result<(), OpError> {
        let mut registry = self.registry.lock().await;
        let m = get(&mut registry, name)?;
        run_as.check()?;
        let running = m.shared.lock().status == RunStatus::Running && m.running.is_some();
        if m.enabled && running {
            return Ok(());
        }
        if let Some(old) = m.running.take() {
            old.stop(Stop::Now).await;
        }
        m.enabled = true;
        self.persist(m);
        self.start_prepared(m).await;
        Ok(())
    }

    /// Disables (with a checkpoint) or aborts (without) a projection.
    pub(crate) async fn disable(
        &self,
        name: &str,
        write_checkpoint: bool,
        run_as: RunAs,
    ) -> Result<(), OpError> {
        let mut registry = self.registry.lock().await;
        let m = get(&mut registry, name)?;
        run_as.check()?;
        // Aborting a running projection leaves it `Aborted`; aborting one
        // that is not running changes nothing; disabling an aborted one
        // stops it (`ManagedProjection.Abort`, `StopUnlessPreparedOrLoaded`).
        let was_running = m.running.is_some() && m.shared.lock().status == RunStatus::Running;
        m.aborted = !write_checkpoint && (was_running || m.aborted);
        if let Some(running) = m.running.take() {
            let how = if write_checkpoint {
                Stop::WithCheckpoint
            } else {
                Stop::Now
            };
            running.stop(how).await;
        }
        m.enabled = false;
        self.persist(m);
        Ok(())
    }

    /// Resets a projection: its state and checkpoint are dropped, what it
    /// emitted is truncated, and it runs again from the start if enabled.
    pub(crate) async fn reset(&self, name: &str, run_as: RunAs) -> Result<(), OpError> {
        let mut registry = self.registry.lock().await;
        let m = get(&mut registry, name)?;
        run_as.check()?;
        if let Some(running) = m.running.take() {
            running.stop(Stop::Now).await;
        }
        let emitted: Vec<String> = {
            let mut sh = m.shared.lock();
            sh.reset();
            sh.emitted_streams.drain().collect()
        };
        Writer::truncate(&self.store, &emitted);
        // The epoch is the version this reset writes.
        m.epoch = m.version + 1;
        self.persist(m);
        if m.enabled {
            self.start_prepared(m).await;
        }
        Ok(())
    }

    /// A partition's state (`None`: it has none), or its result.
    pub(crate) async fn state(
        &self,
        name: &str,
        partition: &str,
        result: bool,
    ) -> Result<Option<String>, OpError> {
        let answer = {
            let mut registry = self.registry.lock().await;
            let m = get(&mut registry, name)?;
            let sh = m.shared.lock();
            // KurrentDB forwards the request to the core projection
            // (`ManagedProjection.Handle(GetState)`: faulted is past
            // running), and one that faulted preparing (an empty query, a
            // query that does not compile) was never created: nothing
            // answers, and the caller's deadline ends the call.
            (!(sh.status == RunStatus::Faulted && sh.unprepared)).then(|| {
                sh.states.get(partition).and_then(|p| {
                    if result {
                        p.result.clone()
                    } else {
                        p.state.clone()
                    }
                })
            })
        };
        match answer {
            Some(answer) => Ok(answer),
            None => std::future::pending().await,
        }
    }

    /// Stops every projection (with a checkpoint) and starts the enabled
    /// ones again.
    pub(crate) async fn restart(&self) {
        let mut registry = self.registry.lock().await;
        for m in registry.values_mut() {
            if let Some(running) = m.running.take() {
                running.stop(Stop::WithCheckpoint).await;
            }
        }
        for m in registry.values_mut() {
            if m.enabled {
                self.start_runner(m);
            }
        }
    }

    // ---- internals ----------------------------------------------------------

    /// Registers a new projection (`$ProjectionCreated`) and writes its
    /// definition.
    fn register(
        &self,
        name: &str,
        standard: Option<Standard>,
        query: String,
        emit_enabled: bool,
        enabled: bool,
    ) -> Managed {
        let id = self.append(
            REGISTRATION_STREAM,
            "$ProjectionCreated",
            false,
            name.as_bytes().to_vec(),
        );
        let mut m = Managed {
            id,
            name: name.to_owned(),
            standard,
            query,
            enabled: enabled && standard.is_none(),
            emit_enabled: emit_enabled || standard.is_some(),
            track_emitted_streams: false,
            epoch: -1,
            version: 0,
            shared: Arc::new(Mutex::new(Shared::default())),
            running: None,
            aborted: false,
        };
        self.persist(&mut m);
        m
    }

    /// Writes the projection's definition (`$ProjectionUpdated` to
    /// `$projections-<name>`); its number is the new version.
    fn persist(&self, m: &mut Managed) {
        let handler_type = m.standard.map_or("JS", Standard::handler_type);
        let definition = serde_json::json!({
            "handlerType": handler_type,
            "query": m.query,
            "mode": "Continuous",
            "enabled": m.enabled,
            "deleted": false,
            "emitEnabled": m.emit_enabled,
            "checkpointsDisabled": false,
            "trackEmittedStreams": m.track_emitted_streams,
            "epoch": m.epoch,
            "version": m.version,
            "engineVersion": 1,
        });
        let stream = format!("$projections-{}", m.name);
        m.version = self.append(
            &stream,
            "$ProjectionUpdated",
            true,
            definition.to_string().into_bytes(),
        );
    }

    /// [`Projections::start_runner`], then waits until the projection is
    /// prepared (see [`thread::Running::prepared`]).
    async fn start_prepared(&self, m: &mut Managed) {
        self.start_runner(m);
        if let Some(running) = m.running.as_mut() {
            running.prepared().await;
        }
    }

    /// Starts `m`'s runner, when this subsystem may run it.
    fn start_runner(&self, m: &mut Managed) {
        let allowed = match self.run {
            RunProjections::All => true,
            RunProjections::System => m.standard.is_some(),
            RunProjections::None => false,
        };
        if !allowed || m.running.is_some() {
            return;
        }
        m.aborted = false;
        let config = RunConfig {
            name: m.name.clone(),
            version: m.version(),
            emit_enabled: m.emit_enabled,
            track_emitted_streams: m.track_emitted_streams,
        };
        let factory = handler_factory(m.standard, m.query.clone());
        m.running = Some(match m.standard {
            Some(_) => self.standard.start(config, m.shared.clone(), factory),
            None => thread::start(self.store.clone(), config, m.shared.clone(), factory),
        });
    }

    /// Appends one system event; returns its revision.
    fn append(&self, stream: &str, event_type: &str, is_json: bool, data: Vec<u8>) -> i64 {
        self.store
            .append_system(stream, event_type, is_json, data)
            .and_then(|r| i64::try_from(r).ok())
            .unwrap_or(-1)
    }

    /// Soft-deletes a stream (missing or deleted streams are fine).
    fn soft_delete(&self, stream: &str) {
        let _ = self.store.delete(
            &Bytes::from(stream.to_owned()),
            ExpectedRevision::Any,
            Deletion::Soft,
        );
    }

    /// The streams recorded in a `-emittedstreams` stream.
    fn tracked_streams(&self, tracking: &str) -> Vec<String> {
        let mut streams = Vec::new();
        let mut from = Some(0);
        while let Some(start) = from {
            match self.store.read_stream(
                tracking.as_bytes(),
                Some(start),
                Direction::Forwards,
                512,
                false,
            ) {
                Ok(batch) => {
                    let done = batch.events.is_empty();
                    for e in batch.events.into_iter().filter_map(|e| e.event) {
                        streams.push(String::from_utf8_lossy(e.record.data_slice()).into_owned());
                    }
                    from = if done { None } else { batch.next };
                }
                Err(ReadStreamError::NotFound | ReadStreamError::Deleted) => from = None,
            }
        }
        streams.sort();
        streams.dedup();
        streams
    }
}

fn get<'a>(
    registry: &'a mut BTreeMap<String, Managed>,
    name: &str,
) -> Result<&'a mut Managed, OpError> {
    registry
        .get_mut(name)
        .ok_or_else(|| OpError::NotFound(name.to_owned()))
}

/// The statistics KurrentDB reports for `m` (`ManagedProjection.GetStatistics`).
fn statistics_of(m: &Managed) -> Statistics {
    let sh = m.shared.lock();
    let running = m.running.is_some() && sh.status == RunStatus::Running;
    let base = match (running, sh.status) {
        (true, _) => "Running",
        (false, RunStatus::Faulted) => "Faulted",
        // The managed state before the core projection's status, as
        // `ManagedProjection.GetStatistics` joins them; no "(Enabled)".
        (false, _) if m.aborted => "Aborted/Stopped",
        (false, _) => "Stopped",
    };
    let suffix = if matches!(base, "Stopped" | "Faulted") && m.enabled {
        " (Enabled)"
    } else {
        ""
    };
    let status = if base == "Running" {
        base.to_owned()
    } else {
        format!("{base}{suffix}")
    };
    Statistics {
        name: m.name.clone(),
        status,
        state_reason: if sh.status == RunStatus::Faulted {
            sh.reason.clone()
        } else {
            String::new()
        },
        mode: "Continuous",
        position: sh
            .position
            .as_ref()
            .map(|t| t.display())
            .unwrap_or_default(),
        progress: sh.progress,
        last_checkpoint: sh
            .last_checkpoint
            .as_ref()
            .map(|t| t.display())
            .unwrap_or_default(),
        events_processed: sh.events_processed,
        buffered: sh.buffered,
        epoch: m.epoch,
        version: m.version,
        partitions_cached: i32::try_from(sh.states.len()).unwrap_or(i32::MAX),
    }
}

/// The handler of a projection, built on its runner's thread.
fn handler_factory(standard: Option<Standard>, query: String) -> HandlerFactory {
    match standard {
        Some(s) => Box::new(move || Ok(Box::new(Native::new(s)) as Box<dyn Handler>)),
        None => javascript(query),
    }
}

#[cfg(feature = "javascript")]
fn javascript(query: String) -> HandlerFactory {
    Box::new(move || js::JsHandler::compile(&query).map(|h| Box::new(h) as Box<dyn Handler>))
}

#[cfg(not(feature = "javascript"))]
fn javascript(_query: String) -> HandlerFactory {
    Box::new(|| {
        Err(
            "JavaScript projections are not available: this kurrentdb-embedded was built \
             without its `javascript` feature"
                .to_owned(),
        )
    })
}

/// A standard projection's handler.
struct Native {
    standard: Standard,
    source: SourceDef,
}

impl Native {
    fn new(standard: Standard) -> Native {
        Native {
            standard,
            source: SourceDef::all(standard.includes_links()),
        }
    }
}

impl Handler for Native {
    fn source(&self) -> &SourceDef {
        &self.source
    }

    fn load(&mut self, _states: &BTreeMap<String, PartitionState>) -> Result<(), String> {
        Ok(())
    }

    fn process(
        &mut self,
        ev: &event::SourceEvent<'_>,
        out: &mut emit::Emits,
    ) -> Result<Vec<runner::Change>, String> {
        self.standard.process(ev, out);
        Ok(Vec::new())
    }

    fn may_act(&self, ev: &event::SourceEvent<'_>) -> bool {
        self.standard.may_emit(ev)
    }

    fn on_checkpoint(&mut self, position: &tag::Tag) -> Option<emit::Emitted> {
        match position {
            tag::Tag::Position(p) => self.standard.on_checkpoint(*p),
            tag::Tag::Streams(_) => None,
        }
    }
}
