//! The blocking twins of the persistent-subscriptions service's calls: create,
//! update, delete and inspect groups, join one as a consumer, replay parked
//! events, restart the subsystem.

use kurrentdbclient::Result;
use kurrentdbclient::options::{
    CreateSubscriptionToAllOptions, CreateSubscriptionToStreamOptions, DeleteSubscriptionOptions,
    GetSubscriptionInfoOptions, ListSubscriptionsOptions, ReadSubscriptionOptions,
    ReplayParkedEventsOptions, RestartPersistentSubscriptionSubsystemOptions,
    UpdateSubscriptionToAllOptions, UpdateSubscriptionToStreamOptions,
};
use kurrentdbclient::persistent::SubscriptionInfo;

use super::KurrentDBClient;
use crate::iter::PersistentSubscription;

// For the doc links to each method's async twin.
#[cfg(doc)]
use kurrentdbclient::AsyncKurrentDBClient;

impl KurrentDBClient {
    /// Creates a persistent subscription group on all streams (see
    /// [`AsyncKurrentDBClient::create_subscription_to_all`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, CreateSubscriptionToAllOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.create_subscription_to_all("group-1", &CreateSubscriptionToAllOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn create_subscription_to_all(
        &self,
        group_name: &str,
        options: &CreateSubscriptionToAllOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .create_subscription_to_all(group_name, options),
        )
    }

    /// Creates a persistent subscription group on one stream (see
    /// [`AsyncKurrentDBClient::create_subscription_to_stream`]).
    #[track_caller]
    pub fn create_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.block_on(self.async_client().create_subscription_to_stream(
            group_name,
            stream_name,
            options,
        ))
    }

    /// Joins a group on all streams (see
    /// [`AsyncKurrentDBClient::read_subscription_to_all`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadSubscriptionOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let mut subscription =
    ///     client.read_subscription_to_all("group-1", &ReadSubscriptionOptions::default())?;
    /// while let Some(event) = subscription.next() {
    ///     let event = event?;
    ///     subscription.ack(event.ack_id())?;
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn read_subscription_to_all(
        &self,
        group_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        self.block_on(
            self.async_client()
                .read_subscription_to_all(group_name, options),
        )
        .map(|subscription| PersistentSubscription::new(subscription, self.shared()))
    }

    /// Joins a group on one stream (see
    /// [`AsyncKurrentDBClient::read_subscription_to_stream`]).
    #[track_caller]
    pub fn read_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        self.block_on(self.async_client().read_subscription_to_stream(
            group_name,
            stream_name,
            options,
        ))
        .map(|subscription| PersistentSubscription::new(subscription, self.shared()))
    }

    /// Changes a group on all streams, keeping unset settings (see
    /// [`AsyncKurrentDBClient::update_subscription_to_all`]).
    #[track_caller]
    pub fn update_subscription_to_all(
        &self,
        group_name: &str,
        options: &UpdateSubscriptionToAllOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .update_subscription_to_all(group_name, options),
        )
    }

    /// Changes a group on one stream, keeping unset settings (see
    /// [`AsyncKurrentDBClient::update_subscription_to_stream`]).
    #[track_caller]
    pub fn update_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.block_on(self.async_client().update_subscription_to_stream(
            group_name,
            stream_name,
            options,
        ))
    }

    /// Deletes a group of `stream_name` (or of `$all` when `None`) (see
    /// [`AsyncKurrentDBClient::delete_subscription`]).
    #[track_caller]
    pub fn delete_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &DeleteSubscriptionOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .delete_subscription(group_name, stream_name, options),
        )
    }

    /// A group's settings and statistics (see
    /// [`AsyncKurrentDBClient::get_subscription_info`]).
    #[track_caller]
    pub fn get_subscription_info(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &GetSubscriptionInfoOptions,
    ) -> Result<SubscriptionInfo> {
        self.block_on(
            self.async_client()
                .get_subscription_info(group_name, stream_name, options),
        )
    }

    /// Every group (see
    /// [`AsyncKurrentDBClient::list_subscriptions`]).
    #[track_caller]
    pub fn list_subscriptions(
        &self,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        self.block_on(self.async_client().list_subscriptions(options))
    }

    /// The groups of one stream (see
    /// [`AsyncKurrentDBClient::list_subscriptions_to_stream`]).
    #[track_caller]
    pub fn list_subscriptions_to_stream(
        &self,
        stream_name: &str,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        self.block_on(
            self.async_client()
                .list_subscriptions_to_stream(stream_name, options),
        )
    }

    /// Delivers a group's parked events again (see
    /// [`AsyncKurrentDBClient::replay_parked_events`]).
    #[track_caller]
    pub fn replay_parked_events(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReplayParkedEventsOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .replay_parked_events(group_name, stream_name, options),
        )
    }

    /// Restarts the server's persistent-subscription subsystem (see
    /// [`AsyncKurrentDBClient::restart_persistent_subscription_subsystem`]).
    #[track_caller]
    pub fn restart_persistent_subscription_subsystem(
        &self,
        options: &RestartPersistentSubscriptionSubsystemOptions,
    ) -> Result<()> {
        self.block_on(
            self.async_client()
                .restart_persistent_subscription_subsystem(options),
        )
    }
}
