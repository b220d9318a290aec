//! The Operations service: a scavenge removes from `$all` what KurrentDB's
//! would; stopping scavenges, merging indexes, node priority, resignation and
//! shutdown answer as KurrentDB does, and on a cluster priority and
//! resignation move leadership while the client follows.

use std::time::Duration;

use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster, NodeRole, Security, ServerOptions};
use kurrentdbclient::options::*;
use kurrentdbclient::{Error, RecordedEvent, ScavengeStatus, StreamMetadata, StreamState};

use super::{event, positions};
use crate::common::harness::ClientUnderTest;
use crate::common::{TEST_ELECTION_TIMEOUT, unique};

/// The revisions `$all` holds of `stream` (user events only).
async fn in_all<C: ClientUnderTest>(client: &C, stream: &str) -> Vec<u64> {
    let events: Vec<RecordedEvent> = client.read_all(&ReadAllOptions::default()).await.unwrap();
    positions(
        &events
            .into_iter()
            .filter(|e| e.stream_name == stream)
            .collect::<Vec<_>>(),
    )
}

async fn append_n<C: ClientUnderTest>(client: &C, stream: &str, n: usize) {
    let events = (0..n).map(|_| event("E", "{}")).collect();
    client
        .append_to_stream(
            stream,
            StreamState::Any,
            events,
            &AppendToStreamOptions::default(),
        )
        .await
        .unwrap();
}

/// Deleted, tombstoned, truncated and capped streams keep their events in
/// `$all` until a scavenge, which removes them all but each stream's last
/// event (and a tombstoned stream's every event); stream reads are
/// unchanged. Stopping a scavenge that is not running is not found.
pub async fn a_scavenge_removes_deleted_and_expired_events_from_all<C: ClientUnderTest>(
    client: &C,
) {
    let capped = unique("capped");
    let tombstoned = unique("tombstoned");
    let deleted = unique("deleted");
    let truncated = unique("truncated");
    let untouched = unique("untouched");
    for stream in [&capped, &tombstoned, &deleted, &truncated, &untouched] {
        append_n(client, stream, 3).await;
    }
    let meta = SetStreamMetadataOptions::default();
    client
        .set_stream_metadata(
            &capped,
            &StreamMetadata::default().with_max_count(1),
            StreamState::Any,
            &meta,
        )
        .await
        .unwrap();
    client
        .set_stream_metadata(
            &truncated,
            &StreamMetadata {
                truncate_before: Some(2),
                ..StreamMetadata::default()
            },
            StreamState::Any,
            &meta,
        )
        .await
        .unwrap();
    client
        .tombstone_stream(
            &tombstoned,
            StreamState::Any,
            &TombstoneStreamOptions::default(),
        )
        .await
        .unwrap();
    client
        .delete_stream(&deleted, StreamState::Any, &DeleteStreamOptions::default())
        .await
        .unwrap();
    // Before: `$all` has every event.
    for stream in [&capped, &tombstoned, &deleted, &truncated, &untouched] {
        assert_eq!(in_all(client, stream).await, [0, 1, 2], "{stream}");
    }

    let started = client
        .start_scavenge(&StartScavengeOptions::default())
        .await
        .unwrap();
    assert!(matches!(
        started.status,
        ScavengeStatus::Started | ScavengeStatus::InProgress
    ));
    assert_eq!(started.id.len(), 36, "a GUID: {}", started.id);
    // The scavenge runs in the background: wait until its effect shows.
    let expected: [(&str, &[u64]); 5] = [
        (&capped, &[2]),
        (&tombstoned, &[]),
        // A stream's last event stays.
        (&deleted, &[2]),
        (&truncated, &[2]),
        (&untouched, &[0, 1, 2]),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut now = Vec::new();
        for (stream, _) in expected {
            now.push(in_all(client, stream).await);
        }
        if now.iter().zip(expected).all(|(n, (_, e))| n == e) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scavenged in 10 s: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Stream reads are what they were.
    let read = client
        .get_stream(&capped, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(positions(&read), [2]);

    // Once it has finished, stopping it (or any other) is not found.
    let stop = StopScavengeOptions::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match client.stop_scavenge("current", &stop).await {
            Err(Error::NotFound { .. }) => break,
            Ok(r) => assert_eq!(r.status, ScavengeStatus::Stopped),
            Err(e) => panic!("{e}"),
        }
        assert!(tokio::time::Instant::now() < deadline);
    }
    // Its records, as KurrentDB's `TFChunkScavengerLog` writes them: a
    // started and a completed event in `$scavenges-<id>`, linked from
    // `$scavenges`.
    let records = client
        .get_stream(
            &format!("$scavenges-{}", started.id),
            &ReadStreamOptions::default(),
        )
        .await
        .unwrap();
    let types: Vec<&str> = records.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["$scavengeStarted", "$scavengeCompleted"]);
    let completed: serde_json::Value = serde_json::from_slice(&records[1].data).unwrap();
    assert_eq!(completed["scavengeId"], started.id.as_str());
    assert!(
        ["Success", "Stopped"].contains(&completed["result"].as_str().unwrap_or_default()),
        "{completed}"
    );
    let linked = client
        .get_stream(
            "$scavenges",
            &ReadStreamOptions::default().resolve_links(true),
        )
        .await
        .unwrap()
        .iter()
        .filter(|e| e.link.is_some() && e.stream_name == format!("$scavenges-{}", started.id))
        .count();
    assert_eq!(linked, 2, "both linked from $scavenges");
    let err = client
        .stop_scavenge("4f2a6ce0-6d43-4a5e-9a8e-000000000000", &stop)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client.stop_scavenge("", &stop).await.unwrap_err();
    assert!(matches!(err, Error::Programming(_)), "{err:?}");
}

/// On a single node: merging indexes and setting the priority succeed,
/// resigning re-elects the node (appends go on), and a shutdown is answered
/// before the node stops serving.
pub async fn node_operations_on_a_single_node<C: ClientUnderTest>(client: &C) {
    let stream = unique("ops");
    client
        .merge_indexes(&MergeIndexesOptions::default())
        .await
        .unwrap();
    client
        .set_node_priority(5, &SetNodePriorityOptions::default())
        .await
        .unwrap();
    client
        .resign_node(&ResignNodeOptions::default())
        .await
        .unwrap();
    append_n(client, &stream, 1).await;
    client
        .shutdown_node(&ShutdownNodeOptions::default())
        .await
        .unwrap();
    // The node stops serving (after the calls in flight finish).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let bounded = AppendToStreamOptions::default().timeout(Duration::from_millis(500));
        let appended = client
            .append_to_stream(&stream, StreamState::Any, vec![event("E", "{}")], &bounded)
            .await;
        if appended.is_err() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the node stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// On a cluster: a follower ignores a resignation; a node given a higher
/// priority is the one elected when the leader resigns, and the client's
/// writes follow it; a leader shut down through the Operations service is
/// replaced after the election timeout, and can be restarted.
pub async fn priority_and_resignation_move_leadership<C: ClientUnderTest>(
    cluster: &mut EmbeddedCluster,
) {
    let stream = unique("resign");
    let leader_client = C::connect(&cluster.connection_string()).await.unwrap();
    let direct = |i: usize| format!("kurrentdb://{}?tls=false", cluster.addr(i));
    let node1 = C::connect(&direct(1)).await.unwrap();
    let node2 = C::connect(&direct(2)).await.unwrap();
    append_n(&leader_client, &stream, 1).await;

    node1
        .resign_node(&ResignNodeOptions::default())
        .await
        .unwrap();
    assert_eq!(cluster.leader(), Some(0), "a follower does not resign");

    node2
        .set_node_priority(10, &SetNodePriorityOptions::default())
        .await
        .unwrap();
    assert_eq!(cluster.leader(), Some(0), "priority alone elects nobody");
    let epoch = cluster.epoch();
    leader_client
        .resign_node(&ResignNodeOptions::default())
        .await
        .unwrap();
    assert_eq!(cluster.leader(), Some(2), "the priority decides");
    assert_eq!(cluster.epoch(), epoch + 1);
    assert_eq!(cluster.role(0), NodeRole::Follower);
    // The client's next write meets a follower and follows to node 2.
    append_n(&leader_client, &stream, 1).await;

    node2
        .shutdown_node(&ShutdownNodeOptions::default())
        .await
        .unwrap();
    let leader = cluster
        .wait_for_leader(Duration::from_secs(5))
        .await
        .expect("a new leader");
    assert_ne!(leader, 2);
    assert_eq!(cluster.role(2), NodeRole::Down);
    append_n(&leader_client, &stream, 1).await;
    cluster.restart_node(2).await.unwrap();
    assert_eq!(cluster.role(2), NodeRole::Follower);
    node2
        .read_gossip(&ReadGossipOptions::default())
        .await
        .expect("node 2 serves again");
    let read = leader_client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(positions(&read), [0, 1, 2]);
}

/// A `--dev` cluster: every node serves a certificate signed by one CA, so a
/// client trusting that CA discovers the cluster over TLS (by `localhost`,
/// then each node's advertised `127.0.0.1`), and follows the leader through
/// a resignation. (It starts its own secure cluster beside the insecure one
/// the scenario is given.)
pub async fn a_dev_cluster_is_discovered_over_tls_and_followed_through_a_resign<
    C: ClientUnderTest,
>(
    _insecure: &mut EmbeddedCluster,
) {
    let cluster = EmbeddedCluster::start_with(ClusterOptions {
        election_timeout: TEST_ELECTION_TIMEOUT,
        server: ServerOptions {
            security: Security::Dev,
            ..ServerOptions::default()
        },
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    assert!(cluster.is_secure());
    assert!(cluster.ca_pem().unwrap().contains("BEGIN CERTIFICATE"));
    let ca = cluster.ca_file().unwrap().display().to_string();
    // Plain HTTP/2 gets no answer from a TLS node.
    let plain = C::connect(&format!("kurrentdb://{}?tls=false", cluster.addr(0)))
        .await
        .unwrap();
    assert!(
        plain
            .read_gossip(&ReadGossipOptions::default().timeout(Duration::from_secs(2)))
            .await
            .is_err()
    );
    let uri = format!(
        "kurrentdb+discover://admin:changeit@localhost:{}?tlsCaFile={ca}",
        cluster.addr(1).port()
    );
    let client = C::connect(&uri).await.unwrap();
    let stream = unique("tls-resign");
    append_n(&client, &stream, 1).await;
    let leader = cluster.leader().unwrap();
    client
        .resign_node(&ResignNodeOptions::default())
        .await
        .unwrap();
    let next = cluster.leader().unwrap();
    assert_ne!(next, leader);
    append_n(&client, &stream, 1).await;
    let read = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(positions(&read), [0, 1]);
    // The same connection string also works with the cluster's own.
    let seeds = C::connect(&cluster.connection_string()).await.unwrap();
    append_n(&seeds, &stream, 1).await;
    cluster.shutdown().await;
}
