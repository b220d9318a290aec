//! The v1 `event_store.client.streams.Streams` service: building requests,
//! converting responses, and the [`ReadStream`] / [`CatchupSubscription`] types
//! that stream the results of reads and subscriptions.

pub(crate) mod v2;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::proto::shared::{self as ps, Empty, StreamIdentifier};
use crate::proto::streams::{self as pst, ReadReq, ReadResp, read_req, read_resp};
use crate::types::{CaughtUp, Checkpoint, NewEvent, RecordedEvent, StreamState, SubscriptionItem};

/// The stream name as the protocol carries it.
pub(crate) fn stream_identifier(name: &str) -> Option<StreamIdentifier> {
    Some(StreamIdentifier {
        stream_name: Bytes::copy_from_slice(name.as_bytes()),
    })
}

/// A proto UUID (text or two halves) as a [`Uuid`].
pub(crate) fn uuid_from_proto(id: ps::Uuid) -> Option<Uuid> {
    match id.value? {
        ps::uuid::Value::String(s) => s.parse().ok(),
        ps::uuid::Value::Structured(s) => Some(Uuid::from_u64_pair(
            s.most_significant_bits as u64,
            s.least_significant_bits as u64,
        )),
    }
}

fn uuid_to_proto(id: Uuid) -> Option<ps::Uuid> {
    Some(ps::Uuid {
        value: Some(ps::uuid::Value::String(id.to_string())),
    })
}

/// Checks what the server would reject, or what is surely a mistake, before
/// anything is sent.
pub(crate) fn check_stream_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::Programming("the stream name is empty".into()));
    }
    Ok(())
}

pub(crate) fn check_event_type(r#type: &str, id: Uuid) -> Result<()> {
    if r#type.is_empty() {
        return Err(Error::Programming(format!("event {id} has an empty type")));
    }
    Ok(())
}

// ---- append -----------------------------------------------------------------

/// The `AppendReq` messages of one append: options, then one per event. Kept as
/// a `Vec` so that a retry resends exactly the same ids (payloads are `Bytes`,
/// so cloning shares them).
pub(crate) fn append_requests(
    stream_name: &str,
    current_version: StreamState,
    events: &[NewEvent],
) -> Vec<pst::AppendReq> {
    use pst::append_req::options::ExpectedStreamRevision as E;
    let expected = match current_version {
        StreamState::Any => E::Any(Empty {}),
        StreamState::NoStream => E::NoStream(Empty {}),
        StreamState::Exists => E::StreamExists(Empty {}),
        StreamState::Version(v) => E::Revision(v),
    };
    let mut reqs = Vec::with_capacity(events.len() + 1);
    reqs.push(pst::AppendReq {
        content: Some(pst::append_req::Content::Options(
            pst::append_req::Options {
                stream_identifier: stream_identifier(stream_name),
                expected_stream_revision: Some(expected),
            },
        )),
    });
    for event in events {
        let mut metadata = std::collections::HashMap::with_capacity(2);
        metadata.insert("type".to_owned(), event.r#type.clone());
        metadata.insert("content-type".to_owned(), event.content_type.clone());
        reqs.push(pst::AppendReq {
            content: Some(pst::append_req::Content::ProposedMessage(
                pst::append_req::ProposedMessage {
                    id: uuid_to_proto(event.id),
                    metadata,
                    custom_metadata: event.metadata.clone(),
                    data: event.data.clone(),
                },
            )),
        });
    }
    reqs
}

/// Reads an `AppendResp`: the commit position, or the in-band wrong expected
/// version as [`Error::WrongCurrentVersion`].
pub(crate) fn append_result(
    resp: pst::AppendResp,
    stream_name: &str,
    expected: StreamState,
) -> Result<u64> {
    use pst::append_resp::Result as R;
    match resp.result {
        Some(R::Success(success)) => Ok(match success.position_option {
            Some(pst::append_resp::success::PositionOption::Position(p)) => p.commit_position,
            _ => 0,
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

// ---- delete / tombstone ------------------------------------------------------

pub(crate) fn delete_request(stream_name: &str, current_version: StreamState) -> pst::DeleteReq {
    use pst::delete_req::options::ExpectedStreamRevision as E;
    let expected = match current_version {
        StreamState::Any => E::Any(Empty {}),
        StreamState::NoStream => E::NoStream(Empty {}),
        StreamState::Exists => E::StreamExists(Empty {}),
        StreamState::Version(v) => E::Revision(v),
    };
    pst::DeleteReq {
        options: Some(pst::delete_req::Options {
            stream_identifier: stream_identifier(stream_name),
            expected_stream_revision: Some(expected),
        }),
    }
}

pub(crate) fn tombstone_request(
    stream_name: &str,
    current_version: StreamState,
) -> pst::TombstoneReq {
    use pst::tombstone_req::options::ExpectedStreamRevision as E;
    let expected = match current_version {
        StreamState::Any => E::Any(Empty {}),
        StreamState::NoStream => E::NoStream(Empty {}),
        StreamState::Exists => E::StreamExists(Empty {}),
        StreamState::Version(v) => E::Revision(v),
    };
    pst::TombstoneReq {
        options: Some(pst::tombstone_req::Options {
            stream_identifier: stream_identifier(stream_name),
            expected_stream_revision: Some(expected),
        }),
    }
}

// ---- read --------------------------------------------------------------------

/// Where a read or subscription starts.
#[derive(Debug, Clone)]
pub(crate) enum ReadFrom {
    Stream {
        name: String,
        position: Option<u64>,
        from_end: bool,
    },
    All {
        commit_position: Option<u64>,
        from_end: bool,
    },
}

/// A `$all` filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub(crate) include: Vec<String>,
    pub(crate) exclude: Vec<String>,
    pub(crate) by_stream_name: bool,
    pub(crate) by_prefix: bool,
    pub(crate) window_size: u32,
    pub(crate) checkpoint_interval_multiplier: u32,
}

/// `^a|b$`: the Python client's include regex.
pub fn construct_filter_include_regex(patterns: &[String]) -> String {
    format!("^{}$", patterns.join("|"))
}

/// `^(?!(a$|b$))`: the Python client's exclude regex.
pub fn construct_filter_exclude_regex(patterns: &[String]) -> String {
    let alternatives: Vec<String> = patterns.iter().map(|p| format!("{p}$")).collect();
    format!("^(?!({}))", alternatives.join("|"))
}

/// The `ReadReq` of a read (`subscribe == false`, with `limit`) or a catch-up
/// subscription.
pub(crate) fn read_request(
    from: &ReadFrom,
    backwards: bool,
    resolve_links: bool,
    limit: Option<u64>,
    subscribe: bool,
    filter: Option<&Filter>,
) -> ReadReq {
    use read_req::options::{
        self as o, AllOptions, CountOption, FilterOption, ReadDirection, StreamOption,
        StreamOptions, UuidOption, all_options::AllOption, stream_options::RevisionOption,
    };
    let stream_option = match from {
        ReadFrom::Stream {
            name,
            position,
            from_end,
        } => {
            let revision = match (position, from_end, backwards) {
                (Some(p), _, _) => RevisionOption::Revision(*p),
                (None, true, _) | (None, false, true) => RevisionOption::End(Empty {}),
                (None, false, false) => RevisionOption::Start(Empty {}),
            };
            StreamOption::Stream(StreamOptions {
                stream_identifier: stream_identifier(name),
                revision_option: Some(revision),
            })
        }
        ReadFrom::All {
            commit_position,
            from_end,
        } => {
            let all = match (commit_position, from_end, backwards) {
                (Some(p), _, _) => AllOption::Position(o::Position {
                    commit_position: *p,
                    prepare_position: *p,
                }),
                (None, true, _) | (None, false, true) => AllOption::End(Empty {}),
                (None, false, false) => AllOption::Start(Empty {}),
            };
            StreamOption::All(AllOptions {
                all_option: Some(all),
            })
        }
    };
    let count_option = if subscribe {
        CountOption::Subscription(o::SubscriptionOptions {})
    } else {
        CountOption::Count(limit.unwrap_or(i64::MAX as u64))
    };
    let filter_option = match filter {
        Some(f) if !f.include.is_empty() || !f.exclude.is_empty() => {
            let expression = if f.by_prefix && !f.include.is_empty() {
                o::filter_options::Expression {
                    regex: String::new(),
                    prefix: f.include.clone(),
                }
            } else if !f.include.is_empty() {
                o::filter_options::Expression {
                    regex: construct_filter_include_regex(&f.include),
                    prefix: Vec::new(),
                }
            } else {
                o::filter_options::Expression {
                    regex: construct_filter_exclude_regex(&f.exclude),
                    prefix: Vec::new(),
                }
            };
            let which = if f.by_stream_name {
                o::filter_options::Filter::StreamIdentifier(expression)
            } else {
                o::filter_options::Filter::EventType(expression)
            };
            FilterOption::Filter(o::FilterOptions {
                filter: Some(which),
                window: Some(o::filter_options::Window::Max(f.window_size)),
                checkpoint_interval_multiplier: f.checkpoint_interval_multiplier,
            })
        }
        _ => FilterOption::NoFilter(Empty {}),
    };
    ReadReq {
        options: Some(read_req::Options {
            stream_option: Some(stream_option),
            read_direction: if backwards {
                ReadDirection::Backwards as i32
            } else {
                ReadDirection::Forwards as i32
            },
            resolve_links,
            count_option: Some(count_option),
            filter_option: Some(filter_option),
            uuid_option: Some(UuidOption {
                content: Some(o::uuid_option::Content::String(Empty {})),
            }),
            control_option: None,
        }),
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

/// What one `ReadResp` means to a reader.
pub(crate) enum ReadItem {
    Event(RecordedEvent),
    Checkpoint(Checkpoint),
    CaughtUp(CaughtUp),
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
        }),
        Some(C::CaughtUp(c)) => ReadItem::CaughtUp(CaughtUp {
            commit_position: c.position.map(|p| p.commit_position),
        }),
        Some(C::Confirmation(c)) => ReadItem::Confirmation(c.subscription_id),
        Some(C::StreamNotFound(nf)) => ReadItem::NotFound(
            nf.stream_identifier
                .map(|s| String::from_utf8_lossy(&s.stream_name).into_owned())
                .unwrap_or_default(),
        ),
        _ => ReadItem::Skip,
    }
}

// ---- response streams -------------------------------------------------------------

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// The raw gRPC response stream of a read, with the call's deadline and the
/// client's close signal.
pub(crate) struct ResponseStream {
    responses: Option<tonic::Streaming<ReadResp>>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    closed: BoxFuture,
}

impl ResponseStream {
    pub(crate) fn new(
        responses: tonic::Streaming<ReadResp>,
        deadline: Option<tokio::time::Instant>,
        mut closed: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        ResponseStream {
            responses: Some(responses),
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
            closed: Box::pin(async move {
                let _ = closed.wait_for(|c| *c).await;
            }),
        }
    }

    fn stop(&mut self) {
        self.responses = None;
        self.deadline = None;
    }

    fn is_stopped(&self) -> bool {
        self.responses.is_none()
    }

    /// The next response, `None` at the end; an error ends the stream.
    fn poll_resp(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ReadResp>>> {
        let Some(responses) = self.responses.as_mut() else {
            return Poll::Ready(None);
        };
        if self.closed.as_mut().poll(cx).is_ready() {
            self.stop();
            return Poll::Ready(Some(Err(Error::ClientClosed)));
        }
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            self.stop();
            return Poll::Ready(Some(Err(Error::DeadlineExceeded)));
        }
        match responses.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.stop();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(status))) => {
                self.stop();
                Poll::Ready(Some(Err(Error::from_status(&status))))
            }
            Poll::Ready(Some(Ok(resp))) => Poll::Ready(Some(Ok(resp))),
        }
    }

    pub(crate) async fn next_resp(&mut self) -> Option<Result<ReadResp>> {
        futures::future::poll_fn(|cx| self.poll_resp(cx)).await
    }
}

/// The events of a [`read_stream`] or [`read_all`], as a
/// `Stream<Item = Result<RecordedEvent>>`.
///
/// The stream ends after the last event; an error ends it too. Dropping it
/// cancels the call.
///
/// [`read_stream`]: crate::AsyncKurrentDBClient::read_stream
/// [`read_all`]: crate::AsyncKurrentDBClient::read_all
pub struct ReadStream {
    inner: ResponseStream,
    first: Option<Result<RecordedEvent>>,
}

impl std::fmt::Debug for ReadStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadStream")
            .field("stopped", &self.inner.is_stopped())
            .finish()
    }
}

impl ReadStream {
    /// Starts reading: waits for the first event, so that a missing stream is
    /// reported by the call that opened the read.
    pub(crate) async fn open(mut inner: ResponseStream) -> Result<ReadStream> {
        let first = loop {
            match inner.next_resp().await {
                None => break None,
                Some(Err(e)) => return Err(e),
                Some(Ok(resp)) => match convert_read_resp(resp) {
                    ReadItem::Event(e) => break Some(Ok(e)),
                    ReadItem::NotFound(stream) => return Err(Error::NotFound { what: stream }),
                    _ => continue,
                },
            }
        };
        Ok(ReadStream { inner, first })
    }

    /// Stops the read, cancelling the call; the stream then ends.
    pub fn stop(&mut self) {
        self.first = None;
        self.inner.stop();
    }

    /// Collects the remaining events into a `Vec`, failing on the first error.
    pub async fn collect_events(mut self) -> Result<Vec<RecordedEvent>> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event?);
        }
        Ok(events)
    }
}

impl Stream for ReadStream {
    type Item = Result<RecordedEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(first));
        }
        loop {
            match this.inner.poll_resp(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(resp))) => match convert_read_resp(resp) {
                    ReadItem::Event(e) => return Poll::Ready(Some(Ok(e))),
                    ReadItem::NotFound(stream) => {
                        this.inner.stop();
                        return Poll::Ready(Some(Err(Error::NotFound { what: stream })));
                    }
                    _ => continue,
                },
            }
        }
    }
}

/// A catch-up subscription: the stored events, then live ones, as a
/// `Stream<Item = Result<SubscriptionItem>>`.
///
/// Only events are yielded unless checkpoints or caught-up markers were asked
/// for in the options. The stream does not end by itself; call
/// [`stop`](Self::stop) or drop it to cancel the subscription.
pub struct CatchupSubscription {
    id: String,
    inner: ResponseStream,
    include_checkpoints: bool,
    include_caught_up: bool,
}

impl std::fmt::Debug for CatchupSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatchupSubscription")
            .field("id", &self.id)
            .field("stopped", &self.inner.is_stopped())
            .finish()
    }
}

impl CatchupSubscription {
    /// Starts the subscription: waits for the server's confirmation.
    pub(crate) async fn open(
        mut inner: ResponseStream,
        include_checkpoints: bool,
        include_caught_up: bool,
    ) -> Result<CatchupSubscription> {
        let id = match inner.next_resp().await {
            None => {
                return Err(Error::Protocol(
                    "the subscription ended before it was confirmed".into(),
                ));
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(resp)) => match convert_read_resp(resp) {
                ReadItem::Confirmation(id) => id,
                ReadItem::NotFound(stream) => return Err(Error::NotFound { what: stream }),
                _ => {
                    return Err(Error::Protocol(
                        "expected a subscription confirmation first".into(),
                    ));
                }
            },
        };
        Ok(CatchupSubscription {
            id,
            inner,
            include_checkpoints,
            include_caught_up,
        })
    }

    /// The subscription's id, as the server confirmed it.
    pub fn subscription_id(&self) -> &str {
        &self.id
    }

    /// Stops the subscription, cancelling the call; the stream then ends.
    pub fn stop(&mut self) {
        self.inner.stop();
    }

    /// Whether the subscription has stopped (by [`stop`](Self::stop), an error,
    /// or the server ending it).
    pub fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}

impl Stream for CatchupSubscription {
    type Item = Result<SubscriptionItem>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.inner.poll_resp(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(resp))) => match convert_read_resp(resp) {
                    ReadItem::Event(e) => return Poll::Ready(Some(Ok(SubscriptionItem::Event(e)))),
                    ReadItem::Checkpoint(c) if this.include_checkpoints => {
                        return Poll::Ready(Some(Ok(SubscriptionItem::Checkpoint(c))));
                    }
                    ReadItem::CaughtUp(c) if this.include_caught_up => {
                        return Poll::Ready(Some(Ok(SubscriptionItem::CaughtUp(c))));
                    }
                    ReadItem::NotFound(stream) => {
                        this.inner.stop();
                        return Poll::Ready(Some(Err(Error::NotFound { what: stream })));
                    }
                    _ => continue,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_regexes_match_the_python_client() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(construct_filter_include_regex(&p(&["a", "b"])), "^a|b$");
        assert_eq!(
            construct_filter_exclude_regex(&p(&[r"\$.+", r"PersistentConfig\d+", "Result"])),
            r"^(?!(\$.+$|PersistentConfig\d+$|Result$))"
        );
    }

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
                    id: uuid_to_proto(id),
                    stream_identifier: stream_identifier("s"),
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

    #[test]
    fn structured_uuid() {
        let id = Uuid::new_v4();
        let (hi, lo) = id.as_u64_pair();
        let proto = ps::Uuid {
            value: Some(ps::uuid::Value::Structured(ps::uuid::Structured {
                most_significant_bits: hi as i64,
                least_significant_bits: lo as i64,
            })),
        };
        assert_eq!(uuid_from_proto(proto), Some(id));
    }
}
