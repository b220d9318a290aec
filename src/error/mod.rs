//! The client's one error type, [`Error`], whose variants name what happened
//! and carry the facts.
//!
//! Failures come from two places. A gRPC status becomes an [`Error`] in one
//! place, `status` ([`Error::from_status`]), which reads its code, trailers
//! and rich details. Outcomes the server reports in-band (an append's wrong
//! expected version, a read's stream-not-found) are turned into errors by the
//! operation that reads them, with the same variants.
//!
//! `connection_string` holds what a malformed connection string reports
//! ([`ConnectionStringError`], published with the settings in
//! [`crate::connection::settings`]): it is here, below [`Error`] that wraps
//! it, so that this module imports nothing above it.

pub(crate) mod connection_string;
mod status;

use std::time::Duration;

use tonic::Code;
use uuid::Uuid;

use self::connection_string::ConnectionStringError;
use crate::endpoint::Endpoint;
use crate::types::{ConsistencyCheckFailure, StreamState};

/// How long the client waits before its one retry of a call, and the hint
/// [`Error::retry_after`] gives.
pub(crate) const RETRY_DELAY: Duration = Duration::from_millis(100);

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a call to KurrentDB.
///
/// Each variant names what happened and carries the facts a caller needs to act
/// on it (the stream, the expected and actual versions, the leader's address).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection string could not be parsed.
    #[error("invalid connection string: {0}")]
    InvalidConnectionString(#[from] ConnectionStringError),

    /// The call misuses the API and was refused before anything was sent (the
    /// Python client's `ProgrammingError`): an empty event type, metadata of the
    /// wrong shape for a v2 append, two entries for one stream, and the like.
    #[error("programming error: {0}")]
    Programming(String),

    /// The client was closed with `close()`; make a new one.
    #[error("the client is closed")]
    ClientClosed,

    /// A bearer token ([`Credentials::bearer`](crate::Credentials::bearer) or
    /// [`ConnectionSettings::with_bearer_token`](crate::ConnectionSettings::with_bearer_token))
    /// cannot be sent as a header: it is empty or holds characters other than
    /// visible ASCII. Nothing was sent; the token is not repeated here.
    #[error("invalid bearer token: it must be non-empty visible ASCII")]
    InvalidBearerToken,

    /// The stream was not in the expected state (optimistic concurrency check).
    #[error("wrong current version for stream {stream:?}: expected {expected}, actual {actual}")]
    WrongCurrentVersion {
        /// The stream.
        stream: String,
        /// What the caller expected.
        expected: StreamState,
        /// What the stream's state actually was (`NoStream` or an exact version).
        actual: StreamState,
    },

    /// One or more consistency checks of `append_records` failed; nothing was
    /// written.
    #[error("consistency checks failed: {failures:?}")]
    ConsistencyChecksFailed {
        /// Every failed check, with its index, expected and actual state.
        failures: Vec<ConsistencyCheckFailure>,
    },

    /// The stream has been tombstoned (hard deleted): it can never be written
    /// or read again.
    #[error("stream {stream:?} is deleted")]
    StreamIsDeleted {
        /// The stream (empty when the server did not say).
        stream: String,
    },

    /// A stream (or other named resource) does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was not found: a stream name, a subscription group, ...
        what: String,
    },

    /// A resource to be created exists already (a subscription group, a
    /// projection, a user).
    #[error("already exists: {0}")]
    AlreadyExists(String),

    /// The server refused the caller (the call's credentials, or none) the
    /// operation: KurrentDB's `PERMISSION_DENIED`.
    #[error("access denied{}: {message}", call_text(operation, stream))]
    AccessDenied {
        /// The client operation refused (`append_to_stream`, `create_user`,
        /// ...): the name of its options type in snake case, without
        /// `_options`; empty when the error was made outside a call
        /// ([`Error::from_status`]).
        operation: String,
        /// The stream the operation was on, where it has one.
        stream: Option<String>,
        /// The server's message.
        message: String,
    },

    /// The server did not accept the call's credentials (a wrong password,
    /// an unknown or disabled user): KurrentDB's `UNAUTHENTICATED`.
    #[error("unauthenticated{}: {message}", call_text(operation, stream))]
    Unauthenticated {
        /// The client operation, as for [`Error::AccessDenied`].
        operation: String,
        /// The stream the operation was on, where it has one.
        stream: Option<String>,
        /// The server's message.
        message: String,
    },

    /// The node is not the leader and the operation needs one. `leader` is where
    /// the leader is, when the node said.
    #[error("node is not leader (leader: {leader:?})")]
    NodeIsNotLeader {
        /// The leader's address, when the node reported it.
        leader: Option<Endpoint>,
        /// The leader's node id, when the node reported it.
        node_id: Option<String>,
    },

    /// The call's deadline passed (`defaultDeadline` or the per-call timeout).
    #[error("deadline exceeded")]
    DeadlineExceeded,

    /// The server could not be reached, or dropped the connection.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),

    /// TLS failed: an untrusted certificate, an unreadable CA file, a bad key.
    #[error("TLS error: {0}")]
    Tls(String),

    /// Cluster discovery could not find a node matching the node preference.
    #[error("discovery failed: {0}")]
    DiscoveryFailed(String),

    /// An append was larger than the server's maximum append size.
    #[error("maximum append size exceeded (max {max_size} bytes)")]
    MaximumAppendSizeExceeded {
        /// The server's limit, in bytes.
        max_size: u32,
    },

    /// A record was larger than the server's maximum record size (v2 appends).
    #[error(
        "record {event_id} for stream {stream:?} is {size} bytes, over the maximum of {max_size}"
    )]
    RecordMaxSizeExceeded {
        /// The stream.
        stream: String,
        /// The record's id.
        event_id: Uuid,
        /// The record's size.
        size: u32,
        /// The limit.
        max_size: u32,
    },

    /// A v2 append's records together exceeded the maximum transaction size.
    #[error("append of {size} bytes is over the maximum transaction size of {max_size}")]
    TransactionMaxSizeExceeded {
        /// The append's size.
        size: u32,
        /// The limit.
        max_size: u32,
    },

    /// `multi_append_to_stream` named the same stream twice.
    #[error("stream {stream:?} appears more than once in one multi-append")]
    MultiAppendToSameStream {
        /// The stream named twice.
        stream: String,
    },

    /// A persistent subscription group has its maximum number of consumers.
    #[error("maximum subscribers reached: {0}")]
    MaximumSubscriptionsReached(String),

    /// The server dropped a subscription whose consumer did not keep up.
    #[error("consumer too slow: {0}")]
    ConsumerTooSlow(String),

    /// The server aborted the operation.
    #[error("aborted by server: {0}")]
    AbortedByServer(String),

    /// The call was cancelled.
    #[error("cancelled: {0}")]
    Cancelled(String),

    /// The server refused the request as malformed (`InvalidArgument`).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A precondition of the operation did not hold on the server.
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),

    /// A read from `$all` named a commit position that is not in the log.
    #[error("invalid commit position: {0}")]
    InvalidCommitPosition(String),

    /// The server's operation is not implemented (an older server).
    #[error("unsupported by the server: {0}")]
    Unsupported(String),

    /// The server failed internally.
    #[error("internal server error: {0}")]
    Internal(String),

    /// The server answered something the protocol does not allow (a missing
    /// field, an unexpected message).
    #[error("protocol error: {0}")]
    Protocol(String),

    /// A value from the server (a projection's state or result) does not have
    /// the shape of the type it was decoded into.
    #[error("cannot decode {0}")]
    Decode(String),

    /// The server reported an error of unknown kind.
    #[error("unknown error: {0}")]
    Unknown(String),

    /// Any other gRPC status.
    #[error("gRPC error {code:?}: {message}")]
    Grpc {
        /// The status code.
        code: Code,
        /// The status message.
        message: String,
    },
}

impl Error {
    /// Whether the call's outcome is unknown because of a transport failure, so
    /// that retrying it (with the same event ids) is safe and may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::ServiceUnavailable(_))
    }

    /// A short hint of how long to wait before retrying, when the error suggests
    /// one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::ServiceUnavailable(_) | Error::NodeIsNotLeader { .. } => Some(RETRY_DELAY),
            _ => None,
        }
    }
}

impl Error {
    /// [`Error::AccessDenied`] with `message`, not yet in a call.
    fn access_denied(message: String) -> Error {
        Error::AccessDenied {
            operation: String::new(),
            stream: None,
            message,
        }
    }

    /// The operation and stream fields of an access error, `None` for
    /// other errors.
    fn call_fields(&mut self) -> Option<(&mut String, &mut Option<String>)> {
        match self {
            Error::AccessDenied {
                operation, stream, ..
            }
            | Error::Unauthenticated {
                operation, stream, ..
            } => Some((operation, stream)),
            _ => None,
        }
    }

    /// Names the operation of an access error (unless named): `options` is
    /// its options type's name (`AppendToStreamOptions`). Other errors are
    /// returned as they are.
    pub(crate) fn in_operation(mut self, options: &str) -> Error {
        if let Some((operation, _)) = self.call_fields()
            && operation.is_empty()
        {
            *operation = snake_case(options.strip_suffix("Options").unwrap_or(options));
        }
        self
    }

    /// Renames the call of an access error that happened in an operation
    /// used by another (`get_stream_metadata` reads with `get_stream`): the
    /// outer operation, named by its options type, and no stream yet.
    pub(crate) fn renamed_to(mut self, options: &str) -> Error {
        if let Some((operation, stream)) = self.call_fields() {
            operation.clear();
            *stream = None;
        }
        self.in_operation(options)
    }

    /// Names the stream of an access error (unless named), when there is
    /// one.
    pub(crate) fn on_stream<'a>(mut self, name: impl Into<Option<&'a str>>) -> Error {
        if let (Some((_, stream)), Some(name)) = (self.call_fields(), name.into())
            && stream.is_none()
        {
            *stream = Some(name.to_owned());
        }
        self
    }
}

/// `AppendToStream` as `append_to_stream`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The Display of an access error's call: ` to <operation> on stream 'S'`,
/// each part when known.
fn call_text(operation: &str, stream: &Option<String>) -> String {
    let mut out = String::new();
    if !operation.is_empty() {
        out.push_str(" to ");
        out.push_str(operation);
    }
    if let Some(stream) = stream {
        out.push_str(&format!(" on stream '{stream}'"));
    }
    out
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::proto::google::rpc::Status as RpcStatus;
    use crate::proto::kurrentdb::protocol::v2::streams::errors as v2err;

    #[test]
    fn delete_wrong_version_message_is_parsed() {
        let msg = "Operation failed: WrongExpectedVersion. Stream: order-1, Expected version: 3, Actual version: 5";
        let status = tonic::Status::failed_precondition(msg);
        match Error::from_status(&status) {
            Error::WrongCurrentVersion {
                stream,
                expected,
                actual,
            } => {
                assert_eq!(stream, "order-1");
                assert_eq!(expected, StreamState::Version(3));
                assert_eq!(actual, StreamState::Version(5));
            }
            other => panic!("unexpected {other:?}"),
        }
        let msg = "WrongExpectedVersion. Stream: s, Expected version: 0, Actual version: -1";
        let err = Error::from_status(&tonic::Status::failed_precondition(msg));
        assert!(matches!(err, Error::NotFound { what } if what == "s"));
    }

    #[test]
    fn old_servers_projection_envelope_messages_are_mapped() {
        let from = |m: &str| Error::from_status(&tonic::Status::unknown(m));
        let exists = "Envelope callback expected Updated, received Conflict instead";
        assert!(matches!(from(exists), Error::AlreadyExists(_)));
        let missing = "Envelope callback expected Statistics, received NotFound instead";
        assert!(matches!(from(missing), Error::NotFound { .. }));
        let failed = "Envelope callback expected Updated, received OperationFailed instead";
        assert!(matches!(from(failed), Error::FailedPrecondition(_)));
        let refused = "Envelope callback expected Updated, received NotAuthorized instead";
        assert!(matches!(from(refused), Error::AccessDenied { .. }));
        let other = "Envelope callback expected Updated, received Something instead";
        assert!(matches!(from(other), Error::Unknown(_)));
    }

    #[test]
    fn client_side_failures_are_deadline_or_transient() {
        let status = tonic::Status::from_error(Box::new(tonic::TimeoutExpired(())));
        assert!(matches!(
            Error::from_status(&status),
            Error::DeadlineExceeded
        ));
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = Error::from_status(&tonic::Status::from_error(Box::new(reset)));
        assert!(matches!(&err, Error::ServiceUnavailable(m) if m.contains("reset by peer")));
        assert!(err.is_transient());
        // A status the server sent has no source: mapped by its code.
        assert!(matches!(
            Error::from_status(&tonic::Status::unknown("boom")),
            Error::Unknown(_)
        ));
    }

    #[test]
    fn not_leader_trailers_give_the_leader() {
        let mut status = tonic::Status::not_found("Leader info available");
        let meta = status.metadata_mut();
        meta.insert("exception", "not-leader".parse().unwrap());
        meta.insert("leader-endpoint-host", "10.0.0.2".parse().unwrap());
        meta.insert("leader-endpoint-port", "2113".parse().unwrap());
        match Error::from_status(&status) {
            Error::NodeIsNotLeader { leader, .. } => {
                let leader = leader.expect("leader");
                assert_eq!(leader.host, "10.0.0.2");
                assert_eq!(leader.port, 2113);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn stream_deleted_trailer() {
        let mut status = tonic::Status::failed_precondition("Event stream 's' is deleted.");
        status
            .metadata_mut()
            .insert("exception", "stream-deleted".parse().unwrap());
        status
            .metadata_mut()
            .insert("stream-name", "s".parse().unwrap());
        assert!(matches!(
            Error::from_status(&status),
            Error::StreamIsDeleted { stream } if stream == "s"
        ));
    }

    #[test]
    fn plain_codes() {
        assert!(matches!(
            Error::from_status(&tonic::Status::deadline_exceeded("x")),
            Error::DeadlineExceeded
        ));
        assert!(matches!(
            Error::from_status(&tonic::Status::unavailable("down")),
            Error::ServiceUnavailable(_)
        ));
        assert!(matches!(
            Error::from_status(&tonic::Status::failed_precondition(
                "Maximum subscriptions reached"
            )),
            Error::MaximumSubscriptionsReached(_)
        ));
        assert!(matches!(
            Error::from_status(&tonic::Status::aborted("Consumer too slow to handle")),
            Error::ConsumerTooSlow(_)
        ));
        assert!(matches!(
            Error::from_status(&tonic::Status::permission_denied("no")),
            Error::AccessDenied { .. }
        ));
    }

    #[test]
    fn access_errors_name_their_call() {
        let denied = Error::from_status(&tonic::Status::permission_denied("Access Denied"))
            .in_operation("AppendToStreamOptions")
            .on_stream("orders")
            .in_operation("Outer")
            .on_stream("outer");
        assert!(
            matches!(&denied, Error::AccessDenied { operation, stream: Some(stream), message }
                if operation == "append_to_stream" && stream == "orders" && message == "Access Denied"),
            "{denied:?}"
        );
        assert_eq!(
            denied.to_string(),
            "access denied to append_to_stream on stream 'orders': Access Denied"
        );
        let unauthenticated =
            Error::from_status(&tonic::Status::unauthenticated("Unauthenticated"))
                .in_operation("GetServerInfoOptions");
        assert_eq!(
            unauthenticated.to_string(),
            "unauthenticated to get_server_info: Unauthenticated"
        );
        let other = Error::DeadlineExceeded.in_operation("X").on_stream("s");
        assert!(matches!(other, Error::DeadlineExceeded));
        assert_eq!(
            Error::from_status(&tonic::Status::permission_denied("no")).to_string(),
            "access denied: no"
        );
    }

    #[test]
    fn rich_details_are_matched_by_message_type() {
        let packed = |type_url: &str, value: Vec<u8>| prost_types::Any {
            type_url: type_url.into(),
            value,
        };
        let not_found = v2err::StreamNotFoundErrorDetails { stream: "s".into() };
        let rich = RpcStatus {
            code: Code::NotFound as i32,
            message: "not found".into(),
            details: vec![
                // Unknown detail types are passed over.
                packed("type.googleapis.com/example.Unknown", vec![1, 2, 3]),
                // The bare full name is accepted as well as the type URL.
                packed(
                    "kurrentdb.protocol.v2.streams.errors.StreamNotFoundErrorDetails",
                    not_found.encode_to_vec(),
                ),
            ],
        };
        let status =
            tonic::Status::with_details(Code::NotFound, "not found", rich.encode_to_vec().into());
        assert!(matches!(
            Error::from_status(&status),
            Error::NotFound { what } if what == "s"
        ));
    }

    #[test]
    fn v2_rich_details_are_decoded() {
        let detail = v2err::StreamRevisionConflictErrorDetails {
            stream: "s".into(),
            expected_revision: 1,
            actual_revision: 2,
        };
        let rich = RpcStatus {
            code: Code::FailedPrecondition as i32,
            message: "conflict".into(),
            details: vec![prost_types::Any {
                type_url: "type.googleapis.com/kurrentdb.protocol.v2.streams.errors.StreamRevisionConflictErrorDetails"
                    .into(),
                value: detail.encode_to_vec(),
            }],
        };
        let status = tonic::Status::with_details(
            Code::FailedPrecondition,
            "conflict",
            rich.encode_to_vec().into(),
        );
        match Error::from_status(&status) {
            Error::WrongCurrentVersion {
                stream,
                expected,
                actual,
            } => {
                assert_eq!(stream, "s");
                assert_eq!(expected, StreamState::Version(1));
                assert_eq!(actual, StreamState::Version(2));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
