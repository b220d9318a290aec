//! The Operations service's calls: scavenges and node administration. Requests
//! are built and answers read by [`crate::operations`].
//!
//! Every call acts on the node the client is connected to (the one the node
//! preference picks: the leader by default), as KurrentDB's operations are
//! node-local; they are [`CallKind::Admin`] calls.

use super::AsyncKurrentDBClient;
use super::call::CallKind;
use crate::error::Result;
use crate::operations::{self, ScavengeResult};
use crate::options::*;
use crate::proto::shared::Empty;
use crate::telemetry::{client_span, traced};

impl AsyncKurrentDBClient {
    /// Starts a scavenge on the node: it removes the events no read returns
    /// any more (of deleted streams, beyond `$maxCount`, `$maxAge` or `$tb`)
    /// from `$all`, in the background. The answer has the scavenge's id and
    /// [`ScavengeStatus::Started`](crate::ScavengeStatus::Started), or, when
    /// one is already running, its id and
    /// [`ScavengeStatus::InProgress`](crate::ScavengeStatus::InProgress).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, StartScavengeOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let scavenge = client.start_scavenge(&StartScavengeOptions::default()).await?;
    /// println!("scavenge {} {:?}", scavenge.id, scavenge.status);
    /// # Ok(()) }
    /// ```
    pub async fn start_scavenge(&self, options: &StartScavengeOptions) -> Result<ScavengeResult> {
        traced(
            client_span!("AsyncKurrentDBClient.start_scavenge", "client"),
            async {
                let request = operations::start_scavenge(options)?;
                let response = self
                    .unary(CallKind::Admin, options, request, |call, r| async move {
                        call.operations().start_scavenge(r).await
                    })
                    .await?;
                ScavengeResult::from_response(response)
            },
        )
        .await
    }

    /// Stops the running scavenge, named by its id or `"current"`, and
    /// returns once it has stopped
    /// ([`ScavengeStatus::Stopped`](crate::ScavengeStatus::Stopped)). An id
    /// that is not the running scavenge's gives
    /// [`Error::NotFound`](crate::Error::NotFound).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, StopScavengeOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.stop_scavenge("current", &StopScavengeOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn stop_scavenge(
        &self,
        scavenge_id: &str,
        options: &StopScavengeOptions,
    ) -> Result<ScavengeResult> {
        traced(
            client_span!("AsyncKurrentDBClient.stop_scavenge", "client"),
            async {
                let request = operations::stop_scavenge(scavenge_id)?;
                let response = self
                    .unary(CallKind::Admin, options, request, |call, r| async move {
                        call.operations().stop_scavenge(r).await
                    })
                    .await?;
                ScavengeResult::from_response(response)
            },
        )
        .await
    }

    /// Shuts the node down (KurrentDB's `Shutdown` operation, the official
    /// crate's `shutdown`): it answers, then stops serving. In a cluster the
    /// others elect a new leader if it led.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ShutdownNodeOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.shutdown_node(&ShutdownNodeOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn shutdown_node(&self, options: &ShutdownNodeOptions) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.shutdown_node", "client"),
            async {
                self.unary(CallKind::Admin, options, Empty {}, |call, r| async move {
                    call.operations().shutdown(r).await
                })
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Merges the node's index tables (KurrentDB's `MergeIndexes`).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, MergeIndexesOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.merge_indexes(&MergeIndexesOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn merge_indexes(&self, options: &MergeIndexesOptions) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.merge_indexes", "client"),
            async {
                self.unary(CallKind::Admin, options, Empty {}, |call, r| async move {
                    call.operations().merge_indexes(r).await
                })
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Asks the node to resign its leadership: if it leads, another node is
    /// elected (a single node is elected again); a node that does not lead
    /// ignores it. Calls that need the leader then follow the new one.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ResignNodeOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.resign_node(&ResignNodeOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn resign_node(&self, options: &ResignNodeOptions) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.resign_node", "client"),
            async {
                self.unary(CallKind::Admin, options, Empty {}, |call, r| async move {
                    call.operations().resign_node(r).await
                })
                .await
                .map(drop)
            },
        )
        .await
    }

    /// Sets the node's priority in the next elections (the reachable node of
    /// highest priority among the most up to date leads).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, SetNodePriorityOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.set_node_priority(10, &SetNodePriorityOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_node_priority(
        &self,
        priority: i32,
        options: &SetNodePriorityOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.set_node_priority", "client"),
            async {
                let request = crate::proto::operations::SetNodePriorityReq { priority };
                self.unary(CallKind::Admin, options, request, |call, r| async move {
                    call.operations().set_node_priority(r).await
                })
                .await
                .map(drop)
            },
        )
        .await
    }
}
