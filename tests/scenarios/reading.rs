//! Reading: `read_stream` / `get_stream` options, `read_all` with its
//! positions and filters, resolved links, and `get_commit_position`.

use kurrentdbclient::options::*;
use kurrentdbclient::{Error, NewEvent, RecordedEvent, StreamMetadata, StreamState};
use std::time::Duration;

use super::{create_stream, event, next_event, positions, types};
use crate::common::harness::{ClientUnderTest, TestSubscription};
use crate::common::unique;

/// Forwards, from a position (included), backwards, limit, and both.
pub async fn read_stream_options<C: ClientUnderTest>(client: &C) {
    let stream = unique("read");
    create_stream(
        client,
        &stream,
        vec![event("E1", "1"), event("E2", "2"), event("E3", "3")],
    )
    .await;
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
        .unwrap()
        .commit_position;
    let p2 = client
        .append_to_stream(
            &s2,
            StreamState::NoStream,
            vec![NewEvent::new(t("B"), "{}")],
            &opts,
        )
        .await
        .unwrap()
        .commit_position;
    let p3 = client
        .append_to_stream(
            &s1,
            StreamState::Version(0),
            vec![NewEvent::new(t("C"), "{}")],
            &opts,
        )
        .await
        .unwrap()
        .commit_position;
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
        .unwrap()
        .commit_position;
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

/// The default secondary indexes, `$idx-ce-<category>` and
/// `$idx-et-<event type>`: exactly the events of the category or type, in
/// commit order, under their own stream names and revisions, never a system
/// event; read from any position in both directions, subscribed to (catch-up
/// then live), and with the name given with or without its `$idx-` prefix.
/// An index the node does not have is `NotFound`; an index combined with
/// other prefixes is refused.
pub async fn secondary_indexes_hold_a_category_or_type_in_commit_order<C: ClientUnderTest>(
    client: &C,
) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (category, placed) = (format!("Order{tag}"), format!("Placed{tag}"));
    let stream = |n: &str| format!("{category}-{n}");
    let append = |stream: String, events: Vec<NewEvent>| async move {
        client
            .append_to_stream(&stream, StreamState::Any, events, &Default::default())
            .await
            .unwrap()
    };
    append(
        stream("a"),
        vec![event(&placed, "{}"), event("Shipped", "{}")],
    )
    .await;
    append(format!("Other{tag}-b"), vec![event(&placed, "{}")]).await;
    // Metadata is a system event of a system stream: never indexed.
    client
        .set_stream_metadata(
            &stream("a"),
            &StreamMetadata::default().with_max_count(10),
            StreamState::Any,
            &Default::default(),
        )
        .await
        .unwrap();
    append(stream("c"), vec![event(&placed, "{}")]).await;

    let read = |name: String, options: ReadIndexOptions| async move {
        client.read_index(&name, &options).await.unwrap()
    };
    let by_category = read(format!("ce-{category}"), ReadIndexOptions::default()).await;
    let summary = |events: &[RecordedEvent]| -> Vec<(String, u64, String)> {
        events
            .iter()
            .map(|e| (e.stream_name.clone(), e.stream_position, e.r#type.clone()))
            .collect()
    };
    assert_eq!(
        summary(&by_category),
        [
            (stream("a"), 0, placed.clone()),
            (stream("a"), 1, "Shipped".to_owned()),
            (stream("c"), 0, placed.clone()),
        ]
    );
    let commits: Vec<u64> = by_category
        .iter()
        .map(|e| e.commit_position.unwrap())
        .collect();
    assert!(commits.windows(2).all(|w| w[0] < w[1]), "{commits:?}");
    let by_type = read(format!("$idx-et-{placed}"), ReadIndexOptions::default()).await;
    assert_eq!(
        by_type
            .iter()
            .map(|e| e.stream_name.clone())
            .collect::<Vec<_>>(),
        [stream("a"), format!("Other{tag}-b"), stream("c")]
    );

    // From a position (included forwards and backwards; any position will
    // do), backwards, and with a limit.
    let from = |p: u64| ReadIndexOptions::default().commit_position(p);
    let ce = format!("ce-{category}");
    assert_eq!(read(ce.clone(), from(commits[1])).await.len(), 2);
    assert_eq!(read(ce.clone(), from(commits[1] + 1)).await.len(), 1);
    let backwards = read(ce.clone(), from(commits[1]).backwards(true)).await;
    assert_eq!(
        summary(&backwards),
        summary(&by_category[..2])
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
    );
    let newest = read(
        ce.clone(),
        ReadIndexOptions::default().backwards(true).limit(1),
    )
    .await;
    assert_eq!(summary(&newest), summary(&by_category[2..]));
    assert_eq!(
        read(ce.clone(), ReadIndexOptions::default().limit(1))
            .await
            .len(),
        1
    );
    assert!(
        read(format!("ce-Nothing{tag}"), ReadIndexOptions::default())
            .await
            .is_empty()
    );

    // A subscription after a position, catching up, then live.
    let mut sub = client
        .subscribe_to_index(
            &ce,
            &SubscribeToIndexOptions::default().commit_position(commits[0]),
        )
        .await
        .unwrap();
    for expected in &by_category[1..] {
        assert_eq!(next_event(&mut sub).await.id, expected.id);
    }
    append(format!("Other{tag}-d"), vec![event(&placed, "{}")]).await;
    let live = append(stream("e"), vec![event("Returned", "{}")]).await;
    let got = next_event(&mut sub).await;
    assert_eq!(
        (got.stream_name.as_str(), got.stream_position),
        (stream("e").as_str(), 0)
    );
    assert_eq!(got.commit_position, Some(live.commit_position));
    sub.stop();

    match client
        .read_index("user-by-country", &ReadIndexOptions::default())
        .await
    {
        Err(Error::NotFound { what }) => assert_eq!(what, "index $idx-user-by-country"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let combined = client
        .read_all(
            &ReadAllOptions::default()
                .filter_by_stream_name(true)
                .filter_by_prefix(true)
                .filter_include(vec![format!("$idx-{ce}"), "Order".to_owned()]),
        )
        .await;
    assert!(
        matches!(combined, Err(Error::InvalidArgument(_))),
        "{combined:?}"
    );
}
