//! Test support shared by every test binary of the root crate: the one dual-API
//! harness and the server the tests run against.
//!
//! Scenarios are written once, as `async fn name<C: ClientUnderTest>(client: &C)`,
//! against [`ClientUnderTest`](harness::ClientUnderTest) (in [`harness`]), whose
//! async methods mirror the client's operations, streams and persistent
//! subscriptions alike. Two types implement it:
//! [`AsyncKurrentDBClient`](kurrentdbclient::AsyncKurrentDBClient) itself
//! ([`async_api`]) and [`Blocking`](blocking_api::Blocking), the blocking
//! `KurrentDBClient` with each call run on tokio's blocking pool
//! ([`blocking_api`]). [`scenario_tests!`](crate::scenario_tests) turns a list of
//! scenarios into one test each for a given client type; `tests/async_client.rs`
//! and `tests/blocking_client.rs` expand the same list (`for_each_scenario!`), so
//! each scenario runs through both APIs, and (but for those whose setup fixes
//! the mode) in both server modes ([`Mode`]): insecure, and `--dev` over TLS
//! as `admin:changeit`.
//!
//! The server is the embedded one (one per test binary and mode, on its own
//! thread), or a real KurrentDB when `KURRENTDB_URI` is set (then both modes
//! run against it); scenarios that change the state of
//! the whole server (restarting the persistent-subscription subsystem) get an
//! embedded server of their own ([`on_own_server`]). Each scenario test
//! watches for panics of the embedded server ([`panics::Watch::server`]): a
//! panic in a task of the server (an ack task, a projection's thread)
//! fails the test even when the client got an answer.
//!
//! The fakes ([`fake_follower`], [`proxy`], [`tls`]) stand in for the parts of a
//! deployment the embedded server does not have.
#![allow(dead_code)]

pub mod async_api;
pub mod blocking_api;
pub mod fake_follower;
pub mod harness;
/// The embedded server's tests' panic hook: each scenario test fails when
/// the server panicked (on any thread or task) while it ran.
#[path = "../../crates/kurrentdb-embedded/tests/common/panics.rs"]
pub mod panics;
pub mod proxy;
pub mod tls;

use std::future::Future;
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

use kurrentdb_embedded::{ClusterOptions, EmbeddedCluster, EmbeddedServer};

use harness::ClientUnderTest;

/// The server mode a scenario runs against: every scenario that can runs
/// in both, through both APIs (`for_each_scenario!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// KurrentDB's `--insecure`: plain HTTP/2, no authentication.
    Insecure,
    /// KurrentDB's `--dev`: TLS with the server's development CA, every
    /// call authenticated as `admin:changeit` (its connection string).
    Secure,
}

impl Mode {
    /// Embedded server options for this mode (KurrentDB's defaults otherwise).
    pub fn server_options(self) -> kurrentdb_embedded::ServerOptions {
        kurrentdb_embedded::ServerOptions {
            security: match self {
                Mode::Insecure => kurrentdb_embedded::Security::Insecure,
                Mode::Secure => kurrentdb_embedded::Security::Dev,
            },
            ..Default::default()
        }
    }
}

tokio::task_local! {
    /// The mode of the scenario running in this task (see [`in_mode`]).
    static MODE: Mode;
}

/// The mode of the scenario running in this task: [`Mode::Insecure`] outside
/// [`in_mode`] (the blocking client's own tests).
pub fn mode() -> Mode {
    MODE.try_with(|mode| *mode).unwrap_or(Mode::Insecure)
}

/// Runs `scenario` in `mode`: [`server_uri`] and [`projection_server_uri`]
/// called in it (not in tasks it spawns) name the servers of that mode.
pub async fn in_mode<F: Future>(mode: Mode, scenario: F) -> F::Output {
    MODE.scope(mode, scenario).await
}

/// The shared embedded server of the current [`mode`] among `servers`
/// (insecure, secure), started on first use with `options` for that mode.
fn shared_server(
    servers: &'static [OnceLock<EmbeddedServer>; 2],
    options: fn(Mode) -> kurrentdb_embedded::ServerOptions,
) -> String {
    let mode = mode();
    servers[mode as usize]
        .get_or_init(|| {
            EmbeddedServer::start_blocking_with(options(mode)).expect("start the embedded server")
        })
        .connection_string()
}

/// The connection string of the server under test: `KURRENTDB_URI`, or the
/// embedded server of the current [`mode`] shared by the test binary, started
/// on first use.
pub fn server_uri() -> String {
    if let Ok(uri) = std::env::var("KURRENTDB_URI") {
        return uri;
    }
    static SERVERS: [OnceLock<EmbeddedServer>; 2] = [OnceLock::new(), OnceLock::new()];
    shared_server(&SERVERS, Mode::server_options)
}

/// The connection string of a server running projections
/// (`--run-projections=All --start-standard-projections=true`):
/// `KURRENTDB_URI` (a real node started so), or an embedded server of the
/// current [`mode`] shared by the projection scenarios, started on first use.
pub fn projection_server_uri() -> String {
    if let Ok(uri) = std::env::var("KURRENTDB_URI") {
        return uri;
    }
    static SERVERS: [OnceLock<EmbeddedServer>; 2] = [OnceLock::new(), OnceLock::new()];
    shared_server(&SERVERS, |mode| kurrentdb_embedded::ServerOptions {
        run_projections: kurrentdb_embedded::RunProjections::All,
        start_standard_projections: true,
        ..mode.server_options()
    })
}

/// A dev-mode (TLS) embedded server of the caller's own, in the current
/// runtime: its connection string trusts its CA and carries `admin:changeit`.
pub async fn start_dev_server() -> EmbeddedServer {
    EmbeddedServer::start_with(kurrentdb_embedded::ServerOptions {
        security: kurrentdb_embedded::Security::Dev,
        ..Default::default()
    })
    .await
    .expect("start a dev server")
}

/// Whether the tests run against a real KurrentDB (`KURRENTDB_URI` set).
pub fn against_real_server() -> bool {
    std::env::var_os("KURRENTDB_URI").is_some()
}

/// The server's host and port (for proxies in front of it).
pub fn server_addr() -> String {
    let uri = server_uri();
    let settings: kurrentdbclient::ConnectionSettings = uri.parse().expect("server uri");
    settings.endpoints()[0].to_string()
}

/// `uri` with its endpoint replaced by `addr` (keeping user info and options).
pub fn with_endpoint(uri: &str, addr: &str) -> String {
    let (scheme, rest) = uri.split_once("://").expect("scheme");
    let (authority, query) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let user = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{addr}{query}")
}

/// A unique stream (or group) name, so tests can share a server.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A client of type `C` connected to `uri`.
pub async fn connect<C: ClientUnderTest>(uri: &str) -> C {
    C::connect(uri).await.expect("connect")
}

/// How long a scenario on its own server may take before it counts as hung.
const OWN_SERVER_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Runs `scenario` against a fresh embedded server in `mode` (whatever
/// `KURRENTDB_URI` says), through [`on_own_thread`], [`in_mode`]. `scenario`
/// gets the server's connection string.
pub fn on_own_server<F, Fut>(mode: Mode, name: &'static str, scenario: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let server = EmbeddedServer::start_blocking_with(mode.server_options())
        .expect("start the embedded server");
    let uri = server.connection_string();
    on_own_thread(name, move || in_mode(mode, scenario(uri)));
    drop(server);
}

/// How long after losing its leader the test clusters elect a new one.
pub const TEST_ELECTION_TIMEOUT: Duration = Duration::from_millis(100);

/// Runs `scenario` against a fresh embedded cluster of three voting nodes and
/// one read-only replica (electing in [`TEST_ELECTION_TIMEOUT`]), through
/// [`on_own_thread`]. It runs whatever `KURRENTDB_URI` says: a real cluster
/// cannot be stopped node by node from a test.
pub fn on_own_cluster<F, Fut>(name: &'static str, scenario: F)
where
    F: FnOnce(EmbeddedCluster) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    on_own_thread(name, move || async move {
        let cluster = EmbeddedCluster::start_with(ClusterOptions {
            cluster_size: 3,
            read_only_replicas: 1,
            election_timeout: TEST_ELECTION_TIMEOUT,
            ..ClusterOptions::default()
        })
        .await
        .expect("start the embedded cluster");
        scenario(cluster).await;
    });
}

/// Runs the future `body` makes on a thread of its own with a two-worker
/// tokio runtime, and fails the test if it panics or takes longer than 30 s.
///
/// The thread is what makes the time limit hold even when the scenario is
/// stuck in a blocking call: the test fails and the thread is left behind.
fn on_own_thread<F, Fut>(name: &'static str, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(body());
        }));
        let _ = tx.send(outcome.is_ok());
    });
    match rx.recv_timeout(OWN_SERVER_TIME_LIMIT) {
        Ok(true) => {
            let _ = thread.join();
        }
        Ok(false) => panic!("scenario {name} failed"),
        Err(_) => panic!("scenario {name} timed out"),
    }
}

/// One test per scenario named, each running `$module::$scenario(&client)` with
/// a `$client` (a [`ClientUnderTest`](harness::ClientUnderTest)) connected, in
/// [`Mode`] `$mode` ([`in_mode`]), to:
///
/// - `shared_server`: the server of [`server_uri`], in a `#[tokio::test]`;
/// - `projection_server`: the server of [`projection_server_uri`];
/// - `own_server`: a fresh embedded server, through [`on_own_server`];
/// - `own_cluster`: a fresh embedded (insecure) cluster, through
///   [`on_own_cluster`] (the scenario gets the cluster and connects its own
///   clients).
#[macro_export]
macro_rules! scenario_tests {
    ($client:ty, $mode:ident, $module:ident, shared_server; $($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let _watch = $crate::common::panics::Watch::server();
                $crate::common::in_mode($crate::common::Mode::$mode, async {
                    let uri = $crate::common::server_uri();
                    let client: $client = $crate::common::connect(&uri).await;
                    $module::$scenario(&client).await;
                })
                .await;
            }
        )*
    };
    ($client:ty, $mode:ident, $module:ident, projection_server; $($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let _watch = $crate::common::panics::Watch::server();
                $crate::common::in_mode($crate::common::Mode::$mode, async {
                    let uri = $crate::common::projection_server_uri();
                    let client: $client = $crate::common::connect(&uri).await;
                    $module::$scenario(&client).await;
                })
                .await;
            }
        )*
    };
    ($client:ty, $mode:ident, $module:ident, own_server; $($scenario:ident),* $(,)?) => {
        $(
            #[test]
            fn $scenario() {
                let _watch = $crate::common::panics::Watch::server();
                $crate::common::on_own_server(
                    $crate::common::Mode::$mode,
                    concat!(stringify!($scenario), " through ", stringify!($client)),
                    |uri| async move {
                        let client: $client = $crate::common::connect(&uri).await;
                        $module::$scenario(&client).await;
                    },
                );
            }
        )*
    };
    ($client:ty, Insecure, $module:ident, own_cluster; $($scenario:ident),* $(,)?) => {
        $(
            #[test]
            fn $scenario() {
                let _watch = $crate::common::panics::Watch::server();
                $crate::common::on_own_cluster(
                    concat!(stringify!($scenario), " through ", stringify!($client)),
                    |mut cluster| async move {
                        $module::$scenario::<$client>(&mut cluster).await;
                    },
                );
            }
        )*
    };
}
