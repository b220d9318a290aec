//! Deleting: soft deletes (the stream can be reopened) and tombstones (it
//! cannot), with their current-version checks.

use kurrentdbclient::options::*;
use kurrentdbclient::{Error, NewEvents, StreamMetadata, StreamState};

use super::{create_stream, event, positions, types};
use crate::common::harness::ClientUnderTest;
use crate::common::unique;

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
    create_stream(client, &stream, vec![event("A", "{}"), event("B", "{}")]).await;
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
    create_stream(client, &stream, vec![event("A", "{}")]).await;
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
    // Its metadata stream is deleted with it (KurrentDB's index reader reports
    // a metadata stream deleted when its stream is): reading the metadata
    // fails as deleted, and so does setting it (KurrentDB's own test
    // `setting_metadata_for_deleted_stream_throws_stream_deleted_exception`).
    let r = client
        .get_stream_metadata(&stream, &GetStreamMetadataOptions::default())
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "metadata read: {r:?}"
    );
    let r = client
        .set_stream_metadata(
            &stream,
            &StreamMetadata::default().with_max_count(1),
            StreamState::Any,
            &SetStreamMetadataOptions::default(),
        )
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "metadata write: {r:?}"
    );

    // A metadata stream written before the tombstone can still be written
    // (KurrentDB's commit check finds its version in the writer's cache),
    // checked against its own revision; reading it still fails as deleted.
    let stream = unique("tomb-meta");
    create_stream(client, &stream, vec![event("A", "{}")]).await;
    let metadata = StreamMetadata::default().with_max_count(5);
    let set = |state| {
        let stream = stream.clone();
        let metadata = metadata.clone();
        async move {
            client
                .set_stream_metadata(&stream, &metadata, state, &Default::default())
                .await
        }
    };
    set(StreamState::NoStream).await.unwrap();
    client
        .tombstone_stream(&stream, StreamState::Any, &Default::default())
        .await
        .unwrap();
    set(StreamState::Version(0)).await.unwrap();
    set(StreamState::Any).await.unwrap();
    let r = set(StreamState::Version(0)).await;
    assert!(
        matches!(&r, Err(Error::WrongCurrentVersion { .. })),
        "metadata write at a stale revision: {r:?}"
    );
    let r = client
        .get_stream_metadata(&stream, &GetStreamMetadataOptions::default())
        .await;
    assert!(
        matches!(&r, Err(Error::StreamIsDeleted { .. })),
        "metadata read after the tombstone: {r:?}"
    );
}

/// KurrentDB refuses to soft delete a stream that never existed, whatever state
/// is expected (a wrong expected version with actual version -1, which the
/// client reports as not found, as the Python client does); deleting again
/// after a delete succeeds, and so does tombstoning a stream that never
/// existed.
pub async fn delete_of_a_never_existing_stream_is_not_found<C: ClientUnderTest>(client: &C) {
    for expected in [StreamState::Any, StreamState::NoStream] {
        let r = client
            .delete_stream(&unique("never"), expected, &DeleteStreamOptions::default())
            .await;
        assert!(
            matches!(r, Err(Error::NotFound { .. })),
            "{expected}: {r:?}"
        );
    }
    let stream = unique("twice");
    create_stream(client, &stream, vec![event("A", "{}")]).await;
    for _ in 0..2 {
        client
            .delete_stream(&stream, StreamState::Any, &DeleteStreamOptions::default())
            .await
            .expect("deleting, and deleting again, succeed");
    }
    // A stream with only metadata has existed.
    let with_metadata = unique("meta-only");
    client
        .set_stream_metadata(
            &with_metadata,
            &StreamMetadata::default().with_max_count(3),
            StreamState::NoStream,
            &SetStreamMetadataOptions::default(),
        )
        .await
        .unwrap();
    client
        .delete_stream(
            &with_metadata,
            StreamState::Any,
            &DeleteStreamOptions::default(),
        )
        .await
        .expect("a stream with metadata is deleted");
    client
        .tombstone_stream(
            &unique("never"),
            StreamState::Any,
            &TombstoneStreamOptions::default(),
        )
        .await
        .expect("tombstoning a stream that never existed succeeds");
}
