//! Catch-up subscriptions through `Read` with subscription options.
mod common;

use std::time::Duration;

use common::*;
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::{ReadReq, ReadResp, read_req, read_resp};
use tonic::Streaming;

async fn subscribe(c: &mut Client, mut o: read_req::Options) -> Streaming<ReadResp> {
    o.count_option = Some(read_req::options::CountOption::Subscription(
        read_req::options::SubscriptionOptions {},
    ));
    c.read(ReadReq { options: Some(o) })
        .await
        .expect("subscribes")
        .into_inner()
}

async fn next(s: &mut Streaming<ReadResp>) -> read_resp::Content {
    tokio::time::timeout(Duration::from_secs(5), s.message())
        .await
        .expect("a message in time")
        .expect("no error")
        .expect("not ended")
        .content
        .expect("content")
}

fn revision(c: &read_resp::Content) -> u64 {
    match c {
        read_resp::Content::Event(e) => e.event.as_ref().unwrap().stream_revision,
        other => panic!("not an event: {other:?}"),
    }
}

#[tokio::test]
async fn stream_subscription_catches_up_then_goes_live() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    append_ok(
        &mut c,
        "sub",
        no_stream(),
        vec![event("A", b"{}"), event("B", b"{}")],
    )
    .await;
    let mut o = read_options();
    o.stream_option = Some(stream_options("sub", start()));
    let mut s = subscribe(&mut c, o).await;
    let read_resp::Content::Confirmation(conf) = next(&mut s).await else {
        panic!("no confirmation")
    };
    assert!(!conf.subscription_id.is_empty());
    assert_eq!(revision(&next(&mut s).await), 0);
    assert_eq!(revision(&next(&mut s).await), 1);
    let read_resp::Content::CaughtUp(cu) = next(&mut s).await else {
        panic!("no caught up")
    };
    assert!(cu.timestamp.is_some());
    assert_eq!(cu.stream_revision, Some(1));
    append_ok(&mut c, "other", any(), vec![event("X", b"{}")]).await;
    append_ok(&mut c, "sub", exact(1), vec![event("C", b"{}")]).await;
    assert_eq!(revision(&next(&mut s).await), 2);

    // From a revision: exclusive. From the end: only new events.
    let mut o = read_options();
    o.stream_option = Some(stream_options(
        "sub",
        read_req::options::stream_options::RevisionOption::Revision(1),
    ));
    let mut from_rev = subscribe(&mut c, o).await;
    let mut o = read_options();
    o.stream_option = Some(stream_options("sub", end()));
    let mut from_end = subscribe(&mut c, o).await;
    assert!(matches!(
        next(&mut from_rev).await,
        read_resp::Content::Confirmation(_)
    ));
    assert_eq!(revision(&next(&mut from_rev).await), 2);
    assert!(matches!(
        next(&mut from_rev).await,
        read_resp::Content::CaughtUp(_)
    ));
    assert!(matches!(
        next(&mut from_end).await,
        read_resp::Content::Confirmation(_)
    ));
    assert!(matches!(
        next(&mut from_end).await,
        read_resp::Content::CaughtUp(_)
    ));
    append_ok(&mut c, "sub", any(), vec![event("D", b"{}")]).await;
    assert_eq!(revision(&next(&mut from_rev).await), 3);
    assert_eq!(revision(&next(&mut from_end).await), 3);
}

#[tokio::test]
async fn subscription_to_a_missing_stream_waits_for_it() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let mut o = read_options();
    o.stream_option = Some(stream_options("later", start()));
    let mut s = subscribe(&mut c, o).await;
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::Confirmation(_)
    ));
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::CaughtUp(_)
    ));
    append_ok(&mut c, "later", no_stream(), vec![event("A", b"{}")]).await;
    assert_eq!(revision(&next(&mut s).await), 0);
}

#[tokio::test]
async fn all_subscription_with_filter_sends_checkpoints() {
    use read_req::options::filter_options::{Expression, Filter, Window};
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    for i in 0..10 {
        append_ok(
            &mut c,
            &format!("noise-{i}"),
            any(),
            vec![event("Noise", b"{}")],
        )
        .await;
    }
    append_ok(&mut c, "wanted-1", any(), vec![event("Wanted", b"{}")]).await;
    let mut o = read_options();
    o.stream_option = Some(all_options(all_start()));
    o.filter_option = Some(read_req::options::FilterOption::Filter(
        read_req::options::FilterOptions {
            filter: Some(Filter::StreamIdentifier(Expression {
                regex: String::new(),
                prefix: vec!["wanted-".into()],
            })),
            window: Some(Window::Max(2)),
            checkpoint_interval_multiplier: 2,
        },
    ));
    let mut s = subscribe(&mut c, o).await;
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::Confirmation(_)
    ));
    let mut saw_event = false;
    let mut checkpoints = 0;
    loop {
        match next(&mut s).await {
            read_resp::Content::Event(e) => {
                assert_eq!(
                    &e.event.unwrap().stream_identifier.unwrap().stream_name[..],
                    b"wanted-1"
                );
                saw_event = true;
            }
            read_resp::Content::Checkpoint(cp) => {
                assert!(cp.commit_position > 0);
                checkpoints += 1;
            }
            read_resp::Content::CaughtUp(cu) => {
                assert!(cu.position.is_some());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(saw_event);
    assert!(checkpoints >= 1);
    // Live: 4 more unwanted records (interval 2 × 2) give a checkpoint.
    for i in 0..4 {
        append_ok(
            &mut c,
            &format!("noise-live-{i}"),
            any(),
            vec![event("Noise", b"{}")],
        )
        .await;
    }
    let live = next(&mut s).await;
    assert!(
        matches!(live, read_resp::Content::Checkpoint(_)),
        "{live:?}"
    );
    append_ok(&mut c, "wanted-2", any(), vec![event("Wanted", b"{}")]).await;
    loop {
        match next(&mut s).await {
            read_resp::Content::Event(e) => {
                assert_eq!(
                    &e.event.unwrap().stream_identifier.unwrap().stream_name[..],
                    b"wanted-2"
                );
                break;
            }
            read_resp::Content::Checkpoint(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn all_subscription_from_a_position_is_exclusive() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    let (_, p1) = append_ok(&mut c, "x", any(), vec![event("A", b"{}")]).await;
    append_ok(&mut c, "x", any(), vec![event("B", b"{}")]).await;
    let mut o = read_options();
    o.stream_option = Some(all_options(all_at(p1)));
    let mut s = subscribe(&mut c, o).await;
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::Confirmation(_)
    ));
    assert_eq!(revision(&next(&mut s).await), 1);
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::CaughtUp(_)
    ));
    // From the end: nothing old.
    let mut o = read_options();
    o.stream_option = Some(all_options(all_end()));
    let mut s = subscribe(&mut c, o).await;
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::Confirmation(_)
    ));
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::CaughtUp(_)
    ));
    append_ok(&mut c, "x", any(), vec![event("C", b"{}")]).await;
    assert_eq!(revision(&next(&mut s).await), 2);
    // From an invalid position: the read fails.
    let mut o = read_options();
    o.stream_option = Some(all_options(all_at(p1 + 3)));
    o.count_option = Some(read_req::options::CountOption::Subscription(
        read_req::options::SubscriptionOptions {},
    ));
    let err = match c.read(ReadReq { options: Some(o) }).await {
        Err(e) => e,
        Ok(r) => r.into_inner().message().await.unwrap_err(),
    };
    assert!(err.message().contains("InvalidPosition"));
}

#[tokio::test]
async fn tombstoned_stream_subscription_fails() {
    use kurrentdbclient::proto::streams::{TombstoneReq, tombstone_req};
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    append_ok(&mut c, "gone", any(), vec![event("A", b"{}")]).await;
    let mut o = read_options();
    o.stream_option = Some(stream_options("gone", start()));
    let mut s = subscribe(&mut c, o).await;
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::Confirmation(_)
    ));
    assert_eq!(revision(&next(&mut s).await), 0);
    assert!(matches!(
        next(&mut s).await,
        read_resp::Content::CaughtUp(_)
    ));
    c.tombstone(TombstoneReq {
        options: Some(tombstone_req::Options {
            stream_identifier: sid("gone"),
            expected_stream_revision: Some(tombstone_req::options::ExpectedStreamRevision::Any(
                Empty {},
            )),
        }),
    })
    .await
    .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), s.message())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(trailer(&err, "exception"), Some("stream-deleted"));
}

#[tokio::test]
async fn many_subscribers_and_a_slow_one_do_not_block_writers() {
    let (_server, channel) = server().await;
    let mut c = Client::new(channel);
    // Each subscriber on its own connection: HTTP/2 flow control is per
    // connection, so a stalled reader would stall its own connection's other
    // calls (with any gRPC server), but must not stall anyone else.
    let connect = || async {
        Client::new(
            tonic::transport::Channel::from_shared(_server.uri())
                .unwrap()
                .connect()
                .await
                .unwrap(),
        )
    };
    // A subscriber that never reads.
    let mut o = read_options();
    o.stream_option = Some(all_options(all_start()));
    let _stalled = subscribe(&mut connect().await, o.clone()).await;
    let mut subs = Vec::new();
    for _ in 0..4 {
        subs.push(subscribe(&mut connect().await, o.clone()).await);
    }
    let payload = vec![b'x'; 1000];
    let started = std::time::Instant::now();
    for i in 0..100 {
        let evs = (0..20).map(|_| event("T", &payload)).collect();
        append_ok(&mut c, &format!("load-{}", i % 7), any(), evs).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "writers were slowed down"
    );
    // Every active subscriber sees all 2,000 events, in order.
    for s in &mut subs {
        assert!(matches!(next(s).await, read_resp::Content::Confirmation(_)));
        let mut seen = 0;
        let mut last = 0;
        while seen < 2_000 {
            match next(s).await {
                read_resp::Content::Event(e) => {
                    let p = e.event.unwrap().commit_position;
                    assert!(p > last);
                    last = p;
                    seen += 1;
                }
                read_resp::Content::CaughtUp(_) | read_resp::Content::FellBehind(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
