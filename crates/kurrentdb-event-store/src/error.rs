//! [`EventStoreError`]: everything that can go wrong in the event store.

use crate::codec::CodecError;
use crate::version::ExpectedVersion;

/// A `Result` whose error is [`EventStoreError`].
pub type Result<T, E = EventStoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the event store.
///
/// Versions in errors are numbered as the store numbers them: the first event
/// of a stream is version 1, and version 0 means "no stream".
///
/// ```
/// use kurrentdb_event_store::{EventStoreError, ExpectedVersion};
///
/// let err = EventStoreError::ConcurrencyConflict {
///     stream: "cart-1".into(),
///     expected: ExpectedVersion::Exact(1),
///     actual: 2,
/// };
/// assert_eq!(
///     err.to_string(),
///     "concurrency conflict on stream \"cart-1\": expected version 1, actual version 2"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventStoreError {
    /// The stream was not at the expected version (optimistic locking): someone
    /// else appended since it was read. Nothing was written.
    #[error(
        "concurrency conflict on stream {stream:?}: expected version {expected}, actual version {actual}"
    )]
    ConcurrencyConflict {
        /// The KurrentDB stream name.
        stream: String,
        /// The version the caller expected.
        expected: ExpectedVersion,
        /// The stream's actual version (0: the stream does not exist).
        actual: u64,
    },

    /// A stream holds an event whose type the event type being loaded does not
    /// know (see [`Event::EVENT_TYPES`](crate::Event::EVENT_TYPES)). Configure
    /// [`UnknownEventPolicy::Skip`](crate::UnknownEventPolicy::Skip) to skip
    /// such events instead.
    #[error("unknown event type {event_type:?} at version {version} of stream {stream:?}")]
    UnknownEventType {
        /// The KurrentDB stream name.
        stream: String,
        /// The recorded event type.
        event_type: String,
        /// The event's version in the stream (for a snapshot: the version the
        /// snapshot was taken at).
        version: u64,
    },

    /// An event could not be encoded by the codec.
    #[error("cannot encode event of type {event_type:?}: {source}")]
    Encode {
        /// The event's type.
        event_type: String,
        /// The codec's error.
        #[source]
        source: CodecError,
    },

    /// A recorded event could not be decoded by the codec.
    #[error(
        "cannot decode event of type {event_type:?} at version {version} of stream {stream:?}: {source}"
    )]
    Decode {
        /// The KurrentDB stream name.
        stream: String,
        /// The recorded event type.
        event_type: String,
        /// The event's version in the stream.
        version: u64,
        /// The codec's error.
        #[source]
        source: CodecError,
    },

    /// A stored snapshot lacks what a snapshot must carry (the version it was
    /// taken at).
    #[error("invalid snapshot in stream {stream:?}: {reason}")]
    InvalidSnapshot {
        /// The snapshot stream's name.
        stream: String,
        /// What is wrong.
        reason: String,
    },

    /// A snapshot to save has no version: set it with
    /// [`WrappedEvent::with_version`](crate::WrappedEvent::with_version) to the
    /// version of the last event the snapshot includes.
    #[error("the snapshot for stream {stream:?} has no version")]
    SnapshotWithoutVersion {
        /// The KurrentDB stream name.
        stream: String,
    },

    /// `append` was called without any event.
    #[error("no events to append to stream {stream:?}")]
    NoEvents {
        /// The KurrentDB stream name.
        stream: String,
    },

    /// A stream id does not fit the naming scheme (see [`crate::stream_id`]).
    #[error("invalid stream id {stream_id:?}: {reason}")]
    InvalidStreamId {
        /// The stream name the id maps to.
        stream_id: String,
        /// Why it is refused.
        reason: String,
    },

    /// A tenant id is empty or contains `:`.
    #[error("invalid tenant id {tenant_id:?}: {reason}")]
    InvalidTenantId {
        /// The tenant id.
        tenant_id: String,
        /// Why it is refused.
        reason: String,
    },

    /// Any other error of the KurrentDB client.
    #[error(transparent)]
    Client(kurrentdbclient::Error),
}

impl From<kurrentdbclient::Error> for EventStoreError {
    /// Maps the client's [`WrongCurrentVersion`](kurrentdbclient::Error::WrongCurrentVersion)
    /// to [`EventStoreError::ConcurrencyConflict`] (with versions renumbered
    /// from 1) and wraps every other error in [`EventStoreError::Client`].
    fn from(err: kurrentdbclient::Error) -> Self {
        match err {
            kurrentdbclient::Error::WrongCurrentVersion {
                stream,
                expected,
                actual,
            } => EventStoreError::ConcurrencyConflict {
                stream,
                expected: ExpectedVersion::from_stream_state(expected),
                actual: crate::version::version_of_state(actual),
            },
            other => EventStoreError::Client(other),
        }
    }
}

impl EventStoreError {
    /// Whether this is a [`ConcurrencyConflict`](Self::ConcurrencyConflict).
    ///
    /// ```
    /// use kurrentdb_event_store::{EventStoreError, ExpectedVersion};
    /// let err = EventStoreError::ConcurrencyConflict {
    ///     stream: "s".into(),
    ///     expected: ExpectedVersion::Exact(0),
    ///     actual: 3,
    /// };
    /// assert!(err.is_concurrency_conflict());
    /// ```
    pub fn is_concurrency_conflict(&self) -> bool {
        matches!(self, EventStoreError::ConcurrencyConflict { .. })
    }
}

/// Whether a client error says the stream is missing (never written, deleted
/// or tombstoned).
pub(crate) fn is_missing_stream(err: &kurrentdbclient::Error) -> bool {
    matches!(
        err,
        kurrentdbclient::Error::NotFound { .. } | kurrentdbclient::Error::StreamIsDeleted { .. }
    )
}
