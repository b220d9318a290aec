//! `event_store.client.gossip.Gossip`: the cluster as this node sees it, every
//! member with its state, instance id, liveness and the address clients are to
//! use (KurrentDB's `Gossip.Read`, built from its `ClientClusterInfo`: the
//! advertised host and port when set, else the node's own). A single node is a
//! cluster of one member, itself, the leader.
//!
//! The client-facing `MemberInfo` has no epoch nor writer checkpoint (those
//! are in KurrentDB's internal cluster gossip); the epoch is kept in the
//! membership, for elections and tests.

use std::sync::Arc;

use kurrentdbclient::proto::gossip::gossip_server::Gossip;
use kurrentdbclient::proto::gossip::{ClusterInfo, EndPoint, MemberInfo};
use kurrentdbclient::proto::shared::Empty;
use tonic::{Request, Response, Status};

use super::uuid_to_proto;
use crate::membership::Membership;

/// The gossip service.
#[derive(Debug, Clone)]
pub(crate) struct GossipService {
    membership: Arc<Membership>,
}

impl GossipService {
    /// A service describing `membership`.
    pub(crate) fn new(membership: Arc<Membership>) -> Self {
        GossipService { membership }
    }
}

#[tonic::async_trait]
impl Gossip for GossipService {
    async fn read(&self, _request: Request<Empty>) -> Result<Response<ClusterInfo>, Status> {
        // The real server's `time_stamp` is .NET ticks (UTC).
        let time_stamp = crate::ticks::now_ticks();
        let members = self
            .membership
            .view()
            .into_iter()
            .map(|m| MemberInfo {
                instance_id: Some(uuid_to_proto(m.instance_id, false)),
                time_stamp,
                state: m.state as i32,
                is_alive: m.is_alive,
                http_end_point: Some(EndPoint {
                    address: m.host,
                    port: u32::from(m.port),
                }),
            })
            .collect();
        Ok(Response::new(ClusterInfo { members }))
    }
}
