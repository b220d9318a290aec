//! Hostile input: requests an attacker or a buggy client could send, against
//! every service of the embedded server. After each one the server must be
//! alive and sound: a ServerFeatures call and a normal append and read work,
//! and `$all` is consistent (strictly increasing positions, gapless revisions
//! in every stream). Each input also checks its own answer (the status, or
//! that nothing was written).
//!
//! - `streams`, `v2`, `persistent`: inputs through the generated stubs (and
//!   raw bytes where a stub cannot send them);
//! - `wire`: garbage and truncated protobuf on every method, and bad gRPC
//!   framing sent as raw HTTP/2;
//! - `props`: property tests, random bytes into every method.

#[path = "../common/mod.rs"]
mod common;
mod persistent;
mod props;
mod raw;
mod streams;
mod v2;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use kurrentdb_embedded::{EmbeddedServer, Store};
use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::read_resp;
use tonic::transport::Channel;

/// What a hostile input gets to work with.
#[derive(Clone)]
pub struct Ctx {
    pub channel: Channel,
    pub addr: SocketAddr,
    pub store: Arc<Store>,
}

impl Ctx {
    /// A v1 streams client.
    pub fn streams(&self) -> common::Client {
        common::Client::new(self.channel.clone()).max_decoding_message_size(usize::MAX)
    }
}

/// One hostile input, with the checks of its own answer.
pub struct Case {
    pub name: String,
    run: Box<dyn Fn(Ctx) -> BoxFuture<'static, ()> + Send + Sync>,
}

impl Case {
    pub fn new(
        name: impl Into<String>,
        run: impl Fn(Ctx) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Case {
        Case {
            name: name.into(),
            run: Box::new(run),
        }
    }
}

/// `case!("name", |ctx| async move { ... })`.
#[macro_export]
macro_rules! case {
    ($name:expr, |$c:ident| $body:expr) => {
        $crate::Case::new($name, move |$c: $crate::Ctx| Box::pin($body))
    };
}

/// Runs `cases` one after the other against one server, checking its health
/// after each.
async fn run(cases: Vec<Case>) {
    let server = EmbeddedServer::start().await.expect("server starts");
    let channel = Channel::from_shared(server.uri())
        .unwrap()
        .connect()
        .await
        .expect("connects");
    let ctx = Ctx {
        channel,
        addr: server.addr(),
        store: server.store().clone(),
    };
    for (i, case) in cases.iter().enumerate() {
        let started = std::time::Instant::now();
        let run = tokio::spawn((case.run)(ctx.clone()));
        if let Err(e) = run.await {
            panic!("case `{}` failed: {e}", case.name);
        }
        assert_healthy(&ctx, i, &case.name).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "case `{}` took {:?}",
            case.name,
            started.elapsed()
        );
    }
    server.shutdown().await;
}

/// The server answers, appends and reads, and `$all` is consistent.
async fn assert_healthy(ctx: &Ctx, i: usize, case: &str) {
    let features = ServerFeaturesClient::new(ctx.channel.clone())
        .get_supported_methods(Empty {})
        .await;
    assert!(
        features.is_ok(),
        "after `{case}`: ServerFeatures {features:?}"
    );
    let mut c = ctx.streams();
    let stream = format!("health-{i}");
    common::append_ok(
        &mut c,
        &stream,
        common::no_stream(),
        vec![common::event("Ok", b"{}")],
    )
    .await;
    let read = common::read_stream(&mut c, &stream).await.expect("read");
    assert_eq!(common::events(&read).len(), 1, "after `{case}`");
    assert_all_consistent(ctx, case).await;
}

/// Positions strictly increase through `$all`, and every stream's revisions
/// are 0, 1, 2, ... in log order (a tombstone, at `i64::MAX`, last).
async fn assert_all_consistent(ctx: &Ctx, case: &str) {
    let mut o = common::read_options();
    o.stream_option = Some(common::all_options(common::all_start()));
    let read = common::read(&mut ctx.streams(), o)
        .await
        .expect("read $all");
    let mut last_position = None;
    let mut next_revision: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut tombstoned: HashMap<Vec<u8>, bool> = HashMap::new();
    for r in &read {
        let Some(read_resp::Content::Event(e)) = &r.content else {
            continue;
        };
        let event = e.event.as_ref().expect("an event");
        let position = event.commit_position;
        assert!(
            last_position.is_none_or(|p| p < position),
            "after `{case}`: position {position} after {last_position:?}"
        );
        last_position = Some(position);
        let stream = event
            .stream_identifier
            .as_ref()
            .unwrap()
            .stream_name
            .to_vec();
        assert!(
            !tombstoned.get(&stream).copied().unwrap_or(false),
            "after `{case}`: an event after a tombstone"
        );
        if event.stream_revision == i64::MAX as u64 {
            tombstoned.insert(stream, true);
            continue;
        }
        let next = next_revision.entry(stream).or_insert(0);
        assert_eq!(
            event.stream_revision, *next,
            "after `{case}`: a gap in revisions"
        );
        *next += 1;
    }
}

#[test]
fn there_are_at_least_sixty_hostile_inputs() {
    let n = streams::cases().len()
        + v2::cases().len()
        + persistent::cases().len()
        + wire::cases().len();
    assert!(n >= 60, "only {n} hostile inputs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_streams_requests() {
    run(streams::cases()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_v2_requests() {
    run(v2::cases()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_persistent_requests() {
    run(persistent::cases()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_wire_input() {
    run(wire::cases()).await;
}
