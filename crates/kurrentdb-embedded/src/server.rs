//! Starting and stopping the server: [`EmbeddedServer`] and [`ServerOptions`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use crate::membership::Membership;
pub use crate::node::ServerOptions;
use crate::node::{
    NodeRoutes, RoleGateLayer, ServerTls, SharedServices, connection_string, serve, stop_task,
};
use crate::security::{DevCertificates, OAuthError, OAuthOptions};
use crate::store::Store;

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
    /// The OAuth options of a secure server that has them.
    oauth: Option<OAuthOptions>,
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
        let services = SharedServices::new(&store, &options);
        let routes = NodeRoutes {
            grpc: services.routes(&membership, 0, &shutdown),
            http: services.http(&store, &membership, 0, addr, &shutdown),
            metrics: services.metrics.clone(),
            max_connections: services.max_connections,
        };
        let gate = RoleGateLayer::new(membership, 0);
        let tls_config = match &tls {
            Some(t) => Some(t.certificates.rustls_config()?),
            None => None,
        };
        let (stop, task) = serve(listener, routes, gate, None, tls_config, shutdown)?;
        tracing::info!(%addr, secure = tls.is_some(), "embedded KurrentDB listening");
        Ok(EmbeddedServer {
            addr,
            store,
            oauth: options.oauth.filter(|_| tls.is_some()),
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
        let oauth = options
            .oauth
            .clone()
            .filter(|_| options.security.is_secure());
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
            oauth,
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
    /// [`Security::Dev`](crate::Security::Dev) `?tlsCaFile=` naming a file holding the dev CA
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

    /// The dev CA certificate (PEM) clients trust, in [`Security::Dev`](crate::Security::Dev).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls
            .as_ref()
            .and_then(|tls| tls.dev.as_ref())
            .map(DevCertificates::ca_pem)
    }

    /// The file holding [`EmbeddedServer::ca_pem`], in [`Security::Dev`](crate::Security::Dev).
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.tls.as_deref().and_then(ServerTls::ca_path)
    }

    /// The dev certificates (to sign user certificates with
    /// [`DevCertificates::user_certificate`]), in [`Security::Dev`](crate::Security::Dev).
    pub fn dev_certificates(&self) -> Option<&DevCertificates> {
        self.tls.as_ref().and_then(|tls| tls.dev.as_ref())
    }

    /// A bearer token for `subject` in `roles` (`$admins`, `$ops`, or roles
    /// stream ACLs name), valid from now for `lifetime`, signed with the
    /// [`TokenSigner`](crate::security::TokenSigner) of the server's
    /// [`oauth`](ServerOptions::oauth) options (such as
    /// [`OAuthOptions::dev`]). An error when the server has no OAuth options
    /// (or is insecure), or they hold public keys only.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use kurrentdb_embedded::security::OAuthOptions;
    /// use kurrentdb_embedded::{EmbeddedServer, Security, ServerOptions};
    /// use kurrentdbclient::{AsyncKurrentDBClient, ConnectionSettings, GetServerInfoOptions};
    ///
    /// let server = EmbeddedServer::start_with(ServerOptions {
    ///     security: Security::Dev,
    ///     oauth: Some(OAuthOptions::dev()?),
    ///     ..ServerOptions::default()
    /// })
    /// .await?;
    /// let token = server.mint_token("alice", &["$admins"], Duration::from_secs(3600))?;
    /// let settings: ConnectionSettings = server.connection_string().parse()?;
    /// let client = AsyncKurrentDBClient::with_settings(
    ///     settings.without_credentials().with_bearer_token(token),
    /// )
    /// .await?;
    /// client.get_server_info(&GetServerInfoOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn mint_token(
        &self,
        subject: &str,
        roles: &[&str],
        lifetime: std::time::Duration,
    ) -> Result<String, OAuthError> {
        self.oauth
            .as_ref()
            .ok_or_else(|| OAuthError::new("the server has no OAuth options (or is insecure)"))?
            .mint_token(subject, roles, lifetime)
    }

    /// The OAuth options of a secure server started with them.
    pub fn oauth(&self) -> Option<&OAuthOptions> {
        self.oauth.as_ref()
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
