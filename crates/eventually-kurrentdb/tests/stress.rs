//! 16 tasks send deposits to 100 accounts at once through eventually's
//! `Repository`: every command either commits or fails with the store's
//! conflict error, and the stored streams account for every success, no
//! more, without gaps.

mod common;

use common::{AccountAggregate, AccountCommand, AccountEvent, Mode, raw_events, start};
use eventually_core::aggregate::{Aggregate, AggregateRootBuilder};
use eventually_core::repository::{Error as RepositoryError, Repository};
use eventually_core::store::AppendError;
use eventually_core::versioning::Versioned;
use eventually_kurrentdb::KurrentDBEventStore;
use kurrentdbclient::ReadStreamOptions;

const TASKS: usize = 16;
const ACCOUNTS: usize = 100;
const COMMANDS_PER_TASK: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_lose_nothing() {
    let (_server, client) = start(Mode::Insecure).await;
    let store =
        KurrentDBEventStore::<String, AccountEvent>::new(client.clone(), "account").unwrap();
    let builder = AggregateRootBuilder::from(AccountAggregate);
    let mut repository = Repository::new(builder.clone(), store);
    for account in 0..ACCOUNTS {
        let mut root = builder.build(account.to_string());
        root.handle(AccountCommand::Open).await.unwrap();
        repository.add(root).await.unwrap();
    }

    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let mut repository = repository.clone();
            tokio::spawn(async move {
                let (mut committed, mut conflicts) = (Vec::new(), 0usize);
                for n in 0..COMMANDS_PER_TASK {
                    // Four tasks at a time on each account, so that commands
                    // race: tasks 0-3 send their nth command to account n, ...
                    let account = ((n + task / 4) % ACCOUNTS).to_string();
                    let amount = (task * COMMANDS_PER_TASK + n) as i64 + 1;
                    let mut root = repository.get(account).await.unwrap();
                    root.handle(AccountCommand::Deposit(amount)).await.unwrap();
                    match repository.add(root).await {
                        Ok(_) => committed.push(amount),
                        Err(RepositoryError::Store(e)) if e.is_conflict_error() => conflicts += 1,
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
    assert_eq!(committed.len() + conflicts, TASKS * COMMANDS_PER_TASK);

    let mut deposited = Vec::new();
    for account in 0..ACCOUNTS {
        let stream = format!("account-{account}");
        let events = raw_events(&client, &stream, &ReadStreamOptions::default()).await;
        // No gap, no duplicate: revisions 0, 1, 2, ...
        for (revision, event) in events.iter().enumerate() {
            assert_eq!(event.stream_position, revision as u64, "{stream}");
        }
        let mut computed = Default::default();
        for event in &events {
            let event: AccountEvent = serde_json::from_slice(&event.data).unwrap();
            if let AccountEvent::Deposited { amount } = event {
                deposited.push(amount);
            }
            computed = AccountAggregate::apply(computed, event).unwrap();
        }
        let loaded = repository.get(account.to_string()).await.unwrap();
        assert_eq!(*loaded.state(), computed, "{stream}");
        assert_eq!(loaded.version() as usize, events.len());
    }
    // Every amount is a command's own: each committed one stored once, no other.
    committed.sort_unstable();
    deposited.sort_unstable();
    assert_eq!(deposited, committed);
    eprintln!(
        "{} commands: {} committed, {conflicts} conflicts",
        TASKS * COMMANDS_PER_TASK,
        committed.len()
    );
}
