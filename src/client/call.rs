//! The one call path every operation takes.
//!
//! An operation names its [`CallKind`], which decides two things: whether the
//! call must reach the leader (`requires-leader`), and whether the connection
//! string's `defaultDeadline` bounds it when the options give no `timeout`.
//! [`AsyncKurrentDBClient::run`] then builds the call's metadata (the one place
//! that does is `Connection::call_metadata`), sets the deadline, and retries
//! once; [`AsyncKurrentDBClient::unary`] is the same for a request-response
//! call, so that each unary operation is its request, its gRPC method and its
//! answer. Failed statuses become errors through [`Error::from_status`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

use super::AsyncKurrentDBClient;
use crate::connection::{Connection, NodeHandle};
use crate::error::{Error, RETRY_DELAY, Result};
use crate::options::CallOptions;
use crate::proto::gossip::gossip_client::GossipClient;
use crate::proto::operations::operations_client::OperationsClient;
use crate::proto::persistent::persistent_subscriptions_client::PersistentSubscriptionsClient;
use crate::proto::projections::projections_client::ProjectionsClient;
use crate::proto::server_features::server_features_client::ServerFeaturesClient;
use crate::proto::streams::streams_client::StreamsClient;
use crate::proto::users::users_client::UsersClient;
use crate::proto::v2::streams_service_client::StreamsServiceClient;
use crate::streams::ResponseStream;
use crate::telemetry::{self, ConsumerTags};

/// The largest message the client accepts (KurrentDB events can be up to 16 MiB).
const MAX_DECODING_MESSAGE_SIZE: usize = 17 * 1024 * 1024;

/// What kind of call an operation makes: where it may go and what bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// Changes the database: appends, deletes, tombstones, metadata writes.
    /// Needs the leader; bounded by `defaultDeadline` when the options give no
    /// `timeout`.
    Write,
    /// Manages a server-side resource (a persistent-subscription group,
    /// including reading its info, which the leader owns). Needs the leader;
    /// bounded by `defaultDeadline` when the options give no `timeout`.
    Management,
    /// A question with a finite answer, read whole before returning
    /// (`get_stream` and what is built on it, `get_commit_position`, gossip,
    /// server info). Goes to the node the node preference picks; bounded by
    /// `defaultDeadline` when the options give no `timeout`.
    Query,
    /// A read or catch-up subscription handed to the caller as a `Stream`.
    /// Goes to the node the node preference picks; only the options' `timeout`
    /// bounds it (the default deadline would cut long reads and live
    /// subscriptions short).
    Stream,
    /// A persistent-subscription consumer. Needs the leader (which serves the
    /// group); only the options' `timeout` bounds it.
    Consumer,
    /// An administrative operation on one node (the Operations service:
    /// scavenges, shutdown, resignation, priority), which KurrentDB runs on
    /// the node it reaches. Goes to the node the node preference picks;
    /// bounded by `defaultDeadline` when the options give no `timeout`.
    Admin,
}

impl CallKind {
    /// Whether the call is sent with `requires-leader: true` whatever the node
    /// preference (with the `leader` preference every call is).
    fn requires_leader(self) -> bool {
        matches!(
            self,
            CallKind::Write | CallKind::Management | CallKind::Consumer
        )
    }

    /// How long the call may take: the per-call timeout, else (for the kinds
    /// with a finite answer) the connection string's `defaultDeadline`.
    fn timeout(
        self,
        per_call: Option<Duration>,
        default_deadline: Option<Duration>,
    ) -> Option<Duration> {
        let bounded = matches!(
            self,
            CallKind::Write | CallKind::Management | CallKind::Query | CallKind::Admin
        );
        per_call.or(if bounded { default_deadline } else { None })
    }
}

/// One attempt of a call: the node to send to, the metadata, the deadline,
/// and the connection (its close signal and its settings).
pub(crate) struct Call {
    node: NodeHandle,
    metadata: MetadataMap,
    deadline: Option<Instant>,
    conn: Arc<Connection>,
}

impl Call {
    /// The request of this attempt: the message with the call's metadata and
    /// what is left of its deadline (sent as `grpc-timeout`).
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.metadata.clone();
        if let Some(deadline) = self.deadline {
            request.set_timeout(deadline.saturating_duration_since(Instant::now()));
        }
        request
    }

    fn channel(&self) -> Channel {
        self.node.channel.clone()
    }

    /// What the consumer spans of the subscription `subscription_id`, opened
    /// by this attempt, report.
    pub(crate) fn consumer_tags(&self, subscription_id: &str) -> ConsumerTags {
        ConsumerTags::new(self.conn.settings(), &self.node.endpoint, subscription_id)
    }

    /// The client's close signal (`true` once [`close`] was called), which open
    /// subscriptions watch.
    ///
    /// [`close`]: crate::AsyncKurrentDBClient::close
    pub(crate) fn closed_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.conn.closed_signal()
    }

    /// The v1 streams service.
    pub(crate) fn streams(&self) -> StreamsClient<Channel> {
        StreamsClient::new(self.channel()).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// The v2 streams service.
    pub(crate) fn v2(&self) -> StreamsServiceClient<Channel> {
        StreamsServiceClient::new(self.channel())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// The persistent-subscriptions service.
    pub(crate) fn persistent(&self) -> PersistentSubscriptionsClient<Channel> {
        PersistentSubscriptionsClient::new(self.channel())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// The projections service.
    pub(crate) fn projections(&self) -> ProjectionsClient<Channel> {
        ProjectionsClient::new(self.channel()).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// The gossip service.
    pub(crate) fn gossip(&self) -> GossipClient<Channel> {
        GossipClient::new(self.channel())
    }

    /// The users service.
    pub(crate) fn users(&self) -> UsersClient<Channel> {
        UsersClient::new(self.channel())
    }

    /// The operations service.
    pub(crate) fn operations(&self) -> OperationsClient<Channel> {
        OperationsClient::new(self.channel())
    }

    /// The server-features service.
    pub(crate) fn server_features(&self) -> ServerFeaturesClient<Channel> {
        ServerFeaturesClient::new(self.channel())
    }

    /// Opens a `Read` call and wraps its responses, which keep the call's
    /// deadline and watch the client's close signal.
    pub(crate) async fn read(
        &self,
        request: crate::proto::streams::ReadReq,
    ) -> Result<ResponseStream> {
        let responses = self
            .streams()
            .read(self.request(request))
            .await?
            .into_inner();
        Ok(ResponseStream::new(
            responses,
            self.deadline,
            self.closed_signal(),
        ))
    }
}

impl AsyncKurrentDBClient {
    /// Runs one request-response call of `kind`: for each attempt, `send`
    /// sends the attempt's request (a clone of `request` with the call's
    /// metadata and deadline) with one gRPC method of the attempt's node; the
    /// answer's message is returned. See [`run`](Self::run) for the rest.
    pub(crate) async fn unary<Req, Resp, F, Fut>(
        &self,
        kind: CallKind,
        options: &impl CallOptions,
        request: Req,
        send: F,
    ) -> Result<Resp>
    where
        Req: Clone,
        F: Fn(Call, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<Resp>, tonic::Status>>,
    {
        self.run(kind, options, |call| {
            let request = call.request(request.clone());
            let response = send(call, request);
            async move { Ok(response.await?.into_inner()) }
        })
        .await
    }

    /// Runs one call of `kind`: builds its metadata (refusing credentials over
    /// an insecure connection before anything is sent), bounds the whole call,
    /// retry included, by its deadline, and retries once when the outcome is
    /// unknown after a transient transport failure (with the same request, so
    /// appends keep their event ids and stay idempotent), or when a not-leader
    /// node names the leader.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        kind: CallKind,
        options: &impl CallOptions,
        attempt: F,
    ) -> Result<T>
    where
        F: FnMut(Call) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let conn = &self.conn;
        conn.check_open()?;
        let metadata = conn.call_metadata(options.call_credentials(), kind.requires_leader())?;
        let Some(deadline) = kind
            .timeout(options.call_timeout(), conn.settings().default_deadline())
            .map(|t| Instant::now() + t)
        else {
            return self
                .attempts(metadata, None, attempt)
                .await
                .map_err(|e| e.in_operation(options.operation()));
        };
        match tokio::time::timeout_at(deadline, self.attempts(metadata, Some(deadline), attempt))
            .await
        {
            Ok(result) => result.map_err(|e| e.in_operation(options.operation())),
            Err(_) if conn.check_open().is_err() => Err(Error::ClientClosed),
            Err(_) => Err(Error::DeadlineExceeded),
        }
    }

    /// The attempts of one call: the first, and at most one retry.
    async fn attempts<T, F, Fut>(
        &self,
        metadata: MetadataMap,
        deadline: Option<Instant>,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut(Call) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let conn = &self.conn;
        let mut retried = false;
        loop {
            let node = conn.current().await?;
            let generation = node.generation;
            let endpoint = node.endpoint.clone();
            telemetry::record_call(conn.settings(), &endpoint);
            let call = Call {
                node,
                metadata: metadata.clone(),
                deadline,
                conn: conn.clone(),
            };
            let err = match attempt(call).await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if conn.check_open().is_err() {
                return Err(Error::ClientClosed);
            }
            if retried {
                return Err(err);
            }
            match &err {
                // Whatever the node preference: a call that needs the leader
                // goes to it (a write through a follower-preference
                // connection reaches the leader), and the connection stays
                // there until its next loss, as the official clients do.
                Error::NodeIsNotLeader { leader, .. } if !conn.is_direct() => {
                    tracing::info!(%endpoint, ?leader, "node is not leader: reconnecting");
                    conn.reconnect(Some(generation), leader.clone()).await?;
                }
                e if e.is_transient() => {
                    tracing::info!(%endpoint, error = %e, "transient failure: reconnecting, retrying once");
                    conn.reconnect(Some(generation), None).await?;
                }
                _ => return Err(err),
            }
            retried = true;
            tokio::time::sleep(RETRY_DELAY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_kinds_route_and_bound_as_the_operations_did() {
        let default = Some(Duration::from_secs(9));
        let per_call = Some(Duration::from_secs(1));
        // (kind, requires the leader, takes `defaultDeadline`)
        for (kind, leader, bounded) in [
            (CallKind::Write, true, true),
            (CallKind::Management, true, true),
            (CallKind::Query, false, true),
            (CallKind::Stream, false, false),
            (CallKind::Consumer, true, false),
            (CallKind::Admin, false, true),
        ] {
            assert_eq!(kind.requires_leader(), leader, "{kind:?}");
            let expected = if bounded { default } else { None };
            assert_eq!(kind.timeout(None, default), expected, "{kind:?}");
            assert_eq!(kind.timeout(per_call, default), per_call, "{kind:?}");
        }
    }
}
