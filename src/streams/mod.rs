//! The v1 `event_store.client.streams.Streams` service, and what the other
//! services share with it:
//! - `requests`: the request messages of appends, deletes, reads and
//!   subscriptions, built from each operation's options;
//! - `reads`: [`ReadStream`] and [`CatchupSubscription`], the `Stream`s that
//!   reads and subscriptions return;
//! - `v2`: the v2 `StreamsService` (`multi_append_to_stream`, `append_records`);
//! - here: the checks made before sending, and the one conversion of a proto
//!   event into a [`RecordedEvent`] (persistent subscriptions use it too).
//!
//! Stream identifiers and UUIDs on the wire are converted in `crate::wire`,
//! which the other services share.
//!
//! The client's methods that use these live in `client::streams`.

mod reads;
mod requests;
pub(crate) mod v2;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use uuid::Uuid;

pub use self::reads::{CatchupSubscription, ReadStream};
pub(crate) use self::reads::{ResponseStream, SubscriptionMarkers};
pub(crate) use self::requests::{
    append_requests, delete_request, filter_expression, last_commit_request, read_all_request,
    read_stream_request, subscribe_to_all_request, subscribe_to_stream_request, tombstone_request,
};
pub use self::requests::{construct_filter_exclude_regex, construct_filter_include_regex};
use crate::error::{Error, Result};
use crate::proto::shared::{self as ps, StreamIdentifier};
use crate::proto::streams::{self as pst, ReadResp, read_resp};
use crate::types::{Checkpoint, RecordedEvent, StreamState, SubscriptionPosition, WriteResult};
use crate::wire::uuid_from_proto;

/// Checks what the server would reject, or what is surely a mistake, before
/// anything is sent.
pub(crate) fn check_stream_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::Programming("the stream name is empty".into()));
    }
    Ok(())
}

/// Refuses an event without a type before anything is sent.
pub(crate) fn check_event_type(r#type: &str, id: Uuid) -> Result<()> {
    if r#type.is_empty() {
        return Err(Error::Programming(format!("event {id} has an empty type")));
    }
    Ok(())
}

// ---- responses ---------------------------------------------------------------------

/// Reads an `AppendResp`: the stream's new version and the commit position, or
/// the in-band wrong expected version as [`Error::WrongCurrentVersion`].
pub(crate) fn append_result(
    resp: pst::AppendResp,
    stream_name: &str,
    expected: StreamState,
) -> Result<WriteResult> {
    use pst::append_resp::Result as R;
    use pst::append_resp::success::{CurrentRevisionOption, PositionOption};
    match resp.result {
        Some(R::Success(success)) => Ok(WriteResult {
            next_expected_version: match success.current_revision_option {
                Some(CurrentRevisionOption::CurrentRevision(v)) => StreamState::Version(v),
                Some(CurrentRevisionOption::NoStream(_)) | None => StreamState::NoStream,
            },
            commit_position: match success.position_option {
                Some(PositionOption::Position(p)) => p.commit_position,
                _ => 0,
            },
        }),
        Some(R::WrongExpectedVersion(wev)) => {
            use pst::append_resp::wrong_expected_version::CurrentRevisionOption as C;
            use pst::append_resp::wrong_expected_version::CurrentRevisionOption2060 as C0;
            let actual = match (
                wev.current_revision_option,
                wev.current_revision_option_20_6_0,
            ) {
                (Some(C::CurrentRevision(v)), _) => StreamState::Version(v),
                (Some(C::CurrentNoStream(_)), _) => StreamState::NoStream,
                (None, Some(C0::CurrentRevision2060(v))) => StreamState::Version(v),
                (None, _) => StreamState::NoStream,
            };
            Err(Error::WrongCurrentVersion {
                stream: stream_name.to_owned(),
                expected,
                actual,
            })
        }
        None => Err(Error::Protocol("append response without a result".into())),
    }
}

/// .NET ticks (100 ns) since the Unix epoch, as the server's `created` metadata.
fn created_to_time(created: Option<&String>) -> Option<SystemTime> {
    let ticks: u64 = created?.parse().ok()?;
    UNIX_EPOCH.checked_add(Duration::from_nanos(ticks.checked_mul(100)?))
}

/// The fields of a recorded event as the server sends them. The streams and the
/// persistent-subscriptions protocols each declare their own, identical
/// `ReadResp.ReadEvent.RecordedEvent` message; both convert into this, so that
/// [`convert_event_and_link`] is the one place a proto event becomes a
/// [`RecordedEvent`].
pub(crate) struct ProtoRecordedEvent {
    id: Option<ps::Uuid>,
    stream_identifier: Option<StreamIdentifier>,
    metadata: std::collections::HashMap<String, String>,
    data: Bytes,
    custom_metadata: Bytes,
    stream_revision: u64,
    commit_position: u64,
    prepare_position: u64,
}

macro_rules! impl_from_proto_recorded_event {
    ($($proto:ty),* $(,)?) => {$(
        impl From<$proto> for ProtoRecordedEvent {
            fn from(e: $proto) -> Self {
                ProtoRecordedEvent {
                    id: e.id,
                    stream_identifier: e.stream_identifier,
                    metadata: e.metadata,
                    data: e.data,
                    custom_metadata: e.custom_metadata,
                    stream_revision: e.stream_revision,
                    commit_position: e.commit_position,
                    prepare_position: e.prepare_position,
                }
            }
        }
    )*};
}

impl_from_proto_recorded_event!(
    read_resp::read_event::RecordedEvent,
    crate::proto::persistent::read_resp::read_event::RecordedEvent,
);

fn convert_recorded(mut e: ProtoRecordedEvent, retry_count: Option<u32>) -> Option<RecordedEvent> {
    let id = uuid_from_proto(e.id.take()?)?;
    let stream_name = e
        .stream_identifier
        .map(|s| String::from_utf8_lossy(&s.stream_name).into_owned())
        .unwrap_or_default();
    let recorded_at = created_to_time(e.metadata.get("created"));
    Some(RecordedEvent {
        r#type: e.metadata.remove("type").unwrap_or_default(),
        content_type: e.metadata.remove("content-type").unwrap_or_default(),
        data: e.data,
        metadata: e.custom_metadata,
        id,
        stream_name,
        stream_position: e.stream_revision,
        commit_position: Some(e.commit_position),
        prepare_position: Some(e.prepare_position),
        recorded_at,
        link: None,
        retry_count,
    })
}

/// Converts a proto event (and the link it was read through, when links were
/// resolved) into a [`RecordedEvent`], moving the payload `Bytes` (no copy).
/// `None` when the event is missing (an unresolvable link).
pub(crate) fn convert_event_and_link<E: Into<ProtoRecordedEvent>>(
    event: Option<E>,
    link: Option<E>,
    retry_count: Option<u32>,
) -> Option<RecordedEvent> {
    let link = link
        .and_then(|l| convert_recorded(l.into(), retry_count))
        .map(Box::new);
    let mut event = convert_recorded(event?.into(), retry_count)?;
    event.link = link;
    Some(event)
}

/// Converts a proto `ReadEvent` into a [`RecordedEvent`] (see
/// [`convert_event_and_link`]).
pub(crate) fn convert_read_event(
    read_event: read_resp::ReadEvent,
    retry_count: Option<u32>,
) -> Option<RecordedEvent> {
    convert_event_and_link(read_event.event, read_event.link, retry_count)
}

/// A protobuf timestamp as a [`SystemTime`] (`None` when out of range).
fn timestamp_to_time(t: prost_types::Timestamp) -> Option<SystemTime> {
    let nanos = u32::try_from(t.nanos).ok()?;
    match u64::try_from(t.seconds) {
        Ok(seconds) => UNIX_EPOCH.checked_add(Duration::new(seconds, nanos)),
        Err(_) => UNIX_EPOCH
            .checked_sub(Duration::from_secs(t.seconds.unsigned_abs()))?
            .checked_add(Duration::from_nanos(nanos.into())),
    }
}

/// The fields the `CaughtUp` and `FellBehind` messages share (a negative stream
/// revision, which the server never sends, reads as none).
fn subscription_position(
    timestamp: Option<prost_types::Timestamp>,
    stream_revision: Option<i64>,
    position: Option<read_resp::Position>,
) -> SubscriptionPosition {
    SubscriptionPosition {
        stream_position: stream_revision.and_then(|r| u64::try_from(r).ok()),
        commit_position: position.map(|p| p.commit_position),
        prepare_position: position.map(|p| p.prepare_position),
        timestamp: timestamp.and_then(timestamp_to_time),
    }
}

/// What one `ReadResp` means to a reader.
pub(crate) enum ReadItem {
    Event(RecordedEvent),
    Checkpoint(Checkpoint),
    CaughtUp(SubscriptionPosition),
    FellBehind(SubscriptionPosition),
    Confirmation(String),
    NotFound(String),
    Skip,
}

pub(crate) fn convert_read_resp(resp: ReadResp) -> ReadItem {
    use read_resp::Content as C;
    match resp.content {
        Some(C::Event(e)) => convert_read_event(e, None).map_or(ReadItem::Skip, ReadItem::Event),
        Some(C::Checkpoint(c)) => ReadItem::Checkpoint(Checkpoint {
            commit_position: c.commit_position,
            prepare_position: c.prepare_position,
            timestamp: c.timestamp.and_then(timestamp_to_time),
        }),
        Some(C::CaughtUp(c)) => ReadItem::CaughtUp(subscription_position(
            c.timestamp,
            c.stream_revision,
            c.position,
        )),
        Some(C::FellBehind(c)) => ReadItem::FellBehind(subscription_position(
            c.timestamp,
            c.stream_revision,
            c.position,
        )),
        Some(C::Confirmation(c)) => ReadItem::Confirmation(c.subscription_id),
        Some(C::StreamNotFound(nf)) => ReadItem::NotFound(
            nf.stream_identifier
                .map(|s| String::from_utf8_lossy(&s.stream_name).into_owned())
                .unwrap_or_default(),
        ),
        _ => ReadItem::Skip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{stream_identifier, uuid_to_proto};

    #[test]
    fn created_ticks_are_unix_based() {
        let t = created_to_time(Some(&"16000000000000000".to_string())).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap(),
            Duration::from_secs(1_600_000_000)
        );
    }

    #[test]
    fn event_payloads_are_not_copied() {
        use prost::Message;
        let id = Uuid::new_v4();
        let mut metadata = std::collections::HashMap::new();
        metadata.insert("type".to_owned(), "T".to_owned());
        let resp = ReadResp {
            content: Some(read_resp::Content::Event(read_resp::ReadEvent {
                event: Some(read_resp::read_event::RecordedEvent {
                    id: Some(uuid_to_proto(id)),
                    stream_identifier: Some(stream_identifier("s")),
                    metadata,
                    data: Bytes::from(vec![7u8; 4096]),
                    custom_metadata: Bytes::from_static(b"{}"),
                    ..Default::default()
                }),
                link: None,
                position: None,
            })),
        };
        // As tonic hands it over: one buffer holding the whole message.
        let wire = Bytes::from(resp.encode_to_vec());
        let decoded = ReadResp::decode(wire.clone()).unwrap();
        let ReadItem::Event(event) = convert_read_resp(decoded) else {
            panic!("an event");
        };
        assert_eq!(event.id, id);
        assert_eq!(event.r#type, "T");
        let buffer = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
        assert!(buffer.contains(&(event.data.as_ptr() as usize)));
        assert!(buffer.contains(&(event.metadata.as_ptr() as usize)));
    }
}
