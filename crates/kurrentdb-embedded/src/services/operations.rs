//! `event_store.client.operations.Operations`: a node's administration, with
//! KurrentDB's answers (`Operations.Admin.cs`, `Operations.Scavenge.cs`,
//! `StorageScavenger`, `ElectionsService`):
//! - `StartScavenge`: `Started` with a new scavenge id, or `InProgress` with
//!   the running one's id; the work goes on in the background
//!   ([`crate::scavenge_jobs`], `store/scavenge.rs` for what it removes). The
//!   thread count and start chunk are accepted and have no meaning in memory.
//! - `StopScavenge`: the running scavenge (by id, or `current`) stops and the
//!   answer, once it has, is `Stopped`; another id is `NOT_FOUND` "Scavenge id
//!   was invalid." with trailers `exception: scavenge-not-found` and
//!   `scavenge-id` (the running scavenge's id, or empty).
//! - `Shutdown`: answered, then the node stops serving (in a cluster it is
//!   down, as a stopped node; its leadership passes on after the election
//!   timeout).
//! - `MergeIndexes`: succeeds and does nothing. KurrentDB merges its on-disk
//!   index tables (PTables) into one; the embedded index is one in-memory
//!   table, with nothing to merge, so done is the honest answer.
//! - `ResignNode`: a leader steps down and another voter is elected at once
//!   (a single node is elected again); any other node ignores it. Empty
//!   either way, as KurrentDB answers.
//! - `SetNodePriority`: the node's priority for the next elections (no
//!   election now, as on KurrentDB).
//! - `RestartPersistentSubscriptions`: the persistent-subscription subsystem
//!   restarts, as `PersistentSubscriptions.RestartSubsystem` does.
//!
//! A request without its options is malformed (KurrentDB dereferences them
//! and throws). Operations are node-local: any node serves them (the role
//! gate lets them through).

use std::sync::Arc;

use kurrentdbclient::proto::operations::operations_server::Operations;
use kurrentdbclient::proto::operations::scavenge_resp::ScavengeResult;
use kurrentdbclient::proto::operations::{
    ScavengeResp, SetNodePriorityReq, StartScavengeReq, StopScavengeReq,
};
use kurrentdbclient::proto::shared::Empty;
use tokio::sync::watch;
use tonic::{Code, Request, Response, Status};

use super::{insert, malformed, persistent::PersistentService};
use crate::membership::Membership;
use crate::scavenge_jobs::{ScavengeAnswer, ScavengeJobs};
use crate::security::authz::{self, Operation};

/// One node's Operations service.
#[derive(Debug, Clone)]
pub(crate) struct OperationsService {
    scavenge_jobs: ScavengeJobs,
    persistent: PersistentService,
    membership: Arc<Membership>,
    index: usize,
    /// Set to `true` to stop the node (the serving task watches it).
    shutdown: watch::Sender<bool>,
}

impl OperationsService {
    /// The service of node `index` of `membership`.
    pub(crate) fn new(
        scavenge_jobs: ScavengeJobs,
        persistent: PersistentService,
        membership: Arc<Membership>,
        index: usize,
        shutdown: watch::Sender<bool>,
    ) -> Self {
        OperationsService {
            scavenge_jobs,
            persistent,
            membership,
            index,
            shutdown,
        }
    }
}

fn scavenge_response(answer: ScavengeAnswer) -> Result<Response<ScavengeResp>, Status> {
    let (id, result) = match answer {
        ScavengeAnswer::Started(id) => (id, ScavengeResult::Started),
        ScavengeAnswer::InProgress(id) => (id, ScavengeResult::InProgress),
        ScavengeAnswer::Stopped(id) => (id, ScavengeResult::Stopped),
        ScavengeAnswer::NotFound(running) => {
            let mut status = Status::new(Code::NotFound, "Scavenge id was invalid.");
            let meta = status.metadata_mut();
            insert(meta, "exception", "scavenge-not-found");
            insert(meta, "scavenge-id", running.as_deref().unwrap_or_default());
            return Err(status);
        }
    };
    Ok(Response::new(ScavengeResp {
        scavenge_id: id,
        scavenge_result: result as i32,
    }))
}

#[tonic::async_trait]
impl Operations for OperationsService {
    async fn start_scavenge(
        &self,
        request: Request<StartScavengeReq>,
    ) -> Result<Response<ScavengeResp>, Status> {
        authz::check(request.extensions(), Operation::NodeManage)?;
        if request.get_ref().options.is_none() {
            return Err(malformed("StartScavenge without options"));
        }
        let node = self
            .membership
            .view()
            .get(self.index)
            .map(|m| format!("{}:{}", m.host, m.port))
            .unwrap_or_default();
        scavenge_response(self.scavenge_jobs.start(&node))
    }

    async fn stop_scavenge(
        &self,
        request: Request<StopScavengeReq>,
    ) -> Result<Response<ScavengeResp>, Status> {
        authz::check(request.extensions(), Operation::NodeManage)?;
        let Some(options) = request.into_inner().options else {
            return Err(malformed("StopScavenge without options"));
        };
        scavenge_response(self.scavenge_jobs.stop(&options.scavenge_id).await)
    }

    async fn shutdown(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        authz::check(request.extensions(), Operation::NodeManage)?;
        tracing::info!(
            node = self.index,
            "shutdown requested through the Operations service"
        );
        self.membership.down(self.index, true);
        self.shutdown.send_replace(true);
        Ok(Response::new(Empty {}))
    }

    async fn merge_indexes(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        authz::check(request.extensions(), Operation::NodeManage)?;
        Ok(Response::new(Empty {}))
    }

    async fn resign_node(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        authz::check(request.extensions(), Operation::NodeManage)?;
        if !self.membership.resign(self.index) {
            tracing::info!(
                node = self.index,
                "resignation ignored: only the leader resigns"
            );
        }
        Ok(Response::new(Empty {}))
    }

    async fn set_node_priority(
        &self,
        request: Request<SetNodePriorityReq>,
    ) -> Result<Response<Empty>, Status> {
        authz::check(request.extensions(), Operation::NodeManage)?;
        let priority = request.into_inner().priority;
        tracing::info!(node = self.index, priority, "node priority set");
        self.membership.set_priority(self.index, priority);
        Ok(Response::new(Empty {}))
    }

    async fn restart_persistent_subscriptions(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<Empty>, Status> {
        authz::check(request.extensions(), Operation::NodeManage)?;
        self.persistent.restart();
        Ok(Response::new(Empty {}))
    }
}
