//! A standard projection's compact link: what the log stores of it
//! ([`Link`], [`LinkTemplate`]; see [`super::Body`]) and the text a read
//! writes it out as ([`write_link_body`]), the bytes the projection would
//! have stored.
//!
//! That text is the JSON projections write into emitted events' metadata:
//! its keys (`$c` and `$p` of a checkpoint tag, `$o`, `$causedBy`) and its
//! strings are spelled here once, for the links the store writes out and
//! the tags and metadata the projections write.

use std::sync::Arc;

use uuid::Uuid;

/// A standard projection's link to the event at log index `source`, with
/// the text its metadata takes from the projection ([`LinkTemplate`]).
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// The log index of the event linked to.
    pub(crate) source: u32,
    /// The length of the body written out (data and metadata), worked out
    /// when the link was emitted: it sizes the record in the log.
    pub(crate) len: u32,
    /// The projection's part of the metadata.
    pub(crate) template: Arc<LinkTemplate>,
}

/// The part of a compact link's metadata that comes from the projection
/// that wrote it, not from the event it links to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LinkTemplate {
    /// The projection's version as its tags start: `"$v":"<id>:<epoch>:<version>:4",`.
    pub(crate) version: Box<str>,
    /// Whether the metadata names the event's stream as `$o` (a
    /// `$by_category` link), after the tag.
    pub(crate) origin: bool,
}

/// How a `$all` tag's positions and an emitted event's `$causedBy` start,
/// as KurrentDB writes them (`CheckpointTag.WriteTo`,
/// `EmittedStream.MetadataWithCausedByAndCorrelationId`): one spelling for
/// the tag of each projection (`projections/tag.rs`) and compact links'
/// ([`write_link_body`], [`link_body_len`]).
pub(crate) const COMMIT_KEY: &str = "\"$c\":";
/// See [`COMMIT_KEY`].
pub(crate) const PREPARE_KEY: &str = ",\"$p\":";
/// See [`COMMIT_KEY`].
const CAUSED_BY_KEY: &str = ",\"$causedBy\":\"";

/// Appends `s` as a JSON string: as it is between quotes when nothing in it
/// needs escaping (stream names and ids, nearly always), else escaped by
/// serde_json.
pub(crate) fn push_json_string(out: &mut impl Text, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.put("\"");
        out.put(s);
        out.put("\"");
    } else {
        out.put(&serde_json::Value::String(s.to_owned()).to_string());
    }
}

/// The length of `s` as [`push_json_string`] writes it.
pub(crate) fn json_string_len(s: &str) -> usize {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        s.len() + 2
    } else {
        serde_json::Value::String(s.to_owned()).to_string().len()
    }
}

/// `,"$o":`, the key of a `$by_category` link's origin stream.
pub(crate) const ORIGIN_KEY: &str = ",\"$o\":";

/// The event a compact link points to (see [`super::Body`]).
pub(crate) struct LinkCause<'a> {
    pub(crate) revision: u64,
    pub(crate) stream: &'a str,
    pub(crate) position: u64,
    pub(crate) id: Uuid,
}

/// Writes the body of a standard projection's link to `cause`, the event
/// that caused it: `<revision>@<stream>`, then
/// `{<version><tag>[,"$o":<stream>]<$causedBy>}`: the bytes
/// the projections' `Emits::push` writes for that link (a test holds the two
/// to it). Returns the data's length.
pub(crate) fn write_link_body(
    out: &mut Vec<u8>,
    template: &LinkTemplate,
    cause: &LinkCause<'_>,
) -> usize {
    let start = out.len();
    out.extend_from_slice(itoa::Buffer::new().format(cause.revision).as_bytes());
    out.push(b'@');
    out.extend_from_slice(cause.stream.as_bytes());
    let data_len = out.len() - start;
    let mut digits = itoa::Buffer::new();
    let position = digits.format(cause.position).as_bytes();
    out.push(b'{');
    out.extend_from_slice(template.version.as_bytes());
    out.extend_from_slice(COMMIT_KEY.as_bytes());
    out.extend_from_slice(position);
    out.extend_from_slice(PREPARE_KEY.as_bytes());
    out.extend_from_slice(position);
    if template.origin {
        out.extend_from_slice(ORIGIN_KEY.as_bytes());
        push_json_string(out, cause.stream);
    }
    push_caused_by(out, cause.id);
    out.push(b'}');
    data_len
}

/// The lengths of the data and of the whole body [`write_link_body`]
/// writes for the event at `revision` of `stream`, at `position` (with an
/// id), without writing it.
pub(crate) fn link_body_len(
    template: &LinkTemplate,
    revision: u64,
    stream: &str,
    position: u64,
) -> (usize, usize) {
    let data = digits(revision) + 1 + stream.len();
    let origin = if template.origin {
        ORIGIN_KEY.len() + json_string_len(stream)
    } else {
        0
    };
    let tag = COMMIT_KEY.len() + PREPARE_KEY.len() + 2 * digits(position);
    let caused_by = CAUSED_BY_KEY.len() + 36 + 1;
    let metadata = 1 + template.version.len() + tag + origin + caused_by + 1;
    (data, data + metadata)
}

/// The number of decimal digits of `n`.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Where JSON is written: a `String`, or the bytes of emitted events'
/// bodies.
pub(crate) trait Text {
    /// Appends `s`.
    fn put(&mut self, s: &str);
}

impl Text for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Text for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

/// Appends `,"$causedBy":"<id>"`.
pub(crate) fn push_caused_by(out: &mut Vec<u8>, id: Uuid) {
    out.extend_from_slice(CAUSED_BY_KEY.as_bytes());
    out.extend_from_slice(
        id.hyphenated()
            .encode_lower(&mut Uuid::encode_buffer())
            .as_bytes(),
    );
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        for s in [
            "order-1",
            "",
            "a\"b",
            "back\\slash",
            "tab\t",
            "\u{1}",
            "é€",
            "\u{7f}",
        ] {
            let mut out = String::new();
            push_json_string(&mut out, s);
            assert_eq!(json_string_len(s), out.len(), "{s:?}");
            assert_eq!(
                out,
                serde_json::Value::String(s.to_owned()).to_string(),
                "{s:?}"
            );
        }
    }
}
