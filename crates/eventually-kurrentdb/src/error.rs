//! The store's errors.

use eventually_core::store::AppendError;

/// What went wrong in a [`KurrentDBEventStore`](crate::KurrentDBEventStore)
/// call. [`is_conflict_error`](AppendError::is_conflict_error) is true for
/// [`Conflict`](Self::Conflict) alone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventStoreError {
    /// The stream was not at the expected version (`Expected::Exact`):
    /// another writer appended first. Nothing was written.
    #[error("version conflict on {stream:?}: expected version {expected}, actual {actual}")]
    Conflict {
        /// The aggregate's stream.
        stream: String,
        /// The version the append expected.
        expected: u32,
        /// The stream's version (0: no events).
        actual: u32,
    },

    /// The category (aggregate type) cannot name KurrentDB streams: it is
    /// empty, starts with `$` (system streams) or contains `-` (the category
    /// separator of `$by_category`).
    #[error(
        "category {0:?} cannot name KurrentDB streams (empty, starts with '$' or contains '-')"
    )]
    InvalidCategory(String),

    /// The aggregate id prints as an empty string.
    #[error("the aggregate id is empty")]
    EmptyId,

    /// An event could not be serialized to JSON.
    #[error("event cannot be serialized to JSON: {0}")]
    Serialize(#[source] serde_json::Error),

    /// A stored event cannot be read back: not JSON of the event type, an id
    /// that does not parse, or a version beyond `u32`.
    #[error("stream {stream:?} revision {revision}: {reason}")]
    InvalidStoredEvent {
        /// The KurrentDB stream.
        stream: String,
        /// The event's revision in it.
        revision: u64,
        /// What is wrong.
        reason: String,
    },

    /// The KurrentDB client failed.
    #[error(transparent)]
    Client(#[from] kurrentdbclient::Error),
}

impl AppendError for EventStoreError {
    fn is_conflict_error(&self) -> bool {
        matches!(self, EventStoreError::Conflict { .. })
    }
}

/// Whether a failed call may succeed when sent again as it was.
pub(crate) fn is_transient(err: &kurrentdbclient::Error) -> bool {
    use kurrentdbclient::Error as E;
    matches!(
        err,
        E::ServiceUnavailable(_) | E::DeadlineExceeded | E::NodeIsNotLeader { .. }
    )
}

/// Whether a client error says the stream is missing (never written, or
/// deleted).
pub(crate) fn is_missing_stream(err: &kurrentdbclient::Error) -> bool {
    matches!(
        err,
        kurrentdbclient::Error::NotFound { .. } | kurrentdbclient::Error::StreamIsDeleted { .. }
    )
}
