//! `event_store.client.streams.Streams` (v1): Append, BatchAppend, Read
//! (reads and catch-up subscriptions), Delete, Tombstone.
//!
//! Wire behaviour of the real server that this reproduces:
//! - `Append`: a wrong expected version is an in-band
//!   `AppendResp.wrong_expected_version` (current revision or
//!   `current_no_stream`, plus the expected value, in both the current and the
//!   pre-20.6 fields), never a status. A tombstoned stream is a
//!   `FAILED_PRECONDITION` status with `exception: stream-deleted`. An append over
//!   the maximum append size is an `INVALID_ARGUMENT` status with `exception:
//!   maximum-append-size-exceeded`. An empty append succeeds without a position.
//! - `Read`: a missing stream is an in-band `stream_not_found`; a tombstoned one
//!   the stream-deleted status. Events carry `commit_position` in the `position`
//!   oneof for stream reads too (servers since 22.10). `first_stream_position`,
//!   `last_stream_position` and `last_all_stream_position` are only sent when the
//!   client asks for them with `control_option.compatibility >= 1` (the official
//!   Rust client does; the Python client does not and never sees them).
//! - `Delete`/`Tombstone`: a wrong expected version is a `FAILED_PRECONDITION`
//!   status whose message the Python client parses (see
//!   [`crate::services::wrong_expected_version`]); deleting a missing stream with an exact
//!   expected revision reports actual version -1 (which clients map to "not
//!   found").
//! - `BatchAppend`: results are in-band per correlation id, errors as a
//!   `google.rpc.Status` whose details are an `Any` of the v1 error message
//!   (`event_store.client.WrongExpectedVersion`, `StreamDeleted`,
//!   `MaximumAppendSizeExceeded`, `BadRequest`). The
//!   call's batches are gathered in `batch.rs`.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use kurrentdbclient::proto::shared::{AllStreamPosition, Empty, StreamIdentifier};
use kurrentdbclient::proto::streams::streams_server::Streams;
use kurrentdbclient::proto::streams::{
    AppendReq, AppendResp, BatchAppendReq, DeleteReq, DeleteResp, ReadReq, ReadResp, TombstoneReq,
    TombstoneResp, append_req, append_resp, delete_resp, read_req, read_resp, tombstone_resp,
};
use tonic::{Request, Response, Status, Streaming};

use super::batch::{self, BatchStream};
use crate::security::authz::{self, Access, Operation, StreamAction};
use crate::services::{
    index_not_found, malformed, maximum_append_size_exceeded, now_timestamp, proposed_event,
    recorded_event, stream_deleted, stream_name, wrong_expected_version,
};
use crate::store::{
    AppendOutcome, CurrentRevision, Deletion, Direction, ExpectedRevision, Filter, FilterError,
    FilterTarget, INDEX_PREFIX, Matcher, SecondaryIndex, Store, StreamWrite, WriteError,
};
use crate::subscriptions::{
    self, AllRead, AllStart, Page, ReadFailure, ReadItem, StreamRead, StreamStart,
    SubscriptionTarget,
};

/// The v1 streams service.
#[derive(Debug, Clone)]
pub(crate) struct StreamsService {
    store: Arc<Store>,
}

impl StreamsService {
    /// A service over `store`.
    pub(crate) fn new(store: Arc<Store>) -> Self {
        StreamsService { store }
    }
}

type ReadStream = Pin<Box<dyn Stream<Item = Result<ReadResp, Status>> + Send + 'static>>;

fn expected_v1(
    e: Option<append_req::options::ExpectedStreamRevision>,
) -> Result<ExpectedRevision, Status> {
    use append_req::options::ExpectedStreamRevision as E;
    match e {
        Some(E::Revision(n)) => Ok(ExpectedRevision::Exact(n)),
        Some(E::NoStream(_)) => Ok(ExpectedRevision::NoStream),
        Some(E::Any(_)) => Ok(ExpectedRevision::Any),
        Some(E::StreamExists(_)) => Ok(ExpectedRevision::StreamExists),
        None => Err(malformed("no expected stream revision")),
    }
}

fn append_success(outcome: &AppendOutcome) -> AppendResp {
    use append_resp::success::{CurrentRevisionOption, PositionOption};
    let w = &outcome.writes[0];
    let current = match w.current {
        CurrentRevision::NoStream => CurrentRevisionOption::NoStream(Empty {}),
        CurrentRevision::Revision(r) => CurrentRevisionOption::CurrentRevision(r),
    };
    let position = match w.position {
        Some(p) => PositionOption::Position(append_resp::Position {
            commit_position: p,
            prepare_position: p,
        }),
        None => PositionOption::NoPosition(Empty {}),
    };
    AppendResp {
        result: Some(append_resp::Result::Success(append_resp::Success {
            current_revision_option: Some(current),
            position_option: Some(position),
        })),
    }
}

fn append_wrong_version(expected: ExpectedRevision, current: CurrentRevision) -> AppendResp {
    use append_resp::wrong_expected_version::{
        CurrentRevisionOption, CurrentRevisionOption2060, ExpectedRevisionOption,
        ExpectedRevisionOption2060,
    };
    let (cur, cur_old) = match current {
        CurrentRevision::NoStream => (
            CurrentRevisionOption::CurrentNoStream(Empty {}),
            CurrentRevisionOption2060::NoStream2060(Empty {}),
        ),
        CurrentRevision::Revision(r) => (
            CurrentRevisionOption::CurrentRevision(r),
            CurrentRevisionOption2060::CurrentRevision2060(r),
        ),
    };
    let (exp, exp_old) = match expected {
        ExpectedRevision::Any => (
            ExpectedRevisionOption::ExpectedAny(Empty {}),
            Some(ExpectedRevisionOption2060::Any2060(Empty {})),
        ),
        ExpectedRevision::NoStream => (ExpectedRevisionOption::ExpectedNoStream(Empty {}), None),
        ExpectedRevision::StreamExists => (
            ExpectedRevisionOption::ExpectedStreamExists(Empty {}),
            Some(ExpectedRevisionOption2060::StreamExists2060(Empty {})),
        ),
        ExpectedRevision::Exact(n) => (
            ExpectedRevisionOption::ExpectedRevision(n),
            Some(ExpectedRevisionOption2060::ExpectedRevision2060(n)),
        ),
    };
    AppendResp {
        result: Some(append_resp::Result::WrongExpectedVersion(
            append_resp::WrongExpectedVersion {
                current_revision_option_20_6_0: Some(cur_old),
                expected_revision_option_20_6_0: exp_old,
                current_revision_option: Some(cur),
                expected_revision_option: Some(exp),
            },
        )),
    }
}

fn failure_status(failure: ReadFailure, stream: &[u8]) -> Status {
    match failure {
        ReadFailure::StreamDeleted => stream_deleted(stream),
        ReadFailure::InvalidPosition { filtered } => crate::services::invalid_position(filtered),
    }
}

/// Converts a page of read items to responses.
fn page_to_responses(
    page: Page,
    structured: bool,
    stream: &Bytes,
) -> Vec<Result<ReadResp, Status>> {
    use read_resp::Content;
    page.into_iter()
        .map(|item| {
            let content = match item.map_err(|f| failure_status(f, stream))? {
                ReadItem::Event(e) => {
                    let position = e.original().record.position;
                    Content::Event(read_resp::ReadEvent {
                        event: e.event.as_ref().map(|n| recorded_event(n, structured)),
                        link: e.link.as_ref().map(|n| recorded_event(n, structured)),
                        position: Some(read_resp::read_event::Position::CommitPosition(position)),
                    })
                }
                ReadItem::Confirmation(id) => {
                    Content::Confirmation(read_resp::SubscriptionConfirmation {
                        subscription_id: id,
                    })
                }
                ReadItem::CaughtUp { revision, position } => {
                    Content::CaughtUp(read_resp::CaughtUp {
                        timestamp: Some(now_timestamp()),
                        stream_revision: revision,
                        position: position.map(|p| read_resp::Position {
                            commit_position: p,
                            prepare_position: p,
                        }),
                    })
                }
                ReadItem::FellBehind { revision, position } => {
                    Content::FellBehind(read_resp::FellBehind {
                        timestamp: Some(now_timestamp()),
                        stream_revision: revision,
                        position: position.map(|p| read_resp::Position {
                            commit_position: p,
                            prepare_position: p,
                        }),
                    })
                }
                ReadItem::Checkpoint(p) => Content::Checkpoint(read_resp::Checkpoint {
                    commit_position: p,
                    prepare_position: p,
                    timestamp: Some(now_timestamp()),
                }),
                ReadItem::StreamNotFound => Content::StreamNotFound(read_resp::StreamNotFound {
                    stream_identifier: Some(StreamIdentifier {
                        stream_name: stream.clone(),
                    }),
                }),
                ReadItem::FirstStreamPosition(r) => Content::FirstStreamPosition(r),
                ReadItem::LastStreamPosition(r) => Content::LastStreamPosition(r),
                ReadItem::LastAllStreamPosition(p) => {
                    Content::LastAllStreamPosition(AllStreamPosition {
                        commit_position: p,
                        prepare_position: p,
                    })
                }
            };
            Ok(ReadResp {
                content: Some(content),
            })
        })
        .collect()
}

/// Builds a `$all` filter from the read options. The interval is the number of
/// records searched between checkpoints: window × multiplier.
fn build_filter(f: read_req::options::FilterOptions) -> Result<(Filter, usize), Status> {
    use read_req::options::filter_options::{Filter as F, Window};
    let (target, expr) = match f.filter {
        Some(F::StreamIdentifier(e)) => (FilterTarget::StreamName, e),
        Some(F::EventType(e)) => (FilterTarget::EventType, e),
        None => return Err(malformed("filter without expression")),
    };
    if target == FilterTarget::StreamName
        && expr.regex.is_empty()
        && let Some(index) = expr.prefix.iter().find(|p| p.starts_with(INDEX_PREFIX))
    {
        // A secondary index read (`store/secondary.rs`): KurrentDB's
        // `GetFilterOrIndexEnumerator` in `Streams.Read.cs`.
        if expr.prefix.len() > 1 {
            return Err(Status::invalid_argument(
                "Index reads only work with one index name and cannot be combined with stream prefixes or other indexes",
            ));
        }
        let filter = SecondaryIndex::parse(index).ok_or_else(|| index_not_found(index))?;
        return Ok((Filter::Index(filter), 0));
    }
    let matcher = if !expr.regex.is_empty() {
        Matcher::regex(&expr.regex)
    } else {
        Matcher::prefixes(expr.prefix)
    }
    .map_err(|e| match e {
        // .NET's `Regex` constructor throws on a pattern it cannot parse,
        // and the read fails as an unhandled exception.
        FilterError::InvalidRegex(_) => malformed("invalid regex"),
        other => crate::services::filter_status(other),
    })?;
    let window = match f.window {
        Some(Window::Max(n)) if n > 0 => n as usize,
        _ => 32,
    };
    let multiplier = f.checkpoint_interval_multiplier.max(1) as usize;
    Ok((
        Filter::Match { target, matcher },
        window.saturating_mul(multiplier),
    ))
}

/// A stream revision to read or subscribe from, as KurrentDB understands it:
/// `u64::MAX` is `StreamRevision.End`, and any other value above `i64::MAX`
/// fails its conversion to a log version (`Convert.ToInt64` throws in
/// `StreamRevision.ToInt64`, `src/KurrentDB.Core/Services/Transport/Common/StreamRevision.cs`),
/// which its gRPC host answers as an unhandled exception.
fn revision_start(revision: u64) -> Result<StreamStart, Status> {
    match revision {
        u64::MAX => Ok(StreamStart::End),
        r if i64::try_from(r).is_err() => Err(malformed("stream revision above i64::MAX")),
        r => Ok(StreamStart::Revision(r)),
    }
}

/// A `$all` commit position to read or subscribe from, as KurrentDB
/// understands it: `u64::MAX` is `Position.End`, and any other value above
/// `i64::MAX` is refused by the `Position` constructor
/// (`src/KurrentDB.Core/Services/Transport/Common/Position.cs`) with an
/// exception, answered as an unhandled one.
fn position_start(commit_position: u64) -> Result<AllStart, Status> {
    match commit_position {
        u64::MAX => Ok(AllStart::End),
        p if i64::try_from(p).is_err() => Err(malformed("commit position above i64::MAX")),
        p => Ok(AllStart::Position(p)),
    }
}

impl StreamsService {
    fn start_read(
        &self,
        access: Option<&Access>,
        options: read_req::Options,
    ) -> Result<ReadStream, Status> {
        use read_req::options::{
            CountOption, FilterOption, StreamOption, all_options::AllOption,
            stream_options::RevisionOption, uuid_option,
        };
        let structured = matches!(
            options
                .uuid_option
                .as_ref()
                .and_then(|u| u.content.as_ref()),
            Some(uuid_option::Content::Structured(_))
        );
        let positions = options
            .control_option
            .as_ref()
            .is_some_and(|c| c.compatibility >= 1);
        let direction = match options.read_direction() {
            read_req::options::ReadDirection::Forwards => Direction::Forwards,
            read_req::options::ReadDirection::Backwards => Direction::Backwards,
        };
        let filter = match options.filter_option {
            Some(FilterOption::Filter(f)) => Some(build_filter(f)?),
            Some(FilterOption::NoFilter(_)) | None => None,
        };
        let count = options
            .count_option
            .ok_or_else(|| malformed("no count option"))?;
        let store = self.store.clone();
        let stream_option = options
            .stream_option
            .ok_or_else(|| malformed("no stream option"))?;
        let resolve_links = options.resolve_links;

        let (name, pages): (Bytes, Pin<Box<dyn Stream<Item = Page> + Send>>) = match stream_option {
            StreamOption::Stream(s) => {
                let name = stream_name(s.stream_identifier)?;
                authz::check_access(access, Operation::Stream(StreamAction::Read, &name))?;
                let from = match s.revision_option {
                    Some(RevisionOption::Revision(r)) => revision_start(r)?,
                    Some(RevisionOption::Start(_)) => StreamStart::Start,
                    Some(RevisionOption::End(_)) => StreamStart::End,
                    None => return Err(malformed("no revision option")),
                };
                let pages = match count {
                    CountOption::Count(count) => subscriptions::read_stream(
                        store,
                        StreamRead {
                            stream: name.clone(),
                            from,
                            direction,
                            count,
                            resolve_links,
                            positions,
                        },
                    )
                    .map(|s| s.boxed()),
                    CountOption::Subscription(_) => subscriptions::subscribe(
                        store,
                        SubscriptionTarget::Stream {
                            stream: name.clone(),
                            from,
                        },
                        resolve_links,
                    )
                    .map(|s| s.boxed()),
                };
                (name.clone(), pages.map_err(|f| failure_status(f, &name))?)
            }
            StreamOption::All(a) => {
                authz::check_access(access, Operation::Stream(StreamAction::Read, b"$all"))?;
                let from = match a.all_option {
                    Some(AllOption::Position(p)) => position_start(p.commit_position)?,
                    Some(AllOption::Start(_)) => AllStart::Start,
                    Some(AllOption::End(_)) => AllStart::End,
                    None => return Err(malformed("no all option")),
                };
                let pages = match count {
                    CountOption::Count(count) => subscriptions::read_all(
                        store,
                        AllRead {
                            from,
                            direction,
                            count,
                            resolve_links,
                            filter: filter.map(|(f, _)| f),
                            positions,
                        },
                    )
                    .map(|s| s.boxed()),
                    CountOption::Subscription(_) => subscriptions::subscribe(
                        store,
                        SubscriptionTarget::All { from, filter },
                        resolve_links,
                    )
                    .map(|s| s.boxed()),
                };
                let name = Bytes::from_static(b"$all");
                (name.clone(), pages.map_err(|f| failure_status(f, &name))?)
            }
        };
        Ok(pages
            .flat_map(move |page| futures::stream::iter(page_to_responses(page, structured, &name)))
            .boxed())
    }

    /// `Delete` and `Tombstone`: the same call but for the kind of deletion
    /// (and the operation name in the wrong-expected-version message).
    fn delete_impl(
        &self,
        extensions: &tonic::Extensions,
        stream: Option<StreamIdentifier>,
        expected: Result<ExpectedRevision, Status>,
        deletion: Deletion,
    ) -> Result<u64, Status> {
        let name = stream_name(stream)?;
        authz::check(extensions, Operation::Stream(StreamAction::Delete, &name))?;
        let expected = expected?;
        let op = match deletion {
            Deletion::Soft => "Delete",
            Deletion::Tombstone => "Tombstone",
        };
        match self.store.delete(&name, expected, deletion) {
            Ok(p) => Ok(p),
            Err(WriteError::StreamDeleted { stream }) => Err(stream_deleted(&stream)),
            Err(WriteError::WrongExpectedVersion {
                stream,
                expected,
                current,
            }) => Err(wrong_expected_version(op, &stream, expected, current)),
        }
    }
}

macro_rules! delete_expected {
    ($e:expr, $m:path) => {{
        use $m as E;
        match $e {
            Some(E::Revision(n)) => Ok(ExpectedRevision::Exact(n)),
            Some(E::NoStream(_)) => Ok(ExpectedRevision::NoStream),
            Some(E::Any(_)) => Ok(ExpectedRevision::Any),
            Some(E::StreamExists(_)) => Ok(ExpectedRevision::StreamExists),
            None => Err(malformed("no expected stream revision")),
        }
    }};
}

#[tonic::async_trait]
impl Streams for StreamsService {
    type ReadStream = ReadStream;

    async fn read(&self, request: Request<ReadReq>) -> Result<Response<Self::ReadStream>, Status> {
        let (_, extensions, message) = request.into_parts();
        let options = message
            .options
            .ok_or_else(|| malformed("no read options"))?;
        self.start_read(extensions.get(), options)
            .map(Response::new)
    }

    async fn append(
        &self,
        request: Request<Streaming<AppendReq>>,
    ) -> Result<Response<AppendResp>, Status> {
        let (_, extensions, mut requests) = request.into_parts();
        let first = requests
            .message()
            .await?
            .ok_or_else(|| malformed("no options message"))?;
        let Some(append_req::Content::Options(options)) = first.content else {
            return Err(malformed("first message is not options"));
        };
        let stream = stream_name(options.stream_identifier)?;
        authz::check(&extensions, Operation::Stream(StreamAction::Write, &stream))?;
        let expected = expected_v1(options.expected_stream_revision)?;
        let max = self.store.options().max_append_size;
        let mut size = 0usize;
        let mut events = Vec::new();
        while let Some(msg) = requests.message().await? {
            let Some(append_req::Content::ProposedMessage(m)) = msg.content else {
                return Err(malformed("options sent twice"));
            };
            let event = proposed_event(m.id, m.metadata, m.custom_metadata, m.data)?;
            size += event.size();
            if size > max as usize {
                return Err(maximum_append_size_exceeded(max));
            }
            events.push(event);
        }
        let write = StreamWrite {
            stream,
            expected,
            events,
        };
        match self.store.append(vec![write]) {
            Ok(outcome) => Ok(Response::new(append_success(&outcome))),
            Err(WriteError::WrongExpectedVersion {
                expected, current, ..
            }) => Ok(Response::new(append_wrong_version(expected, current))),
            Err(WriteError::StreamDeleted { stream }) => Err(stream_deleted(&stream)),
        }
    }

    async fn delete(&self, request: Request<DeleteReq>) -> Result<Response<DeleteResp>, Status> {
        let (_, extensions, message) = request.into_parts();
        let options = message
            .options
            .ok_or_else(|| malformed("no delete options"))?;
        let expected = delete_expected!(
            options.expected_stream_revision,
            kurrentdbclient::proto::streams::delete_req::options::ExpectedStreamRevision
        );
        let p = self.delete_impl(
            &extensions,
            options.stream_identifier,
            expected,
            Deletion::Soft,
        )?;
        Ok(Response::new(DeleteResp {
            position_option: Some(delete_resp::PositionOption::Position(
                delete_resp::Position {
                    commit_position: p,
                    prepare_position: p,
                },
            )),
        }))
    }

    async fn tombstone(
        &self,
        request: Request<TombstoneReq>,
    ) -> Result<Response<TombstoneResp>, Status> {
        let (_, extensions, message) = request.into_parts();
        let options = message
            .options
            .ok_or_else(|| malformed("no tombstone options"))?;
        let expected = delete_expected!(
            options.expected_stream_revision,
            kurrentdbclient::proto::streams::tombstone_req::options::ExpectedStreamRevision
        );
        let p = self.delete_impl(
            &extensions,
            options.stream_identifier,
            expected,
            Deletion::Tombstone,
        )?;
        Ok(Response::new(TombstoneResp {
            position_option: Some(tombstone_resp::PositionOption::Position(
                tombstone_resp::Position {
                    commit_position: p,
                    prepare_position: p,
                },
            )),
        }))
    }

    type BatchAppendStream = BatchStream;

    async fn batch_append(
        &self,
        request: Request<Streaming<BatchAppendReq>>,
    ) -> Result<Response<Self::BatchAppendStream>, Status> {
        let access = request.extensions().get::<Access>().cloned();
        let requests = request.into_inner();
        Ok(Response::new(batch::serve(
            self.store.clone(),
            access,
            requests,
        )))
    }
}
