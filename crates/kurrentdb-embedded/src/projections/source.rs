//! What a projection reads: its source definition (`fromAll`, `fromStream(s)`,
//! `fromCategory`, which events, links or not, partitioning) and the events
//! that pass it, in log order.
//!
//! Every source is read by following the log (`$all`), as a subscriber does,
//! so that processing order is commit order whatever the source. A stream
//! source (`fromStream`, `fromStreams`, `fromCategory` = `$ce-<category>`)
//! keeps the records of its streams and resolves their links, as KurrentDB's
//! stream readers do (`resolveLinkTos: true`); `fromAll` resolves nothing
//! and passes the events of non-system streams and of their metadata streams
//! (`TransactionFileEventFilter.PassesSource`), link events only with
//! `$includeLinks`. Events flagged JSON whose data is not valid JSON are
//! skipped (KurrentDB's content-type validation, `PassesValidation`).
//!
//! A simplification: a stream source reads the stream's records as they were
//! written, not through its `$maxCount`/`$maxAge`/`$tb` (KurrentDB's stream
//! reader honours them).

use std::cell::OnceCell;
use std::collections::HashSet;

use crate::index::SOFT_DELETED_TB;
use crate::log::LINK_EVENT_TYPE;
use crate::store::{NamedRecord, ResolvedRecord};

use super::event::SourceEvent;
use super::json::valid_json;

/// Where a projection's events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// `fromAll()`.
    All,
    /// `fromStream(s)` / `fromStreams([...])` / `fromCategory(c)`
    /// (`$ce-c`): the records of these streams, links resolved (built by the
    /// JavaScript engine only).
    #[cfg_attr(not(feature = "javascript"), allow(dead_code))]
    Streams(Vec<String>),
}

/// A projection's source definition.
#[derive(Debug, Clone)]
pub(crate) struct SourceDef {
    pub(crate) kind: SourceKind,
    /// Every event type (`$any`, or no handler filter); else only `events`.
    pub(crate) all_events: bool,
    pub(crate) events: HashSet<String>,
    /// `$includeLinks` (fromAll only): pass link events.
    pub(crate) include_links: bool,
    /// `foreachStream()`: one state per stream.
    #[cfg_attr(not(feature = "javascript"), allow(dead_code))]
    pub(crate) by_stream: bool,
    /// `partitionBy(fn)`.
    #[cfg_attr(not(feature = "javascript"), allow(dead_code))]
    pub(crate) by_custom_partitions: bool,
    /// A `$deleted` handler: stream deletions are notifications, not events.
    pub(crate) handles_deleted: bool,
}

impl SourceDef {
    /// `fromAll()` with every event.
    pub(crate) fn all(include_links: bool) -> SourceDef {
        SourceDef {
            kind: SourceKind::All,
            all_events: true,
            events: HashSet::new(),
            include_links,
            by_stream: false,
            by_custom_partitions: false,
            handles_deleted: false,
        }
    }

    /// Which of the two plain `fromAll` sources this is (every event, links
    /// or not: the standard projections' sources), when it is one. Sources
    /// with the same kind select the same event from a record, so a thread
    /// running several selects once for all of them.
    pub(crate) fn shared_kind(&self) -> Option<usize> {
        (self.kind == SourceKind::All && self.all_events && !self.handles_deleted)
            .then_some(usize::from(self.include_links))
    }

    /// Whether the log must be read with links resolved.
    pub(crate) fn resolves_links(&self) -> bool {
        matches!(self.kind, SourceKind::Streams(_))
    }

    /// The event this source passes for a record read from the log, if any.
    /// `stream` and `json_valid` keep the record's stream name (checked as
    /// UTF-8) and whether the event's data is valid JSON once they have been
    /// looked at, for the other projections reading the same record.
    pub(crate) fn select<'a>(
        &self,
        read: &'a ResolvedRecord,
        stream: &OnceCell<Option<&'a str>>,
        json_valid: &OnceCell<bool>,
    ) -> Option<Selected<'a>> {
        let original = read.original();
        let position_stream = (*stream.get_or_init(|| std::str::from_utf8(&original.stream).ok()))?;
        let (event, link) = match &self.kind {
            SourceKind::All => {
                let rec = read.event.as_ref()?;
                if !passes_all(position_stream, &rec.record.event_type, self.include_links) {
                    return None;
                }
                (rec, None)
            }
            SourceKind::Streams(streams) => {
                if !streams.iter().any(|s| s == position_stream) {
                    return None;
                }
                match (&read.event, &read.link) {
                    (Some(event), link) => (event, link.as_ref()),
                    // A link whose target is gone: a deletion notification
                    // when the link says so ($ce- links of deletions).
                    (None, Some(link)) => {
                        return deleted_link(link).map(|stream| Selected::Deleted { stream });
                    }
                    (None, None) => return None,
                }
            }
        };
        // The record's own stream name was checked above: not again.
        let checked = std::ptr::eq(event, original).then_some(position_stream);
        let ev = SourceEvent::of(event, link, checked)?;
        if self.handles_deleted
            && let Some(stream) = is_stream_deleted_event(ev.stream, ev.event_type, ev.data())
        {
            return Some(Selected::Deleted { stream });
        }
        if !(self.all_events || self.events.contains(ev.event_type)) {
            return None;
        }
        if event.record.is_json
            && !*json_valid.get_or_init(|| valid_json(event.record.data_slice()))
        {
            return None;
        }
        Some(Selected::Event(ev))
    }
}

/// What a source passes for one record.
#[derive(Clone)]
pub(crate) enum Selected<'a> {
    /// An event to process.
    Event(SourceEvent<'a>),
    /// A stream was deleted (to a projection with a `$deleted` handler).
    Deleted { stream: String },
}

/// `TransactionFileEventFilter.PassesSource`: non-system streams, and the
/// metadata streams of non-system streams; links only when included.
pub(crate) fn passes_all(stream: &str, event_type: &str, include_links: bool) -> bool {
    if !include_links && event_type == LINK_EVENT_TYPE {
        return false;
    }
    crate::store::is_source_stream(stream.as_bytes())
}

/// `StreamDeletedHelper.IsStreamDeletedEvent`: the stream a tombstone
/// (`$streamDeleted`) or a soft delete (`$metadata` of `$$x` with `$tb` =
/// `i64::MAX`) deletes.
pub(crate) fn is_stream_deleted_event(
    stream: &str,
    event_type: &str,
    data: &[u8],
) -> Option<String> {
    if stream.is_empty() {
        return None;
    }
    match stream.strip_prefix("$$") {
        Some(original) => {
            if event_type != "$metadata" {
                return None;
            }
            let value: serde_json::Value = serde_json::from_slice(data).ok()?;
            let tb = value.get("$tb")?.as_u64()?;
            (tb == SOFT_DELETED_TB).then(|| original.to_owned())
        }
        None => (event_type == "$streamDeleted").then(|| stream.to_owned()),
    }
}

/// The stream a link to a deletion names: its `$o` metadata when it has
/// `"$deleted": -1` (what `$by_category` writes for deletions).
fn deleted_link(link: &NamedRecord) -> Option<String> {
    let metadata = link.record.metadata_slice();
    let value: serde_json::Value = serde_json::from_slice(metadata).ok()?;
    if value.get("$deleted")?.as_i64()? != -1 {
        return None;
    }
    value.get("$o")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_passes_user_and_their_metadata_streams_only() {
        assert!(passes_all("order-1", "Created", false));
        assert!(passes_all("$$order-1", "$metadata", false));
        assert!(!passes_all("$ce-order", "$>", true));
        assert!(!passes_all("$$$ce-order", "$metadata", false));
        assert!(!passes_all("order-1", "$>", false));
        assert!(passes_all("order-1", "$>", true));
    }

    #[test]
    fn deletions_are_tombstones_and_max_truncate_before() {
        let max = format!("{{\"$tb\":{}}}", i64::MAX);
        assert_eq!(
            is_stream_deleted_event("$$order-1", "$metadata", max.as_bytes()),
            Some("order-1".to_owned())
        );
        assert_eq!(
            is_stream_deleted_event("$$order-1", "$metadata", b"{\"$tb\":3}"),
            None
        );
        assert_eq!(
            is_stream_deleted_event("order-1", "$streamDeleted", b""),
            Some("order-1".to_owned())
        );
        assert_eq!(is_stream_deleted_event("order-1", "Created", b""), None);
    }
}
