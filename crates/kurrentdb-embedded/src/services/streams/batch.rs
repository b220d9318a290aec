//! `BatchAppend`: batches received in chunks, each appended when its final
//! chunk arrives, results and errors in-band per correlation id.

use std::collections::HashMap;
use std::sync::Arc;

use kurrentdbclient::proto::shared::{self, AllStreamPosition, StreamIdentifier};
use kurrentdbclient::proto::status::Status as RpcStatus;
use kurrentdbclient::proto::streams::{
    BatchAppendReq, BatchAppendResp, batch_append_req, batch_append_resp,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status, Streaming};

use crate::security::authz::{self, Access, Operation, StreamAction};
use crate::services::{malformed, proposed_event, stream_name, uuid_from_proto};
use crate::store::{
    CurrentRevision, ExpectedRevision, PER_EVENT_OVERHEAD, ProposedEvent, Store, StreamWrite,
    WriteError,
};

/// What a `BatchAppend` call answers: a result (or an error) per batch.
pub(super) type BatchStream = ReceiverStream<Result<BatchAppendResp, Status>>;

/// Serves one `BatchAppend` call: a task reads the requests and answers
/// each finished batch on the returned stream.
pub(super) fn serve(
    store: Arc<Store>,
    access: Option<Access>,
    mut requests: Streaming<BatchAppendReq>,
) -> BatchStream {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut pending = Pending::default();
        loop {
            let req = match requests.message().await {
                Ok(Some(req)) => req,
                Ok(None) => break,
                Err(status) => {
                    let _ = tx.send(Err(status)).await;
                    break;
                }
            };
            let correlation = req.correlation_id.clone();
            let Ok(cid) = uuid_from_proto(req.correlation_id.clone()) else {
                let _ = tx.send(Err(malformed("bad correlation id"))).await;
                break;
            };
            // A panic here (there should be none) must not end the call as
            // if it had succeeded: it answers INTERNAL. The pending
            // batches may be half updated, so the call ends.
            let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handle_batch_chunk(&store, access.as_ref(), &mut pending, cid, req)
            }));
            let resp = match handled {
                Ok(Ok(resp)) => resp,
                Ok(Err(status)) => {
                    let _ = tx.send(Err(status)).await;
                    break;
                }
                Err(_) => {
                    let _ = tx.send(Err(crate::catch_panic::handler_panicked())).await;
                    break;
                }
            };
            if let Some(mut resp) = resp {
                resp.correlation_id = correlation;
                if tx.send(Ok(resp)).await.is_err() {
                    break;
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// The most bytes the unfinished batches of one `BatchAppend` call may hold,
/// as a multiple of the maximum append size.
///
/// KurrentDB holds each unfinished batch until its deadline
/// (`ClientWriteRequest` in `Streams.BatchAppend.cs`) with no bound on how
/// many a call opens, so 600 unfinished 1 MiB batches held 600 MB here. Each
/// batch is bounded by the maximum append size; the call is bounded by this.
pub(super) const PENDING_BATCHES_APPEND_SIZES: usize = 4;

/// The batches of one `BatchAppend` call that have not had their final chunk,
/// and what they hold (the sizes of their events, plus
/// [`PER_EVENT_OVERHEAD`] per batch).
#[derive(Debug, Default)]
struct Pending {
    batches: HashMap<uuid::Uuid, PendingBatch>,
    bytes: usize,
}

/// `RESOURCE_EXHAUSTED`, ending a `BatchAppend` call whose unfinished batches
/// hold more than their bound.
fn too_much_pending(limit: usize) -> Status {
    Status::resource_exhausted(format!(
        "The unfinished batches of this BatchAppend call hold more than {limit} bytes."
    ))
}

/// A batch being received in chunks.
#[derive(Debug)]
struct PendingBatch {
    options: Option<batch_append_req::Options>,
    events: Vec<ProposedEvent>,
    size: usize,
    error: Option<RpcStatus>,
}

fn rpc_status<M: prost::Name>(code: Code, message: &str, detail: &M) -> RpcStatus {
    RpcStatus {
        code: code as i32,
        message: message.to_owned(),
        details: prost_types::Any::from_msg(detail).into_iter().collect(),
    }
}

fn bad_request(message: &str) -> RpcStatus {
    rpc_status(
        Code::InvalidArgument,
        message,
        &shared::BadRequest {
            message: message.to_owned(),
        },
    )
}

/// Adds a chunk to its batch; when the chunk is final, appends and returns the
/// result (correlation id filled in by the caller). Sizes are checked as the
/// events arrive: a batch over the maximum append size drops its events at
/// once (and answers the error with its final chunk), and the call ends with
/// [`too_much_pending`] when its unfinished batches hold more than
/// [`PENDING_BATCHES_APPEND_SIZES`] maximum appends.
fn handle_batch_chunk(
    store: &Store,
    access: Option<&Access>,
    pending: &mut Pending,
    cid: uuid::Uuid,
    req: BatchAppendReq,
) -> Result<Option<BatchAppendResp>, Status> {
    let max = store.options().max_append_size as usize;
    let limit = max.saturating_mul(PENDING_BATCHES_APPEND_SIZES);
    let Pending { batches, bytes } = pending;
    let batch = batches.entry(cid).or_insert_with(|| {
        *bytes = bytes.saturating_add(PER_EVENT_OVERHEAD);
        PendingBatch {
            options: None,
            events: Vec::new(),
            size: 0,
            error: None,
        }
    });
    if batch.options.is_none() {
        batch.options = req.options;
    }
    for m in req.proposed_messages {
        if batch.error.is_some() {
            break;
        }
        let e = match proposed_event(m.id, m.metadata, m.custom_metadata, m.data) {
            Ok(e) => e,
            Err(status) => {
                batch.error = Some(bad_request(status.message()));
                break;
            }
        };
        let size = e.size();
        batch.size = batch.size.saturating_add(size);
        *bytes = bytes.saturating_add(size);
        batch.events.push(e);
        if batch.size > max {
            batch.error = Some(rpc_status(
                Code::InvalidArgument,
                "Maximum Append Size Exceeded",
                &shared::MaximumAppendSizeExceeded {
                    max_append_size: max as u32,
                },
            ));
            break;
        }
        if *bytes > limit {
            return Err(too_much_pending(limit));
        }
    }
    if batch.error.is_some() {
        // A refused batch keeps only its error.
        batch.events = Vec::new();
        *bytes = bytes.saturating_sub(std::mem::take(&mut batch.size));
    }
    if !req.is_final {
        return Ok(None);
    }
    let Some(batch) = batches.remove(&cid) else {
        return Ok(None);
    };
    *bytes = bytes
        .saturating_sub(batch.size)
        .saturating_sub(PER_EVENT_OVERHEAD);
    let Some(options) = batch.options else {
        return Ok(Some(BatchAppendResp {
            result: Some(batch_append_resp::Result::Error(bad_request(
                "The first chunk of a batch must carry options",
            ))),
            ..Default::default()
        }));
    };
    use batch_append_req::options::ExpectedStreamPosition as E;
    let expected_echo = options.expected_stream_position.map(|e| match e {
        E::StreamPosition(n) => batch_append_resp::ExpectedStreamPosition::StreamPosition(n),
        E::NoStream(()) => batch_append_resp::ExpectedStreamPosition::NoStream(()),
        E::Any(()) => batch_append_resp::ExpectedStreamPosition::Any(()),
        E::StreamExists(()) => batch_append_resp::ExpectedStreamPosition::StreamExists(()),
    });
    let mut resp = BatchAppendResp {
        correlation_id: None,
        result: None,
        stream_identifier: options.stream_identifier.clone(),
        expected_stream_position: expected_echo,
    };
    let result = (|| {
        if let Some(err) = batch.error {
            return batch_append_resp::Result::Error(err);
        }
        let Ok(stream) = stream_name(options.stream_identifier) else {
            return batch_append_resp::Result::Error(bad_request("Invalid stream name"));
        };
        // KurrentDB checks when the options arrive; here the batch is
        // answered with its final chunk, like every other refusal.
        if authz::check_access(access, Operation::Stream(StreamAction::Write, &stream)).is_err() {
            return batch_append_resp::Result::Error(rpc_status(
                Code::PermissionDenied,
                "AccessDenied",
                &shared::AccessDenied {},
            ));
        }
        let expected = match options.expected_stream_position {
            Some(E::StreamPosition(n)) => ExpectedRevision::Exact(n),
            Some(E::NoStream(())) => ExpectedRevision::NoStream,
            Some(E::StreamExists(())) => ExpectedRevision::StreamExists,
            Some(E::Any(())) | None => ExpectedRevision::Any,
        };
        let write = StreamWrite {
            stream,
            expected,
            events: batch.events,
        };
        match store.append(vec![write]) {
            Ok(outcome) => {
                use batch_append_resp::success::{CurrentRevisionOption, PositionOption};
                let w = &outcome.writes[0];
                batch_append_resp::Result::Success(batch_append_resp::Success {
                    current_revision_option: Some(match w.current {
                        CurrentRevision::NoStream => CurrentRevisionOption::NoStream(()),
                        CurrentRevision::Revision(r) => CurrentRevisionOption::CurrentRevision(r),
                    }),
                    position_option: Some(match w.position {
                        Some(p) => PositionOption::Position(AllStreamPosition {
                            commit_position: p,
                            prepare_position: p,
                        }),
                        None => PositionOption::NoPosition(()),
                    }),
                })
            }
            Err(WriteError::WrongExpectedVersion {
                expected, current, ..
            }) => {
                use shared::wrong_expected_version::{
                    CurrentStreamRevisionOption as C, ExpectedStreamPositionOption as X,
                };
                let detail = shared::WrongExpectedVersion {
                    current_stream_revision_option: Some(match current {
                        CurrentRevision::NoStream => C::CurrentNoStream(()),
                        CurrentRevision::Revision(r) => C::CurrentStreamRevision(r),
                    }),
                    expected_stream_position_option: Some(match expected {
                        ExpectedRevision::Any => X::ExpectedAny(()),
                        ExpectedRevision::NoStream => X::ExpectedNoStream(()),
                        ExpectedRevision::StreamExists => X::ExpectedStreamExists(()),
                        ExpectedRevision::Exact(n) => X::ExpectedStreamPosition(n),
                    }),
                };
                batch_append_resp::Result::Error(rpc_status(
                    Code::FailedPrecondition,
                    "WrongExpectedVersion",
                    &detail,
                ))
            }
            Err(WriteError::StreamDeleted { stream }) => {
                batch_append_resp::Result::Error(rpc_status(
                    Code::FailedPrecondition,
                    "Stream Deleted",
                    &shared::StreamDeleted {
                        stream_identifier: Some(StreamIdentifier {
                            stream_name: stream,
                        }),
                    },
                ))
            }
        }
    })();
    resp.result = Some(result);
    Ok(Some(resp))
}
