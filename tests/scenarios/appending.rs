//! Appending: `append_to_stream` and its current-version checks, idempotence
//! and payloads, `multi_append_to_stream`, `append_records` and its
//! consistency checks, and the errors refused before sending.

use bytes::Bytes;
use kurrentdbclient::options::*;
use kurrentdbclient::{
    Error, NewEvent, NewEvents, NewRecord, StreamCondition, StreamState, StreamStateCheck,
};

use super::{create_stream, event, positions, types};
use crate::common::harness::ClientUnderTest;
use crate::common::unique;

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

/// Commit positions grow with each append, the returned position is the last
/// event's, and the returned version is the one to expect next (no stream yet
/// after an empty append to a new stream).
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
    assert!(p2.commit_position > p1.commit_position);
    assert_eq!(p1.next_expected_version, StreamState::Version(0));
    assert_eq!(p2.next_expected_version, StreamState::Version(2));
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(events[0].commit_position, Some(p1.commit_position));
    assert_eq!(events[2].commit_position, Some(p2.commit_position));
    let p3 = client
        .append_to_stream(&stream, p2.next_expected_version, vec![], &opts)
        .await
        .unwrap();
    assert_eq!(p3.next_expected_version, StreamState::Version(2));
    let empty = client
        .append_to_stream(&unique("empty"), StreamState::NoStream, vec![], &opts)
        .await
        .unwrap();
    assert_eq!(empty.next_expected_version, StreamState::NoStream);
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
    create_stream(client, &stream, vec![new]).await;
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
    create_stream(client, &b, vec![event("X", "{}")]).await;
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

/// KurrentDB 26.1's deletion states in consistency checks: a check can
/// require a stream to be soft deleted or tombstoned, a failure reports a
/// deleted or tombstoned stream as such, and a check may not expect "any".
pub async fn append_records_checks_on_deleted_and_tombstoned_streams<C: ClientUnderTest>(
    client: &C,
) {
    let (live, deleted, tombstoned) = (unique("live"), unique("deleted"), unique("tomb"));
    for stream in [&live, &deleted, &tombstoned] {
        create_stream(client, stream, vec![event("A", "{}")]).await;
    }
    client
        .delete_stream(&deleted, StreamState::Any, &Default::default())
        .await
        .unwrap();
    client
        .tombstone_stream(&tombstoned, StreamState::Any, &Default::default())
        .await
        .unwrap();
    let target = unique("target");
    let record = || vec![NewRecord::new(&target, "B", "{}")];
    let options = AppendRecordsOptions::default();
    client
        .append_records(
            record(),
            vec![
                StreamStateCheck::new(&deleted, StreamCondition::Deleted),
                StreamStateCheck::new(&tombstoned, StreamCondition::Tombstoned),
                StreamStateCheck::new(&deleted, StreamState::NoStream),
            ],
            &options,
        )
        .await
        .unwrap();
    let refused = client
        .append_records(
            record(),
            vec![
                StreamStateCheck::new(&live, StreamCondition::Deleted),
                StreamStateCheck::new(&deleted, StreamCondition::Tombstoned),
                StreamStateCheck::new(&live, StreamCondition::Tombstoned),
                StreamStateCheck::new(&tombstoned, StreamState::Exists),
                StreamStateCheck::new(&deleted, StreamState::Exists),
            ],
            &options,
        )
        .await;
    match refused {
        Err(Error::ConsistencyChecksFailed { failures }) => {
            let seen: Vec<_> = failures
                .iter()
                .map(|f| (f.check_index, f.expected_state, f.actual_state))
                .collect();
            assert_eq!(
                seen,
                [
                    (0, StreamCondition::Deleted, StreamCondition::Version(0)),
                    (1, StreamCondition::Tombstoned, StreamCondition::Deleted),
                    (2, StreamCondition::Tombstoned, StreamCondition::Version(0)),
                    (3, StreamCondition::Exists, StreamCondition::Tombstoned),
                    (4, StreamCondition::Exists, StreamCondition::Deleted),
                ]
            );
        }
        other => panic!("expected ConsistencyChecksFailed, got {other:?}"),
    }
    let any = client
        .append_records(
            record(),
            vec![StreamStateCheck::new(&live, StreamState::Any)],
            &options,
        )
        .await;
    assert!(matches!(any, Err(Error::InvalidArgument(_))), "{any:?}");
    // Records for a tombstoned stream: a violation at the stream's place
    // after the checks (KurrentDB 26.1), expecting any, actually tombstoned.
    let refused = client
        .append_records(
            vec![
                NewRecord::new(&target, "B", "{}"),
                NewRecord::new(&tombstoned, "B", "{}"),
            ],
            vec![StreamStateCheck::new(&live, StreamState::Exists)],
            &options,
        )
        .await;
    match refused {
        Err(Error::ConsistencyChecksFailed { failures }) => {
            let seen: Vec<_> = failures
                .iter()
                .map(|f| {
                    (
                        f.check_index,
                        f.stream_name.as_str(),
                        f.expected_state,
                        f.actual_state,
                    )
                })
                .collect();
            assert_eq!(
                seen,
                [(
                    2,
                    tombstoned.as_str(),
                    StreamCondition::Any,
                    StreamCondition::Tombstoned
                )]
            );
        }
        other => panic!("expected ConsistencyChecksFailed, got {other:?}"),
    }
    // Only the first append wrote.
    let written = client
        .get_stream(&target, &Default::default())
        .await
        .unwrap();
    assert_eq!(written.len(), 1);
}

/// Every failed check is reported with its index; nothing is written.
pub async fn append_records_consistency_checks_report_every_failure<C: ClientUnderTest>(
    client: &C,
) {
    let a = unique("cc-a");
    let b = unique("cc-b");
    let c = unique("cc-c");
    create_stream(client, &a, vec![event("A", "{}")]).await;
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
