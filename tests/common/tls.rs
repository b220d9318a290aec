//! A TLS server for tests: the embedded server's services behind tonic's TLS,
//! with a throwaway CA and server certificate generated in-process
//! ([`DevCertificates`]), and an interceptor that records every call's request
//! metadata (to check the `authorization`, `requires-leader` and
//! `connection-name` headers, which the embedded server does not expose).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kurrentdb_embedded::security::DevCertificates;
use kurrentdb_embedded::{ServerOptions, Store, StoreOptions};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::metadata::MetadataMap;
use tonic::transport::{Identity, Server, ServerTlsConfig};

/// A running TLS server.
pub struct TlsServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The CA certificate that signed the server's certificate (PEM file).
    pub ca_file: PathBuf,
    /// The request metadata of every call, in order.
    pub seen: Arc<Mutex<Vec<MetadataMap>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

impl TlsServer {
    /// Starts the server.
    pub async fn start() -> TlsServer {
        Self::start_with(true).await
    }

    /// Starts the same server without TLS (plain HTTP/2), recording metadata
    /// the same way: what a `tls=false` client sends.
    pub async fn start_plain() -> TlsServer {
        Self::start_with(false).await
    }

    async fn start_with(tls: bool) -> TlsServer {
        let dev = DevCertificates::generate().expect("generate certificates");
        let ca_file =
            std::env::temp_dir().join(format!("kdb-tls-{}.crt", uuid::Uuid::new_v4().simple()));
        std::fs::write(&ca_file, dev.ca_pem()).expect("write the CA");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let store = Arc::new(Store::new(StoreOptions::default()));
        let routes = kurrentdb_embedded::server::routes(&store, &ServerOptions::default(), addr);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let interceptor = move |request: tonic::Request<()>| {
            record.lock().unwrap().push(request.metadata().clone());
            Ok(request)
        };
        // tonic's TLS *server* takes rustls's process-wide crypto provider, which
        // rustls cannot choose by itself when the build enables both of its
        // providers (`cargo test --workspace` does: the official `kurrentdb` crate
        // in the interop tests brings aws-lc-rs, we use ring). Choose ring. (The
        // client side needs no such step: tonic picks ring for it explicitly.)
        // rustls 0.23.48 deprecates ring's provider (no post-quantum key
        // exchange); ring is what the client's `tls-ring` uses all the same.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = Server::builder();
        if tls {
            builder = builder
                .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(
                    dev.server().certificate_chain_pem(),
                    dev.server_private_key_pem(),
                )))
                .expect("TLS configuration");
        }
        let server = builder
            .layer(tonic::service::InterceptorLayer::new(interceptor))
            .add_routes(routes);
        let task = tokio::spawn(async move {
            let _ = server
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await;
        });
        TlsServer {
            addr: addr.to_string(),
            ca_file,
            seen,
            task,
        }
    }

    /// The metadata of the last call.
    pub fn last(&self) -> MetadataMap {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a call was made")
    }
}
