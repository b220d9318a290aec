//! v1 `Streams` through the generated stubs: appends, reads, deletes, metadata,
//! limits and malformed requests.
mod common;

use bytes::Bytes;
use common::*;
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::{
    AppendReq, DeleteReq, TombstoneReq, append_req, append_resp, delete_req, read_req, read_resp,
    tombstone_req,
};
use tonic::Code;

#[tokio::test]
async fn append_with_each_expected_revision() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let (rev, p0) = append_ok(&mut c, "s1", no_stream(), vec![event("A", b"{}")]).await;
    assert_eq!(rev, 0);
    let (rev, p1) = append_ok(
        &mut c,
        "s1",
        exact(0),
        vec![event("B", b"{}"), event("C", b"{}")],
    )
    .await;
    assert_eq!(rev, 2);
    assert!(p1 > p0);
    let (rev, _) = append_ok(&mut c, "s1", exists(), vec![event("D", b"{}")]).await;
    assert_eq!(rev, 3);
    let (rev, p3) = append_ok(&mut c, "s1", any(), vec![event("E", b"{}")]).await;
    assert_eq!(rev, 4);
    // The returned position is the last event's position in $all.
    let mut o = read_options();
    o.stream_option = Some(all_options(all_end()));
    o.read_direction = read_req::options::ReadDirection::Backwards as i32;
    o.count_option = Some(read_req::options::CountOption::Count(1));
    let last = events(&read(&mut c, o).await.unwrap());
    assert_eq!(last[0].event.as_ref().unwrap().commit_position, p3);
}

#[tokio::test]
async fn wrong_expected_version_is_in_band() {
    use append_resp::wrong_expected_version::{CurrentRevisionOption, ExpectedRevisionOption};
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    // Exact revision on a missing stream: current_no_stream.
    let resp = append(&mut c, "w", exact(3), vec![event("A", b"{}")])
        .await
        .unwrap();
    let Some(append_resp::Result::WrongExpectedVersion(w)) = resp.result else {
        panic!("expected wrong_expected_version, got {resp:?}")
    };
    assert_eq!(
        w.current_revision_option,
        Some(CurrentRevisionOption::CurrentNoStream(Empty {}))
    );
    assert_eq!(
        w.expected_revision_option,
        Some(ExpectedRevisionOption::ExpectedRevision(3))
    );
    // Stream exists on a missing stream.
    let resp = append(&mut c, "w", exists(), vec![event("A", b"{}")])
        .await
        .unwrap();
    assert!(matches!(
        resp.result,
        Some(append_resp::Result::WrongExpectedVersion(_))
    ));

    append_ok(
        &mut c,
        "w",
        no_stream(),
        vec![event("A", b"{}"), event("B", b"{}")],
    )
    .await;
    let resp = append(&mut c, "w", no_stream(), vec![event("C", b"{}")])
        .await
        .unwrap();
    let Some(append_resp::Result::WrongExpectedVersion(w)) = resp.result else {
        panic!()
    };
    assert_eq!(
        w.current_revision_option,
        Some(CurrentRevisionOption::CurrentRevision(1))
    );
    assert_eq!(
        w.expected_revision_option,
        Some(ExpectedRevisionOption::ExpectedNoStream(Empty {}))
    );
    let resp = append(&mut c, "w", exact(0), vec![event("C", b"{}")])
        .await
        .unwrap();
    let Some(append_resp::Result::WrongExpectedVersion(w)) = resp.result else {
        panic!()
    };
    assert_eq!(
        w.current_revision_option,
        Some(CurrentRevisionOption::CurrentRevision(1))
    );
    // Nothing was written by the failed appends.
    assert_eq!(events(&read_stream(&mut c, "w").await.unwrap()).len(), 2);
}

#[tokio::test]
async fn retried_appends_are_idempotent() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let ids: Vec<_> = (0..3).map(|_| uuid::Uuid::new_v4()).collect();
    let batch = || {
        ids.iter()
            .map(|id| event_with_id(*id, "T", b"{}"))
            .collect::<Vec<_>>()
    };
    let first = append_ok(&mut c, "idem", no_stream(), batch()).await;
    let again = append_ok(&mut c, "idem", no_stream(), batch()).await;
    assert_eq!(first, again);
    append_ok(&mut c, "idem", exact(2), vec![event("X", b"{}")]).await;
    // Same ids and same expected revision, after more writes: still idempotent.
    let again = append_ok(&mut c, "idem", no_stream(), batch()).await;
    assert_eq!(first, again);
    // With expected revision "any".
    let id = uuid::Uuid::new_v4();
    let a = append_ok(&mut c, "idem", any(), vec![event_with_id(id, "Y", b"{}")]).await;
    let b = append_ok(&mut c, "idem", any(), vec![event_with_id(id, "Y", b"{}")]).await;
    assert_eq!(a, b);
    assert_eq!(events(&read_stream(&mut c, "idem").await.unwrap()).len(), 5);
}

#[tokio::test]
async fn reads_a_stream_in_every_direction() {
    use read_req::options::stream_options::RevisionOption;
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let evs = (0..5)
        .map(|i| event("T", format!("{{\"i\":{i}}}").as_bytes()))
        .collect();
    append_ok(&mut c, "r", no_stream(), evs).await;
    let all = events(&read_stream(&mut c, "r").await.unwrap());
    assert_eq!(
        all.iter()
            .map(|e| e.event.as_ref().unwrap().stream_revision)
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    let e0 = all[0].event.as_ref().unwrap();
    assert_eq!(event_type(e0), "T");
    assert_eq!(e0.metadata.get("content-type").unwrap(), "application/json");
    assert!(e0.metadata.get("created").unwrap().parse::<i64>().unwrap() > 0);
    assert_eq!(&e0.custom_metadata[..], b"{\"m\":1}");
    assert_eq!(&e0.data[..], b"{\"i\":0}");
    assert!(
        matches!(all[0].position, Some(read_resp::read_event::Position::CommitPosition(p)) if p == e0.commit_position)
    );

    // Forwards from a revision (inclusive), with a count.
    let mut o = read_options();
    o.stream_option = Some(stream_options("r", RevisionOption::Revision(2)));
    o.count_option = Some(read_req::options::CountOption::Count(2));
    let revs: Vec<u64> = events(&read(&mut c, o).await.unwrap())
        .iter()
        .map(|e| e.event.as_ref().unwrap().stream_revision)
        .collect();
    assert_eq!(revs, vec![2, 3]);
    // Backwards from the end.
    let mut o = read_options();
    o.stream_option = Some(stream_options("r", end()));
    o.read_direction = read_req::options::ReadDirection::Backwards as i32;
    let revs: Vec<u64> = events(&read(&mut c, o).await.unwrap())
        .iter()
        .map(|e| e.event.as_ref().unwrap().stream_revision)
        .collect();
    assert_eq!(revs, vec![4, 3, 2, 1, 0]);
    // Backwards from a revision (inclusive).
    let mut o = read_options();
    o.stream_option = Some(stream_options("r", RevisionOption::Revision(2)));
    o.read_direction = read_req::options::ReadDirection::Backwards as i32;
    let revs: Vec<u64> = events(&read(&mut c, o).await.unwrap())
        .iter()
        .map(|e| e.event.as_ref().unwrap().stream_revision)
        .collect();
    assert_eq!(revs, vec![2, 1, 0]);
    // Structured ids when asked for.
    let mut o = read_options();
    o.stream_option = Some(stream_options("r", start()));
    o.uuid_option = Some(read_req::options::UuidOption {
        content: Some(read_req::options::uuid_option::Content::Structured(
            Empty {},
        )),
    });
    let e = events(&read(&mut c, o).await.unwrap());
    assert!(matches!(
        e[0].event.as_ref().unwrap().id.as_ref().unwrap().value,
        Some(kurrentdbclient::proto::shared::uuid::Value::Structured(_))
    ));
}

#[tokio::test]
async fn stream_not_found_is_in_band_and_positions_need_compatibility() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let resps = read_stream(&mut c, "missing").await.unwrap();
    assert!(is_not_found(&resps), "{resps:?}");
    append_ok(
        &mut c,
        "p",
        no_stream(),
        vec![event("A", b"{}"), event("B", b"{}")],
    )
    .await;
    // Without control option: only events.
    assert_eq!(read_stream(&mut c, "p").await.unwrap().len(), 2);
    let mut o = read_options();
    o.stream_option = Some(stream_options("p", start()));
    o.control_option = Some(read_req::options::ControlOption { compatibility: 1 });
    let resps = read(&mut c, o).await.unwrap();
    assert_eq!(resps.len(), 3);
    assert!(matches!(
        resps[2].content,
        Some(read_resp::Content::LastStreamPosition(1))
    ));
    let mut o = read_options();
    o.stream_option = Some(all_options(all_start()));
    o.control_option = Some(read_req::options::ControlOption { compatibility: 1 });
    let resps = read(&mut c, o).await.unwrap();
    assert!(matches!(
        resps.last().unwrap().content,
        Some(read_resp::Content::LastAllStreamPosition(_))
    ));
}

#[tokio::test]
async fn reads_all_forwards_backwards_and_from_positions() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let (_, p_a) = append_ok(&mut c, "a", no_stream(), vec![event("A", b"{}")]).await;
    let (_, p_b) = append_ok(
        &mut c,
        "b",
        no_stream(),
        vec![event("B1", b"{}"), event("B2", b"{}")],
    )
    .await;
    let mut o = read_options();
    o.stream_option = Some(all_options(all_start()));
    let all = user_events(&read(&mut c, o).await.unwrap());
    assert_eq!(all.len(), 3);
    let positions: Vec<u64> = all
        .iter()
        .map(|e| e.event.as_ref().unwrap().commit_position)
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert!(
        positions.windows(2).all(|w| w[1] - w[0] > 1),
        "positions are byte-offset-like"
    );
    assert_eq!(positions[0], p_a);
    assert_eq!(positions[2], p_b);
    // Forwards from a position includes it.
    let mut o = read_options();
    o.stream_option = Some(all_options(all_at(positions[1])));
    let evs = user_events(&read(&mut c, o).await.unwrap());
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].event.as_ref().unwrap().commit_position, positions[1]);
    // Backwards from a position excludes it.
    let mut o = read_options();
    o.stream_option = Some(all_options(all_at(positions[1])));
    o.read_direction = read_req::options::ReadDirection::Backwards as i32;
    let evs = user_events(&read(&mut c, o).await.unwrap());
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].event.as_ref().unwrap().commit_position, positions[0]);
    // A position that is not a record's: Unknown "...InvalidPosition".
    let mut o = read_options();
    o.stream_option = Some(all_options(all_at(positions[0] + 1)));
    let err = read(&mut c, o).await.unwrap_err();
    assert_eq!(err.code(), Code::Unknown);
    assert_eq!(err.message(), "Unexpected ReadAllResult: InvalidPosition");
}

#[tokio::test]
async fn filters_all_by_stream_name_and_event_type() {
    use read_req::options::filter_options::{Expression, Filter, Window};
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    append_ok(&mut c, "order-1", any(), vec![event("Placed", b"{}")]).await;
    append_ok(&mut c, "user-1", any(), vec![event("Registered", b"{}")]).await;
    append_ok(&mut c, "order-2", any(), vec![event("Shipped", b"{}")]).await;
    let run = |filter: Filter| {
        let mut o = read_options();
        o.stream_option = Some(all_options(all_start()));
        o.filter_option = Some(read_req::options::FilterOption::Filter(
            read_req::options::FilterOptions {
                filter: Some(filter),
                window: Some(Window::Max(32)),
                checkpoint_interval_multiplier: 1,
            },
        ));
        o
    };
    let by_prefix = run(Filter::StreamIdentifier(Expression {
        regex: String::new(),
        prefix: vec!["order-".into()],
    }));
    assert_eq!(events(&read(&mut c, by_prefix).await.unwrap()).len(), 2);
    let by_regex = run(Filter::EventType(Expression {
        regex: "^(Registered|Shipped)$".into(),
        prefix: vec![],
    }));
    let evs = events(&read(&mut c, by_regex).await.unwrap());
    assert_eq!(
        evs.iter()
            .map(|e| event_type(e.event.as_ref().unwrap()).to_owned())
            .collect::<Vec<_>>(),
        vec!["Registered", "Shipped"]
    );
    // Filtered read from an invalid position names the filtered result.
    let mut bad = run(Filter::EventType(Expression {
        regex: "x".into(),
        prefix: vec![],
    }));
    bad.stream_option = Some(all_options(all_at(1)));
    let err = read(&mut c, bad).await.unwrap_err();
    assert_eq!(
        err.message(),
        "Unexpected FilteredReadAllResult: InvalidPosition"
    );
}

#[tokio::test]
async fn resolves_links() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    append_ok(
        &mut c,
        "target",
        no_stream(),
        vec![event("T", b"{\"x\":1}")],
    )
    .await;
    let mut link = event("$>", b"0@target");
    link.metadata
        .insert("content-type".into(), "application/octet-stream".into());
    append_ok(
        &mut c,
        "links",
        no_stream(),
        vec![link, event("$>", b"5@nowhere")],
    )
    .await;
    let mut o = read_options();
    o.stream_option = Some(stream_options("links", start()));
    o.resolve_links = true;
    let evs = events(&read(&mut c, o).await.unwrap());
    assert_eq!(evs.len(), 2);
    let resolved = &evs[0];
    assert_eq!(&resolved.event.as_ref().unwrap().data[..], b"{\"x\":1}");
    assert_eq!(&resolved.link.as_ref().unwrap().data[..], b"0@target");
    assert_eq!(
        resolved.link.as_ref().unwrap().metadata["content-type"],
        "application/octet-stream"
    );
    // An unresolvable link: no event, the link only.
    assert!(evs[1].event.is_none());
    assert!(evs[1].link.is_some());
    // Without resolving: the link events themselves.
    let evs = events(&read_stream(&mut c, "links").await.unwrap());
    assert_eq!(event_type(evs[0].event.as_ref().unwrap()), "$>");
    assert!(evs[0].link.is_none());
}

fn delete_req(stream: &str, expected: delete_req::options::ExpectedStreamRevision) -> DeleteReq {
    DeleteReq {
        options: Some(delete_req::Options {
            stream_identifier: sid(stream),
            expected_stream_revision: Some(expected),
        }),
    }
}

fn tombstone_req(
    stream: &str,
    expected: tombstone_req::options::ExpectedStreamRevision,
) -> TombstoneReq {
    TombstoneReq {
        options: Some(tombstone_req::Options {
            stream_identifier: sid(stream),
            expected_stream_revision: Some(expected),
        }),
    }
}

#[tokio::test]
async fn soft_delete_hides_the_stream_and_revisions_continue() {
    use delete_req::options::ExpectedStreamRevision as D;
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    append_ok(
        &mut c,
        "soft",
        no_stream(),
        vec![event("A", b"{}"), event("B", b"{}"), event("C", b"{}")],
    )
    .await;
    // Wrong expected version: FAILED_PRECONDITION with the parseable message.
    let err = c
        .delete(delete_req("soft", D::Revision(1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().ends_with(
            "WrongExpectedVersion. Stream: soft, Expected version: 1, Actual version: 2"
        ),
        "{}",
        err.message()
    );
    assert_eq!(trailer(&err, "exception"), Some("wrong-expected-version"));
    assert_eq!(trailer(&err, "stream-name"), Some("soft"));
    assert_eq!(trailer(&err, "actual-version"), Some("2"));
    // A missing stream with an exact expected revision: actual version -1.
    let err = c
        .delete(delete_req("nothing", D::Revision(0)))
        .await
        .unwrap_err();
    assert!(
        err.message().ends_with("Actual version: -1"),
        "{}",
        err.message()
    );

    let resp = c
        .delete(delete_req("soft", D::Revision(2)))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.position_option.is_some());
    assert!(is_not_found(&read_stream(&mut c, "soft").await.unwrap()));
    // The metadata shows $tb = i64::MAX.
    let meta = events(&read_stream(&mut c, "$$soft").await.unwrap());
    let last = meta.last().unwrap().event.as_ref().unwrap();
    assert_eq!(event_type(last), "$metadata");
    let json: serde_json::Value = serde_json::from_slice(&last.data).unwrap();
    assert_eq!(json["$tb"], serde_json::json!(i64::MAX));
    // Recreate with expected no stream: revisions continue from 3.
    let (rev, _) = append_ok(&mut c, "soft", no_stream(), vec![event("D", b"{}")]).await;
    assert_eq!(rev, 3);
    let evs = events(&read_stream(&mut c, "soft").await.unwrap());
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].event.as_ref().unwrap().stream_revision, 3);
    let meta = events(&read_stream(&mut c, "$$soft").await.unwrap());
    let json: serde_json::Value =
        serde_json::from_slice(&meta.last().unwrap().event.as_ref().unwrap().data).unwrap();
    assert_eq!(json["$tb"], serde_json::json!(3));
    // $all still has every event.
    let mut o = read_options();
    o.stream_option = Some(all_options(all_start()));
    let in_all = events(&read(&mut c, o).await.unwrap())
        .into_iter()
        .filter(|e| {
            &e.event
                .as_ref()
                .unwrap()
                .stream_identifier
                .as_ref()
                .unwrap()
                .stream_name[..]
                == b"soft"
        })
        .count();
    assert_eq!(in_all, 4);
}

#[tokio::test]
async fn tombstone_fails_everything_afterwards() {
    use tombstone_req::options::ExpectedStreamRevision as T;
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    append_ok(&mut c, "hard", no_stream(), vec![event("A", b"{}")]).await;
    let err = c
        .tombstone(tombstone_req("hard", T::Revision(5)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("WrongExpectedVersion"));
    c.tombstone(tombstone_req("hard", T::Any(Empty {})))
        .await
        .unwrap();
    let check = |err: tonic::Status| {
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert_eq!(err.message(), "Event stream 'hard' is deleted.");
        assert_eq!(trailer(&err, "exception"), Some("stream-deleted"));
        assert_eq!(trailer(&err, "stream-name"), Some("hard"));
    };
    check(
        append(&mut c, "hard", any(), vec![event("B", b"{}")])
            .await
            .unwrap_err(),
    );
    check(read_stream(&mut c, "hard").await.unwrap_err());
    check(
        c.delete(delete_req(
            "hard",
            delete_req::options::ExpectedStreamRevision::Any(Empty {}),
        ))
        .await
        .unwrap_err(),
    );
    check(
        c.tombstone(tombstone_req("hard", T::Any(Empty {})))
            .await
            .unwrap_err(),
    );
    // Its metadata stream cannot be written either.
    let err = append(&mut c, "$$hard", any(), vec![event("$metadata", b"{}")])
        .await
        .unwrap_err();
    assert_eq!(trailer(&err, "exception"), Some("stream-deleted"));
    // A missing stream can be tombstoned too.
    c.tombstone(tombstone_req("never", T::NoStream(Empty {})))
        .await
        .unwrap();
    check_named(
        append(&mut c, "never", no_stream(), vec![event("B", b"{}")])
            .await
            .unwrap_err(),
        "never",
    );
}

fn check_named(err: tonic::Status, stream: &str) {
    assert_eq!(trailer(&err, "exception"), Some("stream-deleted"));
    assert_eq!(trailer(&err, "stream-name"), Some(stream));
}

#[tokio::test]
async fn stream_metadata_is_honoured_by_reads() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let evs = (0..5).map(|_| event("T", b"{}")).collect();
    append_ok(&mut c, "m", no_stream(), evs).await;
    let set_meta = |json: &str| vec![event("$metadata", json.as_bytes())];
    append_ok(
        &mut c,
        "$$m",
        any(),
        set_meta(r#"{"$maxCount":2,"$cacheControl":10,"$acl":{"$r":"$all"}}"#),
    )
    .await;
    let revs: Vec<u64> = events(&read_stream(&mut c, "m").await.unwrap())
        .iter()
        .map(|e| e.event.as_ref().unwrap().stream_revision)
        .collect();
    assert_eq!(revs, vec![3, 4]);
    append_ok(&mut c, "$$m", any(), set_meta(r#"{"$tb":4}"#)).await;
    let revs: Vec<u64> = events(&read_stream(&mut c, "m").await.unwrap())
        .iter()
        .map(|e| e.event.as_ref().unwrap().stream_revision)
        .collect();
    assert_eq!(revs, vec![4]);
    append_ok(&mut c, "$$m", any(), set_meta(r#"{"$maxAge":1}"#)).await;
    // Older than a second: hidden. The new event is shown if the read
    // comes within a second of its append (a busy machine may take longer,
    // and then it is hidden too).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let appended = std::time::Instant::now();
    append_ok(&mut c, "m", any(), vec![event("T", b"{}")]).await;
    let revs: Vec<u64> = events(&read_stream(&mut c, "m").await.unwrap())
        .iter()
        .map(|e| e.event.as_ref().unwrap().stream_revision)
        .collect();
    if appended.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!(revs, vec![5]);
    } else {
        assert!(revs.is_empty() || revs == vec![5], "{revs:?}");
    }
    // Expected "stream exists" holds for a stream with only metadata.
    append_ok(&mut c, "$$only-meta", any(), set_meta("{}")).await;
    append_ok(&mut c, "only-meta", exists(), vec![event("T", b"{}")]).await;
}

#[tokio::test]
async fn append_over_the_maximum_size_fails_and_writes_nothing() {
    let server =
        kurrentdb_embedded::EmbeddedServer::start_with(kurrentdb_embedded::ServerOptions {
            max_append_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let channel = tonic::transport::Channel::from_shared(server.uri())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut c = Client::new(channel);
    let err = append(
        &mut c,
        "big",
        any(),
        vec![event("T", &[b'x'; 600]), event("T", &[b'x'; 600])],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(err.message(), "Maximum Append Size of 1000 Exceeded.");
    assert_eq!(
        trailer(&err, "exception"),
        Some("maximum-append-size-exceeded")
    );
    assert_eq!(trailer(&err, "maximum-append-size"), Some("1000"));
    assert!(is_not_found(&read_stream(&mut c, "big").await.unwrap()));
}

#[tokio::test]
async fn malformed_requests_are_refused_without_writing() {
    let (server, channel) = server().await;
    let start_len = server.store().log_len();
    let mut c = Client::new(channel);
    // No options first.
    let reqs = vec![AppendReq {
        content: Some(append_req::Content::ProposedMessage(event("T", b"{}"))),
    }];
    let err = c.append(futures::stream::iter(reqs)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unknown);
    assert_eq!(err.message(), "Exception was thrown by handler.");
    // No expected revision.
    let reqs = vec![AppendReq {
        content: Some(append_req::Content::Options(append_req::Options {
            stream_identifier: sid("x"),
            expected_stream_revision: None,
        })),
    }];
    assert_eq!(
        c.append(futures::stream::iter(reqs))
            .await
            .unwrap_err()
            .code(),
        Code::Unknown
    );
    // Bad UUID.
    let mut bad = event("T", b"{}");
    bad.id = puuid_str("not-a-uuid");
    assert_eq!(
        append(&mut c, "x", any(), vec![bad])
            .await
            .unwrap_err()
            .code(),
        Code::Unknown
    );
    // Missing type.
    let mut untyped = event("T", b"{}");
    untyped.metadata.remove("type");
    let err = append(&mut c, "x", any(), vec![untyped]).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        trailer(&err, "exception"),
        Some("missing-required-metadata-property")
    );
    // Empty stream name.
    let err = append(&mut c, "", any(), vec![event("T", b"{}")])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // Read without options.
    let err = c
        .read(kurrentdbclient::proto::streams::ReadReq { options: None })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unknown);
    let mut o = read_options();
    o.stream_option = None;
    assert_eq!(read(&mut c, o).await.unwrap_err().code(), Code::Unknown);
    assert_eq!(server.store().log_len(), start_len, "nothing written");
}

fn puuid_str(s: &str) -> Option<kurrentdbclient::proto::shared::Uuid> {
    Some(kurrentdbclient::proto::shared::Uuid {
        value: Some(kurrentdbclient::proto::shared::uuid::Value::String(
            s.to_owned(),
        )),
    })
}

#[tokio::test]
async fn server_features_and_gossip() {
    use kurrentdbclient::proto::gossip::gossip_client::GossipClient;
    use kurrentdbclient::proto::gossip::member_info::VNodeState;
    use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
    let (server, channel) = server().await;
    let features = ServerFeaturesClient::new(channel.clone())
        .get_supported_methods(Empty {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(features.event_store_server_version, "25.1.0");
    assert!(
        features
            .methods
            .iter()
            .any(|m| m.method_name == "batchappend"
                && m.service_name == "event_store.client.streams.streams")
    );
    assert!(
        features
            .methods
            .iter()
            .any(|m| m.method_name == "appendsession")
    );
    let info = GossipClient::new(channel)
        .read(Empty {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.members.len(), 1);
    let m = &info.members[0];
    assert_eq!(m.state, VNodeState::Leader as i32);
    assert!(m.is_alive);
    let ep = m.http_end_point.as_ref().unwrap();
    assert_eq!(ep.address, "127.0.0.1");
    assert_eq!(ep.port, u32::from(server.addr().port()));
}

#[tokio::test]
async fn batch_append_results_per_correlation_id() {
    use kurrentdbclient::proto::shared::wrong_expected_version::CurrentStreamRevisionOption;
    use kurrentdbclient::proto::streams::{BatchAppendReq, batch_append_req, batch_append_resp};
    use prost::Message;
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let msg = |data: &[u8]| {
        let e = event("T", data);
        batch_append_req::ProposedMessage {
            id: e.id,
            metadata: e.metadata,
            custom_metadata: e.custom_metadata,
            data: e.data,
        }
    };
    let opts = |stream: &str, expected: batch_append_req::options::ExpectedStreamPosition| {
        batch_append_req::Options {
            stream_identifier: sid(stream),
            expected_stream_position: Some(expected),
            deadline_option: None,
        }
    };
    let (c1, c2, c3) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    use batch_append_req::options::ExpectedStreamPosition as E;
    let reqs = vec![
        // Batch 1 in two chunks.
        BatchAppendReq {
            correlation_id: puuid(c1),
            options: Some(opts("ba", E::NoStream(()))),
            proposed_messages: vec![msg(b"1"), msg(b"2")],
            is_final: false,
        },
        // Batch 2: wrong expected version.
        BatchAppendReq {
            correlation_id: puuid(c2),
            options: Some(opts("ba2", E::StreamPosition(7))),
            proposed_messages: vec![msg(b"x")],
            is_final: true,
        },
        BatchAppendReq {
            correlation_id: puuid(c1),
            options: None,
            proposed_messages: vec![msg(b"3")],
            is_final: true,
        },
        BatchAppendReq {
            correlation_id: puuid(c3),
            options: Some(opts("ba", E::StreamPosition(2))),
            proposed_messages: vec![msg(b"4")],
            is_final: true,
        },
    ];
    let mut responses = c
        .batch_append(futures::stream::iter(reqs))
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(r) = responses.message().await.unwrap() {
        got.push(r);
    }
    assert_eq!(got.len(), 3);
    let id_of = |r: &kurrentdbclient::proto::streams::BatchAppendResp| match r
        .correlation_id
        .as_ref()
        .unwrap()
        .value
        .as_ref()
        .unwrap()
    {
        kurrentdbclient::proto::shared::uuid::Value::String(s) => uuid::Uuid::parse_str(s).unwrap(),
        _ => panic!(),
    };
    let r2 = got.iter().find(|r| id_of(r) == c2).unwrap();
    let Some(batch_append_resp::Result::Error(status)) = &r2.result else {
        panic!("{r2:?}")
    };
    assert_eq!(status.code, Code::FailedPrecondition as i32);
    let detail = &status.details[0];
    assert_eq!(
        detail.type_url,
        "type.googleapis.com/event_store.client.WrongExpectedVersion"
    );
    let wev =
        kurrentdbclient::proto::shared::WrongExpectedVersion::decode(&detail.value[..]).unwrap();
    assert!(matches!(
        wev.current_stream_revision_option,
        Some(CurrentStreamRevisionOption::CurrentNoStream(()))
    ));
    let r1 = got.iter().find(|r| id_of(r) == c1).unwrap();
    let Some(batch_append_resp::Result::Success(s)) = &r1.result else {
        panic!("{r1:?}")
    };
    assert!(matches!(
        s.current_revision_option,
        Some(batch_append_resp::success::CurrentRevisionOption::CurrentRevision(2))
    ));
    assert_eq!(r1.stream_identifier, sid("ba"));
    let r3 = got.iter().find(|r| id_of(r) == c3).unwrap();
    assert!(matches!(
        r3.result,
        Some(batch_append_resp::Result::Success(_))
    ));
    let data: Vec<Bytes> = events(&read_stream(&mut c, "ba").await.unwrap())
        .into_iter()
        .map(|e| e.event.unwrap().data)
        .collect();
    assert_eq!(
        data,
        vec![
            Bytes::from_static(b"1"),
            Bytes::from_static(b"2"),
            Bytes::from_static(b"3"),
            Bytes::from_static(b"4")
        ]
    );
}

#[test]
fn blocking_start_from_a_plain_test() {
    let server = kurrentdb_embedded::EmbeddedServer::start_blocking().unwrap();
    assert!(
        server
            .connection_string()
            .starts_with("kurrentdb://127.0.0.1:")
    );
    assert!(server.connection_string().ends_with("?tls=false"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let channel = tonic::transport::Channel::from_shared(server.uri())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut c = Client::new(channel);
        append_ok(&mut c, "b", no_stream(), vec![event("T", b"{}")]).await;
    });
    drop(server);
}
