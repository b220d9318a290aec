//! The reference pages' examples: each scenario repeats one page's examples
//! in the page's order and asserts the outcomes the page shows.

use bytes::Bytes;
use kurrentdbclient::options::*;
use kurrentdbclient::{Error, NewEvents, NewRecord, StreamState, StreamStateCheck};

use super::{event, types};
use crate::common::harness::ClientUnderTest;
use crate::common::unique;

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
        .expect("append")
        .commit_position;
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
    assert!(position.commit_position > 0);
    assert_eq!(position.stream_position(&course1), Some(0));
    assert_eq!(position.stream_position(&course2), Some(0));
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
