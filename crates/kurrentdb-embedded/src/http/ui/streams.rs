//! The stream browser: `$all` and any stream, a page at a time, forwards or
//! backwards; one event with its metadata and body (JSON pretty-printed,
//! anything else as bytes); and the form that appends an event.
//!
//! A page reads `count + 1` events (at most [`MAX_COUNT`]` + 1`): the extra
//! one, when there is one, is where the next page starts, so paging costs
//! one bounded read whatever the log's size.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;

use super::super::node::HttpNode;
use super::page::{bad_request, caller, denied, esc, post, pretty_json, render, rule, segment};
use crate::security::authz::{Operation, StreamAction};
use crate::security::principal::Principal;
use crate::store::{
    CurrentRevision, Direction, ExpectedRevision, LogStart, NamedRecord, ProposedEvent,
    ReadStreamError, ResolvedRecord, StreamWrite, WriteError,
};
use crate::ticks::timestamp;

/// Events a page shows by default, and at most.
const DEFAULT_COUNT: usize = 20;
const MAX_COUNT: usize = 100;
/// Records a page of `$all` looks at, at most (scavenged records are
/// passed over).
const MAX_SCAN: usize = 4096;
/// Bytes of a binary body shown, at most.
const MAX_SHOWN_BYTES: usize = 4096;

type Node = State<Arc<HttpNode>>;

#[derive(Debug, Deserialize)]
pub(super) struct HomeQuery {
    stream: Option<String>,
}

/// `GET /ui/streams`: open a stream by name, `$all`, or one of the streams
/// written last.
pub(super) async fn home(State(node): Node, query: Query<HomeQuery>, request: Request) -> Response {
    if let Some(name) = query.0.stream.filter(|s| !s.is_empty()) {
        return Redirect::to(&format!("/ui/streams/{}", segment(&name))).into_response();
    }
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let mut body = String::from(
        "<form method=\"get\" action=\"/ui/streams\"><label>Stream \
         <input name=\"stream\" id=\"stream-name\" required></label> \
         <button>Open</button></form>\
         <p><a href=\"/ui/streams/$all\" id=\"all-link\">Browse $all</a></p>",
    );
    if node.allows(&caller, Operation::Stream(StreamAction::Read, b"$all")) {
        // The streams of the last page of `$all`, newest first.
        let cursor = node.store.all_cursor_nearest(LogStart::End);
        let batch = node.store.read_all(
            cursor,
            Direction::Backwards,
            MAX_COUNT,
            MAX_SCAN,
            None,
            false,
        );
        let mut seen: Vec<&[u8]> = Vec::new();
        for e in &batch.events {
            let stream = &e.original().stream[..];
            if !seen.contains(&stream) {
                seen.push(stream);
            }
        }
        body.push_str("<h2>Recently written</h2><ul id=\"recent\">");
        for stream in seen {
            let name = String::from_utf8_lossy(stream);
            let _ = write!(
                body,
                "<li><a href=\"/ui/streams/{}\">{}</a></li>",
                segment(&name),
                esc(&name)
            );
        }
        body.push_str("</ul>");
    }
    render("Streams", "Streams", &caller, &body)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    /// Where the page starts (inclusive): a revision, or a commit position
    /// for `$all`.
    from: Option<u64>,
    /// `forwards` or `backwards` (default: backwards, newest first).
    dir: Option<String>,
    count: Option<usize>,
    /// The revision an append from the form was written at.
    appended: Option<u64>,
}

/// `GET /ui/streams/{stream}`.
pub(super) async fn stream(
    State(node): Node,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    stream_page(&node, &caller, &name, &query, None)
}

/// The page of stream `name`, with `problem` (an append refused) shown.
fn stream_page(
    node: &HttpNode,
    caller: &Principal,
    name: &str,
    query: &PageQuery,
    problem: Option<&str>,
) -> Response {
    let operation = Operation::Stream(StreamAction::Read, name.as_bytes());
    if !node.allows(caller, operation) {
        return denied(caller, rule(operation));
    }
    let count = query.count.unwrap_or(DEFAULT_COUNT).clamp(1, MAX_COUNT);
    let forwards = query.dir.as_deref() == Some("forwards");
    let direction = if forwards {
        Direction::Forwards
    } else {
        Direction::Backwards
    };
    let is_all = name == "$all";
    let mut body = String::new();
    if let Some(problem) = problem {
        let _ = write!(
            body,
            "<p class=\"error\" id=\"problem\">{}</p>",
            esc(problem)
        );
    }
    if let Some(revision) = query.appended {
        let _ = write!(
            body,
            "<p class=\"note\" id=\"appended\">Appended event {revision}.</p>"
        );
    }
    let (events, next) = if is_all {
        let cursor = match (query.from, forwards) {
            (None, true) => 0,
            (None, false) => node.store.all_cursor_nearest(LogStart::End),
            (Some(p), true) => node.store.all_cursor_nearest(LogStart::At(p)),
            (Some(p), false) => node.store.all_cursor_nearest(LogStart::After(p)),
        };
        let mut batch = node
            .store
            .read_all(cursor, direction, count + 1, MAX_SCAN, None, false);
        let next = (batch.events.len() > count)
            .then(|| batch.events.pop())
            .flatten()
            .map(|e| e.original().record.position);
        (batch.events, next)
    } else {
        match node
            .store
            .read_stream(name.as_bytes(), query.from, direction, count + 1, false)
        {
            Ok(mut batch) => {
                let next = (batch.events.len() > count)
                    .then(|| batch.events.pop())
                    .flatten()
                    .map(|e| e.original().record.revision);
                (batch.events, next)
            }
            Err(ReadStreamError::NotFound) => {
                body.push_str("<p id=\"not-found\">This stream has no events.</p>");
                (Vec::new(), None)
            }
            Err(ReadStreamError::Deleted) => {
                body.push_str("<p class=\"error\">This stream is deleted (tombstoned).</p>");
                (Vec::new(), None)
            }
        }
    };
    let path = format!("/ui/streams/{}", segment(name));
    let mut pager = format!(
        "<p class=\"pager\"><a href=\"{path}\">Newest</a>\
         <a href=\"{path}?dir=forwards\">Oldest</a>"
    );
    if let Some(next) = next {
        let (label, dir) = if forwards {
            ("Newer", "forwards")
        } else {
            ("Older", "backwards")
        };
        let _ = write!(
            pager,
            "<a href=\"{path}?dir={dir}&amp;from={next}&amp;count={count}\" id=\"next\">{label}</a>"
        );
    }
    pager.push_str("</p>");
    body.push_str(&pager);
    body.push_str(
        "<table id=\"events\"><tr><th>#</th><th>Type</th><th>Stream</th>\
         <th>Position</th><th>Created</th></tr>",
    );
    for e in &events {
        row(&mut body, e.original());
    }
    body.push_str("</table>");
    if !is_all {
        append_form(&mut body, &path);
    }
    render(name, "Streams", caller, &body)
}

/// One event's row: its number (a link to it), type, stream, position and
/// time.
fn row(body: &mut String, e: &NamedRecord) {
    let stream = String::from_utf8_lossy(&e.stream);
    let r = &e.record;
    let _ = write!(
        body,
        "<tr><td><a href=\"/ui/streams/{seg}/{rev}\">{rev}</a></td><td>{ty}</td>\
         <td><a href=\"/ui/streams/{seg}\">{stream}</a></td><td>{pos}</td><td>{time}</td></tr>",
        seg = segment(&stream),
        rev = r.revision,
        ty = esc(&r.event_type),
        stream = esc(&stream),
        pos = r.position,
        time = timestamp(r.created),
    );
}

fn append_form(body: &mut String, path: &str) {
    let _ = write!(
        body,
        "<h2>Append an event</h2><form method=\"post\" action=\"{path}\" id=\"append\">\
         <p><label>Event type <input name=\"event_type\" id=\"event-type\" required></label> \
         <label><input type=\"checkbox\" name=\"json\" value=\"on\" checked> JSON</label> \
         <label>Expected revision <input name=\"expected\" placeholder=\"any\" size=\"10\"></label></p>\
         <p><label>Data<textarea name=\"data\" id=\"event-data\" rows=\"6\">{{}}</textarea></label></p>\
         <p><label>Metadata<textarea name=\"metadata\" rows=\"3\"></textarea></label></p>\
         <p><button id=\"append-button\">Append</button></p></form>"
    );
}

#[derive(Debug, Deserialize)]
pub(super) struct AppendForm {
    event_type: String,
    #[serde(default)]
    json: Option<String>,
    #[serde(default)]
    expected: String,
    #[serde(default)]
    data: String,
    #[serde(default)]
    metadata: String,
}

/// `POST /ui/streams/{stream}`: appends the form's event, then shows the
/// stream (303), or the stream page with what was wrong.
pub(super) async fn append(
    State(node): Node,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let back = format!("/ui/streams/{}", segment(&name));
    let (caller, form) = match post::<AppendForm>(&node, request, &back).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if name == "$all" || name.is_empty() {
        return bad_request(&caller, &back, "$all cannot be appended to.");
    }
    let operation = Operation::Stream(StreamAction::Write, name.as_bytes());
    if !node.allows(&caller, operation) {
        return denied(&caller, rule(operation));
    }
    let page = PageQuery::default();
    let refuse = |status: StatusCode, problem: &str| {
        let mut response = stream_page(&node, &caller, &name, &page, Some(problem));
        *response.status_mut() = status;
        response
    };
    match append_event(&node, &name, form) {
        Ok(revision) => Redirect::to(&format!(
            "/ui/streams/{}?appended={revision}",
            segment(&name)
        ))
        .into_response(),
        Err(problem) => refuse(StatusCode::BAD_REQUEST, &problem),
    }
}

/// Appends the form's event to `stream`: its revision, or what was wrong.
fn append_event(node: &HttpNode, stream: &str, form: AppendForm) -> Result<u64, String> {
    let event_type = form.event_type.trim();
    if event_type.is_empty() {
        return Err("An event needs a type.".into());
    }
    let is_json = form.json.is_some();
    if is_json && let Err(e) = serde_json::from_str::<serde_json::Value>(&form.data) {
        return Err(format!("The data is not JSON: {e}."));
    }
    if !form.metadata.trim().is_empty()
        && let Err(e) = serde_json::from_str::<serde_json::Value>(&form.metadata)
    {
        return Err(format!("The metadata is not JSON: {e}."));
    }
    let expected = match form.expected.trim() {
        "" | "any" => ExpectedRevision::Any,
        "no_stream" | "no stream" => ExpectedRevision::NoStream,
        "exists" | "stream_exists" => ExpectedRevision::StreamExists,
        n => ExpectedRevision::Exact(n.parse().map_err(|_| {
            format!("Expected revision {n:?}: a number, or any, no_stream or exists.")
        })?),
    };
    let event = ProposedEvent {
        id: uuid::Uuid::new_v4(),
        event_type: event_type.to_owned(),
        is_json,
        data: Bytes::from(form.data),
        metadata: Bytes::from(form.metadata),
    };
    let max = node.store.options().max_append_size as usize;
    if event.size() > max {
        return Err(format!(
            "The event is {} bytes; this server takes appends of at most {max} bytes.",
            event.size()
        ));
    }
    let write = StreamWrite {
        stream: Bytes::copy_from_slice(stream.as_bytes()),
        expected,
        events: vec![event],
    };
    match node.store.append(vec![write]) {
        Ok(outcome) => outcome
            .writes
            .first()
            .and_then(|w| match w.current {
                CurrentRevision::Revision(r) => Some(r),
                CurrentRevision::NoStream => None,
            })
            .ok_or_else(|| "Nothing was written.".to_owned()),
        Err(WriteError::WrongExpectedVersion { current, .. }) => Err(match current {
            CurrentRevision::NoStream => {
                "Wrong expected revision: the stream does not exist.".into()
            }
            CurrentRevision::Revision(r) => {
                format!("Wrong expected revision: the stream's last event is {r}.")
            }
        }),
        Err(WriteError::StreamDeleted { .. }) => Err("The stream is deleted.".into()),
    }
}

/// `GET /ui/streams/{stream}/{number}`: one event.
pub(super) async fn event(
    State(node): Node,
    Path((name, number)): Path<(String, u64)>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let operation = Operation::Stream(StreamAction::Read, name.as_bytes());
    if !node.allows(&caller, operation) {
        return denied(&caller, rule(operation));
    }
    let found: Option<ResolvedRecord> = node
        .store
        .read_stream(name.as_bytes(), Some(number), Direction::Forwards, 1, false)
        .ok()
        .and_then(|b| b.events.into_iter().next())
        .filter(|e| e.original().record.revision == number);
    let Some(found) = found else {
        return (
            StatusCode::NOT_FOUND,
            render(
                "Event not found",
                "Streams",
                &caller,
                &format!(
                    "<p>Stream <a href=\"/ui/streams/{}\">{}</a> has no event {number}.</p>",
                    segment(&name),
                    esc(&name)
                ),
            ),
        )
            .into_response();
    };
    let e = found.original();
    let r = &e.record;
    let mut body = String::new();
    let _ = write!(
        body,
        "<dl><dt>Stream</dt><dd><a href=\"/ui/streams/{seg}\">{stream}</a></dd>\
         <dt>Number</dt><dd>{rev}</dd><dt>Type</dt><dd id=\"event-type\">{ty}</dd>\
         <dt>Id</dt><dd><code>{id}</code></dd><dt>Position</dt><dd>{pos}</dd>\
         <dt>Created</dt><dd>{time}</dd><dt>Content type</dt><dd>{ct}</dd></dl>",
        seg = segment(&name),
        stream = esc(&name),
        rev = r.revision,
        ty = esc(&r.event_type),
        id = r.id,
        pos = r.position,
        time = timestamp(r.created),
        ct = r.content_type(),
    );
    body.push_str("<h2>Data</h2>");
    show_body(&mut body, "event-body", &r.data(), r.is_json);
    body.push_str("<h2>Metadata</h2>");
    let metadata = r.metadata();
    let json = serde_json::from_slice::<serde_json::Value>(&metadata).is_ok();
    show_body(&mut body, "event-metadata", &metadata, json);
    render(
        &format!("{} #{}", name, r.revision),
        "Streams",
        &caller,
        &body,
    )
}

/// `bytes` as pretty JSON (when `json` and it parses), else as text when it
/// is UTF-8 without control characters, else as a hex dump.
fn show_body(body: &mut String, id: &str, bytes: &[u8], json: bool) {
    if bytes.is_empty() {
        let _ = write!(body, "<p id=\"{id}\">(empty)</p>");
        return;
    }
    if json
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        let pretty = pretty_json(text);
        let _ = write!(body, "<pre id=\"{id}\">{}</pre>", esc(&pretty));
        return;
    }
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        let _ = write!(
            body,
            "<p>{} bytes of text:</p><pre id=\"{id}\">{}</pre>",
            bytes.len(),
            esc(text)
        );
        return;
    }
    let shown = &bytes[..bytes.len().min(MAX_SHOWN_BYTES)];
    let _ = write!(body, "<p>{} bytes", bytes.len());
    if shown.len() < bytes.len() {
        let _ = write!(body, " (the first {} shown)", shown.len());
    }
    let _ = write!(body, ":</p><pre id=\"{id}\">");
    for (i, line) in shown.chunks(16).enumerate() {
        let _ = write!(body, "{:08x}  ", i * 16);
        for b in line {
            let _ = write!(body, "{b:02x} ");
        }
        for _ in line.len()..16 {
            body.push_str("   ");
        }
        body.push(' ');
        for &b in line {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            };
            body.push_str(&esc(&c.to_string()));
        }
        body.push('\n');
    }
    body.push_str("</pre>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_show_as_json_text_or_bytes_escaped() {
        let mut out = String::new();
        show_body(&mut out, "b", br#"{"a":"<script>"}"#, true);
        assert!(
            out.contains("&quot;a&quot;: &quot;&lt;script&gt;&quot;"),
            "{out}"
        );
        let mut out = String::new();
        show_body(&mut out, "b", b"<b>hi</b>", false);
        assert!(
            out.contains("9 bytes of text:</p><pre id=\"b\">&lt;b&gt;hi&lt;/b&gt;"),
            "{out}"
        );
        let mut out = String::new();
        show_body(&mut out, "b", &[0, 1, b'<', 255], false);
        assert!(
            out.contains("4 bytes:</p><pre id=\"b\">00000000  00 01 3c ff"),
            "{out}"
        );
        assert!(out.contains("..&lt;."), "{out}");
        let mut out = String::new();
        show_body(&mut out, "b", &vec![0u8; MAX_SHOWN_BYTES + 1], false);
        assert!(out.contains("(the first 4096 shown)"), "{out}");
    }
}
