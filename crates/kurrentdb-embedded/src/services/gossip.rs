//! `event_store.client.gossip.Gossip`: the cluster as this node sees it, which
//! is one member, itself, the leader.

use kurrentdbclient::proto::gossip::gossip_server::Gossip;
use kurrentdbclient::proto::gossip::{ClusterInfo, EndPoint, MemberInfo, member_info::VNodeState};
use kurrentdbclient::proto::shared::Empty;
use tonic::{Request, Response, Status};

use super::uuid_to_proto;

/// The gossip service.
#[derive(Debug, Clone)]
pub struct GossipService {
    instance_id: uuid::Uuid,
    address: String,
    port: u16,
}

impl GossipService {
    /// A service describing the node at `address:port`.
    pub fn new(instance_id: uuid::Uuid, address: String, port: u16) -> Self {
        GossipService {
            instance_id,
            address,
            port,
        }
    }
}

#[tonic::async_trait]
impl Gossip for GossipService {
    async fn read(&self, _request: Request<Empty>) -> Result<Response<ClusterInfo>, Status> {
        // The real server's `time_stamp` is .NET ticks (UTC).
        let member = MemberInfo {
            instance_id: Some(uuid_to_proto(self.instance_id, false)),
            time_stamp: crate::store::now_ticks(),
            state: VNodeState::Leader as i32,
            is_alive: true,
            http_end_point: Some(EndPoint {
                address: self.address.clone(),
                port: u32::from(self.port),
            }),
        };
        Ok(Response::new(ClusterInfo {
            members: vec![member],
        }))
    }
}
