//! Projections: every projection's statistics and a form that creates one;
//! one projection's statistics, query, state (per partition when it is
//! partitioned) and result, with forms that update its query, enable,
//! disable, abort, reset and delete it.
//!
//! Looking needs a login on a secure server (KurrentDB's
//! `Operations.Projections.*`: any authenticated user). Every action calls
//! the subsystem method the gRPC Projections service calls, after the same
//! checks: the policy's (`Operation::Projections`; deleting
//! `Operation::ProjectionsManage`, `$admins` or `$ops`), then the projection
//! manager's own ([`RunAs`]: changing a projection needs `$admins` or
//! `$ops`). A refusal is a 403 page stating the rule; a refused input
//! (an empty or taken name, a mode this server does not run, a projection
//! still running when deleted) a 400 page with the manager's reason.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::node::HttpNode;
use super::page::{
    PROJECTIONS_RUN_AS, allowed, bad_request, denied, esc, forbidden, not_found, post, pretty_json,
    render, rule, segment,
};
use crate::projections::{
    DeleteStreams, Details, Mode, NewProjection, OpError, PartitionState, RunAs,
};
use crate::security::authz::Operation;
use crate::security::principal::Principal;

type Node = State<Arc<HttpNode>>;

/// Partitions a projection's page shows, at most.
const MAX_PARTITIONS: usize = 20;

const OFF: &str = "<p id=\"off\">The projection subsystem is not running: start the \
                   server with <code>--run-projections All</code> (or <code>--dev</code>).</p>";

/// What the actions' redirects say was done (`?done=`), by their names.
const DONE: [(&str, &str); 6] = [
    ("created", "Created."),
    ("updated", "Query updated."),
    ("enabled", "Enabled."),
    ("disabled", "Disabled (after a checkpoint)."),
    ("aborted", "Aborted (without a checkpoint)."),
    (
        "reset",
        "Reset: its state is forgotten and it runs again from the start.",
    ),
];

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    /// The projection a delete removed.
    deleted: Option<String>,
}

/// `GET /ui/projections`.
pub(super) async fn list(
    State(node): Node,
    Query(query): Query<ListQuery>,
    request: Request,
) -> Response {
    let caller = match allowed(&node, request, Operation::Projections).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let Some(projections) = &node.projections else {
        return render("Projections", "Projections", &caller, OFF);
    };
    let all = projections.statistics(None).await.unwrap_or_default();
    let mut body = String::new();
    if let Some(deleted) = query.deleted {
        let _ = write!(
            body,
            "<p class=\"note\" id=\"done\">Projection {} deleted.</p>",
            esc(&deleted)
        );
    }
    body.push_str(
        "<table id=\"projections\"><tr><th>Name</th><th>Status</th><th>Mode</th>\
         <th>Progress</th><th>Events processed</th><th>Position</th></tr>",
    );
    for s in &all {
        let _ = write!(
            body,
            "<tr><td><a href=\"/ui/projections/{seg}\">{name}</a></td><td>{status}</td>\
             <td>{mode}</td><td>{progress:.1} %</td><td>{events}</td><td>{position}</td></tr>",
            seg = segment(&s.name),
            name = esc(&s.name),
            status = esc(&s.status),
            mode = esc(s.mode),
            progress = s.progress,
            events = s.events_processed,
            position = esc(&s.position),
        );
    }
    body.push_str("</table>");
    body.push_str(NEW_FORM);
    render("Projections", "Projections", &caller, &body)
}

/// The form that creates a projection. KurrentDB offers three modes; this
/// server runs continuous projections only, and refuses the others with
/// the gRPC service's reason.
const NEW_FORM: &str = "<h2>New projection</h2>\
<form method=\"post\" action=\"/ui/projections\" id=\"new-projection\">\
<p><label>Name <input name=\"name\" id=\"projection-name\" required></label> \
<label>Mode <select name=\"mode\" id=\"projection-mode\">\
<option value=\"continuous\" selected>Continuous</option>\
<option value=\"one-time\">One-time (not run by this server)</option>\
<option value=\"transient\">Transient (not run by this server)</option></select></label></p>\
<p><label>Query (JavaScript)<textarea name=\"query\" id=\"projection-query\" rows=\"10\">\
fromAll()\n.when({\n  $init: function () { return { count: 0 }; },\n  \
$any: function (state, event) { state.count += 1; return state; }\n});</textarea></label></p>\
<p><label><input type=\"checkbox\" name=\"emit\" value=\"on\" id=\"projection-emit\"> \
Emit enabled</label> <label><input type=\"checkbox\" name=\"track_emitted_streams\" \
value=\"on\"> Track emitted streams</label></p>\
<p><button id=\"create-projection\">Create</button></p></form>";

#[derive(Debug, Deserialize)]
pub(super) struct NewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    query: String,
    emit: Option<String>,
    track_emitted_streams: Option<String>,
}

/// Whether `caller` passes the projection manager's own check.
fn run_as(node: &HttpNode, caller: &Principal) -> RunAs {
    RunAs::of(node.allows(caller, Operation::ProjectionsManage))
}

/// The page for a refused operation on projection `name`.
fn refused(caller: &Principal, back: &str, name: &str, e: OpError) -> Response {
    match e {
        OpError::NotFound(_) => not_found(
            caller,
            "Projections",
            &format!("There is no projection {name}."),
        ),
        OpError::NotAuthorized => forbidden(caller, PROJECTIONS_RUN_AS),
        OpError::Conflict(reason)
        | OpError::Failed(reason)
        | OpError::Unsupported(reason)
        | OpError::Invalid(reason) => bad_request(caller, back, &reason),
    }
}

/// The page for an action while the subsystem is off (nothing to act on).
fn off(caller: &Principal) -> Response {
    bad_request(
        caller,
        "/ui/projections",
        "The projection subsystem is not running: start the server with \
         --run-projections All (or --dev).",
    )
}

/// `POST /ui/projections`: creates a projection, then shows it (303).
pub(super) async fn create(State(node): Node, request: Request) -> Response {
    let back = "/ui/projections";
    let (caller, form) = match post::<NewForm>(&node, request, back).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if !node.allows(&caller, Operation::Projections) {
        return denied(&caller, rule(Operation::Projections));
    }
    let Some(projections) = &node.projections else {
        return off(&caller);
    };
    let mode = match form.mode.as_str() {
        "" | "continuous" => Mode::Continuous,
        "one-time" => Mode::OneTime,
        "transient" => Mode::Transient,
        other => {
            return bad_request(
                &caller,
                back,
                &format!("Mode {other:?}: continuous, one-time or transient."),
            );
        }
    };
    let name = form.name.trim().to_owned();
    let new = NewProjection {
        name: name.clone(),
        mode,
        query: form.query,
        emit_enabled: form.emit.is_some(),
        track_emitted_streams: form.track_emitted_streams.is_some(),
    };
    match projections.create(new, run_as(&node, &caller)).await {
        Ok(()) => Redirect::to(&format!("/ui/projections/{}?done=created", segment(&name)))
            .into_response(),
        Err(e) => refused(&caller, back, &name, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct OneQuery {
    /// What an action did (a key of [`DONE`]).
    done: Option<String>,
}

/// `GET /ui/projections/{name}`.
pub(super) async fn one(
    State(node): Node,
    Path(name): Path<String>,
    Query(query): Query<OneQuery>,
    request: Request,
) -> Response {
    let caller = match allowed(&node, request, Operation::Projections).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let Some(projections) = &node.projections else {
        return render("Projections", "Projections", &caller, OFF);
    };
    let d = match projections.details(&name, MAX_PARTITIONS).await {
        Ok(d) => d,
        Err(_) => {
            return not_found(
                &caller,
                "Projections",
                &format!("There is no projection {name}."),
            );
        }
    };
    let mut body = String::new();
    if let Some((_, said)) = DONE
        .iter()
        .find(|(done, _)| query.done.as_deref() == Some(done))
    {
        let _ = write!(body, "<p class=\"note\" id=\"done\">{said}</p>");
    }
    let s = &d.statistics;
    let _ = write!(
        body,
        "<dl><dt>Status</dt><dd id=\"status\">{status}</dd><dt>Reason</dt>\
         <dd id=\"reason\">{reason}</dd>\
         <dt>Mode</dt><dd>{mode}</dd><dt>Progress</dt><dd>{progress:.1} %</dd>\
         <dt>Events processed</dt><dd id=\"events-processed\">{events}</dd>\
         <dt>Position</dt><dd>{position}</dd>\
         <dt>Last checkpoint</dt><dd>{checkpoint}</dd><dt>Emit enabled</dt><dd>{emit}</dd>\
         <dt>Track emitted streams</dt><dd>{track}</dd><dt>Partitions cached</dt>\
         <dd>{partitions}</dd></dl>",
        status = esc(&s.status),
        reason = esc(&s.state_reason),
        mode = esc(s.mode),
        progress = s.progress,
        events = s.events_processed,
        position = esc(&s.position),
        checkpoint = esc(&s.last_checkpoint),
        emit = yes_no(d.emit_enabled),
        track = yes_no(d.track_emitted_streams),
        partitions = s.partitions_cached,
    );
    states(&mut body, &d);
    let path = format!("/ui/projections/{}", segment(&name));
    actions(&mut body, &path, &d);
    render(&name, "Projections", &caller, &body)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// JSON text indented (other text as it is), escaped.
fn shown(json: Option<&str>) -> String {
    let Some(json) = json else {
        return "(none)".to_owned();
    };
    if serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok() {
        esc(&pretty_json(json))
    } else {
        esc(json)
    }
}

/// The state and result: of the projection when it is not partitioned
/// (its one partition is the root, `""`), else of each partition.
fn states(body: &mut String, d: &Details) {
    let root_only = d.partitions.len() == 1 && d.partitions[0].0.is_empty();
    if d.partitions.is_empty() || root_only {
        let root = d.partitions.first().map(|(_, p)| p);
        let state = root.and_then(|p| p.state.as_deref());
        let result = root.and_then(|p| p.result.as_deref());
        let _ = write!(
            body,
            "<h2>State</h2><pre id=\"state\">{}</pre><h2>Result</h2><pre id=\"result\">{}</pre>",
            shown(state),
            shown(result)
        );
        return;
    }
    let _ = write!(
        body,
        "<h2>State by partition</h2><p id=\"partition-count\">{} partitions",
        d.partition_count
    );
    if d.partition_count > d.partitions.len() {
        let _ = write!(body, " (the first {} by name shown)", d.partitions.len());
    }
    body.push_str(
        ".</p><table id=\"partitions\"><tr><th>Partition</th><th>State</th><th>Result</th></tr>",
    );
    for (partition, PartitionState { state, result }) in &d.partitions {
        let label = if partition.is_empty() {
            "(root)"
        } else {
            partition
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>",
            esc(label),
            shown(state.as_deref()),
            shown(result.as_deref())
        );
    }
    body.push_str("</table>");
}

/// The forms that act on the projection at `path`.
fn actions(body: &mut String, path: &str, d: &Details) {
    let button = |action: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"{path}/{action}\" class=\"inline\">\
             <button id=\"{action}-projection\">{label}</button></form> "
        )
    };
    body.push_str("<h2>Actions</h2><p>");
    for (action, label) in [
        ("enable", "Enable"),
        ("disable", "Disable"),
        ("abort", "Abort"),
        ("reset", "Reset"),
    ] {
        body.push_str(&button(action, label));
    }
    body.push_str("</p>");
    if d.standard {
        let _ = write!(
            body,
            "<h2>Configuration</h2><pre id=\"query\">{}</pre>",
            esc(&d.query)
        );
        return;
    }
    let checked = if d.emit_enabled { " checked" } else { "" };
    let _ = write!(
        body,
        "<h2>Query</h2><form method=\"post\" action=\"{path}/update\" id=\"update-form\">\
         <p><textarea name=\"query\" id=\"query\" rows=\"12\">{query}</textarea></p>\
         <p><label><input type=\"checkbox\" name=\"emit\" value=\"on\"{checked}> Emit enabled\
         </label> <button id=\"update-projection\">Save the query</button></p></form>\
         <h2>Delete</h2><form method=\"post\" action=\"{path}/delete\" id=\"delete-form\">\
         <p>A projection is deleted once it is stopped (disable it first).</p>\
         <p><label><input type=\"checkbox\" name=\"delete_checkpoint_stream\" value=\"on\"> \
         Delete its checkpoint stream</label> <label><input type=\"checkbox\" \
         name=\"delete_state_stream\" value=\"on\"> Delete its state stream</label> \
         <label><input type=\"checkbox\" name=\"delete_emitted_streams\" value=\"on\"> \
         Delete its emitted streams (when tracked)</label></p>\
         <p><button id=\"delete-projection\">Delete</button></p></form>",
        query = esc(&d.query),
    );
}

#[derive(Debug, Deserialize)]
pub(super) struct ActionForm {
    /// The new query (update).
    query: Option<String>,
    /// Emit enabled (update).
    emit: Option<String>,
    delete_checkpoint_stream: Option<String>,
    delete_state_stream: Option<String>,
    delete_emitted_streams: Option<String>,
}

/// `POST /ui/projections/{name}/{action}`: `update`, `enable`, `disable`,
/// `abort`, `reset` or `delete`; then the projection (303), or the list
/// after a delete.
pub(super) async fn act(
    State(node): Node,
    Path((name, action)): Path<(String, String)>,
    request: Request,
) -> Response {
    let back = format!("/ui/projections/{}", segment(&name));
    let (caller, form) = match post::<ActionForm>(&node, request, &back).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    // The policy: any signed-in user, but `$admins` or `$ops` to delete.
    let policy = if action == "delete" {
        Operation::ProjectionsManage
    } else {
        Operation::Projections
    };
    if !node.allows(&caller, policy) {
        return denied(&caller, rule(policy));
    }
    let Some(projections) = &node.projections else {
        return off(&caller);
    };
    let run_as = run_as(&node, &caller);
    let done = match action.as_str() {
        "update" => {
            let Some(query) = form.query else {
                return bad_request(&caller, &back, "An update needs the query.");
            };
            let emit = Some(form.emit.is_some());
            projections
                .update(&name, query, emit, run_as)
                .await
                .map(|()| "updated")
        }
        "enable" => projections.enable(&name, run_as).await.map(|()| "enabled"),
        "disable" => projections
            .disable(&name, true, run_as)
            .await
            .map(|()| "disabled"),
        "abort" => projections
            .disable(&name, false, run_as)
            .await
            .map(|()| "aborted"),
        "reset" => projections.reset(&name, run_as).await.map(|()| "reset"),
        "delete" => {
            let what = DeleteStreams {
                checkpoint_stream: form.delete_checkpoint_stream.is_some(),
                state_stream: form.delete_state_stream.is_some(),
                emitted_streams: form.delete_emitted_streams.is_some(),
            };
            return match projections.delete(&name, what, run_as).await {
                // A path segment's encoding suits a query value too.
                Ok(()) => Redirect::to(&format!("/ui/projections?deleted={}", segment(&name)))
                    .into_response(),
                Err(e) => refused(&caller, &back, &name, e),
            };
        }
        other => {
            return not_found(
                &caller,
                "Projections",
                &format!("A projection has no action {other}."),
            );
        }
    };
    match done {
        Ok(done) => Redirect::to(&format!("{back}?done={done}")).into_response(),
        Err(e) => refused(&caller, &back, &name, e),
    }
}
