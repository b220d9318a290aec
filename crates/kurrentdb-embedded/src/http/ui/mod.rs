//! The web UI at `/ui`, server-rendered HTML (no JavaScript needed to use
//! it), at the routes of KurrentDB's newest UI so habits carry over: `/`
//! redirects to `/ui`, the node and its cluster at `/ui/cluster` (and
//! `/ui`), the node's figures, live, at `/ui/dashboard`, the stream browser at `/ui/streams` and `/ui/streams/{stream}`
//! (`$all` too), one event at `/ui/streams/{stream}/{number}`, a form
//! that appends an event, and the projections at `/ui/projections` and
//! `/ui/projections/{name}`, and the persistent subscriptions at
//! `/ui/persistent-subscriptions` and `/ui/persistent-subscriptions/{stream}/{group}`,
//! and the users at `/ui/users`.
//!
//! - `page`: the page shell (navigation and style), and escaping: every
//!   text a page shows passes through [`page::esc`] (stream names, event
//!   types and bodies are user input), and every stream name in a link
//!   through [`page::segment`];
//! - `cluster`: the node and cluster page;
//! - `dashboard`: the live figures (the one page with JavaScript, which
//!   only refreshes what the page shows);
//! - `persistent`: every persistent subscription group, and one;
//! - `projections`: every projection, and one with its state and result;
//! - `streams`: the stream browser, one event, and the append form;
//! - `users`: every user, for administrators.
//!
//! Each page reads one page of data (a bounded read of a stream or of
//! `$all`), never the whole log. On a secure server the caller's
//! credentials (the browser's login box: `WWW-Authenticate: Basic`, the
//! UI's only difference from the API's `X-Basic`) and the ACL decide what
//! a page shows, as for gRPC calls.

mod cluster;
mod dashboard;
mod page;
mod persistent;
mod projections;
mod streams;
mod users;

use std::sync::Arc;

use axum::response::Redirect;
use axum::routing::get;

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
        .route("/ui/projections", get(projections::list))
        .route("/ui/projections/{name}", get(projections::one))
        .route("/ui/persistent-subscriptions", get(persistent::list))
        .route(
            "/ui/persistent-subscriptions/{stream}/{group}",
            get(persistent::one),
        )
        .route("/ui/streams", get(streams::home))
        .route(
            "/ui/streams/{stream}",
            get(streams::stream).post(streams::append),
        )
        .route("/ui/streams/{stream}/{number}", get(streams::event))
        .route("/ui/users", get(users::list))
}
