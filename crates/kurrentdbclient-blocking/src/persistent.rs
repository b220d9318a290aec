//! Persistent subscriptions, blocking: every call of
//! [`kurrentdbclient::persistent`] on [`KurrentDBClient`], and the
//! subscription as an [`Iterator`] ([`PersistentSubscription`]).
//!
//! The info types are the async crate's, re-exported here; the options, like
//! every options type, are at the crate root and in [`crate::options`].
//!
//! ```no_run
//! use kurrentdbclient_blocking::{
//!     CreateSubscriptionToStreamOptions, KurrentDBClient, NackAction, ReadSubscriptionOptions,
//! };
//!
//! # fn main() -> kurrentdbclient_blocking::Result<()> {
//! let client = KurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")?;
//! client.create_subscription_to_stream(
//!     "group-1",
//!     "order-123",
//!     &CreateSubscriptionToStreamOptions::default(),
//! )?;
//! let mut subscription =
//!     client.read_subscription_to_stream("group-1", "order-123", &ReadSubscriptionOptions::default())?;
//! while let Some(event) = subscription.next() {
//!     let event = event?;
//!     if event.r#type == "Poison" {
//!         subscription.nack(event.ack_id(), NackAction::Park)?;
//!     } else {
//!         subscription.ack(event.ack_id())?;
//!     }
//! }
//! subscription.stop();
//! # Ok(()) }
//! ```

pub use kurrentdbclient::persistent::*;

use futures::StreamExt;
use kurrentdbclient::options::*;
use kurrentdbclient::{RecordedEvent, Result};

use crate::KurrentDBClient;

/// One consumer of a persistent subscription group, blocking: an
/// [`Iterator`] of the events the server delivers (each with its
/// [`retry_count`](RecordedEvent::retry_count)), whose
/// [`ack`](Self::ack) and [`nack`](Self::nack) can be called from the
/// consuming thread (or, through [`acker`](Self::acker), from any other).
///
/// The iterator does not end by itself: call [`stop`](Self::stop) (which sends
/// the queued acks first) or drop it. Like every blocking call, `next()` and
/// `stop()` panic when called from async code (see
/// [`KurrentDBClient`](crate::KurrentDBClient#calling-it-from-async-code)).
pub struct PersistentSubscription {
    inner: kurrentdbclient::PersistentSubscription,
    client: KurrentDBClient,
}

impl std::fmt::Debug for PersistentSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PersistentSubscription")
            .field(&self.inner)
            .finish()
    }
}

impl PersistentSubscription {
    /// The subscription id the server confirmed (`<stream>::<group>`).
    pub fn subscription_id(&self) -> &str {
        self.inner.subscription_id()
    }

    /// Acknowledges an event by its [`ack_id`](RecordedEvent::ack_id). Does not
    /// block: acks are queued and sent in batches.
    pub fn ack(&self, event_id: Uuid) -> Result<()> {
        self.inner.ack(event_id)
    }

    /// Negatively acknowledges an event by its [`ack_id`](RecordedEvent::ack_id).
    /// Does not block.
    pub fn nack(&self, event_id: Uuid, action: NackAction) -> Result<()> {
        self.inner.nack(event_id, action)
    }

    /// A cloneable handle to ack and nack from other threads.
    pub fn acker(&self) -> PersistentSubscriptionAcker {
        self.inner.acker()
    }

    /// Sends the queued acks and nacks and leaves the group; the iterator then
    /// ends.
    #[track_caller]
    pub fn stop(&mut self) {
        let inner = &mut self.inner;
        self.client
            .run("PersistentSubscription::stop", inner.stop());
    }

    /// Whether the subscription has stopped.
    pub fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}

impl Iterator for PersistentSubscription {
    type Item = Result<RecordedEvent>;

    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        let inner = &mut self.inner;
        self.client
            .run("PersistentSubscription::next", inner.next())
    }
}

impl KurrentDBClient {
    /// Creates a persistent subscription group on all streams (see
    /// [`AsyncKurrentDBClient::create_subscription_to_all`](kurrentdbclient::AsyncKurrentDBClient::create_subscription_to_all)).
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
        self.run(
            "KurrentDBClient::create_subscription_to_all",
            self.async_client()
                .create_subscription_to_all(group_name, options),
        )
    }

    /// Creates a persistent subscription group on one stream (see
    /// [`AsyncKurrentDBClient::create_subscription_to_stream`](kurrentdbclient::AsyncKurrentDBClient::create_subscription_to_stream)).
    #[track_caller]
    pub fn create_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.run(
            "KurrentDBClient::create_subscription_to_stream",
            self.async_client()
                .create_subscription_to_stream(group_name, stream_name, options),
        )
    }

    /// Joins a group on all streams (see
    /// [`AsyncKurrentDBClient::read_subscription_to_all`](kurrentdbclient::AsyncKurrentDBClient::read_subscription_to_all)).
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
        let inner = self.run(
            "KurrentDBClient::read_subscription_to_all",
            self.async_client()
                .read_subscription_to_all(group_name, options),
        )?;
        Ok(PersistentSubscription {
            inner,
            client: self.clone(),
        })
    }

    /// Joins a group on one stream (see
    /// [`AsyncKurrentDBClient::read_subscription_to_stream`](kurrentdbclient::AsyncKurrentDBClient::read_subscription_to_stream)).
    #[track_caller]
    pub fn read_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        let inner = self.run(
            "KurrentDBClient::read_subscription_to_stream",
            self.async_client()
                .read_subscription_to_stream(group_name, stream_name, options),
        )?;
        Ok(PersistentSubscription {
            inner,
            client: self.clone(),
        })
    }

    /// Changes a group on all streams, keeping unset settings (see
    /// [`AsyncKurrentDBClient::update_subscription_to_all`](kurrentdbclient::AsyncKurrentDBClient::update_subscription_to_all)).
    #[track_caller]
    pub fn update_subscription_to_all(
        &self,
        group_name: &str,
        options: &UpdateSubscriptionToAllOptions,
    ) -> Result<()> {
        self.run(
            "KurrentDBClient::update_subscription_to_all",
            self.async_client()
                .update_subscription_to_all(group_name, options),
        )
    }

    /// Changes a group on one stream, keeping unset settings (see
    /// [`AsyncKurrentDBClient::update_subscription_to_stream`](kurrentdbclient::AsyncKurrentDBClient::update_subscription_to_stream)).
    #[track_caller]
    pub fn update_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.run(
            "KurrentDBClient::update_subscription_to_stream",
            self.async_client()
                .update_subscription_to_stream(group_name, stream_name, options),
        )
    }

    /// Deletes a group of `stream_name` (or of `$all` when `None`) (see
    /// [`AsyncKurrentDBClient::delete_subscription`](kurrentdbclient::AsyncKurrentDBClient::delete_subscription)).
    #[track_caller]
    pub fn delete_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &DeleteSubscriptionOptions,
    ) -> Result<()> {
        self.run(
            "KurrentDBClient::delete_subscription",
            self.async_client()
                .delete_subscription(group_name, stream_name, options),
        )
    }

    /// A group's settings and statistics (see
    /// [`AsyncKurrentDBClient::get_subscription_info`](kurrentdbclient::AsyncKurrentDBClient::get_subscription_info)).
    #[track_caller]
    pub fn get_subscription_info(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &GetSubscriptionInfoOptions,
    ) -> Result<SubscriptionInfo> {
        self.run(
            "KurrentDBClient::get_subscription_info",
            self.async_client()
                .get_subscription_info(group_name, stream_name, options),
        )
    }

    /// Every group (see
    /// [`AsyncKurrentDBClient::list_subscriptions`](kurrentdbclient::AsyncKurrentDBClient::list_subscriptions)).
    #[track_caller]
    pub fn list_subscriptions(
        &self,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        self.run(
            "KurrentDBClient::list_subscriptions",
            self.async_client().list_subscriptions(options),
        )
    }

    /// The groups of one stream (see
    /// [`AsyncKurrentDBClient::list_subscriptions_to_stream`](kurrentdbclient::AsyncKurrentDBClient::list_subscriptions_to_stream)).
    #[track_caller]
    pub fn list_subscriptions_to_stream(
        &self,
        stream_name: &str,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        self.run(
            "KurrentDBClient::list_subscriptions_to_stream",
            self.async_client()
                .list_subscriptions_to_stream(stream_name, options),
        )
    }

    /// Delivers a group's parked events again (see
    /// [`AsyncKurrentDBClient::replay_parked_events`](kurrentdbclient::AsyncKurrentDBClient::replay_parked_events)).
    #[track_caller]
    pub fn replay_parked_events(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReplayParkedEventsOptions,
    ) -> Result<()> {
        self.run(
            "KurrentDBClient::replay_parked_events",
            self.async_client()
                .replay_parked_events(group_name, stream_name, options),
        )
    }

    /// Restarts the server's persistent-subscription subsystem (see
    /// [`AsyncKurrentDBClient::restart_persistent_subscription_subsystem`](kurrentdbclient::AsyncKurrentDBClient::restart_persistent_subscription_subsystem)).
    #[track_caller]
    pub fn restart_persistent_subscription_subsystem(
        &self,
        options: &RestartPersistentSubscriptionSubsystemOptions,
    ) -> Result<()> {
        self.run(
            "KurrentDBClient::restart_persistent_subscription_subsystem",
            self.async_client()
                .restart_persistent_subscription_subsystem(options),
        )
    }
}
