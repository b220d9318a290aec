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

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

use crate::store::{
    Direction, ExpectedRevision, METADATA_EVENT_TYPE, PreparedEvent, PreparedWrite, Store,
    WriteError,
};

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
    #[cfg_attr(not(feature = "javascript"), allow(dead_code))]
    pub(crate) fn push_raw(&mut self, name: &str, json: &str) {
        Extra {
            text: &mut self.json,
            has_correlation: &mut self.has_correlation,
        }
        .raw(name, json);
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

/// The data of an emitted event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Data<'a> {
    /// This text.
    Text(&'a str),
    /// A link's data, `<revision>@<stream>`.
    Link(u64, &'a str),
}

/// What caused emitted events, for their metadata and duplicate detection.
#[derive(Debug, Clone)]
pub(crate) struct Cause {
    /// The log position of the causing event.
    pub caused_at: u64,
    pub tag: Tag,
    pub caused_by: Option<Uuid>,
    pub correlation_id: Option<Arc<str>>,
}

/// One event of [`Emits`]: its stream name, data and extra metadata are
/// `text[start..stream]`, `text[stream..data]` and `text[data..end]`.
#[derive(Debug)]
struct Item {
    start: usize,
    stream: usize,
    data: usize,
    end: usize,
    event_type: Cow<'static, str>,
    is_json: bool,
    /// Whether the extra metadata has a `$correlationId`.
    has_correlation: bool,
    /// Its index in [`Emits::causes`].
    cause: usize,
}

/// The events a projection emits in a batch, until they are written: every
/// stream name, data and extra metadata in one text buffer, so that, once
/// the buffers have grown, emitting allocates nothing (the standard
/// projections emit for nearly every event).
#[derive(Debug, Default)]
pub(crate) struct Emits {
    text: String,
    items: Vec<Item>,
    causes: Vec<Cause>,
    /// The items before this one have their cause.
    caused: usize,
}

/// The extra metadata of an event being emitted (see [`Emits::push`]).
pub(crate) struct Extra<'a> {
    text: &'a mut String,
    has_correlation: &'a mut bool,
}

impl Extra<'_> {
    /// Adds a property with a raw JSON value.
    pub(crate) fn raw(&mut self, name: &str, json: &str) {
        if self.name(name) {
            self.text.push_str(json);
        }
    }

    /// Adds a string property.
    pub(crate) fn string(&mut self, name: &str, value: &str) {
        if self.name(name) {
            push_json_string(self.text, value);
        }
    }

    /// Writes `,"name":` unless the name is `$causedBy` (the writer sets it
    /// from the causing event, as KurrentDB's `EmittedStream` does);
    /// whether it did.
    fn name(&mut self, name: &str) -> bool {
        if name == "$causedBy" {
            return false;
        }
        *self.has_correlation |= name == "$correlationId";
        self.text.push(',');
        push_json_string(self.text, name);
        self.text.push(':');
        true
    }
}

impl Emits {
    /// Emits an event to the stream `stream[0]` followed by `stream[1]`;
    /// `extra` adds its extra metadata. Its cause is set by the next
    /// [`Emits::caused`].
    pub(crate) fn push(
        &mut self,
        event_type: impl Into<Cow<'static, str>>,
        is_json: bool,
        stream: [&str; 2],
        data: Data<'_>,
        extra: impl FnOnce(&mut Extra<'_>),
    ) {
        let start = self.text.len();
        self.text.push_str(stream[0]);
        self.text.push_str(stream[1]);
        let stream = self.text.len();
        match data {
            Data::Text(text) => self.text.push_str(text),
            Data::Link(revision, target) => {
                push_int(&mut self.text, revision);
                self.text.push('@');
                self.text.push_str(target);
            }
        }
        let data = self.text.len();
        let mut has_correlation = false;
        extra(&mut Extra {
            text: &mut self.text,
            has_correlation: &mut has_correlation,
        });
        self.items.push(Item {
            start,
            stream,
            data,
            end: self.text.len(),
            event_type: event_type.into(),
            is_json,
            has_correlation,
            cause: usize::MAX,
        });
    }

    /// Emits `e` (what a JavaScript handler returned).
    #[cfg_attr(not(feature = "javascript"), allow(dead_code))]
    pub(crate) fn push_emitted(&mut self, e: Emitted) {
        let Emitted {
            stream,
            event_type,
            is_json,
            data,
            extra,
        } = e;
        self.push(event_type, is_json, [&stream, ""], Data::Text(&data), |x| {
            x.text.push_str(&extra.json);
            *x.has_correlation = extra.has_correlation;
        });
    }

    /// How many events were emitted since the last [`Emits::caused`].
    pub(crate) fn uncaused(&self) -> usize {
        self.items.len() - self.caused
    }

    /// Sets the cause of the events emitted since the last call.
    pub(crate) fn caused(&mut self, cause: Cause) {
        if self.uncaused() == 0 {
            return;
        }
        let k = self.causes.len();
        for item in &mut self.items[self.caused..] {
            item.cause = k;
        }
        self.caused = self.items.len();
        self.causes.push(cause);
    }

    /// Whether nothing was emitted.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Forgets everything (keeping the buffers).
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.items.clear();
        self.causes.clear();
        self.caused = 0;
    }
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
                // Commit and prepare positions are one number here: it is
                // formatted once.
                let mut digits = itoa::Buffer::new();
                let p = digits.format(*p);
                s.push_str("\"$c\":");
                s.push_str(p);
                s.push_str(",\"$p\":");
                s.push_str(p);
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

/// Writes a projection's emitted events.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// Per stream written to: the position of the last causing event whose
    /// emit is in the stream (`None`: the stream has no event from us).
    last_caused: HashMap<String, Option<u64>>,
    /// The size of the last batch's bodies: the next batch's buffer starts
    /// with that much room (see [`Writer::prepare`]).
    bodies_hint: usize,
    ids: Ids,
}

/// The ids of the events a writer emits: random (version 4) ids, drawn from
/// two SplitMix64 generators seeded once from the system's random source
/// (one `Uuid::new_v4`). A standard projection emits an event for nearly
/// every event it reads, and a fresh system-random id each took about 3% of
/// their time. The ids only need to be unique (KurrentDB's are
/// `Guid.NewGuid()`); they are not secrets.
#[derive(Debug)]
struct Ids {
    high: u64,
    low: u64,
}

impl Default for Ids {
    fn default() -> Self {
        let seed = Uuid::new_v4().as_u128();
        Ids {
            high: (seed >> 64) as u64,
            low: seed as u64,
        }
    }
}

impl Ids {
    fn next(&mut self) -> Uuid {
        let bits =
            (u128::from(splitmix64(&mut self.high)) << 64) | u128::from(splitmix64(&mut self.low));
        uuid::Builder::from_random_bytes(bits.to_be_bytes()).into_uuid()
    }
}

/// One step of SplitMix64 (Steele, Lea and Flood, 2014).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One stream's part of a batch of emits.
struct Group<'a> {
    stream: &'a str,
    /// Each event's body (its range in the batch's bodies), data length,
    /// type and JSON flag.
    events: Vec<(Range<usize>, usize, Cow<'static, str>, bool)>,
    /// The position of the last causing event written for, so far.
    last: Option<u64>,
    /// The stream has never been written: its metadata goes first.
    new: bool,
}

impl Writer {
    /// Forgets what was written (after a reset).
    pub(crate) fn clear(&mut self) {
        self.last_caused.clear();
    }

    /// The writes of what `emits` holds (in order; it is emptied), skipping
    /// what was already written, grouped by stream for one atomic append
    /// (see [`Store::append_emitted`]), and the streams they write to.
    pub(crate) fn prepare(
        &mut self,
        store: &Store,
        version: ProjectionVersion,
        emits: &mut Emits,
    ) -> (Vec<PreparedWrite>, Vec<String>) {
        let Emits {
            text,
            items,
            causes,
            ..
        } = emits;
        // The streams in order of first emit, each with its events; the
        // map finds a stream's group (one lookup per event), and what the
        // writer knows of a stream is looked up once per batch.
        let mut groups: Vec<Group<'_>> = Vec::new();
        let mut by_stream: HashMap<&str, usize> = HashMap::new();
        let version = version.json();
        // The bodies are written into a buffer of their own, which the
        // records then share as it is: no copy of them. It starts with
        // the last batch's size (plus an eighth), so that it rarely grows,
        // and is cut to its length before it is shared, so that the records
        // pin no spare room.
        let mut bodies = String::with_capacity(self.bodies_hint + self.bodies_hint / 8);
        // The group of the previous event: a handler's consecutive emits
        // mostly go to one stream (a batch of one stream's events).
        let mut previous: Option<(&str, usize)> = None;
        for item in items.drain(..) {
            let stream = &text[item.start..item.stream];
            let known = match previous {
                Some((s, g)) if s == stream => Some(g),
                _ => by_stream.get(stream).copied(),
            };
            let g = match known {
                Some(g) => g,
                None => {
                    let last = match self.last_caused.get(stream) {
                        Some(&known) => known,
                        None => {
                            let last = last_caused(store, stream);
                            self.last_caused.insert(stream.to_owned(), last);
                            last
                        }
                    };
                    let new = last.is_none() && stream_is_new(store, stream);
                    by_stream.insert(stream, groups.len());
                    groups.push(Group {
                        stream,
                        events: Vec::new(),
                        last,
                        new,
                    });
                    groups.len() - 1
                }
            };
            previous = Some((stream, g));
            let group = &mut groups[g];
            // Every event's cause is set before a batch is written.
            debug_assert!(item.cause < causes.len(), "an emitted event without cause");
            let Some(cause) = causes.get(item.cause) else {
                continue;
            };
            if group.last.is_some_and(|l| cause.caused_at <= l) {
                continue;
            }
            group.last = Some(cause.caused_at);
            let from = bodies.len();
            bodies.push_str(&text[item.stream..item.data]);
            let data_len = bodies.len() - from;
            write_metadata(
                &mut bodies,
                cause,
                &version,
                &text[item.data..item.end],
                item.has_correlation,
            );
            group
                .events
                .push((from..bodies.len(), data_len, item.event_type, item.is_json));
        }
        self.bodies_hint = bodies.len();
        bodies.shrink_to_fit();
        let arena = Bytes::from(bodies.into_bytes());
        let mut writes = Vec::with_capacity(groups.len() * 2);
        let mut order = Vec::with_capacity(groups.len());
        for group in groups {
            if group.events.is_empty() {
                continue;
            }
            if let Some(known) = self.last_caused.get_mut(group.stream) {
                *known = group.last;
            }
            if group.new {
                // The stream's metadata first, as its own write (it goes to
                // the metadata stream).
                writes.push(PreparedWrite {
                    stream: Bytes::from(format!("$${}", group.stream)),
                    expected: ExpectedRevision::Any,
                    events: vec![new_stream_metadata(group.stream)],
                });
            }
            let events = group
                .events
                .into_iter()
                .map(|(body, data_len, event_type, is_json)| PreparedEvent {
                    id: self.ids.next(),
                    event_type,
                    is_json,
                    // A batch's bodies are far below 4 GiB.
                    data_len: data_len as u32,
                    body: arena.slice(body),
                })
                .collect();
            writes.push(PreparedWrite {
                stream: Bytes::copy_from_slice(group.stream.as_bytes()),
                expected: ExpectedRevision::Any,
                events,
            });
            order.push(group.stream.to_owned());
        }
        emits.clear();
        (writes, order)
    }
}

/// The position of the last causing event of `stream`'s last event (from
/// its `$c`; for stream tags unknown: `None`).
fn last_caused(store: &Store, stream: &str) -> Option<u64> {
    store
        .read_stream(stream.as_bytes(), None, Direction::Backwards, 1, false)
        .ok()
        .and_then(|batch| batch.events.into_iter().next())
        .and_then(|e| e.event)
        .and_then(|e| caused_position(e.record.metadata_slice()))
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
fn new_stream_metadata(stream: &str) -> PreparedEvent {
    let data = if stream.starts_with('$') {
        r#"{"$acl":{"$r":"$all","$mr":"$all"}}"#
    } else {
        r#"{"$acl":{}}"#
    };
    PreparedEvent {
        id: Uuid::new_v4(),
        event_type: Cow::Borrowed(METADATA_EVENT_TYPE),
        is_json: true,
        data_len: data.len() as u32,
        body: Bytes::from_static(data.as_bytes()),
    }
}

/// Writes an emitted event's metadata to `out`: the tag of its cause (with
/// `version`, see [`ProjectionVersion::json`]), its `extra` properties
/// (JSON, each with its leading comma), `$causedBy` and `$correlationId`.
fn write_metadata(
    out: &mut String,
    cause: &Cause,
    version: &str,
    extra: &str,
    has_correlation: bool,
) {
    cause.tag.write_open(out, Some(version));
    out.push_str(extra);
    if let Some(id) = cause.caused_by {
        out.push_str(",\"$causedBy\":\"");
        out.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        out.push('"');
    }
    if let (false, Some(c)) = (has_correlation, &cause.correlation_id) {
        out.push_str(",\"$correlationId\":");
        push_json_string(out, c);
    }
    out.push('}');
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
pub(crate) fn correlation_id(is_json: bool, metadata: &[u8]) -> Option<Arc<str>> {
    if !is_json || !super::standard::contains(metadata, b"$correlationId") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(metadata).ok()?;
    value.get("$correlationId")?.as_str().map(Arc::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emitted_ids_are_random_version_4_ids_none_repeated() {
        let (mut one, mut other) = (Ids::default(), Ids::default());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50_000 {
            for id in [one.next(), other.next()] {
                assert_eq!(id.get_version(), Some(uuid::Version::Random));
                assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
                assert!(seen.insert(id), "{id} repeated");
            }
        }
    }

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
    fn emitted_events_are_written_with_tag_extra_caused_by_and_correlation() {
        let store = Store::new(crate::store::StoreOptions::default());
        let mut emits = Emits::default();
        let id = Uuid::nil();
        let cause = |at: u64| Cause {
            caused_at: at,
            tag: Tag::Position(at),
            caused_by: Some(id),
            correlation_id: Some(Arc::from("c-1")),
        };
        emits.push(
            "$>",
            false,
            ["$ce-", "order"],
            Data::Link(3, "order-1"),
            |x| x.string("$o", "order-1"),
        );
        emits.push("E", true, ["out", ""], Data::Text("{}"), |x| {
            x.raw("$correlationId", "\"mine\"");
            x.raw("$causedBy", "\"ignored\"");
        });
        assert_eq!(emits.uncaused(), 2);
        emits.caused(cause(10));
        // At or before the last cause written to a stream: skipped.
        emits.push(
            "$>",
            false,
            ["$ce-", "order"],
            Data::Link(4, "order-1"),
            |_| {},
        );
        emits.caused(cause(10));
        let v = ProjectionVersion {
            id: 3,
            epoch: -1,
            version: 1,
        };
        let (writes, order) = Writer::default().prepare(&store, v, &mut emits);
        assert!(emits.is_empty(), "prepare empties the buffer");
        assert_eq!(order, ["$ce-order", "out"]);
        let streams: Vec<&[u8]> = writes.iter().map(|w| w.stream.as_ref()).collect();
        assert_eq!(
            streams,
            [b"$$$ce-order".as_slice(), b"$ce-order", b"$$out", b"out"],
            "a new stream's metadata goes first"
        );
        let body = |e: &PreparedEvent| {
            let (data, metadata) = e.body.split_at(e.data_len as usize);
            (
                String::from_utf8(data.to_vec()).unwrap(),
                String::from_utf8(metadata.to_vec()).unwrap(),
            )
        };
        assert_eq!(writes[1].events.len(), 1);
        assert_eq!(
            body(&writes[1].events[0]),
            (
                "3@order-1".to_owned(),
                format!(
                    r#"{{"$v":"3:-1:1:4","$c":10,"$p":10,"$o":"order-1","$causedBy":"{id}","$correlationId":"c-1"}}"#
                )
            )
        );
        assert_eq!(writes[1].events[0].event_type, "$>");
        assert_eq!(
            body(&writes[3].events[0]),
            (
                "{}".to_owned(),
                format!(
                    r#"{{"$v":"3:-1:1:4","$c":10,"$p":10,"$correlationId":"mine","$causedBy":"{id}"}}"#
                )
            ),
            "the handler's $correlationId is kept, its $causedBy is not"
        );
        assert!(writes[3].events[0].is_json);
    }
}
