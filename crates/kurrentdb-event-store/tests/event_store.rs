//! The event store's behaviour, each scenario run through the async and the
//! blocking form (see `common`), each on a fresh embedded server.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::Store;
use kurrentdb_event_store::{
    Codec, CodecError, DEFAULT_TENANT, EventStoreError, ExpectedVersion, StreamId,
    UnknownEventPolicy, WrappedEvent, impl_event,
};
use kurrentdbclient::NewEvent;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
enum CartEvent {
    ItemAdded { sku: String },
    ItemRemoved { sku: String },
    CheckedOut,
}
impl_event!(
    enum CartEvent {
        ItemAdded,
        ItemRemoved,
        CheckedOut,
    }
);

/// Knows only one of the cart's event types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
enum AddOnly {
    ItemAdded { sku: String },
}
impl_event!(
    enum AddOnly {
        ItemAdded,
    }
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Cart {
    items: Vec<String>,
    checked_out: bool,
}
impl_event!(struct Cart = "CartSnapshot");

impl Cart {
    fn apply(&mut self, event: &CartEvent) {
        match event {
            CartEvent::ItemAdded { sku } => self.items.push(sku.clone()),
            CartEvent::ItemRemoved { sku } => self.items.retain(|s| s != sku),
            CartEvent::CheckedOut => self.checked_out = true,
        }
    }
}

fn added(sku: &str) -> WrappedEvent<CartEvent> {
    WrappedEvent::new(CartEvent::ItemAdded { sku: sku.into() })
}

fn versions<E>(events: &[WrappedEvent<E>]) -> Vec<u64> {
    events.iter().map(|e| e.version.expect("loaded")).collect()
}

fn skus(events: &[WrappedEvent<CartEvent>]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            CartEvent::ItemAdded { sku } | CartEvent::ItemRemoved { sku } => Some(sku.clone()),
            CartEvent::CheckedOut => None,
        })
        .collect()
}

fn existing_stream<S: Store>(store: &S, id: &StreamId, count: usize) {
    let events = (1..=count).map(|i| added(&format!("sku-{i}"))).collect();
    store.append(events, id, 0).expect("append");
}

// ---- the reference page's examples -------------------------------------------

/// `event_store.append(WrappedEvent(...), stream_id=StreamId())` returns None,
/// and `append(..., expected_version=1)` after it too.
fn page_append<S: Store>(store: S) {
    let id = StreamId::new();
    store
        .append(vec![added("apple")], &id, ExpectedVersion::default())
        .expect("append to a new stream with the default expected version");
    store
        .append(vec![added("pear")], &id, 1)
        .expect("append at expected version 1");
    let events = store.load_stream::<CartEvent>(&id, None, None).unwrap();
    assert_eq!(versions(&events), [1, 2]);
    assert_eq!(skus(&events), ["apple", "pear"]);
}

/// `delete_stream(StreamId())` and `delete_stream(StreamId(name="not_existing_stream"))`
/// both return None.
fn page_delete_stream<S: Store>(store: S) {
    let id = StreamId::new();
    existing_stream(&store, &id, 2);
    store.delete_stream(&id).expect("delete an existing stream");
    assert!(
        store
            .load_stream::<CartEvent>(&id, None, None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.current_version(&id).unwrap(), 0);
    store
        .delete_stream(StreamId::named("not_existing_stream"))
        .expect("deleting a missing stream is no error");
    store
        .delete_stream(&id)
        .expect("deleting a deleted stream is no error");
}

/// `load_stream(StreamId(name="not_existing_stream"))` is `[]`.
fn page_load_missing_stream<S: Store>(store: S) {
    let events = store
        .load_stream::<CartEvent>(StreamId::named("not_existing_stream"), None, None)
        .unwrap();
    assert!(events.is_empty());
}

/// `load_stream(existing_stream)` gives versions 1 to 3, and
/// `load_stream(existing_stream, start=2, stop=3)` gives version 2 alone.
fn page_load_stream_range<S: Store>(store: S) {
    let id = StreamId::named("existing_stream");
    existing_stream(&store, &id, 3);
    let all = store.load_stream::<CartEvent>(&id, None, None).unwrap();
    assert_eq!(versions(&all), [1, 2, 3]);
    let second = store
        .load_stream::<CartEvent>(&id, Some(2), Some(3))
        .unwrap();
    assert_eq!(versions(&second), [2]);
    assert_eq!(skus(&second), ["sku-2"]);
    // The other ranges: open ends, empty and out-of-range windows.
    assert_eq!(
        versions(&store.load_stream::<CartEvent>(&id, Some(2), None).unwrap()),
        [2, 3]
    );
    assert_eq!(
        versions(&store.load_stream::<CartEvent>(&id, None, Some(3)).unwrap()),
        [1, 2]
    );
    assert!(
        store
            .load_stream::<CartEvent>(&id, Some(3), Some(3))
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .load_stream::<CartEvent>(&id, Some(3), Some(1))
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .load_stream::<CartEvent>(&id, Some(4), None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        versions(
            &store
                .load_stream::<CartEvent>(&id, Some(0), Some(9))
                .unwrap()
        ),
        [1, 2, 3]
    );
}

/// `save_snapshot(StreamId(), WrappedEvent(...))` and
/// `save_snapshot(StreamId(name="not_existing_stream"), WrappedEvent(...))`
/// both return None.
fn page_save_snapshot<S: Store>(store: S) {
    let id = StreamId::new();
    existing_stream(&store, &id, 1);
    let cart = Cart {
        items: vec!["sku-1".into()],
        checked_out: false,
    };
    store
        .save_snapshot(&id, WrappedEvent::new(cart.clone()).with_version(1))
        .expect("snapshot of an existing stream");
    store
        .save_snapshot(
            StreamId::named("not_existing_stream"),
            WrappedEvent::new(Cart::default()).with_version(0),
        )
        .expect("snapshot of a missing stream");
    let loaded = store
        .load_snapshot::<Cart>(&id)
        .unwrap()
        .expect("a snapshot");
    assert_eq!(loaded.event, cart);
    assert_eq!(loaded.version, Some(1));
    let missing = store
        .load_with_snapshot::<Cart, CartEvent>(StreamId::named("not_existing_stream"))
        .unwrap();
    assert_eq!(missing.snapshot.unwrap().version, Some(0));
    assert!(missing.events.is_empty());
}

/// `scoped_for_tenant(tenant_id=DEFAULT_TENANT)` is the unscoped store; another
/// tenant id gives a store of that tenant.
fn page_scoped_for_tenant<S: Store>(store: S) {
    let id = StreamId::new();
    existing_stream(&store, &id, 1);
    let default = store.scoped_for_tenant(DEFAULT_TENANT).unwrap();
    assert_eq!(default.tenant_id(), DEFAULT_TENANT);
    assert_eq!(
        default
            .load_stream::<CartEvent>(&id, None, None)
            .unwrap()
            .len(),
        1
    );
    let acme = store.scoped_for_tenant("acme").unwrap();
    assert_eq!(acme.tenant_id(), "acme");
    assert_eq!(acme.stream_name(&id).unwrap(), format!("tenant:acme:{id}"));
    for bad in ["", "a:b"] {
        assert!(matches!(
            store.scoped_for_tenant(bad),
            Err(EventStoreError::InvalidTenantId { .. })
        ));
    }
}

// ---- optimistic locking ---------------------------------------------------------

/// Two writers read version 1; the first appends; the second, still expecting
/// version 1, fails with the conflict error and writes nothing.
fn stale_expected_version_conflicts<S: Store>(store: S) {
    let id = StreamId::new().with_category("cart");
    existing_stream(&store, &id, 1);
    let seen = store.current_version(&id).unwrap();
    assert_eq!(seen, 1);
    store.append(vec![added("first")], &id, seen).unwrap();

    let stale = vec![added("late-1"), added("late-2")];
    let stale_ids: Vec<Uuid> = stale.iter().map(|e| e.id).collect();
    let err = store.append(stale, &id, seen).unwrap_err();
    match &err {
        EventStoreError::ConcurrencyConflict {
            stream,
            expected,
            actual,
        } => {
            assert_eq!(stream, &store.stream_name(&id).unwrap());
            assert_eq!(*expected, ExpectedVersion::Exact(1));
            assert_eq!(*actual, 2);
        }
        other => panic!("expected a concurrency conflict, got {other:?}"),
    }
    assert!(err.is_concurrency_conflict());

    let events = store.load_stream::<CartEvent>(&id, None, None).unwrap();
    assert_eq!(versions(&events), [1, 2]);
    assert!(events.iter().all(|e| !stale_ids.contains(&e.id)));

    // A new stream expected where one exists conflicts too, with actual 2.
    let err = store
        .append(vec![added("x")], &id, ExpectedVersion::NEW_STREAM)
        .unwrap_err();
    assert!(matches!(
        err,
        EventStoreError::ConcurrencyConflict {
            expected: ExpectedVersion::Exact(0),
            actual: 2,
            ..
        }
    ));
    // A version ahead of the stream conflicts.
    let err = store.append(vec![added("x")], &id, 5).unwrap_err();
    assert!(matches!(
        err,
        EventStoreError::ConcurrencyConflict { actual: 2, .. }
    ));
    // A missing stream reports actual version 0.
    let err = store
        .append(vec![added("x")], StreamId::new(), 3)
        .unwrap_err();
    assert!(matches!(
        err,
        EventStoreError::ConcurrencyConflict { actual: 0, .. }
    ));
    // `Any` skips the check.
    store
        .append(vec![added("any")], &id, ExpectedVersion::Any)
        .unwrap();
    assert_eq!(store.current_version(&id).unwrap(), 3);
}

/// Eight threads read the same version and append at once: exactly one wins,
/// the others get the conflict error, and only the winner's event is written.
fn concurrent_appends_one_wins<S: Store>(store: S) {
    let id = StreamId::new();
    existing_stream(&store, &id, 1);
    let seen = store.current_version(&id).unwrap();
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                let id = id.clone();
                scope.spawn(move || {
                    let event = added(&format!("writer-{i}"));
                    let event_id = event.id;
                    (event_id, store.append(vec![event], &id, seen))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<Uuid> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, result) in &results {
        if let Err(e) = result {
            assert!(e.is_concurrency_conflict(), "{e:?}");
        }
    }
    let events = store.load_stream::<CartEvent>(&id, None, None).unwrap();
    assert_eq!(versions(&events), [1, 2]);
    assert_eq!(events[1].id, winners[0]);
}

/// Retrying an append with the same event ids and expected version (after a
/// lost answer, say) records the events once.
fn retry_with_same_ids_is_idempotent<S: Store>(store: S) {
    let id = StreamId::new();
    let events = vec![added("a"), added("b")];
    store.append(events.clone(), &id, 0).unwrap();
    store
        .append(events.clone(), &id, 0)
        .expect("the retry succeeds");
    let loaded = store.load_stream::<CartEvent>(&id, None, None).unwrap();
    assert_eq!(versions(&loaded), [1, 2]);
    assert_eq!(loaded[1].id, events[1].id);
}

fn appending_nothing_is_refused<S: Store>(store: S) {
    let err = store
        .append(Vec::<WrappedEvent<CartEvent>>::new(), StreamId::new(), 0)
        .unwrap_err();
    assert!(matches!(err, EventStoreError::NoEvents { .. }));
}

// ---- tenants --------------------------------------------------------------------

/// Tenants A and B use the same stream id; each sees only its own events and
/// snapshots, the unscoped store sees neither, and deleting in A leaves B.
fn tenants_see_only_their_own_streams<S: Store>(store: S) {
    let a = store.scoped_for_tenant("a").unwrap();
    let b = store.scoped_for_tenant("b").unwrap();
    let id = StreamId::named("cart-1");

    a.append(vec![added("a-only")], &id, 0).unwrap();
    b.append(vec![added("b-1"), added("b-2")], &id, 0).unwrap();
    a.save_snapshot(&id, WrappedEvent::new(Cart::default()).with_version(1))
        .unwrap();

    assert_eq!(skus(&a.load_stream(&id, None, None).unwrap()), ["a-only"]);
    assert_eq!(
        skus(&b.load_stream(&id, None, None).unwrap()),
        ["b-1", "b-2"]
    );
    assert_eq!(a.current_version(&id).unwrap(), 1);
    assert_eq!(b.current_version(&id).unwrap(), 2);
    assert!(b.load_snapshot::<Cart>(&id).unwrap().is_none());
    assert!(a.load_snapshot::<Cart>(&id).unwrap().is_some());
    // Each tenant's expected versions are its own.
    b.append(vec![added("b-3")], &id, 2).unwrap();
    assert!(
        a.append(vec![added("a-2")], &id, 2)
            .unwrap_err()
            .is_concurrency_conflict()
    );

    // The unscoped store sees neither, and cannot name a tenant's stream.
    assert!(
        store
            .load_stream::<CartEvent>(&id, None, None)
            .unwrap()
            .is_empty()
    );
    let a_name = a.stream_name(&id).unwrap();
    assert_eq!(a_name, "tenant:a:cart-1");
    assert!(matches!(
        store.load_stream::<CartEvent>(StreamId::named(a_name.clone()), None, None),
        Err(EventStoreError::InvalidStreamId { .. })
    ));
    // Nor can B, by naming A's prefixed stream: it lands in B's own space.
    assert!(
        b.load_stream::<CartEvent>(StreamId::named(a_name), None, None)
            .unwrap()
            .is_empty()
    );

    a.delete_stream(&id).unwrap();
    assert!(
        a.load_stream::<CartEvent>(&id, None, None)
            .unwrap()
            .is_empty()
    );
    assert!(a.load_snapshot::<Cart>(&id).unwrap().is_none());
    assert_eq!(
        b.load_stream::<CartEvent>(&id, None, None).unwrap().len(),
        3
    );
}

// ---- snapshots --------------------------------------------------------------------

/// After a snapshot at version 5, loading reads only the 2 events after it,
/// and the state it gives equals a full replay.
fn snapshot_loads_only_later_events<S: Store>(store: S) {
    let id = StreamId::new().with_category("cart");
    existing_stream(&store, &id, 5);

    let before = store.load_with_snapshot::<Cart, CartEvent>(&id).unwrap();
    assert!(before.snapshot.is_none());
    assert_eq!(before.events_read, 5);
    assert_eq!(before.version(), 5);

    let mut cart = Cart::default();
    before.events.iter().for_each(|e| cart.apply(&e.event));
    store
        .save_snapshot(&id, WrappedEvent::new(cart.clone()).with_version(5))
        .unwrap();
    store
        .append(
            vec![
                WrappedEvent::new(CartEvent::ItemRemoved {
                    sku: "sku-1".into(),
                }),
                WrappedEvent::new(CartEvent::CheckedOut),
            ],
            &id,
            5,
        )
        .unwrap();

    let loaded = store.load_with_snapshot::<Cart, CartEvent>(&id).unwrap();
    let snapshot = loaded.snapshot.clone().expect("the snapshot");
    assert_eq!(snapshot.version, Some(5));
    assert_eq!(snapshot.event, cart);
    assert_eq!(loaded.events_read, 2);
    assert_eq!(versions(&loaded.events), [6, 7]);
    assert_eq!(loaded.version(), 7);

    let mut from_snapshot = snapshot.event;
    loaded
        .events
        .iter()
        .for_each(|e| from_snapshot.apply(&e.event));
    let mut replayed = Cart::default();
    for e in store.load_stream::<CartEvent>(&id, None, None).unwrap() {
        replayed.apply(&e.event);
    }
    assert_eq!(from_snapshot, replayed);
    assert!(replayed.checked_out);

    // A newer snapshot replaces it: nothing left to read, one snapshot kept.
    store
        .save_snapshot(&id, WrappedEvent::new(replayed.clone()).with_version(7))
        .unwrap();
    let latest = store.load_with_snapshot::<Cart, CartEvent>(&id).unwrap();
    assert_eq!(latest.events_read, 0);
    assert_eq!(latest.version(), 7);
    assert_eq!(latest.snapshot.unwrap().event, replayed);

    let snapshot_stream = store.snapshot_stream_name(&id).unwrap();
    assert_eq!(snapshot_stream, format!("snapshot-{id}"));
    assert_eq!(store.raw_metadata(&snapshot_stream).max_count, Some(1));
    let kept = store.raw_events(&snapshot_stream);
    assert_eq!(kept.len(), 1, "$maxCount 1 keeps the latest snapshot only");
    assert_eq!(kept[0].r#type, "CartSnapshot");
}

fn snapshot_needs_a_version<S: Store>(store: S) {
    let err = store
        .save_snapshot(StreamId::new(), WrappedEvent::new(Cart::default()))
        .unwrap_err();
    assert!(matches!(
        err,
        EventStoreError::SnapshotWithoutVersion { .. }
    ));
}

fn deleting_a_stream_deletes_its_snapshots<S: Store>(store: S) {
    let id = StreamId::new();
    existing_stream(&store, &id, 2);
    store
        .save_snapshot(&id, WrappedEvent::new(Cart::default()).with_version(2))
        .unwrap();
    store.delete_stream(&id).unwrap();
    let loaded = store.load_with_snapshot::<Cart, CartEvent>(&id).unwrap();
    assert!(loaded.snapshot.is_none());
    assert!(loaded.events.is_empty());
    assert_eq!(loaded.events_read, 0);

    // The stream can be written again as a new stream.
    store.append(vec![added("again")], &id, 0).unwrap();
    let events = store.load_stream::<CartEvent>(&id, None, None).unwrap();
    assert_eq!(skus(&events), ["again"]);
    // KurrentDB keeps counting after a (soft) delete: the two deleted events
    // were versions 1 and 2, so the new one is version 3.
    let version = store.current_version(&id).unwrap();
    assert_eq!(version, 3);
    assert_eq!(events[0].version, Some(version));
    store.append(vec![added("more")], &id, version).unwrap();
    // And its snapshots start over.
    store
        .save_snapshot(
            &id,
            WrappedEvent::new(Cart::default()).with_version(version + 1),
        )
        .unwrap();
    let snapshot_stream = store.snapshot_stream_name(&id).unwrap();
    assert_eq!(store.raw_metadata(&snapshot_stream).max_count, Some(1));
    assert_eq!(
        store.load_snapshot::<Cart>(&id).unwrap().unwrap().version,
        Some(version + 1)
    );
}

// ---- position -----------------------------------------------------------------------

/// `position()` starts empty, advances with each append, and a fresh store
/// learns it by loading.
fn position_advances<S: Store>(store: S) {
    assert_eq!(store.position(), None);
    let first = store.append(vec![added("a")], "pos-1", 0).unwrap();
    assert_eq!(store.position(), Some(first));
    let second = store.append(vec![added("b")], "pos-2", 0).unwrap();
    assert!(second > first, "{second} > {first}");
    assert_eq!(store.position(), Some(second));

    // Clones share it; loading an older stream does not move it back.
    let clone = store.clone();
    clone.load_stream::<CartEvent>("pos-1", None, None).unwrap();
    assert_eq!(store.position(), Some(second));

    // A new store (here: the default tenant's) starts empty and learns the
    // position of what it loads.
    let fresh = store.scoped_for_tenant(DEFAULT_TENANT).unwrap();
    assert_eq!(fresh.position(), None);
    let loaded = fresh.load_stream::<CartEvent>("pos-1", None, None).unwrap();
    assert_eq!(loaded[0].position, Some(first));
    assert_eq!(fresh.position(), Some(first));
    fresh.load_stream::<CartEvent>("pos-2", None, None).unwrap();
    assert_eq!(fresh.position(), Some(second));
    // Snapshots count as events seen or written.
    fresh
        .save_snapshot("pos-2", WrappedEvent::new(Cart::default()).with_version(1))
        .unwrap();
    assert!(fresh.position().unwrap() > second);
}

// ---- events and envelopes ---------------------------------------------------------------

/// The envelope survives the round trip: id, creation time, metadata; loading
/// adds version, recording time and position. The payload is JSON.
fn envelope_round_trip<S: Store>(store: S) {
    let id = StreamId::from(Uuid::new_v4());
    let correlation = Uuid::new_v4();
    let causation = Uuid::new_v4();
    let created_at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
    let event = added("apple")
        .with_correlation_id(correlation)
        .with_causation_id(causation)
        .with_metadata("user", "alice")
        .with_created_at(created_at);
    let event_id = event.id;
    let position = store.append(vec![event], &id, 0).unwrap();

    let loaded = store.load_stream::<CartEvent>(&id, None, None).unwrap();
    let e = &loaded[0];
    assert_eq!(e.id, event_id);
    assert_eq!(e.version, Some(1));
    assert_eq!(e.created_at, created_at);
    assert!(e.recorded_at.is_some());
    assert_eq!(e.position, Some(position));
    assert_eq!(e.metadata.correlation_id, Some(correlation));
    assert_eq!(e.metadata.causation_id, Some(causation));
    assert_eq!(e.metadata.custom["user"], "alice");
    assert_eq!(
        e.event,
        CartEvent::ItemAdded {
            sku: "apple".into()
        }
    );

    let raw = store.raw_events(&store.stream_name(&id).unwrap());
    assert_eq!(raw[0].r#type, "ItemAdded");
    assert_eq!(raw[0].content_type, "application/json");
    let data: serde_json::Value = serde_json::from_slice(&raw[0].data).unwrap();
    assert_eq!(data["sku"], "apple");
    let metadata: serde_json::Value = serde_json::from_slice(&raw[0].metadata).unwrap();
    assert_eq!(metadata["$correlationId"], correlation.to_string());
    assert_eq!(metadata["created_at"], "2023-11-14T22:13:20.123456Z");
}

/// Every stream id form maps to the documented stream name.
fn stream_id_forms<S: Store>(store: S) {
    let uuid = Uuid::new_v4();
    store.append(vec![added("u")], uuid, 0).unwrap();
    store.append(vec![added("i")], 4242, 0).unwrap();
    store.append(vec![added("s")], "named-stream", 0).unwrap();
    store
        .append(
            vec![added("c")],
            StreamId::from(7u64).with_category("cart"),
            0,
        )
        .unwrap();
    assert_eq!(store.raw_events(&uuid.to_string()).len(), 1);
    assert_eq!(store.raw_events("4242").len(), 1);
    assert_eq!(store.raw_events("named-stream").len(), 1);
    assert_eq!(store.raw_events("cart-7").len(), 1);
    assert_eq!(
        store
            .load_stream::<CartEvent>(String::from("4242"), None, None)
            .unwrap()
            .len(),
        1
    );
    for reserved in ["$all", "snapshot-x", "tenant:a:x", ""] {
        assert!(matches!(
            store.append(vec![added("x")], reserved, ExpectedVersion::Any),
            Err(EventStoreError::InvalidStreamId { .. })
        ));
    }
}

/// An event type the loaded type does not know is a named error, or skipped
/// when asked; a foreign event in a stream is treated the same way.
fn unknown_event_types<S: Store>(store: S) {
    let id = StreamId::new();
    store
        .append(
            vec![
                added("a"),
                WrappedEvent::new(CartEvent::CheckedOut),
                added("b"),
            ],
            &id,
            0,
        )
        .unwrap();
    let err = store.load_stream::<AddOnly>(&id, None, None).unwrap_err();
    match err {
        EventStoreError::UnknownEventType {
            stream,
            event_type,
            version,
        } => {
            assert_eq!(stream, store.stream_name(&id).unwrap());
            assert_eq!(event_type, "CheckedOut");
            assert_eq!(version, 2);
        }
        other => panic!("expected UnknownEventType, got {other:?}"),
    }

    let lenient = store
        .clone()
        .on_unknown_event_type(UnknownEventPolicy::Skip);
    let events = lenient.load_stream::<AddOnly>(&id, None, None).unwrap();
    assert_eq!(versions(&events), [1, 3]);
    let loaded = lenient.load_with_snapshot::<Cart, AddOnly>(&id).unwrap();
    assert_eq!(loaded.events.len(), 2);
    assert_eq!(loaded.events_read, 3, "skipped events are still read");

    // A snapshot of an unknown type: an error, or no snapshot when skipping.
    store
        .save_snapshot(&id, WrappedEvent::new(Cart::default()).with_version(3))
        .unwrap();
    assert!(matches!(
        store.load_snapshot::<AddOnly>(&id),
        Err(EventStoreError::UnknownEventType { version: 3, .. })
    ));
    assert!(lenient.load_snapshot::<AddOnly>(&id).unwrap().is_none());

    // A known type whose payload does not decode is a decode error.
    let name = store.stream_name(&id).unwrap();
    store.raw_append(&name, NewEvent::new("CheckedOut", "not json"));
    assert!(matches!(
        store.load_stream::<CartEvent>(&id, Some(4), None),
        Err(EventStoreError::Decode { version: 4, .. })
    ));
}

/// JSON wrapped in a marker byte, recorded as `application/octet-stream`.
struct MarkedJson;

impl Codec for MarkedJson {
    fn content_type(&self) -> &str {
        "application/octet-stream"
    }
    fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        let mut bytes = vec![0xEE];
        serde_json::to_writer(&mut bytes, value)?;
        Ok(bytes)
    }
    fn decode<T: DeserializeOwned>(&self, data: &[u8]) -> Result<T, CodecError> {
        match data.split_first() {
            Some((0xEE, json)) => Ok(serde_json::from_slice(json)?),
            _ => Err("no marker byte".into()),
        }
    }
}

/// Another codec encodes payloads (and records its content type); events it
/// did not write fail to decode with a named error.
fn pluggable_codec<S: Store>(store: S) {
    let json_id = StreamId::new();
    store.append(vec![added("json")], &json_id, 0).unwrap();

    let marked = store.clone().with_codec(MarkedJson);
    let id = StreamId::new();
    marked.append(vec![added("marked")], &id, 0).unwrap();
    marked
        .save_snapshot(&id, WrappedEvent::new(Cart::default()).with_version(1))
        .unwrap();
    let loaded = marked.load_with_snapshot::<Cart, CartEvent>(&id).unwrap();
    assert_eq!(loaded.snapshot.unwrap().event, Cart::default());
    assert_eq!(
        skus(&marked.load_stream(&id, None, None).unwrap()),
        ["marked"]
    );
    let raw = marked.raw_events(&marked.stream_name(&id).unwrap());
    assert_eq!(raw[0].content_type, "application/octet-stream");
    assert_eq!(raw[0].data[0], 0xEE);

    assert!(matches!(
        marked.load_stream::<CartEvent>(&json_id, None, None),
        Err(EventStoreError::Decode { .. })
    ));
}

both_forms!(
    page_append,
    page_delete_stream,
    page_load_missing_stream,
    page_load_stream_range,
    page_save_snapshot,
    page_scoped_for_tenant,
    stale_expected_version_conflicts,
    concurrent_appends_one_wins,
    appending_nothing_is_refused,
    retry_with_same_ids_is_idempotent,
    tenants_see_only_their_own_streams,
    snapshot_loads_only_later_events,
    snapshot_needs_a_version,
    deleting_a_stream_deletes_its_snapshots,
    position_advances,
    envelope_round_trip,
    stream_id_forms,
    unknown_event_types,
    pluggable_codec,
);
