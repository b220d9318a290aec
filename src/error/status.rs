//! The one place where a gRPC status (code, message, trailers, rich details)
//! becomes an [`Error`]: [`Error::from_status`], which every operation sends
//! its failures to.
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

use prost::Message;
use tonic::Code;

use super::Error;
use crate::endpoint::Endpoint;
use crate::proto::google::rpc::Status as RpcStatus;
use crate::proto::kurrent::rpc as krpc;
use crate::proto::kurrentdb::protocol::v2::streams::errors as v2err;
use crate::types::{ConsistencyCheckFailure, StreamCondition, StreamState};

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
            // A secondary index the node does not have (a user-defined
            // index never created, or any index on a node without them).
            Some("index-not-found") => {
                let index = meta
                    .get("index-name")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                return Error::NotFound {
                    what: format!("index {index}"),
                };
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
/// NOT_FOUND, FAILED_PRECONDITION and PERMISSION_DENIED, which map to the
/// same variants.
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
    } else if message.contains("received NotAuthorized instead") {
        // The projection manager's own refusal of a caller outside `$admins`
        // and `$ops` (newer servers: PERMISSION_DENIED "Not authorized").
        Error::access_denied(message)
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
                            expected_state: StreamCondition::from_v2(s.expected_state),
                            actual_state: StreamCondition::from_v2(s.actual_state),
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
