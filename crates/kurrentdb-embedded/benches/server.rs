//! Server throughput over gRPC on loopback, load generator in the same process:
//! appends of 1 and 100 events, and one read streaming many events.
//!
//! `cargo bench -p kurrentdb-embedded --bench server`

use std::collections::HashMap;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::proto::shared::{Empty, StreamIdentifier, Uuid, uuid};
use kurrentdbclient::proto::streams::streams_client::StreamsClient;
use kurrentdbclient::proto::streams::{AppendReq, ReadReq, append_req, read_req};
use tonic::transport::Channel;

fn requests(stream: &Bytes, n: usize) -> Vec<AppendReq> {
    let mut out = Vec::with_capacity(n + 1);
    out.push(AppendReq {
        content: Some(append_req::Content::Options(append_req::Options {
            stream_identifier: Some(StreamIdentifier {
                stream_name: stream.clone(),
            }),
            expected_stream_revision: Some(append_req::options::ExpectedStreamRevision::Any(
                Empty {},
            )),
        })),
    });
    for _ in 0..n {
        let mut metadata = HashMap::new();
        metadata.insert("type".to_owned(), "BenchEvent".to_owned());
        metadata.insert("content-type".to_owned(), "application/json".to_owned());
        out.push(AppendReq {
            content: Some(append_req::Content::ProposedMessage(
                append_req::ProposedMessage {
                    id: Some(Uuid {
                        value: Some(uuid::Value::String(::uuid::Uuid::new_v4().to_string())),
                    }),
                    metadata,
                    custom_metadata: Bytes::new(),
                    data: Bytes::from_static(b"{\"order\":\"order-123\",\"amount\":42}"),
                },
            )),
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, channel) = rt.block_on(async {
        let server = EmbeddedServer::start().await.unwrap();
        let channel = Channel::from_shared(server.uri())
            .unwrap()
            .connect()
            .await
            .unwrap();
        (server, channel)
    });
    let stream = Bytes::from_static(b"bench-stream");

    let mut group = c.benchmark_group("append");
    for n in [1usize, 100] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("{n}_events"), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let channel = channel.clone();
                let stream = stream.clone();
                async move {
                    // 8 concurrent appenders, like a busy application.
                    let per = iters.div_ceil(8);
                    let start = std::time::Instant::now();
                    let tasks: Vec<_> = (0..8)
                        .map(|_| {
                            let mut client = StreamsClient::new(channel.clone());
                            let stream = stream.clone();
                            tokio::spawn(async move {
                                for _ in 0..per {
                                    let reqs = requests(&stream, n);
                                    client.append(futures::stream::iter(reqs)).await.unwrap();
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                    start.elapsed().mul_f64(iters as f64 / (per * 8) as f64)
                }
            });
        });
    }
    group.finish();

    // Fill a stream for reading.
    let read_stream = Bytes::from_static(b"read-stream");
    const READ_EVENTS: u64 = 100_000;
    rt.block_on(async {
        let mut client = StreamsClient::new(channel.clone());
        for _ in 0..(READ_EVENTS / 1000) {
            client
                .append(futures::stream::iter(requests(&read_stream, 1000)))
                .await
                .unwrap();
        }
    });
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(READ_EVENTS));
    group.sample_size(10);
    group.bench_function("stream_100k_events", |b| {
        b.to_async(&rt).iter(|| {
            let mut client =
                StreamsClient::new(channel.clone()).max_decoding_message_size(64 << 20);
            let read_stream = read_stream.clone();
            async move {
                let options = read_req::Options {
                    stream_option: Some(read_req::options::StreamOption::Stream(
                        read_req::options::StreamOptions {
                            stream_identifier: Some(StreamIdentifier {
                                stream_name: read_stream,
                            }),
                            revision_option: Some(
                                read_req::options::stream_options::RevisionOption::Start(Empty {}),
                            ),
                        },
                    )),
                    read_direction: 0,
                    resolve_links: false,
                    count_option: Some(read_req::options::CountOption::Count(READ_EVENTS)),
                    filter_option: Some(read_req::options::FilterOption::NoFilter(Empty {})),
                    uuid_option: Some(read_req::options::UuidOption {
                        content: Some(read_req::options::uuid_option::Content::String(Empty {})),
                    }),
                    control_option: None,
                };
                let mut s = client
                    .read(ReadReq {
                        options: Some(options),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                let mut n = 0u64;
                while let Some(_m) = s.message().await.unwrap() {
                    n += 1;
                }
                assert_eq!(n, READ_EVENTS);
            }
        });
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
