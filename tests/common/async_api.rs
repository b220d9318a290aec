//! [`ClientUnderTest`] for [`AsyncKurrentDBClient`]: each method is the client's
//! own, awaited (reads collected to the end).

use futures::StreamExt;
use kurrentdbclient::options::*;
use kurrentdbclient::projections::ProjectionStatistics;
use kurrentdbclient::{
    AckId, AsyncKurrentDBClient, CatchupSubscription, ClusterMember, ConnectionSettings,
    NackAction, NewEvent, NewEvents, NewRecord, PersistentSubscription, RecordedEvent, Result,
    ScavengeResult, ServerInfo, StreamMetadata, StreamState, StreamStateCheck, SubscriptionInfo,
    SubscriptionItem, UserDetails,
};

use super::harness::{ClientUnderTest, TestPersistentSubscription, TestSubscription};

impl TestSubscription for CatchupSubscription {
    async fn next_item(&mut self) -> Option<Result<SubscriptionItem>> {
        self.next().await
    }
    fn subscription_id(&self) -> String {
        CatchupSubscription::subscription_id(self).to_owned()
    }
    fn stop(&mut self) {
        CatchupSubscription::stop(self);
    }
}

impl TestPersistentSubscription for PersistentSubscription {
    async fn next_event(&mut self) -> Option<Result<RecordedEvent>> {
        self.next().await
    }
    fn subscription_id(&self) -> String {
        PersistentSubscription::subscription_id(self).to_owned()
    }
    fn ack(&self, event: impl Into<AckId>) -> Result<()> {
        PersistentSubscription::ack(self, event)
    }
    fn nack(&self, event: impl Into<AckId>, action: NackAction, reason: &str) -> Result<()> {
        PersistentSubscription::nack(self, event, action, reason)
    }
    async fn stop(&mut self) {
        PersistentSubscription::stop(self).await;
    }
    fn is_stopped(&self) -> bool {
        PersistentSubscription::is_stopped(self)
    }
}

impl ClientUnderTest for AsyncKurrentDBClient {
    type Subscription = CatchupSubscription;
    type PersistentSubscription = PersistentSubscription;

    async fn connect(uri: &str) -> Result<Self> {
        AsyncKurrentDBClient::connect(uri).await
    }
    async fn with_settings(settings: ConnectionSettings) -> Result<Self> {
        AsyncKurrentDBClient::with_settings(settings).await
    }
    fn close(&self) {
        AsyncKurrentDBClient::close(self);
    }

    // ---- streams -------------------------------------------------------------

    async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: Vec<NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<kurrentdbclient::WriteResult> {
        AsyncKurrentDBClient::append_to_stream(self, stream_name, current_version, events, options)
            .await
    }
    async fn multi_append_to_stream(
        &self,
        events: Vec<NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<kurrentdbclient::AppendRecordsResult> {
        AsyncKurrentDBClient::multi_append_to_stream(self, events, options).await
    }
    async fn append_records(
        &self,
        records: Vec<NewRecord>,
        checks: Vec<StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<kurrentdbclient::AppendRecordsResult> {
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
    async fn read_index(
        &self,
        index_name: &str,
        options: &ReadIndexOptions,
    ) -> Result<Vec<RecordedEvent>> {
        AsyncKurrentDBClient::read_index(self, index_name, options)
            .await?
            .collect_events()
            .await
    }
    async fn subscribe_to_index(
        &self,
        index_name: &str,
        options: &SubscribeToIndexOptions,
    ) -> Result<Self::Subscription> {
        AsyncKurrentDBClient::subscribe_to_index(self, index_name, options).await
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

    // ---- persistent subscriptions --------------------------------------------

    async fn create_subscription_to_all(
        &self,
        group_name: &str,
        options: &CreateSubscriptionToAllOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::create_subscription_to_all(self, group_name, options).await
    }
    async fn create_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::create_subscription_to_stream(self, group_name, stream_name, options)
            .await
    }
    async fn read_subscription_to_all(
        &self,
        group_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<Self::PersistentSubscription> {
        AsyncKurrentDBClient::read_subscription_to_all(self, group_name, options).await
    }
    async fn read_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<Self::PersistentSubscription> {
        AsyncKurrentDBClient::read_subscription_to_stream(self, group_name, stream_name, options)
            .await
    }
    async fn update_subscription_to_all(
        &self,
        group_name: &str,
        options: &UpdateSubscriptionToAllOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::update_subscription_to_all(self, group_name, options).await
    }
    async fn update_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::update_subscription_to_stream(self, group_name, stream_name, options)
            .await
    }
    async fn delete_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &DeleteSubscriptionOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::delete_subscription(self, group_name, stream_name, options).await
    }
    async fn get_subscription_info(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &GetSubscriptionInfoOptions,
    ) -> Result<SubscriptionInfo> {
        AsyncKurrentDBClient::get_subscription_info(self, group_name, stream_name, options).await
    }
    async fn list_subscriptions(
        &self,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        AsyncKurrentDBClient::list_subscriptions(self, options).await
    }
    async fn list_subscriptions_to_stream(
        &self,
        stream_name: &str,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        AsyncKurrentDBClient::list_subscriptions_to_stream(self, stream_name, options).await
    }
    async fn replay_parked_events(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReplayParkedEventsOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::replay_parked_events(self, group_name, stream_name, options).await
    }
    async fn restart_persistent_subscription_subsystem(
        &self,
        options: &RestartPersistentSubscriptionSubsystemOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::restart_persistent_subscription_subsystem(self, options).await
    }

    // ---- projections ---------------------------------------------------------

    async fn create_projection(
        &self,
        name: &str,
        query: &str,
        options: &CreateProjectionOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::create_projection(self, name, query, options).await
    }
    async fn update_projection(
        &self,
        name: &str,
        query: &str,
        options: &UpdateProjectionOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::update_projection(self, name, query, options).await
    }
    async fn delete_projection(&self, name: &str, options: &DeleteProjectionOptions) -> Result<()> {
        AsyncKurrentDBClient::delete_projection(self, name, options).await
    }
    async fn get_projection_statistics(
        &self,
        name: &str,
        options: &GetProjectionStatisticsOptions,
    ) -> Result<ProjectionStatistics> {
        AsyncKurrentDBClient::get_projection_statistics(self, name, options).await
    }
    async fn list_continuous_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        AsyncKurrentDBClient::list_continuous_projection_statistics(self, options).await
    }
    async fn list_all_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>> {
        AsyncKurrentDBClient::list_all_projection_statistics(self, options).await
    }
    async fn enable_projection(&self, name: &str, options: &EnableProjectionOptions) -> Result<()> {
        AsyncKurrentDBClient::enable_projection(self, name, options).await
    }
    async fn disable_projection(
        &self,
        name: &str,
        options: &DisableProjectionOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::disable_projection(self, name, options).await
    }
    async fn abort_projection(&self, name: &str, options: &AbortProjectionOptions) -> Result<()> {
        AsyncKurrentDBClient::abort_projection(self, name, options).await
    }
    async fn reset_projection(&self, name: &str, options: &ResetProjectionOptions) -> Result<()> {
        AsyncKurrentDBClient::reset_projection(self, name, options).await
    }
    async fn get_projection_state(
        &self,
        name: &str,
        options: &GetProjectionStateOptions,
    ) -> Result<serde_json::Value> {
        AsyncKurrentDBClient::get_projection_state(self, name, options).await
    }
    async fn get_projection_result(
        &self,
        name: &str,
        options: &GetProjectionResultOptions,
    ) -> Result<serde_json::Value> {
        AsyncKurrentDBClient::get_projection_result(self, name, options).await
    }
    async fn restart_projections_subsystem(
        &self,
        options: &RestartProjectionsSubsystemOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::restart_projections_subsystem(self, options).await
    }

    // ---- server --------------------------------------------------------------

    async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        AsyncKurrentDBClient::read_gossip(self, options).await
    }
    async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        AsyncKurrentDBClient::get_server_info(self, options).await
    }
    async fn create_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        password: &str,
        options: &CreateUserOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::create_user(self, login, full_name, groups, password, options).await
    }
    async fn update_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        options: &UpdateUserOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::update_user(self, login, full_name, groups, options).await
    }
    async fn delete_user(&self, login: &str, options: &DeleteUserOptions) -> Result<()> {
        AsyncKurrentDBClient::delete_user(self, login, options).await
    }
    async fn enable_user(&self, login: &str, options: &EnableUserOptions) -> Result<()> {
        AsyncKurrentDBClient::enable_user(self, login, options).await
    }
    async fn disable_user(&self, login: &str, options: &DisableUserOptions) -> Result<()> {
        AsyncKurrentDBClient::disable_user(self, login, options).await
    }
    async fn get_user(&self, login: &str, options: &GetUserOptions) -> Result<UserDetails> {
        AsyncKurrentDBClient::get_user(self, login, options).await
    }
    async fn list_users(&self, options: &ListUsersOptions) -> Result<Vec<UserDetails>> {
        AsyncKurrentDBClient::list_users(self, options).await
    }
    async fn change_user_password(
        &self,
        login: &str,
        current_password: &str,
        new_password: &str,
        options: &ChangeUserPasswordOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::change_user_password(
            self,
            login,
            current_password,
            new_password,
            options,
        )
        .await
    }
    async fn reset_user_password(
        &self,
        login: &str,
        new_password: &str,
        options: &ResetUserPasswordOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::reset_user_password(self, login, new_password, options).await
    }

    // ---- operations ----------------------------------------------------------

    async fn start_scavenge(&self, options: &StartScavengeOptions) -> Result<ScavengeResult> {
        AsyncKurrentDBClient::start_scavenge(self, options).await
    }
    async fn stop_scavenge(
        &self,
        scavenge_id: &str,
        options: &StopScavengeOptions,
    ) -> Result<ScavengeResult> {
        AsyncKurrentDBClient::stop_scavenge(self, scavenge_id, options).await
    }
    async fn shutdown_node(&self, options: &ShutdownNodeOptions) -> Result<()> {
        AsyncKurrentDBClient::shutdown_node(self, options).await
    }
    async fn merge_indexes(&self, options: &MergeIndexesOptions) -> Result<()> {
        AsyncKurrentDBClient::merge_indexes(self, options).await
    }
    async fn resign_node(&self, options: &ResignNodeOptions) -> Result<()> {
        AsyncKurrentDBClient::resign_node(self, options).await
    }
    async fn set_node_priority(
        &self,
        priority: i32,
        options: &SetNodePriorityOptions,
    ) -> Result<()> {
        AsyncKurrentDBClient::set_node_priority(self, priority, options).await
    }
}
