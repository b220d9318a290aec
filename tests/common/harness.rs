//! The dual-API harness: [`ClientUnderTest`] and its subscriptions, the client
//! operations as the scenarios see them, one async method per operation of
//! `AsyncKurrentDBClient`, with the same name and parameters. Reads are
//! iterated to the end, so that both APIs hand back the same `Vec`.
//!
//! The traits use `async fn`: their futures are awaited in the test's own task,
//! never spawned, so they need no `Send` bound.
#![allow(async_fn_in_trait)]

use kurrentdbclient::options::*;
use kurrentdbclient::projections::ProjectionStatistics;
use kurrentdbclient::{
    AckId, ClusterMember, ConnectionSettings, NackAction, NewEvent, NewEvents, NewRecord,
    RecordedEvent, Result, ScavengeResult, ServerInfo, StreamMetadata, StreamState,
    StreamStateCheck, SubscriptionInfo, SubscriptionItem, UserDetails,
};

/// A catch-up subscription as the scenarios see it.
pub trait TestSubscription: Send {
    /// The next item (event, checkpoint or caught-up marker).
    async fn next_item(&mut self) -> Option<Result<SubscriptionItem>>;
    /// The subscription id the server confirmed.
    fn subscription_id(&self) -> String;
    /// Stops the subscription.
    fn stop(&mut self);
}

/// One consumer of a persistent subscription group as the scenarios see it.
pub trait TestPersistentSubscription: Send {
    /// The next event the server delivers.
    async fn next_event(&mut self) -> Option<Result<RecordedEvent>>;
    /// The subscription id the server confirmed (`<stream>::<group>`).
    fn subscription_id(&self) -> String;
    /// Acknowledges an event: the received event (by its `ack_id`) or an id.
    fn ack(&self, event: impl Into<AckId>) -> Result<()>;
    /// Negatively acknowledges an event (the received event or an id), with a
    /// reason.
    fn nack(&self, event: impl Into<AckId>, action: NackAction, reason: &str) -> Result<()>;
    /// Sends the queued acks and leaves the group.
    async fn stop(&mut self);
    /// Whether the subscription has stopped.
    fn is_stopped(&self) -> bool;
}

/// The client operations the scenarios use, mirrored by both APIs.
pub trait ClientUnderTest: Sized + Send + Sync {
    /// The catch-up subscription type.
    type Subscription: TestSubscription;
    /// The persistent subscription type.
    type PersistentSubscription: TestPersistentSubscription;

    /// Connects with a connection string.
    async fn connect(uri: &str) -> Result<Self>;
    /// Connects with parsed settings.
    async fn with_settings(settings: ConnectionSettings) -> Result<Self>;
    /// Closes the client.
    fn close(&self);

    // ---- streams -------------------------------------------------------------

    async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: Vec<NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<kurrentdbclient::WriteResult>;
    async fn multi_append_to_stream(
        &self,
        events: Vec<NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<kurrentdbclient::AppendRecordsResult>;
    async fn append_records(
        &self,
        records: Vec<NewRecord>,
        checks: Vec<StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<kurrentdbclient::AppendRecordsResult>;
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
    async fn read_index(
        &self,
        index_name: &str,
        options: &ReadIndexOptions,
    ) -> Result<Vec<RecordedEvent>>;
    async fn subscribe_to_index(
        &self,
        index_name: &str,
        options: &SubscribeToIndexOptions,
    ) -> Result<Self::Subscription>;
    async fn subscribe_to_all(&self, options: &SubscribeToAllOptions)
    -> Result<Self::Subscription>;
    async fn subscribe_to_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<Self::Subscription>;

    // ---- persistent subscriptions --------------------------------------------

    async fn create_subscription_to_all(
        &self,
        group_name: &str,
        options: &CreateSubscriptionToAllOptions,
    ) -> Result<()>;
    async fn create_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &CreateSubscriptionToStreamOptions,
    ) -> Result<()>;
    async fn read_subscription_to_all(
        &self,
        group_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<Self::PersistentSubscription>;
    async fn read_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<Self::PersistentSubscription>;
    async fn update_subscription_to_all(
        &self,
        group_name: &str,
        options: &UpdateSubscriptionToAllOptions,
    ) -> Result<()>;
    async fn update_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()>;
    async fn delete_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &DeleteSubscriptionOptions,
    ) -> Result<()>;
    async fn get_subscription_info(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &GetSubscriptionInfoOptions,
    ) -> Result<SubscriptionInfo>;
    async fn list_subscriptions(
        &self,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>>;
    async fn list_subscriptions_to_stream(
        &self,
        stream_name: &str,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>>;
    async fn replay_parked_events(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReplayParkedEventsOptions,
    ) -> Result<()>;
    async fn restart_persistent_subscription_subsystem(
        &self,
        options: &RestartPersistentSubscriptionSubsystemOptions,
    ) -> Result<()>;

    // ---- projections ---------------------------------------------------------

    async fn create_projection(
        &self,
        name: &str,
        query: &str,
        options: &CreateProjectionOptions,
    ) -> Result<()>;
    async fn update_projection(
        &self,
        name: &str,
        query: &str,
        options: &UpdateProjectionOptions,
    ) -> Result<()>;
    async fn delete_projection(&self, name: &str, options: &DeleteProjectionOptions) -> Result<()>;
    async fn get_projection_statistics(
        &self,
        name: &str,
        options: &GetProjectionStatisticsOptions,
    ) -> Result<ProjectionStatistics>;
    async fn list_continuous_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>>;
    async fn list_all_projection_statistics(
        &self,
        options: &ListProjectionStatisticsOptions,
    ) -> Result<Vec<ProjectionStatistics>>;
    async fn enable_projection(&self, name: &str, options: &EnableProjectionOptions) -> Result<()>;
    async fn disable_projection(
        &self,
        name: &str,
        options: &DisableProjectionOptions,
    ) -> Result<()>;
    async fn abort_projection(&self, name: &str, options: &AbortProjectionOptions) -> Result<()>;
    async fn reset_projection(&self, name: &str, options: &ResetProjectionOptions) -> Result<()>;
    async fn get_projection_state(
        &self,
        name: &str,
        options: &GetProjectionStateOptions,
    ) -> Result<serde_json::Value>;
    async fn get_projection_result(
        &self,
        name: &str,
        options: &GetProjectionResultOptions,
    ) -> Result<serde_json::Value>;
    async fn restart_projections_subsystem(
        &self,
        options: &RestartProjectionsSubsystemOptions,
    ) -> Result<()>;

    // ---- server --------------------------------------------------------------

    async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>>;
    async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo>;

    // ---- users ---------------------------------------------------------------

    async fn create_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        password: &str,
        options: &CreateUserOptions,
    ) -> Result<()>;
    async fn update_user(
        &self,
        login: &str,
        full_name: &str,
        groups: &[String],
        options: &UpdateUserOptions,
    ) -> Result<()>;
    async fn delete_user(&self, login: &str, options: &DeleteUserOptions) -> Result<()>;
    async fn enable_user(&self, login: &str, options: &EnableUserOptions) -> Result<()>;
    async fn disable_user(&self, login: &str, options: &DisableUserOptions) -> Result<()>;
    async fn get_user(&self, login: &str, options: &GetUserOptions) -> Result<UserDetails>;
    async fn list_users(&self, options: &ListUsersOptions) -> Result<Vec<UserDetails>>;
    async fn change_user_password(
        &self,
        login: &str,
        current_password: &str,
        new_password: &str,
        options: &ChangeUserPasswordOptions,
    ) -> Result<()>;
    async fn reset_user_password(
        &self,
        login: &str,
        new_password: &str,
        options: &ResetUserPasswordOptions,
    ) -> Result<()>;

    // ---- operations ----------------------------------------------------------

    async fn start_scavenge(&self, options: &StartScavengeOptions) -> Result<ScavengeResult>;
    async fn stop_scavenge(
        &self,
        scavenge_id: &str,
        options: &StopScavengeOptions,
    ) -> Result<ScavengeResult>;
    async fn shutdown_node(&self, options: &ShutdownNodeOptions) -> Result<()>;
    async fn merge_indexes(&self, options: &MergeIndexesOptions) -> Result<()>;
    async fn resign_node(&self, options: &ResignNodeOptions) -> Result<()>;
    async fn set_node_priority(
        &self,
        priority: i32,
        options: &SetNodePriorityOptions,
    ) -> Result<()>;
}
