//! The official Rust client (`kurrentdb` 1.2 from crates.io) reads the
//! embedded server's gossip, both ways it has:
//!
//! - discovery (`kurrentdb+discover://`): the gRPC `Gossip.Read` of
//!   `event_store.client.gossip` (`operations/gossip.rs::read`, called by
//!   `grpc.rs` for each seed), whose members (state, alive, HTTP end point)
//!   pick the node it connects to. Seen here as the node it selects: the
//!   leader, reached through a follower's seed.
//! - `operations::Client::read_gossip`: an HTTP `GET /gossip` with reqwest
//!   (`operations/gossip.rs::http_read`), KurrentDB's `ClientClusterInfo`
//!   JSON parsed field by field (`instanceId` and `epochId` as UUIDs,
//!   `timeStamp` as an RFC 3339 time, `state` by its PascalCase name,
//!   `httpEndPointIp`/`httpEndPointPort`, the checkpoints as numbers).
//!
//! On an insecure node, a `--dev` TLS node and a three-node cluster, the
//! members it reads must be the nodes as they are: states, addresses,
//! ports, alive.
//!
//! The HTTP read over TLS: the official crate builds its reqwest client
//! with the system's roots only (`tlsCaFile` is not passed on), so against
//! a node whose certificate a private CA signed, as a `--dev` node's, it
//! needs `tlsVerifyCert=false`, against KurrentDB as against this server.

use std::net::SocketAddr;
use std::time::Duration;

use kurrentdb::ClientSettings;
use kurrentdb::operations::{Client as OfficialOperations, MemberInfo, VNodeState};
use kurrentdb_embedded::{
    ClusterOptions, EmbeddedCluster, EmbeddedServer, Security, ServerOptions,
};

/// How long a wait may take before the test fails instead of hanging.
const WAIT: Duration = Duration::from_secs(15);

fn official(uri: &str) -> OfficialOperations {
    let settings: ClientSettings = uri.parse().expect("the official client parses the uri");
    OfficialOperations::new(settings).expect("the official operations client is created")
}

/// The gossip the official client reads over HTTP (`GET /gossip`).
async fn read_gossip(client: &OfficialOperations) -> Vec<MemberInfo> {
    tokio::time::timeout(WAIT, client.read_gossip())
        .await
        .expect("gossip in time")
        .expect("the official client reads the gossip")
}

/// Asserts that `member` is alive, in `state`, at `addr`, with a time and
/// an instance id.
fn assert_member(member: &MemberInfo, state: VNodeState, addr: SocketAddr) {
    assert_eq!(member.state, state, "{member:?}");
    assert!(member.is_alive, "{member:?}");
    assert_eq!(
        member.http_end_point.host,
        addr.ip().to_string(),
        "{member:?}"
    );
    assert_eq!(
        member.http_end_point.port,
        u32::from(addr.port()),
        "{member:?}"
    );
    assert!(!member.instance_id.is_nil(), "{member:?}");
    assert!(member.time_stamp > 0, "{member:?}");
}

#[tokio::test]
async fn official_reads_the_gossip_of_an_insecure_node() {
    let server = EmbeddedServer::start().await.expect("server starts");
    let client = official(&server.connection_string());
    let members = read_gossip(&client).await;
    assert_eq!(members.len(), 1, "{members:?}");
    assert_member(&members[0], VNodeState::Leader, server.addr());
    // The log's end, as the checkpoints say.
    assert!(members[0].writer_checkpoint > 0, "{members:?}");
    assert_eq!(
        members[0].writer_checkpoint, members[0].last_commit_position,
        "{members:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn official_reads_the_gossip_of_a_dev_tls_node() {
    let server = EmbeddedServer::start_with(ServerOptions {
        security: Security::Dev,
        ..Default::default()
    })
    .await
    .expect("a dev server starts");
    // As the official crate is told to reach a `--dev` KurrentDB: a login,
    // the dev CA for gRPC and, for its HTTP read, no certificate check.
    let client = official(&format!(
        "kurrentdb://admin:changeit@{}?tlsCaFile={}&tlsVerifyCert=false",
        server.addr(),
        server.ca_file().expect("a dev CA file").display()
    ));
    let members = read_gossip(&client).await;
    assert_eq!(members.len(), 1, "{members:?}");
    assert_member(&members[0], VNodeState::Leader, server.addr());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_discovers_a_cluster_by_gossip_and_reads_its_members() {
    let cluster = EmbeddedCluster::start_with(ClusterOptions {
        election_timeout: Duration::from_millis(200),
        ..ClusterOptions::default()
    })
    .await
    .expect("cluster starts");
    let leader = cluster
        .wait_for_leader(WAIT)
        .await
        .expect("the cluster elects a leader");
    let follower = (leader + 1) % cluster.len();
    // Discovery through a follower's seed only: the gRPC gossip it reads
    // there must lead it to the leader.
    let client = official(&format!(
        "kurrentdb+discover://{}?tls=false",
        cluster.addr(follower)
    ));
    let selected = tokio::time::timeout(WAIT, client.current_selected_node())
        .await
        .expect("discovery in time")
        .expect("the official client discovers a node");
    assert_eq!(
        (selected.host.as_str(), selected.port),
        (
            cluster.addr(leader).ip().to_string().as_str(),
            u32::from(cluster.addr(leader).port())
        ),
        "discovery picks the leader"
    );
    // And the HTTP gossip of the node it selected: every node as it is.
    let members = read_gossip(&client).await;
    assert_eq!(members.len(), 3, "{members:?}");
    for index in 0..cluster.len() {
        let addr = cluster.addr(index);
        let member = members
            .iter()
            .find(|m| m.http_end_point.port == u32::from(addr.port()))
            .unwrap_or_else(|| panic!("node {index} ({addr}) is in {members:?}"));
        let state = if index == leader {
            VNodeState::Leader
        } else {
            VNodeState::Follower
        };
        assert_member(member, state, addr);
    }
    let mut ids: Vec<_> = members.iter().map(|m| m.instance_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each node has an instance id of its own");
    cluster.shutdown().await;
}
