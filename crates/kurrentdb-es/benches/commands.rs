//! Commands per second through cqrs-es with the KurrentDB repository on an
//! embedded server, beside the same commands with cqrs-es's in-memory
//! `MemStore`, in the same run:
//!
//! ```sh
//! cargo bench -p kurrentdb-es --bench commands -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! One iteration opens a new account and deposits three times (4 commands,
//! each loading the account's events, handling, committing), so every
//! command works on a stream of at most 4 events however long the run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Account, AccountCommand, Mode, start};
use cqrs_es::mem_store::MemStore;
use cqrs_es::{CqrsFramework, EventStore};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const COMMANDS_PER_ITERATION: u64 = 4;

/// Runs one iteration's commands on a new account.
async fn account_commands<S: EventStore<Account>>(cqrs: &CqrsFramework<Account, S>, id: &str) {
    cqrs.execute(id, AccountCommand::Open).await.expect("open");
    for amount in [10, 20, 30] {
        cqrs.execute(id, AccountCommand::Deposit(amount))
            .await
            .expect("deposit");
    }
}

fn commands(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (server, client) = runtime.block_on(start(Mode::Insecure));
    let kurrentdb = kurrentdb_es::kurrentdb_cqrs::<Account>(client, vec![], ());
    let memory = CqrsFramework::new(MemStore::<Account>::default(), vec![], ());
    let next_id = AtomicU64::new(0);

    let mut group = c.benchmark_group("cqrs_commands");
    group.throughput(Throughput::Elements(COMMANDS_PER_ITERATION));
    group.bench_function("kurrentdb_embedded", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (cqrs, next_id) = (&kurrentdb, &next_id);
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let id = next_id.fetch_add(1, Ordering::Relaxed).to_string();
                    account_commands(cqrs, &id).await;
                }
                start.elapsed()
            }
        })
    });
    group.bench_function("mem_store", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (cqrs, next_id) = (&memory, &next_id);
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let id = next_id.fetch_add(1, Ordering::Relaxed).to_string();
                    account_commands(cqrs, &id).await;
                }
                start.elapsed()
            }
        })
    });
    group.finish();
    drop(server);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = commands
}
criterion_main!(benches);
