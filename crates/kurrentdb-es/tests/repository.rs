//! The repository through cqrs-es, against an embedded KurrentDB: what
//! postgres-es's tests check of PostgreSQL, plus what KurrentDB adds
//! (`$ce-` categories, idempotent appends, `$maxCount` on snapshots). Each
//! scenario runs against an insecure server and a `--dev` (TLS,
//! authenticated) one.

mod common;

use std::collections::HashMap;

use common::{Account, AccountCommand, AccountEvent, Mode, await_events, raw_events, start};
use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, SerializedEvent,
};
use cqrs_es::{AggregateError, EventStore};
use kurrentdb_es::{
    KurrentDBEventRepository, KurrentDBRepositoryError, kurrentdb_cqrs, kurrentdb_snapshot_cqrs,
};
use kurrentdbclient::{
    AppendToStreamOptions, GetStreamMetadataOptions, NewEvent, ReadStreamOptions, StreamState,
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
    snapshots_are_written_and_used,
    snapshot_version_is_checked,
    replay_of_one_aggregate_and_of_a_type,
    events_are_plain_json_in_the_category_stream,
    a_retried_commit_is_not_written_twice,
    bad_input_is_a_named_error,
);

type Store = PersistedEventStore<KurrentDBEventRepository, Account>;

async fn commit_and_reload(mode: Mode) {
    let (_server, client) = start(mode).await;
    let cqrs = kurrentdb_cqrs::<Account>(client.clone(), vec![], ());
    cqrs.execute("a-1", AccountCommand::Open).await.unwrap();
    cqrs.execute("a-1", AccountCommand::Deposit(100))
        .await
        .unwrap();
    cqrs.execute("a-1", AccountCommand::Withdraw(30))
        .await
        .unwrap();
    let refused = cqrs.execute("a-1", AccountCommand::Withdraw(500)).await;
    assert!(
        matches!(refused, Err(AggregateError::UserError(_))),
        "{refused:?}"
    );

    let store = Store::new_event_store(KurrentDBEventRepository::new(client.clone()));
    let context = store.load_aggregate("a-1").await.unwrap();
    assert_eq!(context.current_sequence, 3);
    assert_eq!(context.aggregate.balance, 70);
    let envelopes = store.load_events("a-1").await.unwrap();
    let sequences: Vec<usize> = envelopes.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [1, 2, 3]);
    assert_eq!(
        envelopes[1].payload,
        AccountEvent::Deposited { amount: 100 }
    );

    // An aggregate never written loads as new.
    let fresh = store.load_aggregate("a-2").await.unwrap();
    assert_eq!((fresh.current_sequence, fresh.aggregate.opened), (0, false));
    assert!(store.load_events("a-2").await.unwrap().is_empty());
}

async fn concurrent_commits_one_wins(mode: Mode) {
    let (_server, client) = start(mode).await;
    let cqrs = kurrentdb_cqrs::<Account>(client.clone(), vec![], ());
    cqrs.execute("c-1", AccountCommand::Open).await.unwrap();

    // Two writers load the same state, then both commit.
    let store = Store::new_event_store(KurrentDBEventRepository::new(client.clone()));
    let first = store.load_aggregate("c-1").await.unwrap();
    let second = store.load_aggregate("c-1").await.unwrap();
    let deposit = |amount| vec![AccountEvent::Deposited { amount }];
    store
        .commit(deposit(5), first, HashMap::new())
        .await
        .unwrap();
    let lost = store.commit(deposit(7), second, HashMap::new()).await;
    assert!(
        matches!(lost, Err(AggregateError::AggregateConflict)),
        "{lost:?}"
    );

    // The same events, concurrently: still one write, one conflict.
    let a = store.load_aggregate("c-1").await.unwrap();
    let b = store.load_aggregate("c-1").await.unwrap();
    let (ra, rb) = tokio::join!(
        store.commit(deposit(1), a, HashMap::new()),
        store.commit(deposit(1), b, HashMap::new())
    );
    let conflicts = [&ra, &rb]
        .iter()
        .filter(|r| matches!(r, Err(AggregateError::AggregateConflict)))
        .count();
    assert_eq!(
        (ra.is_ok() as usize + rb.is_ok() as usize, conflicts),
        (1, 1)
    );

    let events = raw_events(&client, "account-c-1", &ReadStreamOptions::default()).await;
    let types: Vec<&str> = events.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["AccountOpened", "MoneyDeposited", "MoneyDeposited"]);
    assert_eq!(
        store.load_aggregate("c-1").await.unwrap().aggregate.balance,
        6
    );
}

async fn snapshots_are_written_and_used(mode: Mode) {
    let (_server, client) = start(mode).await;
    let cqrs = kurrentdb_snapshot_cqrs::<Account>(client.clone(), vec![], 2, ());
    cqrs.execute("s-1", AccountCommand::Open).await.unwrap();
    for amount in [10, 20, 30, 40] {
        cqrs.execute("s-1", AccountCommand::Deposit(amount))
            .await
            .unwrap();
    }
    // Five events, a snapshot every two: versions 1 (at 2) and 2 (at 4).
    let repository = KurrentDBEventRepository::new(client.clone());
    let snapshot = repository
        .get_snapshot::<Account>("s-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (snapshot.current_sequence, snapshot.current_snapshot),
        (4, 2)
    );
    // The state in it is cqrs-es's to compute (0.5.0 applies a command's
    // events to it twice, in every backend: its `EventSink` applies them, then
    // `PersistedEventStore::commit` again), so only its shape is checked here.
    assert_eq!(snapshot.aggregate["opened"], json!(true));

    // Only the last snapshot is kept.
    let stream = KurrentDBEventRepository::snapshot_stream_name("account", "s-1").unwrap();
    assert_eq!(stream, "snapshot-account-s-1");
    let (metadata, _) = client
        .get_stream_metadata(&stream, &GetStreamMetadataOptions::default())
        .await
        .unwrap();
    assert_eq!(metadata.max_count, Some(1));
    let stored = raw_events(&client, &stream, &ReadStreamOptions::default()).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].stream_position, 1);

    // Loading starts from the snapshot: a snapshot that says otherwise wins
    // over the events it covers, and the events after it are applied.
    let forged = json!({"opened": true, "balance": 1000, "movements": 4});
    client
        .append_to_stream(
            &stream,
            StreamState::Version(1),
            [NewEvent::new("Snapshot", forged.to_string())
                .with_metadata(json!({"currentSequence": 4, "snapshotVersion": 3}).to_string())],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let store = Store::new_snapshot_store(KurrentDBEventRepository::new(client.clone()), 2);
    let context = store.load_aggregate("s-1").await.unwrap();
    assert_eq!(context.current_snapshot, Some(3));
    assert_eq!(context.current_sequence, 5);
    assert_eq!(context.aggregate.balance, 1040);
}

async fn snapshot_version_is_checked(mode: Mode) {
    let (_server, client) = start(mode).await;
    let repository = KurrentDBEventRepository::new(client.clone());
    let event = |sequence| serialized("v-1", sequence, AccountEvent::Deposited { amount: 1 });
    repository
        .persist::<Account>(&[event(1)], Some(("v-1".into(), json!({"balance": 1}), 1)))
        .await
        .unwrap();
    // Snapshot version 1 again (a writer that did not see the first): refused.
    let stale = repository
        .persist::<Account>(&[event(2)], Some(("v-1".into(), json!({"balance": 2}), 1)))
        .await;
    assert!(
        matches!(stale, Err(PersistenceError::OptimisticLockError)),
        "{stale:?}"
    );
    // Version 2 follows version 1.
    repository
        .persist::<Account>(&[event(3)], Some(("v-1".into(), json!({"balance": 3}), 2)))
        .await
        .unwrap();
    let snapshot = repository
        .get_snapshot::<Account>("v-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (snapshot.current_sequence, snapshot.current_snapshot),
        (3, 2)
    );
    assert_eq!(snapshot.aggregate, json!({"balance": 3}));
}

async fn replay_of_one_aggregate_and_of_a_type(mode: Mode) {
    let (_server, client) = start(mode).await;
    let cqrs = kurrentdb_cqrs::<Account>(client.clone(), vec![], ());
    for id in ["r-1", "r-2"] {
        cqrs.execute(id, AccountCommand::Open).await.unwrap();
    }
    cqrs.execute("r-1", AccountCommand::Deposit(3))
        .await
        .unwrap();
    cqrs.execute("r-2", AccountCommand::Deposit(4))
        .await
        .unwrap();
    // Another stream whose name starts like the type, not of it.
    client
        .append_to_stream(
            "accounting-1",
            StreamState::Any,
            [NewEvent::new("Other", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();

    // A channel of one: the replay is read as it is fed.
    let repository = KurrentDBEventRepository::new(client.clone()).with_streaming_channel_size(0);
    let mut one = repository.stream_events::<Account>("r-1").await.unwrap();
    let mut replayed = Vec::new();
    while let Some(envelope) = one.next::<Account>(&[]).await {
        let envelope = envelope.unwrap();
        replayed.push((envelope.aggregate_id, envelope.sequence, envelope.payload));
    }
    assert_eq!(
        replayed,
        [
            ("r-1".to_owned(), 1, AccountEvent::Opened),
            ("r-1".to_owned(), 2, AccountEvent::Deposited { amount: 3 }),
        ]
    );

    let mut all = repository.stream_all_events::<Account>().await.unwrap();
    let mut replayed = Vec::new();
    while let Some(envelope) = all.next::<Account>(&[]).await {
        let envelope = envelope.unwrap();
        replayed.push((envelope.aggregate_id, envelope.sequence));
    }
    let expected = [("r-1", 1), ("r-2", 1), ("r-1", 2), ("r-2", 2)];
    let expected: Vec<(String, usize)> =
        expected.iter().map(|(i, s)| (i.to_string(), *s)).collect();
    assert_eq!(replayed, expected);

    // A missing aggregate replays as empty.
    let mut none = repository.stream_events::<Account>("r-9").await.unwrap();
    assert!(none.next::<Account>(&[]).await.is_none());
}

async fn events_are_plain_json_in_the_category_stream(mode: Mode) {
    let (_server, client) = start(mode).await;
    let cqrs = kurrentdb_cqrs::<Account>(client.clone(), vec![], ());
    cqrs.execute("j-1", AccountCommand::Open).await.unwrap();
    let metadata = HashMap::from([("user".to_owned(), "alice".to_owned())]);
    cqrs.execute_with_metadata("j-2", AccountCommand::Open, metadata)
        .await
        .unwrap();
    cqrs.execute("j-2", AccountCommand::Deposit(9))
        .await
        .unwrap();

    let events = await_events(&client, "$ce-account", 3).await;
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.stream_name.as_str(), e.r#type.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("account-j-1", "AccountOpened"),
            ("account-j-2", "AccountOpened"),
            ("account-j-2", "MoneyDeposited")
        ]
    );
    let last = &events[2];
    assert_eq!(last.content_type, "application/json");
    let data: Value = serde_json::from_slice(&last.data).unwrap();
    assert_eq!(data, json!({"Deposited": {"amount": 9}}));
    let meta: Value = serde_json::from_slice(&last.metadata).unwrap();
    assert_eq!(meta["eventVersion"], "1.0");
    assert_eq!(meta["aggregateId"], "j-2");
    assert_eq!(meta["sequence"], 2);
    let opened: Value = serde_json::from_slice(&events[1].metadata).unwrap();
    assert_eq!(opened["metadata"], json!({"user": "alice"}));
}

async fn a_retried_commit_is_not_written_twice(mode: Mode) {
    let (_server, client) = start(mode).await;
    let repository = KurrentDBEventRepository::new(client.clone());
    let events = [
        serialized("i-1", 1, AccountEvent::Opened),
        serialized("i-1", 2, AccountEvent::Deposited { amount: 5 }),
    ];
    let commit = Uuid::new_v4();
    let snapshot = || Some(("i-1".to_owned(), json!({"balance": 5}), 1));
    repository
        .commit::<Account>(&events, snapshot(), commit)
        .await
        .unwrap();
    // The same commit again (its answer lost, say): accepted, not rewritten,
    // its snapshot neither.
    repository
        .commit::<Account>(&events, snapshot(), commit)
        .await
        .unwrap();
    let snapshots = raw_events(
        &client,
        "snapshot-account-i-1",
        &ReadStreamOptions::default(),
    )
    .await;
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].stream_position, 0);
    let stored = raw_events(&client, "account-i-1", &ReadStreamOptions::default()).await;
    assert_eq!(stored.len(), 2);
    // The same events as another commit: a conflict, not a duplicate.
    let other = repository
        .commit::<Account>(&events, None, Uuid::new_v4())
        .await;
    assert!(
        matches!(other, Err(PersistenceError::OptimisticLockError)),
        "{other:?}"
    );
    let stored = raw_events(&client, "account-i-1", &ReadStreamOptions::default()).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(
        repository.get_events::<Account>("i-1").await.unwrap(),
        events
    );
}

async fn bad_input_is_a_named_error(mode: Mode) {
    let (_server, client) = start(mode).await;
    let repository = KurrentDBEventRepository::new(client.clone());
    let gap = [
        serialized("b-1", 1, AccountEvent::Opened),
        serialized("b-1", 3, AccountEvent::Opened),
    ];
    let error = repository.persist::<Account>(&gap, None).await.unwrap_err();
    assert!(
        is_repository_error(&error, |e| matches!(
            e,
            KurrentDBRepositoryError::InconsistentCommit(_)
        )),
        "{error:?}"
    );
    let other_snapshot = Some(("b-9".to_owned(), json!({}), 1));
    let error = repository
        .persist::<Account>(&gap[..1], other_snapshot)
        .await
        .unwrap_err();
    assert!(
        is_repository_error(&error, |e| matches!(
            e,
            KurrentDBRepositoryError::InconsistentCommit(_)
        )),
        "{error:?}"
    );
    assert!(
        raw_events(&client, "account-b-1", &ReadStreamOptions::default())
            .await
            .is_empty()
    );
    let error = repository.get_events::<Account>("").await.unwrap_err();
    assert!(
        is_repository_error(&error, |e| matches!(
            e,
            KurrentDBRepositoryError::EmptyAggregateId
        )),
        "{error:?}"
    );

    // An event another client wrote that is not JSON: a deserialization error.
    client
        .append_to_stream(
            "account-b-2",
            StreamState::NoStream,
            [NewEvent::new("Garbage", "not json")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let error = repository.get_events::<Account>("b-2").await.unwrap_err();
    assert!(
        matches!(error, PersistenceError::DeserializationError(_)),
        "{error:?}"
    );
    let store = Store::new_event_store(repository);
    let error = store.load_aggregate("b-2").await.err().unwrap();
    assert!(
        matches!(error, AggregateError::DeserializationError(_)),
        "{error:?}"
    );
}

fn is_repository_error(
    error: &PersistenceError,
    check: impl Fn(&KurrentDBRepositoryError) -> bool,
) -> bool {
    match error {
        PersistenceError::UnknownError(e) | PersistenceError::DeserializationError(e) => e
            .downcast_ref::<KurrentDBRepositoryError>()
            .is_some_and(check),
        _ => false,
    }
}

fn serialized(id: &str, sequence: usize, event: AccountEvent) -> SerializedEvent {
    use cqrs_es::DomainEvent;
    SerializedEvent::new(
        id.to_owned(),
        sequence,
        "account".to_owned(),
        event.event_type(),
        event.event_version(),
        serde_json::to_value(&event).unwrap(),
        json!({}),
    )
}
