//! `event_store.client.projections.Projections`: projection management over the
//! [`crate::projections`] subsystem, answered as KurrentDB's
//! `ProjectionManagement` service answers (`Services/Grpc/*.cs`):
//! - a missing projection: NOT_FOUND `"Projection '<name>' not found"`;
//! - a taken name on create, or an operation the projection's status
//!   forbids (deleting a running one): UNKNOWN "Envelope callback expected
//!   Updated, received Conflict (or OperationFailed) instead", as KurrentDB
//!   26.1 answers them (see [`status`]);
//! - a state or result: a `google.protobuf.Value` parsed from the JSON (an
//!   empty object when there is none);
//! - a request without its options, or a create without a mode: the
//!   handler's exception (UNKNOWN), as for the other services.
//!
//! Only continuous projections are created: one-time and transient ones are
//! refused with FAILED_PRECONDITION (transient with the "Transient
//! projections are deprecated" message of KurrentDB's main branch).
//!
//! Access: the policy's check first (any authenticated caller; `$admins`
//! or `$ops` to delete or restart), then the projection manager's own
//! ([`RunAs`]: changing a projection needs `$admins` or `$ops`), refused as
//! 26.1 refuses it, UNKNOWN "Envelope callback expected Updated, received
//! NotAuthorized instead". The web UI's actions call the same subsystem
//! methods after the same checks.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use kurrentdbclient::proto::projections::projections_server::Projections as ProjectionsApi;
use kurrentdbclient::proto::projections::{self as pp, create_req, statistics_req};
use kurrentdbclient::proto::shared::Empty;
use prost_types::value::Kind;
use tonic::{Code, Request, Response, Status};

use super::malformed;
use crate::projections::{
    DeleteStreams, Mode, NewProjection, OpError, Projections, RunAs, Statistics,
};
use crate::security::authz::{self, Operation};

/// The projections service.
#[derive(Debug, Clone)]
pub(crate) struct ProjectionsService {
    projections: Arc<Projections>,
}

impl ProjectionsService {
    /// A service over the subsystem.
    pub(crate) fn new(projections: Arc<Projections>) -> Self {
        ProjectionsService { projections }
    }
}

/// The status of a failed operation whose success is the reply `expected`
/// (`Updated`, `Statistics`, `ProjectionState`, `ProjectionResult`).
///
/// KurrentDB 26.1's handlers (`Services/Grpc/ProjectionManagement.*.cs`)
/// turn a missing projection into NOT_FOUND, and any other reply into
/// UNKNOWN "Envelope callback expected <expected>, received <reply>
/// instead" (`UnknownMessage<T>`), so a conflict or a failed operation
/// reaches the client as that text, its reason left behind: a duplicate
/// name is "received Conflict instead", deleting a running projection
/// "received OperationFailed instead". (KurrentDB's main branch, after
/// 26.1, maps them to ALREADY_EXISTS and FAILED_PRECONDITION with the
/// reason; the client reads both forms as the same errors.)
fn status(expected: &'static str) -> impl Fn(OpError) -> Status {
    move |e| {
        let reply = match e {
            OpError::NotFound(name) => {
                return Status::new(Code::NotFound, format!("Projection '{name}' not found"));
            }
            OpError::Conflict(reason) => {
                tracing::debug!("projection conflict: {reason}");
                "Conflict"
            }
            OpError::Failed(reason) => {
                tracing::debug!("projection operation failed: {reason}");
                "OperationFailed"
            }
            OpError::NotAuthorized => "NotAuthorized",
            OpError::Unsupported(reason) => return unsupported(&reason),
            OpError::Invalid(reason) => return malformed(&reason),
        };
        Status::new(
            Code::Unknown,
            format!("Envelope callback expected {expected}, received {reply} instead"),
        )
    }
}

/// FAILED_PRECONDITION with the reason: this server's refusal of what it
/// does not run (one-time and transient projections).
fn unsupported(reason: &str) -> Status {
    Status::new(Code::FailedPrecondition, reason)
}

/// The caller of a request, as the projection manager checks it.
fn run_as(extensions: &tonic::Extensions) -> RunAs {
    RunAs::of(authz::check(extensions, Operation::ProjectionsManage).is_ok())
}

/// JSON text as a `google.protobuf.Value`; none (or unparsable) is `{}`.
fn value_of(json: Option<String>) -> prost_types::Value {
    let parsed = json.and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok());
    match parsed {
        Some(v) => to_value(v),
        None => prost_types::Value {
            kind: Some(Kind::StructValue(Default::default())),
        },
    }
}

fn to_value(v: serde_json::Value) -> prost_types::Value {
    use serde_json::Value as J;
    let kind = match v {
        J::Null => Kind::NullValue(0),
        J::Bool(b) => Kind::BoolValue(b),
        J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Kind::StringValue(s),
        J::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.into_iter().map(to_value).collect(),
        }),
        J::Object(o) => Kind::StructValue(prost_types::Struct {
            fields: o.into_iter().map(|(k, v)| (k, to_value(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

fn details(s: Statistics) -> pp::StatisticsResp {
    pp::StatisticsResp {
        details: Some(pp::statistics_resp::Details {
            core_processing_time: 0,
            version: s.version,
            epoch: s.epoch,
            effective_name: s.name.clone(),
            writes_in_progress: 0,
            reads_in_progress: 0,
            partitions_cached: s.partitions_cached,
            status: s.status,
            state_reason: s.state_reason,
            name: s.name,
            mode: s.mode.to_owned(),
            position: s.position,
            progress: s.progress,
            last_checkpoint: s.last_checkpoint,
            events_processed_after_restart: s.events_processed,
            checkpoint_status: String::new(),
            buffered_events: s.buffered,
            write_pending_events_before_checkpoint: 0,
            write_pending_events_after_checkpoint: 0,
        }),
    }
}

type StatisticsStream = Pin<Box<dyn Stream<Item = Result<pp::StatisticsResp, Status>> + Send>>;

#[tonic::async_trait]
impl ProjectionsApi for ProjectionsService {
    async fn create(
        &self,
        request: Request<pp::CreateReq>,
    ) -> Result<Response<pp::CreateResp>, Status> {
        authz::check(request.extensions(), Operation::Projections)?;
        let run_as = run_as(request.extensions());
        let options = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("create without options"))?;
        let new = match options.mode {
            Some(create_req::options::Mode::Continuous(c)) => NewProjection {
                name: c.name,
                mode: Mode::Continuous,
                query: options.query,
                emit_enabled: c.emit_enabled,
                track_emitted_streams: c.track_emitted_streams,
            },
            Some(create_req::options::Mode::Transient(t)) => NewProjection {
                name: t.name,
                mode: Mode::Transient,
                query: options.query,
                emit_enabled: false,
                track_emitted_streams: false,
            },
            Some(create_req::options::Mode::OneTime(_)) => NewProjection {
                name: uuid::Uuid::new_v4().to_string(),
                mode: Mode::OneTime,
                query: options.query,
                emit_enabled: false,
                track_emitted_streams: false,
            },
            None => return Err(malformed("create without a mode")),
        };
        self.projections
            .create(new, run_as)
            .await
            .map_err(status("Updated"))?;
        Ok(Response::new(pp::CreateResp {}))
    }

    async fn update(
        &self,
        request: Request<pp::UpdateReq>,
    ) -> Result<Response<pp::UpdateResp>, Status> {
        use pp::update_req::options::EmitOption;
        authz::check(request.extensions(), Operation::Projections)?;
        let run_as = run_as(request.extensions());
        let options = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("update without options"))?;
        let emit = match options.emit_option {
            Some(EmitOption::EmitEnabled(e)) => Some(e),
            Some(EmitOption::NoEmitOptions(_)) => None,
            None => return Err(malformed("update without an emit option")),
        };
        self.projections
            .update(&options.name, options.query, emit, run_as)
            .await
            .map_err(status("Updated"))?;
        Ok(Response::new(pp::UpdateResp {}))
    }

    async fn delete(
        &self,
        request: Request<pp::DeleteReq>,
    ) -> Result<Response<pp::DeleteResp>, Status> {
        authz::check(request.extensions(), Operation::ProjectionsManage)?;
        let run_as = run_as(request.extensions());
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("delete without options"))?;
        self.projections
            .delete(
                &o.name,
                DeleteStreams {
                    checkpoint_stream: o.delete_checkpoint_stream,
                    state_stream: o.delete_state_stream,
                    emitted_streams: o.delete_emitted_streams,
                },
                run_as,
            )
            .await
            .map_err(status("Updated"))?;
        Ok(Response::new(pp::DeleteResp {}))
    }

    type StatisticsStream = StatisticsStream;

    async fn statistics(
        &self,
        request: Request<pp::StatisticsReq>,
    ) -> Result<Response<Self::StatisticsStream>, Status> {
        use statistics_req::options::Mode;
        authz::check(request.extensions(), Operation::Projections)?;
        let options = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("statistics without options"))?;
        // Every projection here is continuous: `all` and `continuous` list
        // them all, `one_time` and `transient` none.
        let all = match options.mode {
            Some(Mode::Name(name)) if !name.is_empty() => {
                self.projections.statistics(Some(&name)).await
            }
            Some(Mode::Name(_) | Mode::All(_) | Mode::Continuous(_)) => {
                self.projections.statistics(None).await
            }
            Some(Mode::OneTime(_) | Mode::Transient(_)) => Ok(Vec::new()),
            None => return Err(malformed("statistics without a mode")),
        }
        .map_err(status("Statistics"))?;
        let responses: Vec<Result<pp::StatisticsResp, Status>> =
            all.into_iter().map(|s| Ok(details(s))).collect();
        Ok(Response::new(Box::pin(futures::stream::iter(responses))))
    }

    async fn disable(
        &self,
        request: Request<pp::DisableReq>,
    ) -> Result<Response<pp::DisableResp>, Status> {
        authz::check(request.extensions(), Operation::Projections)?;
        let run_as = run_as(request.extensions());
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("disable without options"))?;
        self.projections
            .disable(&o.name, o.write_checkpoint, run_as)
            .await
            .map_err(status("Updated"))?;
        Ok(Response::new(pp::DisableResp {}))
    }

    async fn enable(
        &self,
        request: Request<pp::EnableReq>,
    ) -> Result<Response<pp::EnableResp>, Status> {
        authz::check(request.extensions(), Operation::Projections)?;
        let run_as = run_as(request.extensions());
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("enable without options"))?;
        self.projections
            .enable(&o.name, run_as)
            .await
            .map_err(status("Updated"))?;
        Ok(Response::new(pp::EnableResp {}))
    }

    async fn reset(
        &self,
        request: Request<pp::ResetReq>,
    ) -> Result<Response<pp::ResetResp>, Status> {
        authz::check(request.extensions(), Operation::Projections)?;
        let run_as = run_as(request.extensions());
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("reset without options"))?;
        self.projections
            .reset(&o.name, run_as)
            .await
            .map_err(status("Updated"))?;
        Ok(Response::new(pp::ResetResp {}))
    }

    async fn state(
        &self,
        request: Request<pp::StateReq>,
    ) -> Result<Response<pp::StateResp>, Status> {
        authz::check(request.extensions(), Operation::Projections)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("state without options"))?;
        let state = self
            .projections
            .state(&o.name, &o.partition, false)
            .await
            .map_err(status("ProjectionState"))?;
        Ok(Response::new(pp::StateResp {
            state: Some(value_of(state)),
        }))
    }

    async fn result(
        &self,
        request: Request<pp::ResultReq>,
    ) -> Result<Response<pp::ResultResp>, Status> {
        authz::check(request.extensions(), Operation::Projections)?;
        let o = request
            .into_inner()
            .options
            .ok_or_else(|| malformed("result without options"))?;
        let result = self
            .projections
            .state(&o.name, &o.partition, true)
            .await
            .map_err(status("ProjectionResult"))?;
        Ok(Response::new(pp::ResultResp {
            result: Some(value_of(result)),
        }))
    }

    async fn restart_subsystem(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        authz::check(request.extensions(), Operation::ProjectionsManage)?;
        self.projections.restart().await;
        Ok(Response::new(Empty {}))
    }
}
