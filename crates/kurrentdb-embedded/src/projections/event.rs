//! An event as a projection sees it ([`SourceEvent`]): what a source passes
//! ([`super::source`]), a handler reads, and what is emitted is caused by.

use crate::store::NamedRecord;

/// An event as a projection handler sees it.
#[derive(Debug, Clone)]
pub(crate) struct SourceEvent<'a> {
    /// The event's stream.
    pub(crate) stream: &'a str,
    pub(crate) revision: u64,
    pub(crate) event_type: &'a str,
    pub(crate) record: &'a NamedRecord,
    /// The link that led to the event (stream sources).
    #[cfg_attr(not(feature = "javascript"), allow(dead_code))]
    pub(crate) link: Option<&'a NamedRecord>,
    /// The stream and revision the event was read at (the link's, when
    /// resolved).
    pub(crate) position_stream: &'a str,
    pub(crate) position_revision: u64,
    pub(crate) created: i64,
}

impl<'a> SourceEvent<'a> {
    /// `stream`: the event's stream name, when already checked as UTF-8.
    pub(super) fn of(
        event: &'a NamedRecord,
        link: Option<&'a NamedRecord>,
        stream: Option<&'a str>,
    ) -> Option<SourceEvent<'a>> {
        let stream = match stream {
            Some(stream) => stream,
            None => std::str::from_utf8(&event.stream).ok()?,
        };
        let (position_stream, position_revision) = match link {
            Some(at) => (std::str::from_utf8(&at.stream).ok()?, at.record.revision),
            None => (stream, event.record.revision),
        };
        Some(SourceEvent {
            stream,
            revision: event.record.revision,
            event_type: &event.record.event_type,
            record: event,
            link,
            position_stream,
            position_revision,
            created: event.record.created,
        })
    }

    /// The event's data.
    pub(crate) fn data(&self) -> &'a [u8] {
        self.record.record.data_slice()
    }

    /// The event's user metadata.
    pub(crate) fn metadata(&self) -> &'a [u8] {
        self.record.record.metadata_slice()
    }

    /// Whether the event's data is JSON.
    pub(crate) fn is_json(&self) -> bool {
        self.record.record.is_json
    }
}

/// Whether `metadata` mentions `$correlationId`: a cheap test before it is
/// parsed for one.
pub(crate) fn mentions_correlation_id(metadata: &[u8]) -> bool {
    const KEY: &[u8] = b"$correlationId";
    metadata.windows(KEY.len()).any(|w| w == KEY)
}
