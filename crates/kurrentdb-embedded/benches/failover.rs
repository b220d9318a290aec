//! Failover time on an embedded cluster: from the leader's stop to the first
//! append that succeeds, through a client connected by seeds (the client
//! rediscovers the cluster and finds the new leader). Three voting nodes with
//! KurrentDB's default election timeout (1 s, `LeaderElectionTimeoutMs`),
//! 20 failovers, one per sample; the median and worst of them are printed
//! after the group (criterion's own figures say the same).
//!
//! `cargo bench -p kurrentdb-embedded --bench failover`

use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster};
use kurrentdbclient::{AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, StreamState};

const FAILOVERS: usize = 20;

async fn append(client: &AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    client
        .append_to_stream(
            "failover",
            StreamState::Any,
            [NewEvent::new("Tick", "{}")],
            &AppendToStreamOptions::default().timeout(Duration::from_secs(2)),
        )
        .await
        .map(drop)
}

fn failover(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (mut cluster, client) = rt.block_on(async {
        let cluster = EmbeddedCluster::start_with(ClusterOptions::default())
            .await
            .expect("cluster");
        let client = AsyncKurrentDBClient::connect(&cluster.connection_string())
            .await
            .expect("client");
        append(&client).await.expect("first append");
        (cluster, client)
    });
    let times = Mutex::new(Vec::new());
    let mut group = c.benchmark_group("failover");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(FAILOVERS)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1));
    group.bench_function("leader stop to first successful append", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let leader = cluster.leader().expect("a leader");
                    cluster.stop_node(leader).await.expect("stop");
                    let started = Instant::now();
                    while append(&client).await.is_err() {}
                    let took = started.elapsed();
                    times.lock().unwrap().push(took);
                    total += took;
                    cluster.restart_node(leader).await.expect("restart");
                }
                total
            })
        })
    });
    group.finish();
    let mut all = std::mem::take(&mut *times.lock().unwrap());
    all.sort();
    if let (Some(median), Some(worst)) = (all.get(all.len() / 2), all.last()) {
        println!(
            "failover over {} stops: median {median:?}, worst {worst:?}",
            all.len()
        );
    }
}

criterion_group!(benches, failover);
criterion_main!(benches);
