//! The JSON text projections write into emitted events' metadata: strings,
//! and the parts of it an event read from `$all` gives every projection
//! that emits for it ([`CauseText`]).

use uuid::Uuid;

/// How a `$all` tag's positions and an emitted event's `$causedBy` start,
/// as KurrentDB writes them (`CheckpointTag.WriteTo`,
/// `EmittedStream.MetadataWithCausedByAndCorrelationId`): one spelling for
/// the tag of each projection ([`super::tag::Tag`]) and the one shared by a
/// thread's projections ([`CauseText`]).
pub(super) const COMMIT_KEY: &str = "\"$c\":";
/// See [`COMMIT_KEY`].
pub(super) const PREPARE_KEY: &str = ",\"$p\":";
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
pub(super) fn push_caused_by(out: &mut Vec<u8>, id: Uuid) {
    out.extend_from_slice(CAUSED_BY_KEY.as_bytes());
    out.extend_from_slice(
        id.hyphenated()
            .encode_lower(&mut Uuid::encode_buffer())
            .as_bytes(),
    );
    out.push(b'"');
}

/// What the metadata of every event emitted for one event read from `$all`
/// shares, whichever projection emits it: its tag without the version,
/// `"$c":<position>,"$p":<position>`, and `,"$causedBy":"<id>"`. A thread's
/// projections read the same events, and the standard projections link
/// nearly every one twice: formatted once per event, each projection that
/// emits copies it ([`super::emit::Emits::begin`]). Inline: no allocation
/// per event.
#[derive(Debug, Clone)]
pub(crate) struct CauseText {
    /// Room for both parts at their longest: 5 + 20 + 6 + 20 and
    /// 14 + 36 + 1 bytes.
    bytes: [u8; 104],
    tag_len: usize,
    len: usize,
}

impl CauseText {
    /// The text of the event at `position` (commit = prepare) with id
    /// `caused_by`.
    pub(crate) fn new(position: u64, caused_by: Option<Uuid>) -> CauseText {
        let mut text = CauseText {
            bytes: [0; 104],
            tag_len: 0,
            len: 0,
        };
        let mut digits = itoa::Buffer::new();
        let p = digits.format(position).as_bytes();
        text.put(COMMIT_KEY.as_bytes());
        text.put(p);
        text.put(PREPARE_KEY.as_bytes());
        text.put(p);
        text.tag_len = text.len;
        if let Some(id) = caused_by {
            text.put(CAUSED_BY_KEY.as_bytes());
            let at = text.len;
            // The id is written in place (36 bytes).
            id.hyphenated().encode_lower(&mut text.bytes[at..at + 36]);
            text.len += 36;
            text.put(b"\"");
        }
        text
    }

    /// Appends `part` (the sizes above always fit).
    fn put(&mut self, part: &[u8]) {
        self.bytes[self.len..self.len + part.len()].copy_from_slice(part);
        self.len += part.len();
    }

    /// `"$c":<position>,"$p":<position>`.
    pub(super) fn tag(&self) -> &[u8] {
        &self.bytes[..self.tag_len]
    }

    /// `,"$causedBy":"<id>"`, or nothing.
    pub(super) fn caused_by(&self) -> &[u8] {
        &self.bytes[self.tag_len..self.len]
    }
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
            assert_eq!(
                out,
                serde_json::Value::String(s.to_owned()).to_string(),
                "{s:?}"
            );
        }
    }
}
