//! The options of the PersistentSubscriptions service's calls: a group's
//! [`PersistentSubscriptionSettings`] (defined once, held by the create and
//! update options of groups on `$all` and on a stream), the
//! [`ConsumerStrategy`] among them, a consumer's options, and the group
//! administration calls.
//!
//! Defaults follow the Python client: see the `DEFAULT_PERSISTENT_SUB_*`
//! constants.

use std::time::Duration;

use super::SubscriptionRetry;
use crate::error::{Error, Result};

/// Default message timeout of a group.
pub const DEFAULT_PERSISTENT_SUB_MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default maximum retry count of a group.
pub const DEFAULT_PERSISTENT_SUB_MAX_RETRY_COUNT: u32 = 10;
/// Default minimum checkpoint count of a group.
pub const DEFAULT_PERSISTENT_SUB_MIN_CHECKPOINT_COUNT: u32 = 10;
/// Default maximum checkpoint count of a group.
pub const DEFAULT_PERSISTENT_SUB_MAX_CHECKPOINT_COUNT: u32 = 1000;
/// Default checkpoint-after duration of a group.
pub const DEFAULT_PERSISTENT_SUB_CHECKPOINT_AFTER: Duration = Duration::from_secs(2);
/// Default maximum number of consumers of a group.
pub const DEFAULT_PERSISTENT_SUB_MAX_SUBSCRIBER_COUNT: u32 = 5;
/// Default live buffer size of a group.
pub const DEFAULT_PERSISTENT_SUB_LIVE_BUFFER_SIZE: u32 = 500;
/// Default read batch size of a group.
pub const DEFAULT_PERSISTENT_SUB_READ_BATCH_SIZE: u32 = 200;
/// Default history buffer size of a group.
pub const DEFAULT_PERSISTENT_SUB_HISTORY_BUFFER_SIZE: u32 = 500;
/// Default number of unacknowledged events a consumer may hold.
pub const DEFAULT_PERSISTENT_SUB_EVENT_BUFFER_SIZE: u32 = 150;
/// Default largest number of ids in one ack (or nack) request.
pub const DEFAULT_PERSISTENT_SUB_MAX_ACK_BATCH_SIZE: usize = 50;
/// Default longest delay before an ack is sent.
pub const DEFAULT_PERSISTENT_SUB_MAX_ACK_DELAY: Duration = Duration::from_millis(200);
/// Default time given to the server to process the last acks on stop.
pub const DEFAULT_PERSISTENT_SUB_STOPPING_GRACE: Duration = Duration::from_millis(200);

/// How a group shares its events between consumers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConsumerStrategy {
    /// Fill one consumer's buffer, then the next (the default).
    #[default]
    DispatchToSingle,
    /// Rotate between the consumers with free buffer slots.
    RoundRobin,
    /// Send all events of one stream to the same consumer.
    Pinned,
    /// Like `Pinned`, by correlation id (not supported by every server).
    PinnedByCorrelation,
    /// A strategy this client does not know, as the server named it.
    Other(String),
}

impl ConsumerStrategy {
    /// The strategy's name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ConsumerStrategy::DispatchToSingle => "DispatchToSingle",
            ConsumerStrategy::RoundRobin => "RoundRobin",
            ConsumerStrategy::Pinned => "Pinned",
            ConsumerStrategy::PinnedByCorrelation => "PinnedByCorrelation",
            ConsumerStrategy::Other(name) => name,
        }
    }

    /// Parses a strategy name.
    pub fn from_name(name: &str) -> ConsumerStrategy {
        match name {
            "DispatchToSingle" => ConsumerStrategy::DispatchToSingle,
            "RoundRobin" => ConsumerStrategy::RoundRobin,
            "Pinned" => ConsumerStrategy::Pinned,
            "PinnedByCorrelation" => ConsumerStrategy::PinnedByCorrelation,
            other => ConsumerStrategy::Other(other.to_owned()),
        }
    }

    /// The legacy enum number (`Update` only knows the first three).
    pub(crate) fn number(&self) -> Result<i32> {
        match self {
            ConsumerStrategy::DispatchToSingle => Ok(0),
            ConsumerStrategy::RoundRobin => Ok(1),
            ConsumerStrategy::Pinned => Ok(2),
            other => Err(Error::Programming(format!(
                "consumer strategy {} cannot be set by an update",
                other.as_str()
            ))),
        }
    }
}

/// Defines [`PersistentSubscriptionSettings`] from the list of settings, and
/// `settings_setters!`: the builder methods of the four options types that
/// hold one (create and update, on `$all` and on a stream), each setting the
/// field of the same name of their `settings`. So a setting is written once,
/// with its docs, and users keep calling
/// `CreateSubscriptionToAllOptions::default().message_timeout(..)`.
macro_rules! group_settings {
    ($(
        $(#[doc = $doc:expr])*
        $field:ident: $ty:ty,
    )*) => {
        /// The settings of a persistent subscription group, shared by its
        /// create and update options ([`CreateSubscriptionToAllOptions`],
        /// [`CreateSubscriptionToStreamOptions`],
        /// [`UpdateSubscriptionToAllOptions`],
        /// [`UpdateSubscriptionToStreamOptions`]), whose builder methods of the
        /// same names set them.
        ///
        /// Every setting is an `Option`: one left unset takes its default
        /// when a group is created (the Python client's, in parentheses), and
        /// keeps the group's current value when it is updated (the update
        /// reads the group's info first).
        ///
        /// ```
        /// use std::time::Duration;
        /// use kurrentdbclient::{
        ///     ConsumerStrategy, CreateSubscriptionToAllOptions, PersistentSubscriptionSettings,
        /// };
        ///
        /// let settings = PersistentSubscriptionSettings::default()
        ///     .consumer_strategy(ConsumerStrategy::RoundRobin)
        ///     .message_timeout(Duration::from_secs(10));
        /// let options = CreateSubscriptionToAllOptions::default()
        ///     .from_end(true)
        ///     .settings(settings.clone());
        /// assert_eq!(options.settings, settings);
        /// // The same, set through the options' own builder methods.
        /// let options = CreateSubscriptionToAllOptions::default()
        ///     .from_end(true)
        ///     .consumer_strategy(ConsumerStrategy::RoundRobin)
        ///     .message_timeout(Duration::from_secs(10));
        /// assert_eq!(options.settings, settings);
        /// ```
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct PersistentSubscriptionSettings {
            $(
                $(#[doc = $doc])*
                pub $field: Option<$ty>,
            )*
        }

        impl PersistentSubscriptionSettings {
            $(
                $(#[doc = $doc])*
                pub fn $field(mut self, value: $ty) -> Self {
                    self.$field = Some(value);
                    self
                }
            )*
        }

        macro_rules! settings_setters {
            () => {
                $(
                    $(#[doc = $doc])*
                    pub fn $field(mut self, value: $ty) -> Self {
                        self.settings.$field = Some(value);
                        self
                    }
                )*
            };
        }
    };
}

group_settings! {
    /// Resolve link events to the events they point to (default `false`).
    resolve_links: bool,
    /// How events are shared between consumers (default
    /// [`DispatchToSingle`](ConsumerStrategy::DispatchToSingle)).
    consumer_strategy: ConsumerStrategy,
    /// How long an event may stay unacknowledged before it is retried
    /// (default 30 s).
    message_timeout: Duration,
    /// Retries before an event is parked (default 10).
    max_retry_count: u32,
    /// Fewest processed events before a checkpoint is written (default 10).
    min_checkpoint_count: u32,
    /// Processed events that force a checkpoint (default 1000).
    max_checkpoint_count: u32,
    /// Shortest time between checkpoints (default 2 s).
    checkpoint_after: Duration,
    /// Most consumers at once, 0 for no limit (default 5).
    max_subscriber_count: u32,
    /// Size of the group's live buffer (default 500).
    live_buffer_size: u32,
    /// Events read from the source at a time (default 200).
    read_batch_size: u32,
    /// Size of the group's history buffer (default 500).
    history_buffer_size: u32,
    /// Track extra statistics (default `false`).
    extra_statistics: bool,
}

options! {
    /// Options of [`create_subscription_to_all`](crate::AsyncKurrentDBClient::create_subscription_to_all).
    /// Unset settings take the Python client's defaults (see
    /// [`PersistentSubscriptionSettings`]).
    CreateSubscriptionToAllOptions {
        /// Receive only events recorded after the group is created.
        plain from_end: bool,
        /// Start at this commit position (the event there MAY be delivered).
        opt commit_position: u64,
        /// Regular expressions (or prefixes, with `filter_by_prefix`); only
        /// matching events are delivered (overrides `filter_exclude`).
        strings filter_include: Vec<String>,
        /// Regular expressions; matching events are not delivered. `None` means
        /// [`DEFAULT_EXCLUDE_FILTER`](crate::options::DEFAULT_EXCLUDE_FILTER);
        /// an empty list excludes nothing.
        opt_strings filter_exclude: Vec<String>,
        /// Match the filters against stream names instead of event types.
        plain filter_by_stream_name: bool,
        /// Treat `filter_include` as prefixes instead of regular expressions.
        plain filter_by_prefix: bool,
        /// The filter's search window (default 30).
        opt window_size: u32,
        /// The filter's checkpoint interval multiplier (default 5).
        opt checkpoint_interval_multiplier: u32,
        /// The group's settings (each also set by the builder method of its
        /// name).
        plain settings: PersistentSubscriptionSettings,
    }
}

impl CreateSubscriptionToAllOptions {
    settings_setters!();
}

options! {
    /// Options of [`create_subscription_to_stream`](crate::AsyncKurrentDBClient::create_subscription_to_stream).
    /// Unset settings take the Python client's defaults (see
    /// [`PersistentSubscriptionSettings`]).
    CreateSubscriptionToStreamOptions {
        /// Receive only events recorded after the group is created.
        plain from_end: bool,
        /// Start at this stream position (included).
        opt stream_position: u64,
        /// The group's settings (each also set by the builder method of its
        /// name).
        plain settings: PersistentSubscriptionSettings,
    }
}

impl CreateSubscriptionToStreamOptions {
    settings_setters!();
}

options! {
    /// Options of [`update_subscription_to_all`](crate::AsyncKurrentDBClient::update_subscription_to_all).
    /// As in the Python client, every unset setting keeps its current value
    /// (the update reads the group's info first).
    UpdateSubscriptionToAllOptions {
        /// Restart from the end (`true`) or the start (`false`).
        opt from_end: bool,
        /// Restart from this commit position.
        opt commit_position: u64,
        /// The settings to change (each also set by the builder method of its
        /// name).
        plain settings: PersistentSubscriptionSettings,
    }
}

impl UpdateSubscriptionToAllOptions {
    settings_setters!();
}

options! {
    /// Options of [`update_subscription_to_stream`](crate::AsyncKurrentDBClient::update_subscription_to_stream).
    /// Every unset setting keeps its current value.
    UpdateSubscriptionToStreamOptions {
        /// Restart from the end (`true`) or the start (`false`).
        opt from_end: bool,
        /// Restart from this stream position.
        opt stream_position: u64,
        /// The settings to change (each also set by the builder method of its
        /// name).
        plain settings: PersistentSubscriptionSettings,
    }
}

impl UpdateSubscriptionToStreamOptions {
    settings_setters!();
}

options! {
    /// Options of [`read_subscription_to_all`](crate::AsyncKurrentDBClient::read_subscription_to_all)
    /// and [`read_subscription_to_stream`](crate::AsyncKurrentDBClient::read_subscription_to_stream).
    /// The `timeout` limits the whole subscription; by default it has none.
    ReadSubscriptionOptions {
        /// Unacknowledged events the server may send this consumer (default 150).
        opt event_buffer_size: u32,
        /// Most ids in one ack or nack request (default 50).
        opt max_ack_batch_size: usize,
        /// Longest delay before an ack is sent (default 200 ms).
        opt max_ack_delay: Duration,
        /// How long `stop` waits for the server to process the last acks
        /// (default 200 ms).
        opt stopping_grace: Duration,
        /// Join again by itself after losing the call (see [`SubscriptionRetry`]).
        opt retry: SubscriptionRetry,
    }
}

options! {
    /// Options of [`delete_subscription`](crate::AsyncKurrentDBClient::delete_subscription).
    DeleteSubscriptionOptions {}
}

options! {
    /// Options of [`get_subscription_info`](crate::AsyncKurrentDBClient::get_subscription_info).
    GetSubscriptionInfoOptions {}
}

options! {
    /// Options of [`list_subscriptions`](crate::AsyncKurrentDBClient::list_subscriptions)
    /// and [`list_subscriptions_to_stream`](crate::AsyncKurrentDBClient::list_subscriptions_to_stream).
    ListSubscriptionsOptions {}
}

options! {
    /// Options of [`replay_parked_events`](crate::AsyncKurrentDBClient::replay_parked_events).
    ReplayParkedEventsOptions {
        /// Replay only the parked events before this position of the parked
        /// stream (all by default).
        opt stop_at: u64,
    }
}

options! {
    /// Options of [`restart_persistent_subscription_subsystem`](crate::AsyncKurrentDBClient::restart_persistent_subscription_subsystem).
    RestartPersistentSubscriptionSubsystemOptions {}
}
