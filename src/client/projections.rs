//! The projections service's operations: creating, updating and deleting
//! projections, their statistics, enabling, disabling, aborting and
//! resetting them, reading their state and result, and restarting the
//! subsystem. Requests are built and answers read by [`crate::projections`].
//!
//! Every call goes to the leader (the projection subsystem runs there), as
//! the Python client sends them. A missing projection gives
//! [`Error::NotFound`]; creating one whose name is taken gives
//! [`Error::AlreadyExists`]; an operation the projection's status forbids
//! (deleting a running projection) gives [`Error::FailedPrecondition`]. Older
//! servers report these as unknown errors with an "Envelope callback
//! expected ..." message, which are mapped to the same variants.

use futures::StreamExt;

use super::AsyncKurrentDBClient;
use super::call::CallKind;
use crate::error::{Error, Result};
use crate::options::*;
use crate::projections::requests::{self, Which};
use crate::projections::{ProjectionStatistics, json_of};
use crate::proto::shared::Empty;
use crate::telemetry::{client_span, traced};

impl AsyncKurrentDBClient {
    /// Creates a continuous projection from its JavaScript `query`; it is
    /// enabled and starts at once. A projection of that name that exists
    /// already gives [`Error::AlreadyExists`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, CreateProjectionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let query = r#"fromAll().when({
    ///     $init: function () { return { count: 0 }; },
    ///     OrderCreated: function (s, e) { s.count += 1; }
    /// }).outputState()"#;
    /// client
    ///     .create_projection("order-count", query, &CreateProjectionOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_projection(
        &self,
        name: &str,
        query: &str,
        options: &CreateProjectionOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.create_projection", "client"),
            async {
                let request = requests::create(name, query, options)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.projections().create(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }

    /// Replaces a projection's query (and, when the options say, whether it
    /// may emit). The projection restarts with the new query from where it
    /// was.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, UpdateProjectionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .update_projection("order-count", "fromAll().when({})", &UpdateProjectionOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_projection(
        &self,
        name: &str,
        query: &str,
        options: &UpdateProjectionOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.update_projection", "client"),
            async {
                let request = requests::update(name, query, options)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.projections().update(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }

    /// Deletes a stopped projection (disable or abort it first; a running one
    /// gives [`Error::FailedPrecondition`]), and with the options its
    /// checkpoint and emitted streams.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, DeleteProjectionOptions, DisableProjectionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.disable_projection("order-count", &DisableProjectionOptions::default()).await?;
    /// client
    ///     .delete_projection(
    ///         "order-count",
    ///         &DeleteProjectionOptions::default().delete_checkpoint_stream(true),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_projection(
        &self,
        name: &str,
        options: &DeleteProjectionOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.delete_projection", "client"),
            async {
                let request = requests::delete(name, options)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.projections().delete(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }

    /// A projection's statistics: status, mode, position, progress, events
    /// processed, the reason it faulted, ...
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, GetProjectionStatisticsOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let stats = client
    ///     .get_projection_statistics("order-count", &GetProjectionStatisticsOptions::default())
    ///     .await?;
    /// println!("{:?} at {} ({}%)", stats.status, stats.position, stats.progress);
    /// # Ok(()) }
    /// ```
    pub async fn get_projection_statistics(
        &self,
        name: &str,
        options: &GetProjectionStatisticsOptions,
    ) -> Result<ProjectionStatistics> {
        traced(
            client_span!("AsyncKurrentDBClient.get_projection_statistics", "client"),
            async {
                let mut all = self
                    .statistics(requests::statistics(Which::One(name))?, options)
                    .await?;
                if all.is_empty() {
                    return Err(Error::Protocol(
                        "the statistics call returned no statistics".into(),
                    ));
                }
                Ok(all.swap_remove(0))
            },
        )
        .await
    }

    /// The statistics of every continuous projection (the standard ones
    /// included).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ListProjectionStatisticsOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// for stats in client
    ///     .list_continuous_projection_statistics(&ListProjectionStatisticsOptions::default())
    ///     .await?
    /// {
    ///     println!("{}: {:?}", stats.name, stats.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_continuous_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.list_continuous_projection_statistics",
                "client"
            ),
            async {
                self.statistics(requests::statistics(Which::Continuous)?, options)
                    .await
            },
        )
        .await
    }

    /// The statistics of every projection, whatever its mode.
    pub async fn list_all_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.list_all_projection_statistics",
                "client"
            ),
            async {
                self.statistics(requests::statistics(Which::All)?, options)
                    .await
            },
        )
        .await
    }

    /// Sends a statistics request and collects the streamed answers.
    async fn statistics(
        &self,
        request: crate::proto::projections::StatisticsReq,
        options: &impl CallOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        self.run(CallKind::Management, options, |call| {
            let request = call.request(request.clone());
            async move {
                let mut responses = call.projections().statistics(request).await?.into_inner();
                let mut all = Vec::new();
                while let Some(response) = responses.next().await {
                    let details = response?
                        .details
                        .ok_or_else(|| Error::Protocol("statistics without details".into()))?;
                    all.push(ProjectionStatistics::from(details));
                }
                Ok(all)
            }
        })
        .await
    }

    /// Enables a projection: it runs again from its last checkpoint.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, EnableProjectionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client.enable_projection("$by_category", &EnableProjectionOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn enable_projection(
        &self,
        name: &str,
        options: &EnableProjectionOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.enable_projection", "client"),
            async {
                let request = requests::enable(name)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.projections().enable(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }

    /// Disables a projection: it stops after writing a checkpoint, so that
    /// enabling it resumes from where it stopped.
    pub async fn disable_projection(
        &self,
        name: &str,
        options: &DisableProjectionOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.disable_projection", "client"),
            async { self.disable(requests::disable(name, true)?, options).await },
        )
        .await
    }

    /// Aborts a projection: it stops without writing a checkpoint, so that
    /// enabling it resumes from its last checkpoint (reprocessing what came
    /// after).
    pub async fn abort_projection(
        &self,
        name: &str,
        options: &AbortProjectionOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.abort_projection", "client"),
            async { self.disable(requests::disable(name, false)?, options).await },
        )
        .await
    }

    /// Sends a disable (or abort) request.
    async fn disable(
        &self,
        request: crate::proto::projections::DisableReq,
        options: &impl CallOptions,
    ) -> Result<()> {
        self.unary(
            CallKind::Management,
            options,
            request,
            |call, r| async move { call.projections().disable(r).await },
        )
        .await?;
        Ok(())
    }

    /// Resets a projection: its state is dropped and it runs again from the
    /// start of its source.
    pub async fn reset_projection(
        &self,
        name: &str,
        options: &ResetProjectionOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.reset_projection", "client"),
            async {
                let request = requests::reset(name)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.projections().reset(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }

    /// A projection's state (of one partition with the options), as JSON;
    /// `{}` when it has none yet. [`projections::decode`](crate::projections::decode)
    /// turns it into a type of yours.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, GetProjectionStateOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Count {
    ///     count: u64,
    /// }
    /// let state = client
    ///     .get_projection_state("order-count", &GetProjectionStateOptions::default())
    ///     .await?;
    /// let count: Count = kurrentdbclient::projections::decode(&state)?;
    /// # Ok(()) }
    /// ```
    pub async fn get_projection_state(
        &self,
        name: &str,
        options: &GetProjectionStateOptions,
    ) -> Result<serde_json::Value> {
        traced(
            client_span!("AsyncKurrentDBClient.get_projection_state", "client"),
            async {
                let request = requests::state(name, options)?;
                let response = self
                    .unary(
                        CallKind::Management,
                        options,
                        request,
                        |call, r| async move { call.projections().state(r).await },
                    )
                    .await?;
                Ok(json_of(response.state))
            },
        )
        .await
    }

    /// A projection's result (its state after `transformBy`/`filterBy`), of
    /// one partition with the options, as JSON; `{}` when it has none.
    pub async fn get_projection_result(
        &self,
        name: &str,
        options: &GetProjectionResultOptions,
    ) -> Result<serde_json::Value> {
        traced(
            client_span!("AsyncKurrentDBClient.get_projection_result", "client"),
            async {
                let request = requests::result(name, options)?;
                let response = self
                    .unary(
                        CallKind::Management,
                        options,
                        request,
                        |call, r| async move { call.projections().result(r).await },
                    )
                    .await?;
                Ok(json_of(response.result))
            },
        )
        .await
    }

    /// Restarts the projection subsystem: every projection stops and starts
    /// again from its checkpoint.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, RestartProjectionsSubsystemOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .restart_projections_subsystem(&RestartProjectionsSubsystemOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn restart_projections_subsystem(
        &self,
        options: &RestartProjectionsSubsystemOptions,
    ) -> Result<()> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.restart_projections_subsystem",
                "client"
            ),
            async {
                self.unary(
                    CallKind::Management,
                    options,
                    Empty {},
                    |call, r| async move { call.projections().restart_subsystem(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }
}
