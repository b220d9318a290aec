//! Figures for hostile input, measured in one process (server and
//! hostile client together, so the resident memory counts both):
//!
//! - stalls: the longest a bystander's one-event append and ServerFeatures
//!   call waited while two `[a-zé]{0,8000}\b\d` reads, or one
//!   300,000-prefix read, ran over long non-ASCII stream names;
//! - memory: the peak resident memory above the baseline while a runaway
//!   persistent consumer (buffer 2^31-1, 1 ms timeout, endless retries) runs
//!   for 15 s, while a v2 session sends 400 records of 600 KB, and while a
//!   BatchAppend call sends 600 unfinished 1 MB batches;
//! - idle groups: the CPU the process uses, per second, with 20,000
//!   persistent groups and no consumers.
//!
//! Run by hand: `cargo run --release -p kurrentdb-embedded --example hostile_figures`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::proto::persistent::persistent_subscriptions_client::PersistentSubscriptionsClient;
use kurrentdbclient::proto::persistent::{CreateReq, create_req};
use kurrentdbclient::proto::persistent::{ReadReq as PReadReq, read_req as pread_req};
use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
use kurrentdbclient::proto::shared::{Empty, StreamIdentifier};
use kurrentdbclient::proto::streams::{BatchAppendReq, batch_append_req, read_req};
use kurrentdbclient::proto::v2::streams_service_client::StreamsServiceClient;
use kurrentdbclient::proto::v2::{AppendRecord, AppendRequest, SchemaFormat, SchemaInfo};
use tonic::transport::Channel;

fn proc_status(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of the process, in clock ticks (1/100 s).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// The peak resident memory (MiB above `base`) while `work` runs, sampled
/// every 5 ms.
async fn peak_rss<T>(work: impl Future<Output = T>) -> (T, u64) {
    let base = proc_status("VmRSS:");
    let peak = Arc::new(AtomicU64::new(base));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(proc_status("VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let out = work.await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "  (RSS {} MiB before, peak {} MiB)",
        base / 1024,
        peak / 1024
    );
    (out, peak.saturating_sub(base) / 1024)
}

/// Runs `readers` filtered reads to the end while a bystander appends one
/// event and calls ServerFeatures in a loop; prints how each read ended and
/// the bystander's longest waits.
async fn stall(
    channel: &Channel,
    what: &str,
    readers: usize,
    e: &read_req::options::filter_options::Expression,
) {
    let started = Instant::now();
    let reads: Vec<_> = (0..readers)
        .map(|_| {
            let mut client = common::Client::new(channel.clone())
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX);
            let options = common::filtered(e.clone(), 32, 1);
            tokio::spawn(async move {
                let r = common::read(&mut client, options).await;
                (r.map(|r| r.len()).map_err(|s| s.code()), started.elapsed())
            })
        })
        .collect();
    let (mut worst_append, mut worst_features) = (Duration::ZERO, Duration::ZERO);
    let mut client = common::Client::new(channel.clone());
    let mut features = ServerFeaturesClient::new(channel.clone());
    while reads.iter().any(|r| !r.is_finished()) {
        let t = Instant::now();
        common::append_ok(
            &mut client,
            "bystander",
            common::any(),
            vec![common::event("T", b"{}")],
        )
        .await;
        worst_append = worst_append.max(t.elapsed());
        let t = Instant::now();
        features.get_supported_methods(Empty {}).await.unwrap();
        worst_features = worst_features.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for r in reads {
        let (outcome, took) = r.await.unwrap();
        println!("{what}: read {outcome:?} in {took:?}");
    }
    println!(
        "{what}: longest bystander append {worst_append:?}, ServerFeatures {worst_features:?}"
    );
}

async fn create_group(
    channel: &Channel,
    stream: &str,
    group: &str,
    settings: create_req::Settings,
) {
    PersistentSubscriptionsClient::new(channel.clone())
        .create(CreateReq {
            options: Some(create_req::Options {
                stream_identifier: None,
                group_name: group.to_owned(),
                settings: Some(settings),
                stream_option: Some(create_req::options::StreamOption::Stream(
                    create_req::StreamOptions {
                        stream_identifier: common::sid(stream),
                        revision_option: Some(create_req::stream_options::RevisionOption::Start(
                            Empty {},
                        )),
                    },
                )),
            }),
        })
        .await
        .unwrap();
}

fn group_settings(max_retry_count: i32, message_timeout_ms: i32) -> create_req::Settings {
    create_req::Settings {
        resolve_links: false,
        revision: 0,
        extra_statistics: false,
        max_retry_count,
        min_checkpoint_count: 1,
        max_checkpoint_count: 1,
        max_subscriber_count: 0,
        live_buffer_size: 100,
        read_batch_size: 20,
        history_buffer_size: 100,
        named_consumer_strategy: 0,
        consumer_strategy: "RoundRobin".to_owned(),
        message_timeout: Some(create_req::settings::MessageTimeout::MessageTimeoutMs(
            message_timeout_ms,
        )),
        checkpoint_after: Some(create_req::settings::CheckpointAfter::CheckpointAfterMs(0)),
    }
}

/// A consumer asking for everything, never acking, and reading its first
/// responses only: it holds the call open for `hold`.
async fn runaway_consumer(channel: &Channel, stream: &str, group: &str, hold: Duration) {
    let first = PReadReq {
        content: Some(pread_req::Content::Options(pread_req::Options {
            group_name: group.to_owned(),
            buffer_size: i32::MAX,
            uuid_option: Some(pread_req::options::UuidOption {
                content: Some(pread_req::options::uuid_option::Content::String(Empty {})),
            }),
            stream_option: Some(pread_req::options::StreamOption::StreamIdentifier(
                StreamIdentifier {
                    stream_name: Bytes::copy_from_slice(stream.as_bytes()),
                },
            )),
        })),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(first).await.unwrap();
    let mut s = PersistentSubscriptionsClient::new(channel.clone())
        .read(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..10 {
        let _ = s.message().await;
    }
    tokio::time::sleep(hold).await;
    drop((tx, s));
}

fn batch_chunk(i: usize) -> BatchAppendReq {
    let mut metadata = std::collections::HashMap::new();
    metadata.insert("type".to_owned(), "T".to_owned());
    metadata.insert(
        "content-type".to_owned(),
        "application/octet-stream".to_owned(),
    );
    BatchAppendReq {
        correlation_id: common::puuid(uuid::Uuid::new_v4()),
        options: Some(batch_append_req::Options {
            stream_identifier: common::sid(&format!("unfinished-{i}")),
            expected_stream_position: Some(batch_append_req::options::ExpectedStreamPosition::Any(
                (),
            )),
            deadline_option: None,
        }),
        proposed_messages: vec![batch_append_req::ProposedMessage {
            id: common::puuid(uuid::Uuid::new_v4()),
            metadata,
            custom_metadata: Bytes::new(),
            data: Bytes::from(vec![b'x'; 1_000_000]),
        }],
        is_final: false,
    }
}

fn v2_request(i: usize) -> AppendRequest {
    AppendRequest {
        stream: format!("v2-big-{i}"),
        records: vec![AppendRecord {
            record_id: Some(uuid::Uuid::new_v4().to_string()),
            properties: Default::default(),
            schema: Some(SchemaInfo {
                format: SchemaFormat::Json as i32,
                name: "T".to_owned(),
                id: None,
            }),
            data: Bytes::from(vec![b'1'; 600_000]),
            stream: String::new(),
        }],
        expected_revision: None,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let server = EmbeddedServer::start().await.unwrap();
    let channel = Channel::from_shared(server.uri())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = common::Client::new(channel.clone());
    for i in 0..64 {
        let name = format!("{}{i}", "é".repeat(2000));
        common::append_ok(
            &mut client,
            &name,
            common::any(),
            vec![common::event("T", b"{}")],
        )
        .await;
    }
    for i in 0..40 {
        let events = (0..500).map(|_| common::event("N", b"{}")).collect();
        common::append_ok(&mut client, &format!("noise-{i}"), common::any(), events).await;
    }
    common::append_ok(
        &mut client,
        "ps-runaway",
        common::any(),
        (0..200)
            .map(|_| common::event("T", &[b'x'; 1000]))
            .collect(),
    )
    .await;
    create_group(
        &channel,
        "ps-runaway",
        "g-runaway",
        group_settings(i32::MAX, 1),
    )
    .await;
    let ((), mib) = peak_rss(runaway_consumer(
        &channel,
        "ps-runaway",
        "g-runaway",
        Duration::from_secs(15),
    ))
    .await;
    println!("runaway consumer, 15 s: peak RSS +{mib} MiB");

    let requests = futures::stream::iter((0..400).map(v2_request));
    let (end, mib) =
        peak_rss(StreamsServiceClient::new(channel.clone()).append_session(requests)).await;
    println!(
        "v2 session of 400 x 600 KB: {:?}, peak RSS +{mib} MiB",
        end.map(|_| ()).map_err(|s| s.code())
    );

    let chunks = futures::stream::iter((0..600).map(batch_chunk));
    let (end, mib) = peak_rss(async {
        let mut s = common::Client::new(channel.clone())
            .batch_append(chunks)
            .await?
            .into_inner();
        while s.message().await?.is_some() {}
        Ok::<(), tonic::Status>(())
    })
    .await;
    println!(
        "BatchAppend of 600 unfinished 1 MB batches: {:?}, peak RSS +{mib} MiB",
        end.map_err(|s| s.code())
    );

    stall(
        &channel,
        "two [a-zé]{0,8000}\\b\\d reads",
        2,
        &common::regex(r"[a-zé]{0,8000}\b\d"),
    )
    .await;
    stall(
        &channel,
        "two [a-zé]{0,400}\\b\\d reads",
        2,
        &common::regex(r"[a-zé]{0,400}\b\d"),
    )
    .await;
    stall(
        &channel,
        "a 300,000-prefix read",
        1,
        &common::prefixes(300_000),
    )
    .await;
    stall(
        &channel,
        "a 10,000-prefix read",
        1,
        &common::prefixes(10_000),
    )
    .await;

    common::append_ok(
        &mut client,
        "idle",
        common::any(),
        vec![common::event("T", b"{}")],
    )
    .await;
    let rss = proc_status("VmRSS:");
    let t = Instant::now();
    for chunk in 0..20_000 / 100 {
        let creates: Vec<_> = (0..100)
            .map(|i| {
                let channel = channel.clone();
                tokio::spawn(async move {
                    create_group(
                        &channel,
                        "idle",
                        &format!("idle-{}", chunk * 100 + i),
                        group_settings(10, 30_000),
                    )
                    .await
                })
            })
            .collect();
        for c in creates {
            c.await.unwrap();
        }
    }
    println!(
        "20,000 groups created in {:?}, RSS +{} MiB",
        t.elapsed(),
        proc_status("VmRSS:").saturating_sub(rss) / 1024
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (ticks, t) = (cpu_ticks(), Instant::now());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu = (cpu_ticks() - ticks) as f64 / 100.0;
    println!(
        "20,000 idle groups: {:.1}% of a core over {:?}",
        cpu * 100.0 / t.elapsed().as_secs_f64(),
        t.elapsed()
    );
    server.shutdown().await;
}
