//! The database: the [`Log`] and the [`Index`] behind one lock, and the domain
//! operations every gRPC service is built from (append, delete, read a stream,
//! read `$all`). Like mini-redis's `db` module, nothing here knows about gRPC.
//!
//! # Concurrency
//!
//! One `parking_lot::RwLock` guards log and index together, so an append (one
//! stream or several, v2) is atomic and a reader sees whole appends only. The lock
//! is never held across an `.await`, and only for in-memory work: payloads are
//! copied into their final buffer *before* the write lock is taken, and readers
//! clone out a bounded batch of records (reference-count increments) and release
//! it. After each append the new log length is published on a `watch` channel:
//! that is how subscriptions learn about new events without writers ever waiting
//! for a subscriber.
//!
//! # Other services
//!
//! A persistent-subscriptions service can be built on the same calls: read `$all`
//! or a stream with [`Store::read_all`] / [`Store::read_stream`] from its
//! checkpoint, wait with [`Store::watch_head`], and write its checkpoints and
//! parked events with [`Store::append`] to system streams such as
//! `$persistentsubscription-<group>::<stream>-parked`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use parking_lot::RwLock;
use tokio::sync::watch;
use uuid::Uuid;

use crate::index::{
    Index, META_PREFIX, SOFT_DELETED_TB, StreamEntry, StreamId, StreamMetadata, TOMBSTONE_REVISION,
};
use crate::log::{Log, Record, RecordParts};

/// The event type of stream metadata events.
pub const METADATA_EVENT_TYPE: &str = "$metadata";
/// The event type of a tombstone record.
pub const TOMBSTONE_EVENT_TYPE: &str = "$streamDeleted";

/// How many of the most recent event ids are remembered for the idempotency
/// check of appends with expected revision "any" (the real server keeps a cache
/// of recent commits for the same purpose).
const RECENT_IDS: usize = 100_000;

/// What an append or delete expects of the stream's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedRevision {
    /// No check.
    Any,
    /// The stream must not exist (or must be soft deleted).
    NoStream,
    /// The stream must exist.
    StreamExists,
    /// The stream's last event must have this revision.
    Exact(u64),
}

impl ExpectedRevision {
    /// The v1/v2 numbering: -2 any, -1 no stream, -4 stream exists, else exact.
    pub fn number(self) -> i64 {
        match self {
            ExpectedRevision::Any => -2,
            ExpectedRevision::NoStream => -1,
            ExpectedRevision::StreamExists => -4,
            ExpectedRevision::Exact(n) => n as i64,
        }
    }

    /// The inverse of [`ExpectedRevision::number`]; `None` for other negatives.
    pub fn from_number(n: i64) -> Option<ExpectedRevision> {
        match n {
            -2 => Some(ExpectedRevision::Any),
            -1 => Some(ExpectedRevision::NoStream),
            -4 => Some(ExpectedRevision::StreamExists),
            n if n >= 0 => Some(ExpectedRevision::Exact(n as u64)),
            _ => None,
        }
    }
}

/// A stream's current state: no event, or the revision of its last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurrentRevision {
    /// The stream has no event.
    NoStream,
    /// The revision of the stream's last event.
    Revision(u64),
}

impl CurrentRevision {
    /// -1 for no stream, else the revision.
    pub fn number(self) -> i64 {
        match self {
            CurrentRevision::NoStream => -1,
            CurrentRevision::Revision(n) => n as i64,
        }
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct ProposedEvent {
    /// The event id (retries with the same ids are idempotent).
    pub id: Uuid,
    /// The event type.
    pub event_type: String,
    /// Whether the data is JSON.
    pub is_json: bool,
    /// The data.
    pub data: Bytes,
    /// The user metadata.
    pub metadata: Bytes,
}

impl ProposedEvent {
    /// The size the append-size limit counts: data, metadata and event type.
    pub fn size(&self) -> usize {
        self.data.len() + self.metadata.len() + self.event_type.len()
    }
}

/// The events to append to one stream, with their expected revision.
#[derive(Debug, Clone)]
pub struct StreamWrite {
    /// The stream name.
    pub stream: Bytes,
    /// The expected revision.
    pub expected: ExpectedRevision,
    /// The events, in order.
    pub events: Vec<ProposedEvent>,
}

/// A precondition of a v2 `AppendRecords` call.
#[derive(Debug, Clone)]
pub struct StateCheck {
    /// The stream.
    pub stream: Bytes,
    /// The state it must be in.
    pub expected: ExpectedRevision,
}

/// A failed [`StateCheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Index of the check in the request.
    pub check_index: usize,
    /// The stream.
    pub stream: Bytes,
    /// What the check expected.
    pub expected: ExpectedRevision,
    /// What the stream's state was.
    pub actual: CurrentRevision,
}

/// The outcome of one stream's write.
#[derive(Debug, Clone)]
pub struct WriteResult {
    /// The stream.
    pub stream: Bytes,
    /// The stream's revision after the write.
    pub current: CurrentRevision,
    /// The position of the stream's last written event (`None` when nothing was
    /// written: an empty append).
    pub position: Option<u64>,
}

/// The outcome of an append.
#[derive(Debug, Clone)]
pub struct AppendOutcome {
    /// One result per [`StreamWrite`], in order.
    pub writes: Vec<WriteResult>,
    /// The position of the last record written (or, for an idempotent retry,
    /// of the last original event); `None` when nothing was written.
    pub position: Option<u64>,
}

/// Why an append or delete was refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// The expected revision did not hold.
    WrongExpectedVersion {
        /// The stream.
        stream: Bytes,
        /// What was expected.
        expected: ExpectedRevision,
        /// What the stream's state was.
        current: CurrentRevision,
    },
    /// The stream was tombstoned (or, for expected "stream exists", is soft
    /// deleted, as the real server reports it).
    StreamDeleted {
        /// The stream.
        stream: Bytes,
    },
    /// One or more v2 consistency checks failed.
    ConsistencyViolations(Vec<Violation>),
}

/// Why a stream could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStreamError {
    /// The stream does not exist or is soft deleted (in-band "stream not found").
    NotFound,
    /// The stream was tombstoned.
    Deleted,
}

/// Reading `$all` from a commit position that is not a record's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPosition;

/// Read direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first.
    Forwards,
    /// Newest first.
    Backwards,
}

/// A record with its stream's name, as read.
#[derive(Debug, Clone)]
pub struct NamedRecord {
    /// The record.
    pub record: Record,
    /// Its stream's name.
    pub stream: Bytes,
}

/// One event as a read returns it: the event, and the link that led to it when
/// links are resolved.
#[derive(Debug, Clone)]
pub struct ResolvedRecord {
    /// The event (`None` when `link` could not be resolved).
    pub event: Option<NamedRecord>,
    /// The link event, when the record read was a link and links are resolved.
    pub link: Option<NamedRecord>,
}

impl ResolvedRecord {
    /// The record that was read: the link if any, else the event. Its position
    /// is the event's position in the read.
    pub fn original(&self) -> &NamedRecord {
        self.link
            .as_ref()
            .or(self.event.as_ref())
            .expect("a resolved record has an event or a link")
    }
}

/// What a `$all` filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterTarget {
    /// The stream name.
    StreamName,
    /// The event type.
    EventType,
}

/// A server-side `$all` filter.
#[derive(Debug, Clone)]
pub struct Filter {
    /// What is matched.
    pub target: FilterTarget,
    /// How.
    pub matcher: Matcher,
}

/// A filter's expression.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A regular expression, searched anywhere in the name (like .NET
    /// `Regex.IsMatch`).
    Regex(regex::Regex),
    /// Any of these prefixes.
    Prefixes(Vec<String>),
    /// A whole-pattern negative lookahead, `^(?!(...))`, searched like
    /// [`Matcher::Regex`]: matches when the inner pattern does not match at the
    /// start. Clients send their exclude filters in this form (.NET regexes
    /// have lookaheads, the `regex` crate has none); see [`Matcher::regex`].
    NotRegex(regex::Regex),
}

impl Matcher {
    /// Compiles a filter's regular expression. The `^(?!(...))` form the
    /// clients build for exclude filters (for instance the default
    /// `^(?!(\$.+$|PersistentConfig\d+$|Result$))`) becomes
    /// [`Matcher::NotRegex`] of `^(?:...)`; any other pattern is compiled as is.
    pub fn regex(pattern: &str) -> Result<Matcher, regex::Error> {
        if let Some(inner) = pattern
            .strip_prefix("^(?!")
            .and_then(|rest| rest.strip_suffix(')'))
            && closes_nothing(inner)
            && let Ok(re) = regex::Regex::new(&format!("^(?:{inner})"))
        {
            return Ok(Matcher::NotRegex(re));
        }
        regex::Regex::new(pattern).map(Matcher::Regex)
    }
}

/// Whether a pattern never closes a group it did not open (so that, in
/// `^(?!X)`, the final `)` is the one closing the lookahead). Escapes and
/// character classes are skipped.
fn closes_nothing(pattern: &str) -> bool {
    let mut depth = 0usize;
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

impl Filter {
    /// Whether a record passes the filter.
    pub fn matches(&self, stream: &[u8], event_type: &str) -> bool {
        let subject = match self.target {
            FilterTarget::StreamName => match std::str::from_utf8(stream) {
                Ok(s) => s,
                Err(_) => return false,
            },
            FilterTarget::EventType => event_type,
        };
        match &self.matcher {
            Matcher::Regex(re) => re.is_match(subject),
            Matcher::Prefixes(prefixes) => prefixes.iter().any(|p| subject.starts_with(p.as_str())),
            Matcher::NotRegex(re) => !re.is_match(subject),
        }
    }
}

/// A batch read from a stream.
#[derive(Debug, Clone)]
pub struct StreamBatch {
    /// The events.
    pub events: Vec<ResolvedRecord>,
    /// The revision to continue from (forwards: the next one; backwards: the one
    /// before the last returned, `None` when the start was reached).
    pub next: Option<u64>,
    /// The stream's last revision.
    pub last_revision: Option<u64>,
    /// The first readable revision (after `$tb`, `$maxCount`).
    pub first_revision: u64,
}

/// A batch read from `$all`.
#[derive(Debug, Clone)]
pub struct AllBatch {
    /// The events that passed the filter.
    pub events: Vec<ResolvedRecord>,
    /// The log index to continue from.
    pub next: usize,
    /// How many records were looked at.
    pub scanned: usize,
    /// The position of the last record looked at.
    pub last_scanned_position: Option<u64>,
    /// Whether the read reached the end (forwards) or the start (backwards).
    pub at_end: bool,
}

/// The store's limits.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The maximum size of one v1 append (and of a v2 append session), in bytes.
    pub max_append_size: u32,
    /// The maximum size of one v2 record, in bytes.
    pub max_record_size: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_append_size: 1024 * 1024,
            max_record_size: 1024 * 1024,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    log: Log,
    index: Index,
    types: HashMap<Box<str>, Arc<str>>,
    recent_ids: HashMap<Uuid, u32>,
    recent_cursor: usize,
}

/// The in-memory database shared by all services.
#[derive(Debug)]
pub struct Store {
    state: RwLock<State>,
    head: watch::Sender<usize>,
    options: StoreOptions,
}

/// Now, in .NET ticks (100 ns) since the Unix epoch.
pub fn now_ticks() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_nanos() / 100) as i64
}

/// What an expected-revision check decided.
enum Decision {
    Write,
    Idempotent { last_revision: u64, position: u64 },
}

impl Store {
    /// An empty store.
    pub fn new(options: StoreOptions) -> Store {
        Store {
            state: RwLock::new(State::default()),
            head: watch::Sender::new(0),
            options,
        }
    }

    /// The store's limits.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// A receiver of the log length, updated after every write.
    pub fn watch_head(&self) -> watch::Receiver<usize> {
        self.head.subscribe()
    }

    /// How many records the log holds.
    pub fn log_len(&self) -> usize {
        self.state.read().log.len()
    }

    /// The position after the last record, and the last record's position.
    pub fn head_position(&self) -> (u64, Option<u64>) {
        let st = self.state.read();
        (st.log.head_position(), st.log.last().map(|r| r.position))
    }

    /// Appends atomically: every write and check is verified, then all events are
    /// written, or none. `checks` are v2 consistency checks: all are evaluated
    /// and every violation is reported.
    ///
    /// Idempotence (a single write only, as v1 `Append` and `BatchAppend`): when
    /// the events already follow the expected revision in the stream with the
    /// same ids (or, for "any" and "stream exists", when the first id is among the
    /// recent events of the stream and the rest follow it), nothing is written and
    /// the original revision and position are returned.
    pub fn append(
        &self,
        writes: Vec<StreamWrite>,
        checks: &[StateCheck],
    ) -> Result<AppendOutcome, WriteError> {
        // Copy every payload into one buffer for the whole append, outside the
        // lock: one allocation per append, and stored events do not pin the
        // (larger) request buffers they were decoded from.
        let total: usize = writes
            .iter()
            .flat_map(|w| &w.events)
            .map(|e| e.data.len() + e.metadata.len())
            .sum();
        let mut arena = BytesMut::with_capacity(total);
        let bodies: Vec<Vec<Bytes>> = writes
            .iter()
            .map(|w| {
                w.events
                    .iter()
                    .map(|e| {
                        arena.extend_from_slice(&e.data);
                        arena.extend_from_slice(&e.metadata);
                        arena.split().freeze()
                    })
                    .collect()
            })
            .collect();
        let created = now_ticks();

        let mut st = self.state.write();
        // Tombstoned streams first: the real server reports them before
        // revision conflicts.
        for w in &writes {
            if st.is_deleted_for_write(&w.stream) {
                return Err(WriteError::StreamDeleted {
                    stream: w.stream.clone(),
                });
            }
        }
        if !checks.is_empty() {
            let violations: Vec<Violation> = checks
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let entry = st.index.entry(&c.stream);
                    let ok = matches!(check_expected(entry, c.expected, &st.index), Ok(()));
                    (!ok).then(|| Violation {
                        check_index: i,
                        stream: c.stream.clone(),
                        expected: c.expected,
                        actual: current_of(entry),
                    })
                })
                .collect();
            if !violations.is_empty() {
                return Err(WriteError::ConsistencyViolations(violations));
            }
        }
        let mut decisions = Vec::with_capacity(writes.len());
        for w in &writes {
            let entry = st.index.entry(&w.stream);
            let decision = if writes.len() == 1 && checks.is_empty() {
                st.idempotent(entry, w)
            } else {
                None
            };
            let decision = match decision {
                Some(d) => d,
                None => match check_expected(entry, w.expected, &st.index) {
                    Ok(()) => Decision::Write,
                    Err(CheckError::Deleted) => {
                        return Err(WriteError::StreamDeleted {
                            stream: w.stream.clone(),
                        });
                    }
                    Err(CheckError::Wrong) => {
                        return Err(WriteError::WrongExpectedVersion {
                            stream: w.stream.clone(),
                            expected: w.expected,
                            current: current_of(entry),
                        });
                    }
                },
            };
            decisions.push(decision);
        }

        // Everything holds: write.
        let mut results = Vec::with_capacity(writes.len());
        let mut last_position = None;
        for ((w, decision), bodies) in writes.into_iter().zip(decisions).zip(bodies) {
            if let Decision::Idempotent {
                last_revision,
                position,
            } = decision
            {
                last_position = Some(position);
                results.push(WriteResult {
                    stream: w.stream,
                    current: CurrentRevision::Revision(last_revision),
                    position: Some(position),
                });
                continue;
            }
            let id = st.index.get_or_create(&w.stream);
            if !w.events.is_empty() && st.index.get(id).is_soft_deleted() {
                // Recreating a soft-deleted stream: the old events stay hidden
                // behind a `$tb` at the first new revision.
                let next = st.index.get(id).revisions.len() as u64;
                let meta = st
                    .index
                    .get(id)
                    .metadata
                    .as_deref()
                    .cloned()
                    .unwrap_or_default();
                let json = Bytes::from(meta.with_truncate_before(next));
                st.write_metadata(id, json, created);
            }
            let mut position = None;
            for (e, body) in w.events.into_iter().zip(bodies) {
                let event_type = st.intern(&e.event_type);
                let revision = st.index.get(id).revisions.len() as u64;
                let (_, p) = st.push(
                    id,
                    RecordParts {
                        revision,
                        created,
                        id: e.id,
                        stream: id,
                        is_json: e.is_json,
                        data_len: e.data.len() as u32,
                        event_type,
                        body,
                    },
                );
                position = Some(p);
            }
            if position.is_some() {
                last_position = position;
                st.refresh_metadata(id);
            }
            results.push(WriteResult {
                current: current_of(Some(st.index.get(id))),
                stream: w.stream,
                position,
            });
        }
        let len = st.log.len();
        drop(st);
        self.head.send_replace(len);
        Ok(AppendOutcome {
            writes: results,
            position: last_position,
        })
    }

    /// Deletes a stream: soft (`hard == false`: writes metadata with `$tb` set to
    /// `i64::MAX`) or hard (a tombstone). Returns the position of the record
    /// written.
    pub fn delete(
        &self,
        stream: &Bytes,
        expected: ExpectedRevision,
        hard: bool,
    ) -> Result<u64, WriteError> {
        let created = now_ticks();
        let mut st = self.state.write();
        if st.is_deleted_for_write(stream) {
            return Err(WriteError::StreamDeleted {
                stream: stream.clone(),
            });
        }
        let entry = st.index.entry(stream);
        match check_expected(entry, expected, &st.index) {
            Ok(()) => {}
            Err(CheckError::Deleted) => {
                return Err(WriteError::StreamDeleted {
                    stream: stream.clone(),
                });
            }
            Err(CheckError::Wrong) => {
                return Err(WriteError::WrongExpectedVersion {
                    stream: stream.clone(),
                    expected,
                    current: current_of(entry),
                });
            }
        }
        let id = st.index.get_or_create(stream);
        let position = if hard {
            let event_type = st.intern(TOMBSTONE_EVENT_TYPE);
            let (index, p) = st.push(
                id,
                RecordParts {
                    revision: TOMBSTONE_REVISION,
                    created,
                    id: Uuid::new_v4(),
                    stream: id,
                    is_json: false,
                    data_len: 0,
                    event_type,
                    body: Bytes::new(),
                },
            );
            st.index.get_mut(id).tombstone = Some(index as u32);
            p
        } else {
            let meta = st
                .index
                .get(id)
                .metadata
                .as_deref()
                .cloned()
                .unwrap_or_default();
            let json = Bytes::from(meta.with_truncate_before(SOFT_DELETED_TB));
            st.write_metadata(id, json, created)
        };
        let len = st.log.len();
        drop(st);
        self.head.send_replace(len);
        Ok(position)
    }

    /// The state of a stream: its last revision, whether it is tombstoned.
    pub fn stream_state(&self, stream: &[u8]) -> (CurrentRevision, bool) {
        let st = self.state.read();
        let entry = st.index.entry(stream);
        (
            current_of(entry),
            entry.is_some_and(StreamEntry::is_tombstoned),
        )
    }

    /// Reads up to `max` events of a stream, starting at revision `from`
    /// (inclusive, in both directions; `None` means the start forwards and the
    /// end backwards), honouring the stream's metadata (`$tb`, `$maxCount`,
    /// `$maxAge`).
    pub fn read_stream(
        &self,
        stream: &[u8],
        from: Option<u64>,
        direction: Direction,
        max: usize,
        resolve_links: bool,
    ) -> Result<StreamBatch, ReadStreamError> {
        let now = now_ticks();
        let st = self.state.read();
        let Some(entry) = st.index.entry(stream) else {
            return Err(ReadStreamError::NotFound);
        };
        if entry.is_tombstoned() {
            return Err(ReadStreamError::Deleted);
        }
        if entry.is_soft_deleted() {
            return Err(ReadStreamError::NotFound);
        }
        let Some(last) = entry.last_revision() else {
            return Err(ReadStreamError::NotFound);
        };
        let (first, min_created) = visible_range(entry, now);
        let mut events = Vec::with_capacity(max.min(512));
        let next;
        match direction {
            Direction::Forwards => {
                let mut r = from.unwrap_or(0).max(first);
                while r <= last && events.len() < max {
                    if let Some(e) = st.resolved(entry, r, min_created, resolve_links) {
                        events.push(e);
                    }
                    r += 1;
                }
                next = Some(r);
            }
            Direction::Backwards => {
                let mut r = Some(from.unwrap_or(last).min(last));
                while let Some(rev) = r.filter(|&x| x >= first) {
                    if events.len() >= max {
                        break;
                    }
                    if let Some(e) = st.resolved(entry, rev, min_created, resolve_links) {
                        events.push(e);
                    }
                    r = rev.checked_sub(1);
                }
                next = r.filter(|&x| x >= first);
            }
        }
        Ok(StreamBatch {
            events,
            next,
            last_revision: Some(last),
            first_revision: first,
        })
    }

    /// Converts a `$all` starting point into a log cursor. Forwards from a
    /// position includes the record there; backwards excludes it; for a
    /// subscription (`exclusive`) forwards excludes it too.
    pub fn all_cursor(
        &self,
        position: Option<u64>,
        from_end: bool,
        exclusive: bool,
    ) -> Result<usize, InvalidPosition> {
        let st = self.state.read();
        if from_end {
            return Ok(st.log.len());
        }
        let Some(p) = position else {
            return Ok(0);
        };
        if !st.log.is_valid_position(p) {
            return Err(InvalidPosition);
        }
        Ok(match st.log.search(p) {
            Ok(i) if exclusive => i + 1,
            Ok(i) | Err(i) => i,
        })
    }

    /// Reads `$all` from log cursor `cursor` (forwards: records `cursor..`;
    /// backwards: records before `cursor`), returning at most `max` events that
    /// pass `filter` and looking at no more than `max_scan` records.
    pub fn read_all(
        &self,
        cursor: usize,
        direction: Direction,
        max: usize,
        max_scan: usize,
        filter: Option<&Filter>,
        resolve_links: bool,
    ) -> AllBatch {
        let st = self.state.read();
        let len = st.log.len();
        let mut events = Vec::with_capacity(max.min(512));
        let mut scanned = 0;
        let mut last_scanned_position = None;
        let mut i = cursor.min(len);
        loop {
            if events.len() >= max || scanned >= max_scan {
                break;
            }
            let idx = match direction {
                Direction::Forwards if i < len => i,
                Direction::Backwards if i > 0 => i - 1,
                _ => break,
            };
            let rec = st.log.get(idx).expect("index below len");
            scanned += 1;
            last_scanned_position = Some(rec.position);
            i = match direction {
                Direction::Forwards => i + 1,
                Direction::Backwards => i - 1,
            };
            let name = st.index.name(rec.stream);
            if let Some(f) = filter
                && !f.matches(name, &rec.event_type)
            {
                continue;
            }
            events.push(st.resolve(rec, resolve_links));
        }
        let at_end = match direction {
            Direction::Forwards => i >= len,
            Direction::Backwards => i == 0,
        };
        AllBatch {
            events,
            next: i,
            scanned,
            last_scanned_position,
            at_end,
        }
    }
}

enum CheckError {
    Wrong,
    Deleted,
}

/// The expected-revision rules of the real server (its commit check):
/// - any: always;
/// - no stream: the stream has no event, or is soft deleted;
/// - stream exists: the stream has an event, or its metadata stream has one;
///   a soft-deleted stream fails as deleted;
/// - exact: the last event has that revision.
fn check_expected(
    entry: Option<&StreamEntry>,
    expected: ExpectedRevision,
    index: &Index,
) -> Result<(), CheckError> {
    let last = entry.and_then(StreamEntry::last_revision);
    let soft = entry.is_some_and(StreamEntry::is_soft_deleted);
    match expected {
        ExpectedRevision::Any => Ok(()),
        ExpectedRevision::NoStream if last.is_none() || soft => Ok(()),
        ExpectedRevision::StreamExists if soft => Err(CheckError::Deleted),
        ExpectedRevision::StreamExists => {
            let has_meta = entry
                .and_then(|e| e.meta_stream)
                .is_some_and(|m| !index.get(m).revisions.is_empty());
            if last.is_some() || has_meta {
                Ok(())
            } else {
                Err(CheckError::Wrong)
            }
        }
        ExpectedRevision::Exact(n) if last == Some(n) => Ok(()),
        _ => Err(CheckError::Wrong),
    }
}

fn current_of(entry: Option<&StreamEntry>) -> CurrentRevision {
    entry
        .and_then(StreamEntry::last_revision)
        .map_or(CurrentRevision::NoStream, CurrentRevision::Revision)
}

/// The first readable revision (`$tb`, `$maxCount`) and the oldest readable
/// creation time (`$maxAge`) of a stream.
fn visible_range(entry: &StreamEntry, now: i64) -> (u64, i64) {
    let Some(meta) = entry.metadata.as_deref() else {
        return (0, i64::MIN);
    };
    let len = entry.revisions.len() as u64;
    let mut first = meta.truncate_before.unwrap_or(0);
    if let Some(max_count) = meta.max_count {
        first = first.max(len.saturating_sub(max_count));
    }
    let min_created = meta.max_age.map_or(i64::MIN, |age| {
        now - (age.as_nanos() / 100).min(i64::MAX as u128) as i64
    });
    (first, min_created)
}

impl State {
    fn intern(&mut self, event_type: &str) -> Arc<str> {
        if let Some(t) = self.types.get(event_type) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(event_type);
        self.types.insert(Box::from(event_type), t.clone());
        t
    }

    /// Pushes a record to the log and the stream's revisions; returns its log
    /// index and position.
    fn push(&mut self, id: StreamId, parts: RecordParts) -> (usize, u64) {
        let revision = parts.revision;
        let event_id = parts.id;
        let name_len = self.index.name(id).len();
        let index = self.log.push(parts, name_len);
        if revision != TOMBSTONE_REVISION {
            self.index.get_mut(id).revisions.push(index as u32);
        }
        self.recent_ids.insert(event_id, index as u32);
        while self.recent_cursor + RECENT_IDS < self.log.len() {
            let old = self
                .log
                .get(self.recent_cursor)
                .expect("cursor below len")
                .id;
            if self.recent_ids.get(&old) == Some(&(self.recent_cursor as u32)) {
                self.recent_ids.remove(&old);
            }
            self.recent_cursor += 1;
        }
        let position = self.log.get(index).expect("just pushed").position;
        (index, position)
    }

    /// Writes a `$metadata` event for stream `id` to `$$<stream>`.
    fn write_metadata(&mut self, id: StreamId, json: Bytes, created: i64) -> u64 {
        let mut meta_name = BytesMut::from(META_PREFIX.as_bytes());
        meta_name.extend_from_slice(self.index.name(id));
        let meta_id = self.index.get_or_create(&meta_name.freeze());
        let event_type = self.intern(METADATA_EVENT_TYPE);
        let revision = self.index.get(meta_id).revisions.len() as u64;
        let (_, position) = self.push(
            meta_id,
            RecordParts {
                revision,
                created,
                id: Uuid::new_v4(),
                stream: meta_id,
                is_json: true,
                data_len: json.len() as u32,
                event_type,
                body: json,
            },
        );
        self.refresh_metadata(meta_id);
        position
    }

    /// After writing to a metadata stream, re-parses its base stream's metadata.
    fn refresh_metadata(&mut self, id: StreamId) {
        let Some(base) = self.index.get(id).meta_of else {
            return;
        };
        let Some(&last) = self.index.get(id).revisions.last() else {
            return;
        };
        let data = self.log.get(last as usize).expect("indexed").data();
        let meta = StreamMetadata::parse(&data);
        self.index.get_mut(base).metadata = Some(Box::new(meta));
    }

    /// Whether writing to `stream` must fail because it (or, for a metadata
    /// stream, its base stream) was tombstoned.
    fn is_deleted_for_write(&self, stream: &[u8]) -> bool {
        let Some(entry) = self.index.entry(stream) else {
            // A metadata stream written for the first time: its base stream
            // decides.
            return stream
                .strip_prefix(META_PREFIX.as_bytes())
                .and_then(|base| self.index.entry(base))
                .is_some_and(StreamEntry::is_tombstoned);
        };
        entry.is_tombstoned()
            || entry
                .meta_of
                .is_some_and(|b| self.index.get(b).is_tombstoned())
    }

    fn idempotent(&self, entry: Option<&StreamEntry>, w: &StreamWrite) -> Option<Decision> {
        let entry = entry?;
        let first = w.events.first()?;
        let start = match w.expected {
            ExpectedRevision::Exact(n) => n + 1,
            ExpectedRevision::NoStream => 0,
            ExpectedRevision::Any | ExpectedRevision::StreamExists => {
                let &idx = self.recent_ids.get(&first.id)?;
                let rec = self.log.get(idx as usize)?;
                if rec.stream as usize >= self.index.len()
                    || self.index.get(rec.stream).name != entry.name
                {
                    return None;
                }
                rec.revision
            }
        };
        let end = start + w.events.len() as u64 - 1;
        if end >= entry.revisions.len() as u64 {
            return None;
        }
        for (k, e) in w.events.iter().enumerate() {
            let idx = entry.revisions[(start + k as u64) as usize];
            if self.log.get(idx as usize)?.id != e.id {
                return None;
            }
        }
        let position = self
            .log
            .get(entry.revisions[end as usize] as usize)?
            .position;
        Some(Decision::Idempotent {
            last_revision: end,
            position,
        })
    }

    fn named(&self, rec: &Record) -> NamedRecord {
        NamedRecord {
            record: rec.clone(),
            stream: self.index.name(rec.stream).clone(),
        }
    }

    /// A record as read, resolving it when it is a link and links are resolved.
    fn resolve(&self, rec: &Record, resolve_links: bool) -> ResolvedRecord {
        if !(resolve_links && rec.is_link()) {
            return ResolvedRecord {
                event: Some(self.named(rec)),
                link: None,
            };
        }
        ResolvedRecord {
            event: self.link_target(rec).map(|t| self.named(t)),
            link: Some(self.named(rec)),
        }
    }

    /// The event a link (`$>`, data `N@stream`) points to, if it is readable.
    fn link_target(&self, link: &Record) -> Option<&Record> {
        let data = link.data();
        let text = std::str::from_utf8(&data).ok()?;
        let (n, stream) = text.split_once('@')?;
        let revision: u64 = n.trim().parse().ok()?;
        let entry = self.index.entry(stream.as_bytes())?;
        if entry.is_tombstoned() || entry.is_soft_deleted() {
            return None;
        }
        let (first, min_created) = visible_range(entry, now_ticks());
        if revision < first {
            return None;
        }
        let idx = *entry.revisions.get(revision as usize)?;
        let target = self.log.get(idx as usize)?;
        (target.created >= min_created).then_some(target)
    }

    /// The event at `revision` of a stream, if readable, resolved.
    fn resolved(
        &self,
        entry: &StreamEntry,
        revision: u64,
        min_created: i64,
        resolve_links: bool,
    ) -> Option<ResolvedRecord> {
        let idx = *entry.revisions.get(revision as usize)?;
        let rec = self.log.get(idx as usize)?;
        if rec.created < min_created {
            return None;
        }
        Some(self.resolve(rec, resolve_links))
    }
}
