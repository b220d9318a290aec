//! Persistent subscriptions: every group's figures, and one group's, with
//! links to its checkpoint and parked-message streams in the stream
//! browser. The figures are read without starting a new measurement (see
//! `GroupFigures`), so looking leaves `GetInfo`'s rates alone. A login on a
//! secure server (KurrentDB's `Subscriptions.Statistics`: any
//! authenticated user).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::super::node::HttpNode;
use super::page::{caller, denied, esc, render, segment};
use crate::persistent::GroupFigures;
use crate::security::authz::Operation;
use crate::security::principal::Principal;

type Node = State<Arc<HttpNode>>;

/// The caller, if they may see the groups; else the refusal.
async fn allowed(node: &HttpNode, request: Request) -> Result<Principal, Response> {
    let (parts, _) = request.into_parts();
    let caller = caller(node, &parts).await?;
    if node.allows(&caller, Operation::SubscriptionsStatistics) {
        Ok(caller)
    } else {
        Err(denied(&caller))
    }
}

fn position(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `GET /ui/persistent-subscriptions`.
pub(super) async fn list(State(node): Node, request: Request) -> Response {
    let caller = match allowed(&node, request).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let groups = node.persistent.figures();
    let mut body = String::new();
    if groups.is_empty() {
        body.push_str("<p id=\"none\">No persistent subscription groups.</p>");
    }
    body.push_str(
        "<table id=\"groups\"><tr><th>Stream</th><th>Group</th><th>Connections</th>\
         <th>In flight</th><th>Parked</th><th>Items processed</th><th>Last known</th>\
         <th>Checkpoint</th></tr>",
    );
    for g in &groups {
        let _ = write!(
            body,
            "<tr><td>{stream}</td><td><a href=\"/ui/persistent-subscriptions/{s}/{gs}\">{group}</a>\
             </td><td>{c}</td><td>{f}</td><td>{p}</td><td>{i}</td><td>{k}</td><td>{cp}</td></tr>",
            stream = esc(&g.event_source),
            s = segment(&g.event_source),
            gs = segment(&g.group_name),
            group = esc(&g.group_name),
            c = g.connections,
            f = g.in_flight_messages,
            p = g.parked_messages,
            i = g.items_processed,
            k = position(g.last_known),
            cp = position(g.last_checkpointed),
        );
    }
    body.push_str("</table>");
    render(
        "Persistent subscriptions",
        "Persistent subscriptions",
        &caller,
        &body,
    )
}

/// `GET /ui/persistent-subscriptions/{stream}/{group}`.
pub(super) async fn one(
    State(node): Node,
    Path((stream, group)): Path<(String, String)>,
    request: Request,
) -> Response {
    let caller = match allowed(&node, request).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let found: Option<GroupFigures> = node
        .persistent
        .figures()
        .into_iter()
        .find(|g| g.event_source == stream && g.group_name == group);
    let Some(g) = found else {
        return (
            StatusCode::NOT_FOUND,
            render(
                "Group not found",
                "Persistent subscriptions",
                &caller,
                &format!(
                    "<p>There is no group {} on {}.</p>",
                    esc(&group),
                    esc(&stream)
                ),
            ),
        )
            .into_response();
    };
    let prefix = format!("$persistentsubscription-{stream}::{group}");
    let unit = if g.all {
        "commit position"
    } else {
        "event number"
    };
    let body = format!(
        "<dl><dt>Stream</dt><dd><a href=\"/ui/streams/{s}\">{stream}</a></dd>\
         <dt>Connections</dt><dd id=\"connections\">{c}</dd><dt>In flight</dt><dd>{f}</dd>\
         <dt>Parked messages</dt><dd>{p}</dd><dt>Items processed</dt><dd>{i}</dd>\
         <dt>Last known ({unit})</dt><dd>{k}</dd><dt>Checkpoint ({unit})</dt><dd>{cp}</dd></dl>\
         <p><a href=\"/ui/streams/{checkpoint}\">Checkpoint stream</a> \
         <a href=\"/ui/streams/{parked}\">Parked messages</a></p>",
        s = segment(&stream),
        stream = esc(&stream),
        c = g.connections,
        f = g.in_flight_messages,
        p = g.parked_messages,
        i = g.items_processed,
        k = position(g.last_known),
        cp = position(g.last_checkpointed),
        checkpoint = segment(&format!("{prefix}-checkpoint")),
        parked = segment(&format!("{prefix}-parked")),
    );
    render(
        &format!("{stream} :: {group}"),
        "Persistent subscriptions",
        &caller,
        &body,
    )
}
