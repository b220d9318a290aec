//! The stream index: for each stream, where its events are in the
//! [`crate::log::Log`], whether it was deleted, and its metadata.
//!
//! # Deletion, as the real server does it
//!
//! - A **soft delete** is not a flag: it writes the stream's metadata (to
//!   `$$<stream>`, event type `$metadata`) with `$tb` (truncate before) set to
//!   `i64::MAX`, keeping the other metadata properties. Reads then find no event
//!   and answer "stream not found". The next append to the stream "undeletes" it:
//!   before the new events the server writes the metadata again with `$tb` set to
//!   the first new revision, so the old events stay hidden and the revisions
//!   continue where they were. Users can observe both metadata events.
//! - A **tombstone** (hard delete) writes a `$streamDeleted` record at revision
//!   `i64::MAX` and marks the stream deleted forever.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;

/// A stream, as an index into [`Index`]'s table.
pub(crate) type StreamId = u32;

/// The `$tb` value that marks a soft-deleted stream (`long.MaxValue` in the real
/// server).
pub(crate) const SOFT_DELETED_TB: u64 = i64::MAX as u64;

/// The revision of a tombstone record (`long.MaxValue`).
pub(crate) const TOMBSTONE_REVISION: u64 = i64::MAX as u64;

/// Parsed stream metadata (the latest event of `$$<stream>`), with the system
/// properties the server honours on reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StreamMetadata {
    /// `$maxCount`: only the last N events are readable.
    pub(crate) max_count: Option<u64>,
    /// `$maxAge` (seconds): older events are not readable.
    pub(crate) max_age: Option<Duration>,
    /// `$tb`: events before this revision are not readable.
    pub(crate) truncate_before: Option<u64>,
    /// `$cacheControl` (seconds), stored only.
    pub(crate) cache_control: Option<Duration>,
    /// `$acl`, stored only (the embedded server runs insecure).
    pub(crate) acl: Option<serde_json::Value>,
    /// The whole JSON object (user properties too), kept so that a soft delete
    /// can rewrite the metadata with only `$tb` changed.
    pub(crate) raw: serde_json::Map<String, serde_json::Value>,
}

impl StreamMetadata {
    /// Parses a metadata event's data. Data that is not a JSON object gives
    /// default metadata (the real server ignores unparsable metadata).
    pub(crate) fn parse(data: &[u8]) -> StreamMetadata {
        let Ok(serde_json::Value::Object(raw)) = serde_json::from_slice(data) else {
            return StreamMetadata::default();
        };
        let num = |k: &str| raw.get(k).and_then(serde_json::Value::as_u64);
        StreamMetadata {
            max_count: num("$maxCount"),
            max_age: num("$maxAge").map(Duration::from_secs),
            truncate_before: num("$tb"),
            cache_control: num("$cacheControl").map(Duration::from_secs),
            acl: raw.get("$acl").cloned(),
            raw,
        }
    }

    /// Whether this metadata marks the stream soft-deleted.
    pub(crate) fn is_soft_deleted(&self) -> bool {
        self.truncate_before == Some(SOFT_DELETED_TB)
    }

    /// The JSON of this metadata with `$tb` replaced.
    pub(crate) fn with_truncate_before(&self, tb: u64) -> Vec<u8> {
        let mut raw = self.raw.clone();
        raw.insert("$tb".to_owned(), serde_json::Value::from(tb));
        serde_json::to_vec(&serde_json::Value::Object(raw)).unwrap_or_default()
    }
}

/// What the index knows about one stream.
#[derive(Debug)]
pub(crate) struct StreamEntry {
    /// The stream's name (UTF-8 bytes, as on the wire).
    pub(crate) name: Bytes,
    /// `revisions[r]` is the log index of the event at revision `r`.
    pub(crate) revisions: Vec<u32>,
    /// Log index of the tombstone record, when the stream was hard deleted.
    pub(crate) tombstone: Option<u32>,
    /// The parsed metadata, when `$$<name>` has events.
    pub(crate) metadata: Option<Box<StreamMetadata>>,
    /// For a metadata stream `$$x`, the id of `x` (created on demand).
    pub(crate) meta_of: Option<StreamId>,
    /// For a stream `x`, the id of `$$x` when it exists.
    pub(crate) meta_stream: Option<StreamId>,
}

impl StreamEntry {
    /// The revision of the last event, if any.
    pub(crate) fn last_revision(&self) -> Option<u64> {
        (self.revisions.len() as u64).checked_sub(1)
    }

    /// Whether the stream was tombstoned.
    pub(crate) fn is_tombstoned(&self) -> bool {
        self.tombstone.is_some()
    }

    /// Whether the stream is soft deleted (and not yet recreated).
    pub(crate) fn is_soft_deleted(&self) -> bool {
        self.metadata.as_ref().is_some_and(|m| m.is_soft_deleted())
    }
}

/// Stream name → [`StreamEntry`].
#[derive(Debug, Default)]
pub(crate) struct Index {
    by_name: HashMap<Bytes, StreamId>,
    streams: Vec<StreamEntry>,
}

/// The prefix of metadata stream names.
pub(crate) const META_PREFIX: &str = "$$";

impl Index {
    /// Looks a stream up by name.
    pub(crate) fn find(&self, name: &[u8]) -> Option<StreamId> {
        self.by_name.get(name).copied()
    }

    /// The entry of a stream id.
    pub(crate) fn get(&self, id: StreamId) -> &StreamEntry {
        &self.streams[id as usize]
    }

    /// The entry of a stream id, mutably.
    pub(crate) fn get_mut(&mut self, id: StreamId) -> &mut StreamEntry {
        &mut self.streams[id as usize]
    }

    /// The entry of a stream, by name.
    pub(crate) fn entry(&self, name: &[u8]) -> Option<&StreamEntry> {
        self.find(name).map(|id| self.get(id))
    }

    /// The id of a stream, creating an empty entry when it is new. Creating
    /// `$$x` links it with `x` (creating `x` too), so metadata can be found from
    /// the stream and the stream from its metadata.
    ///
    /// A name of many `$$` (`$$$$$$x`) is a chain of metastreams, each the
    /// metadata of the next shorter one. The chain is walked with a loop, not
    /// recursion: its depth is the client's to choose (half the name's length),
    /// and a recursion that deep used to overflow the stack.
    pub(crate) fn get_or_create(&mut self, name: &Bytes) -> StreamId {
        if let Some(id) = self.find(name) {
            return id;
        }
        // The names to create, longest first: `name`, then each base in turn,
        // down to the first that exists (or that is not a metastream).
        let mut missing = vec![name.clone()];
        let mut existing_base = None;
        while let Some(base) = missing.last().and_then(|n| {
            n.strip_prefix(META_PREFIX.as_bytes())
                .map(|b| n.slice_ref(b))
        }) {
            if let Some(id) = self.find(&base) {
                existing_base = Some(id);
                break;
            }
            missing.push(base);
        }
        // Create from the shortest up, linking each metastream to its base.
        let mut base = existing_base;
        for n in missing.iter().rev() {
            let id = self.insert(n.clone());
            if let Some(b) = base
                && n.starts_with(META_PREFIX.as_bytes())
            {
                self.streams[id as usize].meta_of = Some(b);
                self.streams[b as usize].meta_stream = Some(id);
            }
            base = Some(id);
        }
        self.find(name).expect("just created")
    }

    /// Adds an empty entry for a name that has none.
    fn insert(&mut self, name: Bytes) -> StreamId {
        let id = StreamId::try_from(self.streams.len()).expect("fewer than 2^32 streams");
        self.streams.push(StreamEntry {
            name: name.clone(),
            revisions: Vec::new(),
            tombstone: None,
            metadata: None,
            meta_of: None,
            meta_stream: None,
        });
        self.by_name.insert(name, id);
        id
    }

    /// The name of a stream id.
    pub(crate) fn name(&self, id: StreamId) -> &Bytes {
        &self.streams[id as usize].name
    }

    /// How many streams the index knows (including those with only metadata).
    pub(crate) fn len(&self) -> usize {
        self.streams.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_parsed_and_rewritten() {
        let m = StreamMetadata::parse(br#"{"$maxCount":3,"$maxAge":60,"$tb":2,"user":"x"}"#);
        assert_eq!(m.max_count, Some(3));
        assert_eq!(m.max_age, Some(Duration::from_secs(60)));
        assert_eq!(m.truncate_before, Some(2));
        let again = StreamMetadata::parse(&m.with_truncate_before(SOFT_DELETED_TB));
        assert!(again.is_soft_deleted());
        assert_eq!(again.raw.get("user").unwrap(), "x");
        assert_eq!(
            StreamMetadata::parse(b"not json"),
            StreamMetadata::default()
        );
    }

    #[test]
    fn metastreams_are_linked() {
        let mut index = Index::default();
        let meta = index.get_or_create(&Bytes::from_static(b"$$order-1"));
        let base = index.find(b"order-1").unwrap();
        assert_eq!(index.get(meta).meta_of, Some(base));
        assert_eq!(index.get(base).meta_stream, Some(meta));
    }

    #[test]
    fn a_deep_metastream_chain_is_created_without_recursion() {
        // 20,000 levels: the recursive walk this replaces overflowed a 2 MiB
        // thread stack at half that.
        let depth = 20_000;
        let name = Bytes::from(format!("{}x", META_PREFIX.repeat(depth)));
        let mut index = Index::default();
        let top = index.get_or_create(&name);
        assert_eq!(index.len(), depth + 1);
        let mut id = top;
        for _ in 0..depth {
            id = index.get(id).meta_of.expect("linked to its base");
        }
        assert_eq!(&index.name(id)[..], b"x");
        // Finding it again creates nothing.
        assert_eq!(index.get_or_create(&name), top);
        assert_eq!(index.len(), depth + 1);
    }
}
