//! The store's value types, below the store and every file of it: what an
//! append or a delete is asked ([`StreamWrite`], [`ProposedEvent`],
//! [`ExpectedRevision`], [`StateCheck`], [`Deletion`]) and what it answers
//! ([`AppendOutcome`], [`WriteError`], [`CheckedAppendError`]), shared by
//! the write path (`write`, `prepare`) and everyone who writes through the
//! store; and which records scavenges removed ([`Scavenged`]), which the
//! store's state holds and its reads skip.

use std::fmt;

use bytes::Bytes;
use uuid::Uuid;

/// What every event adds to the size an append is measured by, on top of
/// KurrentDB's own measure (see [`ProposedEvent::size`]).
///
/// KurrentDB counts only the payloads and the event type, so an event with
/// empty data, metadata and type costs nothing, and one append of a million
/// of them passed its limit (the write lock was held 0.6 s to index them).
/// A stored event costs this server about a hundred bytes whatever its
/// payload, so each one counts for this much: at the default 1 MiB limit an
/// append carries at most 16,384 events.
pub(crate) const PER_EVENT_OVERHEAD: usize = 64;

/// What an append or delete expects of the stream's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExpectedRevision {
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
    /// The v2 numbering: -2 any, -1 no stream, -4 stream exists, else exact.
    /// An exact revision above `i64::MAX` (only v1 can send one) saturates
    /// rather than wrapping into one of the negative markers; [`fmt::Display`]
    /// writes it as sent.
    pub(crate) fn number(self) -> i64 {
        match self {
            ExpectedRevision::Any => -2,
            ExpectedRevision::NoStream => -1,
            ExpectedRevision::StreamExists => -4,
            ExpectedRevision::Exact(n) => i64::try_from(n).unwrap_or(i64::MAX),
        }
    }

    /// The inverse of [`ExpectedRevision::number`]; `None` for other negatives.
    pub(crate) fn from_number(n: i64) -> Option<ExpectedRevision> {
        match n {
            -2 => Some(ExpectedRevision::Any),
            -1 => Some(ExpectedRevision::NoStream),
            -4 => Some(ExpectedRevision::StreamExists),
            n if n >= 0 => Some(ExpectedRevision::Exact(n as u64)),
            _ => None,
        }
    }
}

/// The numbers of error messages: -2 any, -1 no stream, -4 stream exists,
/// else the exact revision as the client sent it (a `u64`, never wrapped).
impl fmt::Display for ExpectedRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedRevision::Exact(n) => write!(f, "{n}"),
            other => write!(f, "{}", other.number()),
        }
    }
}

/// A stream's current state: no event, or the revision of its last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CurrentRevision {
    NoStream,
    Revision(u64),
}

impl CurrentRevision {
    /// -1 for no stream, else the revision (always below `i64::MAX`: a
    /// stream's revisions are counted by its events).
    pub(crate) fn number(self) -> i64 {
        match self {
            CurrentRevision::NoStream => -1,
            CurrentRevision::Revision(n) => i64::try_from(n).unwrap_or(i64::MAX),
        }
    }
}

/// -1 for no stream, else the revision.
impl fmt::Display for CurrentRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub(crate) struct ProposedEvent {
    /// The event id (retries with the same ids are idempotent).
    pub(crate) id: Uuid,
    pub(crate) event_type: String,
    /// Whether the data is JSON.
    pub(crate) is_json: bool,
    pub(crate) data: Bytes,
    /// The user metadata.
    pub(crate) metadata: Bytes,
}

impl ProposedEvent {
    /// The size the append-size limit counts: KurrentDB's measure (data,
    /// metadata and two bytes per UTF-16 unit of the event type:
    /// `Event.SizeOnDisk` in `src/KurrentDB.Core/Data/Event.cs`) plus
    /// [`PER_EVENT_OVERHEAD`]. Saturating: a sum that does not fit is over any
    /// limit anyway.
    pub(crate) fn size(&self) -> usize {
        let event_type = self.event_type.encode_utf16().count().saturating_mul(2);
        self.data
            .len()
            .saturating_add(self.metadata.len())
            .saturating_add(event_type)
            .saturating_add(PER_EVENT_OVERHEAD)
    }
}

/// The events to append to one stream, in order, with their expected revision.
#[derive(Debug, Clone)]
pub(crate) struct StreamWrite {
    pub(crate) stream: Bytes,
    pub(crate) expected: ExpectedRevision,
    pub(crate) events: Vec<ProposedEvent>,
}

/// A consistency check of a v2 `AppendRecords` call: the state `stream` must be
/// in for the append to happen.
#[derive(Debug, Clone)]
pub(crate) struct StateCheck {
    pub(crate) stream: Bytes,
    pub(crate) expected: ExpectedState,
}

/// What a consistency check expects (`StreamStateCheck.expected_state`):
/// KurrentDB 26.1's `ExpectedStreamCondition`s. A check takes no stream,
/// stream exists, a revision, deleted (-5: soft deleted) or tombstoned (-6),
/// and refuses any (-2) (`ConsistencyCheckValidator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExpectedState {
    /// No stream, stream exists, or a revision; any (-2) only for the
    /// written streams without a check of `AppendRecords`, never from a
    /// check.
    Revision(ExpectedRevision),
    /// Soft deleted (and not recreated since).
    Deleted,
    /// Tombstoned.
    Tombstoned,
}

impl ExpectedState {
    /// -1, -4, a revision, -5 or -6.
    pub(crate) fn number(self) -> i64 {
        match self {
            ExpectedState::Revision(r) => r.number(),
            ExpectedState::Deleted => -5,
            ExpectedState::Tombstoned => -6,
        }
    }

    /// The inverse of [`ExpectedState::number`]; `None` for any (-2) and
    /// other negatives.
    pub(crate) fn from_number(n: i64) -> Option<ExpectedState> {
        match n {
            -5 => Some(ExpectedState::Deleted),
            -6 => Some(ExpectedState::Tombstoned),
            -2 => None,
            n => ExpectedRevision::from_number(n).map(ExpectedState::Revision),
        }
    }
}

/// A stream's state as a failed check reports it: KurrentDB 26.1's
/// `ActualStreamCondition`s (the revision, -1 no stream, -5 soft deleted,
/// -6 tombstoned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActualState {
    Current(CurrentRevision),
    Deleted,
    Tombstoned,
}

impl ActualState {
    pub(crate) fn number(self) -> i64 {
        match self {
            ActualState::Current(c) => c.number(),
            ActualState::Deleted => -5,
            ActualState::Tombstoned => -6,
        }
    }
}

/// A failed [`StateCheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Index of the check in the request.
    pub(crate) check_index: usize,
    pub(crate) stream: Bytes,
    /// What the check expected.
    pub(crate) expected: ExpectedState,
    /// What the stream's state was.
    pub(crate) actual: ActualState,
}

/// The outcome of one stream's write.
#[derive(Debug, Clone)]
pub(crate) struct WriteResult {
    pub(crate) stream: Bytes,
    /// The stream's revision after the write.
    pub(crate) current: CurrentRevision,
    /// The position of the stream's last written event (`None` when nothing was
    /// written: an empty append).
    pub(crate) position: Option<u64>,
}

/// The outcome of an append.
#[derive(Debug, Clone)]
pub(crate) struct AppendOutcome {
    /// One result per [`StreamWrite`], in order.
    pub(crate) writes: Vec<WriteResult>,
    /// The position of the last record written (or, for an idempotent retry,
    /// of the last original event); `None` when nothing was written.
    pub(crate) position: Option<u64>,
}

/// Why an append or a delete was refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteError {
    /// The expected revision did not hold.
    WrongExpectedVersion {
        stream: Bytes,
        expected: ExpectedRevision,
        current: CurrentRevision,
    },
    /// The stream was tombstoned (or, for expected "stream exists", is soft
    /// deleted, as the real server reports it).
    StreamDeleted { stream: Bytes },
}

/// Why an append with consistency checks ([`Store::append_checked`](super::Store::append_checked)) was
/// refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckedAppendError {
    /// What any append can be refused for.
    Write(WriteError),
    /// One or more consistency checks failed; every failure is listed.
    ConsistencyViolations(Vec<Violation>),
}

impl From<WriteError> for CheckedAppendError {
    fn from(e: WriteError) -> Self {
        CheckedAppendError::Write(e)
    }
}

/// How a stream is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deletion {
    /// Soft: its metadata gets `$tb` = `i64::MAX`; the next append recreates it.
    Soft,
    /// Hard: a tombstone record; the stream is deleted for good.
    Tombstone,
}

/// The log indexes scavenged so far: one bit per record.
#[derive(Debug, Default)]
pub(super) struct Scavenged(Vec<u64>);

impl Scavenged {
    /// Whether the record at log index `index` was scavenged.
    pub(super) fn contains(&self, index: usize) -> bool {
        self.0
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Marks `index` scavenged; false if it already was.
    pub(super) fn insert(&mut self, index: usize) -> bool {
        let word = index / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        let bit = 1 << (index % 64);
        let new = self.0[word] & bit == 0;
        self.0[word] |= bit;
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bitset_marks_each_index_once() {
        let mut s = Scavenged::default();
        assert!(!s.contains(130));
        assert!(s.insert(130));
        assert!(!s.insert(130));
        assert!(s.contains(130));
        assert!(!s.contains(129));
        assert!(!s.contains(1 << 20));
    }
}
