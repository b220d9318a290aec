//! The five standard (system) projections, native here as in KurrentDB
//! (`src/KurrentDB.Projections.V1/Standard/*.cs`, where they are C# handlers,
//! not JavaScript). Each reads `$all` (`fromAll()`, all events) and turns an
//! event into at most one emitted event:
//!
//! | projection | writes to | event | data |
//! |---|---|---|---|
//! | `$by_category` | `$ce-<category>` | `$>` | `<revision>@<stream>` |
//! | `$by_event_type` | `$et-<event type>` | `$>` | `<revision>@<stream>` |
//! | `$stream_by_category` | `$category-<category>` | `$@` | the stream name |
//! | `$streams` | `$streams` | `$>` | `0@<stream>` |
//! | `$by_correlation_id` | `$bc-<correlation id>` | `$>` | `<revision>@<stream>` |
//!
//! The rules, from KurrentDB's handlers:
//! - **Which events**: the `$all` reader passes events of non-system streams
//!   and of the metadata streams (`$$x`) of non-system streams
//!   (`TransactionFileEventFilter.PassesSource`); link events (`$>`) only to
//!   the projections that include links (`$by_category`, `$streams`,
//!   `$stream_by_category`). Events of `$`-streams never pass, so the
//!   projections never see their own output.
//! - **Category** (`StreamCategoryExtractorByFirstSeparator`, configured
//!   `first` / `-`): the part of the stream name before its first `-`; none
//!   when the name starts with `$` or has no `-` after its first character.
//! - **Deletes** (`StreamDeletedHelper.IsStreamDeletedEvent`): a tombstone
//!   (`$streamDeleted`, revision `i64::MAX`) or a soft delete (a `$metadata`
//!   event of `$$x` whose `$tb` is `i64::MAX`) counts as a deletion of the
//!   stream: `$by_category` links it into the deleted stream's category with
//!   metadata `"$o"` (the stream) and `"$deleted": -1`; `$by_event_type` links
//!   it into `$et-$deleted` as `<revision>@<deleted stream>` with
//!   `"$deleted": -1`.
//! - **Links**: `$by_category` links a link event's target (its data), so
//!   `$ce-` streams point at original events; `$streams` and
//!   `$stream_by_category` take the first event (revision 0) of each stream.
//! - **Correlation** (`ByCorrelationId`, configured with
//!   `correlationIdProperty: "$correlationId"`): events whose user metadata is
//!   a JSON object with a string `$correlationId`; the link's metadata adds
//!   `$eventTimestamp`.
//!
//! Every emitted event's metadata also carries the projection's checkpoint
//! tag and `$causedBy` (see [`super::emit`]).

use super::emit::{Data, Emits, Emitted, ExtraMetadata};
use super::event::{SourceEvent, mentions_correlation_id};
use super::source::is_stream_deleted_event;
use crate::log::LINK_EVENT_TYPE;
use crate::log::link::ORIGIN_KEY;
use crate::ticks::timestamp;

/// The event type of a stream reference (`$stream_by_category`'s output).
const STREAM_REFERENCE: &str = "$@";

/// One of the standard projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standard {
    Streams,
    StreamByCategory,
    ByCategory,
    ByEventType,
    ByCorrelationId,
}

impl Standard {
    /// All five, in the order KurrentDB registers them (their projection ids
    /// are 1 to 5 on a new node).
    pub(crate) const ALL: [Standard; 5] = [
        Standard::Streams,
        Standard::StreamByCategory,
        Standard::ByCategory,
        Standard::ByEventType,
        Standard::ByCorrelationId,
    ];

    /// The projection's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Standard::Streams => "$streams",
            Standard::StreamByCategory => "$stream_by_category",
            Standard::ByCategory => "$by_category",
            Standard::ByEventType => "$by_event_type",
            Standard::ByCorrelationId => "$by_correlation_id",
        }
    }

    /// The handler type KurrentDB records for it (`native:<class>`).
    pub(crate) fn handler_type(self) -> &'static str {
        match self {
            Standard::Streams => "native:KurrentDB.Projections.Core.Standard.IndexStreams",
            Standard::StreamByCategory => {
                "native:KurrentDB.Projections.Core.Standard.CategorizeStreamByPath"
            }
            Standard::ByCategory => {
                "native:KurrentDB.Projections.Core.Standard.CategorizeEventsByStreamPath"
            }
            Standard::ByEventType => {
                "native:KurrentDB.Projections.Core.Standard.IndexEventsByEventType"
            }
            Standard::ByCorrelationId => {
                "native:KurrentDB.Projections.Core.Standard.ByCorrelationId"
            }
        }
    }

    /// The configuration KurrentDB creates it with (its "query").
    pub(crate) fn config(self) -> &'static str {
        match self {
            Standard::StreamByCategory | Standard::ByCategory => "first\r\n-",
            Standard::ByCorrelationId => "{\"correlationIdProperty\":\"$correlationId\"}",
            Standard::Streams | Standard::ByEventType => "",
        }
    }

    /// Whether link events reach the handler (`SetIncludeLinks`).
    pub(crate) fn includes_links(self) -> bool {
        matches!(
            self,
            Standard::Streams | Standard::StreamByCategory | Standard::ByCategory
        )
    }

    /// Emits what the projection emits for `ev` (which passed the `$all`
    /// filter) to `out`.
    pub(crate) fn process(self, ev: &SourceEvent<'_>, out: &mut Emits) {
        match self {
            Standard::Streams => streams(ev, out),
            Standard::StreamByCategory => stream_by_category(ev, out),
            Standard::ByCategory => by_category(ev, out),
            Standard::ByEventType => by_event_type(ev, out),
            Standard::ByCorrelationId => by_correlation_id(ev, out),
        }
    }

    /// Whether [`Standard::process`] may emit anything for `ev`: a cheap
    /// test, so that the projections that act on few events (`$streams`
    /// and `$stream_by_category` on each stream's first, `$by_correlation_id`
    /// on correlated ones) cost little for the others. When it answers
    /// `false`, `process` emits nothing.
    pub(crate) fn may_emit(self, ev: &SourceEvent<'_>) -> bool {
        match self {
            Standard::Streams | Standard::StreamByCategory => ev.revision == 0,
            Standard::ByCategory => true,
            Standard::ByEventType => ev.event_type != LINK_EVENT_TYPE,
            Standard::ByCorrelationId => {
                let metadata = ev.metadata();
                !metadata.is_empty() && mentions_correlation_id(metadata)
            }
        }
    }

    /// What the projection emits with each checkpoint: `$by_event_type`
    /// writes its position to `$et` as a `$Checkpoint` event
    /// (`IndexEventsByEventType.ProcessNewCheckpoint`).
    pub(crate) fn on_checkpoint(self, position: u64) -> Option<Emitted> {
        (self == Standard::ByEventType).then(|| Emitted {
            stream: "$et".to_owned(),
            event_type: "$Checkpoint".to_owned(),
            is_json: true,
            data: format!("{{\"$c\":{position},\"$p\":{position}}}"),
            extra: ExtraMetadata::new(),
        })
    }
}

/// The category of a stream: the part before the first `-` (none for system
/// streams, or when the `-` is missing or first).
pub(crate) fn category(stream: &str) -> Option<&str> {
    if stream.starts_with('$') {
        return None;
    }
    // A byte search: names are short, and `-` is never part of another
    // character in UTF-8.
    match stream.bytes().position(|b| b == b'-') {
        Some(i) if i > 0 => stream.get(..i),
        _ => None,
    }
}

/// `IndexStreams`: the first event of each stream, linked into `$streams`.
fn streams(ev: &SourceEvent<'_>, out: &mut Emits) {
    if ev.revision == 0 {
        let data = Data::Link(0, ev.stream);
        out.push(LINK_EVENT_TYPE, false, ["$streams", ""], data, |_| {});
    }
}

/// `CategorizeStreamByPath`: a `$@` reference to each new stream in
/// `$category-<category>`.
fn stream_by_category(ev: &SourceEvent<'_>, out: &mut Emits) {
    if ev.revision != 0 {
        return;
    }
    if let Some(category) = category(ev.stream) {
        let stream = ["$category-", category];
        out.push(
            STREAM_REFERENCE,
            false,
            stream,
            Data::Text(ev.stream),
            |_| {},
        );
    }
}

/// `CategorizeEventsByStreamPath`: each event (or link target, or deletion)
/// linked into `$ce-<category>`, with `$o` (and `$deleted`) in its metadata.
fn by_category(ev: &SourceEvent<'_>, out: &mut Emits) {
    let deleted = is_stream_deleted_event(ev.stream, ev.event_type, ev.data());
    let original = deleted.as_deref().unwrap_or(ev.stream);
    let Some(category) = category(original) else {
        return;
    };
    if deleted.is_none() && ev.event_type != LINK_EVENT_TYPE {
        // The event itself: `<revision>@<stream>`, `$o` its stream.
        out.push_link(["$ce-", category], ev, true);
        return;
    }
    // A link event's target is its data.
    let link_data = (ev.event_type == LINK_EVENT_TYPE).then(|| ev.data());
    let link_target = link_data.map(String::from_utf8_lossy);
    let target = match &link_target {
        Some(target) => Data::Text(target),
        None => Data::Link(ev.revision, ev.stream),
    };
    out.push(LINK_EVENT_TYPE, false, ["$ce-", category], target, |x| {
        x.known_string(ORIGIN_KEY, original);
        if deleted.is_some() {
            x.known_raw(",\"$deleted\":", "-1");
        }
    });
}

/// `IndexEventsByEventType`: each event linked into `$et-<type>`, deletions
/// into `$et-$deleted`.
fn by_event_type(ev: &SourceEvent<'_>, out: &mut Emits) {
    if ev.event_type == LINK_EVENT_TYPE {
        return;
    }
    let Some(deleted) = is_stream_deleted_event(ev.stream, ev.event_type, ev.data()) else {
        out.push_link(["$et-", ev.event_type], ev, false);
        return;
    };
    let data = Data::Link(ev.revision, &deleted);
    out.push(LINK_EVENT_TYPE, false, ["$et-", "$deleted"], data, |x| {
        x.known_raw(",\"$deleted\":", "-1");
    });
}

/// `ByCorrelationId`: events whose metadata has a `$correlationId`, linked
/// into `$bc-<id>`.
fn by_correlation_id(ev: &SourceEvent<'_>, out: &mut Emits) {
    let metadata = ev.metadata();
    if metadata.is_empty() || !mentions_correlation_id(metadata) {
        return;
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(metadata) else {
        return;
    };
    let id = match map.get("$correlationId") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::Bool(b)) => b.to_string(),
        _ => return,
    };
    let data = Data::Link(ev.revision, ev.stream);
    out.push(LINK_EVENT_TYPE, false, ["$bc-", &id], data, |x| {
        x.known_string(",\"$eventTimestamp\":", &timestamp(ev.created));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_is_before_the_first_dash() {
        assert_eq!(category("order-1"), Some("order"));
        assert_eq!(category("order-1-a"), Some("order"));
        assert_eq!(category("order"), None);
        assert_eq!(category("-x"), None);
        assert_eq!(category("$ce-order"), None);
    }

    #[test]
    fn what_may_not_emit_emits_nothing() {
        use crate::log::Record;
        use crate::store::NamedRecord;
        let max = format!("{{\"$tb\":{}}}", i64::MAX);
        // Stream, event type, revision, data, metadata.
        type Case<'a> = (&'a str, &'a str, u64, &'a [u8], &'a [u8]);
        let cases: [Case<'_>; 9] = [
            ("order-1", "Placed", 0, b"{}", b""),
            ("order-1", "Placed", 3, b"{}", b""),
            (
                "order-1",
                "Placed",
                3,
                b"{}",
                br#"{"$correlationId":"c-1"}"#,
            ),
            ("order-1", "Placed", 4, b"{}", br#"{"$correlationId":7}"#),
            ("order-1", "Placed", 5, b"{}", br#"{"other":1}"#),
            ("order-1", LINK_EVENT_TYPE, 6, b"0@invoice-2", b""),
            ("order-1", "$streamDeleted", i64::MAX as u64, b"", b""),
            ("$$order-1", "$metadata", 2, max.as_bytes(), b""),
            ("single", "Placed", 0, b"{}", b""),
        ];
        for (stream, event_type, revision, data, metadata) in cases {
            let body = [data, metadata].concat();
            let record = NamedRecord {
                record: Record {
                    position: 4096,
                    revision,
                    created: 0,
                    id: uuid::Uuid::nil(),
                    stream: Default::default(),
                    is_json: true,
                    data_len: data.len() as u32,
                    event_type: event_type.into(),
                    body: body.into(),
                },
                stream: bytes::Bytes::copy_from_slice(stream.as_bytes()),
            };
            let ev = SourceEvent {
                stream,
                revision,
                event_type,
                record: &record,
                link: None,
                position_stream: stream,
                position_revision: revision,
                created: 0,
            };
            for standard in Standard::ALL {
                let mut out = Emits::default();
                let cause = crate::projections::emit::Cause {
                    caused_at: 4096,
                    tag: crate::projections::tag::Tag::Position(4096),
                    caused_by: None,
                    correlation_id: None,
                };
                out.begin(cause);
                standard.process(&ev, &mut out);
                if !standard.may_emit(&ev) {
                    assert!(
                        out.is_empty(),
                        "{standard:?} {stream} {event_type} {revision}"
                    );
                }
            }
        }
    }
}
