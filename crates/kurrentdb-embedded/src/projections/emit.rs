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
//! - **Bodies written once**: the cause of what a handler emits is set
//!   before it runs ([`Emits::begin`]), so each emitted event's data and
//!   metadata are written as they will be stored as it is emitted, into
//!   64 KiB segments that the stored records then share (no copy).
//! - **Compact links**: a `$by_category` or `$by_event_type` link to the
//!   plain event being processed is all derived from that event, so it is
//!   stored as the event's log index ([`Emits::push_link`],
//!   [`crate::log::Body::Link`]) and written out when read.
//! - **Batches**: a batch's emits are grouped by stream (each stream's order
//!   kept); the thread writes them in appends of at most 500 events
//!   (see [`super::thread`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

use super::event::{SourceEvent, mentions_correlation_id};
use super::tag::{ProjectionVersion, Tag};

use crate::log::link::{
    Link, LinkTemplate, ORIGIN_KEY, link_body_len, push_caused_by, push_json_string,
};
use crate::log::{Body, LINK_EVENT_TYPE};

use crate::store::{
    Direction, ExpectedRevision, METADATA_EVENT_TYPE, PreparedEvent, PreparedWrite, Store,
    WriteError,
};

/// Extra metadata properties of an emitted event, in order, kept as the JSON
/// they are written as (`,"name":value` each): one buffer, not two strings
/// per property. `$causedBy` is left out (the writer sets it from the causing
/// event, as KurrentDB's `EmittedStream` does).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ExtraMetadata {
    json: Vec<u8>,
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
    pub(crate) stream: String,
    pub(crate) event_type: String,
    pub(crate) is_json: bool,
    pub(crate) data: String,
    pub(crate) extra: ExtraMetadata,
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
    pub(crate) caused_at: u64,
    pub(crate) tag: Tag,
    pub(crate) caused_by: Option<Uuid>,
    pub(crate) correlation_id: Option<Arc<str>>,
}

/// One event of [`Emits`]: its stream name is `names[name]`, its body
/// (data, then metadata) `body` in the batch's body segment `segment`.
#[derive(Debug)]
struct Item {
    name: Range<usize>,
    segment: usize,
    body: Range<usize>,
    data_len: usize,
    event_type: Cow<'static, str>,
    is_json: bool,
    /// The log position of its cause.
    caused_at: u64,
    /// A compact link: stored as this, its body written out when read
    /// (`body` is empty).
    link: Option<Link>,
}

/// The events a projection emits in a batch, until they are written. Each
/// event's body is written once, as it will be stored: its data, then its
/// metadata (the tag of its cause, its extra properties, `$causedBy`,
/// `$correlationId`); the cause is set before the handler runs
/// ([`Emits::begin`]), so nothing is copied again when the batch is written
/// (the standard projections emit for nearly every event). The bodies are
/// written into segments of [`SEGMENT`] bytes, which the written records
/// share ([`Writer::prepare`]): a full segment is set aside and a new one
/// started, so a batch's bodies are never copied to grow their buffer
/// (a buffer grown by doubling copied them, a batch of any size).
#[derive(Debug, Default)]
pub(crate) struct Emits {
    names: String,
    /// The segment being written, and the full ones before it.
    bodies: Vec<u8>,
    sealed: Vec<Vec<u8>>,
    items: Vec<Item>,
    /// `"$v":"...",` of the projection writing (see
    /// [`ProjectionVersion::json`]).
    version: String,
    /// The cause of what is pushed next.
    cause: Option<Cause>,
    /// The metadata every event of the cause starts with (its tag, open),
    /// and ends with (`$causedBy`; `$correlationId`), once worked out:
    /// written when the cause's first event is pushed.
    head: Vec<u8>,
    caused_by: Vec<u8>,
    correlation: Vec<u8>,
    formatted: bool,
    /// The log index of the current cause, when it is the event read there
    /// (not a link's target): what its compact links point to.
    source: Option<u32>,
    /// The projection's part of its compact links' metadata: without and
    /// with `$o` (see [`Emits::push_link`]).
    templates: Option<[Arc<LinkTemplate>; 2]>,
}

/// The size of a segment of emitted events' bodies (see [`Emits`]).
const SEGMENT: usize = 64 * 1024;
/// A segment with less room left than this is set aside before an event is
/// written (a link's body takes about 200 bytes; a larger event grows the
/// segment). The room left in a full segment, pinned by the records that
/// share it, is at most this.
const SEGMENT_SLACK: usize = 1024;

/// The extra metadata of an event being emitted (see [`Emits::push`]).
pub(crate) struct Extra<'a> {
    text: &'a mut Vec<u8>,
    has_correlation: &'a mut bool,
}

impl Extra<'_> {
    /// Adds a property with a raw JSON value.
    pub(crate) fn raw(&mut self, name: &str, json: &str) {
        if self.name(name) {
            self.text.extend_from_slice(json.as_bytes());
        }
    }

    /// Adds a property of the standard projections' (`key` is its
    /// `,"name":` as written: a name that needs no escaping, neither
    /// `$causedBy` nor `$correlationId`) with a raw JSON value, without the
    /// checks a handler's names get.
    pub(crate) fn known_raw(&mut self, key: &'static str, json: &str) {
        debug_assert!(key.starts_with(",\"$") && key.ends_with("\":"));
        debug_assert!(!key.contains("$causedBy") && !key.contains("$correlationId"));
        self.text.extend_from_slice(key.as_bytes());
        self.text.extend_from_slice(json.as_bytes());
    }

    /// Adds a string property of the standard projections' (see
    /// [`Extra::known_raw`]).
    pub(crate) fn known_string(&mut self, key: &'static str, value: &str) {
        debug_assert!(key.starts_with(",\"$") && key.ends_with("\":"));
        self.text.extend_from_slice(key.as_bytes());
        push_json_string(self.text, value);
    }

    /// Writes `,"name":` unless the name is `$causedBy` (the writer sets it
    /// from the causing event, as KurrentDB's `EmittedStream` does);
    /// whether it did.
    fn name(&mut self, name: &str) -> bool {
        if name == "$causedBy" {
            return false;
        }
        *self.has_correlation |= name == "$correlationId";
        self.text.push(b',');
        push_json_string(self.text, name);
        self.text.push(b':');
        true
    }
}

impl Emits {
    /// Emits of the projection `version` writes.
    pub(crate) fn new(version: ProjectionVersion) -> Emits {
        let version = version.json();
        let template = |origin| {
            Arc::new(LinkTemplate {
                version: version.as_str().into(),
                origin,
            })
        };
        Emits {
            templates: Some([template(false), template(true)]),
            version,
            ..Emits::default()
        }
    }

    /// Sets the cause of the events pushed from now on (the event the
    /// handler is about to process, or a state change's).
    pub(crate) fn begin(&mut self, cause: Cause) {
        self.cause = Some(cause);
        self.formatted = false;
        self.source = None;
    }

    /// Notes that the current cause is the event at log index `index` (not
    /// a link's target read there), so that links to it can be compact.
    pub(crate) fn source_at(&mut self, index: u32) {
        self.source = Some(index);
    }

    /// Links `ev` into the stream `stream[0]` followed by `stream[1]`
    /// (`origin`: with `$o`, its stream, in the metadata): a `$by_category`
    /// or `$by_event_type` link to the event itself, `<revision>@<stream>`.
    ///
    /// When `ev` is the current cause, read from `$all` at the index
    /// [`Emits::source_at`] gave, and has no correlation id, every byte of
    /// the link comes from the event and the projection's version: it is
    /// written as a compact link ([`Body::Link`]), which the store writes
    /// out as [`Emits::push`] would have written it (a test holds the two
    /// to it). Otherwise it is pushed as any event is.
    pub(crate) fn push_link(&mut self, stream: [&str; 2], ev: &SourceEvent<'_>, origin: bool) {
        let record = &ev.record.record;
        let compact = match (&self.cause, self.source, &self.templates) {
            (Some(cause), Some(source), Some(templates))
                if cause.correlation_id.is_none()
                    && cause.tag == Tag::Position(record.position)
                    && cause.caused_at == record.position
                    && cause.caused_by == Some(record.id)
                    && ev.revision == record.revision =>
            {
                let template = &templates[usize::from(origin)];
                let (data_len, len) =
                    link_body_len(template, ev.revision, ev.stream, record.position);
                u32::try_from(len).ok().map(|len| {
                    let link = Link {
                        source,
                        len,
                        template: template.clone(),
                    };
                    (cause.caused_at, data_len, link)
                })
            }
            _ => None,
        };
        let Some((caused_at, data_len, link)) = compact else {
            let data = Data::Link(ev.revision, ev.stream);
            self.push(LINK_EVENT_TYPE, false, stream, data, |x| {
                if origin {
                    x.known_string(ORIGIN_KEY, ev.stream);
                }
            });
            return;
        };
        let name_start = self.names.len();
        self.names.push_str(stream[0]);
        self.names.push_str(stream[1]);
        self.items.push(Item {
            name: name_start..self.names.len(),
            segment: self.sealed.len(),
            body: 0..0,
            data_len,
            event_type: Cow::Borrowed(LINK_EVENT_TYPE),
            is_json: false,
            caused_at,
            link: Some(link),
        });
    }

    /// Ends the current cause (the handler is done with its event); it is
    /// handed back.
    pub(crate) fn end(&mut self) -> Option<Cause> {
        self.cause.take()
    }

    /// Works out the metadata the current cause's events share.
    fn format_cause(&mut self) -> Option<u64> {
        let cause = self.cause.as_ref()?;
        if !self.formatted {
            self.head.clear();
            cause.tag.write_open(&mut self.head, Some(&self.version));
            self.caused_by.clear();
            if let Some(id) = cause.caused_by {
                push_caused_by(&mut self.caused_by, id);
            }
            self.correlation.clear();
            if let Some(c) = &cause.correlation_id {
                self.correlation.extend_from_slice(b",\"$correlationId\":");
                push_json_string(&mut self.correlation, c);
            }
            self.formatted = true;
        }
        Some(cause.caused_at)
    }

    /// Emits an event to the stream `stream[0]` followed by `stream[1]`;
    /// `extra` adds its extra metadata. Its cause is the one last set by
    /// [`Emits::begin`] (an event pushed before any is dropped).
    pub(crate) fn push(
        &mut self,
        event_type: impl Into<Cow<'static, str>>,
        is_json: bool,
        stream: [&str; 2],
        data: Data<'_>,
        extra: impl FnOnce(&mut Extra<'_>),
    ) {
        // Every event is pushed after its cause is set.
        debug_assert!(self.cause.is_some(), "an emitted event without cause");
        let Some(caused_at) = self.format_cause() else {
            return;
        };
        let name_start = self.names.len();
        self.names.push_str(stream[0]);
        self.names.push_str(stream[1]);
        if self.bodies.capacity() - self.bodies.len() < SEGMENT_SLACK {
            let full = std::mem::replace(&mut self.bodies, Vec::with_capacity(SEGMENT));
            if !full.is_empty() {
                self.sealed.push(full);
            }
        }
        let start = self.bodies.len();
        match data {
            Data::Text(text) => self.bodies.extend_from_slice(text.as_bytes()),
            Data::Link(revision, target) => {
                let mut digits = itoa::Buffer::new();
                self.bodies
                    .extend_from_slice(digits.format(revision).as_bytes());
                self.bodies.push(b'@');
                self.bodies.extend_from_slice(target.as_bytes());
            }
        }
        let data_len = self.bodies.len() - start;
        self.bodies.extend_from_slice(&self.head);
        let mut has_correlation = false;
        extra(&mut Extra {
            text: &mut self.bodies,
            has_correlation: &mut has_correlation,
        });
        self.bodies.extend_from_slice(&self.caused_by);
        if !has_correlation && !self.correlation.is_empty() {
            self.bodies.extend_from_slice(&self.correlation);
        }
        self.bodies.push(b'}');
        self.items.push(Item {
            name: name_start..self.names.len(),
            segment: self.sealed.len(),
            body: start..self.bodies.len(),
            data_len,
            event_type: event_type.into(),
            is_json,
            caused_at,
            link: None,
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
            x.text.extend_from_slice(&extra.json);
            *x.has_correlation = extra.has_correlation;
        });
    }

    /// How many events were emitted.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was emitted.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Forgets everything (keeping the buffers).
    pub(crate) fn clear(&mut self) {
        self.names.clear();
        self.bodies.clear();
        self.sealed.clear();
        self.items.clear();
        self.cause = None;
        self.source = None;
    }
}

/// Writes a projection's emitted events.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// Per stream written to: the position of the last causing event whose
    /// emit is in the stream (`None`: the stream has no event from us).
    last_caused: HashMap<String, Option<u64>>,
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
struct StreamPart<'a> {
    stream: &'a str,
    events: Vec<PreparedEvent>,
    /// How many events it gets.
    count: usize,
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
    /// what was already written, grouped by stream (see
    /// [`Store::append_emitted`]), and the streams they write to.
    pub(crate) fn prepare(
        &mut self,
        store: &Store,
        emits: &mut Emits,
    ) -> (Vec<PreparedWrite>, Vec<String>) {
        // The bodies were written as they are stored: the records share
        // their segments as they are, the last one cut to its length so
        // that it pins no spare room (the next batch starts a new one).
        let mut last = std::mem::take(&mut emits.bodies);
        last.shrink_to_fit();
        let arenas: Vec<Bytes> = emits
            .sealed
            .drain(..)
            .chain(std::iter::once(last))
            .map(Bytes::from)
            .collect();
        let Emits { names, items, .. } = emits;
        // The streams in order of first emit, each with its events; the
        // map finds a stream's part (one lookup per event), and what the
        // writer knows of a stream is looked up once per batch. A first
        // pass finds each event's part (`None`: written already) and
        // counts them, so that each part's events are allocated once.
        let mut parts: Vec<StreamPart<'_>> = Vec::new();
        let mut by_stream: HashMap<&str, usize> = HashMap::new();
        let mut placed: Vec<Option<usize>> = Vec::with_capacity(items.len());
        // The part of the previous event: a handler's consecutive emits
        // mostly go to one stream (a batch of one stream's events).
        let mut previous: Option<(&str, usize)> = None;
        for item in items.iter() {
            let stream = &names[item.name.clone()];
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
                    by_stream.insert(stream, parts.len());
                    parts.push(StreamPart {
                        stream,
                        events: Vec::new(),
                        count: 0,
                        last,
                        new,
                    });
                    parts.len() - 1
                }
            };
            previous = Some((stream, g));
            let part = &mut parts[g];
            if part.last.is_some_and(|l| item.caused_at <= l) {
                placed.push(None);
                continue;
            }
            part.last = Some(item.caused_at);
            part.count += 1;
            placed.push(Some(g));
        }
        for part in &mut parts {
            part.events.reserve_exact(part.count);
        }
        for (item, g) in items.drain(..).zip(placed) {
            let Some(g) = g else { continue };
            parts[g].events.push(PreparedEvent {
                id: self.ids.next(),
                event_type: item.event_type,
                is_json: item.is_json,
                // One event's data is far below 4 GiB (a JavaScript
                // handler's heap is limited to 64 MiB).
                data_len: item.data_len as u32,
                body: match item.link {
                    Some(link) => Body::Link(link),
                    None => Body::Stored(arenas[item.segment].slice(item.body)),
                },
            });
        }
        let mut writes = Vec::with_capacity(parts.len() * 2);
        let mut order = Vec::with_capacity(parts.len());
        for part in parts {
            if part.events.is_empty() {
                continue;
            }
            if let Some(known) = self.last_caused.get_mut(part.stream) {
                *known = part.last;
            }
            if part.new {
                // The stream's metadata first, as its own write (it goes to
                // the metadata stream).
                writes.push(PreparedWrite {
                    stream: Bytes::from(format!("$${}", part.stream)),
                    expected: ExpectedRevision::Any,
                    events: vec![new_stream_metadata(part.stream)],
                });
            }
            writes.push(PreparedWrite {
                stream: Bytes::copy_from_slice(part.stream.as_bytes()),
                expected: ExpectedRevision::Any,
                events: part.events,
            });
            order.push(part.stream.to_owned());
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
        body: Bytes::from_static(data.as_bytes()).into(),
    }
}

/// The `$correlationId` of an event's metadata (JSON events only, as
/// KurrentDB reads it).
pub(crate) fn correlation_id(is_json: bool, metadata: &[u8]) -> Option<Arc<str>> {
    if !is_json || !mentions_correlation_id(metadata) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(metadata).ok()?;
    value.get("$correlationId")?.as_str().map(Arc::from)
}

#[cfg(test)]
#[path = "emit_tests.rs"]
mod tests;
