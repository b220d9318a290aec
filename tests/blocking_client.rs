//! Runs every scenario in `tests/scenarios` through the blocking
//! [`KurrentDBClient`], against the embedded server (or `KURRENTDB_URI`): the
//! same list as `tests/async_client.rs` (both expand `for_each_scenario!`), so
//! each scenario is written once and run through both APIs.
//!
//! [`Blocking`] implements the scenarios' `ClientUnderTest` by running each
//! blocking call in `tokio::task::spawn_blocking`, where blocking is allowed;
//! the last test shows that calling the client directly in async code panics
//! with the documented message instead of deadlocking.

mod common;
mod scenarios;

use kurrentdbclient::options::*;
use kurrentdbclient::{
    ClusterMember, NewEvent, NewEvents, NewRecord, RecordedEvent, Result, ServerInfo,
    StreamMetadata, StreamState, StreamStateCheck, SubscriptionItem,
};
use kurrentdbclient_blocking::{CatchupSubscription, KurrentDBClient};

use common::{ClientUnderTest, TestSubscription};

/// The blocking client, seen by the scenarios through the async
/// `ClientUnderTest`: each call runs on tokio's blocking pool.
#[derive(Debug, Clone)]
struct Blocking(KurrentDBClient);

/// Runs `f` on tokio's blocking pool and waits for it, re-raising its panic.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A blocking subscription, seen as a `TestSubscription`: `next()` runs on the
/// blocking pool, the subscription moving there and back for each item.
#[derive(Debug)]
struct BlockingSubscription {
    inner: Option<CatchupSubscription>,
    id: String,
}

impl BlockingSubscription {
    fn new(inner: CatchupSubscription) -> Self {
        BlockingSubscription {
            id: inner.subscription_id().to_owned(),
            inner: Some(inner),
        }
    }
}

impl TestSubscription for BlockingSubscription {
    async fn next_item(&mut self) -> Option<Result<SubscriptionItem>> {
        // `None` only if an earlier `next_item` was abandoned mid-way (the
        // subscription is then still on the blocking pool).
        let mut sub = self.inner.take()?;
        let (sub, item) = blocking(move || {
            let item = sub.next();
            (sub, item)
        })
        .await;
        self.inner = Some(sub);
        item
    }
    fn id(&self) -> String {
        self.id.clone()
    }
    fn stop(&mut self) {
        if let Some(sub) = self.inner.as_mut() {
            sub.stop();
        }
    }
}

impl ClientUnderTest for Blocking {
    type Subscription = BlockingSubscription;

    async fn connect(uri: &str) -> Result<Self> {
        let uri = uri.to_owned();
        blocking(move || KurrentDBClient::connect(&uri).map(Blocking)).await
    }
    fn close(&self) {
        // Does not block: fine in async code.
        self.0.close();
    }
    async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: Vec<NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<u64> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.append_to_stream(&s, current_version, events, &o)).await
    }
    async fn multi_append_to_stream(
        &self,
        events: Vec<NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<u64> {
        let (c, o) = (self.0.clone(), options.clone());
        blocking(move || c.multi_append_to_stream(events, &o)).await
    }
    async fn append_records(
        &self,
        records: Vec<NewRecord>,
        checks: Vec<StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<u64> {
        let (c, o) = (self.0.clone(), options.clone());
        blocking(move || c.append_records(records, checks, &o)).await
    }
    async fn get_current_version(
        &self,
        stream_name: &str,
        options: &GetCurrentVersionOptions,
    ) -> Result<StreamState> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.get_current_version(&s, &o)).await
    }
    async fn get_commit_position(&self, options: &GetCommitPositionOptions) -> Result<u64> {
        let (c, o) = (self.0.clone(), options.clone());
        blocking(move || c.get_commit_position(&o)).await
    }
    async fn read_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.read_stream(&s, &o)?.collect()).await
    }
    async fn get_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.get_stream(&s, &o)).await
    }
    async fn read_all(&self, options: &ReadAllOptions) -> Result<Vec<RecordedEvent>> {
        let (c, o) = (self.0.clone(), options.clone());
        blocking(move || c.read_all(&o)?.collect()).await
    }
    async fn delete_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &DeleteStreamOptions,
    ) -> Result<()> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.delete_stream(&s, current_version, &o)).await
    }
    async fn tombstone_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &TombstoneStreamOptions,
    ) -> Result<()> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.tombstone_stream(&s, current_version, &o)).await
    }
    async fn get_stream_metadata(
        &self,
        stream_name: &str,
        options: &GetStreamMetadataOptions,
    ) -> Result<(StreamMetadata, StreamState)> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.get_stream_metadata(&s, &o)).await
    }
    async fn set_stream_metadata(
        &self,
        stream_name: &str,
        metadata: &StreamMetadata,
        current_version: StreamState,
        options: &SetStreamMetadataOptions,
    ) -> Result<()> {
        let (c, s, m, o) = (
            self.0.clone(),
            stream_name.to_owned(),
            metadata.clone(),
            options.clone(),
        );
        blocking(move || c.set_stream_metadata(&s, &m, current_version, &o)).await
    }
    async fn subscribe_to_all(
        &self,
        options: &SubscribeToAllOptions,
    ) -> Result<Self::Subscription> {
        let (c, o) = (self.0.clone(), options.clone());
        blocking(move || c.subscribe_to_all(&o).map(BlockingSubscription::new)).await
    }
    async fn subscribe_to_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<Self::Subscription> {
        let (c, s, o) = (self.0.clone(), stream_name.to_owned(), options.clone());
        blocking(move || c.subscribe_to_stream(&s, &o).map(BlockingSubscription::new)).await
    }
    async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        let (c, o) = (self.0.clone(), options.clone());
        blocking(move || c.read_gossip(&o)).await
    }
    async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        let (c, o) = (self.0.clone(), options.clone());
        blocking(move || c.get_server_info(&o)).await
    }
}

async fn client() -> Blocking {
    Blocking::connect(&common::server_uri())
        .await
        .expect("connect")
}

macro_rules! blocking_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let client = client().await;
                scenarios::$name(&client).await;
            }
        )*
    };
}

for_each_scenario!(blocking_tests);

/// The blocking client called straight from async code (a `#[tokio::test]`)
/// panics with the documented message, naming the call, instead of blocking
/// the runtime's thread; and the client can still be dropped there.
#[tokio::test]
#[should_panic(
    expected = "kurrentdbclient_blocking: a blocking call was made from inside an async runtime (`KurrentDBClient::get_commit_position`)"
)]
async fn blocking_call_in_async_code_panics_with_a_clear_message() {
    let Blocking(client) = client().await;
    let _ = client.get_commit_position(&GetCommitPositionOptions::default());
}
