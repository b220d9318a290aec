//! `kurrentdb.protocol.v2.streams.StreamsService`: `AppendSession` (one atomic
//! append across several streams, each with its expected revision) and
//! `AppendRecords` (records for many streams, with consistency checks).
//!
//! Errors are `google.rpc.Status` values in the `grpc-status-details-bin`
//! trailer, with the code the Python client expects each detail with:
//! - `StreamRevisionConflictErrorDetails`, `StreamTombstonedErrorDetails`,
//!   `AppendConsistencyViolationErrorDetails`: `FAILED_PRECONDITION` (a
//!   tombstoned stream is `StreamTombstoned` to `AppendSession`, a violation
//!   to `AppendRecords`, as in KurrentDB 26.1);
//! - `AppendRecordSizeExceededErrorDetails`: `INVALID_ARGUMENT`;
//! - `AppendTransactionSizeExceededErrorDetails`,
//!   `StreamAlreadyInAppendSessionErrorDetails`: `ABORTED`;
//! - an append session without requests: `FAILED_PRECONDITION`, no detail.
//!
//! # Records as v1 events
//!
//! A v2 record reads back through v1 `Read` as: event type = `schema.name`;
//! content type `application/json` when `schema.format` is JSON, else
//! `application/octet-stream`; data = `data`; user metadata = the `properties`
//! as a compact JSON object (string values stay strings, keys sorted), or empty
//! when there are none. That is the round trip the Python client relies on: it
//! sends an event's JSON-object metadata as string properties and expects to
//! read the same object back. Clients of the older v2 shape that carry the
//! schema in properties (`$schema.name`, `$schema.data-format`) are understood
//! too; `$schema.*` properties are not copied into the metadata.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use kurrentdbclient::proto::v2::streams_service_server::StreamsService;
use kurrentdbclient::proto::v2::{
    AppendRecord, AppendRecordsRequest, AppendRecordsResponse, AppendRequest, AppendResponse,
    AppendSessionResponse, SchemaFormat, StreamRevision, consistency_check,
};
use kurrentdbclient::proto::v2_errors as errors;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::security::authz::{self, Operation, StreamAction};
use crate::services::rich;
use crate::store::{
    ActualState, CheckedAppendError, ExpectedRevision, ExpectedState, PER_EVENT_OVERHEAD,
    ProposedEvent, StateCheck, Store, StreamWrite, Violation, WriteError,
};

/// The v2 streams service.
#[derive(Debug, Clone)]
pub(crate) struct StreamsV2Service {
    store: Arc<Store>,
}

impl StreamsV2Service {
    /// A service over `store`.
    pub(crate) fn new(store: Arc<Store>) -> Self {
        StreamsV2Service { store }
    }
}

fn json_value(v: prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(n)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s),
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(b),
        Some(Kind::StructValue(s)) => serde_json::Value::Object(
            s.fields
                .into_iter()
                .map(|(k, v)| (k, json_value(v)))
                .collect(),
        ),
        Some(Kind::ListValue(l)) => {
            serde_json::Value::Array(l.values.into_iter().map(json_value).collect())
        }
    }
}

fn string_property(props: &HashMap<String, prost_types::Value>, key: &str) -> Option<String> {
    match props.get(key)?.kind.as_ref()? {
        prost_types::value::Kind::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

/// A v2 record as a [`ProposedEvent`] (see the module docs).
fn record_to_event(record: AppendRecord) -> Result<ProposedEvent, Status> {
    let id = match record.record_id.as_deref() {
        Some(s) if !s.is_empty() => uuid::Uuid::parse_str(s)
            .map_err(|_| Status::invalid_argument(format!("Invalid record id: {s}")))?,
        _ => uuid::Uuid::new_v4(),
    };
    let schema = record.schema.unwrap_or_default();
    let event_type = if schema.name.is_empty() {
        string_property(&record.properties, "$schema.name").unwrap_or_default()
    } else {
        schema.name
    };
    if event_type.is_empty() {
        return Err(Status::invalid_argument(
            "Record schema name (event type) is required",
        ));
    }
    let is_json = match SchemaFormat::try_from(schema.format) {
        Ok(SchemaFormat::Json) => true,
        Ok(SchemaFormat::Unspecified) | Err(_) => {
            string_property(&record.properties, "$schema.data-format")
                .or_else(|| string_property(&record.properties, "$schema.format"))
                .is_some_and(|f| f.eq_ignore_ascii_case("json") || f == "application/json")
        }
        Ok(_) => false,
    };
    let props: serde_json::Map<String, serde_json::Value> = record
        .properties
        .into_iter()
        .filter(|(k, _)| !k.starts_with("$schema."))
        .map(|(k, v)| (k, json_value(v)))
        .collect();
    let metadata = if props.is_empty() {
        Bytes::new()
    } else {
        Bytes::from(serde_json::to_vec(&props).unwrap_or_default())
    };
    Ok(ProposedEvent {
        id,
        event_type,
        is_json,
        data: record.data,
        metadata,
    })
}

fn expected_v2(n: Option<i64>) -> Result<ExpectedRevision, Status> {
    match n {
        None => Ok(ExpectedRevision::Any),
        Some(n) => ExpectedRevision::from_number(n)
            .ok_or_else(|| Status::invalid_argument(format!("Invalid expected revision: {n}"))),
    }
}

/// The running size of an append, checked as each record arrives (an
/// `AppendSession` used to buffer every request before looking at sizes):
/// each record against the maximum record size (`INVALID_ARGUMENT`), the
/// total against the maximum append size (`ABORTED`). The total counts each
/// record's [`ProposedEvent::size`] and, for each stream, its name and
/// [`PER_EVENT_OVERHEAD`], so that a session of many empty requests is
/// bounded too.
struct SizeTally {
    total: usize,
    max_append: u32,
    max_record: u32,
}

impl SizeTally {
    fn new(store: &Store) -> SizeTally {
        let opts = store.options();
        SizeTally {
            total: 0,
            max_append: opts.max_append_size,
            max_record: opts.max_record_size,
        }
    }

    /// Counts a stream of the append.
    fn add_stream(&mut self, stream: &str) -> Result<(), Status> {
        self.grow(stream.len().saturating_add(PER_EVENT_OVERHEAD))
    }

    /// Counts a record of `stream`.
    fn add_record(&mut self, stream: &str, e: &ProposedEvent) -> Result<(), Status> {
        let size = e.size();
        if size > self.max_record as usize {
            let detail = errors::AppendRecordSizeExceededErrorDetails {
                stream: stream.to_owned(),
                record_id: e.id.to_string(),
                size: i32::try_from(size).unwrap_or(i32::MAX),
                max_size: i32::try_from(self.max_record).unwrap_or(i32::MAX),
            };
            return Err(rich(
                Code::InvalidArgument,
                format!(
                    "Record {} for stream {stream} is {size} bytes, which exceeds the maximum record size of {} bytes",
                    e.id, self.max_record
                ),
                Some(&detail),
            ));
        }
        self.grow(size)
    }

    fn grow(&mut self, by: usize) -> Result<(), Status> {
        self.total = self.total.saturating_add(by);
        if self.total <= self.max_append as usize {
            return Ok(());
        }
        let detail = errors::AppendTransactionSizeExceededErrorDetails {
            size: i32::try_from(self.total).unwrap_or(i32::MAX),
            max_size: i32::try_from(self.max_append).unwrap_or(i32::MAX),
        };
        Err(rich(
            Code::Aborted,
            format!(
                "The append transaction is more than {} bytes, the maximum",
                self.max_append
            ),
            Some(&detail),
        ))
    }
}

fn write_error(err: WriteError) -> Status {
    match err {
        WriteError::WrongExpectedVersion {
            stream,
            expected,
            current,
        } => {
            let detail = errors::StreamRevisionConflictErrorDetails {
                stream: String::from_utf8_lossy(&stream).into_owned(),
                expected_revision: expected.number(),
                actual_revision: current.number(),
            };
            rich(
                Code::FailedPrecondition,
                format!(
                    "Append failed due to a revision conflict on stream '{}'. Expected revision: {}. Actual revision: {}.",
                    detail.stream, detail.expected_revision, detail.actual_revision
                ),
                Some(&detail),
            )
        }
        WriteError::StreamDeleted { stream } => {
            let detail = errors::StreamTombstonedErrorDetails {
                stream: String::from_utf8_lossy(&stream).into_owned(),
            };
            rich(
                Code::FailedPrecondition,
                format!("Stream '{}' has been tombstoned.", detail.stream),
                Some(&detail),
            )
        }
    }
}

/// Where `stream` stands in KurrentDB's list of an `AppendRecords`
/// request's expected stream states (`AppendRecordsCommand`), and what it
/// expects there: the checks come first, in order (a stream checked twice
/// keeps its first place), then each written stream without a check, in
/// the order streams first appear in the records (`write_of`: a stream's
/// place among the writes), expecting any (-2). Worked out only when a
/// write fails, so that appends pay nothing for it.
fn place_of(
    checks: &[StateCheck],
    write_of: &HashMap<String, usize>,
    stream: &[u8],
) -> Option<(usize, ExpectedState)> {
    if let Some(i) = checks.iter().position(|c| c.stream == stream) {
        return Some((i, checks[i].expected));
    }
    let mut unchecked: Vec<(&str, usize)> = write_of
        .iter()
        .filter(|(s, _)| !checks.iter().any(|c| c.stream == s.as_bytes()))
        .map(|(s, &w)| (s.as_str(), w))
        .collect();
    unchecked.sort_unstable_by_key(|&(_, w)| w);
    let rank = unchecked
        .iter()
        .position(|&(s, _)| s.as_bytes() == stream)?;
    Some((
        checks.len() + rank,
        ExpectedState::Revision(ExpectedRevision::Any),
    ))
}

/// `AppendRecords` to a tombstoned stream: KurrentDB 26.1 reports a
/// consistency violation at the stream's place (see [`place_of`]),
/// expecting what its check expected (any, without one), actually
/// tombstoned (-6) (`StreamsService.MapViolations`; its test
/// `WriteOnly/WhenExpectingAny.fails_when_stream_is_tombstoned`), where
/// `AppendSession` answers `StreamTombstonedErrorDetails`.
fn tombstoned_record_stream(
    checks: &[StateCheck],
    write_of: &HashMap<String, usize>,
    stream: Bytes,
) -> Status {
    match place_of(checks, write_of, &stream) {
        Some((check_index, expected)) => {
            checked_append_error(CheckedAppendError::ConsistencyViolations(vec![Violation {
                check_index,
                stream,
                expected,
                actual: ActualState::Tombstoned,
            }]))
        }
        None => write_error(WriteError::StreamDeleted { stream }),
    }
}

fn checked_append_error(err: CheckedAppendError) -> Status {
    match err {
        CheckedAppendError::Write(e) => write_error(e),
        CheckedAppendError::ConsistencyViolations(violations) => {
            use errors::consistency_violation::{StreamStateViolation, Type};
            let detail = errors::AppendConsistencyViolationErrorDetails {
                violations: violations
                    .into_iter()
                    .map(|v| errors::ConsistencyViolation {
                        check_index: i32::try_from(v.check_index).unwrap_or(i32::MAX),
                        r#type: Some(Type::StreamState(StreamStateViolation {
                            stream: String::from_utf8_lossy(&v.stream).into_owned(),
                            expected_state: v.expected.number(),
                            actual_state: v.actual.number(),
                        })),
                    })
                    .collect(),
            };
            rich(
                Code::FailedPrecondition,
                format!(
                    "Append failed: {} consistency check(s) failed.",
                    detail.violations.len()
                ),
                Some(&detail),
            )
        }
    }
}

/// Refuses what the caller may not do to `stream` (`action`: write for the
/// streams appended to, read for AppendRecords' check-only streams) as
/// KurrentDB's v2 API does (`AuthorizationExtensions.AuthorizeOperation` ->
/// `ApiErrors.AccessDenied`): `PERMISSION_DENIED` "Access denied.
/// Insufficient permissions to perform <claim>", where the claim is
/// `ClaimName.Create(resource, action, stream)` lowercased
/// (`streams:write:order-1`), with `AccessDeniedErrorDetails` naming that
/// claim and the caller's login.
fn may(extensions: &tonic::Extensions, action: StreamAction, stream: &str) -> Result<(), Status> {
    authz::check(extensions, Operation::Stream(action, stream.as_bytes())).map_err(|_| {
        let verb = match action {
            StreamAction::Read => "read",
            StreamAction::Write => "write",
            StreamAction::Delete => "delete",
        };
        let claim = format!("streams:{verb}:{stream}").to_lowercase();
        let detail = kurrentdbclient::proto::kurrent::rpc::AccessDeniedErrorDetails {
            operation: claim.clone(),
            username: authz::login(extensions).map(str::to_owned),
            permission: None,
        };
        rich(
            Code::PermissionDenied,
            format!("Access denied. Insufficient permissions to perform {claim}"),
            Some(&detail),
        )
    })
}

#[tonic::async_trait]
impl StreamsService for StreamsV2Service {
    async fn append_session(
        &self,
        request: Request<Streaming<AppendRequest>>,
    ) -> Result<Response<AppendSessionResponse>, Status> {
        let (_, extensions, mut requests) = request.into_parts();
        let mut writes: Vec<StreamWrite> = Vec::new();
        let mut sizes = SizeTally::new(&self.store);
        // Hashed: a linear scan per request made a session of 150,000
        // streams quadratic.
        let mut streams: HashSet<String> = HashSet::new();
        while let Some(req) = requests.message().await? {
            crate::services::check_stream_name(req.stream.as_bytes())?;
            if streams.contains(&req.stream) {
                let detail = errors::StreamAlreadyInAppendSessionErrorDetails {
                    stream: req.stream.clone(),
                };
                return Err(rich(
                    Code::Aborted,
                    format!("Stream '{}' is already in the append session.", req.stream),
                    Some(&detail),
                ));
            }
            sizes.add_stream(&req.stream)?;
            may(&extensions, StreamAction::Write, &req.stream)?;
            let expected = expected_v2(req.expected_revision)?;
            let mut events = Vec::with_capacity(req.records.len());
            for record in req.records {
                let event = record_to_event(record)?;
                sizes.add_record(&req.stream, &event)?;
                events.push(event);
            }
            streams.insert(req.stream.clone());
            writes.push(StreamWrite {
                stream: Bytes::from(req.stream),
                expected,
                events,
            });
        }
        if writes.is_empty() {
            return Err(rich::<errors::StreamNotFoundErrorDetails>(
                Code::FailedPrecondition,
                "The append session has no requests.".to_owned(),
                None,
            ));
        }
        let outcome = self.store.append(writes).map_err(write_error)?;
        let output = outcome
            .writes
            .iter()
            .map(|w| AppendResponse {
                stream: String::from_utf8_lossy(&w.stream).into_owned(),
                stream_revision: w.current.number(),
                position: w.position.map(|p| p as i64),
            })
            .collect();
        Ok(Response::new(AppendSessionResponse {
            output,
            position: outcome.position.map_or(-1, |p| p as i64),
        }))
    }

    async fn append_records(
        &self,
        request: Request<AppendRecordsRequest>,
    ) -> Result<Response<AppendRecordsResponse>, Status> {
        let (_, extensions, req) = request.into_parts();
        if req.records.is_empty() {
            return Err(Status::invalid_argument("No records to append."));
        }
        let mut writes: Vec<StreamWrite> = Vec::new();
        let mut sizes = SizeTally::new(&self.store);
        // Records are grouped by stream, in the order streams first appear;
        // hashed, so that many streams stay linear.
        let mut write_of: HashMap<String, usize> = HashMap::new();
        for record in req.records {
            crate::services::check_stream_name(record.stream.as_bytes())?;
            let stream = record.stream.clone();
            let event = record_to_event(record)?;
            let w = match write_of.get(&stream) {
                Some(&w) => w,
                None => {
                    sizes.add_stream(&stream)?;
                    may(&extensions, StreamAction::Write, &stream)?;
                    write_of.insert(stream.clone(), writes.len());
                    writes.push(StreamWrite {
                        stream: Bytes::from(stream.clone()),
                        expected: ExpectedRevision::Any,
                        events: Vec::new(),
                    });
                    writes.len() - 1
                }
            };
            sizes.add_record(&stream, &event)?;
            writes[w].events.push(event);
        }
        let checks = req
            .checks
            .into_iter()
            .map(|c| match c.r#type {
                Some(consistency_check::Type::StreamState(s)) => {
                    crate::services::check_stream_name(s.stream.as_bytes())?;
                    // KurrentDB 26.1's `ConsistencyCheckValidator`.
                    let expected = ExpectedState::from_number(s.expected_state).ok_or_else(|| {
                        Status::invalid_argument(
                            "Expected state must be positive or one of the allowed constants: NoStream (-1), Exists (-4), Deleted (-5), or Tombstoned (-6). Any (-2) is not allowed.",
                        )
                    })?;
                    Ok(StateCheck {
                        stream: Bytes::from(s.stream),
                        expected,
                    })
                }
                None => Err(Status::invalid_argument(
                    "Consistency check without a type.",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        // A stream only checked, not written, needs read access, as in
        // KurrentDB's `AppendRecords` (`ReadOnlyStreams`: the checked streams
        // except the written ones, compared ignoring case).
        let written: HashSet<String> = write_of.keys().map(|s| s.to_lowercase()).collect();
        for check in &checks {
            let stream = String::from_utf8_lossy(&check.stream);
            if !written.contains(&stream.to_lowercase()) {
                may(&extensions, StreamAction::Read, &stream)?;
            }
        }
        let outcome = self
            .store
            .append_checked(writes, &checks)
            .map_err(|e| match e {
                CheckedAppendError::Write(WriteError::StreamDeleted { stream }) => {
                    tombstoned_record_stream(&checks, &write_of, stream)
                }
                other => checked_append_error(other),
            })?;
        Ok(Response::new(AppendRecordsResponse {
            revisions: outcome
                .writes
                .iter()
                .map(|w| StreamRevision {
                    stream: String::from_utf8_lossy(&w.stream).into_owned(),
                    revision: w.current.number(),
                })
                .collect(),
            position: outcome.position.map_or(-1, |p| p as i64),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(stream: &'static str, expected: ExpectedState) -> StateCheck {
        StateCheck {
            stream: Bytes::from_static(stream.as_bytes()),
            expected,
        }
    }

    /// KurrentDB's order: the checks (a stream checked twice keeps its
    /// first place), then the unchecked written streams in the order they
    /// first appear; a written stream that is also checked has the check's
    /// place and expectation.
    #[test]
    fn a_streams_place_follows_kurrentdbs_list_of_expected_states() {
        let exists = ExpectedState::Revision(ExpectedRevision::StreamExists);
        let checks = [
            check("a", exists),
            check("b", ExpectedState::Tombstoned),
            check("a", ExpectedState::Deleted),
        ];
        // Written, in order of first appearance: x, b, y.
        let write_of: HashMap<String, usize> = [("x", 0), ("b", 1), ("y", 2)]
            .into_iter()
            .map(|(s, w)| (s.to_owned(), w))
            .collect();
        let any = ExpectedState::Revision(ExpectedRevision::Any);
        assert_eq!(place_of(&checks, &write_of, b"a"), Some((0, exists)));
        assert_eq!(
            place_of(&checks, &write_of, b"b"),
            Some((1, ExpectedState::Tombstoned))
        );
        assert_eq!(place_of(&checks, &write_of, b"x"), Some((3, any)));
        assert_eq!(place_of(&checks, &write_of, b"y"), Some((4, any)));
        assert_eq!(place_of(&checks, &write_of, b"z"), None);
    }
}
