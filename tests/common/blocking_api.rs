//! [`ClientUnderTest`] for the blocking client: [`Blocking`] wraps a
//! `KurrentDBClient` and runs each of its calls on tokio's blocking pool (where
//! blocking is allowed), so that the async scenarios drive the blocking API.
//! Its subscriptions move to the blocking pool for each blocking call and back.

use kurrentdbclient::options::*;
use kurrentdbclient::projections::ProjectionStatistics;
use kurrentdbclient::{
    AckId, ClusterMember, ConnectionSettings, NackAction, NewEvent, NewEvents, NewRecord,
    RecordedEvent, Result, ScavengeResult, ServerInfo, StreamMetadata, StreamState,
    StreamStateCheck, SubscriptionInfo, SubscriptionItem, UserDetails,
};
use kurrentdbclient_blocking::{CatchupSubscription, KurrentDBClient, PersistentSubscription};

use super::harness::{ClientUnderTest, TestPersistentSubscription, TestSubscription};

/// The blocking client, seen by the scenarios through the async
/// [`ClientUnderTest`]: each call runs on tokio's blocking pool.
#[derive(Debug, Clone)]
pub struct Blocking(pub KurrentDBClient);

/// Runs `f` on tokio's blocking pool and waits for it, re-raising its panic.
pub async fn on_blocking_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

impl Blocking {
    /// Runs `call` with (a clone of) the client on the blocking pool.
    async fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&KurrentDBClient) -> T + Send + 'static,
    ) -> T {
        let client = self.0.clone();
        on_blocking_pool(move || call(&client)).await
    }
}

/// A blocking subscription (catch-up or persistent) seen from async code.
#[derive(Debug)]
pub struct BlockingSubscription<S> {
    /// `None` only while a blocking call has it, or after such a call was
    /// abandoned mid-way (the subscription is then still on the blocking pool).
    inner: Option<S>,
    subscription_id: String,
}

impl<S: Send + 'static> BlockingSubscription<S> {
    /// Runs the blocking `call` on the subscription on the blocking pool; `None`
    /// if the subscription is lost there (see [`Self::inner`]).
    async fn call<T: Send + 'static>(
        &mut self,
        call: impl FnOnce(&mut S) -> T + Send + 'static,
    ) -> Option<T> {
        let mut inner = self.inner.take()?;
        let (inner, value) = on_blocking_pool(move || {
            let value = call(&mut inner);
            (inner, value)
        })
        .await;
        self.inner = Some(inner);
        Some(value)
    }

    fn inner(&self) -> &S {
        self.inner
            .as_ref()
            .expect("the subscription was lost on the blocking pool by an abandoned call")
    }
}

impl TestSubscription for BlockingSubscription<CatchupSubscription> {
    async fn next_item(&mut self) -> Option<Result<SubscriptionItem>> {
        self.call(|sub| sub.next()).await.flatten()
    }
    fn subscription_id(&self) -> String {
        self.subscription_id.clone()
    }
    fn stop(&mut self) {
        // Does not block: fine in async code.
        if let Some(sub) = self.inner.as_mut() {
            sub.stop();
        }
    }
}

impl TestPersistentSubscription for BlockingSubscription<PersistentSubscription> {
    async fn next_event(&mut self) -> Option<Result<RecordedEvent>> {
        self.call(|sub| sub.next()).await.flatten()
    }
    fn subscription_id(&self) -> String {
        self.subscription_id.clone()
    }
    fn ack(&self, event: impl Into<AckId>) -> Result<()> {
        // Does not block (acks are queued).
        self.inner().ack(event)
    }
    fn nack(&self, event: impl Into<AckId>, action: NackAction, reason: &str) -> Result<()> {
        self.inner().nack(event, action, reason)
    }
    async fn stop(&mut self) {
        self.call(|sub| sub.stop()).await;
    }
    fn is_stopped(&self) -> bool {
        self.inner().is_stopped()
    }
}

fn catchup(sub: CatchupSubscription) -> BlockingSubscription<CatchupSubscription> {
    BlockingSubscription {
        subscription_id: sub.subscription_id().to_owned(),
        inner: Some(sub),
    }
}

fn persistent(sub: PersistentSubscription) -> BlockingSubscription<PersistentSubscription> {
    BlockingSubscription {
        subscription_id: sub.subscription_id().to_owned(),
        inner: Some(sub),
    }
}

impl ClientUnderTest for Blocking {
    type Subscription = BlockingSubscription<CatchupSubscription>;
    type PersistentSubscription = BlockingSubscription<PersistentSubscription>;

    async fn connect(uri: &str) -> Result<Self> {
        let uri = uri.to_owned();
        on_blocking_pool(move || KurrentDBClient::connect(&uri).map(Blocking)).await
    }
    async fn with_settings(settings: ConnectionSettings) -> Result<Self> {
        on_blocking_pool(move || KurrentDBClient::with_settings(settings).map(Blocking)).await
    }
    fn close(&self) {
        // Does not block: fine in async code.
        self.0.close();
    }

    // ---- streams -------------------------------------------------------------

    async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: Vec<NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<kurrentdbclient::WriteResult> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.append_to_stream(&s, current_version, events, &o))
            .await
    }
    async fn multi_append_to_stream(
        &self,
        events: Vec<NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<kurrentdbclient::AppendRecordsResult> {
        let o = options.clone();
        self.call(move |c| c.multi_append_to_stream(events, &o))
            .await
    }
    async fn append_records(
        &self,
        records: Vec<NewRecord>,
        checks: Vec<StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<kurrentdbclient::AppendRecordsResult> {
        let o = options.clone();
        self.call(move |c| c.append_records(records, checks, &o))
            .await
    }
    async fn get_current_version(
        &self,
        stream_name: &str,
        options: &GetCurrentVersionOptions,
    ) -> Result<StreamState> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.get_current_version(&s, &o)).await
    }
    async fn get_commit_position(&self, options: &GetCommitPositionOptions) -> Result<u64> {
        let o = options.clone();
        self.call(move |c| c.get_commit_position(&o)).await
    }
    async fn read_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.read_stream(&s, &o)?.collect()).await
    }
    async fn get_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.get_stream(&s, &o)).await
    }
    async fn read_all(&self, options: &ReadAllOptions) -> Result<Vec<RecordedEvent>> {
        let o = options.clone();
        self.call(move |c| c.read_all(&o)?.collect()).await
    }
    async fn delete_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &DeleteStreamOptions,
    ) -> Result<()> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.delete_stream(&s, current_version, &o))
            .await
    }
    async fn tombstone_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        options: &TombstoneStreamOptions,
    ) -> Result<()> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.tombstone_stream(&s, current_version, &o))
            .await
    }
    async fn get_stream_metadata(
        &self,
        stream_name: &str,
        options: &GetStreamMetadataOptions,
    ) -> Result<(StreamMetadata, StreamState)> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.get_stream_metadata(&s, &o)).await
    }
    async fn set_stream_metadata(
        &self,
        stream_name: &str,
        metadata: &StreamMetadata,
        current_version: StreamState,
        options: &SetStreamMetadataOptions,
    ) -> Result<()> {
        let (s, m, o) = (stream_name.to_owned(), metadata.clone(), options.clone());
        self.call(move |c| c.set_stream_metadata(&s, &m, current_version, &o))
            .await
    }
    async fn read_index(
        &self,
        index_name: &str,
        options: &ReadIndexOptions,
    ) -> Result<Vec<RecordedEvent>> {
        let (i, o) = (index_name.to_owned(), options.clone());
        self.call(move |c| c.read_index(&i, &o)?.collect()).await
    }
    async fn subscribe_to_index(
        &self,
        index_name: &str,
        options: &SubscribeToIndexOptions,
    ) -> Result<Self::Subscription> {
        let (i, o) = (index_name.to_owned(), options.clone());
        self.call(move |c| c.subscribe_to_index(&i, &o).map(catchup))
            .await
    }
    async fn subscribe_to_all(
        &self,
        options: &SubscribeToAllOptions,
    ) -> Result<Self::Subscription> {
        let o = options.clone();
        self.call(move |c| c.subscribe_to_all(&o).map(catchup))
            .await
    }
    async fn subscribe_to_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<Self::Subscription> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.subscribe_to_stream(&s, &o).map(catchup))
            .await
    }

    // ---- persistent subscriptions --------------------------------------------

    async fn create_subscription_to_all(
        &self,
        group_name: &str,
        options: &CreateSubscriptionToAllOptions,
    ) -> Result<()> {
        let (g, o) = (group_name.to_owned(), options.clone());
        self.call(move |c| c.create_subscription_to_all(&g, &o))
            .await
    }
    async fn create_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        let (g, s, o) = (
            group_name.to_owned(),
            stream_name.to_owned(),
            options.clone(),
        );
        self.call(move |c| c.create_subscription_to_stream(&g, &s, &o))
            .await
    }
    async fn read_subscription_to_all(
        &self,
        group_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<Self::PersistentSubscription> {
        let (g, o) = (group_name.to_owned(), options.clone());
        self.call(move |c| c.read_subscription_to_all(&g, &o).map(persistent))
            .await
    }
    async fn read_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<Self::PersistentSubscription> {
        let (g, s, o) = (
            group_name.to_owned(),
            stream_name.to_owned(),
            options.clone(),
        );
        self.call(move |c| c.read_subscription_to_stream(&g, &s, &o).map(persistent))
            .await
    }
    async fn update_subscription_to_all(
        &self,
        group_name: &str,
        options: &UpdateSubscriptionToAllOptions,
    ) -> Result<()> {
        let (g, o) = (group_name.to_owned(), options.clone());
        self.call(move |c| c.update_subscription_to_all(&g, &o))
            .await
    }
    async fn update_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        let (g, s, o) = (
            group_name.to_owned(),
            stream_name.to_owned(),
            options.clone(),
        );
        self.call(move |c| c.update_subscription_to_stream(&g, &s, &o))
            .await
    }
    async fn delete_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &DeleteSubscriptionOptions,
    ) -> Result<()> {
        let (g, s, o) = (
            group_name.to_owned(),
            stream_name.map(str::to_owned),
            options.clone(),
        );
        self.call(move |c| c.delete_subscription(&g, s.as_deref(), &o))
            .await
    }
    async fn get_subscription_info(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &GetSubscriptionInfoOptions,
    ) -> Result<SubscriptionInfo> {
        let (g, s, o) = (
            group_name.to_owned(),
            stream_name.map(str::to_owned),
            options.clone(),
        );
        self.call(move |c| c.get_subscription_info(&g, s.as_deref(), &o))
            .await
    }
    async fn list_subscriptions(
        &self,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        let o = options.clone();
        self.call(move |c| c.list_subscriptions(&o)).await
    }
    async fn list_subscriptions_to_stream(
        &self,
        stream_name: &str,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        let (s, o) = (stream_name.to_owned(), options.clone());
        self.call(move |c| c.list_subscriptions_to_stream(&s, &o))
            .await
    }
    async fn replay_parked_events(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReplayParkedEventsOptions,
    ) -> Result<()> {
        let (g, s, o) = (
            group_name.to_owned(),
            stream_name.map(str::to_owned),
            options.clone(),
        );
        self.call(move |c| c.replay_parked_events(&g, s.as_deref(), &o))
            .await
    }
    async fn restart_persistent_subscription_subsystem(
        &self,
        options: &RestartPersistentSubscriptionSubsystemOptions,
    ) -> Result<()> {
        let o = options.clone();
        self.call(move |c| c.restart_persistent_subscription_subsystem(&o))
            .await
    }

    // ---- projections ---------------------------------------------------------

    async fn create_projection(
        &self,
        name: &str,
        query: &str,
        options: &CreateProjectionOptions,
    ) -> Result<()> {
        let name = name.to_owned();
        let query = query.to_owned();
        let o = options.clone();
        self.call(move |c| c.create_projection(&name, &query, &o))
            .await
    }
    async fn update_projection(
        &self,
        name: &str,
        query: &str,
        options: &UpdateProjectionOptions,
    ) -> Result<()> {
        let name = name.to_owned();
        let query = query.to_owned();
        let o = options.clone();
        self.call(move |c| c.update_projection(&name, &query, &o))
            .await
    }
    async fn delete_projection(&self, name: &str, options: &DeleteProjectionOptions) -> Result<()> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.delete_projection(&name, &o)).await
    }
    async fn get_projection_statistics(
        &self,
        name: &str,
        options: &GetProjectionStatisticsOptions,
    ) -> Result<ProjectionStatistics> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.get_projection_statistics(&name, &o))
            .await
    }
    async fn list_continuous_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        let o = options.clone();
        self.call(move |c| c.list_continuous_projection_statistics(&o))
            .await
    }
    async fn list_all_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        let o = options.clone();
        self.call(move |c| c.list_all_projection_statistics(&o))
            .await
    }
    async fn enable_projection(&self, name: &str, options: &EnableProjectionOptions) -> Result<()> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.enable_projection(&name, &o)).await
    }
    async fn disable_projection(
        &self,
        name: &str,
        options: &DisableProjectionOptions,
    ) -> Result<()> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.disable_projection(&name, &o)).await
    }
    async fn abort_projection(&self, name: &str, options: &AbortProjectionOptions) -> Result<()> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.abort_projection(&name, &o)).await
    }
    async fn reset_projection(&self, name: &str, options: &ResetProjectionOptions) -> Result<()> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.reset_projection(&name, &o)).await
    }
    async fn get_projection_state(
        &self,
        name: &str,
        options: &GetProjectionStateOptions,
    ) -> Result<serde_json::Value> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.get_projection_state(&name, &o)).await
    }
    async fn get_projection_result(
        &self,
        name: &str,
        options: &GetProjectionResultOptions,
    ) -> Result<serde_json::Value> {
        let name = name.to_owned();
        let o = options.clone();
        self.call(move |c| c.get_projection_result(&name, &o)).await
    }
    async fn restart_projections_subsystem(
        &self,
        options: &RestartProjectionsSubsystemOptions,
    ) -> Result<()> {
        let o = options.clone();
        self.call(move |c| c.restart_projections_subsystem(&o))
            .await
    }

    // ---- server --------------------------------------------------------------

    async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        let o = options.clone();
        self.call(move |c| c.read_gossip(&o)).await
    }
    async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        let o = options.clone();
        self.call(move |c| c.get_server_info(&o)).await
    }
    async fn create_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        password: &str,
        options: &CreateUserOptions,
    ) -> Result<()> {
        let login = login.to_owned();
        let full_name = full_name.to_owned();
        let groups = groups.to_vec();
        let password = password.to_owned();
        let o = options.clone();
        self.call(move |c| c.create_user(&login, &full_name, &groups, &password, &o))
            .await
    }
    async fn update_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        options: &UpdateUserOptions,
    ) -> Result<()> {
        let login = login.to_owned();
        let full_name = full_name.to_owned();
        let groups = groups.to_vec();
        let o = options.clone();
        self.call(move |c| c.update_user(&login, &full_name, &groups, &o))
            .await
    }
    async fn delete_user(&self, login: &str, options: &DeleteUserOptions) -> Result<()> {
        let login = login.to_owned();
        let o = options.clone();
        self.call(move |c| c.delete_user(&login, &o)).await
    }
    async fn enable_user(&self, login: &str, options: &EnableUserOptions) -> Result<()> {
        let login = login.to_owned();
        let o = options.clone();
        self.call(move |c| c.enable_user(&login, &o)).await
    }
    async fn disable_user(&self, login: &str, options: &DisableUserOptions) -> Result<()> {
        let login = login.to_owned();
        let o = options.clone();
        self.call(move |c| c.disable_user(&login, &o)).await
    }
    async fn get_user(&self, login: &str, options: &GetUserOptions) -> Result<UserDetails> {
        let login = login.to_owned();
        let o = options.clone();
        self.call(move |c| c.get_user(&login, &o)).await
    }
    async fn list_users(&self, options: &ListUsersOptions) -> Result<Vec<UserDetails>> {
        let o = options.clone();
        self.call(move |c| c.list_users(&o)).await
    }
    async fn change_user_password(
        &self,
        login: &str,
        current_password: &str,
        new_password: &str,
        options: &ChangeUserPasswordOptions,
    ) -> Result<()> {
        let login = login.to_owned();
        let current_password = current_password.to_owned();
        let new_password = new_password.to_owned();
        let o = options.clone();
        self.call(move |c| c.change_user_password(&login, &current_password, &new_password, &o))
            .await
    }
    async fn reset_user_password(
        &self,
        login: &str,
        new_password: &str,
        options: &ResetUserPasswordOptions,
    ) -> Result<()> {
        let login = login.to_owned();
        let new_password = new_password.to_owned();
        let o = options.clone();
        self.call(move |c| c.reset_user_password(&login, &new_password, &o))
            .await
    }

    // ---- operations ----------------------------------------------------------

    async fn start_scavenge(&self, options: &StartScavengeOptions) -> Result<ScavengeResult> {
        let o = options.clone();
        self.call(move |c| c.start_scavenge(&o)).await
    }
    async fn stop_scavenge(
        &self,
        scavenge_id: &str,
        options: &StopScavengeOptions,
    ) -> Result<ScavengeResult> {
        let id = scavenge_id.to_owned();
        let o = options.clone();
        self.call(move |c| c.stop_scavenge(&id, &o)).await
    }
    async fn shutdown_node(&self, options: &ShutdownNodeOptions) -> Result<()> {
        let o = options.clone();
        self.call(move |c| c.shutdown_node(&o)).await
    }
    async fn merge_indexes(&self, options: &MergeIndexesOptions) -> Result<()> {
        let o = options.clone();
        self.call(move |c| c.merge_indexes(&o)).await
    }
    async fn resign_node(&self, options: &ResignNodeOptions) -> Result<()> {
        let o = options.clone();
        self.call(move |c| c.resign_node(&o)).await
    }
    async fn set_node_priority(
        &self,
        priority: i32,
        options: &SetNodePriorityOptions,
    ) -> Result<()> {
        let o = options.clone();
        self.call(move |c| c.set_node_priority(priority, &o)).await
    }
}
