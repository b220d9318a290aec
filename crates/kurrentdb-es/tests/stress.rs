//! 16 tasks send deposits to 100 accounts at once through one
//! `CqrsFramework`: every command either commits or fails with cqrs-es's
//! conflict error, and the stored streams account for every success, no
//! more, without gaps.

mod common;

use std::sync::Arc;

use common::{Account, AccountCommand, AccountEvent, Mode, raw_events, start};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{AggregateError, EventStore};
use kurrentdb_es::{KurrentDBEventRepository, kurrentdb_cqrs};
use kurrentdbclient::ReadStreamOptions;

const TASKS: usize = 16;
const ACCOUNTS: usize = 100;
const COMMANDS_PER_TASK: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_lose_nothing() {
    let (_server, client) = start(Mode::Insecure).await;
    let cqrs = Arc::new(kurrentdb_cqrs::<Account>(client.clone(), vec![], ()));
    for account in 0..ACCOUNTS {
        cqrs.execute(&account.to_string(), AccountCommand::Open)
            .await
            .unwrap();
    }

    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let cqrs = cqrs.clone();
            tokio::spawn(async move {
                let (mut committed, mut conflicts) = (Vec::new(), 0usize);
                for n in 0..COMMANDS_PER_TASK {
                    // Four tasks at a time on each account, so that commands
                    // race: tasks 0-3 send their nth command to account n, ...
                    let account = (n + task / 4) % ACCOUNTS;
                    let amount = (task * COMMANDS_PER_TASK + n) as i64 + 1;
                    match cqrs
                        .execute(&account.to_string(), AccountCommand::Deposit(amount))
                        .await
                    {
                        Ok(()) => committed.push(amount),
                        Err(AggregateError::AggregateConflict) => conflicts += 1,
                        Err(e) => panic!("command failed otherwise: {e}"),
                    }
                }
                (committed, conflicts)
            })
        })
        .collect();
    let (mut committed, mut conflicts) = (Vec::new(), 0);
    for task in tasks {
        let (amounts, c) = task.await.unwrap();
        committed.extend(amounts);
        conflicts += c;
    }
    let successes = committed.len();
    assert_eq!(successes + conflicts, TASKS * COMMANDS_PER_TASK);

    let store = PersistedEventStore::<_, Account>::new_event_store(KurrentDBEventRepository::new(
        client.clone(),
    ));
    let mut deposited = Vec::new();
    for account in 0..ACCOUNTS {
        let stream = format!("account-{account}");
        let events = raw_events(&client, &stream, &ReadStreamOptions::default()).await;
        // No gap, no duplicate: revisions 0, 1, 2, ...
        for (revision, event) in events.iter().enumerate() {
            assert_eq!(event.stream_position, revision as u64, "{stream}");
        }
        let mut computed = Account::default();
        for event in &events {
            let event: AccountEvent = serde_json::from_slice(&event.data).unwrap();
            if let AccountEvent::Deposited { amount } = event {
                deposited.push(amount);
            }
            cqrs_es::Aggregate::apply(&mut computed, event);
        }
        let loaded = store.load_aggregate(&account.to_string()).await.unwrap();
        assert_eq!(loaded.aggregate, computed, "{stream}");
        assert_eq!(loaded.current_sequence, events.len());
    }
    // Every amount is a command's own: each committed one stored once, no other.
    committed.sort_unstable();
    deposited.sort_unstable();
    assert_eq!(deposited, committed);
    eprintln!(
        "{} commands: {successes} committed, {conflicts} conflicts",
        TASKS * COMMANDS_PER_TASK
    );
}
