//! Reading: a stream (honouring its metadata: `$tb`, `$maxCount`, `$maxAge`)
//! or `$all` (optionally filtered), in bounded batches taken under the read
//! lock, with links resolved when asked.
//!
//! # Filtered reads of `$all`
//!
//! Matching a filter is the one part of a read whose cost the client
//! chooses (see `store/filter.rs` for the bounds on a single match). A
//! filtered scan therefore never matches under the lock: it copies a chunk
//! of at most [`FILTER_CHUNK`] records out (reference-count increments),
//! releases the lock, and matches outside it, so writers wait for a copy,
//! never for a regex. And it stops after [`FILTER_SCAN_BUDGET`] of matching,
//! wherever it is, so that its caller (on the blocking pool: see
//! `subscriptions`) hands the CPU on between chunks.

use std::time::{Duration, Instant};

use crate::index::StreamEntry;
use crate::log::link::{Link, LinkCause, write_link_body};
use crate::log::{Body, Record};

use super::filter::Filter;
use super::secondary::SecondaryIndex;
use super::{State, Store};
use crate::ticks::now_ticks;

/// Why a stream could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadStreamError {
    /// The stream does not exist or is soft deleted (in-band "stream not found").
    NotFound,
    /// The stream was tombstoned.
    Deleted,
}

/// The last metadata event of a stream and the last `$settings` event, as
/// (log position, data): see [`Store::acl_sources`].
#[derive(Debug, Clone, Default)]
pub(crate) struct AclSources {
    pub(crate) metadata: Option<(u64, bytes::Bytes)>,
    pub(crate) settings: Option<(u64, bytes::Bytes)>,
}

/// Reading `$all` from a commit position that is not a record's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidPosition;

/// Read direction: oldest first, or newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Forwards,
    Backwards,
}

/// Where a read of `$all` starts in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogStart {
    /// The first record.
    Start,
    /// The head: after the last record.
    End,
    /// The record at this commit position (forwards: included).
    At(u64),
    /// After the record at this commit position.
    After(u64),
}

/// A record with its stream's name, as read.
#[derive(Debug, Clone)]
pub(crate) struct NamedRecord {
    pub(crate) record: Record,
    pub(crate) stream: bytes::Bytes,
}

/// One event as a read returns it: the event, and the link that led to it when
/// links are resolved.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedRecord {
    /// The event (`None` when `link` could not be resolved).
    pub(crate) event: Option<NamedRecord>,
    /// The link event, when the record read was a link and links are resolved.
    pub(crate) link: Option<NamedRecord>,
}

impl ResolvedRecord {
    /// The record that was read: the link if any, else the event. Its position
    /// is the event's position in the read.
    pub(crate) fn original(&self) -> &NamedRecord {
        self.link
            .as_ref()
            .or(self.event.as_ref())
            .expect("a resolved record has an event or a link")
    }
}

/// A batch read from a stream.
#[derive(Debug, Clone)]
pub(crate) struct StreamBatch {
    pub(crate) events: Vec<ResolvedRecord>,
    /// The revision to continue from (forwards: the next one; backwards: the one
    /// before the last returned, `None` when the start was reached).
    pub(crate) next: Option<u64>,
    /// The stream's last revision.
    pub(crate) last_revision: Option<u64>,
    /// The first readable revision (after `$tb`, `$maxCount`).
    pub(crate) first_revision: u64,
}

/// A batch read from `$all`.
#[derive(Debug, Clone)]
pub(crate) struct AllBatch {
    /// The events that passed the filter.
    pub(crate) events: Vec<ResolvedRecord>,
    /// The log index to continue from.
    pub(crate) next: usize,
    /// How many records were looked at.
    pub(crate) scanned: usize,
    /// The position of the last record looked at.
    pub(crate) last_scanned_position: Option<u64>,
    /// Whether the read reached the end (forwards) or the start (backwards).
    pub(crate) at_end: bool,
}

/// Records copied out of the log per lock acquisition by a filtered scan.
pub(super) const FILTER_CHUNK: usize = 256;
/// How long one filtered scan ([`Store::read_all`] with a filter) may spend
/// matching before it returns what it has.
pub(super) const FILTER_SCAN_BUDGET: Duration = Duration::from_millis(2);

impl Store {
    /// Counts `events` as read.
    fn count_read(&self, events: &[ResolvedRecord]) {
        use std::sync::atomic::Ordering::Relaxed;
        if events.is_empty() {
            return;
        }
        let bytes: u64 = events
            .iter()
            .map(|e| {
                let r = &e.original().record;
                (r.data_slice().len() + r.metadata_slice().len()) as u64
            })
            .sum();
        self.events_read.fetch_add(events.len() as u64, Relaxed);
        self.bytes_read.fetch_add(bytes, Relaxed);
    }

    /// Where the access rules of `stream` come from (see `security::authz`):
    /// the position and data of the last event of its metadata stream and of
    /// `$settings`, each `None` when there is none. One read lock, two index
    /// lookups and reference-count increments: the JSON is parsed (and
    /// cached by position) by the caller, outside the lock.
    pub(crate) fn acl_sources(&self, stream: &[u8]) -> AclSources {
        let st = self.state.read();
        let last = |entry: Option<&StreamEntry>| {
            let index = *entry?.revisions.last()?;
            let record = st.log.get(index as usize)?;
            Some((record.position, record.data()))
        };
        let meta = st
            .index
            .entry(stream)
            .and_then(|e| e.meta_stream)
            .map(|id| st.index.get(id));
        AclSources {
            metadata: last(meta),
            settings: last(st.index.entry(b"$settings")),
        }
    }

    /// Reads up to `max` events of a stream, starting at revision `from`
    /// (inclusive, in both directions; `None` means the start forwards and the
    /// end backwards), honouring the stream's metadata (`$tb`, `$maxCount`,
    /// `$maxAge`).
    pub(crate) fn read_stream(
        &self,
        stream: &[u8],
        from: Option<u64>,
        direction: Direction,
        max: usize,
        resolve_links: bool,
    ) -> Result<StreamBatch, ReadStreamError> {
        let now = now_ticks();
        let st = self.state.read();
        if st.is_tombstoned(stream) {
            return Err(ReadStreamError::Deleted);
        }
        let Some(entry) = st.index.entry(stream) else {
            return Err(ReadStreamError::NotFound);
        };
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
        drop(st);
        self.count_read(&events);
        Ok(StreamBatch {
            events,
            next,
            last_revision: Some(last),
            first_revision: first,
        })
    }

    /// Converts a `$all` starting point into a log cursor (the index of the
    /// first record a forwards read returns, or one past the last record a
    /// backwards read returns).
    pub(crate) fn all_cursor(&self, from: LogStart) -> Result<usize, InvalidPosition> {
        let st = self.state.read();
        let (position, after) = match from {
            LogStart::Start => return Ok(0),
            LogStart::End => return Ok(st.log.len()),
            LogStart::At(p) => (p, false),
            LogStart::After(p) => (p, true),
        };
        if !st.log.is_valid_position(position) {
            return Err(InvalidPosition);
        }
        Ok(match st.log.search(position) {
            Ok(i) if after => i + 1,
            Ok(i) | Err(i) => i,
        })
    }

    /// [`Store::all_cursor`] for a position that need not be a record's: the
    /// cursor of the first record at or after it (forwards from
    /// `LogStart::At`), or after it (`LogStart::After`).
    pub(crate) fn all_cursor_nearest(&self, from: LogStart) -> usize {
        let st = self.state.read();
        match from {
            LogStart::Start => 0,
            LogStart::End => st.log.len(),
            LogStart::At(p) => st.log.search(p).unwrap_or_else(|i| i),
            LogStart::After(p) => st.log.search(p).map_or_else(|i| i, |i| i + 1),
        }
    }

    /// Reads `$all` from log cursor `cursor` (forwards: records `cursor..`;
    /// backwards: records before `cursor`), returning at most `max` events that
    /// pass `filter` and looking at no more than `max_scan` records (and, when
    /// filtered, matching for no longer than [`FILTER_SCAN_BUDGET`]: see the
    /// module docs).
    pub(crate) fn read_all(
        &self,
        cursor: usize,
        direction: Direction,
        max: usize,
        max_scan: usize,
        filter: Option<&Filter>,
        resolve_links: bool,
    ) -> AllBatch {
        let batch = match filter {
            None => self.read_all_unfiltered(cursor, direction, max, max_scan, resolve_links),
            Some(Filter::Index(index)) => self.read_index(index, cursor, direction, max, max_scan),
            Some(f) => self.read_all_filtered(cursor, direction, max, max_scan, f, resolve_links),
        };
        self.count_read(&batch.events);
        batch
    }

    /// [`Store::read_all`] through a secondary index: only the index's
    /// entries are looked at (found by binary search, then walked), so the
    /// cost is that of the events returned, whatever the size of `$all`.
    /// Events come back unresolved, as KurrentDB's index reads return them
    /// (see `store/secondary.rs`).
    fn read_index(
        &self,
        index: &SecondaryIndex,
        cursor: usize,
        direction: Direction,
        max: usize,
        max_scan: usize,
    ) -> AllBatch {
        let st = self.state.read();
        let len = st.log.len();
        let entries = st.secondary.entries(index);
        let split = entries.partition_point(|&i| (i as usize) < cursor);
        let limit = max.min(max_scan);
        let mut events = Vec::with_capacity(limit.min(512));
        let mut scanned = 0;
        let mut last_scanned_position = None;
        let mut last = None;
        let candidates: Box<dyn Iterator<Item = &u32>> = match direction {
            Direction::Forwards => Box::new(entries[split..].iter()),
            Direction::Backwards => Box::new(entries[..split].iter().rev()),
        };
        for &idx in candidates {
            if events.len() >= limit || scanned >= max_scan {
                break;
            }
            let idx = idx as usize;
            scanned += 1;
            last = Some(idx);
            let rec = st.log.get(idx).expect("indexed records are in the log");
            last_scanned_position = Some(rec.position);
            // A scavenged record has left the log, so it leaves the index
            // too (counted as scanned, so that a run of them is bounded).
            if !st.scavenged.contains(idx) {
                events.push(st.resolve(rec, false));
            }
        }
        let (next, at_end) = match (direction, last) {
            (Direction::Forwards, Some(idx)) if scanned < entries.len() - split => (idx + 1, false),
            (Direction::Backwards, Some(idx)) if scanned < split => (idx, false),
            (Direction::Forwards, _) => (len, true),
            (Direction::Backwards, _) => (0, true),
        };
        AllBatch {
            events,
            next,
            scanned,
            last_scanned_position,
            at_end,
        }
    }

    fn read_all_unfiltered(
        &self,
        cursor: usize,
        direction: Direction,
        max: usize,
        max_scan: usize,
        resolve_links: bool,
    ) -> AllBatch {
        let st = self.state.read();
        let len = st.log.len();
        let limit = max.min(max_scan);
        let mut events = Vec::with_capacity(limit.min(512));
        let mut last_scanned_position = None;
        let mut i = cursor.min(len);
        let mut scanned = 0;
        // Scavenged records are passed over, and counted as scanned so that
        // a long run of them is bounded by `max_scan` too.
        while events.len() < limit && scanned < max_scan {
            let Some(idx) = step(&mut i, direction, len) else {
                break;
            };
            scanned += 1;
            let rec = st.log.get(idx).expect("index below len");
            last_scanned_position = Some(rec.position);
            if !st.scavenged.contains(idx) {
                events.push(st.resolve(rec, resolve_links));
            }
        }
        AllBatch {
            scanned,
            events,
            next: i,
            last_scanned_position,
            at_end: at_end(i, direction, len),
        }
    }

    fn read_all_filtered(
        &self,
        cursor: usize,
        direction: Direction,
        max: usize,
        max_scan: usize,
        filter: &Filter,
        resolve_links: bool,
    ) -> AllBatch {
        if max == 0 {
            return self.read_all_unfiltered(cursor, direction, 0, 0, false);
        }
        let started = Instant::now();
        let mut matched: Vec<NamedRecord> = Vec::new();
        let mut scanned = 0;
        let mut last_scanned_position = None;
        let mut i = cursor;
        let mut chunk = Vec::with_capacity(FILTER_CHUNK);
        let mut len;
        'scan: loop {
            // Copy a chunk out under the lock ...
            {
                let st = self.state.read();
                len = st.log.len();
                i = i.min(len);
                let room = FILTER_CHUNK.min(max_scan - scanned);
                let mut stepped = 0;
                while stepped < room {
                    let Some(idx) = step(&mut i, direction, len) else {
                        break;
                    };
                    stepped += 1;
                    if st.scavenged.contains(idx) {
                        // Passed over, counted as scanned (see above).
                        scanned += 1;
                    } else {
                        // A compact link is written out only if it matches.
                        let rec = st.log.get(idx).expect("index below len");
                        chunk.push(NamedRecord {
                            record: rec.clone(),
                            stream: st.index.name(rec.stream).clone(),
                        });
                    }
                }
                if stepped > 0 && chunk.is_empty() {
                    if scanned >= max_scan {
                        break;
                    }
                    continue;
                }
            }
            if chunk.is_empty() {
                break;
            }
            // ... and match it outside. Records after a stop are put back
            // (the cursor steps back over them).
            let mut rest = chunk.drain(..);
            for rec in rest.by_ref() {
                scanned += 1;
                last_scanned_position = Some(rec.record.position);
                if filter.matches(&rec.stream, &rec.record.event_type) {
                    matched.push(rec);
                }
                // The clock is read every 16 records: a cheap match costs
                // less than reading it.
                if matched.len() >= max
                    || (scanned % 16 == 0 && started.elapsed() >= FILTER_SCAN_BUDGET)
                {
                    let unread = rest.len();
                    i = match direction {
                        Direction::Forwards => i - unread,
                        Direction::Backwards => i + unread,
                    };
                    break 'scan;
                }
            }
            drop(rest);
            if scanned >= max_scan {
                break;
            }
        }
        let compact = |r: &NamedRecord| matches!(r.record.body, Body::Link(_));
        let events = if matched.iter().any(compact)
            || (resolve_links && matched.iter().any(|r| r.record.is_link()))
        {
            // Records never move in the log, so what a compact link points
            // to is still where it was.
            let st = self.state.read();
            matched
                .into_iter()
                .map(|r| st.resolve(&r.record, resolve_links))
                .collect()
        } else {
            matched
                .into_iter()
                .map(|r| ResolvedRecord {
                    event: Some(r),
                    link: None,
                })
                .collect()
        };
        AllBatch {
            events,
            next: i,
            scanned,
            last_scanned_position,
            at_end: at_end(i, direction, len),
        }
    }
}

/// The log index a scan at cursor `i` reads next (moving the cursor past
/// it), or `None` at the end (forwards) or the start (backwards).
fn step(i: &mut usize, direction: Direction, len: usize) -> Option<usize> {
    match direction {
        Direction::Forwards if *i < len => {
            *i += 1;
            Some(*i - 1)
        }
        Direction::Backwards if *i > 0 => {
            *i -= 1;
            Some(*i)
        }
        _ => None,
    }
}

/// Whether cursor `i` is at the end (forwards) or the start (backwards) of a
/// log of `len` records.
fn at_end(i: usize, direction: Direction, len: usize) -> bool {
    match direction {
        Direction::Forwards => i >= len,
        Direction::Backwards => i == 0,
    }
}

/// The first readable revision (`$tb`, `$maxCount`) and the oldest readable
/// creation time (`$maxAge`) of a stream.
pub(super) fn visible_range(entry: &StreamEntry, now: i64) -> (u64, i64) {
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
    /// A record with its stream's name, a compact link's body written out
    /// (so that what leaves the store always holds its bytes).
    fn named(&self, rec: &Record) -> NamedRecord {
        let mut record = rec.clone();
        if let Body::Link(link) = &rec.body {
            record.body = Body::Stored(self.link_body(link));
        }
        NamedRecord {
            record,
            stream: self.index.name(rec.stream).clone(),
        }
    }

    /// The body of a compact link, as the projection would have stored it
    /// (see [`Body`]). The event it links to keeps its position, revision,
    /// id and stream when scavenged (only its body goes), so a link's body
    /// never changes.
    fn link_body(&self, link: &Link) -> bytes::Bytes {
        let Some(source) = self.log.get(link.source as usize) else {
            return bytes::Bytes::new();
        };
        // The projections link only events of streams named in UTF-8.
        let name = String::from_utf8_lossy(self.index.name(source.stream));
        let mut out = Vec::with_capacity(link.len as usize);
        write_link_body(
            &mut out,
            &link.template,
            &LinkCause {
                revision: source.revision,
                stream: &name,
                position: source.position,
                id: source.id,
            },
        );
        out.into()
    }

    /// A record as read, resolving it when it is a link and links are resolved.
    pub(super) fn resolve(&self, rec: &Record, resolve_links: bool) -> ResolvedRecord {
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
        let (revision, entry) = match &link.body {
            Body::Link(compact) => {
                let source = self.log.get(compact.source as usize)?;
                (source.revision, self.index.get(source.stream))
            }
            Body::Stored(_) => {
                let text = std::str::from_utf8(&data).ok()?;
                let (n, stream) = text.split_once('@')?;
                let revision: u64 = n.trim().parse().ok()?;
                (revision, self.index.entry(stream.as_bytes())?)
            }
        };
        if entry.is_tombstoned() || entry.is_soft_deleted() {
            return None;
        }
        let (first, min_created) = visible_range(entry, now_ticks());
        if revision < first {
            return None;
        }
        let idx = *entry.revisions.get(revision as usize)?;
        if self.scavenged.contains(idx as usize) {
            return None;
        }
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
        if self.scavenged.contains(idx as usize) {
            return None;
        }
        let rec = self.log.get(idx as usize)?;
        if rec.created < min_created {
            return None;
        }
        Some(self.resolve(rec, resolve_links))
    }
}
