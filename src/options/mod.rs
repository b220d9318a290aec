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
//!
//! The types are grouped by gRPC service, one file each, as the client's
//! methods are: `streams` (appends, reads, deletes, metadata, catch-up
//! subscriptions, secondary indexes), `persistent` (groups, their
//! [`PersistentSubscriptionSettings`], consumers), `projections`, `users`,
//! `operations` (scavenges, node administration) and `server` (gossip, server
//! info); [`SubscriptionRetry`] is in `retry`. Every item is re-exported here
//! and at the crate root. This file holds what they share: the `options!`
//! macro that defines each type, the trait the call path reads the common
//! options through, and the default filter of `$all`.

use std::time::Duration;

use crate::connection::credentials::Credentials;

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
            pub timeout: Option<::std::time::Duration>,
            /// Credentials for this call (basic or bearer), overriding the
            /// connection's user info or bearer token.
            pub credentials: Option<$crate::Credentials>,
        }

        impl $name {
            $(
                $crate::options::options!(@setter $kind $field $ty; $($doc),*);
            )*

            /// Sets the maximum duration of the call (overrides `defaultDeadline`).
            pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.timeout = Some(timeout);
                self
            }

            /// Sets the credentials for this call.
            pub fn credentials(mut self, credentials: $crate::Credentials) -> Self {
                self.credentials = Some(credentials);
                self
            }
        }

        impl $crate::options::CallOptions for $name {
            fn call_timeout(&self) -> Option<::std::time::Duration> {
                self.timeout
            }
            fn call_credentials(&self) -> Option<&$crate::Credentials> {
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
mod persistent;
mod projections;
mod retry;
mod server;
mod streams;
mod users;

pub use self::operations::*;
pub use self::persistent::*;
pub use self::projections::*;
pub use self::retry::SubscriptionRetry;
pub use self::server::*;
pub use self::streams::*;
pub use self::users::*;

/// The exclude patterns in force: `given`, or [`DEFAULT_EXCLUDE_FILTER`] when
/// none was given (reads, subscriptions and groups on `$all` share it).
pub(crate) fn effective_exclude(given: &Option<Vec<String>>) -> Vec<String> {
    match given {
        Some(patterns) => patterns.clone(),
        None => DEFAULT_EXCLUDE_FILTER
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}
