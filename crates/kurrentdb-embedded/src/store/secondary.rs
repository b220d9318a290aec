//! KurrentDB's default secondary indexes: `$idx-all`, `$idx-ce-<category>`
//! and `$idx-et-<event type>`, read and subscribed to through the filtered
//! `$all` API.
//!
//! # What KurrentDB does, and what this follows
//!
//! From `src/KurrentDB.SecondaryIndexing` and the gRPC read handler
//! (`src/KurrentDB.Core/Services/Transport/Grpc/Streams.Read.cs`,
//! `GetFilterOrIndexEnumerator`) of kurrent-io/KurrentDB:
//! - A `$all` read or subscription whose filter is a stream-name filter
//!   without a regex, and whose prefixes include one starting `$idx-`, is
//!   an index read. More than one prefix then is `INVALID_ARGUMENT` "Index
//!   reads only work with one index name and cannot be combined with stream
//!   prefixes or other indexes".
//! - `$idx-all`, `$idx-ce-<c>` and `$idx-et-<t>` exist on every node; any
//!   other `$idx-` name (a user-defined index, `$idx-user-...`, which this
//!   server has none of) is `NOT_FOUND` "Index '<name>' not found." with
//!   trailers `exception: index-not-found` and `index-name`
//!   (`RpcExceptions.IndexNotFound`). A category or type no event has is an
//!   empty index, not an error.
//! - The indexes take every event whose stream and type do not start with
//!   `$` (`DefaultIndexSubscription` skips system events): links, metadata
//!   and tombstones are never indexed. The category is the stream name up
//!   to its first `-`, or the whole name (`DefaultIndexProcessor`).
//! - Events come back unresolved (`ResolvedEvent.ForUnresolvedEvent`), in
//!   commit order, under their own stream name and revision.
//! - Reads start at a log position, not at an index entry: forwards, the
//!   entries at or after it; backwards, at or before it (the first page is
//!   read with `excludeStart: false`, `Enumerator.ReadIndex`). No position is
//!   invalid. A subscription starts after its position, and sends no
//!   checkpoints (only live events and caught-up).
//! - Deleting a stream does not remove its events from the indexes: the
//!   index reader reads the event back from the log (`ReaderExtensions.
//!   ReadRecords`) and drops only records the log no longer has, so a
//!   deleted stream's events leave an index when a scavenge removes them.
//! - Access: an index read is authorized as a read of `$all`
//!   (`AuthorizationGateway`: "Using ReadAllStream to simulate $all read").
//!
//! # Cost
//!
//! Each index is a list of log indexes in commit order, appended to under
//! the store's write lock with the record (a hash probe per category or type
//! the first time a stream or type is seen, then a push). A read finds its
//! start by binary search and then walks only the index's entries: N events
//! cost O(log n + N), not a scan of `$all`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::index::StreamId;

/// The prefix of every secondary index name.
pub(crate) const INDEX_PREFIX: &str = "$idx-";

/// One of the default secondary indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecondaryIndex {
    /// `$idx-all`: every non-system event.
    All,
    /// `$idx-ce-<category>`.
    Category(Box<[u8]>),
    /// `$idx-et-<event type>`.
    EventType(Box<str>),
}

impl SecondaryIndex {
    /// The index of this name, or `None` for a `$idx-` name that is none of
    /// the default indexes (KurrentDB's "index not found").
    pub(crate) fn parse(name: &str) -> Option<SecondaryIndex> {
        if name == "$idx-all" {
            Some(SecondaryIndex::All)
        } else if let Some(category) = name.strip_prefix("$idx-ce-") {
            Some(SecondaryIndex::Category(category.as_bytes().into()))
        } else {
            name.strip_prefix("$idx-et-")
                .map(|t| SecondaryIndex::EventType(t.into()))
        }
    }

    /// Whether an event of `stream` and `event_type` is in this index.
    pub(crate) fn contains(&self, stream: &[u8], event_type: &str) -> bool {
        if is_system(stream, event_type) {
            return false;
        }
        match self {
            SecondaryIndex::All => true,
            SecondaryIndex::Category(c) => category(stream) == &**c,
            SecondaryIndex::EventType(t) => event_type == &**t,
        }
    }
}

/// Whether an event is a system event, which no index takes.
fn is_system(stream: &[u8], event_type: &str) -> bool {
    stream.first() == Some(&b'$') || event_type.starts_with('$')
}

/// A stream's category: its name up to the first `-`, or all of it.
fn category(stream: &[u8]) -> &[u8] {
    stream
        .iter()
        .position(|&b| b == b'-')
        .map_or(stream, |dash| &stream[..dash])
}

/// The indexes' entries: log indexes, in commit order.
#[derive(Debug, Default)]
pub(super) struct SecondaryIndexes {
    all: Vec<u32>,
    /// The entries of each category, by slot.
    categories: Vec<Vec<u32>>,
    category_slots: HashMap<Box<[u8]>, u32>,
    /// The category slot of each stream seen, by stream id (`u32::MAX`:
    /// not looked up yet), so that an append finds its category without
    /// hashing the name.
    stream_slots: Vec<u32>,
    types: HashMap<Arc<str>, Vec<u32>>,
}

impl SecondaryIndexes {
    /// Adds the record at log index `index` (of `stream`, named `name`, of
    /// interned `event_type`) to the indexes it belongs in.
    pub(super) fn add(&mut self, index: u32, stream: StreamId, name: &[u8], event_type: &Arc<str>) {
        if is_system(name, event_type) {
            return;
        }
        self.all.push(index);
        let slot = self.category_slot(stream, name);
        self.categories[slot as usize].push(index);
        match self.types.get_mut(&**event_type) {
            Some(entries) => entries.push(index),
            None => {
                self.types.insert(event_type.clone(), vec![index]);
            }
        }
    }

    fn category_slot(&mut self, stream: StreamId, name: &[u8]) -> u32 {
        let s = stream as usize;
        if let Some(&slot) = self.stream_slots.get(s)
            && slot != u32::MAX
        {
            return slot;
        }
        let c = category(name);
        let slot = match self.category_slots.get(c) {
            Some(&slot) => slot,
            None => {
                // As many categories as streams at most, and stream ids are
                // `u32`: the slot fits.
                let slot = u32::try_from(self.categories.len()).unwrap_or(u32::MAX - 1);
                self.categories.push(Vec::new());
                self.category_slots.insert(c.into(), slot);
                slot
            }
        };
        if self.stream_slots.len() <= s {
            self.stream_slots.resize(s + 1, u32::MAX);
        }
        self.stream_slots[s] = slot;
        slot
    }

    /// The entries of `index`, in commit order (empty for a category or type
    /// no event has).
    pub(super) fn entries(&self, index: &SecondaryIndex) -> &[u32] {
        match index {
            SecondaryIndex::All => &self.all,
            SecondaryIndex::Category(c) => self
                .category_slots
                .get(&**c)
                .map_or(&[][..], |&slot| &self.categories[slot as usize]),
            SecondaryIndex::EventType(t) => self.types.get(&**t).map_or(&[][..], Vec::as_slice),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_into_the_default_indexes_only() {
        assert_eq!(SecondaryIndex::parse("$idx-all"), Some(SecondaryIndex::All));
        assert_eq!(
            SecondaryIndex::parse("$idx-ce-order"),
            Some(SecondaryIndex::Category(b"order".as_slice().into()))
        );
        assert_eq!(
            SecondaryIndex::parse("$idx-et-Placed"),
            Some(SecondaryIndex::EventType("Placed".into()))
        );
        assert_eq!(SecondaryIndex::parse("$idx-user-by-country"), None);
        assert_eq!(SecondaryIndex::parse("$idx-allx"), None);
    }

    #[test]
    fn system_events_are_never_indexed_and_categories_end_at_the_first_dash() {
        let mut ix = SecondaryIndexes::default();
        let placed: Arc<str> = Arc::from("Placed");
        let link: Arc<str> = Arc::from("$>");
        ix.add(0, 0, b"order-1-a", &placed);
        ix.add(1, 1, b"$ce-order", &link);
        ix.add(2, 2, b"$$order-1-a", &placed);
        ix.add(3, 3, b"order", &placed);
        ix.add(4, 0, b"order-1-a", &link);
        ix.add(5, 4, b"orderline-2", &placed);
        assert_eq!(ix.entries(&SecondaryIndex::All), &[0, 3, 5]);
        let order = SecondaryIndex::parse("$idx-ce-order").unwrap();
        assert_eq!(ix.entries(&order), &[0, 3]);
        assert!(order.contains(b"order-9", "X"));
        assert!(!order.contains(b"orderline-9", "X"));
        assert!(!order.contains(b"order-9", "$metadata"));
        let placed_ix = SecondaryIndex::parse("$idx-et-Placed").unwrap();
        assert_eq!(ix.entries(&placed_ix), &[0, 3, 5]);
        assert!(
            ix.entries(&SecondaryIndex::parse("$idx-ce-nothing").unwrap())
                .is_empty()
        );
    }
}
