//! The official Rust client (`kurrentdb`) against an embedded three-node
//! cluster: it connects by discovery (`kurrentdb+discover://` and the older
//! `esdb+discover://`, both schemes it accepts) through one node, appends,
//! reads and subscribes on the leader, and follows the new leader when the
//! leader resigns (the Operations service's `ResignNode`): the old leader
//! answers not-leader naming the new one, the client reconnects there and its
//! appends go on (retried by the test with the same event ids, so nothing is
//! written twice), and its catch-up subscription with retry options sees
//! every event once, in order.
//!
//! Why a resignation and not a stopped leader: the official crate (1.2.0)
//! does not rediscover after losing its node. On a server error it sends
//! `Msg::CreateChannel(id, None)`, and `NodeConnection::next(None)` hands back
//! the handle it already has (`grpc.rs`), so its calls keep going to the
//! stopped node; only a not-leader answer (`CreateChannel(id, Some(leader))`)
//! moves it. A real KurrentDB cluster would leave it in the same place.

use std::time::Duration;

use kurrentdb::{
    AppendToStreamOptions, Client as OfficialClient, ClientSettings, EventData, ReadStreamOptions,
    RetryOptions, StreamPosition, SubscribeToStreamOptions,
};
use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster};
use uuid::Uuid;

/// How long a wait may take before the test fails instead of hanging.
const WAIT: Duration = Duration::from_secs(15);

fn event(id: Uuid) -> EventData {
    EventData::json("E", &serde_json::json!({})).unwrap().id(id)
}

/// Appends `id`, retrying (same id: idempotent) while the cluster elects;
/// how many attempts failed.
async fn append_surely(client: &OfficialClient, stream: &str, id: Uuid) -> u32 {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut failures = 0;
    loop {
        match client
            .append_to_stream(stream, &AppendToStreamOptions::default(), event(id))
            .await
        {
            Ok(_) => return failures,
            Err(e) if tokio::time::Instant::now() < deadline => {
                failures += 1;
                eprintln!("append {id} failed ({e}), retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("append {id} failed {failures} times, the last: {e}"),
        }
    }
}

async fn read_ids(client: &OfficialClient, stream: &str) -> Vec<Uuid> {
    let options = ReadStreamOptions::default().position(StreamPosition::Start);
    let mut read = client.read_stream(stream, &options).await.expect("read");
    let mut ids = Vec::new();
    while let Some(e) = read.next().await.expect("read") {
        ids.push(e.get_original_event().id);
    }
    ids
}

async fn discovers_and_follows_the_leader(scheme: &str) {
    let cluster = EmbeddedCluster::start_with(ClusterOptions {
        election_timeout: Duration::from_millis(200),
        ..ClusterOptions::default()
    })
    .await
    .expect("cluster starts");
    // Discovery through a follower: the client must find the leader.
    assert_eq!(cluster.leader(), Some(0));
    let uri = format!("{scheme}://{}?tls=false", cluster.addr(1));
    let settings: ClientSettings = uri.parse().expect("the official client parses the uri");
    let client = OfficialClient::new(settings).expect("the official client is created");
    let stream = format!("official-cluster-{}", Uuid::new_v4().simple());
    let ids: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    for &id in &ids[..3] {
        assert_eq!(append_surely(&client, &stream, id).await, 0, "{scheme}");
    }
    assert_eq!(
        read_ids(&client, &stream).await,
        ids[..3],
        "{scheme}: read back"
    );
    let retry = RetryOptions::default()
        .retry_forever()
        .retry_delay(Duration::from_millis(50));
    let mut subscription = client
        .subscribe_to_stream(
            stream.as_str(),
            &SubscribeToStreamOptions::default()
                .start_from(StreamPosition::Start)
                .retry_options(retry),
        )
        .await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let e = tokio::time::timeout(WAIT, subscription.next())
            .await
            .expect("an event in time")
            .expect("subscribed");
        seen.push(e.get_original_event().id);
    }

    let leader = cluster.leader().expect("a leader");
    let ours = kurrentdbclient::AsyncKurrentDBClient::connect(&format!(
        "kurrentdb://{}?tls=false",
        cluster.addr(leader)
    ))
    .await
    .expect("connects");
    ours.resign_node(&kurrentdbclient::ResignNodeOptions::default())
        .await
        .expect("resigned");
    let mut failures = Vec::new();
    for &id in &ids[3..] {
        failures.push(append_surely(&client, &stream, id).await);
    }
    eprintln!("{scheme}: appends failed while electing: {failures:?}");
    assert_ne!(cluster.leader(), Some(leader), "a new leader");
    assert_eq!(
        read_ids(&client, &stream).await,
        ids,
        "{scheme}: every event once"
    );
    while seen.len() < 6 {
        let e = tokio::time::timeout(WAIT, subscription.next())
            .await
            .expect("an event in time")
            .expect("resubscribed by itself");
        seen.push(e.get_original_event().id);
    }
    assert_eq!(
        seen, ids,
        "{scheme}: the subscription saw every event once, in order"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_discovers_by_kurrentdb_discover_and_follows_a_resigned_leader() {
    discovers_and_follows_the_leader("kurrentdb+discover").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_discovers_by_esdb_discover_and_follows_a_resigned_leader() {
    discovers_and_follows_the_leader("esdb+discover").await;
}
