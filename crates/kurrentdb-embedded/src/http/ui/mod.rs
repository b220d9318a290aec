//! The web UI at `/ui`, server-rendered HTML (no JavaScript needed to use
//! it), at the routes of KurrentDB's newest UI so habits carry over: `/`
//! redirects to `/ui`, the node and its cluster at `/ui/cluster` (and
//! `/ui`), the node's figures, live, at `/ui/dashboard`, the stream browser
//! at `/ui/streams` and `/ui/streams/{stream}` (`$all` too), one event at
//! `/ui/streams/{stream}/{number}`, the projections at `/ui/projections`
//! and `/ui/projections/{name}`, the persistent subscriptions at
//! `/ui/persistent-subscriptions` and
//! `/ui/persistent-subscriptions/{stream}/{group}`, and the users at
//! `/ui/users` and `/ui/users/{login}`.
//!
//! Pages act through plain HTML forms, each posted to the page's path (or
//! a path below it naming the action) and answered with a redirect (303)
//! to the page showing the result:
//! - `POST /ui/streams/{stream}`: append an event;
//! - `POST /ui/projections`: create a projection;
//!   `POST /ui/projections/{name}/{update|enable|disable|abort|reset|delete}`;
//! - `POST /ui/persistent-subscriptions/{stream}/{group}/replay-parked`;
//! - `POST /ui/users`: create a user;
//!   `POST /ui/users/{login}/{enable|disable|reset-password|delete|change-password}`.
//!
//! Every action calls what the gRPC service's call calls, after the same
//! access checks (the same `Operation`s of `security::authz`, and for
//! projections the manager's own `RunAs` check), so the UI can do nothing
//! a client could not. Every post first passes `page::post`: its caller,
//! its origin (a post from another site, which a signed-in browser would
//! send with its login, is refused) and its form. A refusal is a 403 page
//! stating KurrentDB's rule; bad input a 400 page saying what was wrong; a
//! missing projection, group or user a 404 page.
//!
//! - `page`: the page shell (navigation and style), escaping (every text a
//!   page shows passes through [`page::esc`]: stream names, event types and
//!   bodies, queries and states are user input; every name in a link
//!   through [`page::segment`]), the checks of a post, and the refusal,
//!   bad-input and not-found pages;
//! - `cluster`: the node and cluster page;
//! - `dashboard`: the live figures (the one page with JavaScript, which
//!   only refreshes what the page shows);
//! - `persistent`: every persistent subscription group; one, with its
//!   oldest parked messages and the replay form;
//! - `projections`: every projection and the form that creates one; one,
//!   with its state (per partition when partitioned) and result, and the
//!   forms that change it;
//! - `streams`: the stream browser, one event, and the append form;
//! - `users`: every user and the form that creates one, for
//!   administrators; one user, with the forms that manage it and the one
//!   that changes a user's own password.
//!
//! Each page reads one page of data (a bounded read of a stream or of
//! `$all`, a projection's first partitions, a group's oldest parked
//! messages), never the whole log. On a secure server the caller's credentials (the browser's login
//! box: `WWW-Authenticate: Basic`, the UI's only difference from the API's
//! `X-Basic`) and the ACL decide what a page shows, as for gRPC calls.

mod cluster;
mod dashboard;
mod page;
mod persistent;
mod projections;
mod streams;
mod users;

use std::sync::Arc;

use axum::response::Redirect;
use axum::routing::{get, post};

use super::node::HttpNode;

/// The UI's routes.
pub(super) fn routes() -> axum::Router<Arc<HttpNode>> {
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui", get(cluster::page))
        .route("/ui/", get(cluster::page))
        .route("/ui/cluster", get(cluster::page))
        .route("/ui/dashboard", get(dashboard::page))
        .route("/ui/dashboard/figures", get(dashboard::figures_json))
        .route(
            "/ui/projections",
            get(projections::list).post(projections::create),
        )
        .route("/ui/projections/{name}", get(projections::one))
        .route("/ui/projections/{name}/{action}", post(projections::act))
        .route("/ui/persistent-subscriptions", get(persistent::list))
        .route(
            "/ui/persistent-subscriptions/{stream}/{group}",
            get(persistent::one),
        )
        .route(
            "/ui/persistent-subscriptions/{stream}/{group}/replay-parked",
            post(persistent::replay_parked),
        )
        .route("/ui/streams", get(streams::home))
        .route(
            "/ui/streams/{stream}",
            get(streams::stream).post(streams::append),
        )
        .route("/ui/streams/{stream}/{number}", get(streams::event))
        .route("/ui/users", get(users::list).post(users::create))
        .route("/ui/users/{login}", get(users::one))
        .route("/ui/users/{login}/{action}", post(users::act))
}
