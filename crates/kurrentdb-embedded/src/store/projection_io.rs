//! The store as projections use it: the `$all` read of a `fromAll` source,
//! which steps over the system records no such source passes, and the bulk
//! append of what projections emit.

use super::prepare::{Prepared, PreparedWrite};
use super::{AppendOutcome, ResolvedRecord, Store, WriteError};
use crate::ticks::now_ticks;

/// What [`Store::read_all_source`] read.
#[derive(Debug)]
pub(crate) struct SourceBatch {
    /// The records a `fromAll` source can pass, each with its log index.
    pub(crate) events: Vec<(usize, ResolvedRecord)>,
    /// The log index to continue from.
    pub(crate) next: usize,
    /// Whether the read reached the log's end.
    pub(crate) at_end: bool,
}

/// An emitted append the store refused: why, and the writes, given back
/// untouched so that the caller can write the others' again.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) error: WriteError,
    pub(crate) writes: Vec<PreparedWrite>,
}

impl Store {
    /// Reads `$all` forwards from `cursor` as a `fromAll` projection source
    /// reads it: only the records of streams [`super::is_source_stream`]
    /// passes are copied out (up to `max`, looking at `max_scan` at most);
    /// the others are stepped over under the lock. When no such record lies
    /// after `cursor`, the batch is empty and `next` is the log's end, so
    /// that a caught-up projection skips what projections wrote without
    /// looking at it.
    ///
    /// The records go into `events` (emptied first): a reader keeps one
    /// buffer from batch to batch, where a new one per batch (about 140 KiB
    /// for 512 records) was allocated, faulted in and given back to the
    /// system every time.
    pub(crate) fn read_all_source(
        &self,
        cursor: usize,
        max: usize,
        max_scan: usize,
        mut events: Vec<(usize, ResolvedRecord)>,
    ) -> SourceBatch {
        events.clear();
        let st = self.state.read();
        let len = st.log.len();
        let mut i = cursor.min(len);
        let mut scanned = 0;
        if i >= st.source_len {
            return SourceBatch {
                events,
                next: len,
                at_end: true,
            };
        }
        events.reserve(max.min(512));
        while events.len() < max && scanned < max_scan && i < st.source_len {
            let rec = st.log.get(i).expect("index below len");
            scanned += 1;
            if super::is_source_stream(st.index.name(rec.stream)) && !st.scavenged.contains(i) {
                events.push((i, st.resolve(rec, false)));
            }
            i += 1;
        }
        if i >= st.source_len {
            i = len;
        }
        SourceBatch {
            events,
            next: i,
            at_end: i >= len,
        }
    }

    /// [`Store::append`] for what the server itself writes in bulk (the
    /// links and results projections emit): no retry detection, and the
    /// events' ids are not remembered for it. A client's retry can only
    /// repeat ids the client chose, in the stream it writes to, and these
    /// are fresh random ids in streams no client writes to, so remembering
    /// them (a hash-map insert and a later removal each, in a 100,000-entry
    /// table) would only push the clients' own ids out sooner.
    ///
    /// The events come prepared ([`PreparedWrite`]): a projection writes
    /// each one's data and metadata straight into a buffer of its own, so
    /// there is nothing to copy here.
    ///
    /// Atomic like every append; a refused one gives its writes back (the
    /// standard projections write together, and one's refusal must not
    /// lose the others' links).
    pub(crate) fn append_emitted(
        &self,
        writes: Vec<PreparedWrite>,
    ) -> Result<AppendOutcome, Refused> {
        let prepared = Prepared {
            writes,
            created: now_ticks(),
            remember_ids: false,
        };
        self.append_prepared(prepared, false, |_| Ok(()))
            .map_err(|(error, writes)| Refused { error, writes })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CurrentRevision, ExpectedRevision, StoreOptions};
    use super::*;

    fn write(store: &Store, stream: &str, n: usize, emitted: bool) {
        let writes = vec![super::super::test_write(stream, n)];
        if emitted {
            store
                .append_emitted(PreparedWrite::from_writes(writes))
                .unwrap();
        } else {
            store.append(writes).unwrap();
        }
    }

    fn streams(batch: &SourceBatch) -> Vec<String> {
        batch
            .events
            .iter()
            .map(|(_, e)| String::from_utf8_lossy(&e.original().stream).into_owned())
            .collect()
    }

    #[test]
    fn a_source_read_passes_only_what_a_from_all_projection_can_see() {
        let store = Store::new(StoreOptions::default());
        let mut source_head = store.watch_source_head();
        write(&store, "order-1", 2, false);
        assert!(source_head.has_changed().unwrap(), "a user event wakes");
        source_head.borrow_and_update();
        // What projections write (system streams) moves the log, not the
        // source head.
        write(&store, "$ce-order", 2, true);
        write(&store, "$$$ce-order", 1, true);
        assert!(
            !source_head.has_changed().unwrap(),
            "system writes do not wake"
        );
        write(&store, "$$order-1", 1, false);
        assert!(
            source_head.has_changed().unwrap(),
            "a user stream's metadata wakes"
        );
        write(&store, "$et-E", 3, true);

        let batch = store.read_all_source(0, 512, 4096, Vec::new());
        assert_eq!(streams(&batch), ["order-1", "order-1", "$$order-1"]);
        let indices: Vec<usize> = batch.events.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, [0, 1, 5], "each record with its log index");
        assert_eq!(
            batch.next,
            store.log_len(),
            "the system records after are skipped"
        );
        assert!(batch.at_end);
        // Bounded by max and by max_scan, resuming where it stopped.
        let first = store.read_all_source(0, 1, 4096, Vec::new());
        assert_eq!(streams(&first), ["order-1"]);
        assert_eq!(first.next, 1);
        assert!(!first.at_end);
        let scan = store.read_all_source(2, 512, 2, Vec::new());
        assert!(scan.events.is_empty(), "two system records looked at");
        assert_eq!(scan.next, 4, "stopped after max_scan records");
        // Caught up: nothing to read, straight to the end.
        let end = store.read_all_source(batch.next - 3, 512, 4096, Vec::new());
        assert!(end.events.is_empty());
        assert_eq!((end.next, end.at_end), (store.log_len(), true));
    }

    #[test]
    fn a_refused_emitted_append_writes_nothing_and_gives_its_writes_back() {
        let store = Store::new(StoreOptions::default());
        write(&store, "$ce-gone", 1, true);
        store
            .delete(
                &bytes::Bytes::from_static(b"$ce-gone"),
                ExpectedRevision::Any,
                super::super::Deletion::Tombstone,
            )
            .unwrap();
        let len = store.log_len();
        let writes = vec![
            super::super::test_write("$ce-fine", 2),
            super::super::test_write("$ce-gone", 1),
        ];
        let refused = store
            .append_emitted(PreparedWrite::from_writes(writes))
            .unwrap_err();
        assert!(
            matches!(&refused.error, WriteError::StreamDeleted { stream } if stream.as_ref() == b"$ce-gone"),
            "{:?}",
            refused.error
        );
        assert_eq!(store.log_len(), len, "atomic: nothing written");
        let streams: Vec<&[u8]> = refused.writes.iter().map(|w| w.stream.as_ref()).collect();
        assert_eq!(streams, [b"$ce-fine".as_slice(), b"$ce-gone"]);
        assert_eq!(refused.writes[0].events.len(), 2, "events given back");
        let rest = refused.writes.into_iter().take(1).collect();
        store.append_emitted(rest).unwrap();
        assert_eq!(store.log_len(), len + 2);
    }

    #[test]
    fn what_projections_write_does_not_age_the_ids_retries_are_detected_by() {
        let store = Store::new(StoreOptions::default());
        let first = super::super::test_write("a", 1);
        let retry = || {
            let outcome = store.append(vec![first.clone()]).unwrap();
            outcome.writes[0].current
        };
        store.append(vec![first.clone()]).unwrap();
        let limit = super::super::write::RECENT_IDS;
        // Far more emitted records than the window: the id is still known.
        write(&store, "$ce-a", limit + 10, true);
        assert_eq!(
            retry(),
            CurrentRevision::Revision(0),
            "a retry, not written"
        );
        // The window is full with it the oldest: still known.
        write(&store, "b", limit - 1, false);
        assert_eq!(
            retry(),
            CurrentRevision::Revision(0),
            "a retry, not written"
        );
        // One more remembered id pushes it out: the same event is new again.
        write(&store, "b", 1, false);
        assert_eq!(
            retry(),
            CurrentRevision::Revision(1),
            "forgotten, so written"
        );
        assert_eq!(retry(), CurrentRevision::Revision(1), "remembered again");
    }
}
