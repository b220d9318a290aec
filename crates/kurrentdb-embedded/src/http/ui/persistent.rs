//! Persistent subscriptions: every group's figures, and one group's, with
//! the oldest of its parked messages, a "Replay parked" form, and links to
//! its checkpoint and parked-message streams in the stream browser. The
//! figures are read without starting a new measurement (see
//! `GroupFigures`), so looking leaves `GetInfo`'s rates alone. A login on a
//! secure server (KurrentDB's `Subscriptions.Statistics`: any
//! authenticated user); the parked messages are read as the stream browser
//! reads their stream (its ACL: a system stream, `$admins` by default).
//!
//! "Replay parked" calls what the gRPC `ReplayParked` calls
//! (`PersistentService::replay_parked`), after the same check
//! (`Operation::SubscriptionsManage`: `$admins` or `$ops`).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::node::HttpNode;
use super::page::{allowed, bad_request, denied, esc, not_found, post, render, rule, segment};
use crate::persistent::{GroupFigures, PersistentError, parked_stream};
use crate::security::authz::{Operation, StreamAction};
use crate::security::principal::Principal;
use crate::store::Direction;
use crate::ticks::timestamp;

/// Parked messages a group's page shows, at most (the oldest).
const MAX_PARKED: usize = 50;

type Node = State<Arc<HttpNode>>;

fn position(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `GET /ui/persistent-subscriptions`.
pub(super) async fn list(State(node): Node, request: Request) -> Response {
    let caller = match allowed(&node, request, Operation::SubscriptionsStatistics).await {
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

#[derive(Debug, Default, Deserialize)]
pub(super) struct OneQuery {
    /// Set after a replay.
    replayed: Option<String>,
}

/// `GET /ui/persistent-subscriptions/{stream}/{group}`.
pub(super) async fn one(
    State(node): Node,
    Path((stream, group)): Path<(String, String)>,
    Query(query): Query<OneQuery>,
    request: Request,
) -> Response {
    let caller = match allowed(&node, request, Operation::SubscriptionsStatistics).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let found: Option<GroupFigures> = node
        .persistent
        .figures()
        .into_iter()
        .find(|g| g.event_source == stream && g.group_name == group);
    let Some(g) = found else {
        return not_found(
            &caller,
            "Persistent subscriptions",
            &format!("There is no group {group} on {stream}."),
        );
    };
    let prefix = format!("$persistentsubscription-{stream}::{group}");
    let parked = parked_stream(&stream, &group);
    let unit = if g.all {
        "commit position"
    } else {
        "event number"
    };
    let mut body = String::new();
    if query.replayed.is_some() {
        body.push_str(
            "<p class=\"note\" id=\"done\">The parked messages are sent to the \
             group's consumers again.</p>",
        );
    }
    let _ = write!(
        body,
        "<dl><dt>Stream</dt><dd><a href=\"/ui/streams/{s}\">{stream}</a></dd>\
         <dt>Connections</dt><dd id=\"connections\">{c}</dd><dt>In flight</dt><dd>{f}</dd>\
         <dt>Parked messages</dt><dd id=\"parked-count\">{p}</dd>\
         <dt>Items processed</dt><dd>{i}</dd>\
         <dt>Last known ({unit})</dt><dd>{k}</dd><dt>Checkpoint ({unit})</dt><dd>{cp}</dd></dl>\
         <p><a href=\"/ui/streams/{checkpoint}\">Checkpoint stream</a> \
         <a href=\"/ui/streams/{parked_seg}\">Parked messages</a></p>",
        s = segment(&stream),
        stream = esc(&stream),
        c = g.connections,
        f = g.in_flight_messages,
        p = g.parked_messages,
        i = g.items_processed,
        k = position(g.last_known),
        cp = position(g.last_checkpointed),
        checkpoint = segment(&format!("{prefix}-checkpoint")),
        parked_seg = segment(&parked),
    );
    parked_messages(&node, &caller, &parked, &mut body);
    let _ = write!(
        body,
        "<h2>Replay parked messages</h2>\
         <form method=\"post\" action=\"/ui/persistent-subscriptions/{s}/{gs}/replay-parked\" \
         id=\"replay-form\"><p><label>Stop at \
         <input name=\"stop_at\" id=\"stop-at\" size=\"10\" inputmode=\"numeric\"></label> \
         (the messages parked before that number are replayed; empty: all) \
         <button id=\"replay-parked\">Replay parked</button></p></form>",
        s = segment(&stream),
        gs = segment(&group),
    );
    render(
        &format!("{stream} :: {group}"),
        "Persistent subscriptions",
        &caller,
        &body,
    )
}

/// The oldest parked messages still parked (at most [`MAX_PARKED`]),
/// when the caller may read the parked stream.
fn parked_messages(node: &HttpNode, caller: &Principal, parked: &str, body: &mut String) {
    body.push_str("<h2>Parked messages</h2>");
    let operation = Operation::Stream(StreamAction::Read, parked.as_bytes());
    if !node.allows(caller, operation) {
        let _ = write!(
            body,
            "<p class=\"error\" id=\"parked-refused\">Your user may not read the parked \
             messages. {}</p>",
            esc(rule(operation))
        );
        return;
    }
    let events = node
        .store
        .read_stream(
            parked.as_bytes(),
            Some(0),
            Direction::Forwards,
            MAX_PARKED + 1,
            true,
        )
        .map(|b| b.events)
        .unwrap_or_default();
    if events.is_empty() {
        body.push_str("<p id=\"no-parked\">No parked messages.</p>");
        return;
    }
    if events.len() > MAX_PARKED {
        let _ = write!(
            body,
            "<p>The oldest {MAX_PARKED} are shown; the stream browser shows them all.</p>"
        );
    }
    body.push_str(
        "<table id=\"parked\"><tr><th>#</th><th>Event</th><th>Type</th><th>Parked</th></tr>",
    );
    for r in events.iter().take(MAX_PARKED) {
        let link = r.original();
        let (event, event_type) = match &r.event {
            Some(e) => {
                let stream = String::from_utf8_lossy(&e.stream);
                (
                    format!(
                        "<a href=\"/ui/streams/{seg}/{n}\">{n}@{name}</a>",
                        seg = segment(&stream),
                        n = e.record.revision,
                        name = esc(&stream),
                    ),
                    esc(&e.record.event_type),
                )
            }
            // The event is gone (deleted or scavenged): the link remains.
            None => (
                esc(&String::from_utf8_lossy(&link.record.data())),
                "(deleted)".to_owned(),
            ),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{event}</td><td>{event_type}</td><td>{}</td></tr>",
            link.record.revision,
            timestamp(link.record.created),
        );
    }
    body.push_str("</table>");
}

#[derive(Debug, Deserialize)]
pub(super) struct ReplayForm {
    #[serde(default)]
    stop_at: String,
}

/// `POST /ui/persistent-subscriptions/{stream}/{group}/replay-parked`:
/// replays the parked messages (up to the optional stop-at), then shows
/// the group (303).
pub(super) async fn replay_parked(
    State(node): Node,
    Path((stream, group)): Path<(String, String)>,
    request: Request,
) -> Response {
    let back = format!(
        "/ui/persistent-subscriptions/{}/{}",
        segment(&stream),
        segment(&group)
    );
    let (caller, form) = match post::<ReplayForm>(&node, request, &back).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if !node.allows(&caller, Operation::SubscriptionsManage) {
        return denied(&caller, rule(Operation::SubscriptionsManage));
    }
    let stop_at = match form.stop_at.trim() {
        "" => None,
        n => match n.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return bad_request(
                    &caller,
                    &back,
                    &format!("Stop at {n:?}: a parked message number (0 or more), or nothing."),
                );
            }
        },
    };
    match node
        .persistent
        .replay_parked(&stream, &group, stop_at)
        .await
    {
        Ok(()) => Redirect::to(&format!("{back}?replayed=1")).into_response(),
        Err(PersistentError::NotFound) => not_found(
            &caller,
            "Persistent subscriptions",
            &format!("There is no group {group} on {stream}."),
        ),
        Err(PersistentError::Failed(reason)) => bad_request(&caller, &back, &reason),
        Err(_) => bad_request(&caller, &back, "The replay was refused."),
    }
}
