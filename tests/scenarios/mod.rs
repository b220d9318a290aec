//! Client scenarios, written once against [`ClientUnderTest`] and run through both
//! the async and the blocking API. Each names what it proves; the ones named
//! after a reference page repeat that page's examples and assert the same
//! outcomes.
//!
//! `for_each_scenario!(m)` calls `m!(name, name, ...)` with every scenario, so a
//! test file runs the whole list without repeating it.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use kurrentdbclient::options::*;
use kurrentdbclient::{
    Credentials, Error, NewEvent, NewEvents, NewRecord, NodeState, StreamAcl, StreamMetadata,
    StreamState, StreamStateCheck, SubscriptionItem,
};

use crate::common::proxy::DroppingProxy;
use crate::common::{
    ClientUnderTest, TestSubscription, against_real_server, server_addr, server_uri, unique,
    with_endpoint,
};

/// Calls `$m!(scenario, ...)` with every scenario in this module.
#[macro_export]
macro_rules! for_each_scenario {
    ($m:ident) => {
        $m!(
            getting_started_reference_page,
            appending_reference_page,
            deleting_reference_page,
            wrong_current_version_carries_stream_expected_actual,
            append_stream_states_exists_and_any,
            append_is_idempotent_with_same_ids,
            append_returns_increasing_commit_positions,
            append_octet_stream_and_metadata_round_trip,
            multi_append_to_same_stream_is_refused,
            multi_append_wrong_current_version,
            multi_append_metadata_restrictions,
            append_records_consistency_checks_report_every_failure,
            append_records_metadata_restrictions,
            empty_names_and_types_are_programming_errors,
            read_stream_options,
            read_missing_stream_is_not_found_at_call_time,
            read_all_options_and_filters,
            read_all_excludes_system_events_by_default,
            resolve_links,
            get_commit_position_with_filters,
            delete_then_append_reopens_stream,
            delete_wrong_version_and_missing_stream,
            tombstoned_stream_is_deleted_for_every_operation,
            stream_metadata_typed_keys_round_trip,
            stream_metadata_consistency_check,
            subscribe_to_stream_catches_up_then_goes_live,
            subscribe_to_stream_from_position_and_from_end,
            subscribe_to_all_with_filters_checkpoints_and_caught_up,
            subscription_stop_ends_the_stream,
            subscription_timeout_is_deadline_exceeded,
            gossip_and_server_info,
            credentials_over_insecure_connection_are_refused,
            calls_after_close_give_client_closed,
            bad_connection_strings_give_named_errors,
            missing_tls_files_fail_at_connect,
            unreachable_server_is_service_unavailable,
            default_deadline_applies,
            maximum_append_size_exceeded,
            retry_after_dropped_connection_writes_no_duplicate,
            cluster_seeds_are_discovered_through_gossip,
            tls_ca_file_credentials_and_call_metadata,
            not_leader_reconnects_to_the_leader,
            connection_string_examples_of_the_getting_started_page,
        );
    };
}

fn event(r#type: &str, data: &'static str) -> NewEvent {
    NewEvent::new(r#type, Bytes::from_static(data.as_bytes()))
}

fn types(events: &[kurrentdbclient::RecordedEvent]) -> Vec<&str> {
    events.iter().map(|e| e.r#type.as_str()).collect()
}

fn positions(events: &[kurrentdbclient::RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.stream_position).collect()
}

/// Every example of the getting-started page (003): test the connection by
/// getting the commit position, append `OrderCreated`, read it back.
pub async fn getting_started_reference_page<C: ClientUnderTest>(client: &C) {
    let before = client
        .get_commit_position(&GetCommitPositionOptions::default())
        .await
        .expect("get_commit_position");
    let stream = unique("order");
    let commit_position = client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("OrderCreated", r#"{"name": "Greg"}"#)],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("append");
    assert!(commit_position > before || before == 0);
    let after = client
        .get_commit_position(&GetCommitPositionOptions::default())
        .await
        .unwrap();
    assert!(after >= commit_position);
    let events = client
        .read_stream(&stream, &ReadStreamOptions::default())
        .await
        .expect("read");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].r#type, "OrderCreated");
    assert_eq!(&events[0].data[..], br#"{"name": "Greg"}"#);
    assert_eq!(events[0].stream_name, stream);
    assert_eq!(events[0].stream_position, 0);
    assert_eq!(events[0].content_type, "application/json");
    assert!(events[0].recorded_at.is_some());
}

/// Every example of the appending page (001), in its order, with its outcomes.
pub async fn appending_reference_page<C: ClientUnderTest>(client: &C) {
    let student1 = unique("student-1");
    let student2 = unique("student-2");
    let course1 = unique("course-1");
    let course2 = unique("course-2");
    let opts = AppendToStreamOptions::default();

    // Append to new stream.
    client
        .append_to_stream(
            &student1,
            StreamState::NoStream,
            vec![event("StudentRegistered", r#"{"name": "Greg"}"#)],
            &opts,
        )
        .await
        .unwrap();
    // Append to existing stream.
    client
        .append_to_stream(
            &student1,
            StreamState::Version(0),
            vec![event("StudentNameChanged", r#"{"name": "Gregory"}"#)],
            &opts,
        )
        .await
        .unwrap();
    // Wrong current version error.
    match client
        .append_to_stream(
            &student1,
            StreamState::NoStream,
            vec![event("StudentRegistered", r#"{"name": "Greg"}"#)],
            &opts,
        )
        .await
    {
        Err(Error::WrongCurrentVersion {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(stream, student1);
            assert_eq!(expected, StreamState::NoStream);
            assert_eq!(actual, StreamState::Version(1));
        }
        other => panic!("expected WrongCurrentVersion, got {other:?}"),
    }

    // Multi-append to new streams.
    let position = client
        .multi_append_to_stream(
            vec![
                NewEvents::new(
                    &course1,
                    [event("CourseCreated", r#"{"name": "French"}"#)],
                    StreamState::NoStream,
                ),
                NewEvents::new(
                    &course2,
                    [event("CourseCreated", r#"{"name": "German"}"#)],
                    StreamState::NoStream,
                ),
            ],
            &MultiAppendOptions::default(),
        )
        .await
        .expect("multi-append to new streams");
    assert!(position > 0);
    // Multi-append to existing streams.
    client
        .multi_append_to_stream(
            vec![
                NewEvents::new(
                    &student1,
                    [event("StudentJoinedCourse", r#"{"course_id": "course-1"}"#)],
                    1u64,
                ),
                NewEvents::new(
                    &course1,
                    [event(
                        "StudentJoinedCourse",
                        r#"{"student_id": "student-1"}"#,
                    )],
                    0u64,
                ),
            ],
            &MultiAppendOptions::default(),
        )
        .await
        .expect("multi-append to existing streams");
    let s1 = client
        .get_stream(&student1, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(
        types(&s1),
        [
            "StudentRegistered",
            "StudentNameChanged",
            "StudentJoinedCourse"
        ]
    );

    // Append records.
    client
        .append_records(
            vec![
                NewRecord::new(&student2, "StudentRegistered", r#"{"name": "Joe"}"#),
                NewRecord::new(
                    &course2,
                    "StudentJoinedCourse",
                    r#"{"student_id": "student-2"}"#,
                ),
                NewRecord::new(
                    &student2,
                    "StudentJoinedCourse",
                    r#"{"course_id": "course-2"}"#,
                ),
            ],
            vec![
                StreamStateCheck::new(&student2, StreamState::NoStream),
                StreamStateCheck::new(&course2, 0u64),
            ],
            &AppendRecordsOptions::default(),
        )
        .await
        .expect("append_records");
    let s2 = client
        .get_stream(&student2, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(types(&s2), ["StudentRegistered", "StudentJoinedCourse"]);
    let c2 = client
        .get_stream(&course2, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(types(&c2), ["CourseCreated", "StudentJoinedCourse"]);

    // Consistency checks failed error.
    match client
        .append_records(
            vec![NewRecord::new(
                &student2,
                "StudentRegistered",
                r#"{"name": "Joe"}"#,
            )],
            vec![StreamStateCheck::new(&student2, StreamState::NoStream)],
            &AppendRecordsOptions::default(),
        )
        .await
    {
        Err(Error::ConsistencyChecksFailed { failures }) => {
            assert_eq!(failures.len(), 1);
            let failure = &failures[0];
            assert_eq!(failure.check_index, 0);
            assert_eq!(failure.stream_name, student2);
            assert_eq!(failure.expected_state, StreamState::NoStream);
            assert_eq!(failure.expected_state.to_v2(), -1);
            assert_eq!(failure.actual_state, StreamState::Version(1));
        }
        other => panic!("expected ConsistencyChecksFailed, got {other:?}"),
    }

    // Metadata restrictions: accepted values.
    for ok in [&b""[..], br#"{"a": "1"}"#] {
        let stream = unique("meta-ok");
        client
            .append_records(
                vec![NewRecord::new(&stream, "T", "{}").with_metadata(Bytes::copy_from_slice(ok))],
                vec![],
                &AppendRecordsOptions::default(),
            )
            .await
            .expect("acceptable metadata");
    }

    // Get and set stream metadata.
    let order = unique("order-123");
    let (mut metadata, current_version) = client
        .get_stream_metadata(&order, &GetStreamMetadataOptions::default())
        .await
        .unwrap();
    assert!(metadata.is_empty());
    assert_eq!(current_version, StreamState::NoStream);
    metadata.custom.insert("foo".into(), "bar".into());
    client
        .set_stream_metadata(
            &order,
            &metadata,
            current_version,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let (metadata, version) = client
        .get_stream_metadata(&order, &GetStreamMetadataOptions::default())
        .await
        .unwrap();
    assert_eq!(metadata.custom["foo"], "bar");
    assert_eq!(version, StreamState::Version(0));
}

/// Every example of the deleting page (000): append three events, soft delete
/// with the current version, then tombstone.
pub async fn deleting_reference_page<C: ClientUnderTest>(client: &C) {
    let stream = unique("order-123");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![
                event("OrderCreated", r#"{"order_id": "order-123"}"#),
                event("OrderUpdated", r#"{"status": "processing"}"#),
                event("OrderUpdated", r#"{"status": "shipped"}"#),
            ],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let current_version = client
        .get_current_version(&stream, &GetCurrentVersionOptions::default())
        .await
        .unwrap();
    assert_eq!(current_version, StreamState::Version(2));
    client
        .delete_stream(&stream, current_version, &DeleteStreamOptions::default())
        .await
        .expect("delete_stream returns ()");
    assert!(matches!(
        client
            .read_stream(&stream, &ReadStreamOptions::default())
            .await,
        Err(Error::NotFound { .. })
    ));

    // Tombstone (the page tombstones the same stream).
    let current_version = client
        .get_current_version(&stream, &GetCurrentVersionOptions::default())
        .await
        .unwrap();
    assert_eq!(current_version, StreamState::NoStream);
    client
        .tombstone_stream(
            &stream,
            StreamState::Any,
            &TombstoneStreamOptions::default(),
        )
        .await
        .expect("tombstone_stream returns ()");
    println!("Tombstoned stream: {stream}");
    let again = client
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![event("OrderCreated", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(
        matches!(again, Err(Error::StreamIsDeleted { .. })),
        "append after tombstone: {again:?}"
    );
}

/// A failed check names the stream, what was expected and what the stream is.
pub async fn wrong_current_version_carries_stream_expected_actual<C: ClientUnderTest>(client: &C) {
    let stream = unique("wcv");
    let opts = AppendToStreamOptions::default();
    // Exact version on a stream that does not exist.
    match client
        .append_to_stream(
            &stream,
            StreamState::Version(5),
            vec![event("A", "{}")],
            &opts,
        )
        .await
    {
        Err(Error::WrongCurrentVersion {
            stream: s,
            expected,
            actual,
        }) => {
            assert_eq!(s, stream);
            assert_eq!(expected, StreamState::Version(5));
            assert_eq!(actual, StreamState::NoStream);
        }
        other => panic!("{other:?}"),
    }
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}"), event("B", "{}")],
            &opts,
        )
        .await
        .unwrap();
    match client
        .append_to_stream(
            &stream,
            StreamState::Version(0),
            vec![event("C", "{}")],
            &opts,
        )
        .await
    {
        Err(Error::WrongCurrentVersion {
            expected, actual, ..
        }) => {
            assert_eq!(expected, StreamState::Version(0));
            assert_eq!(actual, StreamState::Version(1));
        }
        other => panic!("{other:?}"),
    }
}

/// `Exists` needs the stream to exist; `Any` never checks.
pub async fn append_stream_states_exists_and_any<C: ClientUnderTest>(client: &C) {
    let stream = unique("states");
    let opts = AppendToStreamOptions::default();
    match client
        .append_to_stream(&stream, StreamState::Exists, vec![event("A", "{}")], &opts)
        .await
    {
        Err(Error::WrongCurrentVersion {
            expected, actual, ..
        }) => {
            assert_eq!(expected, StreamState::Exists);
            assert_eq!(actual, StreamState::NoStream);
        }
        other => panic!("{other:?}"),
    }
    client
        .append_to_stream(&stream, StreamState::Any, vec![event("A", "{}")], &opts)
        .await
        .unwrap();
    client
        .append_to_stream(&stream, StreamState::Exists, vec![event("B", "{}")], &opts)
        .await
        .unwrap();
    client
        .append_to_stream(&stream, StreamState::Any, vec![event("C", "{}")], &opts)
        .await
        .unwrap();
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(types(&events), ["A", "B", "C"]);
    assert_eq!(positions(&events), [0, 1, 2]);
}

/// Retrying an append with the same ids and the same check writes nothing twice.
pub async fn append_is_idempotent_with_same_ids<C: ClientUnderTest>(client: &C) {
    let stream = unique("idem");
    let events = vec![event("A", "{}"), event("B", "{}")];
    let opts = AppendToStreamOptions::default();
    let first = client
        .append_to_stream(&stream, StreamState::NoStream, events.clone(), &opts)
        .await
        .unwrap();
    let second = client
        .append_to_stream(&stream, StreamState::NoStream, events.clone(), &opts)
        .await
        .expect("idempotent retry succeeds");
    assert_eq!(first, second);
    let read = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].id, events[0].id);
    assert_eq!(read[1].id, events[1].id);
}

/// Commit positions grow with each append, and the returned position is the last
/// event's.
pub async fn append_returns_increasing_commit_positions<C: ClientUnderTest>(client: &C) {
    let stream = unique("positions");
    let opts = AppendToStreamOptions::default();
    let p1 = client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &opts,
        )
        .await
        .unwrap();
    let p2 = client
        .append_to_stream(
            &stream,
            0u64.into(),
            vec![event("B", "{}"), event("C", "{}")],
            &opts,
        )
        .await
        .unwrap();
    assert!(p2 > p1);
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(events[0].commit_position, Some(p1));
    assert_eq!(events[2].commit_position, Some(p2));
}

/// Binary payloads, content type, metadata and ids come back as written.
pub async fn append_octet_stream_and_metadata_round_trip<C: ClientUnderTest>(client: &C) {
    let stream = unique("binary");
    let data = Bytes::from_static(&[0, 159, 146, 150, 255]);
    let id = uuid::Uuid::new_v4();
    let new = NewEvent::new("Blob", data.clone())
        .with_content_type(kurrentdbclient::CONTENT_TYPE_OCTET_STREAM)
        .with_metadata(r#"{"correlation": "x"}"#)
        .with_id(id);
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![new],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    let e = &events[0];
    assert_eq!(e.data, data);
    assert_eq!(e.id, id);
    assert_eq!(e.content_type, "application/octet-stream");
    assert_eq!(&e.metadata[..], br#"{"correlation": "x"}"#);
    assert!(e.link.is_none());
}

/// Two entries for one stream are refused before sending.
pub async fn multi_append_to_same_stream_is_refused<C: ClientUnderTest>(client: &C) {
    let stream = unique("twice");
    let result = client
        .multi_append_to_stream(
            vec![
                NewEvents::new(&stream, [event("A", "{}")], StreamState::Any),
                NewEvents::new(&stream, [event("B", "{}")], StreamState::Any),
            ],
            &MultiAppendOptions::default(),
        )
        .await;
    match result {
        Err(Error::MultiAppendToSameStream { stream: s }) => assert_eq!(s, stream),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        client
            .get_current_version(&stream, &GetCurrentVersionOptions::default())
            .await
            .unwrap(),
        StreamState::NoStream
    );
}

/// A multi-append with one failed check writes nothing and names the stream.
pub async fn multi_append_wrong_current_version<C: ClientUnderTest>(client: &C) {
    let a = unique("ma-a");
    let b = unique("ma-b");
    client
        .append_to_stream(
            &b,
            StreamState::NoStream,
            vec![event("X", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let result = client
        .multi_append_to_stream(
            vec![
                NewEvents::new(&a, [event("A", "{}")], StreamState::NoStream),
                NewEvents::new(&b, [event("B", "{}")], StreamState::NoStream),
            ],
            &MultiAppendOptions::default(),
        )
        .await;
    match result {
        Err(Error::WrongCurrentVersion {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(stream, b);
            assert_eq!(expected, StreamState::NoStream);
            assert_eq!(actual, StreamState::Version(0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        client
            .get_current_version(&a, &GetCurrentVersionOptions::default())
            .await
            .unwrap(),
        StreamState::NoStream,
        "nothing written"
    );
}

const BAD_METADATA: [&[u8]; 5] = [
    b"\xf5d\xc5W3^b\xb0(\xf9\x01D\x81\xa7Y\x98",
    br#""abcdef""#,
    br#"{"a": 1}"#,
    br#"{"a": false}"#,
    br#"{"a": {}}"#,
];

/// The page's unacceptable metadata values give a programming error, unsent.
pub async fn multi_append_metadata_restrictions<C: ClientUnderTest>(client: &C) {
    for bad in BAD_METADATA {
        let stream = unique("ma-meta");
        let result = client
            .multi_append_to_stream(
                vec![NewEvents::new(
                    &stream,
                    [event("A", "{}").with_metadata(Bytes::copy_from_slice(bad))],
                    StreamState::Any,
                )],
                &MultiAppendOptions::default(),
            )
            .await;
        assert!(
            matches!(result, Err(Error::Programming(_))),
            "{bad:?}: {result:?}"
        );
    }
    let stream = unique("ma-meta-ok");
    client
        .multi_append_to_stream(
            vec![NewEvents::new(
                &stream,
                [
                    event("A", "{}").with_metadata(r#"{"a": "1"}"#),
                    event("B", "{}"),
                ],
                StreamState::NoStream,
            )],
            &MultiAppendOptions::default(),
        )
        .await
        .unwrap();
}

/// Every failed check is reported with its index; nothing is written.
pub async fn append_records_consistency_checks_report_every_failure<C: ClientUnderTest>(
    client: &C,
) {
    let a = unique("cc-a");
    let b = unique("cc-b");
    let c = unique("cc-c");
    client
        .append_to_stream(
            &a,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let result = client
        .append_records(
            vec![NewRecord::new(&c, "C", "{}")],
            vec![
                StreamStateCheck::new(&a, StreamState::NoStream),
                StreamStateCheck::new(&c, StreamState::NoStream),
                StreamStateCheck::new(&b, StreamState::Exists),
            ],
            &AppendRecordsOptions::default(),
        )
        .await;
    match result {
        Err(Error::ConsistencyChecksFailed { failures }) => {
            assert_eq!(failures.len(), 2, "{failures:?}");
            assert_eq!(failures[0].check_index, 0);
            assert_eq!(failures[0].stream_name, a);
            assert_eq!(failures[0].actual_state, StreamState::Version(0));
            assert_eq!(failures[1].check_index, 2);
            assert_eq!(failures[1].stream_name, b);
            assert_eq!(failures[1].expected_state, StreamState::Exists);
            assert_eq!(failures[1].actual_state, StreamState::NoStream);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        client
            .get_current_version(&c, &GetCurrentVersionOptions::default())
            .await
            .unwrap(),
        StreamState::NoStream
    );
}

/// The same metadata restrictions hold for `append_records`.
pub async fn append_records_metadata_restrictions<C: ClientUnderTest>(client: &C) {
    for bad in BAD_METADATA {
        let result = client
            .append_records(
                vec![
                    NewRecord::new(unique("ar-meta"), "A", "{}")
                        .with_metadata(Bytes::copy_from_slice(bad)),
                ],
                vec![],
                &AppendRecordsOptions::default(),
            )
            .await;
        assert!(
            matches!(result, Err(Error::Programming(_))),
            "{bad:?}: {result:?}"
        );
    }
}

/// Empty stream names and event types are refused before sending.
pub async fn empty_names_and_types_are_programming_errors<C: ClientUnderTest>(client: &C) {
    let opts = AppendToStreamOptions::default();
    let r = client
        .append_to_stream("", StreamState::Any, vec![event("A", "{}")], &opts)
        .await;
    assert!(matches!(r, Err(Error::Programming(_))), "{r:?}");
    let r = client
        .append_to_stream(&unique("t"), StreamState::Any, vec![event("", "{}")], &opts)
        .await;
    assert!(matches!(r, Err(Error::Programming(_))), "{r:?}");
    let r = client.read_stream("", &ReadStreamOptions::default()).await;
    assert!(matches!(r, Err(Error::Programming(_))), "{r:?}");
    let r = client
        .multi_append_to_stream(
            vec![NewEvents::new(
                unique("t"),
                [event("", "{}")],
                StreamState::Any,
            )],
            &MultiAppendOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::Programming(_))), "{r:?}");
    let r = client
        .append_records(
            vec![NewRecord::new("", "A", "{}")],
            vec![],
            &AppendRecordsOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::Programming(_))), "{r:?}");
    let r = client
        .delete_stream("", StreamState::Any, &DeleteStreamOptions::default())
        .await;
    assert!(matches!(r, Err(Error::Programming(_))), "{r:?}");
}

/// Forwards, from a position (included), backwards, limit, and both.
pub async fn read_stream_options<C: ClientUnderTest>(client: &C) {
    let stream = unique("read");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("E1", "1"), event("E2", "2"), event("E3", "3")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let read = |o: ReadStreamOptions| {
        let stream = stream.clone();
        async move { client.read_stream(&stream, &o).await.unwrap() }
    };
    assert_eq!(
        types(&read(ReadStreamOptions::default()).await),
        ["E1", "E2", "E3"]
    );
    assert_eq!(
        positions(&read(ReadStreamOptions::default().stream_position(1)).await),
        [1, 2]
    );
    assert_eq!(
        positions(&read(ReadStreamOptions::default().backwards(true)).await),
        [2, 1, 0]
    );
    assert_eq!(
        positions(&read(ReadStreamOptions::default().limit(2)).await),
        [0, 1]
    );
    assert_eq!(
        positions(
            &read(
                ReadStreamOptions::default()
                    .stream_position(2)
                    .backwards(true)
                    .limit(1)
            )
            .await
        ),
        [2]
    );
    assert_eq!(
        positions(
            &read(
                ReadStreamOptions::default()
                    .stream_position(1)
                    .backwards(true)
            )
            .await
        ),
        [1, 0]
    );
    assert!(
        read(ReadStreamOptions::default().stream_position(10))
            .await
            .is_empty()
    );
    let got = client
        .get_stream(
            &stream,
            &ReadStreamOptions::default().timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
}

/// Reading a stream that does not exist fails when the read is opened.
pub async fn read_missing_stream_is_not_found_at_call_time<C: ClientUnderTest>(client: &C) {
    let r = client
        .read_stream(&unique("missing"), &ReadStreamOptions::default())
        .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    let r = client
        .get_stream(&unique("missing"), &ReadStreamOptions::default())
        .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    assert_eq!(
        client
            .get_current_version(&unique("missing"), &GetCurrentVersionOptions::default())
            .await
            .unwrap(),
        StreamState::NoStream
    );
}

/// `$all`: from a commit position (included forwards, excluded backwards),
/// backwards, limit, include/exclude filters by type and stream name, prefixes.
pub async fn read_all_options_and_filters<C: ClientUnderTest>(client: &C) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let s1 = format!("ra1{tag}");
    let s2 = format!("ra2{tag}");
    let t = |n: &str| format!("{n}{tag}");
    let opts = AppendToStreamOptions::default();
    let p1 = client
        .append_to_stream(
            &s1,
            StreamState::NoStream,
            vec![NewEvent::new(t("A"), "{}")],
            &opts,
        )
        .await
        .unwrap();
    let p2 = client
        .append_to_stream(
            &s2,
            StreamState::NoStream,
            vec![NewEvent::new(t("B"), "{}")],
            &opts,
        )
        .await
        .unwrap();
    let p3 = client
        .append_to_stream(
            &s1,
            StreamState::Version(0),
            vec![NewEvent::new(t("C"), "{}")],
            &opts,
        )
        .await
        .unwrap();
    assert!(p1 < p2 && p2 < p3);

    let all = client
        .read_all(&ReadAllOptions::default().commit_position(p1))
        .await
        .unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|e| e.stream_name.ends_with(&tag))
        .collect();
    assert_eq!(mine.len(), 3);
    assert_eq!(
        mine[0].commit_position,
        Some(p1),
        "forwards includes the position"
    );
    let commits: Vec<u64> = all.iter().map(|e| e.commit_position.unwrap()).collect();
    assert!(commits.windows(2).all(|w| w[0] < w[1]), "commit order");

    let back = client
        .read_all(
            &ReadAllOptions::default()
                .commit_position(p3)
                .backwards(true)
                .limit(2),
        )
        .await
        .unwrap();
    assert!(back.len() <= 2);
    assert!(
        back.iter().all(|e| e.commit_position.unwrap() < p3),
        "backwards excludes"
    );
    assert_eq!(back[0].commit_position, Some(p2));

    let last = client
        .read_all(&ReadAllOptions::default().backwards(true).limit(1))
        .await
        .unwrap();
    assert_eq!(last.len(), 1);
    assert!(last[0].commit_position.unwrap() >= p3);

    let by_type = client
        .read_all(
            &ReadAllOptions::default()
                .commit_position(p1)
                .filter_include([t("A"), t("C")]),
        )
        .await
        .unwrap();
    assert_eq!(types(&by_type), [t("A"), t("C")]);

    let by_stream = client
        .read_all(
            &ReadAllOptions::default()
                .filter_include([s2.clone()])
                .filter_by_stream_name(true),
        )
        .await
        .unwrap();
    assert_eq!(types(&by_stream), [t("B")]);

    let by_prefix = client
        .read_all(
            &ReadAllOptions::default()
                .filter_include([format!("ra1{}", &tag[..8])])
                .filter_by_stream_name(true)
                .filter_by_prefix(true),
        )
        .await
        .unwrap();
    assert_eq!(types(&by_prefix), [t("A"), t("C")]);

    let excluded = client
        .read_all(
            &ReadAllOptions::default()
                .commit_position(p1)
                .filter_exclude([r"\$.+".to_string(), t("B")]),
        )
        .await
        .unwrap();
    let mine: Vec<_> = excluded
        .iter()
        .filter(|e| e.stream_name.ends_with(&tag))
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(excluded.iter().all(|e| !e.r#type.starts_with('$')));

    let limited = client
        .read_all(&ReadAllOptions::default().commit_position(p1).limit(2))
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
}

/// System events (`$metadata`, ...) are excluded from `$all` unless asked for.
pub async fn read_all_excludes_system_events_by_default<C: ClientUnderTest>(client: &C) {
    let stream = unique("sys");
    client
        .set_stream_metadata(
            &stream,
            &StreamMetadata::default().with_max_count(3),
            StreamState::Any,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let all = client.read_all(&ReadAllOptions::default()).await.unwrap();
    assert!(all.iter().all(|e| !e.r#type.starts_with('$')));
    let with_system = client
        .read_all(&ReadAllOptions::default().filter_exclude(Vec::<String>::new()))
        .await
        .unwrap();
    assert!(
        with_system
            .iter()
            .any(|e| e.r#type == "$metadata" && e.stream_name == format!("$${stream}"))
    );
}

/// With `resolve_links`, a link event reads as the event it points to, with the
/// link attached.
pub async fn resolve_links<C: ClientUnderTest>(client: &C) {
    let target = unique("target");
    let links = unique("links");
    let opts = AppendToStreamOptions::default();
    client
        .append_to_stream(
            &target,
            StreamState::NoStream,
            vec![event("Real", r#"{"x": 1}"#)],
            &opts,
        )
        .await
        .unwrap();
    let link = NewEvent::new("$>", format!("0@{target}"))
        .with_content_type(kurrentdbclient::CONTENT_TYPE_OCTET_STREAM);
    client
        .append_to_stream(&links, StreamState::NoStream, vec![link], &opts)
        .await
        .unwrap();
    let raw = client
        .get_stream(&links, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(raw[0].r#type, "$>");
    assert!(raw[0].link.is_none());
    let resolved = client
        .get_stream(&links, &ReadStreamOptions::default().resolve_links(true))
        .await
        .unwrap();
    assert_eq!(resolved[0].r#type, "Real");
    assert_eq!(resolved[0].stream_name, target);
    let link = resolved[0].link.as_ref().expect("the link");
    assert_eq!(link.stream_name, links);
    assert_eq!(link.r#type, "$>");
    assert_eq!(resolved[0].ack_id(), link.id);

    // The same through $all and through a subscription.
    let all = client
        .read_all(
            &ReadAllOptions::default()
                .filter_include([links.clone()])
                .filter_by_stream_name(true)
                .resolve_links(true),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].r#type, "Real");
    assert_eq!(all[0].link.as_ref().unwrap().stream_name, links);
    let mut sub = client
        .subscribe_to_stream(
            &links,
            &SubscribeToStreamOptions::default().resolve_links(true),
        )
        .await
        .unwrap();
    let via_sub = next_event(&mut sub).await;
    assert_eq!(via_sub.r#type, "Real");
    assert_eq!(via_sub.link.as_ref().unwrap().stream_name, links);
    let mut sub_all = client
        .subscribe_to_all(
            &SubscribeToAllOptions::default()
                .filter_include([links.clone()])
                .filter_by_stream_name(true)
                .filter_by_prefix(true)
                .resolve_links(true),
        )
        .await
        .unwrap();
    let via_all = next_event(&mut sub_all).await;
    assert_eq!(via_all.r#type, "Real");
    assert!(via_all.link.is_some());
}

/// `get_commit_position` follows its filters.
pub async fn get_commit_position_with_filters<C: ClientUnderTest>(client: &C) {
    let stream = unique("cp");
    let p = client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("CpEvent", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let by_stream = client
        .get_commit_position(
            &GetCommitPositionOptions::default()
                .filter_include([stream.clone()])
                .filter_by_stream_name(true),
        )
        .await
        .unwrap();
    assert_eq!(by_stream, p);
    let none = client
        .get_commit_position(
            &GetCommitPositionOptions::default()
                .filter_include([unique("nothing")])
                .filter_by_stream_name(true),
        )
        .await
        .unwrap();
    assert_eq!(none, 0);
    let any = client
        .get_commit_position(
            &GetCommitPositionOptions::default().filter_exclude(Vec::<String>::new()),
        )
        .await
        .unwrap();
    assert!(any >= p);
}

/// A soft-deleted stream reads as not found and can be appended to again, its
/// positions continuing.
pub async fn delete_then_append_reopens_stream<C: ClientUnderTest>(client: &C) {
    let stream = unique("reopen");
    let opts = AppendToStreamOptions::default();
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}"), event("B", "{}")],
            &opts,
        )
        .await
        .unwrap();
    client
        .delete_stream(
            &stream,
            StreamState::Version(1),
            &DeleteStreamOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        client
            .get_current_version(&stream, &GetCurrentVersionOptions::default())
            .await
            .unwrap(),
        StreamState::NoStream
    );
    client
        .append_to_stream(&stream, StreamState::Any, vec![event("C", "{}")], &opts)
        .await
        .unwrap();
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(types(&events), ["C"]);
    assert_eq!(positions(&events), [2]);
}

/// Deleting with the wrong version gives WrongCurrentVersion; deleting a stream
/// that does not exist with an exact version gives NotFound.
pub async fn delete_wrong_version_and_missing_stream<C: ClientUnderTest>(client: &C) {
    let stream = unique("del");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}"), event("B", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    match client
        .delete_stream(
            &stream,
            StreamState::Version(0),
            &DeleteStreamOptions::default(),
        )
        .await
    {
        Err(Error::WrongCurrentVersion {
            stream: s,
            expected,
            actual,
        }) => {
            assert_eq!(s, stream);
            assert_eq!(expected, StreamState::Version(0));
            assert_eq!(actual, StreamState::Version(1));
        }
        other => panic!("{other:?}"),
    }
    let r = client
        .delete_stream(
            &unique("never"),
            StreamState::Version(0),
            &DeleteStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    let r = client
        .tombstone_stream(
            &unique("never"),
            StreamState::Version(3),
            &TombstoneStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
}

/// After a tombstone, appends, reads, deletes and subscriptions give
/// StreamIsDeleted.
pub async fn tombstoned_stream_is_deleted_for_every_operation<C: ClientUnderTest>(client: &C) {
    let stream = unique("tomb");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    client
        .tombstone_stream(
            &stream,
            StreamState::Version(0),
            &TombstoneStreamOptions::default(),
        )
        .await
        .unwrap();
    let r = client
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![event("B", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "append: {r:?}"
    );
    let r = client
        .read_stream(&stream, &ReadStreamOptions::default())
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "read: {r:?}"
    );
    let r = client
        .delete_stream(&stream, StreamState::Any, &DeleteStreamOptions::default())
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "delete: {r:?}"
    );
    let r = client
        .tombstone_stream(
            &stream,
            StreamState::Any,
            &TombstoneStreamOptions::default(),
        )
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "tombstone: {r:?}"
    );
    let r = client
        .multi_append_to_stream(
            vec![NewEvents::new(
                &stream,
                [event("B", "{}")],
                StreamState::Any,
            )],
            &MultiAppendOptions::default(),
        )
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "multi-append: {r:?}"
    );
}

/// Typed well-known keys survive a round trip through the server, and the
/// server honours `$maxCount`.
pub async fn stream_metadata_typed_keys_round_trip<C: ClientUnderTest>(client: &C) {
    let stream = unique("meta");
    let metadata = StreamMetadata::default()
        .with_max_count(2)
        .with_max_age(Duration::from_secs(3600))
        .with_cache_control(Duration::from_secs(10))
        .with_acl(StreamAcl {
            read: vec!["$all".into()],
            ..StreamAcl::default()
        })
        .with_custom("owner", "team-a")
        .with_custom("nested", serde_json::json!({"k": [1, 2]}));
    client
        .set_stream_metadata(
            &stream,
            &metadata,
            StreamState::NoStream,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let (read, version) = client
        .get_stream_metadata(&stream, &GetStreamMetadataOptions::default())
        .await
        .unwrap();
    assert_eq!(read, metadata);
    assert_eq!(version, StreamState::Version(0));
    client
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![event("A", "{}"), event("B", "{}"), event("C", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(types(&events), ["B", "C"], "$maxCount honoured");

    let truncated = StreamMetadata::default().with_truncate_before(2);
    client
        .set_stream_metadata(
            &stream,
            &truncated,
            version,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(types(&events), ["C"], "$tb honoured");
}

/// Setting metadata with a stale version fails like an append.
pub async fn stream_metadata_consistency_check<C: ClientUnderTest>(client: &C) {
    let stream = unique("meta-cc");
    let md = StreamMetadata::default().with_custom("a", "b");
    client
        .set_stream_metadata(
            &stream,
            &md,
            StreamState::NoStream,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    let r = client
        .set_stream_metadata(
            &stream,
            &md,
            StreamState::NoStream,
            &SetStreamMetadataOptions::default(),
        )
        .await;
    match r {
        Err(Error::WrongCurrentVersion {
            stream: s,
            expected,
            actual,
        }) => {
            assert_eq!(s, format!("$${stream}"));
            assert_eq!(expected, StreamState::NoStream);
            assert_eq!(actual, StreamState::Version(0));
        }
        other => panic!("{other:?}"),
    }
}

async fn next_event<S: TestSubscription>(sub: &mut S) -> kurrentdbclient::RecordedEvent {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), sub.next_item())
            .await
            .expect("an item within 10s")
            .expect("the subscription goes on")
            .expect("no error");
        if let SubscriptionItem::Event(e) = item {
            return e;
        }
    }
}

/// A stream subscription yields stored events, a caught-up marker when asked,
/// then live events.
pub async fn subscribe_to_stream_catches_up_then_goes_live<C: ClientUnderTest>(client: &C) {
    let stream = unique("sub");
    let opts = AppendToStreamOptions::default();
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}"), event("B", "{}")],
            &opts,
        )
        .await
        .unwrap();
    let mut sub = client
        .subscribe_to_stream(
            &stream,
            &SubscribeToStreamOptions::default().include_caught_up(true),
        )
        .await
        .unwrap();
    assert!(!sub.id().is_empty());
    let mut seen = Vec::new();
    let mut caught_up = false;
    while seen.len() < 2 || !caught_up {
        match tokio::time::timeout(Duration::from_secs(10), sub.next_item())
            .await
            .expect("item")
            .expect("open")
            .expect("ok")
        {
            SubscriptionItem::Event(e) => seen.push(e.r#type),
            SubscriptionItem::CaughtUp(_) => caught_up = true,
            SubscriptionItem::Checkpoint(_) => panic!("no checkpoints on a stream subscription"),
            other => panic!("unexpected item {other:?}"),
        }
    }
    assert_eq!(seen, ["A", "B"]);
    client
        .append_to_stream(
            &stream,
            StreamState::Version(1),
            vec![event("C", "{}")],
            &opts,
        )
        .await
        .unwrap();
    let live = next_event(&mut sub).await;
    assert_eq!(live.r#type, "C");
    assert_eq!(live.stream_position, 2);
    sub.stop();
}

/// From a position: events after it; from the end: only new events.
pub async fn subscribe_to_stream_from_position_and_from_end<C: ClientUnderTest>(client: &C) {
    let stream = unique("subpos");
    let opts = AppendToStreamOptions::default();
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}"), event("B", "{}"), event("C", "{}")],
            &opts,
        )
        .await
        .unwrap();
    let mut after = client
        .subscribe_to_stream(
            &stream,
            &SubscribeToStreamOptions::default().stream_position(0),
        )
        .await
        .unwrap();
    assert_eq!(next_event(&mut after).await.r#type, "B");
    assert_eq!(next_event(&mut after).await.r#type, "C");
    let mut from_end = client
        .subscribe_to_stream(&stream, &SubscribeToStreamOptions::default().from_end(true))
        .await
        .unwrap();
    client
        .append_to_stream(
            &stream,
            StreamState::Version(2),
            vec![event("D", "{}")],
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(next_event(&mut from_end).await.r#type, "D");
    assert_eq!(next_event(&mut after).await.r#type, "D");
    // A subscription to a stream that does not exist yet waits for it.
    let later = unique("later");
    let mut waiting = client
        .subscribe_to_stream(&later, &SubscribeToStreamOptions::default())
        .await
        .unwrap();
    client
        .append_to_stream(
            &later,
            StreamState::NoStream,
            vec![event("First", "{}")],
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(next_event(&mut waiting).await.r#type, "First");
}

/// `$all` subscriptions: filters, from a commit position, checkpoints and the
/// caught-up marker only when asked for.
pub async fn subscribe_to_all_with_filters_checkpoints_and_caught_up<C: ClientUnderTest>(
    client: &C,
) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let stream = format!("suball-{tag}");
    let opts = AppendToStreamOptions::default();
    let p0 = client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![NewEvent::new(format!("One{tag}"), "{}")],
            &opts,
        )
        .await
        .unwrap();

    // Filtered by stream name, with caught-up and checkpoints.
    let mut sub = client
        .subscribe_to_all(
            &SubscribeToAllOptions::default()
                .filter_include([stream.clone()])
                .filter_by_stream_name(true)
                .include_caught_up(true)
                .include_checkpoints(true)
                .window_size(1)
                .checkpoint_interval_multiplier(1),
        )
        .await
        .unwrap();
    let mut got_event = false;
    let mut got_caught_up = false;
    for _ in 0..1000 {
        match tokio::time::timeout(Duration::from_secs(10), sub.next_item())
            .await
            .expect("item")
            .expect("open")
            .expect("ok")
        {
            SubscriptionItem::Event(e) => {
                assert_eq!(e.stream_name, stream);
                got_event = true;
            }
            SubscriptionItem::CaughtUp(_) => got_caught_up = true,
            SubscriptionItem::Checkpoint(c) => assert!(c.commit_position > 0 || !got_event),
            other => panic!("unexpected item {other:?}"),
        }
        if got_event && got_caught_up {
            break;
        }
    }
    assert!(got_event && got_caught_up);
    let p1 = client
        .append_to_stream(
            &stream,
            StreamState::Version(0),
            vec![NewEvent::new(format!("Two{tag}"), "{}")],
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(next_event(&mut sub).await.commit_position, Some(p1));

    // From a commit position (excluded), filtered by event type, events only.
    let mut from = client
        .subscribe_to_all(
            &SubscribeToAllOptions::default()
                .commit_position(p0)
                .filter_include([format!(".*{tag}")]),
        )
        .await
        .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), from.next_item())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match e {
        SubscriptionItem::Event(e) => assert_eq!(e.r#type, format!("Two{tag}")),
        other => panic!("only events unless asked: {other:?}"),
    }

    // Checkpoints when a filter searches without matching.
    let mut quiet = client
        .subscribe_to_all(
            &SubscribeToAllOptions::default()
                .filter_include([unique("NoSuchType")])
                .include_checkpoints(true)
                .window_size(1)
                .checkpoint_interval_multiplier(1),
        )
        .await
        .unwrap();
    let item = tokio::time::timeout(Duration::from_secs(10), quiet.next_item())
        .await
        .expect("a checkpoint within 10s")
        .unwrap()
        .unwrap();
    assert!(matches!(item, SubscriptionItem::Checkpoint(_)), "{item:?}");
}

/// `stop()` ends the subscription's stream.
pub async fn subscription_stop_ends_the_stream<C: ClientUnderTest>(client: &C) {
    let mut sub = client
        .subscribe_to_all(&SubscribeToAllOptions::default().from_end(true))
        .await
        .unwrap();
    sub.stop();
    let next = tokio::time::timeout(Duration::from_secs(5), sub.next_item())
        .await
        .expect("ends at once");
    assert!(next.is_none(), "{next:?}");
}

/// A subscription's `timeout` covers the whole call.
pub async fn subscription_timeout_is_deadline_exceeded<C: ClientUnderTest>(client: &C) {
    let mut sub = client
        .subscribe_to_stream(
            &unique("quiet"),
            &SubscribeToStreamOptions::default().timeout(Duration::from_millis(500)),
        )
        .await
        .unwrap();
    let next = tokio::time::timeout(Duration::from_secs(10), sub.next_item())
        .await
        .expect("the deadline ends it");
    assert!(
        matches!(next, Some(Err(Error::DeadlineExceeded))),
        "{next:?}"
    );
}

/// Gossip names the node; server info names the version and the methods.
pub async fn gossip_and_server_info<C: ClientUnderTest>(client: &C) {
    let members = client
        .read_gossip(&ReadGossipOptions::default())
        .await
        .unwrap();
    assert!(!members.is_empty());
    assert!(
        members
            .iter()
            .any(|m| m.state == NodeState::Leader && m.is_alive)
    );
    let info = client
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .unwrap();
    assert!(!info.version.is_empty());
    assert!(info.supports("streams", "read"), "{info:?}");
}

/// Credentials are never sent over `tls=false`: the call is refused first.
pub async fn credentials_over_insecure_connection_are_refused<C: ClientUnderTest>(_client: &C) {
    let uri = format!("kurrentdb://{}?tls=false", server_addr());
    let client = C::connect(&uri).await.unwrap();
    let creds = Credentials::new("admin", "changeit");
    let r = client
        .append_to_stream(
            &unique("creds"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default().credentials(creds.clone()),
        )
        .await;
    assert!(
        matches!(r, Err(Error::CredentialsOverInsecureConnection)),
        "{r:?}"
    );
    let r = client
        .read_stream(
            &unique("creds"),
            &ReadStreamOptions::default().credentials(creds.clone()),
        )
        .await;
    assert!(
        matches!(r, Err(Error::CredentialsOverInsecureConnection)),
        "{r:?}"
    );
    let r = client
        .get_server_info(&GetServerInfoOptions::default().credentials(creds))
        .await;
    assert!(
        matches!(r, Err(Error::CredentialsOverInsecureConnection)),
        "{r:?}"
    );
    // User info in the connection string of an insecure connection is not sent.
    let with_user = format!("kurrentdb://admin:changeit@{}?tls=false", server_addr());
    let client = C::connect(&with_user).await.unwrap();
    client
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("calls work, without credentials");
}

/// After `close()`, every call gives ClientClosed, and open subscriptions end.
pub async fn calls_after_close_give_client_closed<C: ClientUnderTest>(_client: &C) {
    let client = C::connect(&server_uri()).await.unwrap();
    let mut sub = client
        .subscribe_to_all(&SubscribeToAllOptions::default().from_end(true))
        .await
        .unwrap();
    client.close();
    let r = client
        .append_to_stream(
            &unique("closed"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{r:?}");
    let r = client
        .read_stream(&unique("closed"), &ReadStreamOptions::default())
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{r:?}");
    let r = client
        .get_commit_position(&GetCommitPositionOptions::default())
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{r:?}");
    let r = client
        .subscribe_to_all(&SubscribeToAllOptions::default())
        .await;
    assert!(matches!(r, Err(Error::ClientClosed)), "{:?}", r.err());
    let next = tokio::time::timeout(Duration::from_secs(5), sub.next_item())
        .await
        .expect("the open subscription ends");
    assert!(
        matches!(next, Some(Err(Error::ClientClosed)) | None),
        "{next:?}"
    );
}

/// A malformed connection string gives its named error.
pub async fn bad_connection_strings_give_named_errors<C: ClientUnderTest>(_client: &C) {
    use kurrentdbclient::connection::settings::ConnectionStringError as E;
    for (uri, check) in [
        (
            "http://localhost:2113",
            (|e: &E| matches!(e, E::UnknownScheme { .. })) as fn(&E) -> bool,
        ),
        ("kurrentdb://", |e: &E| matches!(e, E::NoEndpoint)),
        ("kurrentdb://localhost:notaport", |e: &E| {
            matches!(e, E::InvalidPort { .. })
        }),
        ("", |e: &E| matches!(e, E::Empty)),
    ] {
        match C::connect(uri).await {
            Err(Error::InvalidConnectionString(e)) => assert!(check(&e), "{uri}: {e:?}"),
            Err(other) => panic!("{uri}: {other:?}"),
            Ok(_) => panic!("{uri}: connected"),
        }
    }
    match C::connect("kurrentdb://localhost:2113?tls=false&nosuchoption=1").await {
        Err(Error::InvalidConnectionString(e)) => {
            assert!(e.to_string().to_lowercase().contains("nosuchoption"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
}

/// TLS files that cannot be read fail `connect`, not the first call.
pub async fn missing_tls_files_fail_at_connect<C: ClientUnderTest>(_client: &C) {
    let r = C::connect("kurrentdb://localhost:2113?tlsCaFile=/no/such/ca.pem").await;
    assert!(matches!(r, Err(Error::Tls(_))), "{:?}", r.err());
    let r = C::connect(
        "kurrentdb://localhost:2113?userCertFile=/no/such/cert.pem&userKeyFile=/no/such/key.pem",
    )
    .await;
    assert!(matches!(r, Err(Error::Tls(_))), "{:?}", r.err());
}

/// Nobody listening: ServiceUnavailable (after the one retry).
pub async fn unreachable_server_is_service_unavailable<C: ClientUnderTest>(_client: &C) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = C::connect(&format!("kurrentdb://127.0.0.1:{port}?tls=false"))
        .await
        .expect("connecting is lazy");
    let r = client
        .append_to_stream(
            &unique("down"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::ServiceUnavailable(_))), "{r:?}");
}

/// `defaultDeadline` bounds calls to a server that never answers; a per-call
/// `timeout` overrides it.
pub async fn default_deadline_applies<C: ClientUnderTest>(_client: &C) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accept, never answer
        }
    });
    let client = C::connect(&format!("kurrentdb://{addr}?tls=false&defaultDeadline=1"))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let r = client
        .append_to_stream(
            &unique("slow"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let started = std::time::Instant::now();
    let r = client
        .get_server_info(&GetServerInfoOptions::default().timeout(Duration::from_millis(200)))
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(started.elapsed() < Duration::from_millis(900));
    hold.abort();
}

/// An append over the server's maximum append size fails and writes nothing.
pub async fn maximum_append_size_exceeded<C: ClientUnderTest>(client: &C) {
    let stream = unique("big");
    let big = Bytes::from(vec![b'x'; 2 * 1024 * 1024]);
    let r = client
        .append_to_stream(
            &stream,
            StreamState::Any,
            vec![
                NewEvent::new("Big", big)
                    .with_content_type(kurrentdbclient::CONTENT_TYPE_OCTET_STREAM),
            ],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(
        matches!(r, Err(Error::MaximumAppendSizeExceeded { .. })),
        "{r:?}"
    );
    assert_eq!(
        client
            .get_current_version(&stream, &GetCurrentVersionOptions::default())
            .await
            .unwrap(),
        StreamState::NoStream
    );
}

/// The connection drops after the server received an append but before the
/// client heard back: the client retries once with the same ids, and the
/// stream holds each event once.
pub async fn retry_after_dropped_connection_writes_no_duplicate<C: ClientUnderTest>(client: &C) {
    if against_real_server() && server_uri().contains("tls=true") {
        return; // the proxy reads plain HTTP/2 frames only
    }
    let proxy = DroppingProxy::start(server_addr(), 1).await;
    let via_proxy = C::connect(&with_endpoint(&server_uri(), &proxy.addr))
        .await
        .unwrap();
    let stream = unique("retry");
    let events = vec![event("A", "{}"), event("B", "{}")];
    let position = via_proxy
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            events.clone(),
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("the retry succeeds");
    assert_eq!(
        proxy.dropped.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a response was dropped"
    );
    assert!(
        proxy.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the client reconnected"
    );
    let read = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(read.len(), 2, "no duplicate");
    assert_eq!(read[0].id, events[0].id);
    assert_eq!(read[1].commit_position, Some(position));
}

/// With several seed endpoints the client asks them for gossip (skipping a dead
/// one) and picks the leader; when none answers, connecting fails with
/// DiscoveryFailed after `maxDiscoverAttempts`.
pub async fn cluster_seeds_are_discovered_through_gossip<C: ClientUnderTest>(_client: &C) {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let seeds = format!("{dead},{}", server_addr());
    let client = C::connect(&with_endpoint(&server_uri(), &seeds))
        .await
        .expect("discovered");
    let stream = unique("discovered");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("append through the discovered node");
    let dead2 = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let started = std::time::Instant::now();
    let r = C::connect(&format!(
        "kurrentdb://{dead},{dead2}?tls=false&maxDiscoverAttempts=2&discoveryInterval=10"
    ))
    .await;
    assert!(matches!(r, Err(Error::DiscoveryFailed(_))), "{:?}", r.err());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Over TLS: an untrusted server certificate gives a TLS error; with `tlsCaFile`
/// the calls work and carry the connection string's user info as basic auth
/// (or the per-call credentials instead), `requires-leader: true` (node
/// preference leader) and the connection name; `tlsVerifyCert=false` skips the
/// check.
pub async fn tls_ca_file_credentials_and_call_metadata<C: ClientUnderTest>(_client: &C) {
    let Some(tls) = crate::common::tls::TlsServer::start().await else {
        eprintln!("openssl is not available: TLS scenario skipped");
        return;
    };
    let untrusted = C::connect(&format!("kurrentdb://{}", tls.addr))
        .await
        .unwrap();
    let r = untrusted
        .get_server_info(&GetServerInfoOptions::default())
        .await;
    assert!(matches!(r, Err(Error::Tls(_))), "{r:?}");

    let uri = format!(
        "kurrentdb://admin:changeit@{}?tlsCaFile={}&connectionName=tls-scenario",
        tls.addr,
        tls.ca_file.display()
    );
    let client = C::connect(&uri).await.unwrap();
    let stream = unique("tls");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("append over TLS");
    let meta = tls.last();
    assert_eq!(
        meta.get("authorization").unwrap().to_str().unwrap(),
        "Basic YWRtaW46Y2hhbmdlaXQ="
    );
    assert_eq!(meta.get("requires-leader").unwrap(), "true");
    assert_eq!(meta.get("connection-name").unwrap(), "tls-scenario");

    let events = client
        .read_stream(
            &stream,
            &ReadStreamOptions::default().credentials(Credentials::new("ops", "secret")),
        )
        .await
        .expect("read over TLS");
    assert_eq!(events.len(), 1);
    let meta = tls.last();
    assert_eq!(
        meta.get("authorization").unwrap().to_str().unwrap(),
        "Basic b3BzOnNlY3JldA=="
    );

    let follower = C::connect(&format!("{uri}&nodePreference=follower"))
        .await
        .unwrap();
    follower
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(tls.last().get("requires-leader").unwrap(), "false");

    let unverified = C::connect(&format!("kurrentdb://{}?tlsVerifyCert=false", tls.addr))
        .await
        .unwrap();
    unverified
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .expect("tlsVerifyCert=false accepts the certificate");
}

/// A write sent to a follower is answered "not leader" with the leader's
/// address: a cluster connection (several seeds) reconnects to the leader and
/// retries once; a direct connection (one endpoint) reports NodeIsNotLeader with
/// the leader's address.
pub async fn not_leader_reconnects_to_the_leader<C: ClientUnderTest>(client: &C) {
    if against_real_server() && !server_uri().contains("tls=false") {
        return; // the fake follower speaks plain HTTP/2 only
    }
    let follower = crate::common::fake_follower::FakeFollower::start(&server_addr()).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let cluster = C::connect(&with_endpoint(
        &server_uri(),
        &format!("{},{dead}", follower.addr),
    ))
    .await
    .expect("discovered the (stale) leader");
    let stream = unique("leader");
    cluster
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("retried on the leader");
    assert_eq!(
        follower.appends.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "written once, on the leader");

    let direct = C::connect(&with_endpoint(&server_uri(), &follower.addr))
        .await
        .unwrap();
    match direct
        .append_to_stream(
            &unique("leader"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
    {
        Err(Error::NodeIsNotLeader { leader, .. }) => {
            assert_eq!(leader.expect("the leader").to_string(), server_addr());
        }
        other => panic!("{other:?}"),
    }
}

/// The connection strings of the getting-started page (003) are accepted: one
/// node connects lazily; cluster forms try discovery and, with nobody there,
/// fail with DiscoveryFailed.
pub async fn connection_string_examples_of_the_getting_started_page<C: ClientUnderTest>(
    _client: &C,
) {
    C::connect("kurrentdb://user:pass@node1.example.invalid:2113")
        .await
        .expect("a single node connects lazily");
    C::connect("kurrentdb://127.0.0.1:2113?tls=false")
        .await
        .expect("insecure local node");
    for uri in [
        "kurrentdb://user:pass@node1.example.invalid:2113,node2.example.invalid:2113,\
         node3.example.invalid:2113?maxDiscoverAttempts=1&gossipTimeout=1",
        "kurrentdb+discover://user:pass@cluster1.example.invalid:2113?maxDiscoverAttempts=1&gossipTimeout=1",
    ] {
        let r = C::connect(uri).await;
        assert!(
            matches!(r, Err(Error::DiscoveryFailed(_))),
            "{uri}: {:?}",
            r.err()
        );
    }
}
