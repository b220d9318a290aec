//! The cost of the blocking twin: the same call through `KurrentDBClient` and
//! through `AsyncKurrentDBClient`, against an embedded server in this process
//! (on its own thread and runtime).
//!
//! - `append_one_event/{async,blocking}`: `append_to_stream` of one event;
//! - `get_commit_position/{async,blocking}`.
//!
//! The async side is what an async program does: a multi-thread runtime, the
//! call awaited inside it (criterion's `to_async`). The blocking side is a plain
//! thread calling the blocking method. The ratio blocking / async is the
//! overhead of the twin.
//!
//! A third variant, `current_thread_driver`, measures the other runtime design
//! the blocking client could use: a current-thread runtime driven by a
//! dedicated thread, each call polled by the calling thread with
//! `Runtime::block_on`. The client uses a multi-thread runtime (two workers);
//! this variant is here to keep that choice measured.
//!
//! Run: `cargo bench -p kurrentdbclient-blocking --bench blocking_vs_async`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group};
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient_blocking::{
    AppendToStreamOptions, AsyncKurrentDBClient, GetCommitPositionOptions, KurrentDBClient,
    NewEvent, StreamState,
};

fn event() -> NewEvent {
    NewEvent::new("BenchEvent", &br#"{"n": 1}"#[..])
}

fn blocking_vs_async(c: &mut Criterion) {
    let server = EmbeddedServer::start_blocking().expect("start the embedded server");
    let uri = server.connection_string();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let async_client = runtime
        .block_on(AsyncKurrentDBClient::connect(&uri))
        .expect("connect (async)");
    let client = KurrentDBClient::connect(&uri).expect("connect (blocking)");

    // The alternative design: current-thread runtime + driver thread.
    let current_thread = Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let (stop_driver, driver_stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = {
        let current_thread = current_thread.clone();
        std::thread::spawn(move || {
            current_thread.block_on(async {
                let _ = driver_stopped.await;
            })
        })
    };
    let driver_client = current_thread
        .block_on(AsyncKurrentDBClient::connect(&uri))
        .expect("connect (current thread)");

    let append = AppendToStreamOptions::default();
    let position = GetCommitPositionOptions::default();
    // Warm both connections up (the channel connects lazily).
    runtime
        .block_on(async_client.append_to_stream(
            "bench-async",
            StreamState::Any,
            [event()],
            &append,
        ))
        .unwrap();
    client
        .append_to_stream("bench-blocking", StreamState::Any, [event()], &append)
        .unwrap();
    current_thread
        .block_on(driver_client.append_to_stream(
            "bench-driver",
            StreamState::Any,
            [event()],
            &append,
        ))
        .unwrap();

    let mut group = c.benchmark_group("append_one_event");
    group.bench_function("async", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                async_client
                    .append_to_stream("bench-async", StreamState::Any, [event()], &append)
                    .await
                    .unwrap(),
            )
        })
    });
    group.bench_function("blocking", |b| {
        b.iter(|| {
            black_box(
                client
                    .append_to_stream("bench-blocking", StreamState::Any, [event()], &append)
                    .unwrap(),
            )
        })
    });
    group.bench_function("current_thread_driver", |b| {
        b.iter(|| {
            black_box(
                current_thread
                    .block_on(driver_client.append_to_stream(
                        "bench-driver",
                        StreamState::Any,
                        [event()],
                        &append,
                    ))
                    .unwrap(),
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("get_commit_position");
    group.bench_function("async", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(async_client.get_commit_position(&position).await.unwrap())
        })
    });
    group.bench_function("blocking", |b| {
        b.iter(|| black_box(client.get_commit_position(&position).unwrap()))
    });
    group.bench_function("current_thread_driver", |b| {
        b.iter(|| {
            black_box(
                current_thread
                    .block_on(driver_client.get_commit_position(&position))
                    .unwrap(),
            )
        })
    });
    group.finish();

    drop(driver_client);
    let _ = stop_driver.send(());
    driver.join().unwrap();
    drop(client);
    drop(server);
}

/// Paired measurement, robust to the load of a shared machine: rounds of
/// `CALLS` async calls then `CALLS` blocking calls (the order alternating),
/// and the median of the per-round ratios. Printed before criterion's runs.
fn paired() {
    const ROUNDS: usize = 40;
    const CALLS: usize = 100;
    let server = EmbeddedServer::start_blocking().expect("start the embedded server");
    let uri = server.connection_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let async_client = runtime
        .block_on(AsyncKurrentDBClient::connect(&uri))
        .expect("connect (async)");
    let client = KurrentDBClient::connect(&uri).expect("connect (blocking)");
    let append = AppendToStreamOptions::default();
    let position = GetCommitPositionOptions::default();

    let measure = |name: &str, async_calls: &dyn Fn(), blocking_calls: &dyn Fn()| {
        async_calls();
        blocking_calls();
        let (mut ratios, mut a_times, mut b_times) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let time = |f: &dyn Fn()| {
                let start = std::time::Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e6 / CALLS as f64
            };
            let (a, b) = if round % 2 == 0 {
                let a = time(async_calls);
                (a, time(blocking_calls))
            } else {
                let b = time(blocking_calls);
                (time(async_calls), b)
            };
            ratios.push(b / a);
            a_times.push(a);
            b_times.push(b);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "paired {name}: async {:.1} µs, blocking {:.1} µs, median ratio blocking/async {:.3}",
            median(&mut a_times),
            median(&mut b_times),
            median(&mut ratios)
        );
    };
    measure(
        "append_one_event",
        &|| {
            runtime.block_on(async {
                for _ in 0..CALLS {
                    black_box(
                        async_client
                            .append_to_stream("paired-async", StreamState::Any, [event()], &append)
                            .await
                            .unwrap(),
                    );
                }
            })
        },
        &|| {
            for _ in 0..CALLS {
                black_box(
                    client
                        .append_to_stream("paired-blocking", StreamState::Any, [event()], &append)
                        .unwrap(),
                );
            }
        },
    );
    measure(
        "get_commit_position",
        &|| {
            runtime.block_on(async {
                for _ in 0..CALLS {
                    black_box(async_client.get_commit_position(&position).await.unwrap());
                }
            })
        },
        &|| {
            for _ in 0..CALLS {
                black_box(client.get_commit_position(&position).unwrap());
            }
        },
    );
}

criterion_group!(benches, blocking_vs_async);

fn main() {
    if std::env::args().any(|a| a == "--bench") {
        paired();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
