//! The official Rust client's operations client (`kurrentdb::operations`)
//! against the embedded server's Operations service: each call answers as
//! KurrentDB's does, and a scavenge removes what KurrentDB's removes from
//! `$all`, seen through our client.

use std::time::Duration;

use kurrentdb::operations::{Client as OfficialOperations, OperationalOptions, ScavengeStatus};
use kurrentdb::{ClientSettings, Error as OfficialError};
use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster, EmbeddedServer};
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, DeleteStreamOptions, NewEvent, ReadAllOptions,
    StreamState,
};
use uuid::Uuid;

/// How long a wait may take before the test fails instead of hanging.
const WAIT: Duration = Duration::from_secs(10);

fn official(uri: &str) -> OfficialOperations {
    let settings: ClientSettings = uri.parse().expect("the official client parses the uri");
    OfficialOperations::new(settings).expect("the official operations client is created")
}

#[tokio::test]
async fn official_scavenge_start_and_stop_answer_as_kurrentdb() {
    let server = EmbeddedServer::start().await.expect("server starts");
    let uri = server.connection_string();
    let ours = AsyncKurrentDBClient::connect(&uri).await.expect("connects");
    let ops = official(&uri);
    let options = OperationalOptions::default();
    let stream = format!("deleted-{}", Uuid::new_v4().simple());
    ours.append_to_stream(
        &stream,
        StreamState::Any,
        (0..3).map(|n| NewEvent::new("E", format!("{{\"n\":{n}}}"))),
        &AppendToStreamOptions::default(),
    )
    .await
    .unwrap();
    ours.delete_stream(&stream, StreamState::Any, &DeleteStreamOptions::default())
        .await
        .unwrap();

    let started = ops.start_scavenge(1, 0, &options).await.unwrap();
    assert!(matches!(
        started.status(),
        ScavengeStatus::Started | ScavengeStatus::InProgress
    ));
    assert!(Uuid::parse_str(started.id()).is_ok(), "{}", started.id());
    // The deleted stream's events leave `$all`, but its last one.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left: Vec<u64> = ours
            .read_all(&ReadAllOptions::default())
            .await
            .unwrap()
            .collect_events()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.stream_name == stream)
            .map(|e| e.stream_position)
            .collect();
        if left == [2] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scavenged: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Nothing runs now: stopping is "not found" (NOT_FOUND with
    // `scavenge-not-found`, which the official crate reads as such).
    let err = ops.stop_scavenge("current", &options).await.unwrap_err();
    assert!(matches!(err, OfficialError::ResourceNotFound), "{err:?}");
    ops.merge_indexes(&options).await.unwrap();
    ops.set_node_priority(3, &options).await.unwrap();
    ops.restart_persistent_subscriptions(&options)
        .await
        .unwrap();
    ops.resign_node(&options).await.unwrap();
    ops.shutdown(&options).await.unwrap();
}

#[tokio::test]
async fn official_resign_node_moves_the_cluster_leader() {
    let cluster = EmbeddedCluster::start_with(ClusterOptions {
        election_timeout: Duration::from_millis(100),
        ..ClusterOptions::default()
    })
    .await
    .expect("cluster starts");
    let leader = cluster.leader().expect("a leader");
    let ops = official(&format!("kurrentdb://{}?tls=false", cluster.addr(leader)));
    ops.resign_node(&OperationalOptions::default())
        .await
        .unwrap();
    let next = cluster.leader().expect("a new leader");
    assert_ne!(next, leader);
    cluster.shutdown().await;
}
