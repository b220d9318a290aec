//! Test support shared by the async and the blocking client tests.
//!
//! Scenarios (in `tests/scenarios`) are written once against [`ClientUnderTest`],
//! whose async methods mirror the client's operations. `tests/async_client.rs`
//! runs them through [`AsyncKurrentDBClient`]; the blocking crate's tests run the
//! same list through `KurrentDBClient` by implementing this trait with
//! `tokio::task::spawn_blocking`.
//!
//! The server is the embedded one (one per test binary, on its own thread), or a
//! real KurrentDB when `KURRENTDB_URI` is set.
#![allow(dead_code)]

pub mod fake_follower;
pub mod proxy;
pub mod tls;

use std::sync::OnceLock;

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::*;
use kurrentdbclient::{
    AsyncKurrentDBClient, CatchupSubscription, ClusterMember, NewEvent, NewEvents, NewRecord,
    RecordedEvent, Result, ServerInfo, StreamMetadata, StreamState, StreamStateCheck,
    SubscriptionItem,
};

/// The connection string of the server under test: `KURRENTDB_URI`, or a shared
/// embedded server started on first use.
pub fn server_uri() -> String {
    if let Ok(uri) = std::env::var("KURRENTDB_URI") {
        return uri;
    }
    static SERVER: OnceLock<EmbeddedServer> = OnceLock::new();
    SERVER
        .get_or_init(|| EmbeddedServer::start_blocking().expect("start the embedded server"))
        .connection_string()
}

/// Whether the tests run against a real KurrentDB (`KURRENTDB_URI` set).
pub fn against_real_server() -> bool {
    std::env::var_os("KURRENTDB_URI").is_some()
}

/// The server's host and port (for proxies in front of it).
pub fn server_addr() -> String {
    let uri = server_uri();
    let settings: kurrentdbclient::ConnectionSettings = uri.parse().expect("server uri");
    settings.endpoints()[0].to_string()
}

/// `uri` with its endpoint replaced by `addr` (keeping user info and options).
pub fn with_endpoint(uri: &str, addr: &str) -> String {
    let (scheme, rest) = uri.split_once("://").expect("scheme");
    let (authority, query) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let user = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{addr}{query}")
}

/// A unique stream name, so tests can share a server.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A subscription as the scenarios see it.
pub trait TestSubscription: Send {
    /// The next item (event, checkpoint or caught-up marker).
    async fn next_item(&mut self) -> Option<Result<SubscriptionItem>>;
    /// The subscription id the server confirmed.
    fn id(&self) -> String;
    /// Stops the subscription.
    fn stop(&mut self);
}

/// The client operations the scenarios use, mirrored by both APIs.
pub trait ClientUnderTest: Sized + Send + Sync {
    /// The subscription type.
    type Subscription: TestSubscription;

    /// Connects with a connection string.
    async fn connect(uri: &str) -> Result<Self>;
    /// Closes the client.
    fn close(&self);
    async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: Vec<NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<u64>;
    async fn multi_append_to_stream(
        &self,
        events: Vec<NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<u64>;
    async fn append_records(
        &self,
        records: Vec<NewRecord>,
        checks: Vec<StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<u64>;
    async fn get_current_version(
        &self,
        stream_name: &str,
        options: &GetCurrentVersionOptions,
    ) -> Result<StreamState>;
    async fn get_commit_position(&self, options: &GetCommitPositionOptions) -> Result<u64>;
    /// `read_stream`, iterated to the end (the call's error, or the first
    /// item's).
    async fn read_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>>;
    async fn get_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>>;
    /// `read_all`, iterated to the end.
    async fn read_all(&self, options: &ReadAllOptions) -> Result<Vec<RecordedEvent>>;
    async fn delete_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &DeleteStreamOptions,
    ) -> Result<()>;
    async fn tombstone_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &TombstoneStreamOptions,
    ) -> Result<()>;
    async fn get_stream_metadata(
        &self,
        stream_name: &str,
        options: &GetStreamMetadataOptions,
    ) -> Result<(StreamMetadata, StreamState)>;
    async fn set_stream_metadata(
        &self,
        stream_name: &str,
        metadata: &StreamMetadata,
        current_version: StreamState,
        options: &SetStreamMetadataOptions,
    ) -> Result<()>;
    async fn subscribe_to_all(&self, options: &SubscribeToAllOptions)
    -> Result<Self::Subscription>;
    async fn subscribe_to_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<Self::Subscription>;
    async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>>;
    async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo>;
}

impl TestSubscription for CatchupSubscription {
    async fn next_item(&mut self) -> Option<Result<SubscriptionItem>> {
        self.next().await
    }
    fn id(&self) -> String {
        CatchupSubscription::subscription_id(self).to_owned()
    }
    fn stop(&mut self) {
        CatchupSubscription::stop(self);
    }
}

impl ClientUnderTest for AsyncKurrentDBClient {
    type Subscription = CatchupSubscription;

    async fn connect(uri: &str) -> Result<Self> {
        AsyncKurrentDBClient::connect(uri).await
    }
    fn close(&self) {
        AsyncKurrentDBClient::close(self);
    }
    async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: Vec<NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<u64> {
        AsyncKurrentDBClient::append_to_stream(self, stream_name, current_version, events, options)
            .await
    }
    async fn multi_append_to_stream(
        &self,
        events: Vec<NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<u64> {
        AsyncKurrentDBClient::multi_append_to_stream(self, events, options).await
    }
    async fn append_records(
        &self,
        records: Vec<NewRecord>,
        checks: Vec<StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<u64> {
        AsyncKurrentDBClient::append_records(self, records, checks, options).await
    }
    async fn get_current_version(
        &self,
        stream_name: &str,
        options: &GetCurrentVersionOptions,
    ) -> Result<StreamState> {
        AsyncKurrentDBClient::get_current_version(self, stream_name, options).await
    }
    async fn get_commit_position(&self, options: &GetCommitPositionOptions) -> Result<u64> {
        AsyncKurrentDBClient::get_commit_position(self, options).await
    }
    async fn read_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        AsyncKurrentDBClient::read_stream(self, stream_name, options)
            .await?
            .collect_events()
            .await
    }
    async fn get_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        AsyncKurrentDBClient::get_stream(self, stream_name, options).await
    }
    async fn read_all(&self, options: &ReadAllOptions) -> Result<Vec<RecordedEvent>> {
        AsyncKurrentDBClient::read_all(self, options)
            .await?
            .collect_events()
            .await
    }
    async fn delete_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &DeleteStreamOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::delete_stream(self, stream_name, current_version, options).await
    }
    async fn tombstone_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &TombstoneStreamOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::tombstone_stream(self, stream_name, current_version, options).await
    }
    async fn get_stream_metadata(
        &self,
        stream_name: &str,
        options: &GetStreamMetadataOptions,
    ) -> Result<(StreamMetadata, StreamState)> {
        AsyncKurrentDBClient::get_stream_metadata(self, stream_name, options).await
    }
    async fn set_stream_metadata(
        &self,
        stream_name: &str,
        metadata: &StreamMetadata,
        current_version: StreamState,
        options: &SetStreamMetadataOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::set_stream_metadata(
            self,
            stream_name,
            metadata,
            current_version,
            options,
        )
        .await
    }
    async fn subscribe_to_all(
        &self,
        options: &SubscribeToAllOptions,
    ) -> Result<Self::Subscription> {
        AsyncKurrentDBClient::subscribe_to_all(self, options).await
    }
    async fn subscribe_to_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<Self::Subscription> {
        AsyncKurrentDBClient::subscribe_to_stream(self, stream_name, options).await
    }
    async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        AsyncKurrentDBClient::read_gossip(self, options).await
    }
    async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        AsyncKurrentDBClient::get_server_info(self, options).await
    }
}
