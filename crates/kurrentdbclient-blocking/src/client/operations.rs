//! The blocking twins of the Operations service's calls.

use kurrentdbclient::{
    MergeIndexesOptions, ResignNodeOptions, Result, ScavengeResult, SetNodePriorityOptions,
    ShutdownNodeOptions, StartScavengeOptions, StopScavengeOptions,
};

use super::KurrentDBClient;

// For the doc links to each method's async twin.
#[cfg(doc)]
use kurrentdbclient::AsyncKurrentDBClient;

impl KurrentDBClient {
    /// Starts a scavenge on the node (see
    /// [`AsyncKurrentDBClient::start_scavenge`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, StartScavengeOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let scavenge = client.start_scavenge(&StartScavengeOptions::default())?;
    /// println!("scavenge {}", scavenge.id);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn start_scavenge(&self, options: &StartScavengeOptions) -> Result<ScavengeResult> {
        self.block_on(self.async_client().start_scavenge(options))
    }

    /// Stops the running scavenge (see
    /// [`AsyncKurrentDBClient::stop_scavenge`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, StopScavengeOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.stop_scavenge("current", &StopScavengeOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn stop_scavenge(
        &self,
        scavenge_id: &str,
        options: &StopScavengeOptions,
    ) -> Result<ScavengeResult> {
        self.block_on(self.async_client().stop_scavenge(scavenge_id, options))
    }

    /// Shuts the node down (see [`AsyncKurrentDBClient::shutdown_node`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ShutdownNodeOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.shutdown_node(&ShutdownNodeOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn shutdown_node(&self, options: &ShutdownNodeOptions) -> Result<()> {
        self.block_on(self.async_client().shutdown_node(options))
    }

    /// Merges the node's index tables (see
    /// [`AsyncKurrentDBClient::merge_indexes`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, MergeIndexesOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.merge_indexes(&MergeIndexesOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn merge_indexes(&self, options: &MergeIndexesOptions) -> Result<()> {
        self.block_on(self.async_client().merge_indexes(options))
    }

    /// Asks the node to resign its leadership (see
    /// [`AsyncKurrentDBClient::resign_node`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ResignNodeOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.resign_node(&ResignNodeOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn resign_node(&self, options: &ResignNodeOptions) -> Result<()> {
        self.block_on(self.async_client().resign_node(options))
    }

    /// Sets the node's priority in the next elections (see
    /// [`AsyncKurrentDBClient::set_node_priority`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, SetNodePriorityOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.set_node_priority(10, &SetNodePriorityOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn set_node_priority(&self, priority: i32, options: &SetNodePriorityOptions) -> Result<()> {
        self.block_on(self.async_client().set_node_priority(priority, options))
    }
}
