//! Persistent subscriptions: groups on a stream and on `$all`, delivery with
//! acks, nacks, retries and parking, consumer strategies, checkpoints and
//! restarts, info and listing, and the typed errors.
//!
//! Each runs on an embedded server of its own (`own_server` in the scenario
//! list): they reuse group names, and one restarts the whole subsystem.

use std::time::{Duration, Instant};

use kurrentdbclient::options::*;
use kurrentdbclient::{
    ConsumerStrategy, Error, NackAction, NewEvent, RecordedEvent, StreamState, SubscriptionInfo,
};
use uuid::Uuid;

use super::create_stream;
use crate::common::harness::{ClientUnderTest, TestPersistentSubscription};
use crate::common::unique;

/// Appends `n` events to `stream` and returns their ids.
pub(super) async fn append<C: ClientUnderTest>(client: &C, stream: &str, n: usize) -> Vec<Uuid> {
    let events: Vec<NewEvent> = (0..n)
        .map(|i| NewEvent::new("Test", format!("{{\"n\":{i}}}")))
        .collect();
    let ids = events.iter().map(|e| e.id).collect();
    client
        .append_to_stream(
            stream,
            StreamState::Any,
            events,
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
    ids
}

/// Joins `group` on `stream` with the default options.
async fn join<C: ClientUnderTest>(
    client: &C,
    group: &str,
    stream: &str,
) -> kurrentdbclient::Result<C::PersistentSubscription> {
    client
        .read_subscription_to_stream(group, stream, &ReadSubscriptionOptions::default())
        .await
}

/// Creates the group `group` on `stream`.
async fn create_group<C: ClientUnderTest>(
    client: &C,
    stream: &str,
    options: &CreateSubscriptionToStreamOptions,
) {
    client
        .create_subscription_to_stream("group", stream, options)
        .await
        .unwrap();
}

/// Receives the next `n` events and acks each.
async fn ack_next<S: TestPersistentSubscription>(sub: &mut S, n: usize) {
    for _ in 0..n {
        let e = next_event(sub).await;
        sub.ack(e.ack_id()).unwrap();
    }
}

/// Appends `n` events to a new stream and creates `group` on it with
/// checkpoints after every event; a consumer acks the first three, waits for
/// their checkpoint and leaves. Returns the stream and the events' ids.
async fn three_acked_and_checkpointed<C: ClientUnderTest>(
    client: &C,
    n: usize,
) -> (String, Vec<Uuid>) {
    let stream = unique("order");
    let ids = append(client, &stream, n).await;
    create_group(client, &stream, &eager_checkpoints()).await;
    let mut sub = join(client, "group", &stream).await.unwrap();
    ack_next(&mut sub, 3).await;
    wait_until("checkpointed", client, &stream, |info| {
        info.last_checkpointed_event_position == "2"
    })
    .await;
    sub.stop().await;
    (stream, ids)
}

/// The info of `group` (on `stream`, or on `$all` for `None`).
async fn info<C: ClientUnderTest>(
    client: &C,
    group: &str,
    stream: Option<&str>,
) -> kurrentdbclient::Result<SubscriptionInfo> {
    client
        .get_subscription_info(group, stream, &GetSubscriptionInfoOptions::default())
        .await
}

/// The next event, which must come.
async fn next_event<S: TestPersistentSubscription>(sub: &mut S) -> RecordedEvent {
    sub.next_event()
        .await
        .expect("the subscription ended")
        .expect("an event")
}

/// Waits (polling) until the info of the group `group` on `stream` passes
/// `check`, for at most 20 s (a bound for a busy machine, not a speed
/// claim).
async fn wait_until<C: ClientUnderTest>(
    what: &str,
    client: &C,
    stream: &str,
    check: impl Fn(&SubscriptionInfo) -> bool,
) {
    let start = Instant::now();
    while !check(&info(client, "group", Some(stream)).await.unwrap()) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Options that checkpoint after every processed event.
fn eager_checkpoints() -> CreateSubscriptionToStreamOptions {
    CreateSubscriptionToStreamOptions::default()
        .min_checkpoint_count(1)
        .max_checkpoint_count(1)
}

/// A group created on a stream with events delivers each of them once, in
/// order, with a retry count of 0; the acks empty the in-flight count.
pub async fn a_group_from_the_start_receives_every_event_once<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    let ids = append(client, &stream, 10).await;
    create_group(client, &stream, &Default::default()).await;
    let mut sub = join(client, "group", &stream).await.unwrap();
    assert_eq!(sub.subscription_id(), format!("{stream}::group"));
    let mut seen = Vec::new();
    for _ in 0..10 {
        let e = next_event(&mut sub).await;
        assert_eq!(e.retry_count, Some(0));
        sub.ack(e.ack_id()).unwrap();
        seen.push(e.id);
    }
    assert_eq!(seen, ids);
    wait_until("all acked", client, &stream, |info| {
        info.total_in_flight_messages == 0 && info.total_items == 10
    })
    .await;
    sub.stop().await;
}

/// A nack with `Retry` delivers the event again, its retry count one higher.
pub async fn a_nacked_event_comes_back_with_a_higher_retry_count<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    let ids = append(client, &stream, 1).await;
    create_group(client, &stream, &Default::default()).await;
    let mut sub = join(client, "group", &stream).await.unwrap();
    let first = next_event(&mut sub).await;
    assert_eq!((first.id, first.retry_count), (ids[0], Some(0)));
    sub.nack(first.ack_id(), NackAction::Retry, "retry it")
        .unwrap();
    let again = next_event(&mut sub).await;
    assert_eq!((again.id, again.retry_count), (ids[0], Some(1)));
    sub.ack(again.ack_id()).unwrap();
    sub.stop().await;
}

/// An event left unacked is delivered again after the message timeout.
pub async fn an_unacked_event_is_retried_after_the_message_timeout<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    let ids = append(client, &stream, 1).await;
    let options =
        CreateSubscriptionToStreamOptions::default().message_timeout(Duration::from_millis(200));
    create_group(client, &stream, &options).await;
    let mut sub = join(client, "group", &stream).await.unwrap();
    let first = next_event(&mut sub).await;
    assert_eq!(first.retry_count, Some(0));
    // Not acked: the server retries it after the message timeout.
    let again = next_event(&mut sub).await;
    assert_eq!((again.id, again.retry_count), (ids[0], Some(1)));
    sub.ack(again.ack_id()).unwrap();
    sub.stop().await;
}

/// With a consumer buffer of one, a short message timeout and a retry
/// limit, an event never acked comes back until the limit (retry counts 0, 1,
/// 2), is parked, and then the following events come in order: KurrentDB
/// dispatches its retry buffer before the read buffer, to the one free slot.
pub async fn an_unacked_event_is_retried_to_the_limit_then_parked_and_the_rest_follow_in_order<
    C: ClientUnderTest,
>(
    client: &C,
) {
    let stream = unique("order");
    let ids = append(client, &stream, 3).await;
    let options = CreateSubscriptionToStreamOptions::default()
        .message_timeout(Duration::from_millis(200))
        .max_retry_count(2);
    create_group(client, &stream, &options).await;
    let mut sub = client
        .read_subscription_to_stream(
            "group",
            &stream,
            &ReadSubscriptionOptions::default().event_buffer_size(1),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = next_event(&mut sub).await;
        seen.push((e.id, e.retry_count));
    }
    assert_eq!(
        seen,
        [(ids[0], Some(0)), (ids[0], Some(1)), (ids[0], Some(2))]
    );
    for id in &ids[1..] {
        let e = next_event(&mut sub).await;
        assert_eq!((e.id, e.retry_count), (*id, Some(0)), "ids {ids:?}");
        sub.ack(e.ack_id()).unwrap();
    }
    wait_until("one parked", client, &stream, |info| {
        info.parked_message_count == 1
    })
    .await;
    sub.stop().await;
}

/// A nack with `Park` writes a link to the parked stream; replaying the
/// parked events delivers the event again, through that link.
pub async fn a_parked_event_lands_in_the_parked_stream_and_comes_back_on_replay<
    C: ClientUnderTest,
>(
    client: &C,
) {
    let stream = unique("order");
    let ids = append(client, &stream, 3).await;
    create_group(client, &stream, &Default::default()).await;
    let mut sub = join(client, "group", &stream).await.unwrap();
    for i in 0..3 {
        let e = next_event(&mut sub).await;
        if i == 1 {
            sub.nack(&e, NackAction::Park, "poison").unwrap();
        } else {
            sub.ack(e.ack_id()).unwrap();
        }
    }
    wait_until("one parked", client, &stream, |info| {
        info.parked_message_count == 1
    })
    .await;
    let parked = client
        .get_stream(
            &format!("$persistentsubscription-{stream}::group-parked"),
            &ReadStreamOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].r#type, "$>");
    assert_eq!(&parked[0].data[..], format!("1@{stream}").as_bytes());

    client
        .replay_parked_events("group", Some(&stream), &Default::default())
        .await
        .unwrap();
    let replayed = next_event(&mut sub).await;
    assert_eq!(replayed.id, ids[1]);
    assert!(
        replayed.link.is_some(),
        "a replayed event comes through its parked link"
    );
    sub.ack(replayed.ack_id()).unwrap();
    wait_until("replayed", client, &stream, |info| {
        info.parked_message_count == 0 && info.total_in_flight_messages == 0
    })
    .await;
    sub.stop().await;
}

/// Two round-robin consumers share the events: each event goes to exactly one.
pub async fn round_robin_consumers_share_the_events<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    let options = CreateSubscriptionToStreamOptions::default()
        .consumer_strategy(ConsumerStrategy::RoundRobin);
    create_group(client, &stream, &options).await;
    let mut a = join(client, "group", &stream).await.unwrap();
    let mut b = join(client, "group", &stream).await.unwrap();
    let ids = append(client, &stream, 10).await;
    let mut seen = Vec::new();
    for sub in [&mut a, &mut b] {
        for _ in 0..5 {
            let e = next_event(sub).await;
            assert_eq!(e.retry_count, Some(0));
            sub.ack(e.ack_id()).unwrap();
            seen.push(e.id);
        }
    }
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected, "each event went to exactly one consumer");
    let info = info(client, "group", Some(&stream)).await.unwrap();
    assert_eq!(info.connections.len(), 2);
    assert_eq!(info.consumer_strategy, ConsumerStrategy::RoundRobin);
    assert!(info.connections.iter().all(|c| c.total_items == 5));
    a.stop().await;
    b.stop().await;
}

/// A deleted group is gone (deleting it again is NotFound); created again, it
/// starts from the first event, whatever the old one had checkpointed.
pub async fn a_deleted_and_recreated_group_starts_over<C: ClientUnderTest>(client: &C) {
    let (stream, ids) = three_acked_and_checkpointed(client, 3).await;
    let options = DeleteSubscriptionOptions::default();
    client
        .delete_subscription("group", Some(&stream), &options)
        .await
        .unwrap();
    assert!(matches!(
        client
            .delete_subscription("group", Some(&stream), &options)
            .await,
        Err(Error::NotFound { .. })
    ));
    create_group(client, &stream, &eager_checkpoints()).await;
    let mut sub = join(client, "group", &stream).await.unwrap();
    let e = next_event(&mut sub).await;
    assert_eq!((e.id, e.retry_count), (ids[0], Some(0)));
    sub.stop().await;
}

/// The checkpoint is written to the checkpoint stream; after a restart of the
/// subsystem, a consumer that joins again resumes after it.
pub async fn a_reconnecting_consumer_resumes_after_the_checkpoint<C: ClientUnderTest>(client: &C) {
    let (stream, ids) = three_acked_and_checkpointed(client, 6).await;
    let checkpoints = client
        .get_stream(
            &format!("$persistentsubscription-{stream}::group-checkpoint"),
            &ReadStreamOptions::default(),
        )
        .await
        .unwrap();
    let last = checkpoints.last().unwrap();
    assert_eq!(last.r#type, "$SubscriptionCheckpoint");
    assert_eq!(&last.data[..], br#""2""#);
    // Reload every group from its checkpoint, then reconnect.
    client
        .restart_persistent_subscription_subsystem(&Default::default())
        .await
        .unwrap();
    let mut sub = join(client, "group", &stream).await.unwrap();
    let e = next_event(&mut sub).await;
    assert_eq!((e.id, e.stream_position), (ids[3], 3));
    sub.ack(e.ack_id()).unwrap();
    sub.stop().await;
}

/// The info reports the counts, positions, settings and connections; an update
/// keeps what it does not change; the lists find the group.
pub async fn info_and_list_report_what_happened<C: ClientUnderTest>(client: &C) {
    let stream = unique("order");
    create_group(client, &stream, &eager_checkpoints().max_retry_count(3)).await;
    let mut sub = join(client, "group", &stream).await.unwrap();
    append(client, &stream, 4).await;
    ack_next(&mut sub, 4).await;
    wait_until("checkpointed", client, &stream, |info| {
        info.last_checkpointed_event_position == "3"
    })
    .await;
    let info_now = info(client, "group", Some(&stream)).await.unwrap();
    assert_eq!(info_now.event_source, stream);
    assert_eq!(info_now.group_name, "group");
    assert_eq!(info_now.total_items, 4);
    assert_eq!(info_now.total_in_flight_messages, 0);
    assert_eq!(info_now.parked_message_count, 0);
    assert_eq!(info_now.last_known_event_position, "3");
    assert_eq!(info_now.max_retry_count, 3);
    assert_eq!(info_now.message_timeout, Duration::from_secs(30));
    assert_eq!(
        info_now.consumer_strategy,
        ConsumerStrategy::DispatchToSingle
    );
    assert_eq!(info_now.connections.len(), 1);
    assert_eq!(info_now.connections[0].total_items, 4);
    assert_eq!(info_now.connections[0].in_flight_messages, 0);

    // An update keeps what it does not change.
    client
        .update_subscription_to_stream(
            "group",
            &stream,
            &UpdateSubscriptionToStreamOptions::default().max_retry_count(7),
        )
        .await
        .unwrap();
    let info_now = info(client, "group", Some(&stream)).await.unwrap();
    assert_eq!(info_now.max_retry_count, 7);
    assert_eq!(info_now.min_checkpoint_count, 1);

    let options = ListSubscriptionsOptions::default();
    let listed = client
        .list_subscriptions_to_stream(&stream, &options)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].group_name, "group");
    assert!(
        client
            .list_subscriptions(&options)
            .await
            .unwrap()
            .iter()
            .any(|i| i.event_source == stream && i.group_name == "group")
    );
    assert!(
        client
            .list_subscriptions_to_stream(&unique("nothing"), &options)
            .await
            .unwrap()
            .is_empty()
    );
    sub.stop().await;
}

/// Creating a group twice is AlreadyExists; joining or asking about a missing
/// group is NotFound; one consumer too many is MaximumSubscriptionsReached.
pub async fn errors_are_already_exists_not_found_and_maximum_subscribers<C: ClientUnderTest>(
    client: &C,
) {
    let stream = unique("order");
    let options = CreateSubscriptionToStreamOptions::default().max_subscriber_count(1);
    create_group(client, &stream, &options).await;
    assert!(matches!(
        client
            .create_subscription_to_stream("group", &stream, &options)
            .await,
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        join(client, "missing", &stream).await.map(|_| ()),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        info(client, "missing", Some(&stream)).await,
        Err(Error::NotFound { .. })
    ));
    let mut first = join(client, "group", &stream).await.unwrap();
    assert!(matches!(
        join(client, "group", &stream).await.map(|_| ()),
        Err(Error::MaximumSubscriptionsReached(_))
    ));
    first.stop().await;
}

/// A group on `$all` with a stream-name filter delivers the matching events
/// only; its info names `$all` and a commit position to start from.
pub async fn a_group_on_all_streams_with_a_filter<C: ClientUnderTest>(client: &C) {
    let prefix = unique("filtered");
    let options = CreateSubscriptionToAllOptions::default()
        .filter_by_stream_name(true)
        .filter_include([format!("{prefix}-.*")]);
    client
        .create_subscription_to_all("group-all", &options)
        .await
        .unwrap();
    append(client, &unique("other"), 2).await;
    let ids = append(client, &format!("{prefix}-1"), 3).await;
    let mut sub = client
        .read_subscription_to_all("group-all", &ReadSubscriptionOptions::default())
        .await
        .unwrap();
    assert_eq!(sub.subscription_id(), "$all::group-all");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = next_event(&mut sub).await;
        sub.ack(e.ack_id()).unwrap();
        seen.push(e.id);
    }
    assert_eq!(seen, ids);
    let info = info(client, "group-all", None).await.unwrap();
    assert_eq!(info.event_source, "$all");
    assert!(info.start_from.starts_with("C:"));
    sub.stop().await;
    client
        .delete_subscription("group-all", None, &Default::default())
        .await
        .unwrap();

    // A prefix filter: `<prefix>.` as a prefix, not as a regex (which would
    // match `<prefix>-1` too).
    client
        .create_subscription_to_all(
            "group-prefix",
            &CreateSubscriptionToAllOptions::default()
                .filter_by_stream_name(true)
                .filter_by_prefix(true)
                .filter_include([format!("{prefix}.")]),
        )
        .await
        .unwrap();
    let dotted = append(client, &format!("{prefix}.2"), 2).await;
    let mut sub = client
        .read_subscription_to_all("group-prefix", &ReadSubscriptionOptions::default())
        .await
        .unwrap();
    for id in dotted {
        let e = next_event(&mut sub).await;
        assert_eq!(e.id, id, "only the prefixed stream's events");
        sub.ack(&e).unwrap();
    }
    sub.stop().await;
}

/// Ack takes the received event: a resolved link is acknowledged by the link's
/// id, so it is not retried after the message timeout.
pub async fn acking_the_received_event_settles_a_resolved_link<C: ClientUnderTest>(client: &C) {
    let target = unique("target");
    let links = unique("links");
    append(client, &target, 2).await;
    let link = |n: u64| NewEvent::new("$>", format!("{n}@{target}"));
    create_stream(client, &links, vec![link(0)]).await;
    create_group(
        client,
        &links,
        &CreateSubscriptionToStreamOptions::default()
            .resolve_links(true)
            // Longer than the acks' batching delay (200 ms).
            .message_timeout(Duration::from_secs(1)),
    )
    .await;
    let mut sub = join(client, "group", &links).await.unwrap();
    let first = next_event(&mut sub).await;
    assert_eq!(first.stream_name, target, "resolved");
    assert!(first.link.is_some());
    sub.ack(&first).unwrap();
    // The ack settles it: nothing stays in flight (an ack the group did not
    // match would leave it in flight, retried after each timeout).
    wait_until("the resolved link acked", client, &links, |info| {
        info.total_in_flight_messages == 0
    })
    .await;
    client
        .append_to_stream(&links, StreamState::Any, vec![link(1)], &Default::default())
        .await
        .unwrap();
    let next = next_event(&mut sub).await;
    assert_eq!(next.stream_position, 1, "not the first one again: {next:?}");
    assert_eq!(next.retry_count, Some(0));
    sub.nack(&next, NackAction::Skip, "skipped by the test")
        .unwrap();
    sub.stop().await;
}

/// The whole life of a group through every persistent-subscription call:
/// created (a second time: AlreadyExists), read with acks and a park, info and
/// both lists, updated, its parked event replayed, deleted (then NotFound); a
/// group on `$all` created, updated, read and deleted; the subsystem restarted.
pub async fn persistent_subscription_lifecycle<C: ClientUnderTest>(client: &C) {
    let stream = unique("persistent");
    let group = unique("group");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            (0..3)
                .map(|i| NewEvent::new(if i == 1 { "Poison" } else { "Good" }, format!("{i}")))
                .collect(),
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();

    client
        .create_subscription_to_stream(
            &group,
            &stream,
            &CreateSubscriptionToStreamOptions::default().max_retry_count(0),
        )
        .await
        .unwrap();
    let again = client
        .create_subscription_to_stream(
            &group,
            &stream,
            &CreateSubscriptionToStreamOptions::default(),
        )
        .await;
    assert!(matches!(again, Err(Error::AlreadyExists(_))), "{again:?}");

    let mut sub = join(client, &group, &stream).await.unwrap();
    assert!(!sub.subscription_id().is_empty());
    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = sub.next_event().await.expect("an event").expect("no error");
        if event.r#type == "Poison" {
            sub.nack(&event, NackAction::Park, "poison").unwrap();
        } else {
            sub.ack(event.ack_id()).unwrap();
        }
        seen.push(event.stream_position);
    }
    assert_eq!(seen, [0, 1, 2]);

    let info_now = info(client, &group, Some(&stream)).await.unwrap();
    assert_eq!(info_now.group_name, group);
    assert_eq!(info_now.event_source, stream);
    let listed = client
        .list_subscriptions_to_stream(&stream, &ListSubscriptionsOptions::default())
        .await
        .unwrap();
    assert!(listed.iter().any(|i| i.group_name == group), "{listed:?}");
    let all = client
        .list_subscriptions(&ListSubscriptionsOptions::default())
        .await
        .unwrap();
    assert!(all.iter().any(|i| i.group_name == group));

    client
        .update_subscription_to_stream(
            &group,
            &stream,
            &UpdateSubscriptionToStreamOptions::default().message_timeout(Duration::from_secs(7)),
        )
        .await
        .unwrap();

    // The parked event comes back after a replay. (The update restarted the
    // group, so join it again; events after the last checkpoint may come
    // again first: delivery is at least once.)
    sub.stop().await;
    let mut sub = join(client, &group, &stream).await.unwrap();
    client
        .replay_parked_events(&group, Some(&stream), &ReplayParkedEventsOptions::default())
        .await
        .unwrap();
    let replayed = loop {
        let event = sub.next_event().await.expect("an event").expect("no error");
        if event.r#type == "Poison" {
            break event;
        }
        sub.ack(event.ack_id()).unwrap();
    };
    sub.ack(replayed.ack_id()).unwrap();
    sub.stop().await;
    assert!(sub.is_stopped());
    assert!(sub.next_event().await.is_none());

    client
        .delete_subscription(&group, Some(&stream), &DeleteSubscriptionOptions::default())
        .await
        .unwrap();
    let gone = info(client, &group, Some(&stream)).await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");

    // A group on $all.
    let all_group = unique("all-group");
    client
        .create_subscription_to_all(
            &all_group,
            &CreateSubscriptionToAllOptions::default().from_end(true),
        )
        .await
        .unwrap();
    client
        .update_subscription_to_all(&all_group, &UpdateSubscriptionToAllOptions::default())
        .await
        .unwrap();
    let mut on_all = client
        .read_subscription_to_all(&all_group, &ReadSubscriptionOptions::default())
        .await
        .unwrap();
    on_all.stop().await;
    client
        .delete_subscription(&all_group, None, &DeleteSubscriptionOptions::default())
        .await
        .unwrap();

    client
        .restart_persistent_subscription_subsystem(
            &RestartPersistentSubscriptionSubsystemOptions::default(),
        )
        .await
        .unwrap();
}
