//! The blocking twins of the projections service's calls: create, update,
//! delete, statistics, enable, disable, abort, reset, state, result, and
//! restarting the subsystem.

use kurrentdbclient::Result;
use kurrentdbclient::options::{
    AbortProjectionOptions, CreateProjectionOptions, DeleteProjectionOptions,
    DisableProjectionOptions, EnableProjectionOptions, GetProjectionResultOptions,
    GetProjectionStateOptions, GetProjectionStatisticsOptions, ListProjectionStatisticsOptions,
    ResetProjectionOptions, RestartProjectionsSubsystemOptions, UpdateProjectionOptions,
};
use kurrentdbclient::projections::ProjectionStatistics;

use super::KurrentDBClient;

// For the doc links to each method's async twin.
#[cfg(doc)]
use kurrentdbclient::AsyncKurrentDBClient;

impl KurrentDBClient {
    /// Creates a continuous projection (see
    /// [`AsyncKurrentDBClient::create_projection`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, CreateProjectionOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let query = "fromAll().when({ $init: function () { return { n: 0 }; }, \
    ///              $any: function (s, e) { s.n += 1; } })";
    /// client.create_projection("count-all", query, &CreateProjectionOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn create_projection(
        &self,
        name: &str,
        query: &str,
        options: &CreateProjectionOptions,
    ) -> Result<()> {
        self.block_on(self.async_client().create_projection(name, query, options))
    }

    /// Replaces a projection's query (see
    /// [`AsyncKurrentDBClient::update_projection`]).
    #[track_caller]
    pub fn update_projection(
        &self,
        name: &str,
        query: &str,
        options: &UpdateProjectionOptions,
    ) -> Result<()> {
        self.block_on(self.async_client().update_projection(name, query, options))
    }

    /// Deletes a stopped projection (see
    /// [`AsyncKurrentDBClient::delete_projection`]).
    #[track_caller]
    pub fn delete_projection(&self, name: &str, options: &DeleteProjectionOptions) -> Result<()> {
        self.block_on(self.async_client().delete_projection(name, options))
    }

    /// A projection's statistics (see
    /// [`AsyncKurrentDBClient::get_projection_statistics`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, GetProjectionStatisticsOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let stats = client
    ///     .get_projection_statistics("$by_category", &GetProjectionStatisticsOptions::default())?;
    /// println!("{:?}: {} events", stats.status, stats.events_processed_after_restart);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_projection_statistics(
        &self,
        name: &str,
        options: &GetProjectionStatisticsOptions,
    ) -> Result<ProjectionStatistics> {
        self.block_on(self.async_client().get_projection_statistics(name, options))
    }

    /// The statistics of every continuous projection (see
    /// [`AsyncKurrentDBClient::list_continuous_projection_statistics`]).
    #[track_caller]
    pub fn list_continuous_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        self.block_on(
            self.async_client()
                .list_continuous_projection_statistics(options),
        )
    }

    /// The statistics of every projection (see
    /// [`AsyncKurrentDBClient::list_all_projection_statistics`]).
    #[track_caller]
    pub fn list_all_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        self.block_on(self.async_client().list_all_projection_statistics(options))
    }

    /// Enables a projection (see [`AsyncKurrentDBClient::enable_projection`]).
    #[track_caller]
    pub fn enable_projection(&self, name: &str, options: &EnableProjectionOptions) -> Result<()> {
        self.block_on(self.async_client().enable_projection(name, options))
    }

    /// Disables a projection, writing a checkpoint (see
    /// [`AsyncKurrentDBClient::disable_projection`]).
    #[track_caller]
    pub fn disable_projection(&self, name: &str, options: &DisableProjectionOptions) -> Result<()> {
        self.block_on(self.async_client().disable_projection(name, options))
    }

    /// Aborts a projection, without a checkpoint (see
    /// [`AsyncKurrentDBClient::abort_projection`]).
    #[track_caller]
    pub fn abort_projection(&self, name: &str, options: &AbortProjectionOptions) -> Result<()> {
        self.block_on(self.async_client().abort_projection(name, options))
    }

    /// Resets a projection (see [`AsyncKurrentDBClient::reset_projection`]).
    #[track_caller]
    pub fn reset_projection(&self, name: &str, options: &ResetProjectionOptions) -> Result<()> {
        self.block_on(self.async_client().reset_projection(name, options))
    }

    /// A projection's state as JSON (see
    /// [`AsyncKurrentDBClient::get_projection_state`]).
    #[track_caller]
    pub fn get_projection_state(
        &self,
        name: &str,
        options: &GetProjectionStateOptions,
    ) -> Result<serde_json::Value> {
        self.block_on(self.async_client().get_projection_state(name, options))
    }

    /// A projection's result as JSON (see
    /// [`AsyncKurrentDBClient::get_projection_result`]).
    #[track_caller]
    pub fn get_projection_result(
        &self,
        name: &str,
        options: &GetProjectionResultOptions,
    ) -> Result<serde_json::Value> {
        self.block_on(self.async_client().get_projection_result(name, options))
    }

    /// Restarts the projection subsystem (see
    /// [`AsyncKurrentDBClient::restart_projections_subsystem`]).
    #[track_caller]
    pub fn restart_projections_subsystem(
        &self,
        options: &RestartProjectionsSubsystemOptions,
    ) -> Result<()> {
        self.block_on(self.async_client().restart_projections_subsystem(options))
    }
}
