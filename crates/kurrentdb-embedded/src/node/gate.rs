//! The role gate: the one place where a node's role decides whether it serves
//! a call, for a single node and a cluster alike.
//!
//! What KurrentDB does (read in its `ClusterVNodeController`, the
//! `HandleAsNonLeader` / `HandleAsReadOnlyReplica` handlers, and
//! `RpcExceptions.TryHandleNotHandled`):
//! - a write (v1 `Append`, `BatchAppend`, `Delete`, `Tombstone`) on a follower
//!   with `requires-leader: true` is denied "not leader"; without it the
//!   follower forwards it to the leader (here: the nodes share one log, so the
//!   node serves it, which is what forwarding achieves). A read-only replica
//!   denies every client write the same way;
//! - a read with `requires-leader: true` on a follower is denied; without it
//!   it is served by the follower;
//! - persistent subscriptions live on the leader: every call of that service
//!   on another node is denied;
//! - "denied" is `NOT_FOUND` "Leader info available" with trailers
//!   `exception: not-leader`, `leader-endpoint-host`, `leader-endpoint-port`
//!   (the leader's advertised HTTP endpoint, `LeaderInfoProvider`); v2 calls
//!   get the v2 API's `FAILED_PRECONDITION` with `NotLeaderNodeErrorDetails`
//!   (`ApiErrors.NotLeaderNode`). With no leader known (an election pending)
//!   the answer is `UNAVAILABLE` "Server Is Not Ready".
//!
//! Gossip, server features and the other services are served by any node.
//! The `requires-leader` header is read as KurrentDB reads it (`bool.TryParse`:
//! `true` in any case; anything else is false).

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use kurrentdbclient::proto::kurrent::rpc::NotLeaderNodeErrorDetails;
use kurrentdbclient::proto::kurrent::rpc::not_leader_node_error_details::NodeInfo;
use tonic::body::Body;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use crate::membership::{Membership, Route};

/// What a call asks of the node it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Any node serves it.
    Any,
    /// A read: a follower serves it unless `requires-leader`.
    Read,
    /// A v1 write: forwarded by a follower unless `requires-leader`.
    Write,
    /// A v2 write (the v2 form of the denial).
    WriteV2,
    /// Only the leader serves it.
    Leader,
}

fn need(path: &str) -> Need {
    let Some((service, method)) = path.trim_start_matches('/').split_once('/') else {
        return Need::Any;
    };
    match (service, method) {
        ("event_store.client.streams.Streams", "Read") => Need::Read,
        ("event_store.client.streams.Streams", _) => Need::Write,
        ("kurrentdb.protocol.v2.streams.StreamsService", _) => Need::WriteV2,
        ("event_store.client.persistent_subscriptions.PersistentSubscriptions", _) => Need::Leader,
        _ => Need::Any,
    }
}

/// Wraps a node's routes (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct RoleGateLayer {
    membership: Arc<Membership>,
    index: usize,
}

impl RoleGateLayer {
    /// The gate of node `index` of `membership`.
    pub(crate) fn new(membership: Arc<Membership>, index: usize) -> Self {
        RoleGateLayer { membership, index }
    }
}

impl<S> tower_layer::Layer<S> for RoleGateLayer {
    type Service = RoleGate<S>;

    fn layer(&self, inner: S) -> RoleGate<S> {
        RoleGate {
            inner,
            gate: self.clone(),
        }
    }
}

/// A node's services behind its role gate.
#[derive(Debug, Clone)]
pub(crate) struct RoleGate<S> {
    inner: S,
    gate: RoleGateLayer,
}

impl RoleGateLayer {
    /// The denial for a call of `need` with `requires_leader`, or `None` to
    /// serve it.
    fn denial(&self, need: Need, requires_leader: bool) -> Option<Status> {
        let must_lead = match need {
            Need::Any => false,
            Need::Read => requires_leader,
            Need::Write | Need::WriteV2 => {
                requires_leader || self.membership.is_read_only(self.index)
            }
            Need::Leader => true,
        };
        match self.membership.route(self.index) {
            Route::Here => None,
            Route::Leader { .. } if !must_lead => None,
            Route::NotReady if need == Need::Any || (need == Need::Read && !must_lead) => None,
            Route::NotReady => Some(Status::unavailable("Server Is Not Ready")),
            Route::Leader {
                host,
                port,
                instance_id,
            } => Some(if need == Need::WriteV2 {
                not_leader_v2(&host, port, instance_id)
            } else {
                not_leader(&host, port)
            }),
        }
    }
}

/// `NOT_FOUND` "Leader info available" with the leader's address in the
/// trailers (KurrentDB's `RpcExceptions.LeaderInfo`).
pub(crate) fn not_leader(host: &str, port: u16) -> Status {
    let mut status = Status::new(Code::NotFound, "Leader info available");
    let meta = status.metadata_mut();
    meta.insert("exception", MetadataValue::from_static("not-leader"));
    if let Ok(host) = MetadataValue::try_from(host) {
        meta.insert("leader-endpoint-host", host);
    }
    meta.insert("leader-endpoint-port", MetadataValue::from(port));
    status
}

/// The v2 API's not-leader error (`ApiErrors.NotLeaderNode`).
fn not_leader_v2(host: &str, port: u16, leader: uuid::Uuid) -> Status {
    let detail = NotLeaderNodeErrorDetails {
        current_leader: Some(NodeInfo {
            host: host.to_owned(),
            port: i32::from(port),
            node_id: Some(leader.to_string()),
        }),
    };
    crate::services::rich(
        Code::FailedPrecondition,
        format!(
            "The server is not the leader node and cannot handle the request. \
             Please retry your request against the leader node directly at {host}:{port}"
        ),
        Some(&detail),
    )
}

impl<S, B> tower_service::Service<http::Request<B>> for RoleGate<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<http::Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let need = need(request.uri().path());
        let requires_leader = request
            .headers()
            .get("requires-leader")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        match self.gate.denial(need, requires_leader) {
            None => Either::Left(self.inner.call(request)),
            Some(status) => Either::Right(ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_classified_by_service_and_method() {
        assert_eq!(need("/event_store.client.streams.Streams/Read"), Need::Read);
        assert_eq!(
            need("/event_store.client.streams.Streams/Append"),
            Need::Write
        );
        assert_eq!(
            need("/event_store.client.streams.Streams/Tombstone"),
            Need::Write
        );
        assert_eq!(
            need("/kurrentdb.protocol.v2.streams.StreamsService/AppendSession"),
            Need::WriteV2
        );
        assert_eq!(
            need("/event_store.client.persistent_subscriptions.PersistentSubscriptions/Read"),
            Need::Leader
        );
        assert_eq!(need("/event_store.client.gossip.Gossip/Read"), Need::Any);
        assert_eq!(need("garbage"), Need::Any);
    }

    fn gates(replicas: usize) -> (Arc<Membership>, Vec<RoleGateLayer>) {
        use crate::membership::Member;
        let nodes = (0..3 + replicas)
            .map(|i| Member::new("10.0.0.1".into(), 2113 + i as u16, i >= 3))
            .collect();
        let m = Arc::new(Membership::new(nodes, std::time::Duration::from_secs(60)));
        let gates = (0..3 + replicas)
            .map(|i| RoleGateLayer::new(m.clone(), i))
            .collect();
        (m, gates)
    }

    #[test]
    fn a_follower_serves_what_kurrentdb_serves_and_denies_the_rest() {
        let (_, gates) = gates(1);
        let (leader, follower, replica) = (&gates[0], &gates[1], &gates[3]);
        for need in [
            Need::Any,
            Need::Read,
            Need::Write,
            Need::WriteV2,
            Need::Leader,
        ] {
            assert!(leader.denial(need, true).is_none(), "{need:?}");
        }
        assert!(follower.denial(Need::Read, false).is_none());
        assert!(follower.denial(Need::Any, true).is_none());
        // Forwarded to the leader without `requires-leader`.
        assert!(follower.denial(Need::Write, false).is_none());
        // A read-only replica refuses client writes either way.
        assert!(replica.denial(Need::Write, false).is_some());
        assert!(replica.denial(Need::Read, false).is_none());
        for (need, requires) in [
            (Need::Read, true),
            (Need::Write, true),
            (Need::Leader, false),
        ] {
            let status = follower.denial(need, requires).expect("denied");
            assert_eq!(status.code(), Code::NotFound, "{need:?}");
            assert_eq!(status.message(), "Leader info available");
            let meta = status.metadata();
            assert_eq!(meta.get("exception").unwrap(), "not-leader");
            assert_eq!(meta.get("leader-endpoint-host").unwrap(), "10.0.0.1");
            assert_eq!(meta.get("leader-endpoint-port").unwrap(), "2113");
        }
        let v2 = follower.denial(Need::WriteV2, true).expect("denied");
        assert_eq!(v2.code(), Code::FailedPrecondition);
        assert!(
            v2.message().ends_with("at 10.0.0.1:2113"),
            "{}",
            v2.message()
        );
        match kurrentdbclient::Error::from_status(&v2) {
            kurrentdbclient::Error::NodeIsNotLeader { leader, .. } => {
                assert_eq!(leader.unwrap().port, 2113);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_a_leader_calls_that_need_one_are_not_ready() {
        let (m, gates) = gates(0);
        m.down(0, true);
        let status = gates[1].denial(Need::Write, false).expect("denied");
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(status.message(), "Server Is Not Ready");
        assert!(gates[1].denial(Need::Read, false).is_none());
        assert!(gates[1].denial(Need::Any, true).is_none());
    }
}
