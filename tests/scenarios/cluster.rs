//! The cluster: gossip and server info, discovery through seed endpoints, and
//! the reconnection to the leader when a follower answers "not leader".

use kurrentdbclient::options::*;
use kurrentdbclient::{Error, NodeState, StreamState};
use std::time::Duration;

use super::event;
use crate::common::harness::ClientUnderTest;
use crate::common::{against_real_server, server_addr, server_uri, unique, with_endpoint};

/// Gossip names the node; server info names the version and the methods.
pub async fn gossip_and_server_info<C: ClientUnderTest>(client: &C) {
    let members = client
        .read_gossip(&ReadGossipOptions::default())
        .await
        .unwrap();
    assert!(!members.is_empty());
    assert!(
        members
            .iter()
            .any(|m| m.state == NodeState::Leader && m.is_alive)
    );
    let info = client
        .get_server_info(&GetServerInfoOptions::default())
        .await
        .unwrap();
    assert!(!info.version.is_empty());
    assert!(info.supports("streams", "read"), "{info:?}");
}

/// With several seed endpoints the client asks them for gossip (skipping a dead
/// one) and picks the leader; when none answers, connecting fails with
/// DiscoveryFailed after `maxDiscoverAttempts`.
pub async fn cluster_seeds_are_discovered_through_gossip<C: ClientUnderTest>(_client: &C) {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let seeds = format!("{dead},{}", server_addr());
    let client = C::connect(&with_endpoint(&server_uri(), &seeds))
        .await
        .expect("discovered");
    let stream = unique("discovered");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("append through the discovered node");
    let dead2 = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let started = std::time::Instant::now();
    let r = C::connect(&format!(
        "kurrentdb://{dead},{dead2}?tls=false&maxDiscoverAttempts=2&discoveryInterval=10"
    ))
    .await;
    assert!(matches!(r, Err(Error::DiscoveryFailed(_))), "{:?}", r.err());
    // It gives up (a bound for a busy machine, not a speed claim).
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A write sent to a follower is answered "not leader" with the leader's
/// address: a cluster connection (several seeds) reconnects to the leader and
/// retries once; a direct connection (one endpoint) reports NodeIsNotLeader with
/// the leader's address.
pub async fn not_leader_reconnects_to_the_leader<C: ClientUnderTest>(client: &C) {
    if against_real_server() && !server_uri().contains("tls=false") {
        return; // the fake follower speaks plain HTTP/2 only
    }
    let follower = crate::common::fake_follower::FakeFollower::start(&server_addr()).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let cluster = C::connect(&with_endpoint(
        &server_uri(),
        &format!("{},{dead}", follower.addr),
    ))
    .await
    .expect("discovered the (stale) leader");
    let stream = unique("leader");
    cluster
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
        .expect("retried on the leader");
    assert_eq!(
        follower.appends.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let events = client
        .get_stream(&stream, &ReadStreamOptions::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "written once, on the leader");

    let direct = C::connect(&with_endpoint(&server_uri(), &follower.addr))
        .await
        .unwrap();
    match direct
        .append_to_stream(
            &unique("leader"),
            StreamState::Any,
            vec![event("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await
    {
        Err(Error::NodeIsNotLeader { leader, .. }) => {
            assert_eq!(leader.expect("the leader").to_string(), server_addr());
        }
        other => panic!("{other:?}"),
    }
}
