//! The page shell, escaping, who is looking, what every form post passes
//! (its caller, its origin, its form), and the pages of a refusal (401,
//! 403 with KurrentDB's rule), of bad input (400) and of a missing thing
//! (404).

use std::fmt::Write;

use axum::extract::{Form, FromRequest, Request};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;

use super::super::node::HttpNode;
use crate::security::authz::{Operation, StreamAction};
use crate::security::principal::Principal;

/// `text` safe to put in HTML text or a quoted attribute.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `name` as one path segment: every byte but the unreserved ones
/// percent-encoded (so `/`, `?`, `#` and `%` in a stream name stay in it).
pub(super) fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'$') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `json` (valid JSON, already checked) indented two spaces a level, its
/// keys in their written order (a `serde_json::Value` would sort them).
pub(super) fn pretty_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on its line.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if let Some(&close @ ('}' | ']')) = chars.peek() {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// The pages the navigation links to, with their paths.
const NAV: [(&str, &str); 6] = [
    ("Cluster", "/ui/cluster"),
    ("Dashboard", "/ui/dashboard"),
    ("Streams", "/ui/streams"),
    ("Projections", "/ui/projections"),
    ("Persistent subscriptions", "/ui/persistent-subscriptions"),
    ("Users", "/ui/users"),
];

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{background:#1d2733;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:center}
header a{color:#c9d6e3;text-decoration:none}header a.on,header a:hover{color:#fff}
header .brand{font-weight:700;color:#7fd1b9}header .who{margin-left:auto;color:#c9d6e3}
main{padding:1rem 1.2rem;max-width:72rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e1e6ec;vertical-align:top}
th{background:#eef2f6}table#figures{width:auto;min-width:24rem}
pre{background:#fff;border:1px solid #e1e6ec;padding:.6rem;overflow:auto;max-height:32rem}
.note{padding:.5rem .8rem;background:#e8f6f0;border:1px solid #b5e2d1}
.error{padding:.5rem .8rem;background:#fdecec;border:1px solid #f3b8b8}
form label{margin-right:1rem}form.inline{display:inline}input,textarea,select{font:inherit}
textarea{width:100%;font-family:monospace}
.pager a{margin-right:1rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
";

/// A page: `title`, the navigation (with `active` marked), who is looking,
/// and `body` (already escaped HTML).
pub(super) fn render(title: &str, active: &str, caller: &Principal, body: &str) -> Response {
    let mut nav = String::new();
    for (name, path) in NAV {
        let on = if name == active { " class=\"on\"" } else { "" };
        let _ = write!(nav, "<a href=\"{path}\"{on}>{name}</a>");
    }
    let who = match caller {
        Principal::User(user) => format!(
            "<a href=\"/ui/users/{}\" id=\"me\">signed in as {}</a>",
            segment(&user.login),
            esc(&user.login)
        ),
        Principal::Anonymous => String::new(),
    };
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} - KurrentDB (embedded)</title><style>{STYLE}</style></head>\
         <body><header><span class=\"brand\">KurrentDB embedded</span>{nav}\
         <span class=\"who\">{who}</span></header><main><h1>{title}</h1>{body}</main>\
         </body></html>",
        title = esc(title),
    ))
    .into_response()
}

/// KurrentDB's rule for `operation`, as a refusal page states it
/// (`LegacyPolicySelectorFactory`, and the ACL for streams).
pub(super) fn rule(operation: Operation<'_>) -> &'static str {
    match operation {
        Operation::Stream(StreamAction::Read, _) => {
            "Reading a stream needs a user in $admins, or one its ACL's $r names \
             (by default everyone for user streams, $admins for system streams and $all)."
        }
        Operation::Stream(StreamAction::Write, _) => {
            "Appending to a stream needs a user in $admins, or one its ACL's $w names."
        }
        Operation::Stream(StreamAction::Delete, _) => {
            "Deleting a stream needs a user in $admins, or one its ACL's $d names."
        }
        Operation::SubscriptionsStatistics => {
            "Persistent subscriptions need a signed-in user (Subscriptions.Statistics)."
        }
        Operation::SubscriptionsRead(_) => {
            "Reading a persistent subscription needs a user who may read its stream."
        }
        Operation::SubscriptionsManage => {
            "Managing persistent subscriptions (replaying parked messages among them) \
             needs a user in $admins or $ops (Subscriptions.ReplayParked)."
        }
        Operation::Projections => "Projections need a signed-in user (Projections.List).",
        Operation::ProjectionsManage => {
            "Deleting a projection or restarting the subsystem needs a user in $admins \
             or $ops (Projections.Delete, Projections.Restart)."
        }
        Operation::NodeManage => "Operating the node needs a user in $admins or $ops.",
        Operation::UsersManage => "Managing users needs a user in $admins (Users.*).",
        Operation::UsersRead(_) => "A user's details are for $admins and that user (Users.Read).",
        Operation::UsersChangePassword(_) => {
            "Only a user may change their own password (Users.ChangePassword); \
             $admins reset passwords."
        }
    }
}

/// The rule of KurrentDB's projection manager, beyond its policy: changing
/// a projection (create, update, enable, disable, reset, delete) needs a
/// user in `$admins` or `$ops` (`RunAs.ValidateRunAs`, "NotAuthorized").
pub(super) const PROJECTIONS_RUN_AS: &str = "Changing a projection (create, update, enable, \
     disable, reset, delete) needs a user in $admins or $ops: KurrentDB's projection \
     manager answers anyone else NotAuthorized.";

/// The rule every form post passes before its own.
pub(super) const SAME_ORIGIN: &str = "Forms are taken from this server's own pages only: \
     a post from another site (which a signed-in browser would send with its login) is refused.";

/// A page refused: an anonymous caller is asked to log in (the browser's
/// login box), a user who may not see it or do it is told `rule` (403).
pub(super) fn denied(caller: &Principal, rule: &str) -> Response {
    match caller {
        Principal::Anonymous => {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                Html("<!DOCTYPE html><p>Log in to see this page.</p>"),
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"KurrentDB\", charset=\"UTF-8\""),
            );
            response
        }
        Principal::User(_) => forbidden(caller, rule),
    }
}

/// 403 with `rule`, whoever asks.
pub(super) fn forbidden(caller: &Principal, rule: &str) -> Response {
    let body = format!(
        "<p class=\"error\">Your user may not do this.</p><p id=\"rule\">{}</p>",
        esc(rule)
    );
    (
        StatusCode::FORBIDDEN,
        render("Access denied", "", caller, &body),
    )
        .into_response()
}

/// 400: what was wrong with the input, and a way back.
pub(super) fn bad_request(caller: &Principal, back: &str, problem: &str) -> Response {
    let body = format!(
        "<p class=\"error\" id=\"problem\">{}</p><p><a href=\"{}\">Back</a></p>",
        esc(problem),
        esc(back)
    );
    (
        StatusCode::BAD_REQUEST,
        render("Not done", "", caller, &body),
    )
        .into_response()
}

/// 404: `what` does not exist.
pub(super) fn not_found(caller: &Principal, active: &str, what: &str) -> Response {
    let body = format!("<p id=\"not-found\">{}</p>", esc(what));
    (
        StatusCode::NOT_FOUND,
        render("Not found", active, caller, &body),
    )
        .into_response()
}

/// Whether a form post comes from this server's own pages: a browser says
/// where a post comes from (`Origin`), and a post from another site (which
/// a signed-in browser would send with its credentials) is refused.
pub(super) fn same_origin(parts: &http::request::Parts) -> bool {
    let Some(origin) = parts.headers.get(http::header::ORIGIN) else {
        // Not a browser's cross-site post (browsers send Origin on posts).
        return true;
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    host.is_some_and(|h| h == origin_host)
}

/// A form post, with the checks every post passes first: its caller (a
/// login asked for again when refused), its origin ([`same_origin`], else
/// 403) and its form (else 400, back to `back`). The form is read before
/// anything is answered (bounded by axum's body limit, 2 MiB): an HTTP/2
/// client whose request body is cut off by an early answer sees a stream
/// error, not the answer.
pub(super) async fn post<F: DeserializeOwned>(
    node: &HttpNode,
    request: Request,
    back: &str,
) -> Result<(Principal, F), Response> {
    let (parts, body) = request.into_parts();
    // The caller and the origin first: a refused post's body is not read.
    let caller = caller(node, &parts).await?;
    if !same_origin(&parts) {
        return Err(forbidden(&caller, SAME_ORIGIN));
    }
    match Form::<F>::from_request(http::Request::from_parts(parts, body), &()).await {
        Ok(Form(form)) => Ok((caller, form)),
        Err(rejection) => Err(bad_request(&caller, back, &rejection.body_text())),
    }
}

/// The caller of a request, if the ACL allows them `operation`; else the
/// refusal (a login for anonymous callers, a 403 stating KurrentDB's rule).
pub(super) async fn allowed(
    node: &HttpNode,
    request: Request,
    operation: Operation<'_>,
) -> Result<Principal, Response> {
    let (parts, _) = request.into_parts();
    let caller = caller(node, &parts).await?;
    if node.allows(&caller, operation) {
        Ok(caller)
    } else {
        Err(denied(&caller, rule(operation)))
    }
}

/// The caller of a UI request: refused credentials ask for a login again.
pub(super) async fn caller(
    node: &HttpNode,
    parts: &http::request::Parts,
) -> Result<Principal, Response> {
    node.principal(parts)
        .await
        .map_err(|_| denied(&Principal::Anonymous, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_names_are_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(segment("order-1"), "order-1");
        assert_eq!(segment("$all"), "$all");
        assert_eq!(segment("a/b?c#d%e f"), "a%2Fb%3Fc%23d%25e%20f");
        assert_eq!(segment("é"), "%C3%A9");
        assert_eq!(segment("\"><x"), "%22%3E%3Cx");
    }

    #[test]
    fn json_is_indented_in_its_written_order() {
        assert_eq!(
            pretty_json(r#"{"z":1, "a":[1,{"s":"x,\"{y}:"}],"e":{},"f":[ ]}"#),
            "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    {\n      \"s\": \"x,\\\"{y}:\"\n    }\n  ],\n  \"e\": {},\n  \"f\": []\n}"
        );
        assert_eq!(pretty_json("42"), "42");
    }
}
