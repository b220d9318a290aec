//! The persistent-subscriptions service's operations: creating, updating,
//! deleting, inspecting and listing groups, replaying parked events,
//! restarting the subsystem, and joining a group as a consumer. Requests are
//! built and answers read by [`crate::persistent`].

use std::sync::Arc;

use super::AsyncKurrentDBClient;
use super::call::CallKind;
use crate::error::{Error, Result};
use crate::options::*;
use crate::persistent::{
    self, ConsumerSetup, PersistentSubscription, SubscriptionInfo, consumer_lost, requests,
};
use crate::proto::persistent as pp;
use crate::proto::shared::Empty;
use crate::resume::{Reopen, Resume};
use crate::streams::check_stream_name;
use crate::telemetry::{client_span, traced};

impl AsyncKurrentDBClient {
    /// Creates a persistent subscription group on all streams. By default the
    /// group starts at the first event and excludes system events (as
    /// `read_all` does).
    ///
    /// A group of that name on `$all` that exists already gives
    /// [`Error::AlreadyExists`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, CreateSubscriptionToAllOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .create_subscription_to_all("group-1", &CreateSubscriptionToAllOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_subscription_to_all(
        &self,
        group_name: &str,
        options: &CreateSubscriptionToAllOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.create_subscription_to_all", "client"),
            async {
                let request = requests::create_to_all(group_name, options)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.persistent().create(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }

    /// Creates a persistent subscription group on one stream (which need not
    /// exist yet), from its start by default.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, CreateSubscriptionToStreamOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .create_subscription_to_stream(
    ///         "group-1",
    ///         "order-123",
    ///         &CreateSubscriptionToStreamOptions::default(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.create_subscription_to_stream",
                "client",
                stream_name
            ),
            async {
                let request = requests::create_to_stream(group_name, stream_name, options)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.persistent().create(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Joins a persistent subscription group on all streams: waits for the
    /// server's confirmation and returns the [`PersistentSubscription`].
    ///
    /// A missing group gives [`Error::NotFound`]; a group with its maximum
    /// number of consumers gives [`Error::MaximumSubscriptionsReached`].
    ///
    /// With the `retry` option ([`SubscriptionRetry`]) the consumer joins
    /// again by itself when its call is lost (its node stopped, a new leader
    /// elected, the server dropping its consumers); otherwise the stream
    /// yields the error and ends.
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ReadSubscriptionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut subscription = client
    ///     .read_subscription_to_all("group-1", &ReadSubscriptionOptions::default())
    ///     .await?;
    /// while let Some(event) = subscription.next().await {
    ///     let event = event?;
    ///     println!("{} (retry {:?})", event.r#type, event.retry_count);
    ///     subscription.ack(event.ack_id())?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_subscription_to_all(
        &self,
        group_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        traced(client_span!("streams.subscribe", "consumer"), async {
            requests::check_group_name(group_name)?;
            self.read_subscription(group_name, None, options).await
        })
        .await
    }

    /// Joins a persistent subscription group on one stream (see
    /// [`read_subscription_to_all`](Self::read_subscription_to_all)).
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, NackAction, ReadSubscriptionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut subscription = client
    ///     .read_subscription_to_stream("group-1", "order-123", &ReadSubscriptionOptions::default())
    ///     .await?;
    /// if let Some(event) = subscription.next().await.transpose()? {
    ///     subscription.nack(&event, NackAction::Park, "cannot be handled")?;
    /// }
    /// subscription.stop().await;
    /// # Ok(()) }
    /// ```
    pub async fn read_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        traced(
            client_span!("streams.subscribe", "consumer", stream_name),
            async {
                requests::check_group_name(group_name)?;
                check_stream_name(stream_name)?;
                self.read_subscription(group_name, Some(stream_name), options)
                    .await
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Joins a group of `stream_name` (`$all` when `None`) as a consumer,
    /// resumable when the options ask for it.
    async fn read_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        let setup = ConsumerSetup::new(group_name, stream_name, options)?;
        let subscription = self.join(&setup, options).await?;
        let Some(retry) = options.retry else {
            return Ok(subscription);
        };
        let (client, options) = (self.clone(), options.clone());
        let reopen: Reopen<PersistentSubscription> = Arc::new(move |_| {
            let (client, setup, options) = (client.clone(), setup.clone(), options.clone());
            Box::pin(async move { client.join(&setup, &options).await })
        });
        Ok(subscription.resumable(Resume::new(retry, reopen, consumer_lost)))
    }

    /// One consumer call of `setup`, confirmed.
    async fn join(
        &self,
        setup: &ConsumerSetup,
        options: &ReadSubscriptionOptions,
    ) -> Result<PersistentSubscription> {
        self.run(CallKind::Consumer, options, |call| {
            let (joining, requests) = setup.join();
            async move {
                let responses = call.persistent().read(call.request(requests)).await?;
                let tags = |id: &str| call.consumer_tags(id);
                joining
                    .confirm(responses.into_inner(), call.closed_signal(), tags)
                    .await
            }
        })
        .await
    }

    /// Changes a group on all streams. Settings left unset keep their current
    /// values (the group's info is read first, as the Python client does). The
    /// server drops the group's consumers, which reconnect.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, UpdateSubscriptionToAllOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .update_subscription_to_all(
    ///         "group-1",
    ///         &UpdateSubscriptionToAllOptions::default().max_retry_count(3),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_subscription_to_all(
        &self,
        group_name: &str,
        options: &UpdateSubscriptionToAllOptions,
    ) -> Result<()> {
        traced(
            client_span!("AsyncKurrentDBClient.update_subscription_to_all", "client"),
            async {
                requests::check_group_name(group_name)?;
                let info = self
                    .get_subscription_info(group_name, None, &info_options(options))
                    .await?;
                let request = requests::update_to_all(group_name, options, &info)?;
                self.update(request, options).await
            },
        )
        .await
    }

    /// Changes a group on one stream (see
    /// [`update_subscription_to_all`](Self::update_subscription_to_all)).
    pub async fn update_subscription_to_stream(
        &self,
        group_name: &str,
        stream_name: &str,
        options: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.update_subscription_to_stream",
                "client",
                stream_name
            ),
            async {
                requests::check_group_name(group_name)?;
                check_stream_name(stream_name)?;
                let info = self
                    .get_subscription_info(group_name, Some(stream_name), &info_options(options))
                    .await?;
                let request = requests::update_to_stream(group_name, stream_name, options, &info)?;
                self.update(request, options).await
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Sends an update.
    async fn update(&self, request: pp::UpdateReq, options: &impl CallOptions) -> Result<()> {
        self.unary(
            CallKind::Management,
            options,
            request,
            |call, r| async move { call.persistent().update(r).await },
        )
        .await?;
        Ok(())
    }

    /// Deletes a group: of `stream_name`, or of `$all` when `None`. Its
    /// consumers are dropped, and its checkpoint and parked events deleted, so
    /// a group created again with that name starts over. A missing group gives
    /// [`Error::NotFound`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, DeleteSubscriptionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .delete_subscription("group-1", None, &DeleteSubscriptionOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_subscription(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &DeleteSubscriptionOptions,
    ) -> Result<()> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.delete_subscription",
                "client",
                stream_name
            ),
            async {
                let request = requests::delete(group_name, stream_name)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.persistent().delete(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// A group's settings and statistics: of `stream_name`, or of `$all` when
    /// `None`. A missing group gives [`Error::NotFound`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, GetSubscriptionInfoOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let info = client
    ///     .get_subscription_info("group-1", None, &GetSubscriptionInfoOptions::default())
    ///     .await?;
    /// println!("{} parked", info.parked_message_count);
    /// # Ok(()) }
    /// ```
    pub async fn get_subscription_info(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &GetSubscriptionInfoOptions,
    ) -> Result<SubscriptionInfo> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.get_subscription_info",
                "client",
                stream_name
            ),
            async {
                let request = requests::get_info(group_name, stream_name)?;
                let response = self
                    .unary(
                        CallKind::Management,
                        options,
                        request,
                        |call, r| async move { call.persistent().get_info(r).await },
                    )
                    .await?;
                persistent::from_get_info(response)
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Every persistent subscription group.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ListSubscriptionsOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// for info in client.list_subscriptions(&ListSubscriptionsOptions::default()).await? {
    ///     println!("{}::{}", info.event_source, info.group_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_subscriptions(
        &self,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        traced(
            client_span!("AsyncKurrentDBClient.list_subscriptions", "client"),
            async { self.list(requests::list_all(), options).await },
        )
        .await
    }

    /// The groups of one stream (`"$all"` for the groups on all streams); an
    /// empty list when there is none.
    pub async fn list_subscriptions_to_stream(
        &self,
        stream_name: &str,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.list_subscriptions_to_stream",
                "client",
                stream_name
            ),
            async {
                self.list(requests::list_for_stream(stream_name)?, options)
                    .await
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Sends a list request; no group is an empty list.
    async fn list(
        &self,
        request: pp::ListReq,
        options: &ListSubscriptionsOptions,
    ) -> Result<Vec<SubscriptionInfo>> {
        let result = self
            .unary(
                CallKind::Management,
                options,
                request,
                |call, r| async move { call.persistent().list(r).await },
            )
            .await;
        match result {
            Ok(response) => Ok(persistent::from_list(response)),
            // The server answers NOT_FOUND when a stream has no group.
            Err(Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Delivers a group's parked events again: of `stream_name`, or of `$all`
    /// when `None`.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, ReplayParkedEventsOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .replay_parked_events("group-1", Some("order-123"), &ReplayParkedEventsOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn replay_parked_events(
        &self,
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReplayParkedEventsOptions,
    ) -> Result<()> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.replay_parked_events",
                "client",
                stream_name
            ),
            async {
                let request = requests::replay_parked(group_name, stream_name, options)?;
                self.unary(
                    CallKind::Management,
                    options,
                    request,
                    |call, r| async move { call.persistent().replay_parked(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Restarts the server's persistent-subscription subsystem: every group's
    /// consumers are dropped and every group reloads from its checkpoint.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, RestartPersistentSubscriptionSubsystemOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .restart_persistent_subscription_subsystem(
    ///         &RestartPersistentSubscriptionSubsystemOptions::default(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn restart_persistent_subscription_subsystem(
        &self,
        options: &RestartPersistentSubscriptionSubsystemOptions,
    ) -> Result<()> {
        traced(
            client_span!(
                "AsyncKurrentDBClient.restart_persistent_subscription_subsystem",
                "client"
            ),
            async {
                self.unary(
                    CallKind::Management,
                    options,
                    Empty {},
                    |call, r| async move { call.persistent().restart_subsystem(r).await },
                )
                .await?;
                Ok(())
            },
        )
        .await
    }
}

/// An update reads the group's info first, with the update's timeout and
/// credentials.
fn info_options(options: &impl CallOptions) -> GetSubscriptionInfoOptions {
    GetSubscriptionInfoOptions {
        timeout: options.call_timeout(),
        credentials: options.call_credentials().cloned(),
    }
}
