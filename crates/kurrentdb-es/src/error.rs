//! The repository's own errors, and how they become cqrs-es's
//! [`PersistenceError`].

use cqrs_es::persist::PersistenceError;

/// What went wrong in the KurrentDB event repository, besides an optimistic
/// lock conflict (which is cqrs-es's [`PersistenceError::OptimisticLockError`]).
///
/// cqrs-es reports these boxed inside a [`PersistenceError`]: a caller finds
/// them with `downcast_ref::<KurrentDBRepositoryError>()` on the box.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KurrentDBRepositoryError {
    /// The aggregate type (`Aggregate::TYPE`) cannot name a stream category:
    /// it is empty, starts with `$` (KurrentDB's system streams) or contains
    /// `-` (the category separator of `$by_category`).
    #[error(
        "aggregate type {0:?} cannot name a KurrentDB stream category (empty, starts with '$' or contains '-')"
    )]
    InvalidAggregateType(String),

    /// The aggregate id is empty.
    #[error("the aggregate id is empty")]
    EmptyAggregateId,

    /// The events of one commit do not belong together: another aggregate
    /// type or id, or sequences that are not consecutive from 1 or more.
    #[error("events of one commit must be of one aggregate with consecutive sequences: {0}")]
    InconsistentCommit(String),

    /// A stored event or snapshot cannot be read back as cqrs-es's form.
    #[error("stream {stream:?} revision {revision}: {reason}")]
    InvalidStoredEvent {
        /// The KurrentDB stream.
        stream: String,
        /// The event's stream revision.
        revision: u64,
        /// What is wrong with it.
        reason: String,
    },

    /// The KurrentDB client failed.
    #[error(transparent)]
    Client(#[from] kurrentdbclient::Error),
}

impl From<KurrentDBRepositoryError> for PersistenceError {
    fn from(err: KurrentDBRepositoryError) -> Self {
        use kurrentdbclient::Error as E;
        match err {
            KurrentDBRepositoryError::Client(E::WrongCurrentVersion { .. }) => {
                PersistenceError::OptimisticLockError
            }
            KurrentDBRepositoryError::Client(
                e @ (E::ServiceUnavailable(_)
                | E::DeadlineExceeded
                | E::ClientClosed
                | E::Tls(_)
                | E::DiscoveryFailed(_)
                | E::NodeIsNotLeader { .. }),
            ) => PersistenceError::ConnectionError(Box::new(KurrentDBRepositoryError::Client(e))),
            e @ KurrentDBRepositoryError::InvalidStoredEvent { .. } => {
                PersistenceError::DeserializationError(Box::new(e))
            }
            e => PersistenceError::UnknownError(Box::new(e)),
        }
    }
}

/// Whether a failed call may succeed when sent again as it was: the node was
/// unreachable or changed leader, or the call timed out (an append sent again
/// with the same event ids is idempotent on KurrentDB).
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
