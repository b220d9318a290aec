//! One options type per operation. Each is `Default` (every option at its
//! documented default), has a builder method per option, and carries the two
//! options every call has: `timeout` (overrides the connection string's
//! `defaultDeadline`) and `credentials` (override its user info).
//!
//! ```
//! use std::time::Duration;
//! use kurrentdbclient::{Credentials, ReadStreamOptions};
//!
//! let options = ReadStreamOptions::default()
//!     .backwards(true)
//!     .limit(10)
//!     .timeout(Duration::from_secs(5))
//!     .credentials(Credentials::new("admin", "changeit"));
//! assert_eq!(options.limit, Some(10));
//! ```

use std::time::Duration;

use crate::connection::credentials::Credentials;
use crate::persistent::ConsumerStrategy;

mod retry;
pub use retry::SubscriptionRetry;

/// Matches the type of system events (`$...`).
pub const SYSTEM_EVENTS_REGEX: &str = r"\$.+";
/// Matches the type of persistent subscription configuration events.
pub const PERSISTENT_CONFIG_EVENTS_REGEX: &str = r"PersistentConfig\d+";
/// Matches the type of projection result events.
pub const RESULT_EVENTS_REGEX: &str = r"Result";
/// What `read_all`, `get_commit_position` and `subscribe_to_all` exclude by
/// default: system events, persistent subscription config events and projection
/// results (the Python client's `DEFAULT_EXCLUDE_FILTER`).
pub const DEFAULT_EXCLUDE_FILTER: &[&str] = &[
    SYSTEM_EVENTS_REGEX,
    PERSISTENT_CONFIG_EVENTS_REGEX,
    RESULT_EVENTS_REGEX,
];
/// Default search window of a filtered read or subscription.
pub const DEFAULT_WINDOW_SIZE: u32 = 30;
/// Default checkpoint interval multiplier of a filtered subscription.
pub const DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER: u32 = 5;

/// The options every call has.
pub(crate) trait CallOptions {
    fn call_timeout(&self) -> Option<Duration>;
    fn call_credentials(&self) -> Option<&Credentials>;
    /// The options type's name, naming the operation in access errors.
    fn operation(&self) -> &'static str;
}

macro_rules! options {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(
                $(#[doc = $doc:expr])*
                $kind:ident $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $crate::options::options!(@field_ty $kind $ty),
            )*
            /// Maximum duration of the call; overrides the connection string's
            /// `defaultDeadline`.
            pub timeout: Option<Duration>,
            /// Credentials for this call, overriding the connection string's user
            /// info. Refused on a `tls=false` connection.
            pub credentials: Option<Credentials>,
        }

        impl $name {
            $(
                $crate::options::options!(@setter $kind $field $ty; $($doc),*);
            )*

            /// Sets the maximum duration of the call (overrides `defaultDeadline`).
            pub fn timeout(mut self, timeout: Duration) -> Self {
                self.timeout = Some(timeout);
                self
            }

            /// Sets the credentials for this call.
            pub fn credentials(mut self, credentials: Credentials) -> Self {
                self.credentials = Some(credentials);
                self
            }
        }

        impl CallOptions for $name {
            fn call_timeout(&self) -> Option<Duration> {
                self.timeout
            }
            fn call_credentials(&self) -> Option<&Credentials> {
                self.credentials.as_ref()
            }
            fn operation(&self) -> &'static str {
                stringify!($name)
            }
        }
    };

    (@field_ty plain $ty:ty) => { $ty };
    (@field_ty opt $ty:ty) => { Option<$ty> };
    (@field_ty strings $ty:ty) => { Vec<String> };
    (@field_ty opt_strings $ty:ty) => { Option<Vec<String>> };

    (@setter plain $field:ident $ty:ty; $($doc:expr),*) => {
        $(#[doc = $doc])*
        pub fn $field(mut self, value: $ty) -> Self {
            self.$field = value;
            self
        }
    };
    (@setter opt $field:ident $ty:ty; $($doc:expr),*) => {
        $(#[doc = $doc])*
        pub fn $field(mut self, value: $ty) -> Self {
            self.$field = Some(value);
            self
        }
    };
    (@setter strings $field:ident $ty:ty; $($doc:expr),*) => {
        $(#[doc = $doc])*
        pub fn $field<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
            self.$field = values.into_iter().map(Into::into).collect();
            self
        }
    };
    (@setter opt_strings $field:ident $ty:ty; $($doc:expr),*) => {
        $(#[doc = $doc])*
        pub fn $field<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
            self.$field = Some(values.into_iter().map(Into::into).collect());
            self
        }
    };
}

/// Defines an options struct (the common `timeout` and `credentials` included);
/// used by every operation's options.
pub(crate) use options;

mod operations;
pub use operations::*;

options! {
    /// Options of [`append_to_stream`](crate::AsyncKurrentDBClient::append_to_stream).
    AppendToStreamOptions {}
}

options! {
    /// Options of [`multi_append_to_stream`](crate::AsyncKurrentDBClient::multi_append_to_stream).
    MultiAppendOptions {}
}

options! {
    /// Options of [`append_records`](crate::AsyncKurrentDBClient::append_records).
    AppendRecordsOptions {}
}

options! {
    /// Options of [`get_current_version`](crate::AsyncKurrentDBClient::get_current_version).
    GetCurrentVersionOptions {}
}

options! {
    /// Options of [`get_commit_position`](crate::AsyncKurrentDBClient::get_commit_position):
    /// the commit position of the last event matching the filters (by default,
    /// the last non-system event).
    GetCommitPositionOptions {
        /// Regular expressions; only matching events count (overrides
        /// `filter_exclude`).
        strings filter_include: Vec<String>,
        /// Regular expressions; matching events do not count. `None` means
        /// [`DEFAULT_EXCLUDE_FILTER`]; an empty list excludes nothing.
        opt_strings filter_exclude: Vec<String>,
        /// Match the filters against stream names instead of event types.
        plain filter_by_stream_name: bool,
    }
}

options! {
    /// Options of [`read_stream`](crate::AsyncKurrentDBClient::read_stream) and
    /// [`get_stream`](crate::AsyncKurrentDBClient::get_stream).
    ReadStreamOptions {
        /// The stream position to start from (included); by default the start,
        /// or the end when reading backwards.
        opt stream_position: u64,
        /// Read from the end towards the start.
        plain backwards: bool,
        /// Resolve link events to the events they point to.
        plain resolve_links: bool,
        /// The most events to return (no limit by default).
        opt limit: u64,
    }
}

options! {
    /// Options of [`read_all`](crate::AsyncKurrentDBClient::read_all).
    ReadAllOptions {
        /// The commit position to start from: included when reading forwards,
        /// excluded when reading backwards. It must be an existing event's
        /// position. By default the start, or the end when reading backwards.
        opt commit_position: u64,
        /// Read from the end towards the start.
        plain backwards: bool,
        /// Resolve link events to the events they point to.
        plain resolve_links: bool,
        /// The most events to return (no limit by default).
        opt limit: u64,
        /// Regular expressions (or prefixes, with `filter_by_prefix`); only
        /// matching events are returned. Overrides `filter_exclude`.
        strings filter_include: Vec<String>,
        /// Regular expressions; matching events are not returned. `None` means
        /// [`DEFAULT_EXCLUDE_FILTER`] (system events excluded); an empty list
        /// excludes nothing.
        opt_strings filter_exclude: Vec<String>,
        /// Match the filters against stream names instead of event types.
        plain filter_by_stream_name: bool,
        /// Treat `filter_include` as prefixes instead of regular expressions.
        plain filter_by_prefix: bool,
    }
}

options! {
    /// Options of [`delete_stream`](crate::AsyncKurrentDBClient::delete_stream).
    DeleteStreamOptions {}
}

options! {
    /// Options of [`tombstone_stream`](crate::AsyncKurrentDBClient::tombstone_stream).
    TombstoneStreamOptions {}
}

options! {
    /// Options of [`get_stream_metadata`](crate::AsyncKurrentDBClient::get_stream_metadata).
    GetStreamMetadataOptions {}
}

options! {
    /// Options of [`set_stream_metadata`](crate::AsyncKurrentDBClient::set_stream_metadata).
    SetStreamMetadataOptions {}
}

options! {
    /// Options of [`subscribe_to_all`](crate::AsyncKurrentDBClient::subscribe_to_all).
    SubscribeToAllOptions {
        /// Receive events after this commit position (excluded). By default
        /// from the start.
        opt commit_position: u64,
        /// Receive only events recorded after the subscription starts.
        plain from_end: bool,
        /// Resolve link events to the events they point to.
        plain resolve_links: bool,
        /// Regular expressions (or prefixes, with `filter_by_prefix`); only
        /// matching events are received. Overrides `filter_exclude`.
        strings filter_include: Vec<String>,
        /// Regular expressions; matching events are not received. `None` means
        /// [`DEFAULT_EXCLUDE_FILTER`]; an empty list excludes nothing.
        opt_strings filter_exclude: Vec<String>,
        /// Match the filters against stream names instead of event types.
        plain filter_by_stream_name: bool,
        /// Treat `filter_include` as prefixes instead of regular expressions.
        plain filter_by_prefix: bool,
        /// Also yield [`Checkpoint`](crate::Checkpoint)s (filtered subscriptions).
        plain include_checkpoints: bool,
        /// Also yield a [`CaughtUp`](crate::CaughtUp) marker when live.
        plain include_caught_up: bool,
        /// Also yield a [`FellBehind`](crate::FellBehind) marker when a live
        /// subscription falls behind and catches up again.
        plain include_fell_behind: bool,
        /// The filter's search window (default [`DEFAULT_WINDOW_SIZE`]).
        opt window_size: u32,
        /// Checkpoints come every `window_size * multiplier` events searched
        /// (default [`DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER`]).
        opt checkpoint_interval_multiplier: u32,
        /// Resubscribe by itself after losing the connection (see
        /// [`SubscriptionRetry`]); by default the subscription ends with the
        /// error.
        opt retry: SubscriptionRetry,
    }
}

options! {
    /// Options of [`subscribe_to_stream`](crate::AsyncKurrentDBClient::subscribe_to_stream).
    SubscribeToStreamOptions {
        /// Receive events after this stream position (excluded). By default from
        /// the start.
        opt stream_position: u64,
        /// Receive only events recorded after the subscription starts.
        plain from_end: bool,
        /// Resolve link events to the events they point to.
        plain resolve_links: bool,
        /// Also yield a [`CaughtUp`](crate::CaughtUp) marker when live.
        plain include_caught_up: bool,
        /// Also yield a [`FellBehind`](crate::FellBehind) marker when a live
        /// subscription falls behind and catches up again.
        plain include_fell_behind: bool,
        /// Resubscribe by itself after losing the connection (see
        /// [`SubscriptionRetry`]); by default the subscription ends with the
        /// error.
        opt retry: SubscriptionRetry,
    }
}

options! {
    /// Options of [`read_index`](crate::AsyncKurrentDBClient::read_index).
    ReadIndexOptions {
        /// Start at this commit position (included; it must be a record's).
        opt commit_position: u64,
        /// Return at most this many events.
        opt limit: u64,
    }
}

options! {
    /// Options of [`subscribe_to_index`](crate::AsyncKurrentDBClient::subscribe_to_index).
    SubscribeToIndexOptions {
        /// Receive events after this commit position.
        opt commit_position: u64,
        /// Also yield a [`CaughtUp`](crate::CaughtUp) marker when live.
        plain include_caught_up: bool,
        /// Also yield a [`FellBehind`](crate::FellBehind) marker when a live
        /// subscription falls behind and catches up again.
        plain include_fell_behind: bool,
    }
}

/// The stream-name prefix KurrentDB 25.1+ reads a secondary index by.
const INDEX_PREFIX: &str = "$idx-";

/// The `$all` filter that reads the secondary index `index_name` (with or
/// without its `$idx-` prefix), as the Python client does.
fn index_prefix(index_name: &str) -> String {
    if index_name.starts_with(INDEX_PREFIX) {
        index_name.to_owned()
    } else {
        format!("{INDEX_PREFIX}{index_name}")
    }
}

impl ReadIndexOptions {
    /// The `read_all` that reads the index: filtered by the stream-name prefix
    /// `$idx-<name>`.
    pub(crate) fn to_read_all(&self, index_name: &str) -> ReadAllOptions {
        ReadAllOptions {
            commit_position: self.commit_position,
            limit: self.limit,
            filter_include: vec![index_prefix(index_name)],
            filter_by_stream_name: true,
            filter_by_prefix: true,
            timeout: self.timeout,
            credentials: self.credentials.clone(),
            ..ReadAllOptions::default()
        }
    }
}

impl SubscribeToIndexOptions {
    /// The `subscribe_to_all` that subscribes to the index (see
    /// [`ReadIndexOptions`]).
    pub(crate) fn to_subscribe_to_all(&self, index_name: &str) -> SubscribeToAllOptions {
        SubscribeToAllOptions {
            commit_position: self.commit_position,
            filter_include: vec![index_prefix(index_name)],
            filter_by_stream_name: true,
            filter_by_prefix: true,
            include_caught_up: self.include_caught_up,
            include_fell_behind: self.include_fell_behind,
            timeout: self.timeout,
            credentials: self.credentials.clone(),
            ..SubscribeToAllOptions::default()
        }
    }
}

options! {
    /// Options of [`read_gossip`](crate::AsyncKurrentDBClient::read_gossip).
    ReadGossipOptions {}
}

options! {
    /// Options of [`get_server_info`](crate::AsyncKurrentDBClient::get_server_info).
    GetServerInfoOptions {}
}

// ---- persistent subscriptions ----------------------------------------------------

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

options! {
    /// Options of [`create_subscription_to_all`](crate::AsyncKurrentDBClient::create_subscription_to_all).
    /// Unset settings take the Python client's defaults (see [`crate::persistent`]).
    CreateSubscriptionToAllOptions {
        /// Receive only events recorded after the group is created.
        plain from_end: bool,
        /// Start at this commit position (the event there MAY be delivered).
        opt commit_position: u64,
        /// Resolve link events.
        plain resolve_links: bool,
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
        /// How events are shared between consumers.
        plain consumer_strategy: ConsumerStrategy,
        /// How long an event may stay unacknowledged before it is retried.
        opt message_timeout: Duration,
        /// Retries before an event is parked.
        opt max_retry_count: u32,
        /// Fewest processed events before a checkpoint is written.
        opt min_checkpoint_count: u32,
        /// Processed events that force a checkpoint.
        opt max_checkpoint_count: u32,
        /// Shortest time between checkpoints.
        opt checkpoint_after: Duration,
        /// Most consumers at once (0: no limit).
        opt max_subscriber_count: u32,
        /// Size of the group's live buffer.
        opt live_buffer_size: u32,
        /// Events read from the source at a time.
        opt read_batch_size: u32,
        /// Size of the group's history buffer.
        opt history_buffer_size: u32,
        /// Track extra statistics.
        plain extra_statistics: bool,
    }
}

options! {
    /// Options of [`create_subscription_to_stream`](crate::AsyncKurrentDBClient::create_subscription_to_stream).
    CreateSubscriptionToStreamOptions {
        /// Receive only events recorded after the group is created.
        plain from_end: bool,
        /// Start at this stream position (included).
        opt stream_position: u64,
        /// Resolve link events.
        plain resolve_links: bool,
        /// How events are shared between consumers.
        plain consumer_strategy: ConsumerStrategy,
        /// How long an event may stay unacknowledged before it is retried.
        opt message_timeout: Duration,
        /// Retries before an event is parked.
        opt max_retry_count: u32,
        /// Fewest processed events before a checkpoint is written.
        opt min_checkpoint_count: u32,
        /// Processed events that force a checkpoint.
        opt max_checkpoint_count: u32,
        /// Shortest time between checkpoints.
        opt checkpoint_after: Duration,
        /// Most consumers at once (0: no limit).
        opt max_subscriber_count: u32,
        /// Size of the group's live buffer.
        opt live_buffer_size: u32,
        /// Events read from the source at a time.
        opt read_batch_size: u32,
        /// Size of the group's history buffer.
        opt history_buffer_size: u32,
        /// Track extra statistics.
        plain extra_statistics: bool,
    }
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
        /// Resolve link events.
        opt resolve_links: bool,
        /// How events are shared between consumers.
        opt consumer_strategy: ConsumerStrategy,
        /// How long an event may stay unacknowledged before it is retried.
        opt message_timeout: Duration,
        /// Retries before an event is parked.
        opt max_retry_count: u32,
        /// Fewest processed events before a checkpoint is written.
        opt min_checkpoint_count: u32,
        /// Processed events that force a checkpoint.
        opt max_checkpoint_count: u32,
        /// Shortest time between checkpoints.
        opt checkpoint_after: Duration,
        /// Most consumers at once (0: no limit).
        opt max_subscriber_count: u32,
        /// Size of the group's live buffer.
        opt live_buffer_size: u32,
        /// Events read from the source at a time.
        opt read_batch_size: u32,
        /// Size of the group's history buffer.
        opt history_buffer_size: u32,
        /// Track extra statistics.
        opt extra_statistics: bool,
    }
}

options! {
    /// Options of [`update_subscription_to_stream`](crate::AsyncKurrentDBClient::update_subscription_to_stream).
    /// Every unset setting keeps its current value.
    UpdateSubscriptionToStreamOptions {
        /// Restart from the end (`true`) or the start (`false`).
        opt from_end: bool,
        /// Restart from this stream position.
        opt stream_position: u64,
        /// Resolve link events.
        opt resolve_links: bool,
        /// How events are shared between consumers.
        opt consumer_strategy: ConsumerStrategy,
        /// How long an event may stay unacknowledged before it is retried.
        opt message_timeout: Duration,
        /// Retries before an event is parked.
        opt max_retry_count: u32,
        /// Fewest processed events before a checkpoint is written.
        opt min_checkpoint_count: u32,
        /// Processed events that force a checkpoint.
        opt max_checkpoint_count: u32,
        /// Shortest time between checkpoints.
        opt checkpoint_after: Duration,
        /// Most consumers at once (0: no limit).
        opt max_subscriber_count: u32,
        /// Size of the group's live buffer.
        opt live_buffer_size: u32,
        /// Events read from the source at a time.
        opt read_batch_size: u32,
        /// Size of the group's history buffer.
        opt history_buffer_size: u32,
        /// Track extra statistics.
        opt extra_statistics: bool,
    }
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

// ---- projections -------------------------------------------------------------------

options! {
    /// Options of [`create_projection`](crate::AsyncKurrentDBClient::create_projection):
    /// a continuous projection, enabled and running once created.
    CreateProjectionOptions {
        /// Allow the projection to write events (`emit`, `linkTo`,
        /// `linkStreamTo`); without it, a projection that emits faults.
        plain emit_enabled: bool,
        /// Record every stream the projection writes to (in
        /// `$projections-<name>-emittedstreams`), so that deleting the
        /// projection with `delete_emitted_streams` can delete them. Needs
        /// `emit_enabled`.
        plain track_emitted_streams: bool,
    }
}

options! {
    /// Options of [`update_projection`](crate::AsyncKurrentDBClient::update_projection).
    UpdateProjectionOptions {
        /// Change whether the projection may emit events; `None` keeps the
        /// current setting.
        opt emit_enabled: bool,
    }
}

options! {
    /// Options of [`delete_projection`](crate::AsyncKurrentDBClient::delete_projection).
    /// The projection must be stopped (disabled, aborted or faulted) first.
    DeleteProjectionOptions {
        /// Also delete the streams the projection emitted to (when it tracked
        /// them, see [`CreateProjectionOptions::track_emitted_streams`]).
        plain delete_emitted_streams: bool,
        /// Also delete the projection's state stream (ignored by the v1 engine,
        /// which keeps its state in the checkpoint streams).
        plain delete_state_stream: bool,
        /// Also delete the projection's checkpoint stream.
        plain delete_checkpoint_stream: bool,
    }
}

options! {
    /// Options of [`get_projection_statistics`](crate::AsyncKurrentDBClient::get_projection_statistics).
    GetProjectionStatisticsOptions {}
}

options! {
    /// Options of [`list_continuous_projection_statistics`](crate::AsyncKurrentDBClient::list_continuous_projection_statistics)
    /// and [`list_all_projection_statistics`](crate::AsyncKurrentDBClient::list_all_projection_statistics).
    ListProjectionStatisticsOptions {}
}

options! {
    /// Options of [`enable_projection`](crate::AsyncKurrentDBClient::enable_projection).
    EnableProjectionOptions {}
}

options! {
    /// Options of [`disable_projection`](crate::AsyncKurrentDBClient::disable_projection).
    DisableProjectionOptions {}
}

options! {
    /// Options of [`abort_projection`](crate::AsyncKurrentDBClient::abort_projection).
    AbortProjectionOptions {}
}

options! {
    /// Options of [`reset_projection`](crate::AsyncKurrentDBClient::reset_projection).
    ResetProjectionOptions {}
}

options! {
    /// Options of [`get_projection_state`](crate::AsyncKurrentDBClient::get_projection_state).
    GetProjectionStateOptions {
        /// The partition whose state to get (partitioned projections:
        /// `partitionBy`, `foreachStream`); by default the projection's own
        /// (root) state.
        opt partition: String,
    }
}

options! {
    /// Options of [`get_projection_result`](crate::AsyncKurrentDBClient::get_projection_result).
    GetProjectionResultOptions {
        /// The partition whose result to get; by default the root partition's.
        opt partition: String,
    }
}

options! {
    /// Options of [`restart_projections_subsystem`](crate::AsyncKurrentDBClient::restart_projections_subsystem).
    RestartProjectionsSubsystemOptions {}
}

impl ReadAllOptions {
    /// The exclude patterns in force.
    pub(crate) fn effective_exclude(&self) -> Vec<String> {
        effective_exclude(&self.filter_exclude)
    }
}

impl SubscribeToAllOptions {
    /// The exclude patterns in force.
    pub(crate) fn effective_exclude(&self) -> Vec<String> {
        effective_exclude(&self.filter_exclude)
    }
}

pub(crate) fn effective_exclude(given: &Option<Vec<String>>) -> Vec<String> {
    match given {
        Some(patterns) => patterns.clone(),
        None => DEFAULT_EXCLUDE_FILTER
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}

// ---- users ---------------------------------------------------------------------------

options! {
    /// Options of [`create_user`](crate::AsyncKurrentDBClient::create_user).
    CreateUserOptions {}
}

options! {
    /// Options of [`update_user`](crate::AsyncKurrentDBClient::update_user).
    UpdateUserOptions {}
}

options! {
    /// Options of [`delete_user`](crate::AsyncKurrentDBClient::delete_user).
    DeleteUserOptions {}
}

options! {
    /// Options of [`enable_user`](crate::AsyncKurrentDBClient::enable_user).
    EnableUserOptions {}
}

options! {
    /// Options of [`disable_user`](crate::AsyncKurrentDBClient::disable_user).
    DisableUserOptions {}
}

options! {
    /// Options of [`get_user`](crate::AsyncKurrentDBClient::get_user).
    GetUserOptions {}
}

options! {
    /// Options of [`list_users`](crate::AsyncKurrentDBClient::list_users).
    ListUsersOptions {}
}

options! {
    /// Options of [`change_user_password`](crate::AsyncKurrentDBClient::change_user_password).
    ChangeUserPasswordOptions {}
}

options! {
    /// Options of [`reset_user_password`](crate::AsyncKurrentDBClient::reset_user_password).
    ResetUserPasswordOptions {}
}
