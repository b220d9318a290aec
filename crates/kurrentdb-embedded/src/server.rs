//! Starting and stopping the server: [`EmbeddedServer`] and [`ServerOptions`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread;

use kurrentdbclient::proto::gossip::gossip_server::GossipServer;
use kurrentdbclient::proto::operations::operations_server::OperationsServer;
use kurrentdbclient::proto::persistent::persistent_subscriptions_server::PersistentSubscriptionsServer;
use kurrentdbclient::proto::projections::projections_server::ProjectionsServer;
use kurrentdbclient::proto::server_features::server_features_server::ServerFeaturesServer;
use kurrentdbclient::proto::streams::streams_server::StreamsServer;
use kurrentdbclient::proto::users::users_server::UsersServer;
use kurrentdbclient::proto::v2::streams_service_server::StreamsServiceServer;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tonic::transport::ServerTlsConfig;
use tonic::transport::server::TcpIncoming;

use crate::call_log::{CallLogLayer, LoggedConnection};
use crate::catch_panic::CatchPanic;
use crate::cluster::fate::{Fate, FatedConnection};
use crate::cluster::gate::RoleGateLayer;
use crate::cluster::membership::Membership;
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
use crate::store::{Store, StoreOptions};
use crate::users::Users;

/// The server version reported by `ServerFeatures` (the KurrentDB release whose
/// behaviour is imitated).
pub const SERVER_VERSION: &str = "25.1.0";

/// How to start an [`EmbeddedServer`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address to bind (default 127.0.0.1).
    pub host: IpAddr,
    /// The port (default 0: a free port chosen by the system).
    pub port: u16,
    /// The maximum size of an append in bytes (default 1 MiB, like KurrentDB's
    /// `MaxAppendSize`).
    pub max_append_size: u32,
    /// The maximum size of one v2 record in bytes (default 1 MiB).
    pub max_record_size: u32,
    /// The version reported by `ServerFeatures`.
    pub server_version: String,
    /// Which projections run (KurrentDB's `--run-projections`; default
    /// [`RunProjections::None`]: no projection subsystem, and the Projections
    /// service answers UNIMPLEMENTED).
    pub run_projections: RunProjections,
    /// Enable the standard projections (`$by_category`, `$by_event_type`,
    /// `$stream_by_category`, `$streams`, `$by_correlation_id`) at start
    /// (KurrentDB's `--start-standard-projections`; default false).
    pub start_standard_projections: bool,
    /// The host gossip and not-leader answers give clients for this node
    /// (KurrentDB's `--advertise-host-to-client-as`; default `None`: the
    /// address the node listens on).
    pub advertise_host_to_client_as: Option<String>,
    /// The port gossip and not-leader answers give clients for this node
    /// (KurrentDB's `--advertise-node-port-to-client-as`; default 0: the
    /// port the node listens on).
    pub advertise_node_port_to_client_as: u16,
    /// How the server is secured (default [`Security::Insecure`]: plain
    /// HTTP/2, what tests and the quickstart want; the binary requires a mode,
    /// as KurrentDB does).
    pub security: Security,
    /// Write, before anything else, the events a fresh KurrentDB node writes
    /// when it starts (`$epoch-information`, the `$scavenges` stream's
    /// metadata; see `store/system.rs`), so that `$all` starts as there:
    /// a read or subscription of `$all` with no filter sees these `$`-typed
    /// events first, and the first event a client appends is not at commit
    /// position 0 (default true; false gives an empty `$all`).
    pub startup_events: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        let store = StoreOptions::default();
        ServerOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            max_append_size: store.max_append_size,
            max_record_size: store.max_record_size,
            server_version: SERVER_VERSION.to_owned(),
            run_projections: RunProjections::None,
            start_standard_projections: false,
            advertise_host_to_client_as: None,
            advertise_node_port_to_client_as: 0,
            security: Security::Insecure,
            startup_events: true,
        }
    }
}

impl ServerOptions {
    /// A fresh store with these options' limits, holding the startup events
    /// when [`startup_events`](Self::startup_events) asks for them.
    pub(crate) fn new_store(&self) -> Arc<Store> {
        let store = Arc::new(Store::new(StoreOptions {
            max_append_size: self.max_append_size,
            max_record_size: self.max_record_size,
        }));
        if self.startup_events {
            store.write_startup_events();
        }
        store
    }

    /// The host and port clients are told for a node listening on `addr`.
    pub(crate) fn advertised(&self, addr: SocketAddr) -> (String, u16) {
        let host = self
            .advertise_host_to_client_as
            .clone()
            .unwrap_or_else(|| addr.ip().to_string());
        let port = match self.advertise_node_port_to_client_as {
            0 => addr.port(),
            port => port,
        };
        (host, port)
    }
}

/// A running embedded server. It stops when dropped or on [`shutdown`].
///
/// [`shutdown`]: EmbeddedServer::shutdown
#[derive(Debug)]
pub struct EmbeddedServer {
    addr: SocketAddr,
    store: Arc<Store>,
    /// The TLS material of a secure server (`None`: insecure).
    tls: Option<Arc<ServerTls>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// For [`EmbeddedServer::start_blocking`]: the thread running the runtime.
    thread: Option<thread::JoinHandle<()>>,
}

impl EmbeddedServer {
    /// Starts a server on 127.0.0.1 and a free port, in the current tokio
    /// runtime.
    pub async fn start() -> std::io::Result<EmbeddedServer> {
        Self::start_with(ServerOptions::default()).await
    }

    /// Starts a server with the given options, in the current tokio runtime.
    pub async fn start_with(options: ServerOptions) -> std::io::Result<EmbeddedServer> {
        let listener = TcpListener::bind(SocketAddr::new(options.host, options.port)).await?;
        let addr = listener.local_addr()?;
        let store = options.new_store();
        let tls = ServerTls::prepare(&options.security)?.map(Arc::new);
        let (host, port) = options.advertised(addr);
        let membership = Arc::new(Membership::single(host, port));
        let (shutdown, _) = watch::channel(false);
        let router = SharedServices::new(&store, &options).routes(&membership, 0, &shutdown);
        let gate = RoleGateLayer::new(membership, 0);
        let tls_config = tls.as_ref().map(|t| t.certificates.server_tls_config());
        let (stop, task) = serve(listener, router, gate, None, tls_config, shutdown)?;
        tracing::info!(%addr, secure = tls.is_some(), "embedded KurrentDB listening");
        Ok(EmbeddedServer {
            addr,
            store,
            tls,
            stop: Some(stop),
            task: Some(task),
            thread: None,
        })
    }

    /// Starts a server on its own thread with its own tokio runtime, for
    /// blocking code and plain `#[test]`s. It blocks until the server is bound
    /// (briefly), so prefer [`EmbeddedServer::start`] inside an async context.
    pub fn start_blocking() -> std::io::Result<EmbeddedServer> {
        Self::start_blocking_with(ServerOptions::default())
    }

    /// [`EmbeddedServer::start_blocking`] with options.
    pub fn start_blocking_with(options: ServerOptions) -> std::io::Result<EmbeddedServer> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = thread::Builder::new()
            .name("kurrentdb-embedded".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match EmbeddedServer::start_with(options).await {
                        Ok(mut server) => {
                            let task = server.task.take();
                            let (tx, rx) = oneshot::channel();
                            let inner_stop = server.stop.take();
                            let _ = ready_tx.send(Ok((
                                server.addr,
                                server.store.clone(),
                                server.tls.clone(),
                                tx,
                            )));
                            // Wait for the handle to ask for a stop (or be dropped).
                            let _ = rx.await;
                            if let Some(stop) = inner_stop {
                                let _ = stop.send(());
                            }
                            if let Some(task) = task {
                                stop_task(task).await;
                            }
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let (addr, store, tls, stop) = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("embedded server thread died"))??;
        Ok(EmbeddedServer {
            addr,
            store,
            tls,
            stop: Some(stop),
            task: None,
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connection string for clients. Insecure:
    /// `kurrentdb://127.0.0.1:PORT?tls=false`. Secure: TLS with KurrentDB's
    /// default `admin:changeit` credentials,
    /// `kurrentdb://admin:changeit@127.0.0.1:PORT`, and in
    /// [`Security::Dev`] `?tlsCaFile=` naming a file holding the dev CA
    /// (written at start, removed when the server is dropped).
    pub fn connection_string(&self) -> String {
        connection_string(self.tls.as_deref(), &self.addr.to_string())
    }

    /// The gRPC endpoint URI for tonic channels: `http://127.0.0.1:PORT`
    /// (`https://` when secure).
    pub fn uri(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Whether the server speaks TLS.
    pub fn is_secure(&self) -> bool {
        self.tls.is_some()
    }

    /// The dev CA certificate (PEM) clients trust, in [`Security::Dev`].
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls
            .as_ref()
            .and_then(|tls| tls.dev.as_ref())
            .map(DevCertificates::ca_pem)
    }

    /// The file holding [`EmbeddedServer::ca_pem`], in [`Security::Dev`].
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.tls
            .as_ref()
            .and_then(|tls| tls.ca_file.as_ref())
            .map(|f| f.0.as_path())
    }

    /// The dev certificates (to sign user certificates with
    /// [`DevCertificates::user_certificate`]), in [`Security::Dev`].
    pub fn dev_certificates(&self) -> Option<&DevCertificates> {
        self.tls.as_ref().and_then(|tls| tls.dev.as_ref())
    }

    /// The server's store, for in-process inspection (for instance
    /// [`Store::log_len`]).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Stops the server and waits until it has stopped. Open calls (for example
    /// subscriptions) are ended.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            stop_task(task).await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
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

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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
/// separated) served with `tls` (see [`EmbeddedServer::connection_string`]).
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

/// The gRPC services of the server over `store`, ready to be served (for
/// instance behind TLS, as the client's TLS tests do): v1 streams, v2 streams,
/// persistent subscriptions, server features, gossip (which reports `addr`),
/// users (creating the default users of a secure server) and, unless
/// `options.run_projections` is `None`, projections (whose subsystem starts
/// here and stops when the routes are dropped).
pub fn routes(
    store: &Arc<Store>,
    options: &ServerOptions,
    addr: SocketAddr,
) -> tonic::service::Routes {
    let (host, port) = options.advertised(addr);
    // The Operations service's `Shutdown` has no server to stop here.
    let (shutdown, _) = watch::channel(false);
    SharedServices::new(store, options).routes(
        &Arc::new(Membership::single(host, port)),
        0,
        &shutdown,
    )
}

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
            Arc::new(Authenticator::new(users.clone(), authorizer))
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
        }
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

/// Serves `router` on `listener` behind the node's role gate until the
/// returned sender fires (or is dropped) or `shutdown` turns `true`; with a
/// `fate`, the node's connections are cut or hung as it says; with `tls`,
/// over TLS. Single nodes and cluster nodes are served by this one function.
pub(crate) fn serve(
    listener: TcpListener,
    router: tonic::service::Routes,
    gate: RoleGateLayer,
    fate: Option<watch::Receiver<Fate>>,
    tls: Option<ServerTlsConfig>,
    shutdown: watch::Sender<bool>,
) -> std::io::Result<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)> {
    let mut server = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        // tonic's TLS server takes rustls's process-wide crypto provider,
        // which rustls cannot choose by itself when the build enables both of
        // its providers (`cargo test --workspace` does: the official
        // `kurrentdb` crate of the interop tests brings aws-lc-rs). Choose
        // ring, as the client does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        server = server
            .tls_config(tls)
            .map_err(|e| std::io::Error::other(format!("TLS configuration: {e}")))?;
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // `serve_with_incoming*` ignores the builder's `tcp_nodelay`, so set
        // it on the accepted sockets here: with Nagle on, a response's
        // frames wait for the client's delayed ACK (40 ms per unary call).
        // KurrentDB (Kestrel) sends with TCP_NODELAY too.
        let incoming = futures::StreamExt::map(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            move |connection| {
                connection
                    .map(|c| FatedConnection::new(LoggedConnection::accepted(c), fate.as_ref()))
            },
        );
        let mut requested = shutdown.subscribe();
        let mut grace = shutdown.subscribe();
        let serving = server
            .layer(CallLogLayer)
            .layer(gate)
            .add_routes(router)
            .serve_with_incoming_shutdown(incoming, async move {
                tokio::select! {
                    _ = stopped => {}
                    _ = requested.wait_for(|s| *s) => {}
                }
            });
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
