//! The store through eventually's `Repository` and `EventStore`, against an
//! embedded KurrentDB: what eventually-postgres's tests check of PostgreSQL,
//! plus KurrentDB's own (`$ce-` categories, idempotent appends). Each
//! scenario runs against an insecure server and a `--dev` (TLS,
//! authenticated) one.

mod common;

use common::{
    Account, AccountAggregate, AccountCommand, AccountEvent, Mode, await_events, raw_events, start,
};
use eventually_core::aggregate::AggregateRootBuilder;
use eventually_core::repository::{Error as RepositoryError, Repository};
use eventually_core::store::{AppendError, EventStore, Expected, Persisted, Select};
use eventually_core::versioning::Versioned;
use eventually_kurrentdb::{EventStoreError, KurrentDBEventStore};
use futures::TryStreamExt;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, ReadStreamOptions, StreamState,
};
use serde_json::{Value, json};
use uuid::Uuid;

macro_rules! in_both_modes {
    ($($scenario:ident),* $(,)?) => {
        mod insecure {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Mode::Insecure).await })*
        }
        mod secure {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Mode::Secure).await })*
        }
    };
}

in_both_modes!(
    commit_and_reload,
    concurrent_commits_one_wins,
    versions_are_checked,
    stream_selects_by_version,
    stream_all_reads_the_category,
    events_are_plain_json_in_the_category_stream,
    a_retried_append_is_not_written_twice,
    remove_deletes_the_stream,
    bad_input_is_a_named_error,
);

type Store = KurrentDBEventStore<String, AccountEvent>;

fn store(client: &AsyncKurrentDBClient) -> Store {
    KurrentDBEventStore::new(client.clone(), "account").unwrap()
}

fn repository(client: &AsyncKurrentDBClient) -> Repository<AccountAggregate, Store> {
    Repository::new(AggregateRootBuilder::from(AccountAggregate), store(client))
}

async fn commit_and_reload(mode: Mode) {
    let (_server, client) = start(mode).await;
    let mut repository = repository(&client);
    let mut root = AggregateRootBuilder::from(AccountAggregate).build("a-1".to_owned());
    root.handle(AccountCommand::Open).await.unwrap();
    root.handle(AccountCommand::Deposit(100)).await.unwrap();
    let root = repository.add(root).await.unwrap();
    assert_eq!(root.version(), 2);

    let mut root = repository.get("a-1".to_owned()).await.unwrap();
    assert_eq!(root.version(), 2);
    assert_eq!(
        *root.state(),
        Account {
            opened: true,
            balance: 100
        }
    );
    root.handle(AccountCommand::Withdraw(30)).await.unwrap();
    let refused = root.handle(AccountCommand::Withdraw(500)).await.err();
    assert_eq!(refused, Some(common::AccountError::InsufficientFunds));
    let root = repository.add(root).await.unwrap();
    assert_eq!(root.version(), 3);
    let root = repository.get("a-1".to_owned()).await.unwrap();
    assert_eq!((root.version(), root.state().balance), (3, 70));

    // An aggregate never written loads as new.
    let fresh = repository.get("a-2".to_owned()).await.unwrap();
    assert_eq!((fresh.version(), fresh.state().opened), (0, false));
}

async fn concurrent_commits_one_wins(mode: Mode) {
    let (_server, client) = start(mode).await;
    let mut repository = repository(&client);
    let mut root = AggregateRootBuilder::from(AccountAggregate).build("c-1".to_owned());
    root.handle(AccountCommand::Open).await.unwrap();
    repository.add(root).await.unwrap();

    let mut first = repository.get("c-1".to_owned()).await.unwrap();
    let mut second = repository.get("c-1".to_owned()).await.unwrap();
    first.handle(AccountCommand::Deposit(5)).await.unwrap();
    second.handle(AccountCommand::Deposit(7)).await.unwrap();
    repository.add(first).await.unwrap();
    match repository.add(second).await {
        Err(RepositoryError::Store(e)) => {
            assert!(e.is_conflict_error(), "{e}");
            assert!(
                matches!(
                    &e,
                    EventStoreError::Conflict {
                        expected: 1,
                        actual: 2,
                        ..
                    }
                ),
                "{e:?}"
            );
        }
        other => panic!("expected a conflict, got {:?}", other.map(|r| r.version())),
    }
    let events = raw_events(&client, "account-c-1", &ReadStreamOptions::default()).await;
    let types: Vec<&str> = events.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["Opened", "Deposited"]);
    assert_eq!(
        repository
            .get("c-1".to_owned())
            .await
            .unwrap()
            .state()
            .balance,
        5
    );
}

async fn versions_are_checked(mode: Mode) {
    let (_server, client) = start(mode).await;
    let mut store = store(&client);
    let id = || "v-1".to_owned();
    assert_eq!(
        store
            .append(id(), Expected::Exact(0), vec![AccountEvent::Opened])
            .await
            .unwrap(),
        1
    );
    let again = store
        .append(id(), Expected::Exact(0), vec![AccountEvent::Opened])
        .await;
    assert!(
        matches!(
            again,
            Err(EventStoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            })
        ),
        "{again:?}"
    );
    let ahead = store
        .append(id(), Expected::Exact(5), vec![AccountEvent::Opened])
        .await;
    assert!(
        matches!(
            ahead,
            Err(EventStoreError::Conflict {
                expected: 5,
                actual: 1,
                ..
            })
        ),
        "{ahead:?}"
    );
    let deposits = vec![
        AccountEvent::Deposited { amount: 1 },
        AccountEvent::Deposited { amount: 2 },
    ];
    assert_eq!(
        store.append(id(), Expected::Any, deposits).await.unwrap(),
        3
    );
    assert_eq!(
        store
            .append(id(), Expected::Exact(3), vec![])
            .await
            .unwrap(),
        3
    );
    let empty = store.append(id(), Expected::Exact(2), vec![]).await;
    assert!(
        matches!(empty, Err(EventStoreError::Conflict { .. })),
        "{empty:?}"
    );
    let versions: Vec<u32> = store
        .stream(id(), Select::All)
        .await
        .unwrap()
        .map_ok(|e| e.version())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(versions, [1, 2, 3]);
}

async fn stream_selects_by_version(mode: Mode) {
    let (_server, client) = start(mode).await;
    let mut store = store(&client);
    let events = (1..=4)
        .map(|amount| AccountEvent::Deposited { amount })
        .collect();
    store
        .append("s-1".to_owned(), Expected::Exact(0), events)
        .await
        .unwrap();
    let read = |select| {
        let store = store.clone();
        async move {
            let events: Vec<Persisted<String, AccountEvent>> = store
                .stream("s-1".to_owned(), select)
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            events
                .iter()
                .map(|e| (e.version(), e.source_id().clone()))
                .collect::<Vec<_>>()
        }
    };
    let versions = |r: Vec<(u32, String)>| r.into_iter().map(|(v, _)| v).collect::<Vec<_>>();
    assert_eq!(versions(read(Select::All).await), [1, 2, 3, 4]);
    assert_eq!(versions(read(Select::From(3)).await), [3, 4]);
    assert_eq!(versions(read(Select::From(0)).await), [1, 2, 3, 4]);
    assert!(read(Select::From(9)).await.is_empty());
    assert_eq!(read(Select::All).await[0].1, "s-1");
    let missing: Vec<_> = store
        .stream("s-9".to_owned(), Select::All)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(missing.is_empty());
}

async fn stream_all_reads_the_category(mode: Mode) {
    let (_server, client) = start(mode).await;
    let mut store = store(&client);
    store
        .append(
            "x-1".to_owned(),
            Expected::Exact(0),
            vec![AccountEvent::Opened],
        )
        .await
        .unwrap();
    store
        .append(
            "x-2".to_owned(),
            Expected::Exact(0),
            vec![AccountEvent::Opened],
        )
        .await
        .unwrap();
    store
        .append(
            "x-1".to_owned(),
            Expected::Exact(1),
            vec![AccountEvent::Deposited { amount: 3 }],
        )
        .await
        .unwrap();
    // Another category, and a stream whose name only starts like this one.
    let mut other =
        KurrentDBEventStore::<String, AccountEvent>::new(client.clone(), "ledger").unwrap();
    other
        .append("l-1".to_owned(), Expected::Any, vec![AccountEvent::Opened])
        .await
        .unwrap();
    client
        .append_to_stream(
            "accounting-1",
            StreamState::Any,
            [NewEvent::new("Other", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    // $ce-account is written by the $by_category projection: wait for it.
    assert_eq!(await_events(&client, "$ce-account", 3).await.len(), 3);

    let all: Vec<Persisted<String, AccountEvent>> = store
        .stream_all(Select::All)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<(u32, &str, u32)> = all
        .iter()
        .map(|e| (e.sequence_number(), e.source_id().as_str(), e.version()))
        .collect();
    assert_eq!(seen, [(0, "x-1", 1), (1, "x-2", 1), (2, "x-1", 2)]);
    assert_eq!(*all[2], AccountEvent::Deposited { amount: 3 });
    let from: Vec<Persisted<String, AccountEvent>> = store
        .stream_all(Select::From(1))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        from.iter().map(|e| e.sequence_number()).collect::<Vec<_>>(),
        [1, 2]
    );
}

async fn events_are_plain_json_in_the_category_stream(mode: Mode) {
    let (_server, client) = start(mode).await;
    let mut store = store(&client);
    store
        .append(
            "j-1".to_owned(),
            Expected::Exact(0),
            vec![AccountEvent::Opened, AccountEvent::Deposited { amount: 9 }],
        )
        .await
        .unwrap();
    let events = await_events(&client, "$ce-account", 2).await;
    let types: Vec<&str> = events.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["Opened", "Deposited"]);
    assert_eq!(events[1].stream_name, "account-j-1");
    assert_eq!(events[1].content_type, "application/json");
    let data: Value = serde_json::from_slice(&events[1].data).unwrap();
    assert_eq!(data, json!({"Deposited": {"amount": 9}}));
    let meta: Value = serde_json::from_slice(&events[1].metadata).unwrap();
    assert_eq!(
        meta,
        json!({"aggregateType": "account", "aggregateId": "j-1", "version": 2})
    );
}

async fn a_retried_append_is_not_written_twice(mode: Mode) {
    let (_server, client) = start(mode).await;
    let store = store(&client);
    let id = "i-1".to_owned();
    let events = [AccountEvent::Opened, AccountEvent::Deposited { amount: 5 }];
    let commit = Uuid::new_v4();
    assert_eq!(
        store
            .append_as(&id, Expected::Exact(0), &events, commit)
            .await
            .unwrap(),
        2
    );
    // The same commit again (its answer lost, say): accepted, not rewritten.
    assert_eq!(
        store
            .append_as(&id, Expected::Exact(0), &events, commit)
            .await
            .unwrap(),
        2
    );
    let stored = raw_events(&client, "account-i-1", &ReadStreamOptions::default()).await;
    assert_eq!(stored.len(), 2);
    // The same events as another commit: a conflict, not a duplicate.
    let other = store
        .append_as(&id, Expected::Exact(0), &events, Uuid::new_v4())
        .await;
    assert!(
        matches!(other, Err(EventStoreError::Conflict { .. })),
        "{other:?}"
    );
    let stored = raw_events(&client, "account-i-1", &ReadStreamOptions::default()).await;
    assert_eq!(stored.len(), 2);
}

async fn remove_deletes_the_stream(mode: Mode) {
    let (_server, client) = start(mode).await;
    let mut repository = repository(&client);
    let mut root = AggregateRootBuilder::from(AccountAggregate).build("d-1".to_owned());
    root.handle(AccountCommand::Open).await.unwrap();
    repository.add(root).await.unwrap();
    repository.remove("d-1".to_owned()).await.unwrap();
    let fresh = repository.get("d-1".to_owned()).await.unwrap();
    assert_eq!((fresh.version(), fresh.state().opened), (0, false));
    // Removing what is not there is no error.
    repository.remove("d-9".to_owned()).await.unwrap();
}

async fn bad_input_is_a_named_error(mode: Mode) {
    let (_server, client) = start(mode).await;
    for bad in ["", "$account", "bank-account"] {
        let store = KurrentDBEventStore::<String, AccountEvent>::new(client.clone(), bad);
        assert!(matches!(store, Err(EventStoreError::InvalidCategory(c)) if c == bad));
    }
    let mut store = store(&client);
    let empty = store
        .append(String::new(), Expected::Any, vec![AccountEvent::Opened])
        .await;
    assert!(matches!(empty, Err(EventStoreError::EmptyId)), "{empty:?}");

    // An event another client wrote that is not this event type's JSON.
    client
        .append_to_stream(
            "account-b-1",
            StreamState::NoStream,
            [NewEvent::new("Garbage", "{\"x\": 1}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let read: Result<Vec<_>, _> = store
        .stream("b-1".to_owned(), Select::All)
        .await
        .unwrap()
        .try_collect()
        .await;
    assert!(
        matches!(
            read,
            Err(EventStoreError::InvalidStoredEvent { revision: 0, .. })
        ),
        "{read:?}"
    );
    let got = repository(&client).get("b-1".to_owned()).await.err();
    assert!(matches!(
        got,
        Some(RepositoryError::Store(
            EventStoreError::InvalidStoredEvent { .. }
        ))
    ));
}
