//! Cluster discovery: ask the seed endpoints for gossip, pick a member by node
//! preference, retry `maxDiscoverAttempts` times `discoveryInterval` apart.

use rand_pick::pick;

use super::Connection;
use super::settings::{Endpoint, NodePreference};
use crate::error::{Error, Result};
use crate::proto::gossip::gossip_client::GossipClient;
use crate::proto::shared::Empty;
use crate::server::{ClusterMember, NodeState};

/// Finds the node to talk to.
pub(crate) async fn discover(conn: &Connection) -> Result<Endpoint> {
    let settings = conn.settings();
    let attempts = settings.max_discover_attempts().max(1);
    let mut last_error = String::new();
    for attempt in 1..=attempts {
        for seed in settings.endpoints() {
            match gossip(conn, seed).await {
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

async fn gossip(conn: &Connection, seed: &Endpoint) -> Result<Vec<ClusterMember>> {
    let channel = conn.channel_to(seed)?;
    let mut request = tonic::Request::new(Empty {});
    *request.metadata_mut() = conn.call_metadata(None, false)?;
    request.set_timeout(conn.settings().gossip_timeout());
    let mut client = GossipClient::new(channel);
    let call = client.read(request);
    let info = tokio::time::timeout(conn.settings().gossip_timeout(), call)
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
