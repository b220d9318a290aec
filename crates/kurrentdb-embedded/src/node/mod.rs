//! What a node is, for a single [`EmbeddedServer`](crate::EmbeddedServer)
//! (a cluster of one) and each node of an
//! [`EmbeddedCluster`](crate::EmbeddedCluster) alike: `server.rs` and
//! `cluster.rs` start their nodes from here, and neither imports the other.
//!
//! - `options`: [`ServerOptions`], what every node starts with;
//! - here: the services over one store that every node serving it shares
//!   ([`SharedServices`]), the one function that serves a node ([`serve`]),
//!   and how it is reached (its TLS material, [`ServerTls`], and the
//!   connection string);
//! - `gate`: the role gate in front of the services, the one place a node's
//!   role decides what it serves (not-leader answers as KurrentDB's);
//! - `fate`: what happens to a node's connections when it is stopped or
//!   partitioned (cut, or hung).
//!
//! Who the members are and who leads is the cluster's membership
//! (`membership.rs`), which the services (gossip, operations) read too.

mod fate;
mod gate;
mod options;

use std::sync::Arc;

use kurrentdbclient::proto::gossip::gossip_server::GossipServer;
use kurrentdbclient::proto::operations::operations_server::OperationsServer;
use kurrentdbclient::proto::persistent::persistent_subscriptions_server::PersistentSubscriptionsServer;
use kurrentdbclient::proto::projections::projections_server::ProjectionsServer;
use kurrentdbclient::proto::server_features::server_features_server::ServerFeaturesServer;
use kurrentdbclient::proto::streams::streams_server::StreamsServer;
use kurrentdbclient::proto::users::users_server::UsersServer;
use kurrentdbclient::proto::v2::streams_service_server::StreamsServiceServer;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tonic::transport::server::TcpIncoming;

pub(crate) use self::fate::Fate;
use self::fate::FatedConnection;
pub(crate) use self::gate::RoleGateLayer;
pub use self::options::ServerOptions;
use crate::call_log::{CallLogLayer, LoggedConnection};
use crate::catch_panic::CatchPanic;
use crate::http::{HttpLayer, HttpNode};
use crate::membership::Membership;
use crate::metrics::{GrpcMetricsLayer, Metrics};
use crate::projections::{Projections, RunProjections};
use crate::scavenge_jobs::ScavengeJobs;
use crate::security::auth::{Authenticate, Authenticator};
use crate::security::authz::Authorizer;
use crate::security::{DevCertificates, Security, ServerCertificates};
use crate::services::gossip::GossipService;
use crate::services::operations::OperationsService;
use crate::services::persistent::PersistentService;
use crate::services::projections::ProjectionsService;
use crate::services::server_features::ServerFeaturesService;
use crate::services::streams::{StreamsService, StreamsV2Service};
use crate::services::users::UsersService;
use crate::store::Store;
use crate::users::Users;

/// The services over one store, shared by every node that serves it (one
/// node, or every node of an [`EmbeddedCluster`](crate::EmbeddedCluster)):
/// one persistent-subscription subsystem and one projection subsystem, as a
/// cluster has one leader running them.
#[derive(Clone)]
pub(crate) struct SharedServices {
    streams: StreamsService,
    v2: StreamsV2Service,
    features: ServerFeaturesService,
    pub(crate) persistent: PersistentService,
    scavenge_jobs: ScavengeJobs,
    projections: Option<Arc<Projections>>,
    users: Users,
    /// Authenticates every call of a secure server (`security::auth`); an
    /// insecure one ignores credentials.
    authenticator: Option<Arc<Authenticator>>,
    max_message: usize,
    /// The figures `/metrics` reports, kept by every node's gRPC calls.
    pub(crate) metrics: Arc<Metrics>,
    /// What the HTTP endpoints report and allow (see `http/`).
    server_version: String,
    projections_enabled: bool,
    allow_anonymous_endpoint_access: bool,
    override_anonymous_endpoint_access_for_gossip: bool,
    /// Connections each node holds open at once (`serve`).
    pub(crate) max_connections: usize,
}

impl std::fmt::Debug for SharedServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedServices")
    }
}

impl SharedServices {
    /// The services over `store`; the projection subsystem starts here unless
    /// `options.run_projections` is `None`.
    pub(crate) fn new(store: &Arc<Store>, options: &ServerOptions) -> Self {
        // Leave room for the limits to be enforced by the services (with the
        // real server's errors) rather than by the gRPC layer.
        let max_message = (options.max_append_size as usize).max(options.max_record_size as usize)
            * 2
            + 4 * 1024 * 1024;
        let projections = (options.run_projections != RunProjections::None).then(|| {
            Arc::new(Projections::start(
                store.clone(),
                options.run_projections,
                options.start_standard_projections,
            ))
        });
        // The default users (`admin`, `ops`) of a secure server, unless the
        // store has them. KurrentDB creates them in insecure mode too; here an
        // insecure server (what tests start by the hundred) keeps its log empty
        // until a client writes, and nothing authenticates against them there.
        let users = Users::new(store.clone());
        let authenticator = options.security.is_secure().then(|| {
            users.ensure_defaults();
            let authorizer = Arc::new(Authorizer::new(store.clone()));
            let tokens = options.oauth.as_ref().map(|oauth| oauth.checker());
            Arc::new(Authenticator::new(users.clone(), authorizer, tokens))
        });
        SharedServices {
            streams: StreamsService::new(store.clone()),
            v2: StreamsV2Service::new(store.clone()),
            features: ServerFeaturesService::new(options.server_version.clone()),
            persistent: PersistentService::new(store.clone()),
            scavenge_jobs: ScavengeJobs::new(store.clone()),
            projections,
            users,
            authenticator,
            max_message,
            metrics: Arc::new(Metrics::default()),
            server_version: options.server_version.clone(),
            projections_enabled: options.run_projections != RunProjections::None,
            allow_anonymous_endpoint_access: options.allow_anonymous_endpoint_access,
            override_anonymous_endpoint_access_for_gossip: options
                .override_anonymous_endpoint_access_for_gossip,
            max_connections: options.max_connections,
        }
    }

    /// Node `index`'s HTTP routes (`http/`): the node listens on `addr`,
    /// and shuts down when `shutdown` turns `true`.
    pub(crate) fn http(
        &self,
        store: &Arc<Store>,
        membership: &Arc<Membership>,
        index: usize,
        addr: std::net::SocketAddr,
        shutdown: &watch::Sender<bool>,
    ) -> axum::Router {
        crate::http::router(HttpNode {
            store: store.clone(),
            membership: membership.clone(),
            index,
            addr,
            persistent: self.persistent.clone(),
            users: self.users.clone(),
            projections: self.projections.clone(),
            authenticator: self.authenticator.clone(),
            metrics: self.metrics.clone(),
            shutting_down: shutdown.subscribe(),
            server_version: self.server_version.clone(),
            projections_enabled: self.projections_enabled,
            allow_anonymous_endpoint_access: self.allow_anonymous_endpoint_access,
            override_anonymous_endpoint_access_for_gossip: self
                .override_anonymous_endpoint_access_for_gossip,
        })
    }

    /// Node `index`'s routes: the shared services, gossip over `membership`,
    /// and the node's Operations service (whose `Shutdown` sends `true` on
    /// `shutdown`).
    pub(crate) fn routes(
        &self,
        membership: &Arc<Membership>,
        index: usize,
        shutdown: &watch::Sender<bool>,
    ) -> tonic::service::Routes {
        let streams = StreamsServer::new(self.streams.clone())
            .max_decoding_message_size(self.max_message)
            .max_encoding_message_size(usize::MAX);
        let v2 =
            StreamsServiceServer::new(self.v2.clone()).max_decoding_message_size(self.max_message);
        let features = ServerFeaturesServer::new(self.features.clone());
        let gossip = GossipServer::new(GossipService::new(membership.clone()));
        let persistent = PersistentSubscriptionsServer::new(self.persistent.clone());
        let users = UsersServer::new(UsersService::new(self.users.clone()));
        let operations = OperationsServer::new(OperationsService::new(
            self.scavenge_jobs.clone(),
            self.persistent.clone(),
            membership.clone(),
            index,
            shutdown.clone(),
        ));
        // Each service wrapped: its calls authenticated, and a panic answers
        // its call with INTERNAL.
        let auth = &self.authenticator;
        let mut builder = tonic::service::Routes::builder();
        if let Some(subsystem) = &self.projections {
            builder.add_service(guarded(
                auth,
                ProjectionsServer::new(ProjectionsService::new(subsystem.clone())),
            ));
        }
        builder
            .add_service(guarded(auth, streams))
            .add_service(guarded(auth, v2))
            .add_service(guarded(auth, features))
            .add_service(guarded(auth, persistent))
            .add_service(guarded(auth, gossip))
            .add_service(guarded(auth, users))
            .add_service(guarded(auth, operations));
        builder.routes()
    }
}

/// A service with its calls authenticated (when `authenticator` is set) and
/// its panics caught.
fn guarded<S>(authenticator: &Option<Arc<Authenticator>>, inner: S) -> CatchPanic<Authenticate<S>> {
    CatchPanic(Authenticate {
        authenticator: authenticator.clone(),
        inner,
    })
}

/// How long a node stopping through the Operations service's `Shutdown`
/// lets its open calls finish before it cuts them (subscriptions never end by
/// themselves).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a TLS handshake may take before its connection is dropped.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// TLS handshakes under way at once; past that, new connections wait in the
/// listen backlog (slow or silent clients cannot make the server hold an
/// unbounded number of half-open connections).
const MAX_HANDSHAKES: usize = 256;

/// How long accepting pauses after it failed for want of resources.
const ACCEPT_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Whether an accept failed for that connection alone (the peer gave up
/// before it was accepted): the next accept may succeed at once.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

/// What a node serves on its one port: the gRPC services and the HTTP
/// routes (`http/`), and the metrics its gRPC calls are counted in.
#[derive(Debug)]
pub(crate) struct NodeRoutes {
    pub(crate) grpc: tonic::service::Routes,
    pub(crate) http: axum::Router,
    pub(crate) metrics: Arc<Metrics>,
    /// Connections held open at once ([`ServerOptions::max_connections`]).
    pub(crate) max_connections: usize,
}

/// Serves `routes` on `listener` until the returned sender fires (or is
/// dropped) or `shutdown` turns `true`: gRPC calls behind the node's role
/// gate, other requests to the HTTP routes (`http/`), over HTTP/2 and
/// HTTP/1.1; with a `fate`, the node's connections are cut or hung as it
/// says; with `tls`, over TLS (ALPN `h2` and `http/1.1`). Single nodes and
/// cluster nodes are served by this one function.
pub(crate) fn serve(
    listener: TcpListener,
    routes: NodeRoutes,
    gate: RoleGateLayer,
    fate: Option<watch::Receiver<Fate>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: watch::Sender<bool>,
) -> std::io::Result<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)> {
    if tls.is_some() {
        // The node's own TLS configuration names its provider (ring); the
        // process-wide default is still set, as it always was here, for
        // in-process TLS clients that take it (the official `kurrentdb`
        // crate in the interop tests, whose build enables both of rustls's
        // providers, so rustls cannot choose one by itself).
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // `serve_with_incoming*` ignores the builder's `tcp_nodelay`, so set
        // it on the accepted sockets here: with Nagle on, a response's
        // frames wait for the client's delayed ACK (40 ms per unary call).
        // KurrentDB (Kestrel) sends with TCP_NODELAY too.
        //
        // Each connection holds one of `max_connections` slots while it is
        // open; one accepted past them is closed at once (Kestrel's
        // `MaxConcurrentConnections`). An accept that fails for want of
        // resources (no file descriptor left, no memory) is retried after
        // a pause: it would fail again at once, and tonic's accept loop
        // would spin on a worker.
        let max_connections = routes.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let slots = Arc::new(Semaphore::new(max_connections));
        let incoming = futures::StreamExt::filter_map(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            move |accepted| {
                let (connection, pause) = match accepted {
                    Ok(c) => match slots.clone().try_acquire_owned() {
                        Ok(slot) => (
                            Some(Ok(FatedConnection::new(
                                LoggedConnection::accepted(c, slot),
                                fate.as_ref(),
                            ))),
                            false,
                        ),
                        Err(_) => {
                            tracing::warn!(
                                peer = ?c.peer_addr().ok(),
                                "connection closed: {max_connections} connections are open already"
                            );
                            (None, false)
                        }
                    },
                    Err(e) => {
                        let pause = !is_connection_error(&e);
                        (Some(Err(e)), pause)
                    }
                };
                async move {
                    if pause {
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                    }
                    connection
                }
            },
        );
        let mut requested = shutdown.subscribe();
        let mut grace = shutdown.subscribe();
        let signal = async move {
            tokio::select! {
                _ = stopped => {}
                _ = requested.wait_for(|s| *s) => {}
            }
        };
        // HTTP requests are answered by the routes; gRPC calls go through
        // the call log, the metrics and the role gate to the services.
        let mut server = tonic::transport::Server::builder()
            .accept_http1(true)
            .layer(HttpLayer::new(routes.http))
            .layer(CallLogLayer)
            .layer(GrpcMetricsLayer(routes.metrics))
            .layer(gate);
        let router = server.add_routes(routes.grpc);
        let serving = async move {
            match tls {
                None => router.serve_with_incoming_shutdown(incoming, signal).await,
                Some(config) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(config);
                    // Handshakes run side by side (a slow one holds up no
                    // other), each for at most HANDSHAKE_TIMEOUT; a failed
                    // one is dropped by tonic's accept loop.
                    let handshakes = futures::StreamExt::buffer_unordered(
                        futures::StreamExt::map(incoming, move |connection| {
                            let acceptor = acceptor.clone();
                            async move {
                                let connection = connection?;
                                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(connection))
                                    .await
                                    .map_err(|_| {
                                        std::io::Error::new(
                                            std::io::ErrorKind::TimedOut,
                                            "TLS handshake timed out",
                                        )
                                    })?
                            }
                        }),
                        MAX_HANDSHAKES,
                    );
                    router
                        .serve_with_incoming_shutdown(handshakes, signal)
                        .await
                }
            }
        };
        tokio::select! {
            result = serving => {
                if let Err(e) = result {
                    tracing::error!("embedded server stopped: {e}");
                }
            }
            // A requested shutdown cuts what is still open after the grace.
            () = async {
                if grace.wait_for(|s| *s).await.is_ok() {
                    tokio::time::sleep(SHUTDOWN_GRACE).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::info!("node shut down: open calls cut");
            }
        }
    });
    Ok((stop, task))
}

/// Waits for the server task to finish its graceful shutdown, but not for long:
/// graceful shutdown waits for open connections and calls, and subscriptions (or
/// idle client connections) never end by themselves.
pub(crate) async fn stop_task(task: tokio::task::JoinHandle<()>) {
    let abort = task.abort_handle();
    if tokio::time::timeout(std::time::Duration::from_millis(500), task)
        .await
        .is_err()
    {
        abort.abort();
    }
}

/// The TLS material of a running secure server (or cluster).
#[derive(Debug)]
pub(crate) struct ServerTls {
    pub(crate) certificates: ServerCertificates,
    /// The generated certificates of [`Security::Dev`].
    pub(crate) dev: Option<DevCertificates>,
    /// Where the dev CA was written for clients' `tlsCaFile`.
    ca_file: Option<TempFile>,
}

impl ServerTls {
    /// Where the dev CA was written, in [`Security::Dev`].
    pub(crate) fn ca_path(&self) -> Option<&std::path::Path> {
        self.ca_file.as_ref().map(|f| f.0.as_path())
    }

    /// The material `security` serves with (`None`: insecure); in
    /// [`Security::Dev`], generated now and its CA written to a temporary file.
    pub(crate) fn prepare(security: &Security) -> std::io::Result<Option<ServerTls>> {
        Ok(match security {
            Security::Insecure => None,
            Security::Certificates(certificates) => Some(ServerTls {
                certificates: certificates.clone(),
                dev: None,
                ca_file: None,
            }),
            Security::Dev => {
                let dev = DevCertificates::generate()?;
                let path = std::env::temp_dir().join(format!(
                    "kurrentdb-embedded-ca-{}.crt",
                    uuid::Uuid::new_v4().simple()
                ));
                std::fs::write(&path, dev.ca_pem())?;
                Some(ServerTls {
                    certificates: dev.server().clone(),
                    dev: Some(dev),
                    ca_file: Some(TempFile(path)),
                })
            }
        })
    }
}

/// The connection string of the nodes at `hosts` (`host:port`, comma
/// separated) served with `tls` (see
/// [`EmbeddedServer::connection_string`](crate::EmbeddedServer::connection_string)).
pub(crate) fn connection_string(tls: Option<&ServerTls>, hosts: &str) -> String {
    match tls {
        None => format!("kurrentdb://{hosts}?tls=false"),
        Some(tls) => match tls.ca_path() {
            Some(ca) => format!(
                "kurrentdb://admin:changeit@{hosts}?tlsCaFile={}",
                ca.display()
            ),
            None => format!("kurrentdb://admin:changeit@{hosts}"),
        },
    }
}

/// A file removed when dropped.
#[derive(Debug)]
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use tower_service::Service;

    use super::*;

    #[tokio::test]
    async fn the_health_check_fails_once_the_node_shuts_down() {
        let options = ServerOptions::default();
        let store = options.new_store();
        let services = SharedServices::new(&store, &options);
        let membership = Arc::new(Membership::single("127.0.0.1".into(), 2113));
        let (shutdown, _) = watch::channel(false);
        let addr = "127.0.0.1:2113".parse().unwrap();
        let mut http = services.http(&store, &membership, 0, addr, &shutdown);
        let live = || {
            http::Request::get("/health/live")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert_eq!(http.call(live()).await.unwrap().status(), 204);
        // KurrentDB answers 503 from `BecomeShuttingDown` on.
        shutdown.send_replace(true);
        assert_eq!(http.call(live()).await.unwrap().status(), 503);
    }
}
