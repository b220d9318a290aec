//! What the server says about itself and its cluster: gossip ([`ClusterMember`])
//! and supported features ([`ServerInfo`]).

use uuid::Uuid;

use crate::proto::gossip as pg;
use crate::proto::server_features as psf;

/// The state of a cluster node, as gossip reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeState {
    /// Starting up.
    Initializing,
    /// Looking for the leader.
    DiscoverLeader,
    /// Unknown state.
    Unknown,
    /// About to become a replica.
    PreReplica,
    /// Catching up with the leader.
    CatchingUp,
    /// A clone.
    Clone,
    /// A follower.
    Follower,
    /// About to become leader.
    PreLeader,
    /// The leader.
    Leader,
    /// A manager node.
    Manager,
    /// Shutting down.
    ShuttingDown,
    /// Shut down.
    Shutdown,
    /// A read-only replica without a leader.
    ReadOnlyLeaderless,
    /// About to become a read-only replica.
    PreReadOnlyReplica,
    /// A read-only replica.
    ReadOnlyReplica,
    /// Resigning leadership.
    ResigningLeader,
}

impl NodeState {
    fn from_proto(value: i32) -> NodeState {
        use pg::member_info::VNodeState as V;
        match V::try_from(value).unwrap_or(V::Unknown) {
            V::Initializing => NodeState::Initializing,
            V::DiscoverLeader => NodeState::DiscoverLeader,
            V::Unknown => NodeState::Unknown,
            V::PreReplica => NodeState::PreReplica,
            V::CatchingUp => NodeState::CatchingUp,
            V::Clone => NodeState::Clone,
            V::Follower => NodeState::Follower,
            V::PreLeader => NodeState::PreLeader,
            V::Leader => NodeState::Leader,
            V::Manager => NodeState::Manager,
            V::ShuttingDown => NodeState::ShuttingDown,
            V::Shutdown => NodeState::Shutdown,
            V::ReadOnlyLeaderless => NodeState::ReadOnlyLeaderless,
            V::PreReadOnlyReplica => NodeState::PreReadOnlyReplica,
            V::ReadOnlyReplica => NodeState::ReadOnlyReplica,
            V::ResigningLeader => NodeState::ResigningLeader,
        }
    }
}

/// One member of a KurrentDB cluster, from [`read_gossip`].
///
/// [`read_gossip`]: crate::AsyncKurrentDBClient::read_gossip
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterMember {
    /// The node's instance id.
    pub instance_id: Option<Uuid>,
    /// The node's state (leader, follower, ...).
    pub state: NodeState,
    /// Whether the node is alive.
    pub is_alive: bool,
    /// The host clients connect to.
    pub address: String,
    /// The port clients connect to.
    pub port: u16,
    /// The gossip timestamp.
    pub timestamp: i64,
}

impl ClusterMember {
    /// The members a gossip answer lists.
    pub(crate) fn from_cluster_info(info: pg::ClusterInfo) -> Vec<ClusterMember> {
        info.members
            .into_iter()
            .map(ClusterMember::from_proto)
            .collect()
    }

    fn from_proto(m: pg::MemberInfo) -> ClusterMember {
        let ep = m.http_end_point.unwrap_or_default();
        ClusterMember {
            instance_id: m.instance_id.and_then(crate::wire::uuid_from_proto),
            state: NodeState::from_proto(m.state),
            is_alive: m.is_alive,
            address: ep.address,
            port: u16::try_from(ep.port).unwrap_or_default(),
            timestamp: m.time_stamp,
        }
    }
}

/// One gRPC method the server serves, with its optional features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedMethod {
    /// The gRPC service, for example `event_store.client.streams.streams`.
    pub service_name: String,
    /// The method, for example `batchappend`.
    pub method_name: String,
    /// Optional features of the method, for example `position` or `stream`.
    pub features: Vec<String>,
}

/// The server's version and the methods it serves, from [`get_server_info`].
///
/// [`get_server_info`]: crate::AsyncKurrentDBClient::get_server_info
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server's version string, for example `25.1.0`.
    pub version: String,
    /// The methods the server serves.
    pub methods: Vec<SupportedMethod>,
}

impl ServerInfo {
    pub(crate) fn from_proto(m: psf::SupportedMethods) -> ServerInfo {
        ServerInfo {
            version: m.event_store_server_version,
            methods: m
                .methods
                .into_iter()
                .map(|m| SupportedMethod {
                    service_name: m.service_name,
                    method_name: m.method_name,
                    features: m.features,
                })
                .collect(),
        }
    }

    /// Whether the server serves `method` of `service` (names compared ignoring
    /// letter case; `service` may be the full name or its last segment).
    pub fn supports(&self, service: &str, method: &str) -> bool {
        self.methods.iter().any(|m| {
            let last = m.service_name.rsplit('.').next().unwrap_or(&m.service_name);
            (m.service_name.eq_ignore_ascii_case(service) || last.eq_ignore_ascii_case(service))
                && m.method_name.eq_ignore_ascii_case(method)
        })
    }
}
