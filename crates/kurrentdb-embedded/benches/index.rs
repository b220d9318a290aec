//! A secondary index read against the scan it replaces: the 100,000 events of
//! one category out of 10 million in `$all`, read with `read_index`
//! (`$idx-ce-Indexed`) and with a stream-name prefix filter (`Indexed-`),
//! which must look at every record of `$all`.
//!
//! `cargo bench -p kurrentdb-embedded --bench index`
//!
//! Filling 10 million events takes a minute or two and about 2 GB of memory;
//! `KURRENTDB_INDEX_BENCH_EVENTS` sets a smaller total (the category stays 1%).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::{ReadAllOptions, ReadIndexOptions};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};

/// Events per append.
const BATCH: u64 = 1_000;

/// Appends `total` events in batches of [`BATCH`]: one batch in a hundred to
/// a stream of category `Indexed`, the others to category `Noise`.
async fn fill(client: &AsyncKurrentDBClient, total: u64) {
    for k in 0..total / BATCH {
        let category = if k % 100 == 0 { "Indexed" } else { "Noise" };
        let stream = format!("{category}-{k}");
        let events =
            (0..BATCH).map(|i| NewEvent::new("Placed", format!("{{\"order\":{k},\"i\":{i}}}")));
        client
            .append_to_stream(&stream, StreamState::Any, events, &Default::default())
            .await
            .unwrap();
    }
}

/// Reads a whole read stream, counting its events.
async fn count(mut events: kurrentdbclient::ReadStream) -> u64 {
    let mut n = 0;
    while let Some(event) = events.next().await {
        event.unwrap();
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let total: u64 = std::env::var("KURRENTDB_INDEX_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let indexed = total.div_ceil(BATCH).div_ceil(100) * BATCH;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, client) = rt.block_on(async {
        let server = EmbeddedServer::start().await.unwrap();
        let client = AsyncKurrentDBClient::connect(&server.connection_string())
            .await
            .unwrap();
        let started = std::time::Instant::now();
        fill(&client, total).await;
        eprintln!("filled {total} events in {:.1?}", started.elapsed());
        (server, client)
    });

    let mut group = c.benchmark_group("index");
    group.throughput(Throughput::Elements(indexed));
    group.sample_size(10);
    let label = format!("{}k_of_{}k", indexed / 1000, total / 1000);
    group.bench_function(format!("read_index_{label}"), |b| {
        b.to_async(&rt).iter(|| async {
            let read = client
                .read_index("ce-Indexed", &ReadIndexOptions::default())
                .await
                .unwrap();
            assert_eq!(count(read).await, indexed);
        });
    });
    group.bench_function(format!("prefix_filter_scan_{label}"), |b| {
        b.to_async(&rt).iter(|| async {
            let options = ReadAllOptions::default()
                .filter_by_stream_name(true)
                .filter_by_prefix(true)
                .filter_include(vec!["Indexed-".to_owned()]);
            let read = client.read_all(&options).await.unwrap();
            assert_eq!(count(read).await, indexed);
        });
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
