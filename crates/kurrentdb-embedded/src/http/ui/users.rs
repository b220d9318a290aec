//! Users: every user, for `$admins` (KurrentDB's `Users` operations). On a
//! secure server the browser's login box signs a user in (see `page`); the
//! header says who is signed in.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;

use super::super::node::HttpNode;
use super::page::{caller, denied, esc, render};
use crate::security::authz::Operation;
use crate::ticks::timestamp;

/// `GET /ui/users`.
pub(super) async fn list(State(node): State<Arc<HttpNode>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    if !node.allows(&caller, Operation::UsersManage) {
        return denied(&caller);
    }
    let mut body = String::new();
    if node.authenticator.is_none() {
        body.push_str(
            "<p class=\"note\">This server is insecure: users are kept but nobody \
             signs in. Start it with <code>--dev</code> for logins and ACLs.</p>",
        );
    }
    body.push_str(
        "<table id=\"users\"><tr><th>Login</th><th>Full name</th><th>Groups</th>\
         <th>Enabled</th><th>Last updated</th></tr>",
    );
    for user in node.users.all() {
        let _ = write!(
            body,
            "<tr><td>{login}</td><td>{full}</td><td>{groups}</td><td>{enabled}</td>\
             <td>{updated}</td></tr>",
            login = esc(&user.login_name),
            full = esc(&user.full_name),
            groups = esc(&user.groups.join(", ")),
            enabled = if user.disabled { "no" } else { "yes" },
            updated = timestamp(user.last_updated_ticks),
        );
    }
    body.push_str("</table>");
    render("Users", "Users", &caller, &body)
}
