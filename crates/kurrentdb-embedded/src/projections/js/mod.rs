//! User projections in JavaScript, run by QuickJS (the `rquickjs` crate).
//!
//! # Why QuickJS
//!
//! Measured on the 2-core machine CI runs on (see the issue note): a cold
//! build of `rquickjs` (QuickJS compiled from C) took 2m52s under a load of
//! 8, and it sustained 175,000 handler calls per second (parse, count,
//! return); `boa_engine` (pure Rust) needs Rust 1.91 in its current release
//! (the workspace's MSRV is 1.88), and its 0.20 release took longer to build
//! and ran the same handler an order of magnitude slower. QuickJS also has
//! what a projection needs to fault rather than hang: an interrupt handler
//! (checked during execution) and a memory limit.
//!
//! # The runtime
//!
//! `prelude.js` defines the projection API (selectors, `when`, transforms,
//! `emit`, `linkTo`, `linkStreamTo`, `options`, the event object) and keeps
//! the partition states inside the engine; this module compiles the user's
//! query after it, reads the source definition, and calls the prelude per
//! event. Each projection has its own runtime on its runner's thread.
//!
//! # Limits (a projection that throws or loops faults itself, not the server)
//!
//! - compiling the query may take 500 ms, each event's handlers 250 ms
//!   (KurrentDB's `ProjectionCompilationTimeout` and
//!   `ProjectionExecutionTimeout` defaults): the interrupt handler stops the
//!   script past its deadline, and the projection faults with KurrentDB's
//!   message, "Projection script took too long to execute (took: ...,
//!   allowed: ...)";
//! - the runtime may allocate 64 MiB, and its stack 1 MiB;
//! - an exception faults the projection with the error as its reason.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::convert::List;
use rquickjs::function::Args;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Object, Runtime, Value};

use super::emit::{Emits, Emitted, ExtraMetadata};
use super::event::SourceEvent;
use super::runner::{Change, Handler};
use super::source::{SourceDef, SourceKind};
use super::standard::category;
use super::state::PartitionState;
use crate::log::LINK_EVENT_TYPE;

/// The projection API, run before the user's query.
const PRELUDE: &str = include_str!("prelude.js");
/// How long compiling a query may take.
const COMPILATION_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one event's handlers may take.
const EXECUTION_TIMEOUT: Duration = Duration::from_millis(250);
/// The most memory one projection's engine may allocate.
const MEMORY_LIMIT: usize = 64 * 1024 * 1024;
/// The most stack one projection's engine may use.
const STACK_LIMIT: usize = 1024 * 1024;

/// A compiled JavaScript projection.
pub(crate) struct JsHandler {
    // The context before the runtime: it must be dropped first.
    context: Context,
    _runtime: Runtime,
    deadline: Rc<Cell<Option<(Instant, Duration, bool)>>>,
    source: SourceDef,
    produces_results: bool,
    result_stream: Option<String>,
}

/// The source definition `__kdb.definition()` reports.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Definition {
    all: bool,
    streams: Vec<String>,
    categories: Vec<String>,
    all_events: bool,
    events: Vec<String>,
    include_links: bool,
    by_stream: bool,
    by_custom_partitions: bool,
    produces_results: bool,
    result_stream_name: Option<String>,
    handles_deleted: bool,
    reorder_events: bool,
    processing_lag: Option<i64>,
}

impl JsHandler {
    /// Compiles `query`; `Err` is the fault reason (a syntax error, an
    /// invalid definition, a timeout).
    pub(crate) fn compile(query: &str) -> Result<JsHandler, String> {
        let runtime = Runtime::new().map_err(|e| format!("cannot start JavaScript: {e}"))?;
        runtime.set_memory_limit(MEMORY_LIMIT);
        runtime.set_max_stack_size(STACK_LIMIT);
        let deadline: Rc<Cell<Option<(Instant, Duration, bool)>>> = Rc::new(Cell::new(None));
        let watch = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            watch.get().is_some_and(|(d, _, _)| Instant::now() >= d)
        })));
        let context =
            Context::full(&runtime).map_err(|e| format!("cannot start JavaScript: {e}"))?;
        let mut handler = JsHandler {
            context,
            _runtime: runtime,
            deadline,
            source: SourceDef::all(false),
            produces_results: false,
            result_stream: None,
        };
        let definition = handler.guarded(COMPILATION_TIMEOUT, false, |ctx| {
            ctx.eval::<(), _>(PRELUDE).catch(&ctx).map_err(reason)?;
            ctx.eval::<(), _>(query).catch(&ctx).map_err(reason)?;
            let kdb: Object = ctx.globals().get("__kdb").map_err(|e| e.to_string())?;
            let definition: Function = kdb.get("definition").map_err(|e| e.to_string())?;
            let text: String = definition.call(()).catch(&ctx).map_err(reason)?;
            let run: Function = kdb.get("run").map_err(|e| e.to_string())?;
            run.call::<_, ()>(()).catch(&ctx).map_err(reason)?;
            Ok(text)
        })?;
        let definition: Definition = serde_json::from_str(&definition)
            .map_err(|e| format!("invalid projection definition: {e}"))?;
        handler.source = source_of(&definition)?;
        handler.produces_results = definition.produces_results;
        handler.result_stream = definition.result_stream_name;
        Ok(handler)
    }

    /// Runs `f` in the context with a deadline `limit` away.
    fn guarded<T>(
        &self,
        limit: Duration,
        executing: bool,
        f: impl FnOnce(Ctx<'_>) -> Result<T, String>,
    ) -> Result<T, String> {
        let start = Instant::now();
        self.deadline.set(Some((start + limit, limit, executing)));
        let outcome = self.context.with(f);
        self.deadline.set(None);
        outcome.map_err(|e| {
            let took = start.elapsed();
            if took >= limit {
                let action = if executing { "execute" } else { "compile" };
                format!(
                    "Projection script took too long to {action} (took: {}, allowed: {})",
                    timespan(took),
                    timespan(limit)
                )
            } else {
                e
            }
        })
    }
}

/// The arguments of a prelude call.
enum EventArgs<'a> {
    /// `process(partition, ...event)`.
    Process(String, &'a SourceEvent<'a>),
    /// `partitionOf(...event)`.
    PartitionOf(&'a SourceEvent<'a>),
    /// `deleted(partition)`.
    Deleted(&'a str),
}

impl EventArgs<'_> {
    fn into_args<'js>(self, ctx: &Ctx<'js>) -> rquickjs::Result<Args<'js>> {
        let mut args = Args::new(ctx.clone(), 11);
        let ev = match self {
            EventArgs::Deleted(partition) => {
                args.push_arg(partition)?;
                return Ok(args);
            }
            EventArgs::Process(partition, ev) => {
                args.push_arg(partition)?;
                ev
            }
            EventArgs::PartitionOf(ev) => ev,
        };
        let data = ev.data();
        let metadata = ev.metadata();
        let link_metadata = ev.link.map(|l| l.record.metadata_slice());
        args.push_arg(ev.event_type)?;
        args.push_arg(ev.stream)?;
        args.push_arg(ev.revision as f64)?;
        args.push_arg(String::from_utf8_lossy(data).as_ref())?;
        args.push_arg(ev.is_json())?;
        args.push_arg(String::from_utf8_lossy(metadata).as_ref())?;
        match &link_metadata {
            Some(m) => args.push_arg(String::from_utf8_lossy(m).as_ref())?,
            None => args.push_arg(rquickjs::Undefined)?,
        }
        args.push_arg(ev.record.record.id.to_string())?;
        args.push_arg(crate::ticks::timestamp(ev.created))?;
        args.push_arg(category(ev.stream).unwrap_or_default())?;
        Ok(args)
    }
}

/// An emitted event as the prelude returns it: stream, type, JSON or not,
/// data, extra metadata pairs.
type RawEmit = List<(String, String, bool, String, Vec<List<(String, String)>>)>;
/// A change as the prelude returns it: partition, state JSON, result JSON.
type RawChange = List<(String, Option<String>, Option<String>)>;

/// Reads `null` or `[emitted, changes]`.
fn read_output(out: Value<'_>) -> rquickjs::Result<(Vec<Emitted>, Vec<Change>)> {
    if out.is_null() || out.is_undefined() {
        return Ok((Vec::new(), Vec::new()));
    }
    let List((emitted, changes)): List<(Vec<RawEmit>, Vec<RawChange>)> =
        rquickjs::FromJs::from_js(&out.ctx().clone(), out)?;
    let emitted = emitted
        .into_iter()
        .map(|List((stream, event_type, is_json, data, extra))| {
            let mut metadata = ExtraMetadata::new();
            for List((k, v)) in extra {
                metadata.push_raw(&k, &v);
            }
            Emitted {
                stream,
                event_type,
                is_json,
                data,
                extra: metadata,
            }
        })
        .collect();
    let changes = changes
        .into_iter()
        .map(|List((partition, state, result))| Change {
            partition,
            state: PartitionState { state, result },
        })
        .collect();
    Ok((emitted, changes))
}

/// The fault reason of a caught JavaScript error: `Error: <message>`.
fn reason(e: CaughtError<'_>) -> String {
    match e {
        CaughtError::Exception(ex) => {
            let name: String = ex
                .as_object()
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".to_owned());
            let message = ex.message().unwrap_or_default();
            format!("{name}: {message}")
        }
        CaughtError::Value(v) => {
            let text = v
                .as_string()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| format!("{v:?}"));
            format!("Uncaught: {text}")
        }
        CaughtError::Error(e) => e.to_string(),
    }
}

/// A duration as .NET prints a `TimeSpan` ("c"): `hh:mm:ss.fffffff`.
fn timespan(d: Duration) -> String {
    let ticks = d.as_nanos() / 100;
    let secs = ticks / 10_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:07}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        ticks % 10_000_000
    )
}

/// The source a definition describes, refused as KurrentDB's
/// `ReaderStrategy.Create` refuses it.
fn source_of(d: &Definition) -> Result<SourceDef, String> {
    let has_streams = !d.streams.is_empty();
    let has_categories = !d.categories.is_empty();
    if !d.all && !has_streams && !has_categories {
        return Err("None of streams and categories are included".into());
    }
    if !d.all_events && d.events.is_empty() {
        return Err("None of events are included".into());
    }
    if has_streams && has_categories {
        return Err(
            "Streams and categories cannot be included in a filter at the same time".into(),
        );
    }
    if d.all && (has_streams || has_categories) {
        return Err("Both FromAll and specific categories/streams cannot be set".into());
    }
    if d.by_stream && has_streams {
        return Err("foreachStream projections are not supported on stream based sources".into());
    }
    if d.reorder_events {
        if d.all {
            return Err("Event reordering cannot be used with fromAll()".into());
        }
        if d.streams.len() < 2 {
            return Err("Event reordering is only available in fromStreams([]) projections".into());
        }
        if d.processing_lag.unwrap_or(0) < 50 {
            return Err("Event reordering requires processing lag at least of 50ms".into());
        }
    }
    if d.handles_deleted && !d.by_stream {
        return Err("Deleted stream notifications are only supported with foreachStream()".into());
    }
    let kind = if d.all {
        SourceKind::All
    } else if has_categories {
        SourceKind::Streams(d.categories.iter().map(|c| format!("$ce-{c}")).collect())
    } else {
        SourceKind::Streams(d.streams.clone())
    };
    Ok(SourceDef {
        kind,
        all_events: d.all_events,
        events: d.events.iter().cloned().collect(),
        include_links: d.include_links,
        by_stream: d.by_stream,
        by_custom_partitions: d.by_custom_partitions,
        handles_deleted: d.handles_deleted,
    })
}

/// The partition `foreachStream` puts an event in: the original stream of a
/// resolved link (its `$o`), else the event's stream (without the `$$` of a
/// metadata stream) (`ByStreamStatePartitionSelector`).
fn stream_partition(ev: &SourceEvent<'_>) -> String {
    if let Some(link) = ev.link
        && link.record.event_type.as_ref() == LINK_EVENT_TYPE
        && let Ok(serde_json::Value::Object(m)) =
            serde_json::from_slice::<serde_json::Value>(link.record.metadata_slice())
        && let Some(serde_json::Value::String(o)) = m.get("$o")
    {
        return o.clone();
    }
    ev.stream.strip_prefix("$$").unwrap_or(ev.stream).to_owned()
}

impl Handler for JsHandler {
    fn source(&self) -> &SourceDef {
        &self.source
    }

    fn output_state(&self) -> bool {
        self.produces_results
    }

    fn result_stream(&self) -> Option<String> {
        self.result_stream.clone()
    }

    fn load(&mut self, states: &BTreeMap<String, PartitionState>) -> Result<(), String> {
        for (partition, state) in states {
            let json = state.state.clone();
            self.guarded(EXECUTION_TIMEOUT, true, |ctx| {
                let kdb: Object = ctx.globals().get("__kdb").map_err(|e| e.to_string())?;
                let load: Function = kdb.get("load").map_err(|e| e.to_string())?;
                load.call::<_, ()>((partition.as_str(), json))
                    .catch(&ctx)
                    .map_err(reason)
            })?;
        }
        Ok(())
    }

    fn process(&mut self, ev: &SourceEvent<'_>, emits: &mut Emits) -> Result<Vec<Change>, String> {
        let partition = if self.source.by_custom_partitions {
            let p = self.guarded(EXECUTION_TIMEOUT, true, |ctx| {
                let kdb: Object = ctx.globals().get("__kdb").map_err(|e| e.to_string())?;
                let f: Function = kdb.get("partitionOf").map_err(|e| e.to_string())?;
                let args = EventArgs::PartitionOf(ev)
                    .into_args(&ctx)
                    .map_err(|e| e.to_string())?;
                f.call_arg::<Option<String>>(args)
                    .catch(&ctx)
                    .map_err(reason)
            })?;
            match p {
                Some(p) => p,
                // No partition: the event is not processed.
                None => return Ok(Vec::new()),
            }
        } else if self.source.by_stream {
            stream_partition(ev)
        } else {
            String::new()
        };
        let (out, changes) = self.call_with_emits("process", EventArgs::Process(partition, ev))?;
        for e in out {
            emits.push_emitted(e);
        }
        Ok(changes)
    }

    fn deleted(&mut self, partition: &str) -> Result<Vec<Change>, String> {
        let (_, changes) = self.call_with_emits("deleted", EventArgs::Deleted(partition))?;
        Ok(changes)
    }
}

impl JsHandler {
    /// Calls a prelude method that processes an event.
    fn call_with_emits(
        &self,
        method: &str,
        args: EventArgs<'_>,
    ) -> Result<(Vec<Emitted>, Vec<Change>), String> {
        self.guarded(EXECUTION_TIMEOUT, true, |ctx| {
            let kdb: Object = ctx.globals().get("__kdb").map_err(|e| e.to_string())?;
            let f: Function = kdb.get(method).map_err(|e| e.to_string())?;
            let call_args = args.into_args(&ctx).map_err(|e| e.to_string())?;
            let out: Value = f.call_arg(call_args).catch(&ctx).map_err(reason)?;
            read_output(out).map_err(|e| e.to_string())
        })
    }
}
