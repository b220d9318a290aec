//! The standard projections on their shared thread (see [`super::thread`]):
//! one of them stopped, caught up or reset while the others run, and one
//! whose write the store refuses.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use uuid::Uuid;

use super::{Projections, RunAs, RunProjections};
use crate::store::{
    Deletion, Direction, ExpectedRevision, ProposedEvent, Store, StoreOptions, StreamWrite,
};

fn start() -> (Arc<Store>, Projections) {
    let store = Arc::new(Store::new(StoreOptions::default()));
    let projections = Projections::start(store.clone(), RunProjections::All, true);
    (store, projections)
}

fn append(store: &Store, stream: &str, event_type: &str, n: usize) {
    let events = (0..n)
        .map(|i| ProposedEvent {
            id: Uuid::new_v4(),
            event_type: event_type.to_owned(),
            is_json: true,
            data: Bytes::from(format!("{{\"i\":{i}}}")),
            metadata: Bytes::new(),
        })
        .collect();
    store
        .append(vec![StreamWrite {
            stream: Bytes::copy_from_slice(stream.as_bytes()),
            expected: ExpectedRevision::Any,
            events,
        }])
        .unwrap();
}

/// Deletes `stream` for good.
fn tombstone(store: &Store, stream: &str) {
    store
        .delete(
            &Bytes::copy_from_slice(stream.as_bytes()),
            ExpectedRevision::Any,
            Deletion::Tombstone,
        )
        .unwrap();
}

/// The data of the readable events of `stream` (`<revision>@<stream>` for
/// links).
fn links(store: &Store, stream: &str) -> Vec<String> {
    match store.read_stream(stream.as_bytes(), None, Direction::Forwards, 10_000, false) {
        Ok(batch) => batch
            .events
            .iter()
            .filter_map(|e| e.event.as_ref())
            .map(|e| String::from_utf8_lossy(&e.record.data()).into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `<0..n>@<stream>`, each once, in order.
fn expected_links(stream: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{i}@{stream}")).collect()
}

/// Waits (up to 10 s) until `stream` holds exactly `expected`.
async fn until_links(store: &Store, stream: &str, expected: &[String]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = links(store, stream);
        if seen == expected {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            let at = seen.iter().zip(expected).position(|(a, b)| a != b);
            panic!(
                "{stream}: {} links, not {}; first difference at {at:?}",
                seen.len(),
                expected.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `$ce-order` and `$et-Placed` both hold exactly `expected`,
/// then checks that nothing is linked twice: a sentinel event appended
/// after them (`order-sentinel`, one more event for every projection) must
/// be linked right after `expected`. The projections handle the log in
/// order, so a link written twice for an earlier event would come before
/// the sentinel's and the streams would never match.
async fn linked_once(store: &Store, expected: &[String]) {
    until_links(store, "$ce-order", expected).await;
    until_links(store, "$et-Placed", expected).await;
    append(store, "order-sentinel", "Placed", 1);
    let mut expected = expected.to_vec();
    expected.push("0@order-sentinel".to_owned());
    until_links(store, "$ce-order", &expected).await;
    until_links(store, "$et-Placed", &expected).await;
}

/// Waits (up to 10 s) until `name`'s status starts with `status` (a
/// faulted enabled one is "Faulted (Enabled)"); its state reason.
async fn until_status(projections: &Projections, name: &str, status: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats = projections.statistics(Some(name)).await.unwrap();
        if stats[0].status.starts_with(status) {
            return stats[0].state_reason.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{name}: {stats:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_standard_projection_behind_the_others_catches_up_and_nothing_is_linked_twice() {
    let (store, projections) = start();
    append(&store, "order-1", "Placed", 10);
    let first = expected_links("order-1", 10);
    until_links(&store, "$ce-order", &first).await;
    until_links(&store, "$et-Placed", &first).await;

    // One stopped: the others go on without it.
    projections
        .disable("$by_event_type", true, RunAs::Operator)
        .await
        .unwrap();
    until_status(&projections, "$by_event_type", "Stopped").await;
    append(&store, "order-2", "Placed", 5);
    let mut both = expected_links("order-1", 10);
    both.extend(expected_links("order-2", 5));
    until_links(&store, "$ce-order", &both).await;
    assert_eq!(
        links(&store, "$et-Placed"),
        first,
        "stopped: writes nothing"
    );

    // Enabled again it reads from its checkpoint, the others wait for it
    // and read nothing twice.
    projections
        .enable("$by_event_type", RunAs::Operator)
        .await
        .unwrap();
    append(&store, "order-3", "Placed", 1);
    both.extend(expected_links("order-3", 1));
    until_links(&store, "$et-Placed", &both).await;
    until_links(&store, "$ce-order", &both).await;

    // Reset: it runs again from the start (what it wrote before is
    // truncated), beside the others, which do not repeat themselves.
    projections
        .reset("$by_category", RunAs::Operator)
        .await
        .unwrap();
    append(&store, "order-4", "Placed", 1);
    both.extend(expected_links("order-4", 1));
    linked_once(&store, &both).await;
    for name in ["$by_category", "$by_event_type", "$streams"] {
        until_status(&projections, name, "Running").await;
    }
    // Each event handled once by a projection that kept running, though
    // the thread read parts of the log three times.
    let streams = projections.statistics(Some("$streams")).await.unwrap();
    // (The sentinel `linked_once` appends is the 18th.)
    assert_eq!(streams[0].events_processed, 18, "{streams:?}");
}

#[tokio::test]
async fn a_standard_projection_far_behind_catches_up_on_batches_of_its_own() {
    let (store, projections) = start();
    projections
        .disable("$by_event_type", true, RunAs::Operator)
        .await
        .unwrap();
    until_status(&projections, "$by_event_type", "Stopped").await;
    // Far more than a shared batch reaches (the others' links lie between).
    for i in 0..30 {
        append(&store, &format!("order-{i}"), "Placed", 200);
    }
    let all: Vec<String> = (0..30)
        .flat_map(|i| expected_links(&format!("order-{i}"), 200))
        .collect();
    until_links(&store, "$ce-order", &all).await;
    projections
        .enable("$by_event_type", RunAs::Operator)
        .await
        .unwrap();
    // Live events while it catches up: both get them, once.
    append(&store, "order-30", "Placed", 3);
    let mut all = all;
    all.extend(expected_links("order-30", 3));
    linked_once(&store, &all).await;
    let streams = projections.statistics(Some("$streams")).await.unwrap();
    // (The sentinel `linked_once` appends is the 6004th.)
    assert_eq!(streams[0].events_processed, 6004, "{streams:?}");
}

#[tokio::test]
async fn a_standard_projection_whose_write_is_refused_faults_alone() {
    let (store, projections) = start();
    // A deleted output stream: `$by_event_type` cannot link "Boom" events.
    tombstone(&store, "$et-Boom");
    // Enough for the batch's links to take two appends (see
    // `thread::WRITE_CHUNK`): the first, with the first `$et-Boom` links, is
    // refused, and the others' links in it are written without them.
    append(&store, "order-1", "Boom", 300);
    let reason = until_status(&projections, "$by_event_type", "Faulted").await;
    assert_eq!(
        reason,
        "Stream : $et-Boom is deleted. Cannot emit events to it"
    );
    // The others' links of the same batch were written, and they go on.
    until_links(&store, "$ce-order", &expected_links("order-1", 300)).await;
    append(&store, "order-2", "Fine", 1);
    let mut both = expected_links("order-1", 300);
    both.extend(expected_links("order-2", 1));
    until_links(&store, "$ce-order", &both).await;
    until_links(
        &store,
        "$streams",
        &["0@order-1".into(), "0@order-2".into()],
    )
    .await;
    for name in ["$by_category", "$streams", "$stream_by_category"] {
        until_status(&projections, name, "Running").await;
    }
    assert!(links(&store, "$et-Fine").is_empty(), "faulted: stopped");
}

/// A JSON event whose data is not JSON by KurrentDB's rules reaches no
/// projection; a trailing comma or a comment is JSON by them, and an event
/// that is not JSON is never checked.
#[tokio::test]
async fn projections_pass_the_json_events_kurrentdb_reads_as_json() {
    let (store, _projections) = start();
    let events = [
        (true, r#"{"a":1,}"#),
        (true, r#"{"a":"#),
        (true, "[1] // a comment"),
        (false, "{ not JSON, not said to be"),
    ]
    .into_iter()
    .map(|(is_json, data)| ProposedEvent {
        id: Uuid::new_v4(),
        event_type: "Checked".to_owned(),
        is_json,
        data: Bytes::from_static(data.as_bytes()),
        metadata: Bytes::new(),
    })
    .collect();
    store
        .append(vec![StreamWrite {
            stream: Bytes::from_static(b"json-1"),
            expected: ExpectedRevision::Any,
            events,
        }])
        .unwrap();
    let expected = ["0@json-1", "2@json-1", "3@json-1"].map(String::from);
    until_links(&store, "$ce-json", &expected).await;
    until_links(&store, "$et-Checked", &expected).await;
}

/// A `fromAll` JavaScript query whose `E` handler runs `body`.
#[cfg(feature = "javascript")]
fn fan_query(body: &str) -> String {
    format!("fromAll().when({{E: function (s, e) {{ {body} }}}})")
}

/// A subsystem without the standard projections, running the projection
/// `fan`: each `E` event emits to `out-y`, then to `out-x`, which is
/// tombstoned (so `fan` faults on its first write to it).
#[cfg(feature = "javascript")]
async fn fan(track_emitted_streams: bool) -> (Arc<Store>, Projections) {
    let store = Arc::new(Store::new(StoreOptions::default()));
    let projections = Projections::start(store.clone(), RunProjections::All, false);
    tombstone(&store, "out-x");
    projections
        .create(
            super::NewProjection {
                name: "fan".to_owned(),
                mode: super::Mode::Continuous,
                query: fan_query("emit('out-y', 'Y', {}); emit('out-x', 'X', {});"),
                emit_enabled: true,
                track_emitted_streams,
            },
            RunAs::Operator,
        )
        .await
        .unwrap();
    (store, projections)
}

/// A projection that faulted because a write was refused wrote none of
/// that append: when it runs again (here with a query that no longer emits
/// to the deleted stream), what it emitted to the other streams then is
/// written, once. KurrentDB's `EmittedStream` reads each stream's last
/// event when it starts; the writer must not trust what it had prepared.
#[cfg(feature = "javascript")]
#[tokio::test]
async fn a_projection_faulted_by_a_refused_write_emits_what_was_refused_when_run_again() {
    let (store, projections) = fan(false).await;
    append(&store, "src-1", "E", 2);
    let reason = until_status(&projections, "fan", "Faulted").await;
    assert_eq!(
        reason,
        "Stream : out-x is deleted. Cannot emit events to it"
    );
    assert!(links(&store, "out-y").is_empty(), "refused with out-x");

    projections
        .update(
            "fan",
            fan_query("emit('out-y', 'Y', {});"),
            None,
            RunAs::Operator,
        )
        .await
        .unwrap();
    projections.enable("fan", RunAs::Operator).await.unwrap();
    until_status(&projections, "fan", "Running").await;
    until_links(&store, "out-y", &["{}".to_owned(), "{}".to_owned()]).await;
    append(&store, "src-1", "E", 1);
    until_links(&store, "out-y", &vec!["{}".to_owned(); 3]).await;
}

/// A batch's emits go in appends of at most `thread::WRITE_CHUNK` events;
/// when one is refused, what the earlier ones wrote stays (as KurrentDB's
/// emitted streams are written each on its own), is tracked as emitted, and
/// is not written twice when the projection runs again.
#[cfg(feature = "javascript")]
#[tokio::test]
async fn what_a_faulted_projection_wrote_before_the_refused_append_is_tracked_and_kept() {
    let (store, projections) = fan(true).await;
    // One batch of events (below `thread::BATCH`), each emitting to `out-y`
    // (after its metadata) and `out-x`: the first append takes all but 6 of
    // `out-y`'s, the second (the rest, and `out-x`'s) is refused.
    let n = super::thread::WRITE_CHUNK + 5;
    assert!(n <= super::thread::BATCH, "one batch");
    append(&store, "src-1", "E", n);
    until_status(&projections, "fan", "Faulted").await;
    let first = super::thread::WRITE_CHUNK - 1;
    assert_eq!(links(&store, "out-y").len(), first, "the first append's");
    assert_eq!(
        links(&store, "$projections-fan-emittedstreams"),
        ["out-y"],
        "tracked"
    );

    // Run again without `out-x`; a `Sentinel` event appended after the
    // batch emits a body of its own, and the projection handles the log in
    // order: an event of the batch emitted twice would come before the
    // sentinel's and `out-y` would never match.
    let query = "fromAll().when({E: function (s, e) { emit('out-y', 'Y', {}); }, \
                 Sentinel: function (s, e) { emit('out-y', 'Y', {sentinel: true}); }})";
    projections
        .update("fan", query.to_owned(), None, RunAs::Operator)
        .await
        .unwrap();
    projections.enable("fan", RunAs::Operator).await.unwrap();
    until_links(&store, "out-y", &vec!["{}".to_owned(); n]).await;
    append(&store, "src-1", "Sentinel", 1);
    let mut expected = vec!["{}".to_owned(); n];
    expected.push("{\"sentinel\":true}".to_owned());
    until_links(&store, "out-y", &expected).await;
}

/// The records of `stream` as read (links resolved or not).
fn read(store: &Store, stream: &str, resolve: bool) -> Vec<crate::store::ResolvedRecord> {
    store
        .read_stream(stream.as_bytes(), None, Direction::Forwards, 100, resolve)
        .map(|batch| batch.events)
        .unwrap_or_default()
}

/// A record's data and metadata, as text.
fn text(record: &crate::log::Record) -> (String, String) {
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    (text(record.data_slice()), text(record.metadata_slice()))
}

/// `$by_category` and `$by_event_type` store their links to plain events
/// compactly (see [`crate::log::Body`]); what a read returns is what
/// KurrentDB writes, byte for byte the body that the links they write in
/// full (here a deletion's) are stored with.
#[tokio::test]
async fn compact_links_read_back_as_the_links_kurrentdb_writes() {
    let (store, _projections) = start();
    let stream = "or\"der-1";
    append(&store, stream, "Placed", 2);
    append(&store, "or\"der-9", "Placed", 1);
    tombstone(&store, "or\"der-9");
    let category = "$ce-or\"der";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while links(&store, category).len() < 4 || links(&store, "$et-$deleted").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "not linked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let events = read(&store, stream, false);
    // The version each projection's links start with, from the deletion's
    // link (written in full).
    let version = |link_stream: &str| {
        let link = read(&store, link_stream, false).pop().unwrap();
        let metadata: serde_json::Value =
            serde_json::from_slice(link.event.unwrap().record.metadata_slice()).unwrap();
        metadata["$deleted"].as_i64().expect("the deletion's link");
        metadata["$v"].as_str().unwrap().to_owned()
    };
    let by_category = version(category);
    let by_event_type = version("$et-$deleted");
    assert_ne!(by_category, by_event_type);
    let expected = |i: usize, version: &str, origin: bool| {
        let original = &events[i].event.as_ref().unwrap().record;
        let position = original.position;
        let origin = if origin { r#","$o":"or\"der-1""# } else { "" };
        (
            format!("{i}@{stream}"),
            format!(
                r#"{{"$v":"{version}","$c":{position},"$p":{position}{origin},"$causedBy":"{}"}}"#,
                original.id
            ),
        )
    };
    let in_category = read(&store, category, false);
    let of_type = read(&store, "$et-Placed", false);
    for i in 0..2 {
        let link = &in_category[i].event.as_ref().unwrap().record;
        assert_eq!(text(link), expected(i, &by_category, true), "$ce- {i}");
        assert!(link.is_link() && !link.is_json);
        let link = &of_type[i].event.as_ref().unwrap().record;
        assert_eq!(text(link), expected(i, &by_event_type, false), "$et- {i}");
    }
    // Resolved, a compact link leads to its event, and reads as itself.
    for (resolved, plain) in read(&store, category, true).iter().zip(&in_category) {
        let link = resolved.link.as_ref().expect("a link");
        let plain = plain.event.as_ref().unwrap();
        assert_eq!(text(&link.record), text(&plain.record));
        let Some(event) = &resolved.event else {
            continue; // the tombstoned stream's
        };
        assert_eq!(event.stream.as_ref(), stream.as_bytes());
        assert_eq!(event.record.event_type.as_ref(), "Placed");
    }
    assert_eq!(
        read(&store, category, true)
            .iter()
            .filter(|r| r.event.is_some())
            .count(),
        2,
        "the events of the tombstoned stream are gone"
    );
}
