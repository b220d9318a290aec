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

use super::emit::{Emitted, ExtraMetadata, push_int};
use super::source::{SourceEvent, is_stream_deleted_event};

/// The event type of a link.
pub(crate) const LINK: &str = "$>";
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

    /// What the projection emits for `ev` (which passed the `$all` filter).
    pub(crate) fn process(self, ev: &SourceEvent<'_>) -> Option<Emitted> {
        match self {
            Standard::Streams => streams(ev),
            Standard::StreamByCategory => stream_by_category(ev),
            Standard::ByCategory => by_category(ev),
            Standard::ByEventType => by_event_type(ev),
            Standard::ByCorrelationId => by_correlation_id(ev),
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
    match stream.find('-') {
        Some(i) if i > 0 => Some(&stream[..i]),
        _ => None,
    }
}

/// `<revision>@<stream>`, a link's data.
fn link_to(revision: u64, stream: &str) -> String {
    let mut s = String::with_capacity(stream.len() + 21);
    push_int(&mut s, revision);
    s.push('@');
    s.push_str(stream);
    s
}

/// `prefix` then `name`: an output stream's name.
fn named(prefix: &str, name: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + name.len());
    s.push_str(prefix);
    s.push_str(name);
    s
}

fn link(stream: String, data: String, extra: ExtraMetadata) -> Emitted {
    Emitted {
        stream,
        event_type: LINK.to_owned(),
        is_json: false,
        data,
        extra,
    }
}

/// `IndexStreams`: the first event of each stream, linked into `$streams`.
fn streams(ev: &SourceEvent<'_>) -> Option<Emitted> {
    (ev.revision == 0).then(|| {
        link(
            "$streams".to_owned(),
            link_to(0, ev.stream),
            ExtraMetadata::new(),
        )
    })
}

/// `CategorizeStreamByPath`: a `$@` reference to each new stream in
/// `$category-<category>`.
fn stream_by_category(ev: &SourceEvent<'_>) -> Option<Emitted> {
    if ev.revision != 0 {
        return None;
    }
    let category = category(ev.stream)?;
    Some(Emitted {
        stream: named("$category-", category),
        event_type: STREAM_REFERENCE.to_owned(),
        is_json: false,
        data: ev.stream.to_owned(),
        extra: ExtraMetadata::new(),
    })
}

/// `CategorizeEventsByStreamPath`: each event (or link target, or deletion)
/// linked into `$ce-<category>`, with `$o` (and `$deleted`) in its metadata.
fn by_category(ev: &SourceEvent<'_>) -> Option<Emitted> {
    let deleted = is_stream_deleted_event(ev.stream, ev.event_type, &ev.data());
    let original = deleted.as_deref().unwrap_or(ev.stream);
    let category = category(original)?;
    let target = if ev.event_type == LINK {
        String::from_utf8_lossy(&ev.data()).into_owned()
    } else {
        link_to(ev.revision, ev.stream)
    };
    let mut extra = ExtraMetadata::new();
    extra.push_string("$o", original);
    if deleted.is_some() {
        extra.push_raw("$deleted", "-1");
    }
    Some(link(named("$ce-", category), target, extra))
}

/// `IndexEventsByEventType`: each event linked into `$et-<type>`, deletions
/// into `$et-$deleted`.
fn by_event_type(ev: &SourceEvent<'_>) -> Option<Emitted> {
    if ev.event_type == LINK {
        return None;
    }
    let deleted = is_stream_deleted_event(ev.stream, ev.event_type, &ev.data());
    let mut extra = ExtraMetadata::new();
    let (event_type, stream) = match &deleted {
        Some(stream) => {
            extra.push_raw("$deleted", "-1");
            ("$deleted", stream.as_str())
        }
        None => (ev.event_type, ev.stream),
    };
    Some(link(
        named("$et-", event_type),
        link_to(ev.revision, stream),
        extra,
    ))
}

/// `ByCorrelationId`: events whose metadata has a `$correlationId`, linked
/// into `$bc-<id>`.
fn by_correlation_id(ev: &SourceEvent<'_>) -> Option<Emitted> {
    let metadata = ev.metadata();
    if metadata.is_empty() || !contains(&metadata, b"$correlationId") {
        return None;
    }
    let serde_json::Value::Object(map) = serde_json::from_slice(&metadata).ok()? else {
        return None;
    };
    let id = match map.get("$correlationId")? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    let mut extra = ExtraMetadata::new();
    extra.push_string("$eventTimestamp", &timestamp(ev.created));
    Some(link(
        named("$bc-", &id),
        link_to(ev.revision, ev.stream),
        extra,
    ))
}

/// Whether `needle` occurs in `haystack` (a cheap test before parsing JSON).
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// .NET ticks since the Unix epoch as `yyyy-MM-ddTHH:mm:ss.ffffffZ` (UTC), the
/// format of `$eventTimestamp`.
pub(crate) fn timestamp(ticks: i64) -> String {
    let micros = ticks.div_euclid(10);
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
    fn timestamps_are_utc_with_six_fraction_digits() {
        // 2021-03-04T05:06:07.123456Z
        let secs = 1_614_834_367i64;
        let ticks = secs * 10_000_000 + 1_234_560;
        assert_eq!(timestamp(ticks), "2021-03-04T05:06:07.123456Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000000Z");
    }
}
