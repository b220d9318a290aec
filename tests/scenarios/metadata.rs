//! Stream metadata: typed keys that the server honours, and the
//! current-version check on the metadata stream.

use kurrentdbclient::options::*;
use kurrentdbclient::{Error, StreamAcl, StreamMetadata, StreamState};
use std::time::Duration;

use super::{event, types};
use crate::common::harness::ClientUnderTest;
use crate::common::unique;

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

/// Metadata a real node accepts is never refused on reading: `$acl` in its
/// string forms and well-known keys of unexpected shape come back as written.
pub async fn stream_metadata_unexpected_shapes_are_kept<C: ClientUnderTest>(client: &C) {
    for acl in ["$userStreamAcl", "$systemStreamAcl"] {
        let stream = unique("meta-shapes");
        let metadata = StreamMetadata::default()
            .with_custom("$acl", acl)
            .with_custom("$cacheControl", "soon")
            .with_max_count(4);
        client
            .set_stream_metadata(
                &stream,
                &metadata,
                StreamState::NoStream,
                &SetStreamMetadataOptions::default(),
            )
            .await
            .unwrap();
        let (read, _) = client
            .get_stream_metadata(&stream, &GetStreamMetadataOptions::default())
            .await
            .expect("metadata of unexpected shape is read");
        assert_eq!(read.acl, None);
        assert_eq!(read.custom["$acl"], acl);
        assert_eq!(read.custom["$cacheControl"], "soon");
        assert_eq!(read.max_count, Some(4));
        assert_eq!(read, metadata);
    }
}
