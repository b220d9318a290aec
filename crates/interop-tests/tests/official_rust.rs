//! The official Rust client (`kurrentdb` from crates.io) against the embedded
//! server, beside our own client.
//!
//! Every test starts its own embedded server, so tests are independent and can
//! run in parallel. Each assertion states what the official client's
//! documentation promises against a real KurrentDB node; a failure here means
//! our server (or our protos) answered differently from KurrentDB.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use kurrentdb::{
    Acl, BatchAppendOptions, Client as OfficialClient, ClientSettings, CurrentRevision,
    DeletePersistentSubscriptionOptions, DeleteStreamOptions, Error as OfficialError, EventData,
    NakAction, PersistentSubscriptionEvent, PersistentSubscriptionOptions, Position,
    ReadStreamOptions as OfficialReadStreamOptions, ResolvedEvent,
    StreamMetadata as OfficialStreamMetadata, StreamMetadataResult, StreamPosition,
    StreamState as OfficialStreamState, SubscribeToAllOptions as OfficialSubscribeToAllOptions,
    SubscribeToPersistentSubscriptionOptions,
    SubscribeToStreamOptions as OfficialSubscribeToStreamOptions, SubscriptionEvent,
    SubscriptionFilter, TombstoneStreamOptions,
};
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, CONTENT_TYPE_JSON, CONTENT_TYPE_OCTET_STREAM,
    GetStreamMetadataOptions, NewEvent, ReadStreamOptions, RecordedEvent, StreamState,
};
use uuid::Uuid;

/// gRPC's FAILED_PRECONDITION code (the official crate uses an older tonic,
/// so its `Code` is not ours).
const FAILED_PRECONDITION: i32 = tonic::Code::FailedPrecondition as i32;

/// How long any single wait for the server may take before a test fails
/// (instead of hanging).
const WAIT: Duration = Duration::from_secs(10);

/// A running embedded server with both clients connected to it.
struct Peers {
    server: EmbeddedServer,
    ours: AsyncKurrentDBClient,
    official: OfficialClient,
}

impl Peers {
    async fn start() -> Peers {
        let server = EmbeddedServer::start()
            .await
            .expect("embedded server starts");
        let uri = server.connection_string();
        let ours = AsyncKurrentDBClient::connect(&uri)
            .await
            .expect("our client connects");
        let settings: ClientSettings = uri.parse().expect("official client parses the uri");
        let official = OfficialClient::new(settings).expect("official client is created");
        Peers {
            server,
            ours,
            official,
        }
    }

    /// Reads a whole stream with our client.
    async fn our_read(&self, stream: &str) -> Vec<RecordedEvent> {
        self.ours
            .get_stream(stream, &ReadStreamOptions::default())
            .await
            .expect("our client reads the stream")
    }

    /// Reads a whole stream, forwards from the start, with the official client.
    async fn official_read(&self, stream: &str) -> kurrentdb::Result<Vec<ResolvedEvent>> {
        let options = OfficialReadStreamOptions::default()
            .position(StreamPosition::Start)
            .forwards()
            .max_count(usize::MAX);
        let mut read = self.official.read_stream(stream, &options).await?;
        let mut events = Vec::new();
        while let Some(event) = read.next().await? {
            events.push(event);
        }
        Ok(events)
    }
}

/// A stream name no other test uses.
fn stream(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

/// Runs a future with the test-wide time limit.
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

fn json_event(kind: &str, n: u32) -> NewEvent {
    NewEvent::new(kind, format!(r#"{{"n":{n}}}"#))
        .with_metadata(format!(r#"{{"correlation":"c-{n}"}}"#))
}

fn official_json_event(kind: &str, n: u32) -> EventData {
    EventData::json(kind, &serde_json::json!({ "n": n }))
        .expect("serialises")
        .metadata(Bytes::from(format!(r#"{{"causation":"k-{n}"}}"#)))
        .id(Uuid::new_v4())
}

/// Checks that an event as the official client sees it is the event as our
/// client sees it: id, type, data, metadata, content type, stream and
/// positions.
fn assert_same_event(official: &ResolvedEvent, ours: &RecordedEvent) {
    let theirs = official.get_original_event();
    assert_eq!(theirs.id, ours.id, "event id");
    assert_eq!(theirs.event_type, ours.r#type, "event type");
    assert_eq!(theirs.data, ours.data, "event data");
    assert_eq!(theirs.custom_metadata, ours.metadata, "event metadata");
    assert_eq!(theirs.stream_id(), ours.stream_name, "stream name");
    assert_eq!(theirs.revision, ours.stream_position, "stream position");
    assert_eq!(
        theirs.metadata.get("content-type").map(String::as_str),
        Some(ours.content_type.as_str()),
        "content type"
    );
    assert_eq!(
        theirs.is_json,
        ours.content_type == CONTENT_TYPE_JSON,
        "is_json"
    );
    assert_eq!(
        Some(theirs.position.commit),
        ours.commit_position,
        "commit position"
    );
    assert_eq!(
        Some(theirs.position.prepare),
        ours.prepare_position,
        "prepare position"
    );
    assert_eq!(
        official.commit_position, ours.commit_position,
        "resolved event's commit position"
    );
}

// ----------------------------------------------------------------------------
// Appends and reads, both ways
// ----------------------------------------------------------------------------

#[tokio::test]
async fn events_appended_by_our_client_are_read_by_the_official_client() {
    let peers = Peers::start().await;
    let name = stream("ours-to-official");
    let events = vec![
        json_event("OrderCreated", 1),
        json_event("OrderPaid", 2),
        NewEvent::new("Blob", Bytes::from_static(&[0, 1, 2, 254, 255]))
            .with_content_type(CONTENT_TYPE_OCTET_STREAM)
            .with_metadata(Bytes::from_static(b"\x00binary-metadata")),
    ];
    let written = peers
        .ours
        .append_to_stream(
            &name,
            StreamState::NoStream,
            events.clone(),
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("our append succeeds");

    let official = peers.official_read(&name).await.expect("official read");
    let ours = peers.our_read(&name).await;
    assert_eq!(official.len(), 3);
    assert_eq!(ours.len(), 3);
    for (i, ((theirs, ours), sent)) in official.iter().zip(&ours).zip(&events).enumerate() {
        assert_same_event(theirs, ours);
        let recorded = theirs.get_original_event();
        assert_eq!(recorded.id, sent.id);
        assert_eq!(recorded.event_type, sent.r#type);
        assert_eq!(recorded.data, sent.data);
        assert_eq!(recorded.custom_metadata, sent.metadata);
        assert_eq!(recorded.revision, i as u64);
    }
    assert!(!official[2].get_original_event().is_json);
    assert_eq!(
        official[2].get_original_event().position.commit,
        written.commit_position,
        "our append's commit position is the last event's"
    );
    assert_eq!(written.next_expected_version, StreamState::Version(2));
}

#[tokio::test]
async fn events_appended_by_the_official_client_are_read_by_our_client() {
    let peers = Peers::start().await;
    let name = stream("official-to-ours");
    let ids = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
    let sent = [
        official_json_event("Registered", 1).id(ids[0]),
        official_json_event("Renamed", 2).id(ids[1]),
        EventData::binary("Picture", Bytes::from_static(b"\x89PNG\r\n"))
            .metadata(Bytes::from_static(b"raw"))
            .id(ids[2]),
    ];
    let first = peers
        .official
        .append_to_stream(
            name.as_str(),
            &kurrentdb::AppendToStreamOptions::default()
                .stream_state(OfficialStreamState::NoStream),
            sent[..2].to_vec(),
        )
        .await
        .expect("official append succeeds");
    assert_eq!(first.next_expected_version, 1);
    let second = peers
        .official
        .append_to_stream(
            name.as_str(),
            &kurrentdb::AppendToStreamOptions::default()
                .stream_state(OfficialStreamState::StreamRevision(1)),
            sent[2].clone(),
        )
        .await
        .expect("official append with the right revision succeeds");
    assert_eq!(second.next_expected_version, 2);
    assert!(second.position.commit > first.position.commit);
    // Our write result says what the official one says, so either client can
    // pass it on as the next expected version.
    let third = peers
        .ours
        .append_to_stream(
            &name,
            second.next_expected_version,
            [json_event("Moved", 3)],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("our append with the official result's version succeeds");
    assert_eq!(third.next_expected_version, StreamState::Version(3));
    assert!(third.commit_position > second.position.commit);

    let ours = peers.our_read(&name).await;
    assert_eq!(ours.len(), 4);
    let official = peers.official_read(&name).await.expect("official read");
    for ((theirs, ours), id) in official.iter().zip(&ours).zip(ids) {
        assert_same_event(theirs, ours);
        assert_eq!(ours.id, id, "the id the official client chose is kept");
    }
    assert_eq!(ours[0].r#type, "Registered");
    assert_eq!(ours[0].content_type, CONTENT_TYPE_JSON);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&ours[1].data).unwrap(),
        serde_json::json!({ "n": 2 })
    );
    assert_eq!(&ours[1].metadata[..], br#"{"causation":"k-2"}"#);
    assert_eq!(ours[2].content_type, CONTENT_TYPE_OCTET_STREAM);
    assert_eq!(&ours[2].data[..], b"\x89PNG\r\n");
    assert_eq!(&ours[2].metadata[..], b"raw");
    // The write result's position is the position of the last event written.
    assert_eq!(ours[1].commit_position, Some(first.position.commit));
    assert_eq!(ours[2].commit_position, Some(second.position.commit));
    assert_eq!(ours[2].prepare_position, Some(second.position.prepare));
}

#[tokio::test]
async fn read_all_agrees_between_the_clients() {
    let peers = Peers::start().await;
    let a = stream("all-a");
    let b = stream("all-b");
    peers
        .ours
        .append_to_stream(
            &a,
            StreamState::Any,
            [json_event("A", 1), json_event("A", 2)],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    peers
        .official
        .append_to_stream(
            b.as_str(),
            &Default::default(),
            vec![official_json_event("B", 1)],
        )
        .await
        .unwrap();

    let mut read = peers
        .official
        .read_all(
            &kurrentdb::ReadAllOptions::default()
                .position(StreamPosition::Start)
                .max_count(usize::MAX),
        )
        .await
        .unwrap();
    let mut official = Vec::new();
    while let Some(event) = read.next().await.unwrap() {
        if !event.get_original_event().event_type.starts_with('$') {
            official.push(event);
        }
    }
    let ours: Vec<RecordedEvent> = peers
        .ours
        .read_all(&kurrentdbclient::ReadAllOptions::default())
        .await
        .unwrap()
        .collect_events()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| !e.r#type.starts_with('$'))
        .collect();
    assert_eq!(official.len(), 3);
    assert_eq!(ours.len(), 3);
    for (theirs, ours) in official.iter().zip(&ours) {
        assert_same_event(theirs, ours);
    }
    // $all is in commit order.
    assert!(
        official
            .windows(2)
            .all(|w| w[0].get_original_event().position < w[1].get_original_event().position)
    );

    // Backwards from the end gives the last event first.
    let mut back = peers
        .official
        .read_all(
            &kurrentdb::ReadAllOptions::default()
                .position(StreamPosition::End)
                .backwards()
                .max_count(1),
        )
        .await
        .unwrap();
    let last = back.next().await.unwrap().expect("one event");
    assert_eq!(last.get_original_event().stream_id(), b);
    assert!(back.next().await.unwrap().is_none());
}

/// The official crate's own test suite expects `$all` never to be empty ("the
/// server uses streams itself"): a fresh node's log starts with the events it
/// writes when it starts, before any client writes, `$epoch-information` first.
#[tokio::test]
async fn official_read_all_of_a_fresh_server_finds_the_nodes_own_events() {
    let peers = Peers::start().await;
    let mut read = peers
        .official
        .read_all(&kurrentdb::ReadAllOptions::default().max_count(usize::MAX))
        .await
        .unwrap();
    let mut types = Vec::new();
    while let Some(event) = read.next().await.unwrap() {
        types.push(event.get_original_event().event_type.clone());
    }
    assert_eq!(
        types.first().map(String::as_str),
        Some("$epoch-information")
    );
    assert!(types.iter().all(|t| t.starts_with('$')), "{types:?}");
    // Our client's default filter leaves the system events out.
    let ours = peers
        .ours
        .read_all(&kurrentdbclient::ReadAllOptions::default())
        .await
        .unwrap()
        .collect_events()
        .await
        .unwrap();
    assert!(ours.is_empty(), "{ours:?}");
}

#[tokio::test]
async fn official_read_stream_options_are_honoured() {
    let peers = Peers::start().await;
    let name = stream("read-options");
    peers
        .ours
        .append_to_stream(
            &name,
            StreamState::NoStream,
            (0..10).map(|n| json_event("Counted", n)),
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let collect = |options: OfficialReadStreamOptions| {
        let official = &peers.official;
        let name = name.clone();
        async move {
            let mut read = official.read_stream(name.as_str(), &options).await.unwrap();
            let mut revisions = Vec::new();
            while let Some(event) = read.next().await.unwrap() {
                revisions.push(event.get_original_event().revision);
            }
            revisions
        }
    };
    assert_eq!(
        collect(
            OfficialReadStreamOptions::default()
                .position(StreamPosition::Position(4))
                .max_count(3)
        )
        .await,
        vec![4, 5, 6]
    );
    assert_eq!(
        collect(
            OfficialReadStreamOptions::default()
                .position(StreamPosition::End)
                .backwards()
                .max_count(2)
        )
        .await,
        vec![9, 8]
    );
    assert_eq!(
        collect(
            OfficialReadStreamOptions::default()
                .position(StreamPosition::Position(2))
                .backwards()
                .max_count(10)
        )
        .await,
        vec![2, 1, 0]
    );
    // Reading past the end is empty, not an error.
    assert_eq!(
        collect(OfficialReadStreamOptions::default().position(StreamPosition::Position(50))).await,
        Vec::<u64>::new()
    );
}

// ----------------------------------------------------------------------------
// Error paths
// ----------------------------------------------------------------------------

#[tokio::test]
async fn official_append_with_wrong_expected_version_fails_with_the_actual_revision() {
    let peers = Peers::start().await;
    let name = stream("wrong-version");
    let options = |state| kurrentdb::AppendToStreamOptions::default().stream_state(state);

    // A stream that does not exist, expected to exist.
    let err = peers
        .official
        .append_to_stream(
            name.as_str(),
            &options(OfficialStreamState::StreamExists),
            official_json_event("E", 0),
        )
        .await
        .expect_err("StreamExists on a missing stream fails");
    assert!(
        matches!(
            err,
            OfficialError::WrongExpectedVersion {
                expected: OfficialStreamState::StreamExists,
                current: CurrentRevision::NoStream,
            }
        ),
        "{err:?}"
    );
    // Expected at a revision while missing.
    let err = peers
        .official
        .append_to_stream(
            name.as_str(),
            &options(OfficialStreamState::StreamRevision(0)),
            official_json_event("E", 0),
        )
        .await
        .expect_err("a revision on a missing stream fails");
    assert!(
        matches!(
            err,
            OfficialError::WrongExpectedVersion {
                expected: OfficialStreamState::StreamRevision(0),
                current: CurrentRevision::NoStream,
            }
        ),
        "{err:?}"
    );

    peers
        .official
        .append_to_stream(
            name.as_str(),
            &options(OfficialStreamState::NoStream),
            vec![official_json_event("E", 0), official_json_event("E", 1)],
        )
        .await
        .unwrap();

    let err = peers
        .official
        .append_to_stream(
            name.as_str(),
            &options(OfficialStreamState::NoStream),
            official_json_event("E", 2),
        )
        .await
        .expect_err("NoStream on an existing stream fails");
    assert!(
        matches!(
            err,
            OfficialError::WrongExpectedVersion {
                expected: OfficialStreamState::NoStream,
                current: CurrentRevision::Current(1),
            }
        ),
        "{err:?}"
    );
    let err = peers
        .official
        .append_to_stream(
            name.as_str(),
            &options(OfficialStreamState::StreamRevision(5)),
            official_json_event("E", 2),
        )
        .await
        .expect_err("a stale revision fails");
    assert!(
        matches!(
            err,
            OfficialError::WrongExpectedVersion {
                expected: OfficialStreamState::StreamRevision(5),
                current: CurrentRevision::Current(1),
            }
        ),
        "{err:?}"
    );
    // Nothing was written by the failed appends.
    assert_eq!(peers.our_read(&name).await.len(), 2);

    // Our client sees the same failure with the same numbers.
    let err = peers
        .ours
        .append_to_stream(
            &name,
            5u64,
            [json_event("E", 2)],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect_err("our stale append fails");
    assert!(
        matches!(
            err,
            kurrentdbclient::Error::WrongCurrentVersion {
                expected: StreamState::Version(5),
                actual: StreamState::Version(1),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn official_append_is_idempotent_for_the_same_event_ids() {
    let peers = Peers::start().await;
    let name = stream("idempotent");
    let events = vec![official_json_event("E", 0), official_json_event("E", 1)];
    let opts =
        kurrentdb::AppendToStreamOptions::default().stream_state(OfficialStreamState::NoStream);
    let first = peers
        .official
        .append_to_stream(name.as_str(), &opts, events.clone())
        .await
        .unwrap();
    let again = peers
        .official
        .append_to_stream(name.as_str(), &opts, events)
        .await
        .expect("retrying the same append with the same ids succeeds");
    assert_eq!(again.next_expected_version, first.next_expected_version);
    assert_eq!(peers.our_read(&name).await.len(), 2);
}

#[tokio::test]
async fn official_read_of_a_missing_stream_is_resource_not_found() {
    let peers = Peers::start().await;
    let err = peers
        .official_read(&stream("missing"))
        .await
        .expect_err("reading a missing stream fails");
    assert!(matches!(err, OfficialError::ResourceNotFound), "{err:?}");

    let result = peers
        .official
        .get_stream_metadata(stream("missing").as_str(), &Default::default())
        .await
        .expect("metadata of a missing stream");
    assert!(result.is_not_found(), "{result:?}");
}

#[tokio::test]
async fn official_delete_soft_deletes_and_the_stream_can_be_recreated() {
    let peers = Peers::start().await;
    let name = stream("soft-delete");
    peers
        .official
        .append_to_stream(
            name.as_str(),
            &Default::default(),
            vec![official_json_event("E", 0), official_json_event("E", 1)],
        )
        .await
        .unwrap();

    // Deleting at the wrong revision fails. Unlike an append (whose failure is
    // in-band), a delete's failure is a FAILED_PRECONDITION status with a
    // `wrong-expected-version` trailer, which the official crate passes
    // through as a bare gRPC error.
    let err = peers
        .official
        .delete_stream(
            name.as_str(),
            &DeleteStreamOptions::default().stream_state(OfficialStreamState::StreamRevision(7)),
        )
        .await
        .expect_err("delete at a wrong revision fails");
    assert!(
        matches!(
            &err,
            OfficialError::Grpc { code, .. } if *code as i32 == FAILED_PRECONDITION
        ),
        "{err:?}"
    );
    // Our client reads the trailers and reports the numbers.
    let err = peers
        .ours
        .delete_stream(
            &name,
            7u64,
            &kurrentdbclient::DeleteStreamOptions::default(),
        )
        .await
        .expect_err("our delete at a wrong revision fails");
    assert!(
        matches!(
            err,
            kurrentdbclient::Error::WrongCurrentVersion {
                expected: StreamState::Version(7),
                actual: StreamState::Version(1),
                ..
            }
        ),
        "{err:?}"
    );

    let position = peers
        .official
        .delete_stream(
            name.as_str(),
            &DeleteStreamOptions::default().stream_state(OfficialStreamState::StreamRevision(1)),
        )
        .await
        .expect("delete succeeds");
    let position = position.expect("a delete reports its position");
    assert!(position.commit > 0);

    let err = peers
        .official_read(&name)
        .await
        .expect_err("a deleted stream reads as missing");
    assert!(matches!(err, OfficialError::ResourceNotFound), "{err:?}");

    // Appending again recreates the stream; revisions continue after the
    // deleted ones.
    let written = peers
        .official
        .append_to_stream(
            name.as_str(),
            &kurrentdb::AppendToStreamOptions::default()
                .stream_state(OfficialStreamState::NoStream),
            official_json_event("E", 2),
        )
        .await
        .expect("a soft-deleted stream can be written with NoStream");
    assert_eq!(written.next_expected_version, 2);
    let events = peers.official_read(&name).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].get_original_event().revision, 2);
}

#[tokio::test]
async fn official_tombstone_deletes_for_ever() {
    let peers = Peers::start().await;
    let name = stream("tombstone");
    peers
        .ours
        .append_to_stream(
            &name,
            StreamState::Any,
            [json_event("E", 0)],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let position = peers
        .official
        .tombstone_stream(name.as_str(), &TombstoneStreamOptions::default())
        .await
        .expect("tombstone succeeds");
    assert!(position.expect("a tombstone reports its position").commit > 0);

    let err = peers
        .official_read(&name)
        .await
        .expect_err("reading a tombstoned stream fails");
    assert!(matches!(err, OfficialError::ResourceDeleted), "{err:?}");

    let err = peers
        .official
        .append_to_stream(
            name.as_str(),
            &Default::default(),
            official_json_event("E", 1),
        )
        .await
        .expect_err("appending to a tombstoned stream fails");
    assert!(matches!(err, OfficialError::ResourceDeleted), "{err:?}");

    let err = peers
        .official
        .tombstone_stream(name.as_str(), &TombstoneStreamOptions::default())
        .await
        .expect_err("tombstoning twice fails");
    assert!(matches!(err, OfficialError::ResourceDeleted), "{err:?}");

    let err = peers
        .official
        .delete_stream(name.as_str(), &DeleteStreamOptions::default())
        .await
        .expect_err("deleting a tombstoned stream fails");
    assert!(matches!(err, OfficialError::ResourceDeleted), "{err:?}");

    // As on KurrentDB, the metadata stream of a tombstoned stream is deleted
    // too (IndexReader.GetStreamLastEventNumberCached).
    let err = peers
        .official
        .get_stream_metadata(name.as_str(), &Default::default())
        .await
        .expect_err("metadata read of a tombstoned stream fails");
    assert!(matches!(err, OfficialError::ResourceDeleted), "{err:?}");

    // Our client agrees.
    let err = peers
        .ours
        .get_stream(&name, &ReadStreamOptions::default())
        .await
        .expect_err("our read of a tombstoned stream fails");
    assert!(
        matches!(err, kurrentdbclient::Error::StreamIsDeleted { .. }),
        "{err:?}"
    );
}

// ----------------------------------------------------------------------------
// Stream metadata
// ----------------------------------------------------------------------------

#[tokio::test]
async fn official_stream_metadata_round_trips_and_is_enforced() {
    let peers = Peers::start().await;
    let name = stream("metadata");
    let acl = kurrentdb::StreamAclBuilder::new()
        .add_read_roles("$all")
        .add_write_roles("ops")
        .add_write_roles("admins")
        .build();
    let metadata = OfficialStreamMetadata::builder()
        .max_count(3)
        // Not `cache_control` or `max_age`: the official crate writes them in
        // milliseconds, where KurrentDB (and our client) use seconds.
        .acl(Acl::Stream(acl))
        .insert_custom_property("owner", "team-a")
        .build();
    let written = peers
        .official
        .set_stream_metadata(name.as_str(), &Default::default(), &metadata)
        .await
        .expect("set metadata succeeds");
    assert_eq!(written.next_expected_version, 0);

    let read = peers
        .official
        .get_stream_metadata(name.as_str(), &Default::default())
        .await
        .expect("get metadata succeeds");
    let StreamMetadataResult::Success(versioned) = read else {
        panic!("metadata found: {read:?}");
    };
    assert_eq!(versioned.stream_name(), format!("$${name}"));
    assert_eq!(versioned.version(), 0);
    assert_eq!(versioned.metadata(), &metadata);

    // Our client reads the same document.
    let (ours, version) = peers
        .ours
        .get_stream_metadata(&name, &GetStreamMetadataOptions::default())
        .await
        .expect("our metadata read");
    assert_eq!(version, StreamState::Version(0));
    assert_eq!(ours.max_count, Some(3));
    let acl = ours.acl.expect("acl");
    assert_eq!(acl.read, vec!["$all".to_owned()]);
    assert_eq!(acl.write, vec!["ops".to_owned(), "admins".to_owned()]);
    assert_eq!(ours.custom.get("owner"), Some(&serde_json::json!("team-a")));

    // $maxCount is enforced on reads: only the last three events remain.
    peers
        .official
        .append_to_stream(
            name.as_str(),
            &Default::default(),
            (0..5)
                .map(|n| official_json_event("E", n))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let revisions: Vec<u64> = peers
        .official_read(&name)
        .await
        .unwrap()
        .iter()
        .map(|e| e.get_original_event().revision)
        .collect();
    assert_eq!(revisions, vec![2, 3, 4]);

    // A second metadata write bumps the metadata stream's version.
    let truncated = OfficialStreamMetadata::builder().truncate_before(4).build();
    let written = peers
        .official
        .set_stream_metadata(
            name.as_str(),
            &kurrentdb::AppendToStreamOptions::default()
                .stream_state(OfficialStreamState::StreamRevision(0)),
            &truncated,
        )
        .await
        .unwrap();
    assert_eq!(written.next_expected_version, 1);
    let revisions: Vec<u64> = peers
        .official_read(&name)
        .await
        .unwrap()
        .iter()
        .map(|e| e.get_original_event().revision)
        .collect();
    assert_eq!(revisions, vec![4]);
}

// ----------------------------------------------------------------------------
// Catch-up subscriptions
// ----------------------------------------------------------------------------

/// The next event of a subscription, skipping confirmations, checkpoints and
/// caught-up markers.
async fn next_event(sub: &mut kurrentdb::Subscription) -> ResolvedEvent {
    within("a subscription event", sub.next())
        .await
        .expect("subscription event")
}

#[tokio::test]
async fn official_subscription_to_a_stream_catches_up_then_goes_live() {
    let peers = Peers::start().await;
    let name = stream("sub-stream");
    let other = stream("sub-other");
    peers
        .ours
        .append_to_stream(
            &name,
            StreamState::NoStream,
            (0..3).map(|n| json_event("Before", n)),
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();

    let mut sub = peers
        .official
        .subscribe_to_stream(
            name.as_str(),
            &OfficialSubscribeToStreamOptions::default().start_from(StreamPosition::Start),
        )
        .await;
    // The first message is the confirmation.
    match within("confirmation", sub.next_subscription_event())
        .await
        .expect("subscription opens")
    {
        SubscriptionEvent::Confirmed(id) => assert!(!id.is_empty(), "subscription id"),
        other => panic!("expected a confirmation first, got {other:?}"),
    }
    let mut seen = Vec::new();
    let mut caught_up = false;
    while seen.len() < 3 || !caught_up {
        match within("catch-up", sub.next_subscription_event())
            .await
            .unwrap()
        {
            SubscriptionEvent::EventAppeared(e) => {
                assert!(!caught_up, "no stored event after the caught-up marker");
                seen.push(e.get_original_event().revision);
            }
            SubscriptionEvent::CaughtUp(_) => {
                assert_eq!(seen.len(), 3, "caught up after the stored events");
                caught_up = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, vec![0, 1, 2]);

    // Live: events of other streams are not delivered.
    peers
        .ours
        .append_to_stream(
            &other,
            StreamState::Any,
            [json_event("Other", 0)],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    peers
        .official
        .append_to_stream(
            name.as_str(),
            &Default::default(),
            official_json_event("Live", 3),
        )
        .await
        .unwrap();
    let live = next_event(&mut sub).await;
    assert_eq!(live.get_original_event().revision, 3);
    assert_eq!(live.get_original_event().event_type, "Live");

    // From a revision: only what follows it (exclusive start).
    let mut from_one = peers
        .official
        .subscribe_to_stream(
            name.as_str(),
            &OfficialSubscribeToStreamOptions::default().start_from(StreamPosition::Position(1)),
        )
        .await;
    assert_eq!(
        next_event(&mut from_one)
            .await
            .get_original_event()
            .revision,
        2
    );
    assert_eq!(
        next_event(&mut from_one)
            .await
            .get_original_event()
            .revision,
        3
    );

    // From the end: only new events.
    let mut from_end = peers
        .official
        .subscribe_to_stream(
            name.as_str(),
            &OfficialSubscribeToStreamOptions::default().start_from(StreamPosition::End),
        )
        .await;
    match within("confirmation", from_end.next_subscription_event())
        .await
        .unwrap()
    {
        SubscriptionEvent::Confirmed(_) => {}
        other => panic!("expected a confirmation first, got {other:?}"),
    }
    peers
        .ours
        .append_to_stream(
            &name,
            StreamState::Version(3),
            [json_event("New", 4)],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let event = next_event(&mut from_end).await;
    assert_eq!(event.get_original_event().revision, 4);
    assert_eq!(event.get_original_event().event_type, "New");
}

#[tokio::test]
async fn official_subscription_to_a_missing_stream_waits_for_it() {
    let peers = Peers::start().await;
    let name = stream("sub-later");
    let mut sub = peers
        .official
        .subscribe_to_stream(
            name.as_str(),
            &OfficialSubscribeToStreamOptions::default().start_from(StreamPosition::Start),
        )
        .await;
    let appender = {
        let ours = peers.ours.clone();
        let name = name.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            ours.append_to_stream(
                &name,
                StreamState::NoStream,
                [json_event("First", 0)],
                &AppendToStreamOptions::default(),
            )
            .await
        })
    };
    let event = next_event(&mut sub).await;
    assert_eq!(event.get_original_event().stream_id(), name);
    assert_eq!(event.get_original_event().revision, 0);
    appender.await.unwrap().unwrap();
}

#[tokio::test]
async fn official_subscription_to_all_with_a_filter() {
    let peers = Peers::start().await;
    let prefix = format!("flt{}-", Uuid::new_v4().simple());
    let wanted = format!("{prefix}a");
    let unwanted = stream("noise");
    for (name, kind) in [
        (&unwanted, "Noise"),
        (&wanted, "Wanted"),
        (&unwanted, "Noise"),
    ] {
        peers
            .ours
            .append_to_stream(
                name,
                StreamState::Any,
                [json_event(kind, 0)],
                &AppendToStreamOptions::default(),
            )
            .await
            .unwrap();
    }

    // Filter on the stream name prefix.
    let mut sub = peers
        .official
        .subscribe_to_all(
            &OfficialSubscribeToAllOptions::default()
                .position(StreamPosition::Start)
                .filter(SubscriptionFilter::on_stream_name().add_prefix(&prefix)),
        )
        .await;
    let first = next_event(&mut sub).await;
    assert_eq!(first.get_original_event().stream_id(), wanted);
    peers
        .official
        .append_to_stream(
            unwanted.as_str(),
            &Default::default(),
            official_json_event("Noise", 9),
        )
        .await
        .unwrap();
    let later = format!("{prefix}b");
    peers
        .official
        .append_to_stream(
            later.as_str(),
            &Default::default(),
            official_json_event("Wanted", 1),
        )
        .await
        .unwrap();
    let second = next_event(&mut sub).await;
    assert_eq!(second.get_original_event().stream_id(), later);
    assert!(second.get_original_event().position > first.get_original_event().position);

    // Filter on the event type, by regex; checkpoints carry $all positions.
    let mut by_type = peers
        .official
        .subscribe_to_all(
            &OfficialSubscribeToAllOptions::default()
                .position(StreamPosition::Start)
                .filter(SubscriptionFilter::on_event_type().regex("^Want").max(1)),
        )
        .await;
    let mut streams = Vec::new();
    let mut checkpoints: Vec<Position> = Vec::new();
    while streams.len() < 2 {
        match within("filtered event", by_type.next_subscription_event())
            .await
            .unwrap()
        {
            SubscriptionEvent::EventAppeared(e) => {
                assert!(e.get_original_event().event_type.starts_with("Want"));
                streams.push(e.get_original_event().stream_id().to_owned());
            }
            SubscriptionEvent::Checkpoint(p) => checkpoints.push(p),
            _ => {}
        }
    }
    assert_eq!(streams, vec![wanted.clone(), later.clone()]);
    assert!(
        checkpoints.windows(2).all(|w| w[0] <= w[1]),
        "checkpoints never go backwards: {checkpoints:?}"
    );

    // Our own filtered subscription sees the same events.
    let mut ours = peers
        .ours
        .subscribe_to_all(
            &kurrentdbclient::SubscribeToAllOptions::default()
                .filter_include([format!("{prefix}.*")])
                .filter_by_stream_name(true),
        )
        .await
        .unwrap();
    let mut our_streams = Vec::new();
    while our_streams.len() < 2 {
        match within("our filtered event", ours.next())
            .await
            .expect("subscription open")
            .unwrap()
        {
            kurrentdbclient::SubscriptionItem::Event(e) => our_streams.push(e.stream_name),
            _ => continue,
        }
    }
    assert_eq!(our_streams, vec![wanted, later]);
}

#[tokio::test]
async fn official_subscription_to_all_excluding_system_events() {
    let peers = Peers::start().await;
    let name = stream("no-system");
    // A metadata write puts a `$metadata` event into $all.
    peers
        .official
        .set_stream_metadata(
            name.as_str(),
            &Default::default(),
            &OfficialStreamMetadata::builder().max_count(10).build(),
        )
        .await
        .unwrap();
    peers
        .official
        .append_to_stream(
            name.as_str(),
            &Default::default(),
            official_json_event("User", 0),
        )
        .await
        .unwrap();
    let mut sub = peers
        .official
        .subscribe_to_all(
            &OfficialSubscribeToAllOptions::default()
                .position(StreamPosition::Start)
                .filter(SubscriptionFilter::on_event_type().exclude_system_events()),
        )
        .await;
    let event = next_event(&mut sub).await;
    assert_eq!(event.get_original_event().event_type, "User");
}

// ----------------------------------------------------------------------------
// Batch append
// ----------------------------------------------------------------------------

#[tokio::test]
async fn official_batch_append() {
    let peers = Peers::start().await;
    let batch = peers
        .official
        .batch_append(&BatchAppendOptions::default())
        .await
        .expect("batch append session opens");
    let name = stream("batch");
    let events: Vec<(Uuid, EventData)> = (0..50)
        .map(|n| {
            let id = Uuid::new_v4();
            (id, official_json_event("Batched", n).id(id))
        })
        .collect();
    let result = within(
        "batch append",
        batch.append_to_stream(
            name.as_str(),
            OfficialStreamState::NoStream,
            events.iter().map(|(_, e)| e.clone()).collect(),
        ),
    )
    .await
    .expect("batch append succeeds");
    assert_eq!(result.stream_name(), name);
    assert_eq!(result.current_revision(), Some(49));
    let position = result.current_position().expect("a position");

    let ours = peers.our_read(&name).await;
    assert_eq!(ours.len(), 50);
    for ((id, _), read) in events.iter().zip(&ours) {
        assert_eq!(read.id, *id);
        assert_eq!(read.r#type, "Batched");
        assert_eq!(read.content_type, CONTENT_TYPE_JSON);
    }
    assert_eq!(ours[49].commit_position, Some(position.commit));

    // A second batch on the same session, at the right revision.
    let more = within(
        "second batch",
        batch.append_to_stream(
            name.as_str(),
            OfficialStreamState::StreamRevision(49),
            vec![official_json_event("Batched", 50)],
        ),
    )
    .await
    .expect("second batch succeeds");
    assert_eq!(more.current_revision(), Some(50));

    // The wrong revision fails with the actual one.
    let err = within(
        "failing batch",
        batch.append_to_stream(
            name.as_str(),
            OfficialStreamState::StreamRevision(3),
            vec![official_json_event("Batched", 99)],
        ),
    )
    .await
    .expect_err("a batch at the wrong revision fails");
    // The official crate reports a batch's failure as the google.rpc.Status
    // the server put in the response: FAILED_PRECONDITION.
    assert!(
        matches!(
            &err,
            OfficialError::Grpc { code, .. } if *code as i32 == FAILED_PRECONDITION
        ),
        "{err:?}"
    );
    assert_eq!(peers.our_read(&name).await.len(), 51);

    // Several streams through one fresh session, concurrently.
    let batch = peers
        .official
        .batch_append(&BatchAppendOptions::default())
        .await
        .unwrap();
    let names: Vec<String> = (0..4).map(|_| stream("batch-many")).collect();
    let results = futures::future::join_all(names.iter().map(|n| {
        batch.append_to_stream(
            n.as_str(),
            OfficialStreamState::Any,
            (0..10).map(|i| official_json_event("M", i)).collect(),
        )
    }))
    .await;
    for (n, r) in names.iter().zip(results) {
        let r = r.expect("concurrent batch succeeds");
        assert_eq!(r.current_revision(), Some(9));
        assert_eq!(peers.our_read(n).await.len(), 10);
    }
}

// ----------------------------------------------------------------------------
// Persistent subscriptions
// ----------------------------------------------------------------------------

/// The next event of a persistent subscription, with its retry count.
async fn next_persistent(sub: &mut kurrentdb::PersistentSubscription) -> (usize, ResolvedEvent) {
    loop {
        match within(
            "a persistent subscription event",
            sub.next_subscription_event(),
        )
        .await
        .expect("persistent subscription event")
        {
            PersistentSubscriptionEvent::EventAppeared { retry_count, event } => {
                return (retry_count, event);
            }
            PersistentSubscriptionEvent::Confirmed(_) => continue,
        }
    }
}

#[tokio::test]
async fn official_persistent_subscription_create_read_ack_nack() {
    let peers = Peers::start().await;
    let name = stream("persistent");
    let group = "interop-group";
    peers
        .ours
        .append_to_stream(
            &name,
            StreamState::NoStream,
            (0..4).map(|n| json_event("Work", n)),
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();

    peers
        .official
        .create_persistent_subscription(
            name.as_str(),
            group,
            &PersistentSubscriptionOptions::default().start_from(StreamPosition::Start),
        )
        .await
        .expect("create succeeds");
    let err = peers
        .official
        .create_persistent_subscription(
            name.as_str(),
            group,
            &PersistentSubscriptionOptions::default(),
        )
        .await
        .expect_err("creating the same group twice fails");
    assert!(
        matches!(err, OfficialError::ResourceAlreadyExists),
        "{err:?}"
    );

    let mut sub = peers
        .official
        .subscribe_to_persistent_subscription(
            name.as_str(),
            group,
            &SubscribeToPersistentSubscriptionOptions::default().buffer_size(10),
        )
        .await
        .expect("subscribe succeeds");

    let mut first_round = Vec::new();
    for _ in 0..4 {
        let (retry, event) = next_persistent(&mut sub).await;
        assert_eq!(retry, 0);
        first_round.push(event);
    }
    let revisions: Vec<u64> = first_round
        .iter()
        .map(|e| e.get_original_event().revision)
        .collect();
    assert_eq!(revisions, vec![0, 1, 2, 3]);

    // Ack three, ask for the last one again.
    for event in &first_round[..3] {
        sub.ack(event).await.expect("ack");
    }
    sub.nack(&first_round[3], NakAction::Retry, "try again")
        .await
        .expect("nack");
    let (retry, again) = next_persistent(&mut sub).await;
    assert_eq!(
        again.get_original_event().id,
        first_round[3].get_original_event().id
    );
    assert_eq!(retry, 1, "a retried event carries its retry count");
    sub.ack(&again).await.unwrap();

    // New events reach the group live.
    peers
        .official
        .append_to_stream(
            name.as_str(),
            &Default::default(),
            official_json_event("Work", 4),
        )
        .await
        .unwrap();
    let (_, live) = next_persistent(&mut sub).await;
    assert_eq!(live.get_original_event().revision, 4);
    // A parked event is not redelivered.
    sub.nack(&live, NakAction::Park, "poison").await.unwrap();
    peers
        .official
        .append_to_stream(
            name.as_str(),
            &Default::default(),
            official_json_event("Work", 5),
        )
        .await
        .unwrap();
    let (retry, next) = next_persistent(&mut sub).await;
    assert_eq!(next.get_original_event().revision, 5);
    assert_eq!(retry, 0);
    sub.ack(&next).await.unwrap();

    let info = peers
        .official
        .get_persistent_subscription_info(name.as_str(), group, &Default::default())
        .await
        .expect("info");
    assert_eq!(info.group_name, group);
    assert_eq!(info.event_source, name);

    // Deleting the group; subscribing to a missing group fails.
    peers
        .official
        .delete_persistent_subscription(
            name.as_str(),
            group,
            &DeletePersistentSubscriptionOptions::default(),
        )
        .await
        .expect("delete succeeds");
    let err = peers
        .official
        .subscribe_to_persistent_subscription(
            name.as_str(),
            group,
            &SubscribeToPersistentSubscriptionOptions::default(),
        )
        .await;
    let err = match err {
        Err(e) => e,
        // The error may come with the first read rather than the call.
        Ok(mut sub) => within("missing group", sub.next_subscription_event())
            .await
            .expect_err("subscribing to a deleted group fails"),
    };
    assert!(matches!(err, OfficialError::ResourceNotFound), "{err:?}");
}

#[tokio::test]
async fn official_persistent_subscription_to_all() {
    let peers = Peers::start().await;
    let prefix = format!("psall{}-", Uuid::new_v4().simple());
    let group = "interop-all";
    peers
        .official
        .create_persistent_subscription_to_all(
            group,
            &kurrentdb::PersistentSubscriptionToAllOptions::default()
                .start_from(StreamPosition::Start)
                .filter(SubscriptionFilter::on_stream_name().add_prefix(&prefix)),
        )
        .await
        .expect("create to $all succeeds");
    let mut sub = peers
        .official
        .subscribe_to_persistent_subscription_to_all(group, &Default::default())
        .await
        .expect("subscribe to $all succeeds");
    let name = format!("{prefix}x");
    peers
        .ours
        .append_to_stream(
            &stream("other"),
            StreamState::Any,
            [json_event("Noise", 0)],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    peers
        .ours
        .append_to_stream(
            &name,
            StreamState::Any,
            [json_event("Wanted", 0)],
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let (_, event) = next_persistent(&mut sub).await;
    assert_eq!(event.get_original_event().stream_id(), name);
    sub.ack(&event).await.unwrap();
    peers
        .official
        .delete_persistent_subscription_to_all(group, &Default::default())
        .await
        .expect("delete to $all succeeds");
}

/// Polls our client's info of `group` on `stream` (`None`: `$all`) until it
/// passes `check` (at most `WAIT`).
async fn wait_for_info(
    peers: &Peers,
    group: &str,
    stream: Option<&str>,
    check: impl Fn(&kurrentdbclient::SubscriptionInfo) -> bool,
) {
    let start = std::time::Instant::now();
    loop {
        let i = peers
            .ours
            .get_subscription_info(group, stream, &Default::default())
            .await
            .unwrap();
        if check(&i) {
            return;
        }
        assert!(start.elapsed() < WAIT, "waited for the group: {i:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn official_info_reads_the_persistent_subscription_statistics() {
    let peers = Peers::start().await;
    let name = stream("stats");
    let group = "interop-stats";
    peers
        .ours
        .append_to_stream(
            &name,
            StreamState::NoStream,
            (0..5).map(|n| json_event("Work", n)),
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    peers
        .official
        .create_persistent_subscription(
            name.as_str(),
            group,
            &PersistentSubscriptionOptions::default()
                .start_from(StreamPosition::Start)
                .extra_statistics(true),
        )
        .await
        .expect("create succeeds");
    // A slow consumer: two in flight, one of them nacked to the parked stream.
    let mut sub = peers
        .official
        .subscribe_to_persistent_subscription(
            name.as_str(),
            group,
            &SubscribeToPersistentSubscriptionOptions::default().buffer_size(2),
        )
        .await
        .expect("subscribe succeeds");
    let (_, first) = next_persistent(&mut sub).await;
    next_persistent(&mut sub).await;
    sub.nack(&first, NakAction::Park, "poison").await.unwrap();
    wait_for_info(&peers, group, Some(&name), |i| {
        i.parked_message_count == 1 && i.total_items == 3
    })
    .await;

    let theirs = peers
        .official
        .get_persistent_subscription_info(name.as_str(), group, &Default::default())
        .await
        .expect("official info");
    assert_eq!(theirs.status, "Live");
    let s = &theirs.stats;
    assert_eq!(s.total_items, 3);
    assert_eq!(
        (
            s.read_buffer_count,
            s.live_buffer_count,
            s.retry_buffer_count
        ),
        (2, 0, 0)
    );
    assert_eq!(
        (s.total_in_flight_messages, s.outstanding_messages_count),
        (2, 2)
    );
    assert_eq!(s.parked_message_count, 1);
    assert_eq!(s.last_known_event_revision, Some(4));
    assert_eq!(s.last_checkpointed_event_revision, None);
    let c = &theirs.connections[0];
    assert_eq!(
        (c.total_items, c.in_flight_messages, c.available_slots),
        (3, 2, 0)
    );
    assert_eq!(c.username, "anonymous");
    assert!(c.extra_statistics.get("Highest").is_some(), "{c:?}");
    // The same figures through the list, and through our client.
    let listed = peers
        .official
        .list_persistent_subscriptions_for_stream(name.as_str(), &Default::default())
        .await
        .expect("official list");
    assert_eq!(listed[0].stats.read_buffer_count, 2);
    assert_eq!(listed[0].stats.parked_message_count, 1);
    let ours = peers
        .ours
        .get_subscription_info(group, Some(&name), &Default::default())
        .await
        .unwrap();
    assert_eq!(ours.total_items, 3);
    assert_eq!(ours.read_buffer_count, 2);
    assert_eq!(ours.last_known_event_position, "4");

    // A live `$all` group with no consumer: the outbox pattern's
    // `live_buffer_count`, and `$all` positions read as positions.
    peers
        .official
        .create_persistent_subscription_to_all(
            group,
            &kurrentdb::PersistentSubscriptionToAllOptions::default()
                .start_from(StreamPosition::End),
        )
        .await
        .expect("create to $all succeeds");
    wait_for_info(&peers, group, None, |i| i.status == "Live").await;
    let outbox = stream("outbox");
    peers
        .ours
        .append_to_stream(
            &outbox,
            StreamState::NoStream,
            (0..3).map(|n| json_event("Sent", n)),
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    let last = peers.our_read(&outbox).await[2].commit_position.unwrap();
    wait_for_info(&peers, group, None, |i| i.live_buffer_count == 3).await;
    let theirs = peers
        .official
        .get_persistent_subscription_info_to_all(group, &Default::default())
        .await
        .expect("official info to $all");
    assert_eq!(theirs.status, "Live");
    assert_eq!(
        (
            theirs.stats.live_buffer_count,
            theirs.stats.read_buffer_count
        ),
        (3, 3)
    );
    assert_eq!(
        theirs.stats.last_known_position,
        Some(Position {
            commit: last,
            prepare: last
        })
    );
}

// ----------------------------------------------------------------------------
// Server info
// ----------------------------------------------------------------------------

#[tokio::test]
async fn official_client_reads_the_server_version() {
    let peers = Peers::start().await;
    // Any call makes the official client discover the node and its features.
    peers
        .official
        .append_to_stream(
            stream("info").as_str(),
            &Default::default(),
            official_json_event("E", 0),
        )
        .await
        .unwrap();
    let info = peers.official.server_info().await.expect("server info");
    let version = info.version();
    assert!(
        version.major() >= 20,
        "the official client read the server's version: {version:?}"
    );
    peers.server.shutdown().await;
}
