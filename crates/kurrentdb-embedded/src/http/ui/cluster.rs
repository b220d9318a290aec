//! The node and its cluster: what `/info` and `/gossip` say, as a page.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;

use super::super::node::HttpNode;
use super::page::{caller, esc, render};
use crate::ticks::timestamp;

/// `GET /ui/cluster` (and `/ui`).
pub(super) async fn page(State(node): State<Arc<HttpNode>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let members = node.membership.view();
    let (head, _) = node.store.head_position();
    let me = members.get(node.index);
    let mut body = String::new();
    let _ = write!(
        body,
        "<dl><dt>This node</dt><dd>{addr}</dd>\
         <dt>State</dt><dd id=\"node-state\">{state}</dd>\
         <dt>Version</dt><dd>{version}</dd>\
         <dt>Security</dt><dd>{security}</dd>\
         <dt>Projections</dt><dd>{projections}</dd>\
         <dt>Started</dt><dd>{started}</dd>\
         <dt>Log end (writer checkpoint)</dt><dd>{head}</dd>\
         <dt>Epoch</dt><dd>{epoch}</dd></dl>",
        addr = esc(&node.addr.to_string()),
        state = me.map_or("Unknown", |m| m.state.as_str_name()),
        version = esc(&node.server_version),
        security = if node.authenticator.is_some() {
            "TLS, users and ACLs"
        } else {
            "insecure (no TLS, no authentication)"
        },
        projections = if node.projections_enabled {
            "running"
        } else {
            "off"
        },
        started = timestamp(node.metrics.started_ticks()),
        epoch = me.map_or(0, |m| m.epoch),
    );
    body.push_str(
        "<h2>Members</h2><table id=\"members\"><tr><th>State</th><th>Alive</th>\
         <th>Address (clients)</th><th>Read-only replica</th><th>Priority</th>\
         <th>Instance id</th></tr>",
    );
    for (i, m) in members.iter().enumerate() {
        let here = if i == node.index { " (this node)" } else { "" };
        let _ = write!(
            body,
            "<tr><td>{state}{here}</td><td>{alive}</td><td>{host}:{port}</td>\
             <td>{ro}</td><td>{priority}</td><td><code>{id}</code></td></tr>",
            state = m.state.as_str_name(),
            alive = if m.is_alive { "yes" } else { "no" },
            host = esc(&m.host),
            port = m.port,
            ro = if m.read_only { "yes" } else { "no" },
            priority = m.priority,
            id = m.instance_id,
        );
    }
    body.push_str("</table>");
    render("Cluster", "Cluster", &caller, &body)
}
