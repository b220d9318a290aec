//! Starting and stopping the server: [`EmbeddedServer`] and [`ServerOptions`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread;

use kurrentdbclient::proto::gossip::gossip_server::GossipServer;
use kurrentdbclient::proto::persistent::persistent_subscriptions_server::PersistentSubscriptionsServer;
use kurrentdbclient::proto::projections::projections_server::ProjectionsServer;
use kurrentdbclient::proto::server_features::server_features_server::ServerFeaturesServer;
use kurrentdbclient::proto::streams::streams_server::StreamsServer;
use kurrentdbclient::proto::v2::streams_service_server::StreamsServiceServer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;

use crate::catch_panic::CatchPanic;
use crate::logging::{CallLogLayer, LoggedConnection};
use crate::projections::{Projections, RunProjections};
use crate::services::gossip::GossipService;
use crate::services::persistent::PersistentService;
use crate::services::projections::ProjectionsService;
use crate::services::server_features::ServerFeaturesService;
use crate::services::streams::StreamsService;
use crate::services::streams_v2::StreamsV2Service;
use crate::store::{Store, StoreOptions};

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
    /// Write, before anything else, the events a fresh KurrentDB node writes
    /// when it starts (`$epoch-information`, the `$scavenges` stream's
    /// metadata; see `store/system.rs`), so that `$all` starts as there
    /// (default false for now: tests and examples that expect an empty `$all`
    /// must be updated before it becomes the default).
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
            startup_events: false,
        }
    }
}

/// A running embedded server. It stops when dropped or on [`shutdown`].
///
/// [`shutdown`]: EmbeddedServer::shutdown
#[derive(Debug)]
pub struct EmbeddedServer {
    addr: SocketAddr,
    store: Arc<Store>,
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
        let store = Arc::new(Store::new(StoreOptions {
            max_append_size: options.max_append_size,
            max_record_size: options.max_record_size,
        }));
        if options.startup_events {
            store.write_startup_events();
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let router = routes(&store, &options, addr);
        let task = tokio::spawn(async move {
            // `serve_with_incoming*` ignores the builder's `tcp_nodelay`, so set
            // it on the accepted sockets here: with Nagle on, a response's
            // frames wait for the client's delayed ACK (40 ms per unary call).
            // KurrentDB (Kestrel) sends with TCP_NODELAY too.
            let incoming = futures::StreamExt::map(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                |connection| connection.map(LoggedConnection::accepted),
            );
            let result = tonic::transport::Server::builder()
                .layer(CallLogLayer)
                .add_routes(router)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = result {
                tracing::error!("embedded server stopped: {e}");
            }
        });
        tracing::info!(%addr, "embedded KurrentDB listening");
        Ok(EmbeddedServer {
            addr,
            store,
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
                            let _ = ready_tx.send(Ok((server.addr, server.store.clone(), tx)));
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
        let (addr, store, stop) = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("embedded server thread died"))??;
        Ok(EmbeddedServer {
            addr,
            store,
            stop: Some(stop),
            task: None,
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connection string for clients: `kurrentdb://127.0.0.1:PORT?tls=false`.
    pub fn connection_string(&self) -> String {
        format!("kurrentdb://{}?tls=false", self.addr)
    }

    /// The gRPC endpoint URI for tonic channels: `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
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
async fn stop_task(task: tokio::task::JoinHandle<()>) {
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

/// The gRPC services of the server over `store`, ready to be served (for
/// instance behind TLS, as the client's TLS tests do): v1 streams, v2 streams,
/// persistent subscriptions, server features, gossip (which reports `addr`)
/// and, unless `options.run_projections` is `None`, projections (whose
/// subsystem starts here and stops when the routes are dropped).
pub fn routes(
    store: &Arc<Store>,
    options: &ServerOptions,
    addr: SocketAddr,
) -> tonic::service::Routes {
    // Leave room for the limits to be enforced by the services (with the real
    // server's errors) rather than by the gRPC layer.
    let max_message = (options.max_append_size as usize).max(options.max_record_size as usize) * 2
        + 4 * 1024 * 1024;
    let streams = StreamsServer::new(StreamsService::new(store.clone()))
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(usize::MAX);
    let v2 = StreamsServiceServer::new(StreamsV2Service::new(store.clone()))
        .max_decoding_message_size(max_message);
    let features =
        ServerFeaturesServer::new(ServerFeaturesService::new(options.server_version.clone()));
    let gossip = GossipServer::new(GossipService::new(
        uuid::Uuid::new_v4(),
        addr.ip().to_string(),
        addr.port(),
    ));
    let persistent = PersistentSubscriptionsServer::new(PersistentService::new(store.clone()));
    // Each service wrapped: a panic answers its call with INTERNAL.
    let mut builder = tonic::service::Routes::builder();
    if options.run_projections != RunProjections::None {
        let subsystem = Projections::start(
            store.clone(),
            options.run_projections,
            options.start_standard_projections,
        );
        builder.add_service(CatchPanic(ProjectionsServer::new(ProjectionsService::new(
            Arc::new(subsystem),
        ))));
    }
    builder
        .add_service(CatchPanic(streams))
        .add_service(CatchPanic(v2))
        .add_service(CatchPanic(features))
        .add_service(CatchPanic(persistent))
        .add_service(CatchPanic(gossip));
    builder.routes()
}
