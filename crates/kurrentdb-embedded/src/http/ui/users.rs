//! Users: every user and a form that creates one, for `$admins`; one
//! user's details, for `$admins` and that user, with the forms that
//! enable, disable, reset the password of and delete the user
//! (`$admins`), and the one that changes a user's own password (that
//! user). On a secure server the browser's login box signs a user in (see
//! `page`); the header says who is signed in and links to their page.
//!
//! Every action checks what the gRPC Users service checks (KurrentDB's
//! `Users.*` operations: `Operation::UsersManage`, `UsersRead`,
//! `UsersChangePassword`) and calls the same `Users` method, on tokio's
//! blocking pool ([`Users::run`]), as the service does.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::node::HttpNode;
use super::page::{bad_request, caller, denied, esc, not_found, post, render, rule, segment};
use crate::security::authz::Operation;
use crate::security::principal::Principal;
use crate::services::MAX_NAME_LEN;
use crate::ticks::timestamp;
use crate::users::{UserError, Users};

type Node = State<Arc<HttpNode>>;

/// What the actions' redirects say was done (`?done=`), by their names.
const DONE: [(&str, &str); 5] = [
    ("created", "Created."),
    ("enabled", "Enabled: the user may sign in."),
    ("disabled", "Disabled: the user may no longer sign in."),
    ("password-reset", "Password reset."),
    (
        "password-changed",
        "Password changed: sign in again with the new one.",
    ),
];

#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    /// What an action did (a key of [`DONE`]).
    done: Option<String>,
    /// The user a delete removed.
    deleted: Option<String>,
}

/// The note for `?done=`, if it names an action.
fn done_note(body: &mut String, done: Option<&str>) {
    if let Some((_, said)) = DONE.iter().find(|(name, _)| done == Some(name)) {
        let _ = write!(body, "<p class=\"note\" id=\"done\">{said}</p>");
    }
}

/// `GET /ui/users`.
pub(super) async fn list(
    State(node): Node,
    Query(query): Query<PageQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    if !node.allows(&caller, Operation::UsersManage) {
        return denied(&caller, rule(Operation::UsersManage));
    }
    let mut body = String::new();
    if let Some(deleted) = &query.deleted {
        let _ = write!(
            body,
            "<p class=\"note\" id=\"done\">User {} deleted.</p>",
            esc(deleted)
        );
    }
    done_note(&mut body, query.done.as_deref());
    if node.authenticator.is_none() {
        body.push_str(
            "<p class=\"note\">This server is insecure: users are kept but nobody \
             signs in. Start it with <code>--dev</code> for logins and ACLs.</p>",
        );
    }
    body.push_str(
        "<table id=\"users\"><tr><th>Login</th><th>Full name</th><th>Groups</th>\
         <th>Enabled</th><th>Last updated</th><th></th></tr>",
    );
    for user in node.users.all() {
        let _ = write!(
            body,
            "<tr><td>{login}</td><td>{full}</td><td>{groups}</td><td>{enabled}</td>\
             <td>{updated}</td><td><a href=\"/ui/users/{seg}\">Manage</a></td></tr>",
            seg = segment(&user.login_name),
            login = esc(&user.login_name),
            full = esc(&user.full_name),
            groups = esc(&user.groups.join(", ")),
            enabled = if user.disabled { "no" } else { "yes" },
            updated = timestamp(user.last_updated_ticks),
        );
    }
    body.push_str(
        "</table><h2>New user</h2><form method=\"post\" action=\"/ui/users\" id=\"new-user\">\
         <p><label>Login <input name=\"login\" id=\"user-login\" required></label> \
         <label>Full name <input name=\"full_name\" id=\"user-full-name\"></label></p>\
         <p><label>Groups <input name=\"groups\" id=\"user-groups\" \
         placeholder=\"$admins, $ops, ...\"></label> \
         <label>Password <input type=\"password\" name=\"password\" id=\"user-password\" \
         required></label></p><p><button id=\"create-user\">Create</button></p></form>",
    );
    render("Users", "Users", &caller, &body)
}

/// A user's page after something done to `login`.
fn user_path(login: &str) -> String {
    format!("/ui/users/{}", segment(login))
}

/// The page for a refused operation on user `login`.
fn refused(caller: &Principal, back: &str, login: &str, e: UserError) -> Response {
    match e {
        UserError::NotFound => not_found(caller, "Users", &format!("User '{login}' is not found.")),
        UserError::Conflict => bad_request(
            caller,
            back,
            &format!("A user '{login}' exists already (with another password)."),
        ),
        UserError::Unauthorized => bad_request(caller, back, "The current password is wrong."),
        UserError::TryAgain => bad_request(
            caller,
            back,
            "The user was changed at the same time: try again.",
        ),
    }
}

/// A login as the Users service takes it: not empty, not over
/// [`MAX_NAME_LEN`] bytes.
fn check_login(login: &str) -> Result<(), String> {
    if login.is_empty() {
        return Err("A user needs a login.".into());
    }
    if login.len() > MAX_NAME_LEN {
        return Err(format!(
            "The login is {} bytes long; the maximum is {MAX_NAME_LEN} bytes.",
            login.len()
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub(super) struct NewForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    full_name: String,
    /// Separated by commas or spaces.
    #[serde(default)]
    groups: String,
    #[serde(default)]
    password: String,
}

/// `POST /ui/users`: creates a user, then shows it (303).
pub(super) async fn create(State(node): Node, request: Request) -> Response {
    let back = "/ui/users";
    let (caller, form) = match post::<NewForm>(&node, request, back).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if !node.allows(&caller, Operation::UsersManage) {
        return denied(&caller, rule(Operation::UsersManage));
    }
    let login = form.login.trim().to_owned();
    if let Err(problem) = check_login(&login) {
        return bad_request(&caller, back, &problem);
    }
    let groups: Vec<String> = form
        .groups
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    let name = login.clone();
    let done = node
        .users
        .run(move |u| u.create(&name, form.full_name.trim(), &groups, &form.password))
        .await;
    match done {
        Ok(()) => Redirect::to(&format!("{}?done=created", user_path(&login))).into_response(),
        Err(e) => refused(&caller, back, &login, e),
    }
}

/// `GET /ui/users/{login}`.
pub(super) async fn one(
    State(node): Node,
    Path(login): Path<String>,
    Query(query): Query<PageQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match caller(&node, &parts).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let operation = Operation::UsersRead(&login);
    if !node.allows(&caller, operation) {
        return denied(&caller, rule(operation));
    }
    let user = match node.users.details(&login) {
        Ok(user) => user,
        Err(e) => return refused(&caller, "/ui/users", &login, e),
    };
    let mut body = String::new();
    done_note(&mut body, query.done.as_deref());
    let _ = write!(
        body,
        "<dl><dt>Login</dt><dd id=\"login\">{login}</dd><dt>Full name</dt><dd>{full}</dd>\
         <dt>Groups</dt><dd id=\"groups\">{groups}</dd><dt>Enabled</dt>\
         <dd id=\"enabled\">{enabled}</dd><dt>Last updated</dt><dd>{updated}</dd></dl>",
        login = esc(&user.login_name),
        full = esc(&user.full_name),
        groups = esc(&user.groups.join(", ")),
        enabled = if user.disabled { "no" } else { "yes" },
        updated = timestamp(user.last_updated_ticks),
    );
    let path = user_path(&login);
    if node.allows(&caller, Operation::UsersManage) {
        let toggle = if user.disabled {
            ("enable", "Enable")
        } else {
            ("disable", "Disable")
        };
        let _ = write!(
            body,
            "<h2>Manage</h2><p><form method=\"post\" action=\"{path}/{action}\" class=\"inline\">\
             <button id=\"{action}-user\">{label}</button></form> \
             <form method=\"post\" action=\"{path}/delete\" class=\"inline\">\
             <button id=\"delete-user\">Delete</button></form></p>\
             <form method=\"post\" action=\"{path}/reset-password\" id=\"reset-form\">\
             <p><label>New password <input type=\"password\" name=\"new_password\" \
             id=\"reset-password\" required></label> \
             <button id=\"reset-password-button\">Reset the password</button></p></form>",
            action = toggle.0,
            label = toggle.1,
        );
    }
    if node.allows(&caller, Operation::UsersChangePassword(&login)) {
        let _ = write!(
            body,
            "<h2>Change your password</h2>\
             <form method=\"post\" action=\"{path}/change-password\" id=\"change-form\">\
             <p><label>Current password <input type=\"password\" name=\"current_password\" \
             id=\"current-password\" required></label> <label>New password \
             <input type=\"password\" name=\"new_password\" id=\"new-password\" required>\
             </label> <button id=\"change-password\">Change</button></p></form>"
        );
    }
    render(&user.login_name, "Users", &caller, &body)
}

/// What an action does to a user.
enum Action {
    Enable,
    Disable,
    Delete,
    /// The new password.
    ResetPassword(String),
    /// The current and the new password.
    ChangePassword(String, String),
}

#[derive(Debug, Deserialize)]
pub(super) struct ActionForm {
    current_password: Option<String>,
    new_password: Option<String>,
}

/// `POST /ui/users/{login}/{action}`: `enable`, `disable`,
/// `reset-password`, `delete` (`$admins`) or `change-password` (that
/// user); then the user's page (303), or the list after a delete.
pub(super) async fn act(
    State(node): Node,
    Path((login, action)): Path<(String, String)>,
    request: Request,
) -> Response {
    let back = user_path(&login);
    let (caller, form) = match post::<ActionForm>(&node, request, &back).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let operation = if action == "change-password" {
        Operation::UsersChangePassword(&login)
    } else {
        Operation::UsersManage
    };
    if !node.allows(&caller, operation) {
        return denied(&caller, rule(operation));
    }
    if let Err(problem) = check_login(&login) {
        return bad_request(&caller, &back, &problem);
    }
    let new_password = form.new_password.unwrap_or_default();
    let (change, done) = match action.as_str() {
        "enable" => (Action::Enable, "enabled"),
        "disable" => (Action::Disable, "disabled"),
        "delete" => (Action::Delete, "deleted"),
        "reset-password" => (Action::ResetPassword(new_password), "password-reset"),
        "change-password" => {
            let current = form.current_password.unwrap_or_default();
            (
                Action::ChangePassword(current, new_password),
                "password-changed",
            )
        }
        other => {
            return not_found(&caller, "Users", &format!("A user has no action {other}."));
        }
    };
    let name = login.clone();
    let run = move |u: &Users| match change {
        Action::Enable => u.set_disabled(&name, false),
        Action::Disable => u.set_disabled(&name, true),
        Action::Delete => u.delete(&name),
        Action::ResetPassword(new) => u.reset_password(&name, &new),
        Action::ChangePassword(current, new) => u.change_password(&name, &current, &new),
    };
    match node.users.run(run).await {
        Ok(()) if done == "deleted" => {
            // A path segment's encoding suits a query value too.
            Redirect::to(&format!("/ui/users?deleted={}", segment(&login))).into_response()
        }
        Ok(()) => Redirect::to(&format!("{back}?done={done}")).into_response(),
        Err(e) => refused(&caller, &back, &login, e),
    }
}
