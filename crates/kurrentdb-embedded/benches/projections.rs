//! Projection throughput against an in-process embedded server, driven through
//! the client over gRPC on loopback:
//!
//! - `by_category`: events per second through `$by_category` (the only
//!   projection enabled): `catch_up` appends the events first, then enables
//!   it and times until every `$ce-<category>` link is written; `live` has it
//!   running and times the appends and the links together.
//! - `javascript`: events per second through a user JavaScript projection
//!   counting one event type, timed until its state reaches the count
//!   (`catch_up`: created after the appends; `live`: before them).
//! - `append_1_event`, `append_100_events`: the append rate (8 concurrent
//!   appenders) with the standard projections running beside that of a server
//!   without projections.
//!
//! The throughput benches start a fresh server for each measurement (its
//! setup untimed); `live` is bounded by the one appender's rate as well. The
//! append benches share two servers, and wait between measurements until the
//! projections have caught up, so one's backlog does not slow the next.
//!
//! `cargo bench -p kurrentdb-embedded --bench projections`

use std::future::Future;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use kurrentdb_embedded::{EmbeddedServer, RunProjections, ServerOptions};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};
use tokio::runtime::Runtime;

/// Events per `by_category` / `javascript` measurement.
const EVENTS: u64 = 20_000;
/// Events per append while filling.
const BATCH: u64 = 500;
/// The categories the filled streams belong to (`<category>-<n>`).
const CATEGORIES: [&str; 4] = ["order", "invoice", "customer", "shipment"];
/// The JavaScript projection: a count of `E` events.
const COUNT_QUERY: &str = r#"fromAll().when({
    $init: function () { return { n: 0 }; },
    E: function (s, e) { s.n++; return s; }
})"#;
/// How often completion is polled.
const POLL: Duration = Duration::from_millis(2);

/// Starts a server (projections as asked, the standard ones not started) and
/// connects a client to it.
async fn start(
    run_projections: RunProjections,
    standard: bool,
) -> (EmbeddedServer, AsyncKurrentDBClient) {
    let server = EmbeddedServer::start_with(ServerOptions {
        run_projections,
        start_standard_projections: standard,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = AsyncKurrentDBClient::connect(&server.connection_string())
        .await
        .unwrap();
    (server, client)
}

/// Appends [`EVENTS`] events of type `E` in batches of [`BATCH`], batch `k`
/// to stream `<CATEGORIES[k % 4]>-<k>`, so each category gets a quarter.
async fn fill(client: &AsyncKurrentDBClient) {
    for k in 0..EVENTS / BATCH {
        let stream = format!("{}-{k}", CATEGORIES[k as usize % CATEGORIES.len()]);
        let events = (0..BATCH).map(|i| NewEvent::new("E", format!("{{\"i\":{i}}}")));
        client
            .append_to_stream(&stream, StreamState::Any, events, &Default::default())
            .await
            .unwrap();
    }
}

/// Polls `done` until it holds.
async fn until<F: Future<Output = bool>>(mut done: impl FnMut() -> F) {
    while !done().await {
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until `$by_category` has linked every filled event.
async fn categories_linked(client: &AsyncKurrentDBClient) {
    let last = StreamState::Version(EVENTS / CATEGORIES.len() as u64 - 1);
    for category in CATEGORIES {
        let stream = format!("$ce-{category}");
        let stream = &stream;
        until(|| async move {
            client
                .get_current_version(stream, &Default::default())
                .await
                .unwrap()
                == last
        })
        .await;
    }
}

/// Waits until the JavaScript projection `name` has counted every event.
async fn counted(client: &AsyncKurrentDBClient, name: &str) {
    until(|| async move {
        let state = client
            .get_projection_state(name, &Default::default())
            .await
            .unwrap();
        state["n"].as_u64() == Some(EVENTS)
    })
    .await;
}

/// Benches one projection as group `name`, each measurement on a fresh server
/// with projections on and none running: `catch_up` fills it, then times
/// `begin` (starting the projection) and `done` (waiting until it has seen
/// every event); `live` runs `begin` first, then times the fill and `done`.
fn catch_up_and_live<B, BF, D, DF>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    measurement: Duration,
    begin: B,
    done: D,
) where
    B: Fn(AsyncKurrentDBClient) -> BF + Copy,
    BF: Future<Output = ()>,
    D: Fn(AsyncKurrentDBClient) -> DF + Copy,
    DF: Future<Output = ()>,
{
    let mut group = c.benchmark_group(name);
    group
        .throughput(Throughput::Elements(EVENTS))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measurement);
    for live in [false, true] {
        group.bench_function(if live { "live" } else { "catch_up" }, |b| {
            b.to_async(rt).iter_custom(|iters| async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (server, client) = start(RunProjections::All, false).await;
                    if live {
                        begin(client.clone()).await;
                    } else {
                        fill(&client).await;
                    }
                    let started = Instant::now();
                    if live {
                        fill(&client).await;
                    } else {
                        begin(client.clone()).await;
                    }
                    done(client).await;
                    total += started.elapsed();
                    server.shutdown().await;
                }
                total
            });
        });
    }
    group.finish();
}

fn projection_throughput(c: &mut Criterion, rt: &Runtime) {
    catch_up_and_live(
        c,
        rt,
        "by_category",
        Duration::from_secs(2),
        |client| async move {
            client
                .enable_projection("$by_category", &Default::default())
                .await
                .unwrap();
        },
        |client| async move { categories_linked(&client).await },
    );
    catch_up_and_live(
        c,
        rt,
        "javascript",
        Duration::from_secs(3),
        |client| async move {
            client
                .create_projection("count", COUNT_QUERY, &Default::default())
                .await
                .unwrap();
        },
        |client| async move { counted(&client, "count").await },
    );
}

/// Waits until nothing has been written to the server for 200 ms (its
/// projections have caught up), so that one measurement's backlog does not
/// run during the next.
async fn settle(server: &EmbeddedServer) {
    loop {
        let before = server.store().log_len();
        tokio::time::sleep(Duration::from_millis(200)).await;
        if server.store().log_len() == before {
            return;
        }
    }
}

/// `iters` appends of `n` events by 8 concurrent appenders, each to streams of
/// its own category.
async fn appends(client: &AsyncKurrentDBClient, n: u64, iters: u64) -> Duration {
    let per = iters.div_ceil(8);
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    let stream =
                        format!("{}{task}-{}", CATEGORIES[task % CATEGORIES.len()], i % 16);
                    let events = (0..n).map(|_| {
                        NewEvent::new("BenchEvent", r#"{"order":"order-123","amount":42}"#)
                    });
                    client
                        .append_to_stream(&stream, StreamState::Any, events, &Default::default())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed().mul_f64(iters as f64 / (per * 8) as f64)
}

fn append_rate(c: &mut Criterion, rt: &Runtime) {
    let servers = rt.block_on(async {
        [
            ("projections_off", start(RunProjections::None, false).await),
            (
                "standard_projections_on",
                start(RunProjections::All, true).await,
            ),
        ]
    });
    for n in [1u64, 100] {
        let mut group =
            c.benchmark_group(format!("append_{n}_event{}", if n == 1 { "" } else { "s" }));
        group
            .throughput(Throughput::Elements(n))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for (id, (server, client)) in &servers {
            rt.block_on(settle(server));
            group.bench_function(*id, |b| {
                b.to_async(rt)
                    .iter_custom(|iters| appends(client, n, iters));
            });
        }
        group.finish();
    }
    rt.block_on(async {
        for (_, (server, _)) in servers {
            server.shutdown().await;
        }
    });
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    projection_throughput(c, &rt);
    append_rate(c, &rt);
}

criterion_group!(benches, bench);
criterion_main!(benches);
