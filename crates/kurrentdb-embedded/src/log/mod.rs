//! The append-only, in-memory transaction log: every event ever written, in
//! commit order, each with its position in the log (`$all`).
//!
//! # Positions
//!
//! A real KurrentDB node addresses its log by byte offset: an event's commit and
//! prepare positions are the offset of its record in the transaction file. So
//! positions strictly increase but are *not* gapless, and clients must never do
//! arithmetic on them. This log imitates that: each record advances the head by a
//! record-size-like amount (a fixed header plus the sizes of the stream name,
//! event type, data and metadata), and the first record does not start at 0
//! (a real log starts with epoch and system records). For every record written
//! here the commit position equals the prepare position, as it does for every
//! event a modern KurrentDB writes outside explicit transactions.
//!
//! A position is *valid* for reading `$all` when it is 0, the position of a
//! record, or the head (the position after the last record); anything else is
//! what the real server calls an invalid position.
//!
//! # Memory
//!
//! Records are stored in fixed-size segments so that growing the log never copies
//! (or doubles the memory of) what is already stored. A record is about 100 bytes
//! plus its payload; data and metadata share one buffer (`body`), and the payloads
//! of one append share one allocation (see the store's `prepare`). The
//! standard projections' links to plain events store no payload at all
//! ([`Body::Link`], [`link`]).
//!
//! A segment's memory is written once, slot by slot, when it is made: a
//! writer makes the next one before it takes the store's lock
//! ([`SpareSegment`]), so that the page faults of new memory (a fifth of
//! the standard projections' time, and about a tenth of the time an append
//! held the lock) are taken outside the lock, not by each record pushed
//! under it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use uuid::Uuid;

use crate::index::StreamId;

pub(crate) mod link;

use link::Link;

/// Where the first record of an empty log is written. A real log starts with
/// epoch and system records, so user events never sit at position 0.
pub(crate) const FIRST_POSITION: u64 = 4096;

/// The fixed part of the size of a record in the log, used to advance positions
/// (about what a KurrentDB prepare record's header takes).
const RECORD_HEADER_SIZE: u64 = 96;

/// How many records a segment holds.
const SEGMENT_LEN: usize = 4096;

/// The content type of an event's data. KurrentDB stores only a "data is JSON"
/// flag, so any content type other than `application/json` reads back as
/// `application/octet-stream`.
pub(crate) const CONTENT_TYPE_JSON: &str = "application/json";
/// See [`CONTENT_TYPE_JSON`].
pub(crate) const CONTENT_TYPE_BINARY: &str = "application/octet-stream";

/// One event in the log.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// The commit (and prepare) position of the record in `$all`.
    pub(crate) position: u64,
    /// The revision of the event in its stream (`u64::MAX >> 1`, i.e. `i64::MAX`,
    /// for a tombstone, as the real server numbers it).
    pub(crate) revision: u64,
    /// When the event was written, in .NET ticks (100 ns) since the Unix epoch:
    /// the unit of the `created` entry of a v1 recorded event's metadata.
    pub(crate) created: i64,
    /// The event's id.
    pub(crate) id: Uuid,
    /// The stream, as an id into the [`crate::index::Index`].
    pub(crate) stream: StreamId,
    /// Whether the data is JSON (`content-type` `application/json`).
    pub(crate) is_json: bool,
    /// Length of the data at the front of `body`.
    pub(crate) data_len: u32,
    /// The event type (interned: records of one type share it).
    pub(crate) event_type: Arc<str>,
    /// The data followed by the user metadata (or, for a standard
    /// projection's link, where to find them: see [`Body`]).
    pub(crate) body: Body,
}

impl Record {
    /// The event's data (empty for a [`Body::Link`] not yet written out).
    pub(crate) fn data(&self) -> Bytes {
        match &self.body {
            Body::Stored(body) if body.len() >= self.data_len as usize => {
                body.slice(..self.data_len as usize)
            }
            _ => Bytes::new(),
        }
    }

    /// The event's user metadata ("custom metadata" on the wire; empty for
    /// a [`Body::Link`] not yet written out).
    pub(crate) fn metadata(&self) -> Bytes {
        match &self.body {
            Body::Stored(body) if body.len() >= self.data_len as usize => {
                body.slice(self.data_len as usize..)
            }
            _ => Bytes::new(),
        }
    }

    /// The event's data, borrowed (no reference count taken, as [`Record::data`]
    /// takes one).
    pub(crate) fn data_slice(&self) -> &[u8] {
        self.body
            .stored()
            .get(..self.data_len as usize)
            .unwrap_or_default()
    }

    /// The event's user metadata, borrowed (see [`Record::data_slice`]).
    pub(crate) fn metadata_slice(&self) -> &[u8] {
        self.body
            .stored()
            .get(self.data_len as usize..)
            .unwrap_or_default()
    }

    /// The content type the record reads back with.
    pub(crate) fn content_type(&self) -> &'static str {
        if self.is_json {
            CONTENT_TYPE_JSON
        } else {
            CONTENT_TYPE_BINARY
        }
    }

    /// Whether the record is a link event (`$>`, data `N@stream`).
    pub(crate) fn is_link(&self) -> bool {
        &*self.event_type == LINK_EVENT_TYPE
    }
}

/// The event type of a link event.
pub(crate) const LINK_EVENT_TYPE: &str = "$>";

/// What a record holds of its data and metadata.
///
/// The standard projections link nearly every event twice (`$ce-` and
/// `$et-`), and each link's body is all derived from the event it links
/// to: `<revision>@<stream>`, then the metadata
/// `{"$v":..,"$c":<position>,"$p":<position>[,"$o":<stream>],"$causedBy":<id>}`.
/// Such a link stores only the log index of its event ([`Body::Link`]),
/// and reads write its body out ([`link::write_link_body`], called by the
/// store's reads): the bytes a
/// client reads are the ones a stored body would have held, and the log
/// holds about 120 bytes less per link (memory the appends running beside
/// the projections would otherwise have to fault in).
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// The data followed by the user metadata.
    Stored(Bytes),
    /// A link to the event at a log index, written out when read.
    Link(Link),
}

impl Default for Body {
    fn default() -> Self {
        Body::Stored(Bytes::new())
    }
}

impl From<Bytes> for Body {
    fn from(body: Bytes) -> Self {
        Body::Stored(body)
    }
}

impl From<Vec<u8>> for Body {
    fn from(body: Vec<u8>) -> Self {
        Body::Stored(body.into())
    }
}

impl Body {
    /// The stored bytes: empty for a [`Body::Link`], whose bytes are
    /// written out when it is read.
    pub(crate) fn stored(&self) -> &[u8] {
        match self {
            Body::Stored(body) => body,
            Body::Link(_) => &[],
        }
    }

    /// The length of the body as it reads (a link's as written out).
    pub(crate) fn len(&self) -> usize {
        match self {
            Body::Stored(body) => body.len(),
            Body::Link(link) => link.len as usize,
        }
    }
}

/// A segment's slots: `None` past the log's end. (`Option<Record>` takes no
/// more room than `Record`: `None` is a null type pointer.)
type Segment = Box<[Option<Record>]>;

/// A segment, every slot written (so every page faulted in).
fn new_segment() -> Segment {
    std::iter::repeat_with(|| None).take(SEGMENT_LEN).collect()
}

/// The next segment of a [`Log`], made by a writer before it takes the
/// store's lock ([`SpareSegment::prepare`]) and taken by the log under it
/// when the last segment is full.
#[derive(Debug)]
pub(crate) struct SpareSegment {
    /// The log took the spare (or has none yet): the next writer makes one.
    wanted: AtomicBool,
    slot: parking_lot::Mutex<Option<Segment>>,
}

impl SpareSegment {
    /// Makes the log's next segment when it has none ready: at most once
    /// per segment (4096 records), by one writer, outside the store's lock.
    /// That is about 400 KiB written (a few hundred microseconds) on
    /// whichever writer comes next, an async worker for a client's append:
    /// bounded, and the page faults those records' pushes took under the
    /// lock before.
    pub(crate) fn prepare(&self) {
        // A load first: nearly every append finds nothing wanted, and a
        // load does not take the cache line from the other cores.
        if self.wanted.load(Ordering::Acquire)
            && self.wanted.swap(false, Ordering::AcqRel)
            && self.slot.lock().is_none()
        {
            let segment = new_segment();
            *self.slot.lock() = Some(segment);
        }
    }

    /// The ready segment, if any (asking for the next either way). Called
    /// under the store's lock, so it never waits for this mutex: when a
    /// writer is putting a segment in at that moment, the log makes its
    /// own.
    fn take(&self) -> Option<Segment> {
        self.wanted.store(true, Ordering::Release);
        self.slot.try_lock().and_then(|mut slot| slot.take())
    }
}

/// The log: records in commit order, addressed by index (0, 1, 2, ...) inside
/// this process and by position on the wire.
#[derive(Debug)]
pub(crate) struct Log {
    segments: Vec<Segment>,
    len: usize,
    head: u64,
    spare: Arc<SpareSegment>,
}

impl Default for Log {
    fn default() -> Self {
        Self::new()
    }
}

impl Log {
    /// An empty log.
    pub(crate) fn new() -> Self {
        Log {
            segments: Vec::new(),
            len: 0,
            head: FIRST_POSITION,
            spare: Arc::new(SpareSegment {
                wanted: AtomicBool::new(true),
                slot: parking_lot::Mutex::new(None),
            }),
        }
    }

    /// Where writers put the log's next segment (see [`SpareSegment`]).
    pub(crate) fn spare(&self) -> Arc<SpareSegment> {
        self.spare.clone()
    }

    /// How many records the log holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The position the next record will get: the "end of `$all`".
    pub(crate) fn head_position(&self) -> u64 {
        self.head
    }

    /// The record at `index`, if any.
    pub(crate) fn get(&self, index: usize) -> Option<&Record> {
        self.segments
            .get(index / SEGMENT_LEN)
            .and_then(|s| s.get(index % SEGMENT_LEN))
            .and_then(Option::as_ref)
    }

    /// The record at `index`, mutably (a scavenge drops its payload).
    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Record> {
        self.segments
            .get_mut(index / SEGMENT_LEN)
            .and_then(|s| s.get_mut(index % SEGMENT_LEN))
            .and_then(Option::as_mut)
    }

    /// The last record, if any.
    pub(crate) fn last(&self) -> Option<&Record> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Appends a record, giving it the next position (whatever its `position`
    /// said). Returns its index.
    pub(crate) fn push(&mut self, mut record: Record, stream_name_len: usize) -> usize {
        record.position = self.head;
        let size = RECORD_HEADER_SIZE
            + stream_name_len as u64
            + record.event_type.len() as u64
            + record.body.len() as u64;
        // Keep records 8-byte aligned, like a real log's records are padded.
        self.head = record.position + size.div_ceil(8) * 8;
        let index = self.len;
        if index / SEGMENT_LEN == self.segments.len() {
            let segment = self.spare.take().unwrap_or_else(new_segment);
            self.segments.push(segment);
        }
        self.segments[index / SEGMENT_LEN][index % SEGMENT_LEN] = Some(record);
        self.len += 1;
        index
    }

    /// Finds `position`: `Ok(index)` when a record starts there, `Err(index)` of
    /// the first record after it otherwise (which is `len()` past the end).
    pub(crate) fn search(&self, position: u64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0usize, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let p = self.get(mid).map_or(u64::MAX, |r| r.position);
            match p.cmp(&position) {
                std::cmp::Ordering::Equal => return Ok(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Err(lo)
    }

    /// Whether reading `$all` from `position` is allowed: 0, a record's position,
    /// or the head.
    pub(crate) fn is_valid_position(&self, position: u64) -> bool {
        position == 0 || position == self.head || self.search(position).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::link::LinkTemplate;
    use super::*;

    fn record(revision: u64, body: &'static [u8]) -> Record {
        Record {
            position: 0,
            revision,
            created: 0,
            id: Uuid::new_v4(),
            stream: 0,
            is_json: false,
            data_len: body.len() as u32,
            event_type: Arc::from("t"),
            body: Body::Stored(Bytes::from_static(body)),
        }
    }

    #[test]
    fn an_empty_slot_takes_no_more_room_than_a_record() {
        assert_eq!(
            std::mem::size_of::<Option<Record>>(),
            std::mem::size_of::<Record>()
        );
        // A compact link takes no room beside a stored body's.
        assert_eq!(std::mem::size_of::<Body>(), std::mem::size_of::<Bytes>());
        assert_eq!(std::mem::size_of::<Record>(), 104);
    }

    #[test]
    fn a_link_body_reads_as_empty_until_written_out() {
        let mut r = record(0, b"");
        r.data_len = 9;
        r.body = Body::Link(Link {
            source: 0,
            len: 40,
            template: Arc::new(LinkTemplate {
                version: "\"$v\":\"1:-1:0:4\",".into(),
                origin: false,
            }),
        });
        assert_eq!(r.body.len(), 40);
        assert!(r.data_slice().is_empty() && r.metadata_slice().is_empty());
        assert!(r.data().is_empty() && r.metadata().is_empty());
    }

    #[test]
    fn segments_come_from_the_spare_when_one_is_ready() {
        let mut log = Log::new();
        let spare = log.spare();
        spare.prepare();
        assert!(spare.slot.lock().is_some(), "the first segment is made");
        log.push(record(0, b"a"), 1);
        assert!(spare.slot.lock().is_none(), "and taken by the first push");
        spare.prepare();
        spare.prepare();
        assert!(spare.slot.lock().is_some(), "the next is made once");
        for i in 1..SEGMENT_LEN as u64 {
            log.push(record(i, b"a"), 1);
        }
        assert!(
            spare.slot.lock().is_some(),
            "not taken while the first has room"
        );
        log.push(record(SEGMENT_LEN as u64, b"a"), 1);
        assert!(spare.slot.lock().is_none(), "taken when the first is full");
        // Without a spare ready (no writer prepared one), the log makes its
        // own segment.
        for i in SEGMENT_LEN as u64 + 1..SEGMENT_LEN as u64 * 2 + 2 {
            log.push(record(i, b"a"), 1);
        }
        assert!(spare.slot.lock().is_none());
        for i in 0..SEGMENT_LEN * 2 + 2 {
            let r = log.get(i).unwrap_or_else(|| panic!("record {i}"));
            assert_eq!(r.revision, i as u64);
        }
        assert!(
            log.get(SEGMENT_LEN * 2 + 2).is_none(),
            "nothing past the end"
        );
        let last = log.len() - 1;
        assert!(log.get_mut(last).is_some());
        assert!(log.get_mut(last + 1).is_none());
    }

    #[test]
    fn positions_increase_with_gaps_and_are_searchable() {
        let mut log = Log::new();
        for i in 0..10_000u64 {
            log.push(record(i, b"hello"), 3);
        }
        assert_eq!(log.len(), 10_000);
        let mut last = 0;
        for i in 0..log.len() {
            let r = log.get(i).unwrap();
            assert!(r.position > last);
            assert!(r.position - last > 1 || i == 0);
            last = r.position;
            assert_eq!(log.search(r.position), Ok(i));
            assert_eq!(log.search(r.position + 1), Err(i + 1));
        }
        assert!(log.is_valid_position(0));
        assert!(log.is_valid_position(log.head_position()));
        assert!(!log.is_valid_position(FIRST_POSITION + 1));
    }
}
