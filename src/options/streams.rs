//! The options of the Streams service's calls (v1 and v2): appends, reads,
//! deletes, stream metadata, catch-up subscriptions, and secondary indexes
//! (read and subscribed to through `$all`).

use super::{SubscriptionRetry, effective_exclude};

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
        /// [`DEFAULT_EXCLUDE_FILTER`](crate::options::DEFAULT_EXCLUDE_FILTER);
        /// an empty list excludes nothing.
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
        /// [`DEFAULT_EXCLUDE_FILTER`](crate::options::DEFAULT_EXCLUDE_FILTER)
        /// (system events excluded); an empty list
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
        /// [`DEFAULT_EXCLUDE_FILTER`](crate::options::DEFAULT_EXCLUDE_FILTER);
        /// an empty list excludes nothing.
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
        /// The filter's search window (default
        /// [`DEFAULT_WINDOW_SIZE`](crate::options::DEFAULT_WINDOW_SIZE)).
        opt window_size: u32,
        /// Checkpoints come every `window_size * multiplier` events searched
        /// (default
        /// [`DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER`](crate::options::DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER)).
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
        /// Start at this commit position: forwards, the index's events at or
        /// after it; backwards, at or before it. Any position will do (unlike
        /// [`ReadAllOptions::commit_position`], it need not be an event's).
        /// By default the start, or the end when reading backwards.
        opt commit_position: u64,
        /// Newest first.
        plain backwards: bool,
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
            backwards: self.backwards,
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
