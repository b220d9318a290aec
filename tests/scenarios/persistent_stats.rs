//! Persistent-subscription statistics as KurrentDB computes them (see the
//! embedded server's `persistent/group/stats.rs` and `buffer.rs` for the
//! rules): a group moved through its states (catching up, live with no
//! consumer, a slow consumer, retries and parks, checkpoints), the outbox
//! pattern that polls `live_buffer_count`, the consumer's buffer bounding its
//! unacknowledged messages, and the settings KurrentDB refuses.
//!
//! Each runs on an embedded server of its own (`own_server`): `$all` groups see
//! every event of their server.

use std::time::{Duration, Instant};

use kurrentdbclient::options::*;
use kurrentdbclient::{ConsumerStrategy, Error, NackAction, SubscriptionInfo};
use uuid::Uuid;

use super::persistent::append;
use crate::common::harness::{ClientUnderTest, TestPersistentSubscription};
use crate::common::unique;

/// The info of `group` on `stream` (`None`: `$all`).
async fn info<C: ClientUnderTest>(client: &C, stream: Option<&str>) -> SubscriptionInfo {
    client
        .get_subscription_info("group", stream, &GetSubscriptionInfoOptions::default())
        .await
        .unwrap()
}

/// Polls the info until it passes `check` (at most 5 s); the info that did.
async fn wait_for<C: ClientUnderTest>(
    what: &str,
    client: &C,
    stream: Option<&str>,
    check: impl Fn(&SubscriptionInfo) -> bool,
) -> SubscriptionInfo {
    let start = Instant::now();
    loop {
        let i = info(client, stream).await;
        if check(&i) {
            return i;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}: {i:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next event's id and retry count, which must come within 5 s.
async fn next<S: TestPersistentSubscription>(sub: &mut S) -> (Uuid, u32) {
    let e = tokio::time::timeout(Duration::from_secs(5), sub.next_event())
        .await
        .expect("an event within 5 s")
        .expect("the subscription goes on")
        .expect("an event");
    (e.ack_id(), e.retry_count.unwrap_or(0))
}

/// A stream group from the start with history to catch up: the read buffer
/// fills by batches while behind; events written meanwhile wait in the live
/// buffer; a consumer drains both and the group goes live; checkpoints show;
/// the counts since the last measurement start again at each call.
pub async fn statistics_follow_a_stream_group_from_history_to_live<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    append(client, &stream, 5).await;
    let options = CreateSubscriptionToStreamOptions::default()
        .read_batch_size(2)
        .history_buffer_size(4)
        .live_buffer_size(2)
        .min_checkpoint_count(1)
        .max_checkpoint_count(1);
    client
        .create_subscription_to_stream("group", &stream, &options)
        .await
        .unwrap();

    // Catching up, nobody reading: one batch of 2 (a second would not leave
    // the buffer of 4 more room than a batch), nothing live.
    let i = wait_for("the first batch", client, Some(&stream), |i| {
        i.read_buffer_count == 2
    })
    .await;
    assert_eq!(i.status, "Behind");
    assert_eq!(i.live_buffer_count, 0);
    assert_eq!(i.retry_buffer_count, 0);
    assert_eq!(i.total_items, 0);
    assert_eq!(i.last_known_event_position, "1");
    assert_eq!(i.last_checkpointed_event_position, "");
    assert_eq!((i.history_buffer_size, i.live_buffer_size), (4, 2));

    // Three events written while behind: the live buffer keeps the last two.
    append(client, &stream, 3).await;
    let i = wait_for("live events", client, Some(&stream), |i| {
        i.live_buffer_count == 2
    })
    .await;
    assert_eq!(i.status, "Behind");
    assert_eq!(i.read_buffer_count, 2);
    assert_eq!(i.last_known_event_position, "7");

    // A consumer takes all 8: history up to the live events, then live.
    let mut sub = client
        .read_subscription_to_stream("group", &stream, &ReadSubscriptionOptions::default())
        .await
        .unwrap();
    for _ in 0..8 {
        let (id, retry) = next(&mut sub).await;
        assert_eq!(retry, 0);
        sub.ack(id).unwrap();
    }
    let i = wait_for("live and checkpointed", client, Some(&stream), |i| {
        i.last_checkpointed_event_position == "7"
    })
    .await;
    assert_eq!(i.status, "Live");
    assert_eq!(
        (
            i.read_buffer_count,
            i.live_buffer_count,
            i.retry_buffer_count
        ),
        (0, 0, 0)
    );
    assert_eq!(i.total_items, 8);
    assert_eq!(
        (i.total_in_flight_messages, i.outstanding_messages_count),
        (0, 0)
    );
    assert_eq!(i.connections.len(), 1);
    let c = &i.connections[0];
    assert_eq!(
        (c.total_items, c.in_flight_messages, c.available_slots),
        (8, 0, 150)
    );
    assert_eq!(c.from, "");
    // The consumer's login: KurrentDB's passthrough authentication names
    // every insecure caller `anonymous`; a secure node names the user.
    let login = match crate::common::mode() {
        crate::common::Mode::Insecure => "anonymous",
        crate::common::Mode::Secure => "admin",
    };
    assert_eq!(c.username, login);
    assert!(!c.connection_name.is_empty());
    assert!(c.observed_measurements.is_empty(), "no extra statistics");

    // Counts since the last measurement: none since the call just made.
    let i = info(client, Some(&stream)).await;
    assert_eq!(
        (i.count_since_last_measurement, i.average_per_second),
        (0, 0)
    );
    assert_eq!(i.connections[0].count_since_last_measurement, 0);
    // Live now: new events go to the read buffer and the live buffer; two
    // delivered since the last call.
    let first_call = Instant::now();
    info(client, Some(&stream)).await;
    let measured = Instant::now();
    append(client, &stream, 2).await;
    for _ in 0..2 {
        let (id, _) = next(&mut sub).await;
        sub.ack(id).unwrap();
    }
    // The server measured between its two calls: at least from the end of
    // the first to the start of the second, at most from the start of the
    // first to the end of the second.
    let inner = measured.elapsed().as_secs_f64();
    let i = info(client, Some(&stream)).await;
    let outer = first_call.elapsed().as_secs_f64();
    assert_eq!(i.count_since_last_measurement, 2);
    assert_eq!(i.connections[0].count_since_last_measurement, 2);
    assert_eq!(i.total_items, 10);
    assert_eq!(i.status, "Live");
    assert_eq!(i.live_buffer_count, 2);
    assert_eq!(i.last_known_event_position, "9");
    let average = f64::from(i.average_per_second);
    assert!(
        average >= (2.0 / outer).floor() - 1.0 && average <= 2.0 / inner + 1.0,
        "2 items in {inner:.6}..{outer:.6} s, average {average}"
    );
    sub.stop().await;
}

/// The outbox pattern: a live `$all` group from the end with no consumer
/// reports the events written since in `live_buffer_count` (and in the read
/// buffer, waiting); `list_subscriptions` reads the same figures; once
/// delivered they leave the read buffer but stay in the live buffer.
pub async fn the_outbox_pattern_sees_events_written_while_nobody_reads<C: ClientUnderTest>(
    client: &C,
) {
    client
        .create_subscription_to_all(
            "group",
            &CreateSubscriptionToAllOptions::default().from_end(true),
        )
        .await
        .unwrap();
    let i = wait_for("loaded", client, None, |i| i.status != "NotReady").await;
    assert_eq!(i.status, "Live");
    assert_eq!((i.live_buffer_count, i.read_buffer_count), (0, 0));
    assert_eq!(i.start_from, "C:-1/P:-1");

    let stream = unique("outbox");
    append(client, &stream, 3).await;
    let last = client
        .read_stream(
            &stream,
            &ReadStreamOptions::default().backwards(true).limit(1),
        )
        .await
        .unwrap()[0]
        .commit_position
        .expect("a commit position");
    let i = wait_for("the outbox's events", client, None, |i| {
        i.live_buffer_count > 0
    })
    .await;
    assert_eq!(i.status, "Live");
    assert_eq!((i.live_buffer_count, i.read_buffer_count), (3, 3));
    assert_eq!(i.total_items, 0);
    assert_eq!(i.last_checkpointed_event_position, "");
    assert_eq!(i.last_known_event_position, format!("C:{last}/P:{last}"));

    // The lists report the same statistics.
    let options = ListSubscriptionsOptions::default();
    for listed in [
        client.list_subscriptions(&options).await.unwrap(),
        client
            .list_subscriptions_to_stream("$all", &options)
            .await
            .unwrap(),
    ] {
        let g = listed.iter().find(|g| g.event_source == "$all").unwrap();
        assert_eq!((g.live_buffer_count, g.read_buffer_count), (3, 3));
        assert_eq!(g.last_known_event_position, i.last_known_event_position);
    }

    // The outbox reads them.
    let mut sub = client
        .read_subscription_to_all("group", &ReadSubscriptionOptions::default())
        .await
        .unwrap();
    for _ in 0..3 {
        let (id, _) = next(&mut sub).await;
        sub.ack(id).unwrap();
    }
    let i = wait_for("delivered", client, None, |i| i.total_items == 3).await;
    assert_eq!((i.live_buffer_count, i.read_buffer_count), (3, 0));
    sub.stop().await;
}

/// A slow consumer holds its buffer's worth; messages of a consumer that leaves
/// wait in the retry buffer; parked messages are counted until replayed; with
/// extra statistics a connection reports its latencies.
pub async fn retries_parks_and_latencies_show_in_the_statistics<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    append(client, &stream, 5).await;
    let options = CreateSubscriptionToStreamOptions::default()
        .extra_statistics(true)
        .max_retry_count(5);
    client
        .create_subscription_to_stream("group", &stream, &options)
        .await
        .unwrap();
    let slow = ReadSubscriptionOptions::default().event_buffer_size(2);
    let mut sub = client
        .read_subscription_to_stream("group", &stream, &slow)
        .await
        .unwrap();
    let (first, _) = next(&mut sub).await;
    next(&mut sub).await;
    let i = wait_for("a full consumer", client, Some(&stream), |i| {
        i.total_items == 2
    })
    .await;
    let c = &i.connections[0];
    assert_eq!((c.in_flight_messages, c.available_slots), (2, 0));
    assert_eq!(
        (i.total_in_flight_messages, i.outstanding_messages_count),
        (2, 2)
    );
    assert_eq!(i.read_buffer_count, 3);
    assert_eq!(i.status, "Live");

    // Park the first: counted, and the latency of its nack is measured.
    sub.nack(first, NackAction::Park, "parked by the test")
        .unwrap();
    let i = wait_for("parked", client, Some(&stream), |i| {
        i.parked_message_count == 1
    })
    .await;
    let keys: Vec<&str> = i.connections[0]
        .observed_measurements
        .iter()
        .map(|m| m.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "Mean",
            "Median",
            "Fastest",
            "Quintile 1",
            "Quintile 2",
            "Quintile 3",
            "Quintile 4",
            "Quintile 5",
            "90%",
            "95%",
            "99%",
            "99.5%",
            "99.9%",
            "Highest"
        ]
    );
    assert!(
        i.connections[0]
            .observed_measurements
            .iter()
            .all(|m| m.value >= 0)
    );

    // The consumer leaves with two unacknowledged: they wait to be retried.
    sub.stop().await;
    let i = wait_for("retries waiting", client, Some(&stream), |i| {
        i.connections.is_empty() && i.retry_buffer_count == 2
    })
    .await;
    assert_eq!(
        (i.total_in_flight_messages, i.outstanding_messages_count),
        (0, 0)
    );
    assert_eq!(i.read_buffer_count, 2);

    // Replaying the parked message empties the parked count; a new consumer
    // gets the retries first (retry count 1), the replayed parked message, then
    // the rest.
    client
        .replay_parked_events(
            "group",
            Some(&stream),
            &ReplayParkedEventsOptions::default(),
        )
        .await
        .unwrap();
    let i = wait_for("replayed", client, Some(&stream), |i| {
        i.parked_message_count == 0
    })
    .await;
    assert_eq!(i.retry_buffer_count, 3);
    let mut sub = client
        .read_subscription_to_stream("group", &stream, &ReadSubscriptionOptions::default())
        .await
        .unwrap();
    let mut retries = Vec::new();
    for _ in 0..5 {
        let (id, retry) = next(&mut sub).await;
        retries.push(retry);
        sub.ack(id).unwrap();
    }
    assert_eq!(retries, [1, 1, 0, 0, 0]);
    let i = wait_for("all done", client, Some(&stream), |i| {
        i.total_items == 8 && i.outstanding_messages_count == 0
    })
    .await;
    assert_eq!((i.retry_buffer_count, i.read_buffer_count), (0, 0));
    sub.stop().await;
}

/// A consumer's buffer size bounds its unacknowledged messages: with a buffer
/// of 1, the retries of a first event it never acknowledges come before the
/// second event, which comes once the first is parked.
pub async fn a_consumer_buffer_of_one_gets_retries_before_the_next_event<C: ClientUnderTest>(
    client: &C,
) {
    let stream = unique("order");
    let ids = append(client, &stream, 2).await;
    let options = CreateSubscriptionToStreamOptions::default()
        .message_timeout(Duration::from_millis(200))
        .max_retry_count(2);
    client
        .create_subscription_to_stream("group", &stream, &options)
        .await
        .unwrap();
    let one = ReadSubscriptionOptions::default().event_buffer_size(1);
    let mut sub = client
        .read_subscription_to_stream("group", &stream, &one)
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next(&mut sub).await);
        let i = info(client, Some(&stream)).await;
        assert!(i.connections[0].in_flight_messages <= 1, "{i:?}");
    }
    assert_eq!(
        seen,
        [(ids[0], 0), (ids[0], 1), (ids[0], 2), (ids[1], 0)],
        "the first event's retries, then the second"
    );
    let i = wait_for("parked", client, Some(&stream), |i| {
        i.parked_message_count == 1
    })
    .await;
    assert_eq!(i.connections[0].available_slots, 0);
    sub.stop().await;
}

/// Settings KurrentDB refuses fail as it fails them: `INTERNAL` with "failed:
/// '<reason>'" (an unknown consumer strategy, a read batch not smaller than the
/// history buffer, on create and on update, a `$all` start past the end).
pub async fn settings_kurrentdb_refuses_fail_the_call<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    let failed = |e: Error, reason: &str| match e {
        Error::Internal(m) => assert_eq!(
            m,
            format!("Subscription group group on stream {stream} failed: '{reason}'")
        ),
        other => panic!("expected Internal, got {other:?}"),
    };
    let too_large = "Specified argument was out of the range of valid values. \
                     (Parameter 'ReadBatchSize may not be greater than or equal to BufferSize')";
    let e = client
        .create_subscription_to_stream(
            "group",
            &stream,
            &CreateSubscriptionToStreamOptions::default()
                .read_batch_size(100)
                .history_buffer_size(100),
        )
        .await
        .unwrap_err();
    failed(e, too_large);
    let e = client
        .create_subscription_to_stream(
            "group",
            &stream,
            &CreateSubscriptionToStreamOptions::default()
                .consumer_strategy(ConsumerStrategy::Other("Fastest".to_owned())),
        )
        .await
        .unwrap_err();
    failed(e, "Consumer strategy Fastest does not exist.");
    // Nothing was created; a valid group is, and an update is checked too.
    client
        .create_subscription_to_stream(
            "group",
            &stream,
            &CreateSubscriptionToStreamOptions::default(),
        )
        .await
        .unwrap();
    let before = info(client, Some(&stream)).await.read_batch_size;
    let e = client
        .update_subscription_to_stream(
            "group",
            &stream,
            &UpdateSubscriptionToStreamOptions::default().read_batch_size(600),
        )
        .await
        .unwrap_err();
    failed(e, too_large);
    assert_eq!(info(client, Some(&stream)).await.read_batch_size, before);

    let e = client
        .create_subscription_to_all(
            "group",
            &CreateSubscriptionToAllOptions::default().commit_position(u64::MAX >> 2),
        )
        .await
        .unwrap_err();
    match e {
        Error::Internal(m) => assert_eq!(
            m,
            "Subscription group group on stream $all failed: 'Invalid Start From position: \
             commit position must be less than or equal to the last commit position in the \
             transaction file.'"
        ),
        other => panic!("expected Internal, got {other:?}"),
    }
}
