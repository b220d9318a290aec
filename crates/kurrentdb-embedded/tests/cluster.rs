//! The embedded cluster as clients see it: gossip from every node, roles
//! (not-leader answers naming the leader, follower reads), stopping,
//! restarting and partitioning nodes, and elections.

use std::time::{Duration, Instant};

use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster, NodeRole, Partition, ServerOptions};
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, Error, NewEvent, NodeState, ReadGossipOptions,
    ReadStreamOptions, StreamState,
};

const ELECTION: Duration = Duration::from_millis(100);

async fn cluster(voters: usize, replicas: usize) -> EmbeddedCluster {
    cluster_electing_in(voters, replicas, ELECTION).await
}

async fn cluster_electing_in(
    voters: usize,
    replicas: usize,
    election_timeout: Duration,
) -> EmbeddedCluster {
    EmbeddedCluster::start_with(ClusterOptions {
        cluster_size: voters,
        read_only_replicas: replicas,
        election_timeout,
        ..ClusterOptions::default()
    })
    .await
    .expect("cluster starts")
}

/// A client of node `index` alone (no discovery), with `query` appended.
async fn direct(cluster: &EmbeddedCluster, index: usize, query: &str) -> AsyncKurrentDBClient {
    AsyncKurrentDBClient::connect(&format!(
        "kurrentdb://{}?tls=false{query}",
        cluster.addr(index)
    ))
    .await
    .expect("connects")
}

async fn append(client: &AsyncKurrentDBClient, stream: &str) -> Result<(), Error> {
    client
        .append_to_stream(
            stream,
            StreamState::Any,
            [NewEvent::new("E", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .map(|_| ())
}

#[tokio::test]
async fn gossip_on_every_node_reports_every_member() {
    let cluster = cluster(3, 1).await;
    for index in 0..4 {
        let client = direct(&cluster, index, "").await;
        let members = client
            .read_gossip(&ReadGossipOptions::default())
            .await
            .unwrap();
        assert_eq!(members.len(), 4);
        let states: Vec<_> = members.iter().map(|m| m.state).collect();
        assert_eq!(
            states,
            [
                NodeState::Leader,
                NodeState::Follower,
                NodeState::Follower,
                NodeState::ReadOnlyReplica
            ]
        );
        for (i, m) in members.iter().enumerate() {
            assert!(m.is_alive);
            assert_eq!(m.port, cluster.addr(i).port());
            assert_eq!(m.address, "127.0.0.1");
        }
        let ids: std::collections::HashSet<_> = members.iter().map(|m| m.instance_id).collect();
        assert_eq!(ids.len(), 4, "distinct instance ids");
    }
}

#[tokio::test]
async fn advertised_addresses_are_what_gossip_and_not_leader_answers_give() {
    let cluster = EmbeddedCluster::start_with(ClusterOptions {
        cluster_size: 2,
        server: ServerOptions {
            advertise_host_to_client_as: Some("db.example".into()),
            advertise_node_port_to_client_as: 3000,
            ..ServerOptions::default()
        },
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    let follower = direct(&cluster, 1, "").await;
    let members = follower
        .read_gossip(&ReadGossipOptions::default())
        .await
        .unwrap();
    let advertised: Vec<_> = members
        .iter()
        .map(|m| format!("{}:{}", m.address, m.port))
        .collect();
    assert_eq!(advertised, ["db.example:3000", "db.example:3001"]);
    match append(&follower, "s").await {
        Err(Error::NodeIsNotLeader { leader, .. }) => {
            assert_eq!(leader.unwrap().to_string(), "db.example:3000");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn followers_deny_what_needs_the_leader_and_serve_reads() {
    let cluster = cluster(3, 1).await;
    let leader = direct(&cluster, 0, "").await;
    append(&leader, "orders").await.expect("the leader writes");
    let written = cluster.store().log_len();
    for index in [1, 3] {
        let node = direct(&cluster, index, "&nodePreference=follower").await;
        match append(&node, "orders").await {
            Err(Error::NodeIsNotLeader { leader, .. }) => {
                assert_eq!(leader.unwrap().to_string(), cluster.addr(0).to_string());
            }
            other => panic!("node {index}: {other:?}"),
        }
        // A read without `requires-leader` is served by the follower.
        let events = node
            .get_stream("orders", &ReadStreamOptions::default())
            .await
            .expect("served");
        assert_eq!(events.len(), 1);
        // With the leader preference (the default) every call requires the
        // leader.
        let strict = direct(&cluster, index, "").await;
        let read = strict
            .get_stream("orders", &ReadStreamOptions::default())
            .await;
        assert!(
            matches!(read, Err(Error::NodeIsNotLeader { .. })),
            "{read:?}"
        );
    }
    assert_eq!(
        cluster.store().log_len(),
        written,
        "nothing written by followers"
    );
}

#[tokio::test]
async fn stopping_the_leader_elects_a_new_one_and_loses_nothing() {
    // Longer than the client's one retry (100 ms later), so that the write
    // below meets the leaderless cluster twice.
    let election = Duration::from_millis(800);
    let mut cluster = cluster_electing_in(3, 0, election).await;
    let leader = direct(&cluster, 0, "").await;
    append(&leader, "kept").await.unwrap();
    assert_eq!(cluster.epoch(), 1);
    let stopped = Instant::now();
    cluster.stop_node(0).await.unwrap();
    // Until the election the others have no leader: writes are not ready.
    let follower = direct(&cluster, 1, "").await;
    match append(&follower, "kept").await {
        Err(Error::ServiceUnavailable(_)) => {}
        other => panic!("{other:?}"),
    }
    let new_leader = cluster
        .wait_for_leader(Duration::from_secs(5))
        .await
        .expect("elected");
    let took = stopped.elapsed();
    assert_eq!(new_leader, 1);
    assert!(took >= election, "{took:?}");
    assert_eq!(cluster.epoch(), 2);
    assert_eq!(cluster.role(0), NodeRole::Down);
    let members = follower
        .read_gossip(&ReadGossipOptions::default())
        .await
        .unwrap();
    assert_eq!(members[0].state, NodeState::Shutdown);
    assert!(!members[0].is_alive);
    assert_eq!(members[1].state, NodeState::Leader);
    append(&follower, "kept")
        .await
        .expect("the new leader writes");
    let events = follower
        .get_stream("kept", &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "the first leader's event survived");
    // The old leader is refused while down, and follows when back.
    assert!(append(&leader, "kept").await.is_err());
    cluster.restart_node(0).await.unwrap();
    assert_eq!(cluster.role(0), NodeRole::Follower);
    let back = direct(&cluster, 0, "").await;
    match append(&back, "kept").await {
        Err(Error::NodeIsNotLeader { leader, .. }) => {
            assert_eq!(leader.unwrap().port, cluster.addr(1).port());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn without_a_quorum_there_is_no_leader() {
    let mut cluster = cluster(3, 0).await;
    cluster.stop_node(1).await.unwrap();
    cluster.stop_node(0).await.unwrap();
    // The last node notices (a bound for a busy machine, not a speed
    // claim)...
    let noticed = tokio::time::Instant::now();
    while cluster.leader().is_some() {
        assert!(
            noticed.elapsed() < Duration::from_secs(20),
            "a leader without a quorum"
        );
        tokio::time::sleep(ELECTION / 4).await;
    }
    // ...and elects nobody, round after round.
    tokio::time::sleep(ELECTION * 5).await;
    assert_eq!(cluster.leader(), None);
    assert_eq!(cluster.role(2), NodeRole::Unknown);
    cluster.restart_node(1).await.unwrap();
    assert_eq!(cluster.leader(), Some(1));
}

#[tokio::test]
async fn a_partitioned_node_hangs_or_refuses() {
    let mut cluster = cluster(3, 0).await;
    // Hang: connecting succeeds, calls get no answer.
    let hung = direct(&cluster, 2, "").await;
    append(&hung, "warm").await.expect_err("a follower");
    cluster.partition_node(2, Partition::Hang).await.unwrap();
    let call = tokio::time::timeout(
        Duration::from_millis(300),
        hung.read_gossip(&ReadGossipOptions::default()),
    )
    .await;
    assert!(call.is_err(), "no answer while hung: {call:?}");
    let members = direct(&cluster, 0, "")
        .await
        .read_gossip(&ReadGossipOptions::default())
        .await
        .unwrap();
    assert!(!members[2].is_alive);
    assert_eq!(members[2].state, NodeState::Follower, "its last state");
    cluster.restart_node(2).await.unwrap();
    let healed = direct(&cluster, 2, "").await;
    assert_eq!(
        healed
            .read_gossip(&ReadGossipOptions::default())
            .await
            .unwrap()
            .len(),
        3
    );
    // Refuse: the port is closed.
    cluster.partition_node(2, Partition::Refuse).await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(cluster.addr(2))
            .await
            .is_err(),
        "refused"
    );
    cluster.restart_node(2).await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(cluster.addr(2))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn bad_cluster_options_are_named_errors() {
    for (voters, replicas) in [(0, 1), (40, 40)] {
        let r = EmbeddedCluster::start_with(ClusterOptions {
            cluster_size: voters,
            read_only_replicas: replicas,
            ..ClusterOptions::default()
        })
        .await;
        assert_eq!(
            r.unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput,
            "{voters}+{replicas}"
        );
    }
    let r = EmbeddedCluster::start_with(ClusterOptions {
        server: ServerOptions {
            port: 65535,
            ..ServerOptions::default()
        },
        ..ClusterOptions::default()
    })
    .await;
    assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

/// Persistent subscriptions live on the leader, and an election restarts
/// them (KurrentDB's `PersistentSubscriptionService` shuts its subscriptions
/// down when its node stops leading and loads every group from its
/// checkpoint when it becomes leader): the consumer joined on the old leader
/// is dropped (`persistent-subscription-dropped`), a follower refuses to serve
/// the group, and the new leader delivers the unacked events again.
#[tokio::test]
async fn an_election_drops_persistent_consumers_and_the_new_leader_serves_the_group() {
    use futures::StreamExt;
    use kurrentdbclient::{
        CreateSubscriptionToStreamOptions, ReadSubscriptionOptions, ResignNodeOptions,
    };
    let cluster = cluster(3, 0).await;
    let old = direct(&cluster, 0, "").await;
    old.create_subscription_to_stream("g", "ps", &CreateSubscriptionToStreamOptions::default())
        .await
        .expect("created on the leader");
    for _ in 0..3 {
        append(&old, "ps").await.unwrap();
    }
    let options = ReadSubscriptionOptions::default();
    let mut consumer = old
        .read_subscription_to_stream("g", "ps", &options)
        .await
        .expect("joined on the leader");
    let first = consumer.next().await.unwrap().expect("an event");
    assert_eq!(first.stream_position, 0);
    old.resign_node(&ResignNodeOptions::default())
        .await
        .expect("resigned");
    assert_eq!(cluster.leader(), Some(1));
    let dropped = loop {
        let next = tokio::time::timeout(Duration::from_secs(5), consumer.next());
        match next.await.expect("dropped in time").expect("an end") {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert!(
        matches!(&dropped, Error::Cancelled(m) if m.contains("was dropped")),
        "{dropped:?}"
    );
    let refused = old.read_subscription_to_stream("g", "ps", &options).await;
    assert!(
        matches!(refused, Err(Error::NodeIsNotLeader { .. })),
        "{refused:?}"
    );
    let new = direct(&cluster, 1, "").await;
    let mut consumer = new
        .read_subscription_to_stream("g", "ps", &options)
        .await
        .expect("joined on the new leader");
    let again = consumer.next().await.unwrap().expect("an event");
    assert_eq!(
        (again.id, again.stream_position),
        (first.id, 0),
        "from the checkpoint"
    );
    assert_eq!(
        again.retry_count,
        Some(0),
        "a restarted group counts afresh"
    );
}
