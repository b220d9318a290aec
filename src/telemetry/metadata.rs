//! A span's place in a trace, carried in event metadata as the official
//! clients carry it: the keys `$traceId` and `$spanId` of a JSON object.
//!
//! What the two clients we interoperate with do (read in their sources:
//! `kurrentdbclient` 1.3.5, `instrumentation/opentelemetry/spanners.py`; the
//! .NET client, `Core/Common/Diagnostics/EventMetadataExtensions.cs`):
//!
//! - **Writing.** .NET writes the W3C forms, 32 and 16 lowercase hex digits
//!   (`ActivityTraceId.ToString()`); Python writes `f"{id:#x}"`, a `0x` prefix
//!   and no leading zeros. We write the W3C form: .NET can read only that
//!   (`ActivityTraceId.CreateFromString` wants exactly 32 hex digits), and
//!   Python reads anything `int(s, 16)` accepts, which includes it.
//! - **Reading.** Both forms: an optional `0x`, then 1 to 32 (trace) or 1 to 16
//!   (span) hex digits, either case. An all-zero id is invalid in OpenTelemetry
//!   and is ignored, as is anything else (a missing key, a non-string value,
//!   metadata that is not a JSON object).
//! - **Which events.** .NET injects into any metadata that is empty or a JSON
//!   object; Python only into JSON events (content type `application/json`),
//!   treating empty metadata as `{}`. We inject into metadata that is a JSON
//!   object, and into empty metadata of a JSON event; anything else (binary
//!   metadata, a JSON array, an empty metadata of a binary event) is left
//!   byte for byte as it was.
//! - **Existing keys.** .NET keeps a `$traceId` or `$spanId` already there and
//!   adds only the missing key; Python overwrites both. We keep them, as .NET
//!   does: the user's own propagation wins. The other keys, their order and
//!   their formatting are untouched: the two keys are appended at the end of
//!   the object's text, without re-serialising it.

use std::collections::HashMap;

use bytes::Bytes;
use serde::de::IgnoredAny;

use crate::types::CONTENT_TYPE_JSON;

/// The metadata key of the trace id.
pub const TRACE_ID_KEY: &str = "$traceId";
/// The metadata key of the span id.
pub const SPAN_ID_KEY: &str = "$spanId";

/// The trace and the span an event was appended under: the parent of the
/// consumer spans of the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceParent {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
}

impl TraceParent {
    /// Both ids, from the hex forms the clients write; `None` when either is
    /// not one or is zero.
    fn parse(trace_id: &str, span_id: &str) -> Option<TraceParent> {
        let parent = TraceParent {
            trace_id: parse_hex(trace_id, 32)?,
            span_id: parse_hex(span_id, 16).and_then(|n| u64::try_from(n).ok())?,
        };
        (parent.trace_id != 0 && parent.span_id != 0).then_some(parent)
    }

    /// The trace id in its W3C form: 32 lowercase hex digits.
    pub(crate) fn trace_id_hex(self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// The span id in its W3C form: 16 lowercase hex digits.
    pub(crate) fn span_id_hex(self) -> String {
        format!("{:016x}", self.span_id)
    }
}

/// An id written in hex: an optional `0x`/`0X`, then 1 to `max_digits` hex
/// digits.
fn parse_hex(text: &str, max_digits: usize) -> Option<u128> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.is_empty()
        || digits.len() > max_digits
        || !digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    u128::from_str_radix(digits, 16).ok()
}

/// The two trace keys of a JSON object, as strings when they are strings.
#[derive(serde::Deserialize)]
struct TraceKeys {
    #[serde(rename = "$traceId")]
    trace_id: Option<serde_json::Value>,
    #[serde(rename = "$spanId")]
    span_id: Option<serde_json::Value>,
}

/// The trace an event was appended under, when its metadata says.
pub(crate) fn extract(metadata: &[u8]) -> Option<TraceParent> {
    // Most metadata carries no trace: skip the parse when the key is absent.
    if !contains(metadata, b"Id\"") || trim_ascii_start(metadata).first() != Some(&b'{') {
        return None;
    }
    let keys: TraceKeys = serde_json::from_slice(metadata).ok()?;
    match (keys.trace_id?, keys.span_id?) {
        (serde_json::Value::String(t), serde_json::Value::String(s)) => TraceParent::parse(&t, &s),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `metadata` with `parent` written in, or `None` when it is to be left as it
/// is (see the module docs for which metadata takes the keys).
pub(crate) fn inject(metadata: &[u8], content_type: &str, parent: TraceParent) -> Option<Bytes> {
    let body = trim_ascii_end(metadata);
    if trim_ascii_start(body).is_empty() {
        if content_type != CONTENT_TYPE_JSON {
            return None;
        }
        return Some(Bytes::from(format!(
            "{{\"{TRACE_ID_KEY}\":\"{}\",\"{SPAN_ID_KEY}\":\"{}\"}}",
            parent.trace_id_hex(),
            parent.span_id_hex()
        )));
    }
    // A JSON object (only its keys are kept), ending with its `}`.
    let keys: HashMap<String, IgnoredAny> = serde_json::from_slice(metadata).ok()?;
    let (has_trace, has_span) = (
        keys.contains_key(TRACE_ID_KEY),
        keys.contains_key(SPAN_ID_KEY),
    );
    if has_trace && has_span {
        return None;
    }
    let mut added = String::new();
    let mut add = |key: &str, value: String| {
        if !keys.is_empty() || !added.is_empty() {
            added.push(',');
        }
        added.push_str(&format!("\"{key}\":\"{value}\""));
    };
    if !has_trace {
        add(TRACE_ID_KEY, parent.trace_id_hex());
    }
    if !has_span {
        add(SPAN_ID_KEY, parent.span_id_hex());
    }
    let close = body.len() - 1; // the object's `}`: the last non-space byte
    let mut out = Vec::with_capacity(metadata.len() + added.len());
    out.extend_from_slice(&body[..close]);
    out.extend_from_slice(added.as_bytes());
    out.extend_from_slice(&metadata[close..]);
    Some(Bytes::from(out))
}

fn trim_ascii_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: TraceParent = TraceParent {
        trace_id: 0x0af7651916cd43dd8448eb211c80319c,
        span_id: 0x00f067aa0ba902b7,
    };
    const BINARY: &str = "application/octet-stream";

    fn inject_str(metadata: &str, content_type: &str) -> Option<String> {
        inject(metadata.as_bytes(), content_type, PARENT)
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn ids_are_written_in_their_w3c_forms() {
        assert_eq!(
            inject_str("", CONTENT_TYPE_JSON).unwrap(),
            r#"{"$traceId":"0af7651916cd43dd8448eb211c80319c","$spanId":"00f067aa0ba902b7"}"#
        );
        let small = TraceParent {
            trace_id: 1,
            span_id: 2,
        };
        assert_eq!(small.trace_id_hex(), "00000000000000000000000000000001");
        assert_eq!(small.span_id_hex(), "0000000000000002");
    }

    #[test]
    fn other_keys_their_order_and_formatting_are_kept() {
        assert_eq!(
            inject_str("{ \"b\": \"1\",  \"a\": [1, 2] }\n", BINARY).unwrap(),
            "{ \"b\": \"1\",  \"a\": [1, 2] ,\"$traceId\":\"0af7651916cd43dd8448eb211c80319c\",\
             \"$spanId\":\"00f067aa0ba902b7\"}\n"
        );
        assert_eq!(
            inject_str("{}", CONTENT_TYPE_JSON).unwrap(),
            r#"{"$traceId":"0af7651916cd43dd8448eb211c80319c","$spanId":"00f067aa0ba902b7"}"#
        );
    }

    #[test]
    fn existing_trace_keys_are_kept_and_only_a_missing_one_is_added() {
        let both = r#"{"$traceId":"1","$spanId":"2"}"#;
        assert_eq!(inject_str(both, CONTENT_TYPE_JSON), None);
        assert_eq!(
            inject_str(r#"{"$traceId":"1"}"#, CONTENT_TYPE_JSON).unwrap(),
            r#"{"$traceId":"1","$spanId":"00f067aa0ba902b7"}"#
        );
    }

    #[test]
    fn other_metadata_is_left_alone() {
        for (metadata, content_type) in [
            ("", BINARY),
            ("  ", BINARY),
            ("[1, 2]", CONTENT_TYPE_JSON),
            ("\"text\"", CONTENT_TYPE_JSON),
            ("not json", CONTENT_TYPE_JSON),
            ("{\"open\": ", CONTENT_TYPE_JSON),
            ("{} {}", CONTENT_TYPE_JSON),
        ] {
            assert_eq!(inject_str(metadata, content_type), None, "{metadata:?}");
        }
        assert_eq!(inject(&[0xff, 0x00, 0x7b], BINARY, PARENT), None);
    }

    #[test]
    fn what_is_written_is_read_back() {
        let written = inject("{\"a\":\"b\"}".as_bytes(), BINARY, PARENT).unwrap();
        assert_eq!(extract(&written), Some(PARENT));
    }

    #[test]
    fn the_python_clients_form_is_read() {
        // `f"{i:#x}"`: a 0x prefix and no leading zeros.
        let python =
            r#"{"$spanId": "0xf067aa0ba902b7", "$traceId": "0xaf7651916cd43dd8448eb211c80319c"}"#;
        assert_eq!(extract(python.as_bytes()), Some(PARENT));
        let upper =
            r#"{"$traceId": "0X0AF7651916CD43DD8448EB211C80319C", "$spanId": "00F067AA0BA902B7"}"#;
        assert_eq!(extract(upper.as_bytes()), Some(PARENT));
    }

    #[test]
    fn anything_else_carries_no_trace() {
        for metadata in [
            "",
            "{}",
            "[]",
            "not json",
            r#"{"$traceId": "0af7651916cd43dd8448eb211c80319c"}"#,
            r#"{"$traceId": 1, "$spanId": 2}"#,
            r#"{"$traceId": "", "$spanId": "00f067aa0ba902b7"}"#,
            r#"{"$traceId": "0x", "$spanId": "00f067aa0ba902b7"}"#,
            r#"{"$traceId": "xyz", "$spanId": "00f067aa0ba902b7"}"#,
            r#"{"$traceId": "+af7651916cd43dd8448eb211c80319c", "$spanId": "1"}"#,
            // Too long: 33 and 17 digits.
            r#"{"$traceId": "10af7651916cd43dd8448eb211c80319c", "$spanId": "1"}"#,
            r#"{"$traceId": "1", "$spanId": "100f067aa0ba902b7"}"#,
            // Zero ids are invalid.
            r#"{"$traceId": "00000000000000000000000000000000", "$spanId": "1"}"#,
            r#"{"$traceId": "1", "$spanId": "0x0"}"#,
            // Not an object.
            r#"["0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7"]"#,
        ] {
            assert_eq!(extract(metadata.as_bytes()), None, "{metadata}");
        }
    }
}
