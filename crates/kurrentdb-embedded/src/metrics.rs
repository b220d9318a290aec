//! The node's metrics, in Prometheus text at `GET /metrics` (`http/`), named
//! as KurrentDB names its own (`docs/server/diagnostics/metrics.md`, with the
//! defaults of its `metricsconfig.json`), for what this server can measure:
//!
//! - events: `kurrentdb_io_events_total{activity="read"|"written"}` and
//!   `kurrentdb_io_bytes_total{activity="read"}` (every read of the store,
//!   see `Store::read_counts`; written: every record of the log);
//! - checkpoints: `kurrentdb_checkpoints{name="writer"|"index"|"replication",
//!   read="non-flushed"}`, all the log's end here (one in-memory log, written,
//!   indexed and "replicated" at once);
//! - incoming gRPC calls: `kurrentdb_current_incoming_grpc_calls`,
//!   `kurrentdb_incoming_grpc_calls_total{kind="total"|"failed"|
//!   "unimplemented"|"deadline-exceeded"}` (Grpc.AspNetCore's events, which
//!   KurrentDB's `IncomingGrpcCallsMetric` counts: a call ending with another
//!   status than OK failed; an UNIMPLEMENTED one counts as unimplemented
//!   only, as ASP.NET never starts a call to an unknown method), and
//!   `kurrentdb_grpc_method_duration_seconds{activity="read"|"append",
//!   status="successful"|"failed"}` for the v1 `Read`, `Append` and
//!   `BatchAppend` (the default `GrpcMethods` labels; delete and tombstone
//!   have none by default), timed until the response ends;
//! - `kurrentdb_elections_count_total`;
//! - persistent subscriptions: `kurrentdb_persistent_sub_*` per
//!   `event_stream_id` and `group_name`;
//! - projections: `kurrentdb_projection_events_processed_after_restart_total`,
//!   `_progress`, `_running` and `_status{status="Running"|"Faulted"|
//!   "Stopped"}` per `projection`;
//! - `kurrentdb_proc_up_time_seconds_total{pid}`.
//!
//! The exposition is prometheus-client's (OpenMetrics text, which Prometheus
//! scrapes as KurrentDB's OpenTelemetry exporter's). The gRPC figures are
//! kept by [`GrpcMetricsLayer`], a tower layer in front of the gRPC
//! services; the rest is read from the node when scraped ([`Scrape`]).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::persistent::GroupFigures;

/// A metric's labels, as name and value.
type Labels = Vec<(&'static str, String)>;

/// KurrentDB's latency buckets for gRPC methods (its example output: one
/// bucket per decade from a microsecond to ten seconds).
const LATENCY_BUCKETS: [f64; 8] = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The figures kept as calls go (see the module docs); one per store, shared
/// by the nodes serving it.
#[derive(Debug)]
pub(crate) struct Metrics {
    started: Instant,
    /// When the server started, in .NET ticks (`/stats`' `proc-startTime`).
    started_ticks: i64,
    current_calls: Gauge<i64, AtomicI64>,
    calls: Family<Labels, Counter<u64, AtomicU64>>,
    methods: Family<Labels, Histogram, fn() -> Histogram>,
    /// The members of `calls` and `methods` a call's end updates, looked up
    /// once here (each is a handle on its family's member), so that ending
    /// a call allocates and hashes nothing.
    per_call: PerCall,
}

/// See [`Metrics::per_call`].
#[derive(Debug)]
struct PerCall {
    total: Counter<u64, AtomicU64>,
    failed: Counter<u64, AtomicU64>,
    deadline_exceeded: Counter<u64, AtomicU64>,
    unimplemented: Counter<u64, AtomicU64>,
    /// By activity (read, append), then status (successful, failed).
    durations: [[Histogram; 2]; 2],
}

impl Default for Metrics {
    fn default() -> Self {
        let calls: Family<Labels, Counter<u64, AtomicU64>> = Family::default();
        let methods: Family<Labels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let kind = |k: &str| calls.get_or_create(&labels([("kind", k)])).clone();
        let duration = |activity: &str, status: &str| {
            methods
                .get_or_create(&labels([("activity", activity), ("status", status)]))
                .clone()
        };
        let per_call = PerCall {
            total: kind("total"),
            failed: kind("failed"),
            deadline_exceeded: kind("deadline-exceeded"),
            unimplemented: kind("unimplemented"),
            durations: [
                [duration("read", "successful"), duration("read", "failed")],
                [
                    duration("append", "successful"),
                    duration("append", "failed"),
                ],
            ],
        };
        Metrics {
            started: Instant::now(),
            started_ticks: crate::ticks::now_ticks(),
            current_calls: Gauge::default(),
            calls,
            methods,
            per_call,
        }
    }
}

/// What a scrape reads from the node (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrape {
    /// Records in the log.
    pub(crate) events_written: u64,
    /// Events read and their bytes (`Store::read_counts`).
    pub(crate) events_read: u64,
    pub(crate) bytes_read: u64,
    /// The log's end (every checkpoint's value).
    pub(crate) checkpoint: u64,
    /// Elections held (the membership's epoch number).
    pub(crate) elections: u64,
    pub(crate) groups: Vec<GroupFigures>,
    pub(crate) projections: Vec<ProjectionFigures>,
}

/// What `/metrics` reports of a projection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProjectionFigures {
    pub(crate) name: String,
    /// KurrentDB's status text (`Running`, `Stopped`, `Faulted`, ...).
    pub(crate) status: String,
    pub(crate) progress: f64,
    pub(crate) events_processed: u64,
}

fn labels<const N: usize>(pairs: [(&'static str, &str); N]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

impl Metrics {
    /// When the server started, in .NET ticks.
    pub(crate) fn started_ticks(&self) -> i64 {
        self.started_ticks
    }

    /// gRPC calls in flight, served, and failed (the dashboard's figures).
    pub(crate) fn call_figures(&self) -> (i64, u64, u64) {
        let c = &self.per_call;
        (self.current_calls.get(), c.total.get(), c.failed.get())
    }

    /// The metrics in Prometheus (OpenMetrics) text.
    pub(crate) fn render(&self, scrape: &Scrape) -> String {
        let mut registry = Registry::with_prefix("kurrentdb");
        let counter = |v: u64| {
            let c: Counter<u64, AtomicU64> = Counter::default();
            c.inc_by(v);
            c
        };

        let events: Family<Labels, Counter<u64, AtomicU64>> = Family::default();
        events
            .get_or_create(&labels([("activity", "read")]))
            .inc_by(scrape.events_read);
        events
            .get_or_create(&labels([("activity", "written")]))
            .inc_by(scrape.events_written);
        registry.register("io_events", "Events read/written", events);
        let bytes: Family<Labels, Counter<u64, AtomicU64>> = Family::default();
        bytes
            .get_or_create(&labels([("activity", "read")]))
            .inc_by(scrape.bytes_read);
        registry.register("io_bytes", "Event bytes read", bytes);

        let checkpoints: Family<Labels, Gauge<i64, AtomicI64>> = Family::default();
        for name in ["writer", "index", "replication"] {
            checkpoints
                .get_or_create(&labels([("name", name), ("read", "non-flushed")]))
                .set(gauge_value(scrape.checkpoint));
        }
        registry.register("checkpoints", "Value for the checkpoint", checkpoints);

        registry.register(
            "current_incoming_grpc_calls",
            "Inflight gRPC calls",
            self.current_calls.clone(),
        );
        registry.register(
            "incoming_grpc_calls",
            "gRPC requests served",
            self.calls.clone(),
        );
        registry.register_with_unit(
            "grpc_method_duration",
            "gRPC requests by how long they took to process",
            Unit::Seconds,
            self.methods.clone(),
        );
        registry.register(
            "elections_count",
            "Elections count in a cluster",
            counter(scrape.elections),
        );

        self.register_groups(&mut registry, &scrape.groups);
        register_projections(&mut registry, &scrape.projections);

        let up: Family<Labels, Counter<f64, AtomicU64>> = Family::default();
        up.get_or_create(&labels([("pid", &std::process::id().to_string())]))
            .inc_by(self.started.elapsed().as_secs_f64());
        registry.register_with_unit(
            "proc_up_time",
            "Time in seconds this process has been running for",
            Unit::Seconds,
            up,
        );

        let mut text = String::new();
        // Writing to a String does not fail.
        let _ = encode(&mut text, &registry);
        text
    }

    fn register_groups(&self, registry: &mut Registry, groups: &[GroupFigures]) {
        type G = Family<Labels, Gauge<i64, AtomicI64>>;
        let (connections, parked, in_flight) = (G::default(), G::default(), G::default());
        let (known_number, known_commit) = (G::default(), G::default());
        let (checkpointed_number, checkpointed_commit) = (G::default(), G::default());
        let processed: Family<Labels, Counter<u64, AtomicU64>> = Family::default();
        for g in groups {
            let l = labels([
                ("event_stream_id", &g.event_source),
                ("group_name", &g.group_name),
            ]);
            connections
                .get_or_create(&l)
                .set(gauge_value(g.connections));
            parked.get_or_create(&l).set(gauge_value(g.parked_messages));
            in_flight
                .get_or_create(&l)
                .set(gauge_value(g.in_flight_messages));
            processed.get_or_create(&l).inc_by(g.items_processed);
            // KurrentDB reports event numbers for stream groups and commit
            // positions for `$all` groups, each only once known.
            let (known, checkpointed) = if g.all {
                (&known_commit, &checkpointed_commit)
            } else {
                (&known_number, &checkpointed_number)
            };
            if let Some(v) = g.last_known {
                known.get_or_create(&l).set(gauge_value(v));
            }
            if let Some(v) = g.last_checkpointed {
                checkpointed.get_or_create(&l).set(gauge_value(v));
            }
        }
        let mut reg = |name: &str, help: &str, family: G| {
            registry.register(format!("persistent_sub_{name}"), help, family);
        };
        reg("connections", "Number of connections", connections);
        reg("parked_messages", "Number of parked messages", parked);
        reg(
            "in_flight_messages",
            "Number of messages in flight",
            in_flight,
        );
        reg(
            "last_known_event_number",
            "Last known event number",
            known_number,
        );
        reg(
            "last_known_event_commit_position",
            "Last known event's commit position",
            known_commit,
        );
        reg(
            "checkpointed_event_number",
            "Last checkpointed event number",
            checkpointed_number,
        );
        reg(
            "checkpointed_event_commit_position",
            "Last checkpointed event's commit position",
            checkpointed_commit,
        );
        registry.register(
            "persistent_sub_items_processed",
            "Total items processed",
            processed,
        );
    }

    /// A gRPC call to `path` starts: what ends it (see [`GrpcMetricsLayer`]).
    fn start(self: &Arc<Self>, path: &str) -> CallGuard {
        self.current_calls.inc();
        CallGuard {
            metrics: self.clone(),
            activity: activity(path),
            started: Instant::now(),
            ended: false,
        }
    }
}

fn register_projections(registry: &mut Registry, projections: &[ProjectionFigures]) {
    let processed: Family<Labels, Counter<u64, AtomicU64>> = Family::default();
    let progress: Family<Labels, Gauge<f64, AtomicU64>> = Family::default();
    let running: Family<Labels, Gauge<i64, AtomicI64>> = Family::default();
    let status: Family<Labels, Gauge<i64, AtomicI64>> = Family::default();
    for p in projections {
        let l = labels([("projection", &p.name)]);
        processed.get_or_create(&l).inc_by(p.events_processed);
        progress.get_or_create(&l).set(p.progress);
        let is = |s: &str| p.status.split('/').next().is_some_and(|first| first == s);
        running.get_or_create(&l).set(i64::from(is("Running")));
        for s in ["Running", "Faulted", "Stopped"] {
            status
                .get_or_create(&labels([("projection", &p.name), ("status", s)]))
                .set(i64::from(is(s)));
        }
    }
    registry.register(
        "projection_events_processed_after_restart",
        "Projection event processed count after restart",
        processed,
    );
    registry.register(
        "projection_progress",
        "Projection progress 0 - 1, where 1 = projection progress at 100%",
        progress,
    );
    registry.register(
        "projection_running",
        "If 1, projection is in 'Running' state",
        running,
    );
    registry.register(
        "projection_status",
        "If 1, projection is in specified state",
        status,
    );
}

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The `activity` label of a gRPC method, as KurrentDB's default
/// `GrpcMethods` maps them, as an index into [`PerCall::durations`]: 0 for
/// read, 1 for append (`None`: not timed).
fn activity(path: &str) -> Option<usize> {
    match path {
        "/event_store.client.streams.Streams/Read" => Some(0),
        "/event_store.client.streams.Streams/Append"
        | "/event_store.client.streams.Streams/BatchAppend" => Some(1),
        _ => None,
    }
}

/// One gRPC call on its way: counted when it ends (with its status), or when
/// dropped before (the client went away: the call failed, as a cancelled
/// call does on ASP.NET).
struct CallGuard {
    metrics: Arc<Metrics>,
    activity: Option<usize>,
    started: Instant,
    ended: bool,
}

impl CallGuard {
    /// The call ended with gRPC status `code` (0 is OK).
    fn end(&mut self, code: i32) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let metrics = &self.metrics;
        metrics.current_calls.dec();
        let c = &metrics.per_call;
        // UNIMPLEMENTED: no call ran (see the module docs).
        if code == 12 {
            c.unimplemented.inc();
            return;
        }
        c.total.inc();
        if code != 0 {
            c.failed.inc();
        }
        if code == 4 {
            c.deadline_exceeded.inc();
        }
        if let Some(activity) = self.activity {
            let status = usize::from(code != 0);
            c.durations[activity][status].observe(self.started.elapsed().as_secs_f64());
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        // CANCELLED.
        self.end(1);
    }
}

/// The `grpc-status` of `headers`, if they have one.
fn grpc_status(headers: &http::HeaderMap) -> Option<i32> {
    headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Keeps the gRPC figures of the calls through it (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct GrpcMetricsLayer(pub(crate) Arc<Metrics>);

impl<S> tower_layer::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> GrpcMetrics<S> {
        GrpcMetrics {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// A service whose calls are counted and timed.
#[derive(Debug, Clone)]
pub(crate) struct GrpcMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower_service::Service<http::Request<B>> for GrpcMetrics<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = http::Response<MeteredBody<R>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut guard = self.metrics.start(request.uri().path());
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await?;
            // A trailers-only response carries its status in the headers.
            let guard = match grpc_status(response.headers()) {
                Some(code) => {
                    guard.end(code);
                    None
                }
                None => Some(guard),
            };
            Ok(response.map(|inner| MeteredBody { inner, guard }))
        })
    }
}

/// A response body that ends its call's [`CallGuard`] with the status in its
/// trailers, or when dropped.
pub(crate) struct MeteredBody<R> {
    inner: R,
    guard: Option<CallGuard>,
}

impl<R: Body + Unpin> Body for MeteredBody<R> {
    type Data = R::Data;
    type Error = R::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(trailers) = frame.trailers_ref()
            && let Some(mut guard) = this.guard.take()
        {
            guard.end(grpc_status(trailers).unwrap_or(0));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_by_their_status() {
        let metrics = Arc::new(Metrics::default());
        let mut ok = metrics.start("/event_store.client.streams.Streams/Append");
        let mut failed = metrics.start("/event_store.client.streams.Streams/Read");
        let cancelled = metrics.start("/event_store.client.gossip.Gossip/Read");
        let mut unknown = metrics.start("/nope/Nope");
        let text = metrics.render(&Scrape::default());
        assert!(
            text.contains("kurrentdb_current_incoming_grpc_calls 4\n"),
            "{text}"
        );
        ok.end(0);
        failed.end(4);
        drop(cancelled);
        unknown.end(12);
        // Ending twice counts once.
        ok.end(0);
        drop(ok);
        let text = metrics.render(&Scrape::default());
        for line in [
            "kurrentdb_current_incoming_grpc_calls 0",
            "kurrentdb_incoming_grpc_calls_total{kind=\"total\"} 3",
            "kurrentdb_incoming_grpc_calls_total{kind=\"failed\"} 2",
            "kurrentdb_incoming_grpc_calls_total{kind=\"deadline-exceeded\"} 1",
            "kurrentdb_incoming_grpc_calls_total{kind=\"unimplemented\"} 1",
            "kurrentdb_grpc_method_duration_seconds_count{activity=\"append\",status=\"successful\"} 1",
            "kurrentdb_grpc_method_duration_seconds_count{activity=\"read\",status=\"failed\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }

    #[test]
    fn scraped_figures_are_named_as_kurrentdb_names_them() {
        let scrape = Scrape {
            events_written: 7,
            events_read: 3,
            bytes_read: 30,
            checkpoint: 1234,
            elections: 1,
            groups: vec![GroupFigures {
                event_source: "$all".into(),
                group_name: "g".into(),
                all: true,
                connections: 2,
                parked_messages: 1,
                in_flight_messages: 5,
                items_processed: 9,
                last_known: Some(99),
                last_checkpointed: None,
            }],
            projections: vec![ProjectionFigures {
                name: "$by_category".into(),
                status: "Running".into(),
                progress: 1.0,
                events_processed: 4,
            }],
        };
        let text = Metrics::default().render(&scrape);
        for line in [
            "kurrentdb_io_events_total{activity=\"written\"} 7",
            "kurrentdb_io_events_total{activity=\"read\"} 3",
            "kurrentdb_io_bytes_total{activity=\"read\"} 30",
            "kurrentdb_checkpoints{name=\"writer\",read=\"non-flushed\"} 1234",
            "kurrentdb_elections_count_total 1",
            "kurrentdb_persistent_sub_connections{event_stream_id=\"$all\",group_name=\"g\"} 2",
            "kurrentdb_persistent_sub_in_flight_messages{event_stream_id=\"$all\",group_name=\"g\"} 5",
            "kurrentdb_persistent_sub_items_processed_total{event_stream_id=\"$all\",group_name=\"g\"} 9",
            "kurrentdb_persistent_sub_last_known_event_commit_position{event_stream_id=\"$all\",group_name=\"g\"} 99",
            "kurrentdb_projection_running{projection=\"$by_category\"} 1",
            "kurrentdb_projection_status{projection=\"$by_category\",status=\"Stopped\"} 0",
            "kurrentdb_projection_events_processed_after_restart_total{projection=\"$by_category\"} 4",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        assert!(
            !text.contains("checkpointed_event_commit_position{"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
