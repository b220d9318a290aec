//! A gRPC bystander's latency while HTTP clients hammer the node's port: a
//! ServerFeatures call and a one-event append, each timed on its own, while
//! HTTP clients loop over the heaviest pages (`$all` pages newest, oldest
//! and in the middle, the streams' home, a long stream's pages and one of
//! its events, the dashboard's figures, `/metrics`, `/stats`, `/gossip`) on
//! a log of 100,000 events, and hostile ones hold slow half-sent heads, send
//! heads of hundreds of KiB and send garbage. Criterion reports the mean;
//! the p50 and p99 of every call timed are printed after each group (the
//! target is a p99 under 50 ms on 2 cores), and how many pages the
//! attackers fetched meanwhile.
//!
//! As in `bystander.rs`, the server runs on a runtime of its own (2
//! workers), the attackers on another (1 worker) and the bystander on a
//! third (1 worker). `BYSTANDER_QUIET=1` runs the bystander alone, for the
//! machine's floor.
//!
//! `cargo bench -p kurrentdb-embedded --bench http_bystander`

#[path = "support/bystander.rs"]
mod bystander_calls;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/http.rs"]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::AsyncKurrentDBClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::Channel;

/// Events in the log.
const EVENTS: u64 = 100_000;
/// HTTP clients looping over the pages, each on a connection of its own.
const PAGE_CLIENTS: usize = 32;
/// Slow clients, each holding a half-sent head open.
const SLOW_CLIENTS: usize = 512;
/// Clients sending a 300 KiB head (90 headers: under hyper's limits of
/// 400 KiB and 100 headers) and clients sending garbage, each in a loop.
const HUGE_CLIENTS: usize = 4;
const GARBAGE_CLIENTS: usize = 4;

/// The attackers: page loopers, slow heads, huge heads, garbage.
fn attackers(
    addr: std::net::SocketAddr,
    pages: Vec<String>,
    fetched: Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for k in 0..PAGE_CLIENTS {
        let http = support::Http::new(addr);
        let pages = pages.clone();
        let fetched = fetched.clone();
        tasks.push(tokio::spawn(async move {
            // Each client starts at a different page.
            for path in pages.iter().cycle().skip(k) {
                if http.get(path).await.is_ok() {
                    fetched.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for _ in 0..SLOW_CLIENTS {
        tasks.push(tokio::spawn(async move {
            loop {
                // A head that never ends, a byte a second; the server closes
                // it after its header read timeout, and it comes back.
                let Ok(mut socket) = TcpStream::connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                if socket
                    .write_all(b"GET /ui/streams/$all HTTP/1.1\r\nHost: x\r\n")
                    .await
                    .is_err()
                {
                    continue;
                }
                while socket.write_all(b"X").await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }));
    }
    let huge = Arc::new(format!(
        "GET /ui/streams HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..90)
            .map(|i| format!("X-H{i}: {}\r\n", "a".repeat(3400)))
            .collect::<Vec<_>>()
            .concat()
    ));
    for _ in 0..HUGE_CLIENTS {
        let huge = huge.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let _ = exchange(addr, huge.as_bytes()).await;
            }
        }));
    }
    for _ in 0..GARBAGE_CLIENTS {
        tasks.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            loop {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let garbage: Vec<u8> = (0..4096).map(|i| (n >> (i % 56)) as u8).collect();
                let _ = exchange(addr, &garbage).await;
            }
        }));
    }
    tasks
}

/// Sends `request` on a fresh connection and reads until the server closes
/// it.
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> std::io::Result<()> {
    let mut socket = TcpStream::connect(addr).await?;
    let _ = socket.write_all(request).await;
    let mut sink = [0u8; 4096];
    while socket.read(&mut sink).await? > 0 {}
    Ok(())
}

/// The process's resident memory, in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let runtime = |workers| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap()
    };
    let connect =
        |uri: String| async move { Channel::from_shared(uri).unwrap().connect().await.unwrap() };
    let (rt, load, bystander) = (runtime(2), runtime(1), runtime(1));
    let server = rt.block_on(async { EmbeddedServer::start().await.unwrap() });
    // Filled from the load runtime: the client's encoding is not the
    // server's.
    let filled = load.block_on(async {
        let client = AsyncKurrentDBClient::connect(&server.connection_string())
            .await
            .unwrap();
        support::fill(&client, EVENTS, 1_000).await
    });
    let pages: Vec<String> = support::pages(filled, EVENTS / 10)
        .into_iter()
        .map(|(_, path)| path)
        .collect();
    // Every page answers 200 before the run.
    load.block_on(async {
        let http = support::Http::new(server.addr());
        for path in &pages {
            http.get_ok(path).await;
        }
    });
    let fetched = Arc::new(AtomicU64::new(0));
    let tasks = match std::env::var_os("BYSTANDER_QUIET") {
        Some(_) => Vec::new(),
        None => load.block_on(async { attackers(server.addr(), pages, fetched.clone()) }),
    };
    let channel = bystander.block_on(connect(server.uri()));
    // Let the attackers get going.
    std::thread::sleep(Duration::from_millis(500));

    let mut group = c.benchmark_group("http_bystander");
    let mut fetched_at = (fetched.load(Ordering::Relaxed), Instant::now());
    let mut report = |name: &str, samples: &Mutex<Vec<Duration>>| {
        bystander_calls::percentiles(name, samples);
        let (before, since) = fetched_at;
        let now = fetched.load(Ordering::Relaxed);
        println!(
            "  meanwhile: {} pages fetched by the attackers ({:.0}/s); process RSS {} MiB",
            now - before,
            (now - before) as f64 / since.elapsed().as_secs_f64(),
            rss_kib() / 1024
        );
        fetched_at = (now, Instant::now());
    };
    bystander_calls::time_calls(
        &mut group,
        "http_bystander",
        &bystander,
        &channel,
        &mut report,
    );
    group.finish();
    for t in tasks {
        t.abort();
    }
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
