//! One module per gRPC service. Service impls stay thin: they decode requests,
//! call the [`crate::store::Store`], and encode what it answers, including the
//! errors, exactly as a KurrentDB node encodes them.
//!
//! This module holds the wire conventions shared by the services: ids, stream
//! names, event conversion, and the status codes, messages and trailers of the
//! real server's errors.

pub(crate) mod gossip;
pub(crate) mod operations;
pub(crate) mod persistent;
pub(crate) mod projections;
pub(crate) mod server_features;
pub(crate) mod streams;
pub(crate) mod users;

use std::collections::HashMap;

use bytes::Bytes;
use kurrentdbclient::proto::shared::{self, StreamIdentifier, uuid as proto_uuid};
use kurrentdbclient::proto::status::Status as RpcStatus;
use kurrentdbclient::proto::streams::read_resp::read_event::RecordedEvent;
use prost::Message;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};
use uuid::Uuid;

use crate::store::{NamedRecord, ProposedEvent};

/// The status message ASP.NET Core gRPC (the real server's host) sends, with code
/// `Unknown`, when a handler throws an unexpected exception. KurrentDB throws
/// one for structurally malformed requests (no options message first, a missing
/// oneof, an unparsable UUID), so that is what clients see for them. The Python
/// client maps it to `ExceptionThrownByHandlerError`.
pub(crate) const HANDLER_EXCEPTION: &str = "Exception was thrown by handler.";

/// A status carrying a `google.rpc.Status` with one detail: how the v2 API
/// (and the role gate's v2 not-leader answer) reports errors.
pub(crate) fn rich<M: prost::Name>(code: Code, message: String, detail: Option<&M>) -> Status {
    let rpc = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: detail
            .and_then(|d| prost_types::Any::from_msg(d).ok())
            .into_iter()
            .collect(),
    };
    Status::with_details(code, message, Bytes::from(rpc.encode_to_vec()))
}

/// A malformed request, as the real server reports it (see
/// [`HANDLER_EXCEPTION`]).
pub(crate) fn malformed(what: &str) -> Status {
    tracing::debug!("malformed request: {what}");
    Status::new(Code::Unknown, HANDLER_EXCEPTION)
}

fn insert(meta: &mut MetadataMap, key: &'static str, value: &str) {
    // Trailer values must be visible ASCII; a stream name that is not is left
    // out (the status message still carries it).
    if let Ok(v) = MetadataValue::try_from(value) {
        meta.insert(key, v);
    }
}

/// The text form of a stream name (lossy for names that are not UTF-8).
pub(crate) fn name_text(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// `FAILED_PRECONDITION` "Event stream 'S' is deleted." with trailers
/// `exception: stream-deleted` and `stream-name: S`: what the real server answers
/// to an append, read, delete or subscription on a tombstoned stream.
pub(crate) fn stream_deleted(stream: &[u8]) -> Status {
    let name = name_text(stream);
    let mut status = Status::new(
        Code::FailedPrecondition,
        format!("Event stream '{name}' is deleted."),
    );
    let meta = status.metadata_mut();
    insert(meta, "exception", "stream-deleted");
    insert(meta, "stream-name", &name);
    status
}

/// `FAILED_PRECONDITION` for `Delete`/`Tombstone` with a wrong expected version.
/// The message is the one the Python client's regex parses:
/// `"<Op> failed due to WrongExpectedVersion. Stream: S, Expected version: E,
/// Actual version: A"` (numbers: -1 no stream, -2 any, -4 stream exists), and the
/// trailers are `exception: wrong-expected-version`, `stream-name`,
/// `expected-version`, `actual-version`.
/// The numbers are written as the client sent them (an exact revision above
/// `i64::MAX` stays itself, never -1).
pub(crate) fn wrong_expected_version(
    op: &str,
    stream: &[u8],
    expected: impl std::fmt::Display,
    actual: impl std::fmt::Display,
) -> Status {
    let name = name_text(stream);
    let mut status = Status::new(
        Code::FailedPrecondition,
        format!(
            "{op} failed due to WrongExpectedVersion. Stream: {name}, Expected version: {expected}, Actual version: {actual}"
        ),
    );
    let meta = status.metadata_mut();
    insert(meta, "exception", "wrong-expected-version");
    insert(meta, "stream-name", &name);
    insert(meta, "expected-version", &expected.to_string());
    insert(meta, "actual-version", &actual.to_string());
    status
}

/// `INVALID_ARGUMENT` "Maximum Append Size of N Exceeded." with trailers
/// `exception: maximum-append-size-exceeded` and `maximum-append-size: N`: the
/// real server refuses an oversized v1 `Append` with a status, not in-band.
pub(crate) fn maximum_append_size_exceeded(max: u32) -> Status {
    let mut status = Status::new(
        Code::InvalidArgument,
        format!("Maximum Append Size of {max} Exceeded."),
    );
    let meta = status.metadata_mut();
    insert(meta, "exception", "maximum-append-size-exceeded");
    insert(meta, "maximum-append-size", &max.to_string());
    status
}

/// `INVALID_ARGUMENT` for a proposed event without the `type` or `content-type`
/// metadata entry, with trailers `exception: missing-required-metadata-property`
/// and `required-metadata-properties: type,content-type`.
pub(crate) fn missing_metadata(key: &str) -> Status {
    let mut status = Status::new(
        Code::InvalidArgument,
        format!("Required Metadata Property '{key}' is missing"),
    );
    let meta = status.metadata_mut();
    insert(meta, "exception", "missing-required-metadata-property");
    insert(meta, "required-metadata-properties", "type,content-type");
    status
}

/// `UNKNOWN` "Unexpected ReadAllResult: InvalidPosition" (or
/// `FilteredReadAllResult` for a filtered read): what KurrentDB 25.1+ answers to
/// a `$all` read from a commit position that is not a record's position. Older
/// servers also used `Unknown` for it; clients match on "InvalidPosition".
pub(crate) fn invalid_position(filtered: bool) -> Status {
    let kind = if filtered {
        "FilteredReadAllResult"
    } else {
        "ReadAllResult"
    };
    Status::new(Code::Unknown, format!("Unexpected {kind}: InvalidPosition"))
}

/// `NOT_FOUND` "Index '<name>' not found." with trailers `exception:
/// index-not-found` and `index-name: <name>`: KurrentDB's answer to a read of
/// a secondary index it does not have (`RpcExceptions.IndexNotFound`).
pub(crate) fn index_not_found(name: &str) -> Status {
    let mut status = Status::new(Code::NotFound, format!("Index '{name}' not found."));
    let meta = status.metadata_mut();
    insert(meta, "exception", "index-not-found");
    insert(meta, "index-name", name);
    status
}

/// `INVALID_ARGUMENT` for a filter that cannot be used: a regex that does not
/// parse or is over the size limits, or too many prefixes (see
/// [`crate::store::Matcher`]).
pub(crate) fn filter_status(e: crate::store::FilterError) -> Status {
    Status::invalid_argument(e.to_string())
}

/// `INVALID_ARGUMENT` for an empty stream name.
pub(crate) fn empty_stream_name() -> Status {
    Status::invalid_argument("The stream name must not be empty.")
}

/// The longest stream name (and persistent-subscription group name) a client
/// may send, in bytes.
///
/// KurrentDB itself has no explicit limit: a name only has to fit in a log
/// record (16 MiB, `TFConsts.MaxLogRecordSize` in
/// `src/KurrentDB.Core/TransactionLog/Chunks/TFConsts.cs`), and its v2 API
/// validator (`KurrentDB.Api.V2/Modules/Streams/Validators/StreamNameValidator.cs`)
/// checks only that a name is not empty nor `$$`. A name that long is no
/// stream anyone means to use, and it costs the server in every index entry,
/// error message and trailer (a 20 KB name was echoed whole into trailers), so
/// this server sets a bound and answers a longer name as KurrentDB answers the
/// nearest case, a name its validator refuses: `INVALID_ARGUMENT`.
pub(crate) const MAX_NAME_LEN: usize = 4096;

/// `INVALID_ARGUMENT` for a stream or group name over [`MAX_NAME_LEN`]. The
/// name itself is not echoed.
pub(crate) fn name_too_long(what: &str, len: usize) -> Status {
    Status::invalid_argument(format!(
        "The {what} name is {len} bytes long; the maximum is {MAX_NAME_LEN} bytes."
    ))
}

/// Refuses a stream name that is empty or longer than [`MAX_NAME_LEN`].
pub(crate) fn check_stream_name(name: &[u8]) -> Result<(), Status> {
    if name.is_empty() {
        return Err(empty_stream_name());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(name_too_long("stream", name.len()));
    }
    Ok(())
}

/// Refuses a persistent-subscription group name longer than [`MAX_NAME_LEN`]
/// (the group name becomes part of the group's system stream names).
pub(crate) fn check_group_name(name: &str) -> Result<(), Status> {
    if name.len() > MAX_NAME_LEN {
        return Err(name_too_long("group", name.len()));
    }
    Ok(())
}

/// A stream name from a `StreamIdentifier`, which must be present, non-empty,
/// at most [`MAX_NAME_LEN`] bytes and UTF-8.
pub(crate) fn stream_name(id: Option<StreamIdentifier>) -> Result<Bytes, Status> {
    let id = id.ok_or_else(|| malformed("no stream identifier"))?;
    check_stream_name(&id.stream_name)?;
    if std::str::from_utf8(&id.stream_name).is_err() {
        return Err(malformed("stream name is not UTF-8"));
    }
    Ok(id.stream_name)
}

/// A wire UUID (structured or string) as a [`Uuid`].
pub(crate) fn uuid_from_proto(id: Option<shared::Uuid>) -> Result<Uuid, Status> {
    match id.and_then(|u| u.value) {
        Some(proto_uuid::Value::String(s)) => {
            Uuid::parse_str(&s).map_err(|_| malformed("invalid uuid string"))
        }
        Some(proto_uuid::Value::Structured(s)) => {
            let hi = (s.most_significant_bits as u64 as u128) << 64;
            let lo = s.least_significant_bits as u64 as u128;
            Ok(Uuid::from_u128(hi | lo))
        }
        None => Err(malformed("missing uuid")),
    }
}

/// A [`Uuid`] on the wire, in the requested form.
pub(crate) fn uuid_to_proto(id: Uuid, structured: bool) -> shared::Uuid {
    let value = if structured {
        let n = id.as_u128();
        proto_uuid::Value::Structured(proto_uuid::Structured {
            most_significant_bits: (n >> 64) as u64 as i64,
            least_significant_bits: n as u64 as i64,
        })
    } else {
        // `encode_lower` into a stack buffer: no formatting machinery on this
        // per-event path.
        let mut buf = Uuid::encode_buffer();
        proto_uuid::Value::String(String::from(&*id.hyphenated().encode_lower(&mut buf)))
    };
    shared::Uuid { value: Some(value) }
}

/// A v1 proposed message as a [`ProposedEvent`]: the `type` and `content-type`
/// metadata entries are required; only `application/json` is kept as JSON.
pub(crate) fn proposed_event(
    id: Option<shared::Uuid>,
    mut metadata: HashMap<String, String>,
    custom_metadata: Bytes,
    data: Bytes,
) -> Result<ProposedEvent, Status> {
    let id = uuid_from_proto(id)?;
    let event_type = metadata
        .remove("type")
        .ok_or_else(|| missing_metadata("type"))?;
    let content_type = metadata
        .remove("content-type")
        .ok_or_else(|| missing_metadata("content-type"))?;
    Ok(ProposedEvent {
        id,
        event_type,
        is_json: content_type == crate::log::CONTENT_TYPE_JSON,
        data,
        metadata: custom_metadata,
    })
}

/// A stored record as a v1 `RecordedEvent`. System metadata: `type`,
/// `content-type` and `created` (ticks of 100 ns since the Unix epoch, as text).
pub(crate) fn recorded_event(named: &NamedRecord, structured: bool) -> RecordedEvent {
    let r = &named.record;
    let mut metadata = HashMap::with_capacity(3);
    // `String::from(&str)` rather than `to_string()` on the `Arc<str>`, which
    // would go through `Display` (measurably slower on this per-event path).
    metadata.insert("type".to_owned(), String::from(&*r.event_type));
    metadata.insert("content-type".to_owned(), r.content_type().to_owned());
    metadata.insert("created".to_owned(), format_i64(r.created));
    RecordedEvent {
        id: Some(uuid_to_proto(r.id, structured)),
        stream_identifier: Some(StreamIdentifier {
            stream_name: named.stream.clone(),
        }),
        stream_revision: r.revision,
        prepare_position: r.position,
        commit_position: r.position,
        metadata,
        custom_metadata: r.metadata(),
        data: r.data(),
    }
}

/// Formats an integer without the formatting machinery.
fn format_i64(n: i64) -> String {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let negative = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(buf.len() - i + 1);
    if negative {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
    out
}

/// A `google.protobuf.Timestamp` for now.
pub(crate) fn now_timestamp() -> prost_types::Timestamp {
    prost_types::Timestamp::from(std::time::SystemTime::now())
}
