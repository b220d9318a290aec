//! A bystander's latency while pathological readers run: a ServerFeatures
//! call and a one-event append, each timed on its own, while two filtered
//! `$all` reads with the costliest kind of regex the server accepts (no
//! literal to skip ahead with, over long non-ASCII stream names) and a
//! 300,000-prefix read (refused) run in a loop. Criterion reports the mean;
//! the p50 and p99 of every call timed are printed after each group (the
//! target is a p99 under 50 ms on 2 cores).
//!
//! The server runs on a runtime of its own (2 workers), the pathological
//! clients on another (1 worker) and the bystander on a third (1 worker), as
//! if they were separate processes: a client's own encoding is not counted
//! against the server. `BYSTANDER_QUIET=1` runs the bystander alone, for the
//! machine's floor.
//!
//! `cargo bench -p kurrentdb-embedded --bench bystander`

#[path = "support/bystander.rs"]
mod bystander_calls;
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kurrentdb_embedded::EmbeddedServer;
use tonic::transport::Channel;

/// Streams named with 2,000 `é` (4,000 bytes, within the 4,096-byte limit).
const LONG_STREAMS: usize = 64;
/// Ordinary events in the log, for the readers to scan.
const NOISE: usize = 20_000;

/// Two slow regex reads and a 300,000-prefix read, each in a loop.
fn pathological_readers(channel: &Channel) -> Vec<tokio::task::JoinHandle<()>> {
    let slow = common::regex(r"[a-zé]{0,400}\b\d");
    let huge = common::prefixes(300_000);
    [slow.clone(), slow, huge]
        .into_iter()
        .map(|expression| {
            let mut client = common::Client::new(channel.clone())
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX);
            tokio::spawn(async move {
                loop {
                    // The huge one is refused (INVALID_ARGUMENT); both answers
                    // are fine here, only the cost to others matters.
                    let _ = common::read(&mut client, common::filtered(expression.clone(), 32, 1))
                        .await;
                }
            })
        })
        .collect()
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
    let server = rt.block_on(async {
        let server = EmbeddedServer::start().await.unwrap();
        let mut client = common::Client::new(connect(server.uri()).await);
        for i in 0..LONG_STREAMS {
            let name = format!("{}{i}", "é".repeat(2000));
            common::append_ok(
                &mut client,
                &name,
                common::any(),
                vec![common::event("T", b"{}")],
            )
            .await;
        }
        for i in 0..NOISE / 500 {
            let events = (0..500).map(|_| common::event("N", b"{}")).collect();
            common::append_ok(&mut client, &format!("noise-{i}"), common::any(), events).await;
        }
        server
    });
    let readers = match std::env::var_os("BYSTANDER_QUIET") {
        Some(_) => Vec::new(),
        None => load.block_on(async { pathological_readers(&connect(server.uri()).await) }),
    };
    let channel = bystander.block_on(connect(server.uri()));
    // Let the readers get going.
    std::thread::sleep(Duration::from_millis(500));

    let mut group = c.benchmark_group("bystander");
    bystander_calls::time_calls(
        &mut group,
        "bystander",
        &bystander,
        &channel,
        &mut bystander_calls::percentiles,
    );
    group.finish();
    for r in readers {
        r.abort();
    }
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
