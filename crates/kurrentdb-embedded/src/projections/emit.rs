//! Writing what a projection emits, as KurrentDB's `EmittedStream` writes it.
//!
//! - **Metadata**: each emitted event's metadata is the checkpoint tag of the
//!   event that caused it, then the handler's extra metadata, then
//!   `$causedBy` (the causing event's id) and `$correlationId` (from the
//!   causing event's metadata, when it is JSON): `CheckpointTag.WriteTo` and
//!   `EmittedStream.MetadataWithCausedByAndCorrelationId`. The tag is
//!   `{"$v":"<projection id>:<epoch>:<version>:4","$c":<commit>,"$p":<prepare>}`
//!   for `$all` sources and `{"$v":..,"$s":{"<stream>":<revision>}}` for
//!   stream sources.
//! - **A new stream's metadata**: before the first event of a stream that
//!   has none, the projection writes the stream's metadata: `$acl` with
//!   `$r` and `$mr` set to `$all` for `$` streams, an empty `$acl` for others
//!   (`EmittedStream.SubmitWriteMetadata`).
//! - **No duplicates**: a projection resumed from a checkpoint meets events it
//!   had already emitted for; like `EmittedStream`, which reads the last
//!   event of each stream it writes to and skips what is not after it, the
//!   writer remembers, per stream, the position of the last event written
//!   for, and skips emits caused at or before it.
//! - **Batches**: a batch's emits are grouped by stream (each stream's order
//!   kept) and written in one atomic append.

use std::collections::HashMap;

use bytes::Bytes;
use uuid::Uuid;

use crate::store::{Direction, ExpectedRevision, ProposedEvent, Store, StreamWrite, WriteError};

/// The projection subsystem version KurrentDB writes in `$v`.
const SUBSYSTEM_VERSION: u32 = 4;

/// Extra metadata properties of an emitted event, in order, kept as the JSON
/// they are written as (`,"name":value` each): one buffer, not two strings
/// per property. `$causedBy` is left out (the writer sets it from the causing
/// event, as KurrentDB's `EmittedStream` does).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ExtraMetadata {
    json: String,
    /// Whether a `$correlationId` was given (the writer then adds none).
    has_correlation: bool,
}

impl ExtraMetadata {
    pub(crate) fn new() -> Self {
        ExtraMetadata::default()
    }

    /// Adds a property with a raw JSON value.
    pub(crate) fn push_raw(&mut self, name: &str, json: &str) {
        if self.push_name(name) {
            self.json.push_str(json);
        }
    }

    /// Adds a string property.
    pub(crate) fn push_string(&mut self, name: &str, value: &str) {
        if self.push_name(name) {
            push_json_string(&mut self.json, value);
        }
    }

    /// Writes `,"name":` unless the name is `$causedBy`; whether it did.
    fn push_name(&mut self, name: &str) -> bool {
        if name == "$causedBy" {
            return false;
        }
        self.has_correlation |= name == "$correlationId";
        self.json.push(',');
        push_json_string(&mut self.json, name);
        self.json.push(':');
        true
    }
}

/// An event a projection emits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Emitted {
    pub stream: String,
    pub event_type: String,
    pub is_json: bool,
    pub data: String,
    pub extra: ExtraMetadata,
}

/// Which version of which projection writes: the `$v` of every tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProjectionVersion {
    pub id: i64,
    pub epoch: i64,
    pub version: i64,
}

impl ProjectionVersion {
    /// `"$v":"<id>:<epoch>:<version>:<subsystem version>",`, as a tag
    /// starts (worked out once per batch, not per event).
    fn json(self) -> String {
        let mut s = String::with_capacity(32);
        s.push_str("\"$v\":\"");
        push_int(&mut s, self.id);
        s.push(':');
        push_int(&mut s, self.epoch);
        s.push(':');
        push_int(&mut s, self.version);
        s.push(':');
        push_int(&mut s, SUBSYSTEM_VERSION);
        s.push_str("\",");
        s
    }
}

/// Appends `n` in decimal, without the formatting machinery (this runs for
/// every event a projection emits).
pub(crate) fn push_int(s: &mut String, n: impl itoa::Integer) {
    s.push_str(itoa::Buffer::new().format(n));
}

/// A position in a projection's source: where an event was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tag {
    /// A `$all` position (commit = prepare here).
    Position(u64),
    /// Revisions of the source streams.
    Streams(Vec<(String, u64)>),
}

impl Tag {
    /// The tag as JSON, with `$v` when a version is given, and `extra`.
    pub(crate) fn to_json(&self, version: Option<ProjectionVersion>, extra: &str) -> String {
        let mut s = String::with_capacity(96 + extra.len());
        let version = version.map(ProjectionVersion::json);
        self.write_open(&mut s, version.as_deref());
        s.push_str(extra);
        s.push('}');
        s
    }

    /// Writes the tag's JSON to `s` without its closing brace (so that more
    /// properties can follow), starting with `version` (see
    /// [`ProjectionVersion::json`]) when given.
    fn write_open(&self, s: &mut String, version: Option<&str>) {
        s.push('{');
        if let Some(v) = version {
            s.push_str(v);
        }
        match self {
            Tag::Position(p) => {
                s.push_str("\"$c\":");
                push_int(s, *p);
                s.push_str(",\"$p\":");
                push_int(s, *p);
            }
            Tag::Streams(streams) => {
                s.push_str("\"$s\":{");
                for (i, (stream, revision)) in streams.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    push_json_string(s, stream);
                    s.push(':');
                    push_int(s, *revision);
                }
                s.push('}');
            }
        }
    }

    /// The tag as the statistics show a position: `C:<commit>/P:<prepare>`,
    /// or `<stream>: <revision>` (`CheckpointTag.ToString`).
    pub(crate) fn display(&self) -> String {
        match self {
            Tag::Position(p) => format!("C:{p}/P:{p}"),
            Tag::Streams(streams) => streams
                .iter()
                .map(|(s, r)| format!("{s}: {r}"))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// An emitted event ready to be written: what caused it, and where.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub emitted: Emitted,
    /// The log position of the causing event (for duplicate detection).
    pub caused_at: u64,
    pub tag: Tag,
    pub caused_by: Option<Uuid>,
    pub correlation_id: Option<String>,
}

/// Writes a projection's emitted events.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// Per stream written to: the position of the last causing event whose
    /// emit is in the stream (`None`: the stream has no event from us).
    last_caused: HashMap<String, Option<u64>>,
}

impl Writer {
    /// Forgets what was written (after a reset).
    pub(crate) fn clear(&mut self) {
        self.last_caused.clear();
    }

    /// The writes of `pending` (in order), skipping what was already
    /// written, grouped by stream for one atomic append (see
    /// [`Store::append_emitted`]), and the streams they write to.
    pub(crate) fn prepare(
        &mut self,
        store: &Store,
        version: ProjectionVersion,
        pending: impl Iterator<Item = Pending>,
    ) -> (Vec<StreamWrite>, Vec<String>) {
        // The streams in order of first emit, each with its events; the
        // map finds a stream's group (one lookup per event), and what the
        // writer knows of a stream is looked up once per batch.
        let mut groups: Vec<Group> = Vec::new();
        let mut by_stream: HashMap<String, usize> = HashMap::new();
        let version = version.json();
        for p in pending {
            let g = match by_stream.get(&p.emitted.stream) {
                Some(&g) => g,
                None => {
                    let stream = p.emitted.stream.clone();
                    let last = self.last_caused(store, &stream);
                    let new = last.is_none() && stream_is_new(store, &stream);
                    by_stream.insert(stream.clone(), groups.len());
                    groups.push(Group {
                        stream,
                        events: Vec::new(),
                        last,
                        new,
                    });
                    groups.len() - 1
                }
            };
            let group = &mut groups[g];
            if group.last.is_some_and(|l| p.caused_at <= l) {
                continue;
            }
            group.last = Some(p.caused_at);
            group.events.push(proposed(p, &version));
        }
        let mut writes = Vec::with_capacity(groups.len() * 2);
        let mut order = Vec::with_capacity(groups.len());
        for group in groups {
            if group.events.is_empty() {
                continue;
            }
            if let Some(known) = self.last_caused.get_mut(&group.stream) {
                *known = group.last;
            }
            if group.new {
                // The stream's metadata first, as its own write (it goes to
                // the metadata stream).
                writes.push(StreamWrite {
                    stream: Bytes::from(format!("$${}", group.stream)),
                    expected: ExpectedRevision::Any,
                    events: vec![new_stream_metadata(&group.stream)],
                });
            }
            writes.push(StreamWrite {
                stream: Bytes::from(group.stream.clone()),
                expected: ExpectedRevision::Any,
                events: group.events,
            });
            order.push(group.stream);
        }
        (writes, order)
    }

    /// The position of the last causing event of `stream`'s last event, read
    /// once per stream (from its `$c`, or for stream tags unknown: `None`).
    fn last_caused(&mut self, store: &Store, stream: &str) -> Option<u64> {
        if let Some(known) = self.last_caused.get(stream) {
            return *known;
        }
        let last = store
            .read_stream(stream.as_bytes(), None, Direction::Backwards, 1, false)
            .ok()
            .and_then(|batch| batch.events.into_iter().next())
            .and_then(|e| e.event)
            .and_then(|e| caused_position(&e.record.metadata()));
        self.last_caused.insert(stream.to_owned(), last);
        last
    }
}

/// Why emitted events could not be written, as the projection's fault
/// reason (KurrentDB's `EmittedStream` text for a deleted stream).
pub(crate) fn write_failed(error: &WriteError) -> String {
    match error {
        WriteError::StreamDeleted { stream } => format!(
            "Stream : {} is deleted. Cannot emit events to it",
            String::from_utf8_lossy(stream)
        ),
        e => format!("cannot write emitted events: {e:?}"),
    }
}

/// One stream's part of a batch of emits.
struct Group {
    stream: String,
    events: Vec<ProposedEvent>,
    /// The position of the last causing event written for, so far.
    last: Option<u64>,
    /// The stream has never been written: its metadata goes first.
    new: bool,
}

/// The `$c` of an emitted event's metadata.
fn caused_position(metadata: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(metadata).ok()?;
    value.get("$c")?.as_u64()
}

/// Whether `stream` has never been written.
fn stream_is_new(store: &Store, stream: &str) -> bool {
    let (current, tombstoned) = store.stream_state(stream.as_bytes());
    !tombstoned && current == crate::store::CurrentRevision::NoStream
}

/// The metadata a projection gives a stream it creates.
fn new_stream_metadata(stream: &str) -> ProposedEvent {
    let data = if stream.starts_with('$') {
        r#"{"$acl":{"$r":"$all","$mr":"$all"}}"#
    } else {
        r#"{"$acl":{}}"#
    };
    ProposedEvent {
        id: Uuid::new_v4(),
        event_type: "$metadata".to_owned(),
        is_json: true,
        data: Bytes::from_static(data.as_bytes()),
        metadata: Bytes::new(),
    }
}

/// The event to append for `p`: its metadata is the tag, the extra
/// properties, `$causedBy` and `$correlationId`, written into one buffer.
fn proposed(p: Pending, version: &str) -> ProposedEvent {
    let extra = &p.emitted.extra;
    let mut metadata = String::with_capacity(160 + extra.json.len());
    p.tag.write_open(&mut metadata, Some(version));
    metadata.push_str(&extra.json);
    if let Some(id) = p.caused_by {
        metadata.push_str(",\"$causedBy\":\"");
        metadata.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        metadata.push('"');
    }
    if let (false, Some(c)) = (extra.has_correlation, &p.correlation_id) {
        metadata.push_str(",\"$correlationId\":");
        push_json_string(&mut metadata, c);
    }
    metadata.push('}');
    ProposedEvent {
        id: Uuid::new_v4(),
        event_type: p.emitted.event_type,
        is_json: p.emitted.is_json,
        data: Bytes::from(p.emitted.data.into_bytes()),
        metadata: Bytes::from(metadata.into_bytes()),
    }
}

/// Appends `s` as a JSON string: as it is between quotes when nothing in it
/// needs escaping (stream names and ids, nearly always), else escaped by
/// serde_json.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::Value::String(s.to_owned()).to_string());
    }
}

/// The `$correlationId` of an event's metadata (JSON events only, as
/// KurrentDB reads it).
pub(crate) fn correlation_id(is_json: bool, metadata: &[u8]) -> Option<String> {
    if !is_json || !super::standard::contains(metadata, b"$correlationId") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(metadata).ok()?;
    value.get("$correlationId")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_written_as_kurrentdb_writes_them() {
        let v = ProjectionVersion {
            id: 3,
            epoch: -1,
            version: 1,
        };
        assert_eq!(
            Tag::Position(42).to_json(Some(v), ",\"$o\":\"a-1\""),
            r#"{"$v":"3:-1:1:4","$c":42,"$p":42,"$o":"a-1"}"#
        );
        assert_eq!(
            Tag::Streams(vec![("a-1".into(), 5)]).to_json(None, ""),
            r#"{"$s":{"a-1":5}}"#
        );
        assert_eq!(Tag::Position(7).display(), "C:7/P:7");
        assert_eq!(Tag::Streams(vec![("a".into(), 2)]).display(), "a: 2");
    }

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

    #[test]
    fn emitted_metadata_has_tag_extra_caused_by_and_correlation() {
        let mut extra = ExtraMetadata::new();
        extra.push_string("$o", "order-1");
        let id = Uuid::nil();
        let p = Pending {
            emitted: Emitted {
                stream: "$ce-order".into(),
                event_type: "$>".into(),
                is_json: false,
                data: "0@order-1".into(),
                extra,
            },
            caused_at: 10,
            tag: Tag::Position(10),
            caused_by: Some(id),
            correlation_id: Some("c-1".into()),
        };
        let v = ProjectionVersion {
            id: 3,
            epoch: -1,
            version: 1,
        };
        let e = proposed(p, &v.json());
        assert_eq!(
            std::str::from_utf8(&e.metadata).unwrap(),
            format!(
                r#"{{"$v":"3:-1:1:4","$c":10,"$p":10,"$o":"order-1","$causedBy":"{id}","$correlationId":"c-1"}}"#
            )
        );
    }
}
