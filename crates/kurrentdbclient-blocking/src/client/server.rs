//! The blocking twins of the server's gossip and server-features calls.

use kurrentdbclient::{ClusterMember, GetServerInfoOptions, ReadGossipOptions, Result, ServerInfo};

use super::KurrentDBClient;

// For the doc links to each method's async twin.
#[cfg(doc)]
use kurrentdbclient::AsyncKurrentDBClient;

impl KurrentDBClient {
    /// The cluster's members, as the current node's gossip reports them (see
    /// [`AsyncKurrentDBClient::read_gossip`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadGossipOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// for member in client.read_gossip(&ReadGossipOptions::default())? {
    ///     println!("{}:{} {:?}", member.address, member.port, member.state);
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        self.block_on(self.async_client().read_gossip(options))
    }

    /// The server's version and the methods and features it supports (see
    /// [`AsyncKurrentDBClient::get_server_info`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, GetServerInfoOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let info = client.get_server_info(&GetServerInfoOptions::default())?;
    /// println!("KurrentDB {}", info.version);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        self.block_on(self.async_client().get_server_info(options))
    }
}
