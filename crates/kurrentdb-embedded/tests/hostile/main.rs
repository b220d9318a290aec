//! Hostile input: requests an attacker or a buggy client could send, against
//! every gRPC service the embedded server serves: Streams, v2
//! StreamsService, PersistentSubscriptions, ServerFeatures, Gossip, Users,
//! Operations and Projections (the servers here run projections). Monitoring
//! and Redaction are not served: their methods must answer UNIMPLEMENTED
//! (`raw::UNSERVED`).
//!
//! After each input:
//! - the code under test did not panic, on any thread or task (a handler,
//!   a persistent subscription's ack task, a projection's thread, a
//!   connection's task): a panic hook (`common/panics.rs`) records every
//!   panic not raised by test code, and the runs take turns ([`TURN`]), so
//!   a panic seen during a case is that case's server's;
//! - a caller without the rights the case needs ([`Case::needs`]) wrote
//!   nothing (the store's log is as long as before);
//! - the server is alive and sound, checked as `admin`: a ServerFeatures
//!   call and a normal append and read work, and `$all` is consistent
//!   (strictly increasing positions, gapless revisions in every stream).
//!
//! Each input also checks its own answer (KurrentDB's status for it, or
//! that nothing was written).
//!
//! - `streams`, `v2`, `persistent`: inputs through the generated stubs (and
//!   raw bytes where a stub cannot send them);
//! - `users`, `operations`, `projections`: the administration services'
//!   inputs, each answered as the caller's rights allow; `Shutdown` (whose
//!   `Empty` request garbage can decode as) on servers of its own, where it
//!   is refused or stops the server in order;
//! - `secure`: a secure server's own inputs (well-formed calls from callers
//!   without the rights, wrong and hostile credentials);
//! - `wire`: garbage, truncated and deeply nested protobuf on every method,
//!   and bad gRPC framing sent as raw HTTP/2 (over TLS to a secure server);
//! - `props`: property tests, random bytes into every method (fixed case
//!   counts and seeds).
//!
//! The runs: every suite against an insecure server; and against a secure
//! one (TLS and authentication, as `--dev`) three times, as an anonymous
//! caller, as a user without groups the run creates ([`LOW_LOGIN`]) and as
//! `admin` (a user certificate names the caller), each with the wire,
//! administration and `secure` inputs, and as `admin` the targeted stream,
//! v2 and persistent inputs too.

#[path = "../common/mod.rs"]
mod common;
mod operations;
mod persistent;
mod projections;
mod props;
mod raw;
mod secure;
mod streams;
mod users;
mod v2;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use kurrentdb_embedded::{EmbeddedServer, RunProjections, Security, ServerOptions, Store};
use kurrentdbclient::proto::server_features::server_features_client::ServerFeaturesClient;
use kurrentdbclient::proto::shared::Empty;
use kurrentdbclient::proto::streams::read_resp;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::common::panics;

/// The login of the low-rights user a secure run creates (no groups).
pub const LOW_LOGIN: &str = "hostile-low";
/// Its password.
pub const LOW_PASSWORD: &str = "hostile-low-password";

/// Who the hostile inputs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Any client of an insecure server (KurrentDB's `--insecure`: nothing
    /// is checked).
    Insecure,
    /// A secure server's anonymous caller (no credentials).
    Anonymous,
    /// A secure server's user without groups ([`LOW_LOGIN`]).
    Low,
    /// A secure server's `admin` (in `$admins`).
    Admin,
}

/// What a call needs of its caller on a secure server, as KurrentDB's
/// default policy (`LegacyPolicySelectorFactory`) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rights {
    /// Anyone, anonymous included (gossip, server features).
    Anyone,
    /// An authenticated caller (user streams, subscription statistics,
    /// most projection operations).
    Authenticated,
    /// `$ops` or `$admins` (the Operations service, persistent-subscription
    /// management, projection deletion and restart).
    Ops,
    /// `$admins` (user management).
    Admin,
}

impl Caller {
    /// Whether this caller has `rights`.
    pub fn has(self, rights: Rights) -> bool {
        match self {
            Caller::Insecure | Caller::Admin => true,
            Caller::Anonymous => rights == Rights::Anyone,
            Caller::Low => rights <= Rights::Authenticated,
        }
    }

    /// The login this caller's user certificate names, if any.
    fn login(self) -> Option<&'static str> {
        match self {
            Caller::Insecure | Caller::Anonymous => None,
            Caller::Low => Some(LOW_LOGIN),
            Caller::Admin => Some("admin"),
        }
    }
}

/// What a hostile input gets to work with.
#[derive(Clone)]
pub struct Ctx {
    /// A channel to the server as [`Ctx::caller`].
    pub channel: Channel,
    /// A channel as `admin` (on an insecure server, the same as `channel`).
    pub admin: Channel,
    pub caller: Caller,
    pub addr: SocketAddr,
    pub store: Arc<Store>,
    /// The TLS configuration raw HTTP/2 calls take to a secure server.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Ctx {
    /// A v1 streams client.
    pub fn streams(&self) -> common::Client {
        common::Client::new(self.channel.clone()).max_decoding_message_size(usize::MAX)
    }

    /// A v1 streams client as `admin`.
    pub fn admin_streams(&self) -> common::Client {
        common::Client::new(self.admin.clone()).max_decoding_message_size(usize::MAX)
    }

    /// Whether the caller has `rights`.
    pub fn may(&self, rights: Rights) -> bool {
        self.caller.has(rights)
    }
}

/// One hostile input, with the checks of its own answer.
pub struct Case {
    pub name: String,
    /// What the input needs of its caller to change anything: a secure run
    /// whose caller lacks it checks that nothing was written.
    pub needs: Rights,
    run: Box<dyn Fn(Ctx) -> BoxFuture<'static, ()> + Send + Sync>,
}

impl Case {
    pub fn new(
        name: impl Into<String>,
        run: impl Fn(Ctx) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Case {
        Case {
            name: name.into(),
            needs: Rights::Anyone,
            run: Box::new(run),
        }
    }

    /// The case needs `rights` to change anything.
    pub fn needs(mut self, rights: Rights) -> Case {
        self.needs = rights;
        self
    }
}

/// `case!("name", |ctx| async move { ... })`.
#[macro_export]
macro_rules! case {
    ($name:expr, |$c:ident| $body:expr) => {
        $crate::Case::new($name, move |$c: $crate::Ctx| Box::pin($body))
    };
}

/// The hostile runs take turns: while a case runs, its server is the only
/// one in the process, so a panic the hook sees during the case is that
/// server's (or the case's).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The options of every server the hostile inputs go to: all services
/// served, projections included; secure (as `--dev`) unless `caller` is
/// [`Caller::Insecure`].
pub fn server_options(caller: Caller) -> ServerOptions {
    ServerOptions {
        run_projections: RunProjections::All,
        security: if caller == Caller::Insecure {
            Security::Insecure
        } else {
            Security::Dev
        },
        ..ServerOptions::default()
    }
}

/// A channel to `server` as `caller`: over TLS trusting the dev CA on a
/// secure server, with the caller's user certificate (KurrentDB
/// authenticates a user by the certificate's common name) unless anonymous.
pub async fn connect(server: &EmbeddedServer, caller: Caller) -> Channel {
    let mut endpoint = Channel::from_shared(server.uri()).unwrap();
    if server.is_secure() {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(server.ca_pem().expect("a dev CA")))
            .domain_name("localhost");
        if let Some(login) = caller.login() {
            let (certificate, key) = server
                .dev_certificates()
                .expect("dev certificates")
                .user_certificate(login)
                .expect("a user certificate");
            tls = tls.identity(Identity::from_pem(certificate, key));
        }
        endpoint = endpoint.tls_config(tls).unwrap();
    }
    endpoint.connect().await.expect("connects")
}

/// Starts a server for `caller`'s run (with the low-rights user, on an
/// insecure server too, where it is only a user) and the context its cases
/// get.
pub async fn start(caller: Caller) -> (EmbeddedServer, Ctx) {
    let server = EmbeddedServer::start_with(server_options(caller))
        .await
        .expect("server starts");
    let admin = connect(&server, Caller::Admin).await;
    users::create_user(&admin, LOW_LOGIN, LOW_PASSWORD, &[])
        .await
        .expect("the low-rights user is created");
    let channel = match caller {
        Caller::Insecure | Caller::Admin => admin.clone(),
        _ => connect(&server, caller).await,
    };
    let ctx = Ctx {
        channel,
        admin,
        caller,
        addr: server.addr(),
        store: server.store().clone(),
        tls: server.ca_pem().map(raw::tls_config),
    };
    (server, ctx)
}

/// Runs `cases` one after the other against one insecure server, checking
/// its health after each.
async fn run(cases: Vec<Case>) {
    run_as(Caller::Insecure, cases).await;
}

/// Runs `cases` one after the other as `caller` against one server of its
/// own, checking after each that the code under test did not panic (on any
/// thread), that a caller without the case's rights wrote nothing, and the
/// server's health (as `admin`).
async fn run_as(caller: Caller, cases: Vec<Case>) {
    let _turn = TURN.lock().await;
    panics::install();
    let mark = panics::mark();
    let (server, ctx) = start(caller).await;
    panics::assert_none_since(mark, &format!("starting the server for {caller:?}"));
    for (i, case) in cases.iter().enumerate() {
        let mark = panics::mark();
        let started = std::time::Instant::now();
        let log_len = ctx.store.log_len();
        let run = tokio::spawn((case.run)(ctx.clone()));
        if let Err(e) = run.await {
            panic!("case `{}` ({caller:?}) failed: {e}", case.name);
        }
        panics::assert_none_since(mark, &format!("case `{}` ({caller:?})", case.name));
        if !caller.has(case.needs) {
            assert_eq!(
                ctx.store.log_len(),
                log_len,
                "case `{}`: {caller:?} wrote without the rights ({:?})",
                case.name,
                case.needs
            );
        }
        assert_healthy(&ctx, i, &case.name).await;
        panics::assert_none_since(
            mark,
            &format!(
                "case `{}` ({caller:?}), or the health check after it",
                case.name
            ),
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "case `{}` took {:?}",
            case.name,
            started.elapsed()
        );
    }
    let mark = panics::mark();
    server.shutdown().await;
    panics::assert_none_since(mark, &format!("the server's shutdown ({caller:?})"));
}

/// KurrentDB's answer to a caller without the rights (anonymous ones
/// included: `RpcExceptions.AccessDenied`): PERMISSION_DENIED "Access
/// Denied", with the trailer `exception: access-denied`.
#[track_caller]
pub fn assert_denied<T: std::fmt::Debug>(result: &Result<T, tonic::Status>, what: &str) {
    let e = result.as_ref().expect_err(&format!(
        "{what}: a caller without the rights was let through"
    ));
    assert_eq!(e.code(), tonic::Code::PermissionDenied, "{what}: {e:?}");
    assert_eq!(e.message(), "Access Denied", "{what}");
    assert_eq!(
        common::trailer(e, "exception"),
        Some("access-denied"),
        "{what}"
    );
}

/// The server answers, appends and reads, and `$all` is consistent.
async fn assert_healthy(ctx: &Ctx, i: usize, case: &str) {
    let features = ServerFeaturesClient::new(ctx.admin.clone())
        .get_supported_methods(Empty {})
        .await;
    assert!(
        features.is_ok(),
        "after `{case}`: ServerFeatures {features:?}"
    );
    let mut c = ctx.admin_streams();
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
    let read = common::read(&mut ctx.admin_streams(), o)
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
        + wire::cases().len()
        + users::cases().len()
        + operations::cases().len()
        + projections::cases().len()
        + secure::cases().len();
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

/// The Users, Operations and Projections services' own hostile inputs.
fn admin_services_cases() -> Vec<Case> {
    let mut cases = users::cases();
    cases.extend(operations::cases());
    cases.extend(projections::cases());
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_users_operations_projections_requests() {
    let mut cases = admin_services_cases();
    cases.extend(secure::cases());
    run(cases).await;
}

/// What each caller of a secure server gets: garbage and truncated
/// protobuf on every method, bad framing, every service's targeted inputs
/// (as the caller's rights allow), and the secure server's own.
fn secure_cases() -> Vec<Case> {
    let mut cases = wire::cases();
    cases.extend(admin_services_cases());
    cases.extend(secure::cases());
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_secure_anonymous() {
    run_as(Caller::Anonymous, secure_cases()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_secure_low_rights_user() {
    run_as(Caller::Low, secure_cases()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_secure_admin() {
    run_as(Caller::Admin, secure_cases()).await;
}

/// The targeted stream, v2 and persistent-subscription inputs as `admin`,
/// each suite on a server of its own as in the insecure runs (a
/// subscription case waits a bounded time for its events, through a log
/// only its own suite wrote).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_secure_admin_targeted() {
    run_as(Caller::Admin, streams::cases()).await;
    run_as(Caller::Admin, v2::cases()).await;
    run_as(Caller::Admin, persistent::cases()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_shutdown() {
    let _turn = TURN.lock().await;
    for caller in [
        Caller::Insecure,
        Caller::Anonymous,
        Caller::Low,
        Caller::Admin,
    ] {
        operations::shutdown_as(caller).await;
    }
}
