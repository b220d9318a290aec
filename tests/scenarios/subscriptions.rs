//! Catch-up subscriptions: to a stream and to `$all`, from a position or the
//! end, with filters, checkpoints and the caught-up marker; stop and timeout.

use kurrentdbclient::options::*;
use kurrentdbclient::{Error, NewEvent, StreamState, SubscriptionItem};
use std::time::Duration;

use super::{create_stream, event, next_event};
use crate::common::harness::{ClientUnderTest, TestSubscription};
use crate::common::unique;

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
    assert!(!sub.subscription_id().is_empty());
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
            SubscriptionItem::CaughtUp(c) => {
                // What the server sent: the last stream position delivered.
                assert_eq!(c.stream_position, Some(1));
                assert_eq!(c.commit_position, None);
                assert!(c.timestamp.is_some());
                caught_up = true;
            }
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
        .unwrap()
        .commit_position;

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
        .unwrap()
        .commit_position;
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

/// When asked, a live `$all` subscription reports falling behind (the server
/// says so when it wakes up too far behind the head) and catching up again,
/// with the positions and time the server sent.
pub async fn subscribe_to_all_reports_fell_behind_when_asked<C: ClientUnderTest>(client: &C) {
    let prefix = unique("behind");
    let filtered = |fell_behind: bool| {
        SubscribeToAllOptions::default()
            .from_end(true)
            .filter_include([prefix.clone()])
            .filter_by_stream_name(true)
            .filter_by_prefix(true)
            .include_caught_up(true)
            .include_fell_behind(fell_behind)
    };
    let mut asked = client.subscribe_to_all(&filtered(true)).await.unwrap();
    let mut not_asked = client.subscribe_to_all(&filtered(false)).await.unwrap();
    for sub in [&mut asked, &mut not_asked] {
        match next_item(sub).await {
            SubscriptionItem::CaughtUp(c) => {
                assert!(c.commit_position.is_some() && c.timestamp.is_some());
                assert_eq!(c.stream_position, None);
            }
            other => panic!("expected caught up, got {other:?}"),
        }
    }
    // More records than a live subscription may lag (the embedded server's
    // FELL_BEHIND_LAG, 10,000), written at once, then one that matches.
    append_noise(client, &unique("noise"), StreamState::Any).await;
    let stream = format!("{prefix}-1");
    let written = create_stream(client, &stream, vec![event("E", "{}")]).await;
    let mut fell_behind = None;
    let (mut seen_event, mut caught_up_again) = (false, false);
    while !(seen_event && caught_up_again) {
        match next_item(&mut asked).await {
            SubscriptionItem::FellBehind(f) => fell_behind = Some(f),
            SubscriptionItem::Event(e) => {
                assert_eq!(e.stream_name, stream);
                seen_event = true;
            }
            SubscriptionItem::CaughtUp(c) => {
                let f = fell_behind.expect("fell behind before catching up again");
                assert!(f.commit_position.is_some() && f.timestamp.is_some());
                assert!(c.commit_position >= f.commit_position);
                caught_up_again = true;
            }
            other => panic!("unexpected item {other:?}"),
        }
    }
    // Not asked: only the event (and the caught-up markers).
    loop {
        match next_item(&mut not_asked).await {
            SubscriptionItem::Event(e) => {
                assert_eq!(e.commit_position, Some(written.commit_position));
                break;
            }
            SubscriptionItem::CaughtUp(_) => {}
            other => panic!("unexpected item {other:?}"),
        }
    }
}

/// When asked, a live stream subscription reports falling behind when more of
/// its stream's events than a live subscription may lag arrive at once, with
/// the stream position it had reached, then catches up again; events of other
/// streams do not count.
pub async fn subscribe_to_stream_reports_fell_behind_when_asked<C: ClientUnderTest>(client: &C) {
    let stream = unique("behind-stream");
    let options = SubscribeToStreamOptions::default()
        .include_caught_up(true)
        .include_fell_behind(true);
    let mut sub = client.subscribe_to_stream(&stream, &options).await.unwrap();
    match next_item(&mut sub).await {
        SubscriptionItem::CaughtUp(c) => assert_eq!(c.stream_position, None, "{c:?}"),
        other => panic!("expected caught up, got {other:?}"),
    }
    // Other streams' traffic, however large, leaves the subscription live.
    append_noise(client, &unique("noise"), StreamState::Any).await;
    create_stream(client, &stream, vec![event("E", "{}")]).await;
    match next_item(&mut sub).await {
        SubscriptionItem::Event(e) => assert_eq!(e.stream_position, 0),
        other => panic!("expected the event, got {other:?}"),
    }
    // Its own stream's: more than the embedded server's FELL_BEHIND_LAG at once.
    append_noise(client, &stream, StreamState::Version(0)).await;
    let mut fell_behind = None;
    let mut next_position = 1;
    loop {
        match next_item(&mut sub).await {
            SubscriptionItem::FellBehind(f) => {
                assert_eq!(next_position, 1, "fell behind before the backlog");
                fell_behind = Some(f);
            }
            SubscriptionItem::Event(e) => {
                assert_eq!(e.stream_position, next_position);
                next_position += 1;
            }
            SubscriptionItem::CaughtUp(c) => {
                let f = fell_behind.expect("fell behind before catching up again");
                assert_eq!(f.stream_position, Some(0), "{f:?}");
                assert_eq!(c.stream_position, Some(10_001), "{c:?}");
                assert_eq!(next_position, 10_002);
                break;
            }
            other => panic!("unexpected item {other:?}"),
        }
    }
}

/// Appends, in one call, one event more than a live subscription may lag (the
/// embedded server's FELL_BEHIND_LAG, 10,000).
async fn append_noise<C: ClientUnderTest>(client: &C, stream: &str, expected: StreamState) {
    let noise: Vec<NewEvent> = (0..10_001).map(|_| NewEvent::new("N", "1")).collect();
    client
        .append_to_stream(stream, expected, noise, &Default::default())
        .await
        .unwrap();
}

async fn next_item<S: TestSubscription>(sub: &mut S) -> SubscriptionItem {
    tokio::time::timeout(Duration::from_secs(20), sub.next_item())
        .await
        .expect("an item in time")
        .expect("open")
        .expect("ok")
}
