//! The client against a real (embedded) cluster of three voting nodes and a
//! read-only replica: discovery by seed list and by `kurrentdb+discover`, each
//! node preference landing on a node of its role, writes through a follower
//! connection reaching the leader, and failover when the leader stops.

use std::time::Duration;

use kurrentdb_embedded::{EmbeddedCluster, NodeRole, Partition};
use kurrentdbclient::options::*;
use kurrentdbclient::{NewEvent, StreamState};
use uuid::Uuid;

use super::event;
use crate::common::harness::{ClientUnderTest, TestPersistentSubscription, TestSubscription};
use crate::common::unique;

/// Cuts off (hangs) every node not in `role`, so that only a client talking to
/// a node of that role gets answers; returns the nodes it hung.
async fn hang_all_but(cluster: &mut EmbeddedCluster, role: NodeRole) -> Vec<usize> {
    let others: Vec<usize> = (0..cluster.len())
        .filter(|&i| cluster.role(i) != role)
        .collect();
    for &i in &others {
        cluster.partition_node(i, Partition::Hang).await.unwrap();
    }
    others
}

/// Each node preference, by seed list and by discovery through one node,
/// lands on a node of that role: with every other node hanging, a read (or,
/// for the leader, a write) through the connection is answered in time.
pub async fn each_node_preference_lands_on_a_node_of_that_role<C: ClientUnderTest>(
    cluster: &mut EmbeddedCluster,
) {
    let stream = unique("preference");
    let seeds = cluster.seeds();
    let one = cluster.addr(1).to_string();
    for (preference, role) in [
        ("leader", NodeRole::Leader),
        ("follower", NodeRole::Follower),
        ("readonlyreplica", NodeRole::ReadOnlyReplica),
    ] {
        for uri in [
            format!("kurrentdb://{seeds}?tls=false&nodePreference={preference}"),
            format!("kurrentdb+discover://{one}?tls=false&nodePreference={preference}"),
        ] {
            let client = C::connect(&uri).await.expect("discovered");
            let hung = hang_all_but(cluster, role).await;
            let bounded = Duration::from_secs(2);
            if role == NodeRole::Leader {
                client
                    .append_to_stream(
                        &stream,
                        StreamState::Any,
                        vec![event("A", "{}")],
                        &AppendToStreamOptions::default().timeout(bounded),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{uri}: {e}"));
            } else {
                client
                    .get_commit_position(&GetCommitPositionOptions::default().timeout(bounded))
                    .await
                    .unwrap_or_else(|e| panic!("{uri}: {e}"));
            }
            for i in hung {
                cluster.restart_node(i).await.unwrap();
            }
            client.close();
        }
    }
    // A random node is any alive node.
    let client = C::connect(&format!(
        "kurrentdb://{seeds}?tls=false&nodePreference=random"
    ))
    .await
    .expect("discovered");
    client
        .read_gossip(&ReadGossipOptions::default())
        .await
        .expect("answered");
}

/// A write through a follower-preference connection is denied by the
/// follower, naming the leader; the client takes it to the leader, where it
/// is written once.
pub async fn a_write_through_a_follower_connection_reaches_the_leader<C: ClientUnderTest>(
    cluster: &mut EmbeddedCluster,
) {
    let client = C::connect(&format!(
        "kurrentdb://{}?tls=false&nodePreference=follower",
        cluster.seeds()
    ))
    .await
    .expect("discovered");
    let stream = unique("through-follower");
    let before = cluster.store().log_len();
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("written on the leader");
    assert_eq!(cluster.store().log_len(), before + 1, "written once");
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}

/// When the leader stops, the client finds the new leader (elected after the
/// election timeout) and its appends go on; an append retried across the
/// failover keeps its event ids, so nothing is written twice.
pub async fn the_client_follows_a_new_leader_after_the_leader_stops<C: ClientUnderTest>(
    cluster: &mut EmbeddedCluster,
) {
    let client = C::connect(&cluster.connection_string())
        .await
        .expect("discovered");
    let stream = unique("failover");
    let ids: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    let append = |i: usize| {
        let events = vec![NewEvent::new("E", "{}").with_id(ids[i])];
        let client = &client;
        let stream = stream.clone();
        async move {
            client
                .append_to_stream(
                    &stream,
                    StreamState::Any,
                    events,
                    &AppendToStreamOptions::default(),
                )
                .await
        }
    };
    append(0).await.expect("on the first leader");
    for (round, i) in (1..ids.len()).enumerate() {
        let leader = cluster.leader().expect("a leader");
        cluster.stop_node(leader).await.unwrap();
        // The first attempt meets a stopped node; the client rediscovers
        // (every `discoveryInterval`, `maxDiscoverAttempts` times) until the
        // election is over, and retries with the same event id.
        append(i)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        cluster.restart_node(leader).await.unwrap();
        // Appending the same event again is idempotent.
        append(i).await.expect("the same ids");
    }
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    let read: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    assert_eq!(read, ids, "every event once, in order");
}

/// How many events the chaos scenario appends, and how many times it stops
/// the leader meanwhile (the figures).
const CHAOS_EVENTS: usize = 1_000;
const CHAOS_KILLS: usize = 10;

/// Chaos: 1,000 appends, one by one, while the leader is stopped 10 times at
/// pseudo-random moments (a fixed seed: the same moments every run). Every
/// acknowledged event is in the stream exactly once and in order (an append
/// whose outcome was unknown is retried with the same event id), and a
/// resumable catch-up subscription (`retry`) opened before the first append
/// sees every event exactly once, in order, across the kills: it is read
/// after each kill up to the events acknowledged so far, so that it loses its
/// call to the stopped leader ten times.
pub async fn chaos_appends_and_a_resumable_subscription_survive_ten_leader_stops<
    C: ClientUnderTest,
>(
    cluster: &mut EmbeddedCluster,
) {
    let client = C::connect(&cluster.connection_string())
        .await
        .expect("discovered");
    let stream = unique("chaos");
    let mut subscription = client
        .subscribe_to_stream(
            &stream,
            &SubscribeToStreamOptions::default()
                .retry(SubscriptionRetry::forever(Duration::from_millis(20))),
        )
        .await
        .expect("subscribed");
    let kills = chaos_kills();
    let ids: Vec<Uuid> = (0..CHAOS_EVENTS).map(|_| Uuid::new_v4()).collect();
    let mut seen = Vec::with_capacity(CHAOS_EVENTS);
    let mut stopped = None;
    for (i, &id) in ids.iter().enumerate() {
        if kills.contains(&i) {
            let leader = cluster.leader().expect("a leader");
            cluster.stop_node(leader).await.unwrap();
            stopped = Some(leader);
        }
        append_surely(&client, &stream, i, id).await;
        if let Some(node) = stopped.take() {
            cluster.restart_node(node).await.unwrap();
            // Read what was acknowledged so far: the subscription meets its
            // lost call and resubscribes.
            while seen.len() <= i {
                seen.push(super::next_event(&mut subscription).await.id);
            }
        }
    }
    while seen.len() < CHAOS_EVENTS {
        seen.push(super::next_event(&mut subscription).await.id);
    }
    assert_eq!(seen, ids, "the subscription saw every event once, in order");
    subscription.stop();
    let stored: Vec<Uuid> = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(stored, ids, "every acknowledged event once, in order");
    assert!(cluster.epoch() > CHAOS_KILLS as u64, "ten elections");
}

/// The chaos scenarios' kill moments: CHAOS_KILLS distinct indices below
/// CHAOS_EVENTS, from a fixed-seed LCG (the same moments every run).
fn chaos_kills() -> std::collections::BTreeSet<usize> {
    let mut seed: u64 = 0x5eed_cafe;
    let mut kills = std::collections::BTreeSet::new();
    while kills.len() < CHAOS_KILLS {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        kills.insert(1 + (seed >> 33) as usize % (CHAOS_EVENTS - 1));
    }
    kills
}

/// Appends event `i` (id `id`) to `stream`: an append whose outcome is
/// unknown (the node went away) is retried with the same id, which is
/// idempotent, never written twice.
async fn append_surely<C: ClientUnderTest>(client: &C, stream: &str, i: usize, id: Uuid) {
    let mut tries = 0;
    loop {
        let outcome = client
            .append_to_stream(
                stream,
                StreamState::Any,
                vec![NewEvent::new("Chaos", "{}").with_id(id)],
                &AppendToStreamOptions::default(),
            )
            .await;
        match outcome {
            Ok(_) => return,
            Err(e) if tries < 5 => {
                tries += 1;
                tracing::info!(%e, i, "append retried");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("append {i} failed {tries} times: {e}"),
        }
    }
}

/// The same chaos (1,000 appends, the leader stopped at the same 10 moments)
/// with a consumer of a persistent subscription group joined with `retry`:
/// it keeps consuming across the kills, joining each new leader by itself
/// (persistent subscriptions live on the leader; each election restarts them
/// from the group's last checkpoint). Every event is delivered at least once,
/// none is lost, nothing else arrives; an event comes again only after an
/// election (a restart from the checkpoint), never while the leader stays.
pub async fn chaos_a_resumable_persistent_subscription_keeps_consuming_across_ten_leader_stops<
    C: ClientUnderTest,
>(
    cluster: &mut EmbeddedCluster,
) {
    let client = C::connect(&cluster.connection_string())
        .await
        .expect("discovered");
    let (stream, group) = (unique("chaos-persistent"), unique("group"));
    client
        .create_subscription_to_stream(
            &group,
            &stream,
            &CreateSubscriptionToStreamOptions::default()
                .min_checkpoint_count(1)
                .checkpoint_after(Duration::from_millis(100)),
        )
        .await
        .expect("created on the leader");
    let mut consumer = client
        .read_subscription_to_stream(
            &group,
            &stream,
            &ReadSubscriptionOptions::default()
                .max_ack_delay(Duration::from_millis(10))
                .retry(SubscriptionRetry::forever(Duration::from_millis(20))),
        )
        .await
        .expect("joined");
    let kills = chaos_kills();
    let ids: Vec<Uuid> = (0..CHAOS_EVENTS).map(|_| Uuid::new_v4()).collect();
    let mut seen = Seen {
        ids: &ids,
        count: vec![0; CHAOS_EVENTS],
        checkpoint: None,
    };
    let mut stopped = None;
    for (i, &id) in ids.iter().enumerate() {
        if kills.contains(&i) {
            // What the group has checkpointed when its leader goes: only
            // events after it may come again.
            let info = client
                .get_subscription_info(&group, Some(&stream), &Default::default())
                .await
                .expect("the group's info");
            seen.checkpoint = info.last_checkpointed_event_position.parse().ok();
            let leader = cluster.leader().expect("a leader");
            cluster.stop_node(leader).await.unwrap();
            stopped = Some(leader);
        }
        append_surely(&client, &stream, i, id).await;
        let Some(node) = stopped.take() else { continue };
        cluster.restart_node(node).await.unwrap();
        // Consume (and ack) what was appended so far: the consumer meets its
        // lost call and joins the new leader.
        while seen.count[..=i].contains(&0) {
            seen.consume_one(&mut consumer).await;
        }
    }
    while seen.count.contains(&0) {
        seen.consume_one(&mut consumer).await;
    }
    // Everything is acked: with the leader staying, nothing comes again.
    let more = tokio::time::timeout(Duration::from_millis(500), consumer.next_event()).await;
    assert!(
        more.is_err(),
        "an acked event came again without an election: {more:?}"
    );
    let redelivered: u32 = seen.count.iter().map(|n| n - 1).sum();
    tracing::info!(
        redelivered,
        "persistent chaos: events delivered again after elections"
    );
    consumer.stop().await;
    assert!(cluster.epoch() > CHAOS_KILLS as u64, "ten elections");
}

/// What a consumer of the persistent chaos scenario has received.
struct Seen<'a> {
    /// The appended events' ids, in order (event `i` is at revision `i`).
    ids: &'a [Uuid],
    /// How many times each was delivered.
    count: Vec<u32>,
    /// The group's checkpoint at the last leader stop.
    checkpoint: Option<u64>,
}

impl Seen<'_> {
    /// Receives one event (within 10 s, without error: the consumer joins a
    /// new leader by itself), checks that it is one of `ids` and, if it comes
    /// again, that it is after the checkpoint of the last leader stop, counts
    /// it, and acks it.
    async fn consume_one<S: TestPersistentSubscription>(&mut self, consumer: &mut S) {
        let event = tokio::time::timeout(Duration::from_secs(10), consumer.next_event())
            .await
            .expect("an event within 10 s")
            .expect("the consumer goes on")
            .expect("no error: the consumer joins the new leader by itself");
        let at = self
            .ids
            .iter()
            .position(|&id| id == event.id)
            .expect("one of the appended events");
        if self.count[at] > 0 {
            assert!(
                self.checkpoint.is_none_or(|c| at as u64 > c),
                "event {at} came again, though checkpointed at {:?}",
                self.checkpoint
            );
        }
        self.count[at] += 1;
        consumer.ack(&event).expect("acked");
    }
}

/// A resumable subscription `from_end` (to a stream, and to `$all`) that
/// loses its call before it has delivered any event does not skip what was
/// appended meanwhile: "the end" is the end when it was asked for (the client
/// reads it first), so after the leader stops, the event appended through
/// the new leader comes first; the events from before the subscription never
/// come.
pub async fn a_resumable_subscription_from_the_end_skips_nothing_appended_while_it_was_lost<
    C: ClientUnderTest,
>(
    cluster: &mut EmbeddedCluster,
) {
    let client = C::connect(&cluster.connection_string())
        .await
        .expect("discovered");
    let stream = unique("from-end");
    let before = vec![event("Before", "{}"), event("Before", "{}")];
    super::create_stream(&client, &stream, before).await;
    let retry = SubscriptionRetry::forever(Duration::from_millis(20));
    let mut to_stream = client
        .subscribe_to_stream(
            &stream,
            &SubscribeToStreamOptions::default()
                .from_end(true)
                .retry(retry),
        )
        .await
        .expect("subscribed");
    let mut to_all = client
        .subscribe_to_all(
            &SubscribeToAllOptions::default()
                .from_end(true)
                .filter_include([stream.clone()])
                .filter_by_stream_name(true)
                .filter_by_prefix(true)
                .retry(retry),
        )
        .await
        .expect("subscribed");
    let leader = cluster.leader().expect("a leader");
    cluster.stop_node(leader).await.unwrap();
    let id = Uuid::new_v4();
    append_surely(&client, &stream, 2, id).await;
    cluster.restart_node(leader).await.unwrap();
    assert_eq!(
        super::next_event(&mut to_stream).await.id,
        id,
        "to the stream"
    );
    assert_eq!(super::next_event(&mut to_all).await.id, id, "to $all");
    to_stream.stop();
    to_all.stop();
}

/// Discovery through a DNS name: `kurrentdb+discover://localhost:<port>`
/// resolves `localhost` (to 127.0.0.1, and on some machines ::1 too, where
/// nothing listens: that seed is passed over) and asks each address for
/// gossip; the client lands on the leader.
pub async fn discovery_through_a_dns_name_finds_the_leader<C: ClientUnderTest>(
    cluster: &mut EmbeddedCluster,
) {
    let port = cluster.addr(1).port();
    let client = C::connect(&format!("kurrentdb+discover://localhost:{port}?tls=false"))
        .await
        .expect("discovered");
    let stream = unique("dns");
    let hung = hang_all_but(cluster, NodeRole::Leader).await;
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default().timeout(Duration::from_secs(2)),
        )
        .await
        .expect("written on the leader");
    for i in hung {
        cluster.restart_node(i).await.unwrap();
    }
}
