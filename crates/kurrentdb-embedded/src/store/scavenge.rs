//! Scavenging: removing from the log the events no read can return any more.
//!
//! What KurrentDB removes (its docs, `docs/server/operations/scavenge.md`,
//! and its scavenger's `EventCalculator` and `Calculator`), and so what this
//! removes:
//! - events of a tombstoned stream (the tombstone itself stays), and every
//!   event of its metadata stream;
//! - events before `$tb` or beyond `$maxCount`, and events older than
//!   `$maxAge` (measured from the moment the scavenge started, KurrentDB's
//!   scavenge point's `EffectiveNow`); a soft-deleted stream's `$tb` is
//!   `long.MaxValue`, so its events go;
//! - but never the last event of a stream (KurrentDB keeps it so that the
//!   stream's revision survives), and of a metadata stream only the last
//!   event (the metadata in force) stays.
//!
//! Stream reads already hide all of these (`store/read.rs`); what a scavenge
//! changes is `$all`: reads and subscriptions of `$all` skip scavenged
//! records, and so do stream reads (metadata changed after a scavenge, say a
//! lifted `$maxCount`, does not bring events back, as on KurrentDB).
//!
//! Deviations, all for an in-memory log: KurrentDB scavenges completed chunks
//! up to a scavenge point it writes to the log (and records its progress in
//! `$scavenges` streams); here the whole log is scavenged as it is when the
//! scavenge starts, and no record of it is written. A scavenged record keeps
//! its slot and position (log indexes stay valid for every cursor) but drops
//! its data and metadata, so memory is returned.
//!
//! The work runs in bounded steps ([`Store::scavenge_step`]): each holds the
//! write lock while it looks at no more than a budget of events, so appends
//! and reads interleave with a long scavenge.

use super::read::visible_range;
use super::{State, Store};
use crate::index::{Index, StreamEntry, StreamId};

/// Where a scavenge goes on from: a stream id and a revision in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ScavengeCursor {
    stream: usize,
    revision: u64,
}

/// What one [`Store::scavenge_step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScavengeStep {
    /// Where the next step starts; `None` when the scavenge is done.
    pub(crate) next: Option<ScavengeCursor>,
    /// The events this step removed.
    pub(crate) removed: usize,
}

/// Which events of one stream a scavenge discards.
struct Plan {
    /// Revisions below this go (never the last one).
    below: u64,
    /// Events created before this go (never the last one).
    created_before: i64,
    /// The last revision, kept unless the stream is tombstoned.
    last: u64,
    /// Everything goes (a tombstoned stream's events, its metadata's).
    all: bool,
}

impl Plan {
    fn of(index: &Index, entry: &StreamEntry, now: i64) -> Option<Plan> {
        let last = entry.last_revision()?;
        let tombstoned = entry.is_tombstoned()
            || entry
                .meta_of
                .is_some_and(|base| index.get(base).is_tombstoned());
        let plan = if tombstoned {
            Plan {
                below: u64::MAX,
                created_before: i64::MIN,
                last,
                all: true,
            }
        } else if entry.meta_of.is_some() {
            Plan {
                below: last,
                created_before: i64::MIN,
                last,
                all: false,
            }
        } else {
            let (first, min_created) = visible_range(entry, now);
            Plan {
                below: first.min(last),
                created_before: min_created,
                last,
                all: false,
            }
        };
        (plan.all || plan.below > 0 || plan.created_before > i64::MIN).then_some(plan)
    }

    fn discards(&self, revision: u64, created: i64) -> bool {
        self.all
            || (revision != self.last && (revision < self.below || created < self.created_before))
    }

    /// Whether no revision from `revision` on can be discarded (events are
    /// in creation order, so once one is young enough, all later ones are).
    fn done_at(&self, revision: u64, created: i64) -> bool {
        !self.all && revision >= self.below && created >= self.created_before
    }
}

impl Store {
    /// Scavenges from `cursor`, looking at no more than `budget` events (and
    /// streams) under the write lock, with `now` (ticks) as the time `$maxAge`
    /// is measured at. See the module docs for what goes.
    pub(crate) fn scavenge_step(
        &self,
        cursor: ScavengeCursor,
        budget: usize,
        now: i64,
    ) -> ScavengeStep {
        let mut guard = self.state.write();
        let State {
            index,
            log,
            scavenged,
            ..
        } = &mut *guard;
        let budget = budget.max(1);
        let mut looked = 0;
        let mut removed = 0;
        let (mut stream, mut revision) = (cursor.stream, cursor.revision);
        let next = loop {
            if stream >= index.len() {
                break None;
            }
            if looked >= budget {
                break Some(ScavengeCursor { stream, revision });
            }
            looked += 1;
            let Ok(id) = StreamId::try_from(stream) else {
                break None;
            };
            let entry = index.get(id);
            if let Some(plan) = Plan::of(index, entry, now) {
                let mut stopped = false;
                // At least one event per step, so that every step progresses.
                while let Some(&at) = entry.revisions.get(revision as usize) {
                    looked += 1;
                    let at = at as usize;
                    let Some(record) = log.get_mut(at) else {
                        break;
                    };
                    if plan.done_at(revision, record.created) {
                        break;
                    }
                    if plan.discards(revision, record.created) && scavenged.insert(at) {
                        record.body = Default::default();
                        record.data_len = 0;
                        removed += 1;
                    }
                    revision += 1;
                    if looked >= budget {
                        stopped = true;
                        break;
                    }
                }
                if stopped {
                    continue;
                }
            }
            stream += 1;
            revision = 0;
        };
        ScavengeStep { next, removed }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::{ExpectedRevision, ProposedEvent, StoreOptions, StreamWrite};
    use super::*;
    use crate::store::Direction;
    use crate::ticks::now_ticks;

    fn append(store: &Store, stream: &str, n: usize) {
        store
            .append(vec![super::super::test_write(stream, n)])
            .unwrap();
    }

    fn all_of(store: &Store, stream: &str) -> Vec<u64> {
        let batch = store.read_all(0, Direction::Forwards, 1000, 1000, None, false);
        batch
            .events
            .iter()
            .filter_map(|e| e.event.as_ref())
            .filter(|e| &e.stream[..] == stream.as_bytes())
            .map(|e| e.record.revision)
            .collect()
    }

    /// Scavenges to the end, `budget` events per step; the events removed.
    fn scavenge(store: &Store, budget: usize, now: i64) -> usize {
        let mut cursor = ScavengeCursor::default();
        let mut removed = 0;
        let mut steps = 0;
        loop {
            let step = store.scavenge_step(cursor, budget, now);
            removed += step.removed;
            steps += 1;
            assert!(steps < 10_000, "a scavenge ends");
            match step.next {
                Some(next) => cursor = next,
                None => return removed,
            }
        }
    }

    #[test]
    fn max_age_expires_all_but_the_last_event_and_steps_resume_mid_stream() {
        let store = Store::new(StoreOptions::default());
        append(&store, "aged", 10);
        append(&store, "kept", 3);
        let meta = ProposedEvent {
            id: uuid::Uuid::new_v4(),
            event_type: "$metadata".into(),
            is_json: true,
            data: Bytes::from_static(br#"{"$maxAge":60}"#),
            metadata: Bytes::new(),
        };
        store
            .append(vec![StreamWrite {
                stream: Bytes::from_static(b"$$aged"),
                expected: ExpectedRevision::Any,
                events: vec![meta],
            }])
            .unwrap();
        // Now: nothing is a minute old yet.
        assert_eq!(scavenge(&store, 3, now_ticks()), 0);
        assert_eq!(all_of(&store, "aged").len(), 10);
        // An hour later, with steps of 3 events (streams resumed midway).
        let later = now_ticks() + 3600 * 10_000_000;
        assert_eq!(scavenge(&store, 3, later), 9);
        assert_eq!(all_of(&store, "aged"), [9]);
        assert_eq!(all_of(&store, "kept"), [0, 1, 2]);
        // Scavenging again removes nothing more.
        assert_eq!(scavenge(&store, 1, later), 0);
    }

    /// KurrentDB's index reader reads each entry back from the log and drops
    /// only what the log no longer has (`ReaderExtensions.ReadRecords`): a
    /// tombstoned stream's events stay in its indexes until a scavenge.
    #[test]
    fn deleted_events_leave_the_secondary_indexes_when_scavenged() {
        use crate::store::{Deletion, Filter, SecondaryIndex};
        let store = Store::new(StoreOptions::default());
        append(&store, "order-1", 2);
        append(&store, "order-2", 1);
        let order = Filter::Index(SecondaryIndex::parse("$idx-ce-order").unwrap());
        let read = |store: &Store| -> Vec<(Bytes, u64)> {
            store
                .read_all(0, Direction::Forwards, 100, 100, Some(&order), false)
                .events
                .into_iter()
                .filter_map(|e| e.event.map(|e| (e.stream, e.record.revision)))
                .collect()
        };
        let o1 = Bytes::from_static(b"order-1");
        let o2 = Bytes::from_static(b"order-2");
        let all = vec![(o1.clone(), 0), (o1.clone(), 1), (o2.clone(), 0)];
        assert_eq!(read(&store), all);
        store
            .delete(&o1, ExpectedRevision::Any, Deletion::Tombstone)
            .unwrap();
        assert_eq!(read(&store), all, "the tombstone is not indexed");
        assert_eq!(scavenge(&store, 10, now_ticks()), 2);
        assert_eq!(read(&store), [(o2, 0)]);
    }
}
