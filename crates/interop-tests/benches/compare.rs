//! Our client beside the official `kurrentdb` crate, on the same embedded
//! server, in the same run.
//!
//! Each group starts one embedded server (on its own thread and runtime, so
//! server and clients do not share a scheduler) and measures, against it:
//!
//! - `ours_async`: `kurrentdbclient::AsyncKurrentDBClient`;
//! - `ours_blocking`: `kurrentdbclient_blocking::KurrentDBClient`;
//! - `official`: the official `kurrentdb` crate from crates.io;
//!
//! plus, in `floor`, a bare tonic unary round trip (`ServerFeatures.
//! GetSupportedMethods` through the generated stub): the physical limit of
//! one call to that server. In `append_one`, `raw_stub` is a one-event append
//! written directly against the generated `Streams.Append` stub, without any
//! client logic: what a client's append costs on the wire alone.
//!
//! One iteration is: one append (`append_one`), one append of 100 events of
//! 1 KiB (`append_batch_100x1KiB`), one append by each of 64 concurrent
//! appenders (`append_concurrent_64`), reading a 10,000-event stream to the end
//! (`read_stream_10k`), reading `$all` (10,000 events) to the end
//! (`read_all_10k`), a catch-up subscription delivering 10,000 stored events
//! (`subscribe_10k`; there also `ours_async_resumable`, the same subscription
//! with the `retry` option). `append_one_tls` and `read_stream_10k_tls` repeat
//! the one-event append and the stream read against a `--dev` server: over TLS,
//! every call carrying `admin:changeit` (no bare stub there). `benches/compare.sh`
//! runs this and prints the table.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use kurrentdb::{Client as OfficialClient, ClientSettings, EventData, StreamPosition};
use kurrentdb_embedded::{EmbeddedServer, Security, ServerOptions};
use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::streams_client::StreamsClient;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, ReadAllOptions, ReadStreamOptions,
    StreamState, SubscribeToStreamOptions, SubscriptionItem, SubscriptionRetry,
};
use kurrentdbclient_blocking::KurrentDBClient;
use tokio::runtime::Runtime;
use tonic::transport::Channel;
use uuid::Uuid;

/// Events in the read and subscription benchmarks.
const READ_EVENTS: usize = 10_000;
/// Concurrent appenders.
const CONCURRENCY: usize = 64;
/// Events per batch, and their payload size.
const BATCH: usize = 100;
const BATCH_EVENT_SIZE: usize = 1024;

/// One embedded server with the three clients (and, insecure, a bare channel) on it.
struct Bench {
    /// Kept alive for the clients; stopped when the group's `Bench` drops.
    _server: EmbeddedServer,
    /// Runs the async clients (ours and the official one).
    rt: Runtime,
    ours: AsyncKurrentDBClient,
    blocking: KurrentDBClient,
    official: OfficialClient,
    /// A bare tonic channel, on an insecure server only.
    channel: Option<Channel>,
}

impl Bench {
    /// A server secured by `security`: the clients connect with its
    /// connection string (over TLS, its CA and `admin:changeit`).
    fn start(security: Security) -> Bench {
        let server = EmbeddedServer::start_blocking_with(ServerOptions {
            security,
            ..Default::default()
        })
        .expect("embedded server starts");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let uri = server.connection_string();
        let blocking = KurrentDBClient::connect(&uri).expect("blocking client connects");
        let (ours, official, channel) = rt.block_on(async {
            let ours = AsyncKurrentDBClient::connect(&uri)
                .await
                .expect("async client connects");
            let settings: ClientSettings = uri.parse().expect("official settings");
            let official = OfficialClient::new(settings).expect("official client");
            let channel = if server.is_secure() {
                None
            } else {
                let endpoint = Channel::from_shared(server.uri()).expect("uri");
                Some(endpoint.connect().await.expect("bare channel connects"))
            };
            (ours, official, channel)
        });
        let bench = Bench {
            _server: server,
            rt,
            ours,
            blocking,
            official,
            channel,
        };
        bench.warm_up();
        bench
    }

    /// One call through every client, so connection set-up (and the official
    /// client's node discovery) happens before anything is measured.
    fn warm_up(&self) {
        let name = format!("warm-up-{}", Uuid::new_v4().simple());
        self.rt.block_on(async {
            self.ours
                .append_to_stream(&name, StreamState::Any, [small_event()], &append_options())
                .await
                .expect("async append");
            self.official
                .append_to_stream(name.as_str(), &Default::default(), official_small_event())
                .await
                .expect("official append");
        });
        self.blocking
            .append_to_stream(&name, StreamState::Any, [small_event()], &append_options())
            .expect("blocking append");
    }

    /// Appends `count` small events to `stream`, in batches.
    fn populate(&self, stream: &str, count: usize) {
        self.rt.block_on(async {
            for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
                self.ours
                    .append_to_stream(
                        stream,
                        StreamState::Any,
                        chunk.iter().map(|n| {
                            NewEvent::new(
                                "Populated",
                                format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(64)),
                            )
                        }),
                        &append_options(),
                    )
                    .await
                    .expect("populate");
            }
        });
    }
}

fn append_options() -> AppendToStreamOptions {
    AppendToStreamOptions::default()
}

fn small_event() -> NewEvent {
    NewEvent::new(
        "Benchmarked",
        Bytes::from_static(br#"{"order":42,"amount":"9.99"}"#),
    )
}

fn official_small_event() -> EventData {
    EventData::binary(
        "Benchmarked",
        Bytes::from_static(br#"{"order":42,"amount":"9.99"}"#),
    )
}

fn kib_payload() -> Bytes {
    Bytes::from(vec![b'k'; BATCH_EVENT_SIZE])
}

fn stream(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

/// The bare round trip: the floor every call sits on.
fn floor(c: &mut Criterion, bench: &Bench) {
    let mut group = c.benchmark_group("floor");
    group.throughput(Throughput::Elements(1));
    group.bench_function("server_features_unary", |b| {
        b.to_async(&bench.rt).iter(|| {
            let mut client = ServerFeaturesClient::new(bench.channel.clone().expect("insecure"));
            async move {
                black_box(
                    client
                        .get_supported_methods(Empty {})
                        .await
                        .expect("round trip"),
                );
            }
        });
    });
    group.finish();
}

/// A one-event append through the generated stub alone.
async fn raw_append(channel: Channel, name: &str, payload: &Bytes) {
    use kurrentdbclient::proto::shared::{StreamIdentifier, Uuid as ProtoUuid, uuid};
    use kurrentdbclient::proto::streams::{AppendReq, append_req};
    let options = AppendReq {
        content: Some(append_req::Content::Options(append_req::Options {
            stream_identifier: Some(StreamIdentifier {
                stream_name: Bytes::copy_from_slice(name.as_bytes()),
            }),
            expected_stream_revision: Some(append_req::options::ExpectedStreamRevision::Any(
                Empty {},
            )),
        })),
    };
    let mut metadata = std::collections::HashMap::with_capacity(2);
    metadata.insert("type".to_owned(), "Benchmarked".to_owned());
    metadata.insert("content-type".to_owned(), "application/json".to_owned());
    let event = AppendReq {
        content: Some(append_req::Content::ProposedMessage(
            append_req::ProposedMessage {
                id: Some(ProtoUuid {
                    value: Some(uuid::Value::String(Uuid::new_v4().to_string())),
                }),
                metadata,
                custom_metadata: Bytes::new(),
                data: payload.clone(),
            },
        )),
    };
    let mut client = StreamsClient::new(channel);
    black_box(
        client
            .append(futures::stream::iter([options, event]))
            .await
            .expect("raw append"),
    );
}

/// Sequential one-event appends, in the group `group_name`.
fn append_one(c: &mut Criterion, bench: &Bench, group_name: &str) {
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    if let Some(channel) = &bench.channel {
        let raw_stream = stream("raw");
        let payload = Bytes::from_static(br#"{"order":42,"amount":"9.99"}"#);
        group.bench_function("raw_stub", |b| {
            b.to_async(&bench.rt)
                .iter(|| raw_append(channel.clone(), &raw_stream, &payload));
        });
    }
    let name = stream("one-async");
    group.bench_function("ours_async", |b| {
        b.to_async(&bench.rt).iter(|| async {
            black_box(
                bench
                    .ours
                    .append_to_stream(&name, StreamState::Any, [small_event()], &append_options())
                    .await
                    .expect("append"),
            )
        });
    });
    let name = stream("one-blocking");
    group.bench_function("ours_blocking", |b| {
        b.iter(|| {
            black_box(
                bench
                    .blocking
                    .append_to_stream(&name, StreamState::Any, [small_event()], &append_options())
                    .expect("append"),
            )
        });
    });
    let name = stream("one-official");
    let options = kurrentdb::AppendToStreamOptions::default();
    group.bench_function("official", |b| {
        b.to_async(&bench.rt).iter(|| async {
            black_box(
                bench
                    .official
                    .append_to_stream(name.as_str(), &options, official_small_event())
                    .await
                    .expect("append"),
            )
        });
    });
    group.finish();
}

fn append_batch(c: &mut Criterion, bench: &Bench) {
    let mut group = c.benchmark_group("append_batch_100x1KiB");
    group.throughput(Throughput::Elements(BATCH as u64));
    let payload = kib_payload();
    let batch = || (0..BATCH).map(|_| NewEvent::new("Batched", payload.clone()));
    let name = stream("batch-async");
    group.bench_function("ours_async", |b| {
        b.to_async(&bench.rt).iter(|| async {
            black_box(
                bench
                    .ours
                    .append_to_stream(&name, StreamState::Any, batch(), &append_options())
                    .await
                    .expect("append"),
            )
        });
    });
    let name = stream("batch-blocking");
    group.bench_function("ours_blocking", |b| {
        b.iter(|| {
            black_box(
                bench
                    .blocking
                    .append_to_stream(&name, StreamState::Any, batch(), &append_options())
                    .expect("append"),
            )
        });
    });
    let name = stream("batch-official");
    let options = kurrentdb::AppendToStreamOptions::default();
    let official_batch = || -> Vec<EventData> {
        (0..BATCH)
            .map(|_| EventData::binary("Batched", payload.clone()))
            .collect()
    };
    group.bench_function("official", |b| {
        b.to_async(&bench.rt).iter(|| async {
            black_box(
                bench
                    .official
                    .append_to_stream(name.as_str(), &options, official_batch())
                    .await
                    .expect("append"),
            )
        });
    });
    group.finish();
}

/// One iteration is one append by each of the 64 appenders; each appender
/// runs `iters` appends back to back on its own stream, all concurrently, and
/// the elapsed time of the whole is what is measured.
fn append_concurrent(c: &mut Criterion, bench: &Bench) {
    let mut group = c.benchmark_group("append_concurrent_64");
    group.throughput(Throughput::Elements(CONCURRENCY as u64));
    group.bench_function("ours_async", |b| {
        b.to_async(&bench.rt).iter_custom(|iters| async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..CONCURRENCY)
                .map(|_| {
                    let client = bench.ours.clone();
                    tokio::spawn(async move {
                        let name = stream("conc-async");
                        for _ in 0..iters {
                            client
                                .append_to_stream(
                                    &name,
                                    StreamState::Any,
                                    [small_event()],
                                    &append_options(),
                                )
                                .await
                                .expect("append");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
            start.elapsed()
        });
    });
    group.bench_function("ours_blocking", |b| {
        b.iter_custom(|iters| {
            let barrier = Barrier::new(CONCURRENCY + 1);
            std::thread::scope(|scope| {
                for _ in 0..CONCURRENCY {
                    scope.spawn(|| {
                        let name = stream("conc-blocking");
                        barrier.wait();
                        for _ in 0..iters {
                            bench
                                .blocking
                                .append_to_stream(
                                    &name,
                                    StreamState::Any,
                                    [small_event()],
                                    &append_options(),
                                )
                                .expect("append");
                        }
                    });
                }
                barrier.wait();
                let start = Instant::now();
                // Leaving the scope joins every appender.
                start
            })
            .elapsed()
        });
    });
    group.bench_function("official", |b| {
        b.to_async(&bench.rt).iter_custom(|iters| async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..CONCURRENCY)
                .map(|_| {
                    let client = bench.official.clone();
                    tokio::spawn(async move {
                        let name = stream("conc-official");
                        let options = kurrentdb::AppendToStreamOptions::default();
                        for _ in 0..iters {
                            client
                                .append_to_stream(name.as_str(), &options, official_small_event())
                                .await
                                .expect("append");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
            start.elapsed()
        });
    });
    group.finish();
}

/// Reads of the 10,000-event stream `name`, in the group `group_name`.
fn read_stream(c: &mut Criterion, bench: &Bench, name: &str, group_name: &str) {
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(READ_EVENTS as u64));
    group.bench_function("ours_async", |b| {
        b.to_async(&bench.rt).iter(|| async {
            let read = bench
                .ours
                .read_stream(name, &ReadStreamOptions::default())
                .await
                .expect("read");
            let count = read
                .fold(0usize, |n, e| async move {
                    black_box(e.expect("event"));
                    n + 1
                })
                .await;
            assert_eq!(count, READ_EVENTS);
        });
    });
    group.bench_function("ours_blocking", |b| {
        b.iter(|| {
            let read = bench
                .blocking
                .read_stream(name, &ReadStreamOptions::default())
                .expect("read");
            let mut count = 0;
            for event in read {
                black_box(event.expect("event"));
                count += 1;
            }
            assert_eq!(count, READ_EVENTS);
        });
    });
    let options = kurrentdb::ReadStreamOptions::default().position(StreamPosition::Start);
    group.bench_function("official", |b| {
        b.to_async(&bench.rt).iter(|| async {
            let mut read = bench
                .official
                .read_stream(name, &options)
                .await
                .expect("read");
            let mut count = 0;
            while let Some(event) = read.next().await.expect("event") {
                black_box(event);
                count += 1;
            }
            assert_eq!(count, READ_EVENTS);
        });
    });
    group.finish();
}

/// Reads `$all` without a filter (both clients), so both make the server do
/// the same work; `expected` is how many records the log holds.
fn read_all(c: &mut Criterion, bench: &Bench, expected: usize) {
    let mut group = c.benchmark_group("read_all_10k");
    group.throughput(Throughput::Elements(expected as u64));
    let no_filter = ReadAllOptions::default().filter_exclude(Vec::<String>::new());
    group.bench_function("ours_async", |b| {
        b.to_async(&bench.rt).iter(|| async {
            let read = bench.ours.read_all(&no_filter).await.expect("read");
            let count = read
                .fold(0usize, |n, e| async move {
                    black_box(e.expect("event"));
                    n + 1
                })
                .await;
            assert_eq!(count, expected);
        });
    });
    group.bench_function("ours_blocking", |b| {
        b.iter(|| {
            let read = bench.blocking.read_all(&no_filter).expect("read");
            let mut count = 0;
            for event in read {
                black_box(event.expect("event"));
                count += 1;
            }
            assert_eq!(count, expected);
        });
    });
    let options = kurrentdb::ReadAllOptions::default().position(StreamPosition::Start);
    group.bench_function("official", |b| {
        b.to_async(&bench.rt).iter(|| async {
            let mut read = bench.official.read_all(&options).await.expect("read");
            let mut count = 0;
            while let Some(event) = read.next().await.expect("event") {
                black_box(event);
                count += 1;
            }
            assert_eq!(count, expected);
        });
    });
    group.finish();
}

fn subscribe(c: &mut Criterion, bench: &Bench, name: &str) {
    let mut group = c.benchmark_group("subscribe_10k");
    group.throughput(Throughput::Elements(READ_EVENTS as u64));
    // `ours_async_resumable`: the same with the `retry` option, which should
    // cost no more than 5% over the plain one.
    let resumable = SubscribeToStreamOptions::default().retry(SubscriptionRetry::default());
    for (id, options) in [
        ("ours_async", SubscribeToStreamOptions::default()),
        ("ours_async_resumable", resumable),
    ] {
        group.bench_function(id, |b| {
            b.to_async(&bench.rt).iter(|| async {
                let mut sub = bench
                    .ours
                    .subscribe_to_stream(name, &options)
                    .await
                    .expect("subscribe");
                let mut count = 0;
                while count < READ_EVENTS {
                    if let SubscriptionItem::Event(e) =
                        sub.next().await.expect("open").expect("item")
                    {
                        black_box(e);
                        count += 1;
                    }
                }
                sub.stop();
            });
        });
    }
    group.bench_function("ours_blocking", |b| {
        b.iter(|| {
            let mut sub = bench
                .blocking
                .subscribe_to_stream(name, &SubscribeToStreamOptions::default())
                .expect("subscribe");
            let mut count = 0;
            while count < READ_EVENTS {
                if let SubscriptionItem::Event(e) = sub.next().expect("open").expect("item") {
                    black_box(e);
                    count += 1;
                }
            }
            sub.stop();
        });
    });
    let options = kurrentdb::SubscribeToStreamOptions::default().start_from(StreamPosition::Start);
    group.bench_function("official", |b| {
        b.to_async(&bench.rt).iter(|| async {
            let mut sub = bench.official.subscribe_to_stream(name, &options).await;
            for _ in 0..READ_EVENTS {
                black_box(sub.next().await.expect("event"));
            }
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    // Appends: one server for the floor and the append groups.
    {
        let bench = Bench::start(Security::Insecure);
        floor(c, &bench);
        append_one(c, &bench, "append_one");
        append_batch(c, &bench);
        append_concurrent(c, &bench);
        drop(bench);
    }

    // Reads: a fresh server holding exactly one 10,000-event stream (plus the
    // warm-up events), so `$all` holds the same records for every client.
    {
        let bench = Bench::start(Security::Insecure);
        let name = stream("read-10k");
        bench.populate(&name, READ_EVENTS);
        let in_all = bench.rt.block_on(async {
            bench
                .ours
                .read_all(&ReadAllOptions::default().filter_exclude(Vec::<String>::new()))
                .await
                .expect("read all")
                .count()
                .await
        });
        read_stream(c, &bench, &name, "read_stream_10k");
        read_all(c, &bench, in_all);
        subscribe(c, &bench, &name);
    }

    // Over TLS with credentials: a `--dev` server.
    {
        let bench = Bench::start(Security::Dev);
        append_one(c, &bench, "append_one_tls");
        let name = stream("read-10k-tls");
        bench.populate(&name, READ_EVENTS);
        read_stream(c, &bench, &name, "read_stream_10k_tls");
    }
}

criterion_group! {
    name = compare;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(compare);
