//! `event_store.client.persistent_subscriptions.PersistentSubscriptions`:
//! Create, Update, Delete, Read (bidirectional), GetInfo, List, ReplayParked,
//! RestartSubsystem. The domain logic is in [`crate::persistent`]; this module
//! decodes requests and encodes answers and errors as the real server does.
//!
//! Errors, as KurrentDB sends them (codes checked against the official
//! clients: the Python client maps `ALREADY_EXISTS`, `NOT_FOUND` and a
//! `FAILED_PRECONDITION` whose message starts with "Maximum subscriptions
//! reached"; the Rust crate maps the codes and the `exception` trailer):
//! - group exists: `ALREADY_EXISTS` "Subscription group 'G' on stream 'S'
//!   exists.", trailers `exception: persistent-subscription-exists`,
//!   `stream-name`, `group-name`;
//! - group missing: `NOT_FOUND` "Subscription group 'G' on stream 'S' does not
//!   exist.", `exception: persistent-subscription-does-not-exist`;
//! - too many consumers: `FAILED_PRECONDITION` "Maximum subscriptions reached
//!   for subscription group 'G' on stream 'S'.", `exception:
//!   maximum-subscribers-reached`;
//! - consumer dropped by the server (update, delete, restart, nack stop):
//!   `CANCELLED` "Subscription group 'G' on stream 'S' was dropped.",
//!   `exception: persistent-subscription-dropped`.
//!
//! - settings KurrentDB refuses (an unknown consumer strategy, a read batch not
//!   smaller than the buffer, a `$all` start past the end or with a prepare
//!   position past its commit position): `INTERNAL` "Subscription group G on
//!   stream S failed: 'REASON'", `exception: persistent-subscription-failed`,
//!   `stream-name`, `group-name`, `reason` (`RpcExceptions.PersistentSubscriptionFailed`:
//!   the create and update handlers of `PersistentSubscriptionService.cs` catch
//!   the constructor's exception and fail with its message).
//!
//! `List` for one stream without groups answers `NOT_FOUND` (both official
//! clients turn that into an empty list); listing every group never fails.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use kurrentdbclient::proto::persistent::persistent_subscriptions_server::PersistentSubscriptions;
use kurrentdbclient::proto::persistent::{
    CreateReq, CreateResp, DeleteReq, DeleteResp, GetInfoReq, GetInfoResp, ListReq, ListResp,
    ReadReq, ReadResp, ReplayParkedReq, ReplayParkedResp, SubscriptionInfo, TruncateParkedReq,
    TruncateParkedResp, UpdateReq, UpdateResp, create_req, delete_req, get_info_req, list_req,
    read_req, read_resp, replay_parked_req, subscription_info, update_req,
};
use kurrentdbclient::proto::shared::{Empty, StreamIdentifier};
use tokio::sync::mpsc;
use tonic::{Code, Request, Response, Status, Streaming};

use super::{insert, malformed, name_text, recorded_event, stream_name, uuid_from_proto};
use crate::persistent::{
    ALL_STREAM, ConsumerDetails, ConsumerStrategy, Delivery, Group, GroupFigures, GroupInfo,
    Message, NackAction, PersistentError, Settings, Source, StartFrom, Subsystem, check_all_start,
};
use crate::security::authz::{self, Operation};
use crate::store::{Filter, FilterTarget, Matcher, NamedRecord, Store};

/// The persistent subscriptions service.
#[derive(Debug, Clone)]
pub(crate) struct PersistentService {
    subsystem: Arc<Subsystem>,
}

impl PersistentService {
    /// A service over `store`, with no group.
    pub(crate) fn new(store: Arc<Store>) -> Self {
        PersistentService {
            subsystem: Arc::new(Subsystem::new(store)),
        }
    }

    /// Restarts the subsystem (`RestartSubsystem`, and the Operations
    /// service's `RestartPersistentSubscriptions`).
    pub(crate) fn restart(&self) {
        self.subsystem.restart();
    }

    /// What `/metrics` reports of every group.
    pub(crate) fn figures(&self) -> Vec<GroupFigures> {
        self.subsystem
            .list(None)
            .iter()
            .map(|g| g.figures())
            .collect()
    }

    /// Replays the parked messages of group `group` of `stream` (up to
    /// `stop_at`, see `Group::replay_parked`): the work of `ReplayParked`,
    /// which the web UI's "Replay parked" does too. The parked stream is
    /// read in full, a page at a time, on tokio's blocking pool.
    pub(crate) async fn replay_parked(
        &self,
        stream: &str,
        group: &str,
        stop_at: Option<u64>,
    ) -> Result<(), PersistentError> {
        let group = self.subsystem.get(stream, group)?;
        tokio::task::spawn_blocking(move || group.replay_parked(stop_at))
            .await
            .map_err(|e| PersistentError::Failed(format!("replaying parked messages: {e}")))
    }

    /// Group `group` of `stream`, or the real server's `NOT_FOUND`.
    fn group(&self, stream: &str, group: &str) -> Result<Arc<Group>, Status> {
        self.subsystem
            .get(stream, group)
            .map_err(|e| error_status(e, stream, group))
    }
}

fn with_trailers(
    code: Code,
    message: String,
    exception: &str,
    stream: &str,
    group: &str,
) -> Status {
    let mut status = Status::new(code, message);
    let meta = status.metadata_mut();
    insert(meta, "exception", exception);
    insert(meta, "stream-name", stream);
    insert(meta, "group-name", group);
    status
}

/// The status of a refused operation on group `group` of `stream`.
pub(crate) fn error_status(e: PersistentError, stream: &str, group: &str) -> Status {
    match e {
        PersistentError::AlreadyExists => with_trailers(
            Code::AlreadyExists,
            format!("Subscription group '{group}' on stream '{stream}' exists."),
            "persistent-subscription-exists",
            stream,
            group,
        ),
        PersistentError::NotFound => with_trailers(
            Code::NotFound,
            format!("Subscription group '{group}' on stream '{stream}' does not exist."),
            "persistent-subscription-does-not-exist",
            stream,
            group,
        ),
        PersistentError::Failed(reason) => {
            let mut status = with_trailers(
                Code::Internal,
                format!("Subscription group {group} on stream {stream} failed: '{reason}'"),
                "persistent-subscription-failed",
                stream,
                group,
            );
            insert(status.metadata_mut(), "reason", &reason);
            status
        }
        PersistentError::MaximumSubscribersReached => with_trailers(
            Code::FailedPrecondition,
            format!(
                "Maximum subscriptions reached for subscription group '{group}' on stream '{stream}'."
            ),
            "maximum-subscribers-reached",
            stream,
            group,
        ),
    }
}

/// The status a consumer gets when the server drops it.
pub(crate) fn dropped_status(stream: &str, group: &str) -> Status {
    with_trailers(
        Code::Cancelled,
        format!("Subscription group '{group}' on stream '{stream}' was dropped."),
        "persistent-subscription-dropped",
        stream,
        group,
    )
}

fn stream_text(id: Option<StreamIdentifier>) -> Result<String, Status> {
    Ok(name_text(&stream_name(id)?))
}

fn compile_filter(
    f: Option<create_req::all_options::FilterOption>,
) -> Result<Option<Filter>, Status> {
    use create_req::all_options::FilterOption;
    use create_req::all_options::filter_options::Filter as F;
    let Some(FilterOption::Filter(options)) = f else {
        return Ok(None);
    };
    let (target, expression) = match options.filter {
        Some(F::StreamIdentifier(e)) => (FilterTarget::StreamName, e),
        Some(F::EventType(e)) => (FilterTarget::EventType, e),
        None => return Ok(None),
    };
    let matcher = if !expression.prefix.is_empty() {
        Matcher::prefixes(expression.prefix)
    } else {
        Matcher::regex(&expression.regex)
    }
    .map_err(super::filter_status)?;
    Ok(Some(Filter::Match { target, matcher }))
}

/// `CreateReq.Settings` and `UpdateReq.Settings` have the same fields (but
/// different generated types): one macro reads both.
macro_rules! settings_from {
    ($s:expr, $timeout:path, $checkpoint:path, $start:expr, $strategy:expr) => {{
        let s = $s;
        use std::time::Duration;
        use $checkpoint as Checkpoint;
        use $timeout as Timeout;
        let ms = |v: i64| Duration::from_millis(u64::try_from(v).unwrap_or(0));
        let message_timeout = match s.message_timeout {
            Some(Timeout::MessageTimeoutMs(v)) => ms(i64::from(v)),
            Some(Timeout::MessageTimeoutTicks(t)) => ms(t / 10_000),
            None => Duration::ZERO,
        };
        let checkpoint_after = match s.checkpoint_after {
            Some(Checkpoint::CheckpointAfterMs(v)) => ms(i64::from(v)),
            Some(Checkpoint::CheckpointAfterTicks(t)) => ms(t / 10_000),
            None => Duration::ZERO,
        };
        let count = |v: i32| u32::try_from(v).unwrap_or(0);
        Settings {
            start_from: $start,
            resolve_links: s.resolve_links,
            extra_statistics: s.extra_statistics,
            message_timeout,
            max_retry_count: count(s.max_retry_count),
            checkpoint_after,
            min_checkpoint_count: count(s.min_checkpoint_count),
            max_checkpoint_count: count(s.max_checkpoint_count),
            max_subscriber_count: count(s.max_subscriber_count),
            live_buffer_size: count(s.live_buffer_size),
            read_batch_size: count(s.read_batch_size),
            history_buffer_size: count(s.history_buffer_size),
            consumer_strategy: $strategy,
        }
    }};
}

/// The strategy of the legacy enum field, or KurrentDB's failure: it takes
/// the enum's name (`ToString()`, the number for a value the enum lacks) and
/// looks it up.
fn strategy_from_number(n: i32) -> Result<ConsumerStrategy, PersistentError> {
    match n {
        0 => Ok(ConsumerStrategy::DispatchToSingle),
        1 => Ok(ConsumerStrategy::RoundRobin),
        2 => Ok(ConsumerStrategy::Pinned),
        _ => Err(unknown_strategy(&n.to_string())),
    }
}

/// `ValidateStrategy` failing (`PersistentSubscriptionService.cs`).
fn unknown_strategy(name: &str) -> PersistentError {
    PersistentError::Failed(format!("Consumer strategy {name} does not exist."))
}

fn start_from_text(info: &GroupInfo, is_all: bool) -> String {
    let v = match info.settings.start_from {
        StartFrom::Start => "0".to_owned(),
        StartFrom::End => "-1".to_owned(),
        StartFrom::At(v) => v.to_string(),
    };
    if is_all { format!("C:{v}/P:{v}") } else { v }
}

fn to_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A group's info as the wire's `SubscriptionInfo`.
pub(crate) fn subscription_info(group: &Group) -> SubscriptionInfo {
    let info = group.info();
    let s = &info.settings;
    let ms = |d: std::time::Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    let count = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    SubscriptionInfo {
        event_source: info.event_source.clone(),
        group_name: info.group_name.clone(),
        status: info.status.to_owned(),
        connections: info
            .connections
            .iter()
            .map(|c| subscription_info::ConnectionInfo {
                from: c.details.from.clone(),
                username: c.details.username.clone(),
                average_items_per_second: to_i32(c.average_items_per_second),
                total_items: to_i64(c.total_items),
                count_since_last_measurement: to_i64(c.count_since_last_measurement),
                observed_measurements: c
                    .measurements
                    .iter()
                    .map(|(key, value)| subscription_info::Measurement {
                        key: key.clone(),
                        value: *value,
                    })
                    .collect(),
                available_slots: to_i32(c.available_slots),
                in_flight_messages: to_i32(c.in_flight),
                connection_name: c.details.connection_name.clone(),
            })
            .collect(),
        average_per_second: to_i32(info.average_per_second),
        total_items: to_i64(info.total_items),
        count_since_last_measurement: to_i64(info.count_since_last_measurement),
        last_checkpointed_event_position: info
            .last_checkpointed_event_position
            .clone()
            .unwrap_or_default(),
        last_known_event_position: info.last_known_event_position.clone().unwrap_or_default(),
        resolve_link_tos: s.resolve_links,
        start_from: start_from_text(&info, group.source().is_all()),
        message_timeout_milliseconds: ms(s.message_timeout),
        extra_statistics: s.extra_statistics,
        max_retry_count: count(s.max_retry_count),
        live_buffer_size: count(s.live_buffer_size),
        buffer_size: count(s.history_buffer_size),
        read_batch_size: count(s.read_batch_size),
        check_point_after_milliseconds: ms(s.checkpoint_after),
        min_check_point_count: count(s.min_checkpoint_count),
        max_check_point_count: count(s.max_checkpoint_count),
        read_buffer_count: to_i32(info.read_buffer_count),
        live_buffer_count: to_i64(info.live_buffer_count),
        retry_buffer_count: to_i32(info.retry_buffer_count),
        total_in_flight_messages: to_i32(info.total_in_flight_messages),
        outstanding_messages_count: to_i32(info.outstanding_messages_count),
        named_consumer_strategy: s.consumer_strategy.name().to_owned(),
        max_subscriber_count: count(s.max_subscriber_count),
        parked_message_count: to_i64(info.parked_message_count),
    }
}

fn recorded(named: &NamedRecord, structured: bool) -> read_resp::read_event::RecordedEvent {
    let e = recorded_event(named, structured);
    read_resp::read_event::RecordedEvent {
        id: e.id,
        stream_identifier: e.stream_identifier,
        stream_revision: e.stream_revision,
        prepare_position: e.prepare_position,
        commit_position: e.commit_position,
        metadata: e.metadata,
        custom_metadata: e.custom_metadata,
        data: e.data,
    }
}

fn event_resp(msg: &Message, structured: bool) -> ReadResp {
    let original = msg.original();
    let event = msg.event.as_ref().unwrap_or(original);
    ReadResp {
        content: Some(read_resp::Content::Event(read_resp::ReadEvent {
            event: Some(recorded(event, structured)),
            link: msg.link.as_ref().map(|l| recorded(l, structured)),
            position: Some(read_resp::read_event::Position::CommitPosition(
                original.record.position,
            )),
            count: Some(read_resp::read_event::Count::RetryCount(
                i32::try_from(msg.retry_count).unwrap_or(i32::MAX),
            )),
        })),
    }
}

/// The responses of one consumer: the confirmation, then its messages. Dropping
/// it (the client went away) removes the consumer from its group.
struct ConsumerStream {
    confirmation: Option<ReadResp>,
    rx: mpsc::Receiver<Delivery>,
    group: Arc<Group>,
    id: u64,
    structured: bool,
    done: bool,
}

impl Stream for ConsumerStream {
    type Item = Result<ReadResp, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(c) = this.confirmation.take() {
            return Poll::Ready(Some(Ok(c)));
        }
        if this.done {
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Delivery::Event(msg))) => {
                Poll::Ready(Some(Ok(event_resp(&msg, this.structured))))
            }
            Poll::Ready(Some(Delivery::Dropped)) | Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(Some(Err(dropped_status(
                    this.group.stream_name(),
                    this.group.name(),
                ))))
            }
        }
    }
}

impl Drop for ConsumerStream {
    fn drop(&mut self) {
        self.group.disconnect(self.id);
    }
}

fn nack_action(n: i32) -> NackAction {
    match read_req::nack::Action::try_from(n) {
        Ok(read_req::nack::Action::Park) => NackAction::Park,
        Ok(read_req::nack::Action::Retry) => NackAction::Retry,
        Ok(read_req::nack::Action::Skip) => NackAction::Skip,
        Ok(read_req::nack::Action::Stop) => NackAction::Stop,
        _ => NackAction::Unknown,
    }
}

type ReadStream = Pin<Box<dyn Stream<Item = Result<ReadResp, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl PersistentSubscriptions for PersistentService {
    async fn create(&self, request: Request<CreateReq>) -> Result<Response<CreateResp>, Status> {
        use create_req::options::StreamOption;
        authz::check(request.extensions(), Operation::SubscriptionsManage)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no create options"))?;
        let s = o.settings.ok_or_else(|| malformed("no settings"))?;
        super::check_group_name(&o.group_name)?;
        let strategy = if s.consumer_strategy.is_empty() {
            strategy_from_number(s.named_consumer_strategy)
        } else {
            ConsumerStrategy::from_name(&s.consumer_strategy)
                .ok_or_else(|| unknown_strategy(&s.consumer_strategy))
        };
        let legacy_revision = s.revision;
        let mut start_check = None;
        let (source, start) = match o.stream_option {
            Some(StreamOption::Stream(so)) => {
                use create_req::stream_options::RevisionOption as R;
                let start = match so.revision_option {
                    Some(R::Revision(r)) => StartFrom::At(r),
                    Some(R::End(_)) => StartFrom::End,
                    Some(R::Start(_)) | None => StartFrom::Start,
                };
                (Source::Stream(stream_name(so.stream_identifier)?), start)
            }
            Some(StreamOption::All(all)) => {
                use create_req::all_options::AllOption as A;
                let start = match all.all_option {
                    Some(A::Position(p)) => {
                        start_check = Some((p.commit_position, p.prepare_position));
                        StartFrom::At(p.commit_position)
                    }
                    Some(A::End(_)) => StartFrom::End,
                    Some(A::Start(_)) | None => StartFrom::Start,
                };
                let filter = compile_filter(all.filter_option)?;
                (Source::All { filter }, start)
            }
            None => {
                // Legacy clients: the stream in field 1, the start in
                // settings.revision.
                let start = match legacy_revision {
                    0 => StartFrom::Start,
                    u64::MAX => StartFrom::End,
                    r => StartFrom::At(r),
                };
                (Source::Stream(stream_name(o.stream_identifier)?), start)
            }
        };
        let stream = source.name();
        let failed = |e| error_status(e, &stream, &o.group_name);
        // KurrentDB's order: the strategy, the start, then the group's
        // existence and the constructor's checks.
        let strategy = strategy.map_err(failed)?;
        if let Some((commit, prepare)) = start_check {
            check_all_start(commit, prepare, self.subsystem.head_position()).map_err(failed)?;
        }
        let settings = settings_from!(
            s,
            create_req::settings::MessageTimeout,
            create_req::settings::CheckpointAfter,
            start,
            strategy
        );
        self.subsystem
            .create(source, &o.group_name, settings)
            .map_err(failed)?;
        Ok(Response::new(CreateResp {}))
    }

    async fn update(&self, request: Request<UpdateReq>) -> Result<Response<UpdateResp>, Status> {
        use update_req::options::StreamOption;
        authz::check(request.extensions(), Operation::SubscriptionsManage)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no update options"))?;
        let s = o.settings.ok_or_else(|| malformed("no settings"))?;
        let legacy_revision = s.revision;
        let mut start_check = None;
        let (stream, start) = match o.stream_option {
            Some(StreamOption::Stream(so)) => {
                use update_req::stream_options::RevisionOption as R;
                let start = match so.revision_option {
                    Some(R::Revision(r)) => StartFrom::At(r),
                    Some(R::End(_)) => StartFrom::End,
                    Some(R::Start(_)) | None => StartFrom::Start,
                };
                (stream_text(so.stream_identifier)?, start)
            }
            Some(StreamOption::All(all)) => {
                use update_req::all_options::AllOption as A;
                let start = match all.all_option {
                    Some(A::Position(p)) => {
                        start_check = Some((p.commit_position, p.prepare_position));
                        StartFrom::At(p.commit_position)
                    }
                    Some(A::End(_)) => StartFrom::End,
                    Some(A::Start(_)) | None => StartFrom::Start,
                };
                (ALL_STREAM.to_owned(), start)
            }
            None => {
                let start = match legacy_revision {
                    0 => StartFrom::Start,
                    u64::MAX => StartFrom::End,
                    r => StartFrom::At(r),
                };
                (stream_text(o.stream_identifier)?, start)
            }
        };
        let failed = |e| error_status(e, &stream, &o.group_name);
        // KurrentDB's order: the group's existence, the strategy, the start,
        // then the constructor's checks.
        self.group(&stream, &o.group_name)?;
        let strategy = strategy_from_number(s.named_consumer_strategy).map_err(failed)?;
        if let Some((commit, prepare)) = start_check {
            check_all_start(commit, prepare, self.subsystem.head_position()).map_err(failed)?;
        }
        let settings = settings_from!(
            s,
            update_req::settings::MessageTimeout,
            update_req::settings::CheckpointAfter,
            start,
            strategy
        );
        self.subsystem
            .update(&stream, &o.group_name, settings)
            .map_err(failed)?;
        Ok(Response::new(UpdateResp {}))
    }

    async fn delete(&self, request: Request<DeleteReq>) -> Result<Response<DeleteResp>, Status> {
        use delete_req::options::StreamOption;
        authz::check(request.extensions(), Operation::SubscriptionsManage)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no delete options"))?;
        let stream = match o.stream_option {
            Some(StreamOption::StreamIdentifier(id)) => stream_text(Some(id))?,
            Some(StreamOption::All(_)) => ALL_STREAM.to_owned(),
            None => return Err(malformed("no stream option")),
        };
        self.subsystem
            .delete(&stream, &o.group_name)
            .map_err(|e| error_status(e, &stream, &o.group_name))?;
        Ok(Response::new(DeleteResp {}))
    }

    type ReadStream = ReadStream;

    async fn read(
        &self,
        request: Request<Streaming<ReadReq>>,
    ) -> Result<Response<Self::ReadStream>, Status> {
        use read_req::options::StreamOption;
        use read_req::options::uuid_option::Content as UuidContent;
        // As KurrentDB's gRPC `Read` (`PersistentSubscriptions.Read.cs`): the
        // `connection-name` header or `<unknown>`; no peer address (it passes
        // `string.Empty` as `from`); the user's name or `anonymous`
        // (`PersistentSubscriptionService.cs`). A secure node names the
        // authenticated user; an insecure one's passthrough authentication
        // makes any request with credentials the `system` user.
        let metadata = request.metadata();
        let connection_name = metadata
            .get("connection-name")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("<unknown>")
            .to_owned();
        let with_credentials = metadata.contains_key("authorization");
        let (_, extensions, mut requests) = request.into_parts();
        let username = match authz::login(&extensions) {
            Some(login) => login.to_owned(),
            None if with_credentials => "system".to_owned(),
            None => "anonymous".to_owned(),
        };
        let first = requests
            .message()
            .await?
            .ok_or_else(|| malformed("no options message"))?;
        let Some(read_req::Content::Options(options)) = first.content else {
            return Err(malformed("first message is not options"));
        };
        let stream = match options.stream_option {
            Some(StreamOption::StreamIdentifier(id)) => stream_text(Some(id))?,
            Some(StreamOption::All(_)) => ALL_STREAM.to_owned(),
            None => return Err(malformed("no stream option")),
        };
        authz::check(&extensions, Operation::SubscriptionsRead(stream.as_bytes()))?;
        let group_name = options.group_name;
        let group = self.group(&stream, &group_name)?;
        let structured = matches!(
            options.uuid_option.and_then(|u| u.content),
            Some(UuidContent::Structured(_))
        );
        let id = self.subsystem.next_consumer_id();
        let buffer_size = usize::try_from(options.buffer_size).unwrap_or(0);
        let details = ConsumerDetails {
            from: String::new(),
            username,
            connection_name,
        };
        let rx = group
            .connect(id, buffer_size, details)
            .map_err(|e| error_status(e, &stream, &group_name))?;

        // Acks and nacks arrive on the request stream; when it ends (or fails)
        // the consumer is gone.
        let acks = group.clone();
        tokio::spawn(async move {
            while let Ok(Some(req)) = requests.message().await {
                match req.content {
                    Some(read_req::Content::Ack(ack)) => {
                        let ids: Vec<_> = ack
                            .ids
                            .into_iter()
                            .filter_map(|u| uuid_from_proto(Some(u)).ok())
                            .collect();
                        acks.ack(&ids);
                    }
                    Some(read_req::Content::Nack(nack)) => {
                        let ids: Vec<_> = nack
                            .ids
                            .into_iter()
                            .filter_map(|u| uuid_from_proto(Some(u)).ok())
                            .collect();
                        acks.nack(id, &ids, nack_action(nack.action), &nack.reason);
                    }
                    Some(read_req::Content::Options(_)) | None => {}
                }
            }
            acks.disconnect(id);
        });

        let confirmation = ReadResp {
            content: Some(read_resp::Content::SubscriptionConfirmation(
                read_resp::SubscriptionConfirmation {
                    subscription_id: group.subscription_id(),
                },
            )),
        };
        let stream = ConsumerStream {
            confirmation: Some(confirmation),
            rx,
            group,
            id,
            structured,
            done: false,
        };
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_info(
        &self,
        request: Request<GetInfoReq>,
    ) -> Result<Response<GetInfoResp>, Status> {
        use get_info_req::options::StreamOption;
        authz::check(request.extensions(), Operation::SubscriptionsStatistics)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no info options"))?;
        let stream = match o.stream_option {
            Some(StreamOption::StreamIdentifier(id)) => stream_text(Some(id))?,
            Some(StreamOption::All(_)) => ALL_STREAM.to_owned(),
            None => return Err(malformed("no stream option")),
        };
        let group = self.group(&stream, &o.group_name)?;
        Ok(Response::new(GetInfoResp {
            subscription_info: Some(subscription_info(&group)),
        }))
    }

    async fn replay_parked(
        &self,
        request: Request<ReplayParkedReq>,
    ) -> Result<Response<ReplayParkedResp>, Status> {
        use replay_parked_req::options::{StopAtOption, StreamOption};
        authz::check(request.extensions(), Operation::SubscriptionsManage)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no replay options"))?;
        let stream = match o.stream_option {
            Some(StreamOption::StreamIdentifier(id)) => stream_text(Some(id))?,
            Some(StreamOption::All(_)) => ALL_STREAM.to_owned(),
            None => return Err(malformed("no stream option")),
        };
        let stop_at = match o.stop_at_option {
            Some(StopAtOption::StopAt(n)) => u64::try_from(n).ok(),
            _ => None,
        };
        self.replay_parked(&stream, &o.group_name, stop_at)
            .await
            .map_err(|e| error_status(e, &stream, &o.group_name))?;
        Ok(Response::new(ReplayParkedResp {}))
    }

    async fn truncate_parked(
        &self,
        _request: Request<TruncateParkedReq>,
    ) -> Result<Response<TruncateParkedResp>, Status> {
        Err(Status::unimplemented("TruncateParked is not supported"))
    }

    async fn list(&self, request: Request<ListReq>) -> Result<Response<ListResp>, Status> {
        use list_req::options::ListOption;
        use list_req::stream_option::StreamOption;
        authz::check(request.extensions(), Operation::SubscriptionsStatistics)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("no list options"))?;
        let stream = match o.list_option {
            Some(ListOption::ListAllSubscriptions(_)) | None => None,
            Some(ListOption::ListForStream(s)) => Some(match s.stream_option {
                Some(StreamOption::Stream(id)) => stream_text(Some(id))?,
                Some(StreamOption::All(_)) | None => ALL_STREAM.to_owned(),
            }),
        };
        let groups = self.subsystem.list(stream.as_deref());
        if let Some(stream) = &stream
            && groups.is_empty()
        {
            return Err(error_status(PersistentError::NotFound, stream, ""));
        }
        Ok(Response::new(ListResp {
            subscriptions: groups.iter().map(|g| subscription_info(g)).collect(),
        }))
    }

    async fn restart_subsystem(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        authz::check(request.extensions(), Operation::SubscriptionsManage)?;
        self.restart();
        Ok(Response::new(Empty {}))
    }
}
