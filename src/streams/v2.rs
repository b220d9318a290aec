//! The v2 `kurrentdb.protocol.v2.streams.StreamsService`: `AppendSession`
//! (`multi_append_to_stream`) and `AppendRecords` (`append_records`), with the
//! client-side checks the v2 API needs.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use prost_types::value::Kind;

use super::{check_event_type, check_stream_name};
use crate::error::{Error, Result};
use crate::proto::v2 as p2;
use crate::types::{
    AppendRecordsResult, CONTENT_TYPE_JSON, NewEvents, NewRecord, StreamPositionResult,
    StreamStateCheck,
};

/// The v2 API carries metadata as string properties, so it must be empty or a
/// JSON object whose values are all strings.
pub(crate) fn metadata_to_properties(
    metadata: &Bytes,
    what: &dyn std::fmt::Display,
) -> Result<HashMap<String, prost_types::Value>> {
    if metadata.is_empty() {
        return Ok(HashMap::new());
    }
    let invalid = |why: &str| {
        Error::Programming(format!(
            "invalid metadata of {what}: {why}; metadata of a multi-append or append_records \
             must be empty or a JSON object with string values"
        ))
    };
    let value: serde_json::Value =
        serde_json::from_slice(metadata).map_err(|e| invalid(&format!("not JSON ({e})")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(invalid("not a JSON object"));
    };
    object
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(s) => Ok((
                key,
                prost_types::Value {
                    kind: Some(Kind::StringValue(s)),
                },
            )),
            other => Err(invalid(&format!(
                "the value of {key:?} is not a string: {other}"
            ))),
        })
        .collect()
}

fn schema(r#type: &str, content_type: &str) -> Option<p2::SchemaInfo> {
    let format = if content_type == CONTENT_TYPE_JSON {
        p2::SchemaFormat::Json
    } else {
        p2::SchemaFormat::Bytes
    };
    Some(p2::SchemaInfo {
        format: format as i32,
        name: r#type.to_owned(),
        id: None,
    })
}

/// The `AppendRequest`s of a multi-append, after checking them.
pub(crate) fn append_session_requests(events: &[NewEvents]) -> Result<Vec<p2::AppendRequest>> {
    if events.is_empty() {
        return Err(Error::Programming(
            "multi_append_to_stream needs at least one NewEvents".into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut requests = Vec::with_capacity(events.len());
    for group in events {
        check_stream_name(&group.stream_name)?;
        if !seen.insert(group.stream_name.as_str()) {
            return Err(Error::MultiAppendToSameStream {
                stream: group.stream_name.clone(),
            });
        }
        let mut records = Vec::with_capacity(group.events.len());
        for event in &group.events {
            check_event_type(&event.r#type, event.id)?;
            records.push(p2::AppendRecord {
                record_id: Some(event.id.to_string()),
                properties: metadata_to_properties(
                    &event.metadata,
                    &format_args!("event {}", event.id),
                )?,
                schema: schema(&event.r#type, &event.content_type),
                data: event.data.clone(),
                stream: String::new(),
            });
        }
        requests.push(p2::AppendRequest {
            stream: group.stream_name.clone(),
            records,
            expected_revision: Some(group.current_version.to_v2()),
        });
    }
    Ok(requests)
}

/// The commit position a v2 append answers with (a negative one, which the
/// server never sends, reads as 0).
fn commit_position(position: i64) -> u64 {
    u64::try_from(position).unwrap_or(0)
}

/// The result of a v2 transaction: its position, and each stream's revision (a
/// negative one, which the server never sends for a written stream, is left
/// out).
fn append_records_result<'a>(
    position: i64,
    revisions: impl Iterator<Item = (&'a str, i64)>,
) -> AppendRecordsResult {
    AppendRecordsResult {
        commit_position: commit_position(position),
        stream_positions: revisions
            .filter_map(|(stream, revision)| {
                Some(StreamPositionResult {
                    stream_name: stream.to_owned(),
                    stream_position: u64::try_from(revision).ok()?,
                })
            })
            .collect(),
    }
}

/// What an `AppendSession` answered.
pub(crate) fn append_session_result(resp: &p2::AppendSessionResponse) -> AppendRecordsResult {
    append_records_result(
        resp.position,
        resp.output
            .iter()
            .map(|o| (o.stream.as_str(), o.stream_revision)),
    )
}

/// What an `AppendRecords` answered.
pub(crate) fn append_records_response(resp: &p2::AppendRecordsResponse) -> AppendRecordsResult {
    append_records_result(
        resp.position,
        resp.revisions
            .iter()
            .map(|r| (r.stream.as_str(), r.revision)),
    )
}

/// The `AppendRecordsRequest` of `append_records`, after checking it.
pub(crate) fn append_records_request(
    records: &[NewRecord],
    checks: &[StreamStateCheck],
) -> Result<p2::AppendRecordsRequest> {
    if records.is_empty() {
        return Err(Error::Programming(
            "append_records needs at least one record".into(),
        ));
    }
    let records = records
        .iter()
        .map(|r| {
            check_stream_name(&r.stream_name)?;
            check_event_type(&r.r#type, r.id)?;
            Ok(p2::AppendRecord {
                record_id: Some(r.id.to_string()),
                properties: metadata_to_properties(&r.metadata, &format_args!("record {}", r.id))?,
                schema: schema(&r.r#type, &r.content_type),
                data: r.data.clone(),
                stream: r.stream_name.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let checks = checks
        .iter()
        .map(|c| {
            check_stream_name(&c.stream_name)?;
            Ok(p2::ConsistencyCheck {
                r#type: Some(p2::consistency_check::Type::StreamState(
                    p2::consistency_check::StreamStateCheck {
                        stream: c.stream_name.clone(),
                        expected_state: c.expected_state.to_v2(),
                    },
                )),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(p2::AppendRecordsRequest { records, checks })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(metadata: &'static [u8]) -> Result<HashMap<String, prost_types::Value>> {
        metadata_to_properties(&Bytes::from_static(metadata), &"e")
    }

    #[test]
    fn metadata_restrictions_of_the_reference_page() {
        assert!(check(b"").unwrap().is_empty());
        assert_eq!(check(br#"{"a": "1"}"#).unwrap().len(), 1);
        for bad in [
            &b"\xf5d\xc5W3^b\xb0(\xf9\x01D\x81\xa7Y\x98"[..],
            br#""abcdef""#,
            br#"{"a": 1}"#,
            br#"{"a": false}"#,
            br#"{"a": {}}"#,
        ] {
            assert!(
                matches!(
                    metadata_to_properties(&Bytes::copy_from_slice(bad), &"e"),
                    Err(Error::Programming(_))
                ),
                "{bad:?}"
            );
        }
    }
}
