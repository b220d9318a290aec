//! Projections: every projection's statistics, and one projection's
//! statistics, state and result. Projections need a login on a secure
//! server (KurrentDB's `Operations.Projections.*`: any authenticated user).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::super::node::HttpNode;
use super::page::{caller, denied, esc, pretty_json, render, segment};
use crate::projections::Statistics;
use crate::security::authz::Operation;

type Node = State<Arc<HttpNode>>;

const OFF: &str = "<p id=\"off\">The projection subsystem is not running: start the \
                   server with <code>--run-projections All</code> (or <code>--dev</code>).</p>";

/// `GET /ui/projections`.
pub(super) async fn list(State(node): Node, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    if !node.allows(&caller, Operation::Projections) {
        return denied(&caller);
    }
    let Some(projections) = &node.projections else {
        return render("Projections", "Projections", &caller, OFF);
    };
    let all = projections.statistics(None).await.unwrap_or_default();
    let mut body = String::from(
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
    render("Projections", "Projections", &caller, &body)
}

/// `GET /ui/projections/{name}`.
pub(super) async fn one(State(node): Node, Path(name): Path<String>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    if !node.allows(&caller, Operation::Projections) {
        return denied(&caller);
    }
    let Some(projections) = &node.projections else {
        return render("Projections", "Projections", &caller, OFF);
    };
    let Some(s): Option<Statistics> = projections
        .statistics(Some(&name))
        .await
        .ok()
        .and_then(|mut v| v.pop())
    else {
        return (
            StatusCode::NOT_FOUND,
            render(
                "Projection not found",
                "Projections",
                &caller,
                &format!("<p>There is no projection {}.</p>", esc(&name)),
            ),
        )
            .into_response();
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<dl><dt>Status</dt><dd id=\"status\">{status}</dd><dt>Reason</dt><dd>{reason}</dd>\
         <dt>Mode</dt><dd>{mode}</dd><dt>Progress</dt><dd>{progress:.1} %</dd>\
         <dt>Events processed</dt><dd>{events}</dd><dt>Position</dt><dd>{position}</dd>\
         <dt>Last checkpoint</dt><dd>{checkpoint}</dd><dt>Partitions cached</dt>\
         <dd>{partitions}</dd></dl>",
        status = esc(&s.status),
        reason = esc(&s.state_reason),
        mode = esc(s.mode),
        progress = s.progress,
        events = s.events_processed,
        position = esc(&s.position),
        checkpoint = esc(&s.last_checkpoint),
        partitions = s.partitions_cached,
    );
    for (title, id, result) in [("State", "state", false), ("Result", "result", true)] {
        let text = projections
            .state(&name, "", result)
            .await
            .ok()
            .flatten()
            .map(|json| {
                if serde_json::from_str::<serde::de::IgnoredAny>(&json).is_ok() {
                    pretty_json(&json)
                } else {
                    json
                }
            });
        let _ = write!(
            body,
            "<h2>{title}</h2><pre id=\"{id}\">{}</pre>",
            esc(text.as_deref().unwrap_or("(none)"))
        );
    }
    render(&name, "Projections", &caller, &body)
}
