//! The client's one error type, and the one place where a gRPC status (code,
//! message, trailers, rich details) becomes an [`Error`].
//!
//! KurrentDB tells errors apart in three ways, and [`Error::from_status`] reads all
//! three:
//! - the gRPC status code;
//! - trailing metadata: an `exception` key (`not-leader`, `stream-deleted`,
//!   `wrong-expected-version`, ...) with companion keys such as
//!   `leader-endpoint-host` / `leader-endpoint-port`, and for some errors the status
//!   message text;
//! - for the v2 API, `google.rpc.Status` details in the `grpc-status-details-bin`
//!   trailer, carrying the v2 error detail messages; each detail type this
//!   client knows says which [`Error`] it means (`ErrorDetail`) and is
//!   recognised by its `prost::Name` type URL.
//!
//! Outcomes the server reports in-band (an append's wrong expected version, a
//! read's stream-not-found) are turned into errors by the operation that reads
//! them, with the same variants.
//!
//! `connection_string` holds what a malformed connection string reports
//! ([`ConnectionStringError`], published with the settings in
//! [`crate::connection::settings`]): it is here, below [`Error`] that wraps
//! it, so that this module imports nothing above it.

pub(crate) mod connection_string;

use std::time::Duration;

use prost::Message;
use tonic::Code;
use uuid::Uuid;

use self::connection_string::ConnectionStringError;
use crate::endpoint::Endpoint;
use crate::proto::google::rpc::Status as RpcStatus;
use crate::proto::kurrent::rpc as krpc;
use crate::proto::kurrentdb::protocol::v2::streams::errors as v2err;
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

    /// Credentials were given for a connection with `tls=false`. KurrentDB sends
    /// credentials only over TLS, so the call was refused before sending them.
    #[error("credentials are not sent over an insecure (tls=false) connection")]
    CredentialsOverInsecureConnection,

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
    /// Maps a gRPC status (with its trailers and rich details) to an [`Error`].
    /// This is the only place that does: every operation sends its failures here.
    pub fn from_status(status: &tonic::Status) -> Error {
        if let Some(err) = from_transport_failure(status) {
            return err;
        }
        if let Some(err) = from_rich_details(status) {
            return err;
        }
        let message = status.message().to_owned();
        let meta = status.metadata();
        let exception = meta.get("exception").and_then(|v| v.to_str().ok());
        match exception {
            Some("not-leader") => {
                return Error::NodeIsNotLeader {
                    leader: leader_from_trailers(meta),
                    node_id: None,
                };
            }
            Some("stream-deleted") => {
                let stream = meta
                    .get("stream-name")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                return Error::StreamIsDeleted { stream };
            }
            Some("maximum-append-size-exceeded") => {
                let max_size = meta
                    .get("maximum-append-size")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_default();
                return Error::MaximumAppendSizeExceeded { max_size };
            }
            Some("wrong-expected-version") => {
                if let Some(err) = wrong_version_from_trailers(meta) {
                    return err;
                }
            }
            Some("stream-not-found") => {
                let stream = meta
                    .get("stream-name")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                return Error::NotFound { what: stream };
            }
            Some("persistent-subscription-exists") => return Error::AlreadyExists(message),
            Some("persistent-subscription-does-not-exist") => {
                return Error::NotFound { what: message };
            }
            Some("maximum-subscribers-reached") => {
                return Error::MaximumSubscriptionsReached(message);
            }
            // The Operations service: no running scavenge has that id.
            Some("scavenge-not-found") => {
                let id = meta
                    .get("scavenge-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let what = if id.is_empty() {
                    "scavenge: none is running".to_owned()
                } else {
                    format!("scavenge: the running one is {id}")
                };
                return Error::NotFound { what };
            }
            Some("access-denied") => return Error::access_denied(message),
            // The users service: the login is in `login-name`. A conflict is
            // FAILED_PRECONDITION "Conflict." (creating an existing user);
            // the same key with DEADLINE_EXCEEDED "Try again." is a lost
            // race, left to the code mapping below.
            Some("user-not-found") => {
                let login = meta
                    .get("login-name")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                return Error::NotFound {
                    what: format!("user {login}"),
                };
            }
            Some("user-conflict") if status.code() == Code::FailedPrecondition => {
                let login = meta
                    .get("login-name")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                return Error::AlreadyExists(format!("user {login}"));
            }
            _ => {}
        }
        match status.code() {
            Code::DeadlineExceeded => Error::DeadlineExceeded,
            Code::Cancelled if message == "Timeout expired" => Error::DeadlineExceeded,
            Code::Cancelled => Error::Cancelled(message),
            Code::Unauthenticated => Error::Unauthenticated {
                operation: String::new(),
                stream: None,
                message,
            },
            Code::PermissionDenied => Error::access_denied(message),
            Code::AlreadyExists => Error::AlreadyExists(message),
            Code::NotFound if message == "Leader info available" => Error::NodeIsNotLeader {
                leader: leader_from_trailers(meta),
                node_id: None,
            },
            Code::NotFound => Error::NotFound { what: message },
            Code::Unavailable => {
                if message.contains("tls") || message.contains("certificate") {
                    Error::Tls(message)
                } else {
                    Error::ServiceUnavailable(message)
                }
            }
            Code::Aborted if message.contains("Consumer too slow") => {
                Error::ConsumerTooSlow(message)
            }
            Code::Aborted => Error::AbortedByServer(message),
            Code::FailedPrecondition => {
                if message.starts_with("Maximum subscriptions reached") {
                    Error::MaximumSubscriptionsReached(message)
                } else if let Some(err) = wrong_version_from_message(&message) {
                    err
                } else if message.contains("is deleted") {
                    Error::StreamIsDeleted {
                        stream: String::new(),
                    }
                } else {
                    Error::FailedPrecondition(message)
                }
            }
            Code::InvalidArgument => Error::InvalidArgument(message),
            Code::Unimplemented => Error::Unsupported(message),
            Code::Internal | Code::DataLoss => Error::Internal(message),
            Code::Unknown if message.contains("InvalidPosition") => {
                Error::InvalidCommitPosition(message)
            }
            Code::Unknown => from_projection_envelope(message),
            code => Error::Grpc { code, message },
        }
    }

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

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        Error::from_status(&status)
    }
}

/// A status made on the client from a transport failure (it has a source error:
/// a refused or reset connection, a broken HTTP/2 stream, a failed TLS
/// handshake), as opposed to one the server sent. The call's outcome is unknown,
/// so it is [`Error::ServiceUnavailable`] (transient) or, when TLS failed,
/// [`Error::Tls`].
fn from_transport_failure(status: &tonic::Status) -> Option<Error> {
    use std::error::Error as _;
    if !matches!(
        status.code(),
        Code::Unknown | Code::Internal | Code::Unavailable | Code::Cancelled
    ) {
        return None;
    }
    let mut source = status.source()?;
    let mut chain = status.message().to_owned();
    loop {
        // The client's own deadline (the `grpc-timeout` it sent) expired.
        if source.downcast_ref::<tonic::TimeoutExpired>().is_some() {
            return Some(Error::DeadlineExceeded);
        }
        let text = source.to_string();
        if !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        match source.source() {
            Some(next) => source = next,
            None => break,
        }
    }
    let lower = chain.to_ascii_lowercase();
    if status.code() == Code::Cancelled && status.message() == "Timeout expired" {
        return Some(Error::DeadlineExceeded);
    }
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        Some(Error::Tls(chain))
    } else {
        Some(Error::ServiceUnavailable(chain))
    }
}

/// KurrentDB before 24.6 (and, for conflicts and failed operations, before
/// 26.2) answered projection-management failures with an unknown status whose
/// message names the reply it got instead of the expected one: "Envelope
/// callback expected Updated, received Conflict instead" (the Python client's
/// `common.py` reads them the same way). Newer servers send ALREADY_EXISTS,
/// NOT_FOUND and FAILED_PRECONDITION, which map to the same variants.
fn from_projection_envelope(message: String) -> Error {
    if !message.starts_with("Envelope callback expected ") {
        return Error::Unknown(message);
    }
    if message.contains("received Conflict instead") {
        Error::AlreadyExists(message)
    } else if message.contains("received NotFound instead") {
        Error::NotFound { what: message }
    } else if message.contains("received OperationFailed instead") {
        Error::FailedPrecondition(message)
    } else {
        Error::Unknown(message)
    }
}

fn leader_from_trailers(meta: &tonic::metadata::MetadataMap) -> Option<Endpoint> {
    let host = meta.get("leader-endpoint-host")?.to_str().ok()?;
    let port = meta
        .get("leader-endpoint-port")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    Some(Endpoint {
        host: host.to_owned(),
        port,
    })
}

/// `wrong-expected-version` trailers: `stream-name`, `expected-version`,
/// `actual-version` (`-1`: the stream does not exist, reported as
/// [`Error::NotFound`] as the message form and the Python client do). Versions
/// are numbered as in v2 ([`StreamState::from_v2`]): -1 no stream, -2 any, -4
/// stream exists, non-negative exact.
fn wrong_version_from_trailers(meta: &tonic::metadata::MetadataMap) -> Option<Error> {
    let get = |key: &str| meta.get(key).and_then(|v| v.to_str().ok());
    let stream = get("stream-name")?.to_owned();
    let expected = get("expected-version")
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(StreamState::Any, StreamState::from_v2);
    let actual_number = get("actual-version").and_then(|v| v.parse::<i64>().ok());
    // As in the message form (and the Python client): deleting or tombstoning a
    // stream that does not exist, with an expected version, is "not found".
    if actual_number == Some(-1) {
        return Some(Error::NotFound { what: stream });
    }
    let actual = actual_number.map_or(StreamState::NoStream, StreamState::from_v2);
    Some(Error::WrongCurrentVersion {
        stream,
        expected,
        actual,
    })
}

/// The v1 `Delete`/`Tombstone` calls report a failed expected-version check in
/// the status message: `"... WrongExpectedVersion ... Stream: S, Expected version:
/// E, Actual version: A"`. An actual version of -1 means the stream does not exist.
fn wrong_version_from_message(message: &str) -> Option<Error> {
    if !message.contains("WrongExpectedVersion") {
        return None;
    }
    let stream_start = message.find("Stream: ")? + "Stream: ".len();
    let expected_marker = ", Expected version: ";
    let expected_start = message[stream_start..].find(expected_marker)? + stream_start;
    let stream = message[stream_start..expected_start].to_owned();
    let rest = &message[expected_start + expected_marker.len()..];
    let actual_marker = ", Actual version: ";
    let actual_pos = rest.find(actual_marker)?;
    let expected: i64 = rest[..actual_pos].trim().parse().ok()?;
    let actual: i64 = rest[actual_pos + actual_marker.len()..]
        .trim()
        .parse()
        .ok()?;
    if actual == -1 {
        return Some(Error::NotFound { what: stream });
    }
    Some(Error::WrongCurrentVersion {
        stream,
        expected: StreamState::from_v2(expected),
        actual: StreamState::from_v2(actual),
    })
}

/// Reads the `grpc-status-details-bin` trailer (a `google.rpc.Status`) and maps
/// the first v2 or `kurrent.rpc` detail message it carries that this client
/// knows. A known detail that does not decode gives `None` (the status is then
/// mapped by its code and trailers).
fn from_rich_details(status: &tonic::Status) -> Option<Error> {
    let details = status.details();
    if details.is_empty() {
        return None;
    }
    let rich = RpcStatus::decode(details).ok()?;
    let message = if rich.message.is_empty() {
        status.message()
    } else {
        &rich.message
    };
    // Each detail message this client understands, tried by its type.
    let known: [Unpack; 10] = [
        unpack::<krpc::NotLeaderNodeErrorDetails>,
        unpack::<krpc::AccessDeniedErrorDetails>,
        unpack::<v2err::StreamRevisionConflictErrorDetails>,
        unpack::<v2err::StreamTombstonedErrorDetails>,
        unpack::<v2err::StreamDeletedErrorDetails>,
        unpack::<v2err::StreamNotFoundErrorDetails>,
        unpack::<v2err::AppendConsistencyViolationErrorDetails>,
        unpack::<v2err::AppendRecordSizeExceededErrorDetails>,
        unpack::<v2err::AppendTransactionSizeExceededErrorDetails>,
        unpack::<v2err::StreamAlreadyInAppendSessionErrorDetails>,
    ];
    for any in &rich.details {
        if let Some(decoded) = known.iter().find_map(|unpack| unpack(any, message)) {
            return decoded.ok();
        }
    }
    None
}

/// Tries one detail type on a packed detail: `None` when the detail is of
/// another type, else the detail decoded and turned into an [`Error`].
type Unpack = fn(&prost_types::Any, &str) -> Option<Result<Error, prost::DecodeError>>;

/// [`Unpack`] for the detail type `T`, recognised by its `prost::Name`: the
/// `type.googleapis.com/<package>.<Message>` type URL (or the bare full name).
fn unpack<T: ErrorDetail>(
    any: &prost_types::Any,
    message: &str,
) -> Option<Result<Error, prost::DecodeError>> {
    if any.type_url != T::type_url() && any.type_url != T::full_name() {
        return None;
    }
    Some(T::decode(any.value.as_slice()).map(|detail| detail.into_error(message)))
}

/// A rich error detail message, and the [`Error`] it means.
trait ErrorDetail: prost::Message + prost::Name + Default {
    /// The error; `message` is the status message.
    fn into_error(self, message: &str) -> Error;
}

impl ErrorDetail for krpc::NotLeaderNodeErrorDetails {
    fn into_error(self, _: &str) -> Error {
        let info = self.current_leader.unwrap_or_default();
        Error::NodeIsNotLeader {
            leader: u16::try_from(info.port).ok().map(|port| Endpoint {
                host: info.host,
                port,
            }),
            node_id: info.node_id,
        }
    }
}

impl ErrorDetail for krpc::AccessDeniedErrorDetails {
    fn into_error(self, message: &str) -> Error {
        Error::access_denied(message.to_owned())
    }
}

impl ErrorDetail for v2err::StreamRevisionConflictErrorDetails {
    fn into_error(self, _: &str) -> Error {
        Error::WrongCurrentVersion {
            stream: self.stream,
            expected: StreamState::from_v2(self.expected_revision),
            actual: StreamState::from_v2(self.actual_revision),
        }
    }
}

impl ErrorDetail for v2err::StreamTombstonedErrorDetails {
    fn into_error(self, _: &str) -> Error {
        Error::StreamIsDeleted {
            stream: self.stream,
        }
    }
}

impl ErrorDetail for v2err::StreamDeletedErrorDetails {
    fn into_error(self, _: &str) -> Error {
        Error::StreamIsDeleted {
            stream: self.stream,
        }
    }
}

impl ErrorDetail for v2err::StreamNotFoundErrorDetails {
    fn into_error(self, _: &str) -> Error {
        Error::NotFound { what: self.stream }
    }
}

impl ErrorDetail for v2err::AppendConsistencyViolationErrorDetails {
    fn into_error(self, _: &str) -> Error {
        let failures = self
            .violations
            .into_iter()
            .filter_map(|v| {
                let check_index = usize::try_from(v.check_index).ok()?;
                match v.r#type? {
                    v2err::consistency_violation::Type::StreamState(s) => {
                        Some(ConsistencyCheckFailure {
                            check_index,
                            stream_name: s.stream,
                            expected_state: StreamState::from_v2(s.expected_state),
                            actual_state: StreamState::from_v2(s.actual_state),
                        })
                    }
                }
            })
            .collect();
        Error::ConsistencyChecksFailed { failures }
    }
}

impl ErrorDetail for v2err::AppendRecordSizeExceededErrorDetails {
    fn into_error(self, _: &str) -> Error {
        Error::RecordMaxSizeExceeded {
            stream: self.stream,
            event_id: self.record_id.parse().unwrap_or_default(),
            size: u32::try_from(self.size).unwrap_or_default(),
            max_size: u32::try_from(self.max_size).unwrap_or_default(),
        }
    }
}

impl ErrorDetail for v2err::AppendTransactionSizeExceededErrorDetails {
    fn into_error(self, _: &str) -> Error {
        Error::TransactionMaxSizeExceeded {
            size: u32::try_from(self.size).unwrap_or_default(),
            max_size: u32::try_from(self.max_size).unwrap_or_default(),
        }
    }
}

impl ErrorDetail for v2err::StreamAlreadyInAppendSessionErrorDetails {
    fn into_error(self, _: &str) -> Error {
        Error::MultiAppendToSameStream {
            stream: self.stream,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
