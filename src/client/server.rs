//! What the server says about itself: the `Gossip` and `ServerFeatures`
//! services. Answers are converted by [`crate::server`].

use super::AsyncKurrentDBClient;
use super::call::CallKind;
use crate::error::Result;
use crate::options::{GetServerInfoOptions, ReadGossipOptions};
use crate::proto::shared::Empty;
use crate::server::{ClusterMember, ServerInfo};
use crate::telemetry::{client_span, traced};

impl AsyncKurrentDBClient {
    /// The cluster's members, as the current node's gossip reports them.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::ReadGossipOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// for member in client.read_gossip(&ReadGossipOptions::default()).await? {
    ///     println!("{}:{} {:?}", member.address, member.port, member.state);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        traced(
            client_span!("AsyncKurrentDBClient.read_gossip", "client"),
            async {
                let info = self
                    .unary(CallKind::Query, options, Empty {}, |call, r| async move {
                        call.gossip().read(r).await
                    })
                    .await?;
                Ok(ClusterMember::from_cluster_info(info))
            },
        )
        .await
    }

    /// The server's version and the methods and features it supports.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::GetServerInfoOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let info = client.get_server_info(&GetServerInfoOptions::default()).await?;
    /// println!("KurrentDB {}", info.version);
    /// # Ok(()) }
    /// ```
    pub async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        traced(
            client_span!("AsyncKurrentDBClient.get_server_info", "client"),
            async {
                let methods = self
                    .unary(CallKind::Query, options, Empty {}, |call, r| async move {
                        call.server_features().get_supported_methods(r).await
                    })
                    .await?;
                Ok(ServerInfo::from_proto(methods))
            },
        )
        .await
    }
}
