//! Writing: appends and deletes.
//!
//! An append goes through three steps:
//! 1. **prepare**, outside the lock: copy every payload into one buffer and
//!    take the creation time ([`Prepared`]);
//! 2. **validate**, under the write lock: refuse tombstoned streams, evaluate
//!    the consistency checks of a checked append, then decide per stream write
//!    whether it is a retry of events already written (idempotence) or must
//!    meet its expected revision ([`Decision`]);
//! 3. **write**, under the same lock: push the records and report revisions and
//!    positions.
//!
//! Validation and writing share one lock acquisition, so that what was
//! validated is what is written on: an append is atomic.
//!
//! The errors say which path can get which refusal: [`WriteError`] for appends
//! and deletes, [`CheckedAppendError`] (a [`WriteError`] or consistency
//! violations) for the v2 `AppendRecords` call, the only one with consistency
//! checks.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use uuid::Uuid;

use crate::index::{
    META_PREFIX, SOFT_DELETED_TB, StreamEntry, StreamId, StreamMetadata, TOMBSTONE_REVISION,
};
use crate::log::Record;

use super::prepare::{Prepared, PreparedEvent, PreparedWrite};
use super::types::{
    ActualState, AppendOutcome, CheckedAppendError, CurrentRevision, Deletion, ExpectedRevision,
    ExpectedState, StateCheck, StreamWrite, Violation, WriteError, WriteResult,
};
use super::{State, Store, current_of};
use crate::ticks::now_ticks;

/// The event type of stream metadata events.
pub(crate) const METADATA_EVENT_TYPE: &str = "$metadata";
/// The event type of a tombstone record.
const TOMBSTONE_EVENT_TYPE: &str = "$streamDeleted";

/// How many of the most recent event ids of clients' appends are remembered
/// for the idempotency check of appends with expected revision "any" (the
/// real server keeps a cache of recent commits for the same purpose).
pub(super) const RECENT_IDS: usize = 100_000;

/// What validation decided for one stream write.
enum Decision {
    /// The expected revision holds: write the events.
    Write,
    /// The events are already there (a retry): write nothing, answer with the
    /// original result.
    Idempotent { last_revision: u64, position: u64 },
}

/// Why an expected revision does not hold.
enum CheckError {
    Wrong,
    Deleted,
}

impl Store {
    /// Appends atomically: every write is verified, then all events are
    /// written, or none. This is v1 `Append` and `BatchAppend`, the v2
    /// `AppendSession`, and the system writes of persistent subscriptions.
    ///
    /// Idempotence (a single write only, as v1 `Append` and `BatchAppend`): when
    /// the events already follow the expected revision in the stream with the
    /// same ids (or, for "any" and "stream exists", when the first id is among the
    /// recent events of the stream and the rest follow it), nothing is written and
    /// the original revision and position are returned.
    pub(crate) fn append(&self, writes: Vec<StreamWrite>) -> Result<AppendOutcome, WriteError> {
        let detect_retries = writes.len() == 1;
        self.append_with(writes, detect_retries, true, |_| Ok(()))
    }

    /// [`Store::append`] with v2 consistency checks: all are evaluated (after
    /// the tombstone check, before the expected revisions) and every violation
    /// is reported. Without checks it is exactly [`Store::append`].
    pub(crate) fn append_checked(
        &self,
        writes: Vec<StreamWrite>,
        checks: &[StateCheck],
    ) -> Result<AppendOutcome, CheckedAppendError> {
        let detect_retries = writes.len() == 1 && checks.is_empty();
        self.append_with(writes, detect_retries, true, |st| {
            st.check_consistency(checks)
        })
    }

    /// Prepare, then validate (with `extra_checks` after the tombstone check)
    /// and write under the write lock.
    fn append_with<E: From<WriteError>>(
        &self,
        writes: Vec<StreamWrite>,
        detect_retries: bool,
        remember_ids: bool,
        extra_checks: impl FnOnce(&State) -> Result<(), E>,
    ) -> Result<AppendOutcome, E> {
        let prepared = Prepared {
            writes: PreparedWrite::from_writes(writes),
            created: now_ticks(),
            remember_ids,
        };
        self.append_prepared(prepared, detect_retries, extra_checks)
            .map_err(|(error, _)| error)
    }

    /// Validates and writes `prepared` under the write lock; a refused append
    /// writes nothing and gives its writes back with the error.
    pub(super) fn append_prepared<E: From<WriteError>>(
        &self,
        mut prepared: Prepared,
        detect_retries: bool,
        extra_checks: impl FnOnce(&State) -> Result<(), E>,
    ) -> Result<AppendOutcome, (E, Vec<PreparedWrite>)> {
        self.spare_segment.prepare();
        let mut st = self.state.write();
        let decided = (|| {
            // Tombstoned streams first: the real server reports them before
            // consistency and revision conflicts.
            for w in &prepared.writes {
                st.refuse_deleted(&w.stream)?;
            }
            extra_checks(&st)?;
            Ok(st.decide(&prepared.writes, detect_retries)?)
        })();
        match decided {
            Ok(decisions) => {
                let outcome = st.write(&mut prepared, decisions);
                self.publish(st);
                // What the records did not take (the events' types, as
                // decoded from the request) is freed here, after the lock.
                drop(prepared);
                Ok(outcome)
            }
            Err(error) => Err((error, prepared.writes)),
        }
    }

    /// Deletes a stream (see [`Deletion`]). Returns the position of the record
    /// written.
    pub(crate) fn delete(
        &self,
        stream: &Bytes,
        expected: ExpectedRevision,
        deletion: Deletion,
    ) -> Result<u64, WriteError> {
        let created = now_ticks();
        let mut st = self.state.write();
        st.refuse_deleted(stream)?;
        st.require(stream, expected)?;
        // KurrentDB's storage writer refuses to soft delete a stream that has
        // never existed (no event, and no event in its metadata stream), with
        // any expected revision that passed: a wrong expected version whose
        // actual version is -1 (StorageWriterService, WriteDelete). Deleting
        // again after a delete finds the metadata the first one wrote.
        if deletion == Deletion::Soft && st.never_existed(stream) {
            return Err(WriteError::WrongExpectedVersion {
                stream: stream.clone(),
                expected,
                current: CurrentRevision::NoStream,
            });
        }
        let id = st.index.get_or_create(stream);
        let position = match deletion {
            Deletion::Tombstone => st.write_tombstone(id, created),
            Deletion::Soft => st.write_truncate_before(id, SOFT_DELETED_TB, created),
        };
        self.publish(st);
        Ok(position)
    }
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
    st: &State,
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
                .is_some_and(|m| !st.index.get(m).revisions.is_empty());
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

// ---- validate -------------------------------------------------------------

impl State {
    /// Whether `stream` was tombstoned, or is the metadata stream of one: as in
    /// KurrentDB, where a metadata stream's last event number is "deleted" when
    /// its base stream's is (IndexReader.GetStreamLastEventNumberCached), so
    /// reading it fails as deleted (writing it too, unless it was written
    /// before: see [`State::refuse_deleted`]).
    pub(super) fn is_tombstoned(&self, stream: &[u8]) -> bool {
        match self.index.entry(stream) {
            Some(entry) => {
                entry.is_tombstoned()
                    || entry
                        .meta_of
                        .is_some_and(|b| self.index.get(b).is_tombstoned())
            }
            // A metadata stream never written: its base stream decides.
            None => stream
                .strip_prefix(META_PREFIX.as_bytes())
                .and_then(|base| self.index.entry(base))
                .is_some_and(StreamEntry::is_tombstoned),
        }
    }

    /// Whether neither `stream` nor its metadata stream has ever had an event.
    fn never_existed(&self, stream: &Bytes) -> bool {
        let Some(entry) = self.index.entry(stream) else {
            return true;
        };
        entry.last_revision().is_none()
            && entry
                .meta_stream
                .is_none_or(|m| self.index.get(m).last_revision().is_none())
    }

    /// Refuses writing to `stream` when it was tombstoned, or when it is the
    /// never-written metadata stream of a tombstoned stream.
    ///
    /// KurrentDB's commit check asks its writer's stream-version cache first
    /// (`IndexWriter.GetStreamLastEventNumber`, `_streamVersions`), which
    /// holds a metadata stream's own last version once it has been written;
    /// only a metadata stream never written reaches the index reader, which
    /// answers "deleted" for the metadata stream of a tombstoned stream. So
    /// `$$x` can still be written (checked against its own revision) after
    /// `x` is tombstoned, while reading it fails as deleted ([`State::is_tombstoned`]).
    fn refuse_deleted(&self, stream: &Bytes) -> Result<(), WriteError> {
        let deleted = match self.index.entry(stream) {
            Some(entry) if entry.meta_of.is_some() && entry.last_revision().is_some() => {
                entry.is_tombstoned()
            }
            _ => self.is_tombstoned(stream),
        };
        if deleted {
            return Err(WriteError::StreamDeleted {
                stream: stream.clone(),
            });
        }
        Ok(())
    }

    /// Refuses a write whose expected revision does not hold.
    fn require(&self, stream: &Bytes, expected: ExpectedRevision) -> Result<(), WriteError> {
        let entry = self.index.entry(stream);
        check_expected(entry, expected, self).map_err(|e| match e {
            CheckError::Deleted => WriteError::StreamDeleted {
                stream: stream.clone(),
            },
            CheckError::Wrong => WriteError::WrongExpectedVersion {
                stream: stream.clone(),
                expected,
                current: current_of(entry),
            },
        })
    }

    /// Evaluates every consistency check; all failures are reported together.
    fn check_consistency(&self, checks: &[StateCheck]) -> Result<(), CheckedAppendError> {
        let violations: Vec<Violation> = checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let entry = self.index.entry(&c.stream);
                let tombstoned = self.is_tombstoned(&c.stream);
                let soft = !tombstoned && entry.is_some_and(StreamEntry::is_soft_deleted);
                // KurrentDB's commit check (`IndexWriter.CheckCommit`): a
                // tombstoned stream a check does not write to passes "no
                // stream" (and "tombstoned": `long.MaxValue`); "deleted"
                // (`ExpectedVersion.SoftDeleted`) passes only a soft-deleted
                // stream.
                let holds = match c.expected {
                    ExpectedState::Tombstoned => tombstoned,
                    ExpectedState::Deleted => soft,
                    ExpectedState::Revision(ExpectedRevision::NoStream) if tombstoned => true,
                    ExpectedState::Revision(_) if tombstoned => false,
                    ExpectedState::Revision(r) => check_expected(entry, r, self).is_ok(),
                };
                let actual = if tombstoned {
                    ActualState::Tombstoned
                } else if soft {
                    ActualState::Deleted
                } else {
                    ActualState::Current(current_of(entry))
                };
                (!holds).then(|| Violation {
                    check_index: i,
                    stream: c.stream.clone(),
                    expected: c.expected,
                    actual,
                })
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(CheckedAppendError::ConsistencyViolations(violations))
        }
    }

    /// Decides each write: a retry of events already written (when
    /// `detect_retries`), or a write whose expected revision holds.
    fn decide(
        &self,
        writes: &[PreparedWrite],
        detect_retries: bool,
    ) -> Result<Vec<Decision>, WriteError> {
        writes
            .iter()
            .map(|w| {
                let retry = detect_retries.then(|| self.idempotent(w)).flatten();
                match retry {
                    Some(decision) => Ok(decision),
                    None => self
                        .require(&w.stream, w.expected)
                        .map(|()| Decision::Write),
                }
            })
            .collect()
    }

    /// Whether `w` repeats events already in its stream (same ids, following
    /// the expected revision, or for "any" and "stream exists" following the
    /// recent event with the first id).
    fn idempotent(&self, w: &PreparedWrite) -> Option<Decision> {
        let entry = self.index.entry(&w.stream)?;
        let first = w.events.first()?;
        let start = match w.expected {
            ExpectedRevision::Exact(n) => n.checked_add(1)?,
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
        let end = start.checked_add(w.events.len() as u64 - 1)?;
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
}

// ---- write ----------------------------------------------------------------

impl State {
    /// Writes what validation decided (the records take the events'
    /// bodies; the rest is left to be freed after the lock).
    fn write(&mut self, prepared: &mut Prepared, decisions: Vec<Decision>) -> AppendOutcome {
        let (created, remember_ids) = (prepared.created, prepared.remember_ids);
        let mut results = Vec::with_capacity(prepared.writes.len());
        let mut last_position = None;
        for (w, decision) in prepared.writes.iter_mut().zip(decisions) {
            let result = match decision {
                Decision::Idempotent {
                    last_revision,
                    position,
                } => WriteResult {
                    stream: w.stream.clone(),
                    current: CurrentRevision::Revision(last_revision),
                    position: Some(position),
                },
                Decision::Write => self.write_stream(w, created, remember_ids),
            };
            if result.position.is_some() {
                last_position = result.position;
            }
            results.push(result);
        }
        AppendOutcome {
            writes: results,
            position: last_position,
        }
    }

    /// Writes one stream's events (recreating it first when soft deleted). An
    /// empty write changes nothing: it does not even create an index entry
    /// for a stream that has none.
    fn write_stream(
        &mut self,
        w: &mut PreparedWrite,
        created: i64,
        remember_id: bool,
    ) -> WriteResult {
        if w.events.is_empty() {
            return WriteResult {
                current: current_of(self.index.entry(&w.stream)),
                stream: w.stream.clone(),
                position: None,
            };
        }
        let id = self.index.get_or_create(&w.stream);
        if self.index.get(id).is_soft_deleted() {
            // Recreating a soft-deleted stream: the old events stay hidden
            // behind a `$tb` at the first new revision.
            let next = self.index.get(id).revisions.len() as u64;
            self.write_truncate_before(id, next, created);
        }
        let mut position = None;
        // The events of a write mostly share their type (all the links a
        // projection writes to a stream do): it is interned once for them.
        let mut event_type: Option<Arc<str>> = None;
        for e in &mut w.events {
            let interned = match event_type.take() {
                Some(t) if *t == *e.event_type => t,
                _ => self.intern(&e.event_type),
            };
            event_type = Some(interned.clone());
            position = Some(self.push_event(id, e, interned, created, remember_id));
        }
        if position.is_some() {
            self.refresh_metadata(id);
        }
        WriteResult {
            current: current_of(Some(self.index.get(id))),
            stream: w.stream.clone(),
            position,
        }
    }

    /// Writes a tombstone record and marks the stream deleted for good;
    /// returns its position.
    fn write_tombstone(&mut self, id: StreamId, created: i64) -> u64 {
        let event_type = self.intern(TOMBSTONE_EVENT_TYPE);
        let (index, position) = self.push(
            id,
            Record {
                position: 0, // assigned by the log
                revision: TOMBSTONE_REVISION,
                created,
                id: Uuid::new_v4(),
                stream: id,
                is_json: false,
                data_len: 0,
                event_type,
                body: Default::default(),
            },
            true,
        );
        self.index.get_mut(id).tombstone = Some(index as u32);
        position
    }

    /// Writes the stream's metadata again with `$tb` set to `tb` (its other
    /// properties kept); returns the position of the metadata event.
    fn write_truncate_before(&mut self, id: StreamId, tb: u64, created: i64) -> u64 {
        let meta = self
            .index
            .get(id)
            .metadata
            .as_deref()
            .cloned()
            .unwrap_or_default();
        let json = Bytes::from(meta.with_truncate_before(tb));
        self.write_metadata(id, json, created)
    }

    fn intern(&mut self, event_type: &str) -> Arc<str> {
        if let Some(t) = self.types.get(event_type) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(event_type);
        self.types.insert(Box::from(event_type), t.clone());
        t
    }

    /// Pushes `event` (of the interned `event_type`; its body is taken) as
    /// the next revision of stream `id`; returns its position.
    fn push_event(
        &mut self,
        id: StreamId,
        event: &mut PreparedEvent,
        event_type: Arc<str>,
        created: i64,
        remember_id: bool,
    ) -> u64 {
        let revision = self.index.get(id).revisions.len() as u64;
        let record = Record {
            position: 0, // assigned by the log
            revision,
            created,
            id: event.id,
            stream: id,
            is_json: event.is_json,
            data_len: event.data_len,
            event_type,
            body: std::mem::take(&mut event.body),
        };
        self.push(id, record, remember_id).1
    }

    /// Pushes a record to the log and the stream's revisions (and its id to
    /// the recent ids when `remember_id`); returns its log index and position.
    fn push(&mut self, id: StreamId, record: Record, remember_id: bool) -> (usize, u64) {
        let revision = record.revision;
        let event_id = record.id;
        let name = self.index.name(id);
        let name_len = name.len();
        let is_source = super::is_source_stream(name);
        let index = self.log.push(record, name_len);
        let pushed = self.log.get(index).expect("just pushed");
        let position = pushed.position;
        // The log holds fewer than `u32::MAX` records (the stream index
        // stores log indexes as `u32` too).
        self.secondary
            .add(index as u32, id, self.index.name(id), &pushed.event_type);
        if is_source {
            self.source_len = index + 1;
        }
        if revision != TOMBSTONE_REVISION {
            self.index.get_mut(id).revisions.push(index as u32);
        }
        if remember_id {
            self.remember(event_id, index as u32);
        }
        (index, position)
    }

    /// Remembers `event_id` as the id of the record at `index`, forgetting
    /// the oldest remembered id beyond [`RECENT_IDS`] (one hash probe).
    ///
    /// The window counts remembered ids, not records: what projections
    /// write (never remembered) does not shorten the time a client has to
    /// retry. KurrentDB's commit cache (`IndexWriter._committedEvents`, a
    /// `BoundedCache` of `ESConsts.CommittedEventsMemCacheLimit`, 8 MiB)
    /// takes every committed event, links included, so there a busy
    /// projection does shorten it; how long a retry is recognised is not
    /// part of the protocol, and a window of clients' events is the
    /// predictable one.
    fn remember(&mut self, event_id: Uuid, index: u32) {
        self.recent_ids.insert(event_id, index);
        self.recent_order.push_back((event_id, index));
        if self.recent_order.len() <= RECENT_IDS {
            return;
        }
        if let Some((old, at)) = self.recent_order.pop_front()
            && let Entry::Occupied(entry) = self.recent_ids.entry(old)
            // A later event with the same id keeps it remembered.
            && *entry.get() == at
        {
            entry.remove();
        }
    }

    /// Writes a `$metadata` event for stream `id` to `$$<stream>`.
    fn write_metadata(&mut self, id: StreamId, json: Bytes, created: i64) -> u64 {
        let mut meta_name = BytesMut::from(META_PREFIX.as_bytes());
        meta_name.extend_from_slice(self.index.name(id));
        let meta_id = self.index.get_or_create(&meta_name.freeze());
        let mut event = PreparedEvent {
            id: Uuid::new_v4(),
            event_type: Cow::Borrowed(METADATA_EVENT_TYPE),
            is_json: true,
            data_len: json.len() as u32,
            body: json.into(),
        };
        let event_type = self.intern(METADATA_EVENT_TYPE);
        let position = self.push_event(meta_id, &mut event, event_type, created, true);
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
}
