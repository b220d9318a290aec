//! The web UI's heaviest pages, and the node's JSON and Prometheus
//! endpoints, on a log of 10,000 events and on one of a million: a GET of
//! each (HTTP/1.1, one keep-alive connection) on both logs, so that a page
//! whose cost grows with the log shows as a larger figure for `1m` than
//! for `10k`. The pages: `$all` newest first (the default), oldest first
//! and in the middle of the log (as its paging links ask), the streams'
//! home (recently written), the long stream's newest and oldest pages and
//! one of its events, the dashboard's figures, `/metrics`, `/stats` and
//! `/gossip`.
//!
//! The logs are filled by v2 `AppendRecords` calls of a thousand records,
//! one in ten to a long stream (100,000 events in the large log) and the
//! others over 10,000 streams (100 in the small log).
//!
//! `cargo bench -p kurrentdb-embedded --bench ui`
//!
//! `KURRENTDB_UI_BENCH_EVENTS` sets the large log's size (default
//! 1,000,000).

#[path = "support/http.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::AsyncKurrentDBClient;

fn label(events: u64) -> String {
    if events >= 1_000_000 && events.is_multiple_of(1_000_000) {
        format!("{}m", events / 1_000_000)
    } else {
        format!("{}k", events / 1_000)
    }
}

fn bench(c: &mut Criterion) {
    let large: u64 = std::env::var("KURRENTDB_UI_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (events, streams) in [(10_000, 100), (large, 10_000)] {
        let (server, filled) = rt.block_on(async {
            let server = EmbeddedServer::start().await.unwrap();
            let client = AsyncKurrentDBClient::connect(&server.connection_string())
                .await
                .unwrap();
            let started = std::time::Instant::now();
            let filled = support::fill(&client, events, streams).await;
            eprintln!("filled {events} events in {:.1?}", started.elapsed());
            (server, filled)
        });
        let http = support::Http::new(server.addr());
        let mut group = c.benchmark_group(format!("ui_{}", label(events)));
        for (name, path) in support::pages(filled, events / 10) {
            // Answers 200 (and warms the connection) before it is timed.
            rt.block_on(http.get_ok(&path));
            group.bench_function(name, |b| {
                b.to_async(&rt).iter(|| http.get_ok(&path));
            });
        }
        group.finish();
        drop(server);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
