//! Cluster discovery: ask the seed endpoints for gossip, pick a member by node
//! preference, retry `maxDiscoverAttempts` times `discoveryInterval` apart.
//!
//! With a `+discover` connection string the cluster's DNS name is resolved at
//! each attempt, and every address it resolves to is a gossip seed, asked in
//! turn until one answers; over TLS each seed's certificate is verified for
//! the DNS name. A name that does not resolve is tried as given, so the error
//! names it. (The Python client hands the name to gRPC, whose resolver and
//! `pick_first` policy try each address; the official Rust crate hands it to
//! hyper, which tries each address to connect. Here an address that connects
//! but does not answer gossip in time is passed over too.)

use std::future::Future;
use std::net::SocketAddr;

use rand_pick::pick;
use tonic::metadata::MetadataMap;

use super::channel::{TlsMaterial, build_channel_named};
use super::settings::{ConnectionSettings, Endpoint, NodePreference};
use crate::error::{Error, Result};
use crate::proto::gossip::gossip_client::GossipClient;
use crate::proto::shared::Empty;
use crate::server::{ClusterMember, NodeState};

/// Finds the node to talk to, asking the seeds for gossip over channels
/// made with the connection's `tls` material, each request carrying
/// `metadata` (the connection's credentials and name).
pub(crate) async fn discover(
    settings: &ConnectionSettings,
    tls: &TlsMaterial,
    metadata: &MetadataMap,
) -> Result<Endpoint> {
    let attempts = settings.max_discover_attempts().max(1);
    let mut last_error = String::new();
    for attempt in 1..=attempts {
        let seeds = if settings.discover() {
            resolve_seeds(settings.endpoints(), |host, port| async move {
                tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map(|addrs| addrs.collect())
            })
            .await
        } else {
            settings
                .endpoints()
                .iter()
                .map(|e| (e.clone(), e.host.clone()))
                .collect()
        };
        for (seed, tls_name) in &seeds {
            match gossip(settings, tls, metadata, seed, tls_name).await {
                Ok(members) => match select(&members, settings.node_preference()) {
                    Some(member) if members.len() > 1 => {
                        return Ok(Endpoint::new(member.address.clone(), member.port));
                    }
                    // A single node need not advertise a reachable address.
                    Some(_) => return Ok(seed.clone()),
                    None => {
                        last_error = format!(
                            "no alive {} among {} members",
                            settings.node_preference(),
                            members.len()
                        );
                    }
                },
                Err(e) => last_error = format!("{seed}: {e}"),
            }
        }
        if attempt < attempts {
            tokio::time::sleep(settings.discovery_interval()).await;
        }
    }
    Err(Error::DiscoveryFailed(format!(
        "after {attempts} attempts: {last_error}"
    )))
}

/// Every address each endpoint's host resolves to (by `resolve`), in order and
/// without repeats, each with the host it came from (the name its certificate
/// is verified for); an endpoint that does not resolve stays as given.
async fn resolve_seeds<F, Fut>(endpoints: &[Endpoint], resolve: F) -> Vec<(Endpoint, String)>
where
    F: Fn(String, u16) -> Fut,
    Fut: Future<Output = std::io::Result<Vec<SocketAddr>>>,
{
    let mut seeds: Vec<(Endpoint, String)> = Vec::new();
    for endpoint in endpoints {
        let addrs = match resolve(endpoint.host.clone(), endpoint.port).await {
            Ok(addrs) if !addrs.is_empty() => addrs,
            _ => vec![],
        };
        if addrs.is_empty() {
            seeds.push((endpoint.clone(), endpoint.host.clone()));
        }
        for addr in addrs {
            let seed = Endpoint::new(addr.ip().to_string(), addr.port());
            if !seeds.iter().any(|(s, _)| *s == seed) {
                seeds.push((seed, endpoint.host.clone()));
            }
        }
    }
    seeds
}

async fn gossip(
    settings: &ConnectionSettings,
    tls: &TlsMaterial,
    metadata: &MetadataMap,
    seed: &Endpoint,
    tls_name: &str,
) -> Result<Vec<ClusterMember>> {
    let channel = build_channel_named(settings, tls, seed, tls_name)?;
    let mut request = tonic::Request::new(Empty {});
    *request.metadata_mut() = metadata.clone();
    request.set_timeout(settings.gossip_timeout());
    let mut client = GossipClient::new(channel);
    let call = client.read(request);
    let info = tokio::time::timeout(settings.gossip_timeout(), call)
        .await
        .map_err(|_| Error::DeadlineExceeded)??
        .into_inner();
    Ok(ClusterMember::from_cluster_info(info))
}

/// Picks a member by node preference, as the Python client does.
pub(crate) fn select(
    members: &[ClusterMember],
    preference: NodePreference,
) -> Option<&ClusterMember> {
    let alive: Vec<&ClusterMember> = members.iter().filter(|m| m.is_alive).collect();
    let with = |state: NodeState| -> Vec<&ClusterMember> {
        alive.iter().copied().filter(|m| m.state == state).collect()
    };
    match preference {
        NodePreference::Leader => with(NodeState::Leader).first().copied(),
        NodePreference::Follower => pick(&with(NodeState::Follower)),
        NodePreference::ReadOnlyReplica => pick(&with(NodeState::ReadOnlyReplica)),
        NodePreference::Random => pick(&alive),
    }
}

mod rand_pick {
    /// A cheap random pick (no `rand` dependency): uses a fresh v4 UUID's bits.
    pub(super) fn pick<'a, T>(items: &[&'a T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        let r = uuid::Uuid::new_v4().as_u128() as usize;
        Some(items[r % items.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(state: NodeState, port: u16) -> ClusterMember {
        ClusterMember {
            instance_id: None,
            state,
            is_alive: true,
            address: "127.0.0.1".into(),
            port,
            timestamp: 0,
        }
    }

    #[tokio::test]
    async fn every_address_a_name_resolves_to_is_a_seed_verified_for_the_name() {
        let endpoints = [
            Endpoint::new("cluster.example", 2113),
            Endpoint::new("unknown.example", 2113),
        ];
        let seeds = resolve_seeds(&endpoints, |host, port| async move {
            match host.as_str() {
                "cluster.example" => Ok(["10.0.0.1", "10.0.0.2", "10.0.0.1", "::1"]
                    .iter()
                    .map(|ip| SocketAddr::new(ip.parse().unwrap(), port))
                    .collect()),
                _ => Err(std::io::Error::other("no such host")),
            }
        })
        .await;
        let seeds: Vec<(String, u16, &str)> = seeds
            .iter()
            .map(|(e, name)| (e.host.clone(), e.port, name.as_str()))
            .collect();
        assert_eq!(
            seeds,
            [
                ("10.0.0.1".to_owned(), 2113, "cluster.example"),
                ("10.0.0.2".to_owned(), 2113, "cluster.example"),
                ("::1".to_owned(), 2113, "cluster.example"),
                ("unknown.example".to_owned(), 2113, "unknown.example"),
            ]
        );
    }

    #[test]
    fn selects_by_preference() {
        let members = vec![
            member(NodeState::Follower, 1),
            member(NodeState::Leader, 2),
            member(NodeState::ReadOnlyReplica, 3),
        ];
        assert_eq!(select(&members, NodePreference::Leader).unwrap().port, 2);
        assert_eq!(select(&members, NodePreference::Follower).unwrap().port, 1);
        assert_eq!(
            select(&members, NodePreference::ReadOnlyReplica)
                .unwrap()
                .port,
            3
        );
        assert!(select(&members, NodePreference::Random).is_some());
        assert!(select(&members[..1], NodePreference::Leader).is_none());
    }
}
