//! A fake follower node: its gossip names only itself (stale gossip, as right
//! after an election), and every append is answered the way a KurrentDB
//! follower answers a write that requires the leader: `NotFound` "Leader info
//! available" with the `not-leader` exception and the leader's address in the
//! trailers.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::Stream;
use kurrentdbclient::proto::gossip::gossip_server::{Gossip, GossipServer};
use kurrentdbclient::proto::gossip::{ClusterInfo, EndPoint, MemberInfo, member_info};
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::streams_server::{Streams, StreamsServer};
use kurrentdbclient::proto::streams::*;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status, Streaming};

/// A running fake follower.
pub struct FakeFollower {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// How many appends it refused.
    pub appends: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Node(Arc<NodeState>);

struct NodeState {
    me: SocketAddr,
    leader: SocketAddr,
    appends: Arc<AtomicUsize>,
}

fn not_leader(leader: SocketAddr) -> Status {
    let mut status = Status::not_found("Leader info available");
    let meta = status.metadata_mut();
    meta.insert("exception", "not-leader".parse().unwrap());
    meta.insert(
        "leader-endpoint-host",
        leader.ip().to_string().parse().unwrap(),
    );
    meta.insert(
        "leader-endpoint-port",
        leader.port().to_string().parse().unwrap(),
    );
    status
}

#[tonic::async_trait]
impl Gossip for Node {
    async fn read(&self, _: Request<Empty>) -> Result<Response<ClusterInfo>, Status> {
        Ok(Response::new(ClusterInfo {
            members: vec![MemberInfo {
                instance_id: None,
                time_stamp: 0,
                state: member_info::VNodeState::Leader as i32,
                is_alive: true,
                http_end_point: Some(EndPoint {
                    address: self.0.me.ip().to_string(),
                    port: u32::from(self.0.me.port()),
                }),
            }],
        }))
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Streams for Node {
    type ReadStream = BoxStream<ReadResp>;
    type BatchAppendStream = BoxStream<BatchAppendResp>;

    async fn read(&self, _: Request<ReadReq>) -> Result<Response<Self::ReadStream>, Status> {
        Err(Status::unimplemented("fake follower"))
    }
    async fn append(
        &self,
        _: Request<Streaming<AppendReq>>,
    ) -> Result<Response<AppendResp>, Status> {
        self.0.appends.fetch_add(1, Ordering::SeqCst);
        Err(not_leader(self.0.leader))
    }
    async fn delete(&self, _: Request<DeleteReq>) -> Result<Response<DeleteResp>, Status> {
        Err(not_leader(self.0.leader))
    }
    async fn tombstone(&self, _: Request<TombstoneReq>) -> Result<Response<TombstoneResp>, Status> {
        Err(not_leader(self.0.leader))
    }
    async fn batch_append(
        &self,
        _: Request<Streaming<BatchAppendReq>>,
    ) -> Result<Response<Self::BatchAppendStream>, Status> {
        Err(not_leader(self.0.leader))
    }
}

impl FakeFollower {
    /// Starts a fake follower whose leader is `leader` (`host:port`).
    pub async fn start(leader: &str) -> FakeFollower {
        let leader: SocketAddr = leader.parse().expect("leader address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let me = listener.local_addr().expect("addr");
        let appends = Arc::new(AtomicUsize::new(0));
        let node = Node(Arc::new(NodeState {
            me,
            leader,
            appends: appends.clone(),
        }));
        let server = tonic::transport::Server::builder()
            .add_service(GossipServer::new(node.clone()))
            .add_service(StreamsServer::new(node));
        let task = tokio::spawn(async move {
            let _ = server
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await;
        });
        FakeFollower {
            addr: me.to_string(),
            appends,
            task,
        }
    }
}
