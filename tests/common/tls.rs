//! A TLS server for tests: the embedded server's services behind tonic's TLS,
//! with a throwaway CA and server certificate made by the `openssl` command, and
//! an interceptor that records every call's request metadata (to check the
//! `authorization`, `requires-leader` and `connection-name` headers).

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

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
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes a CA and a certificate for 127.0.0.1 / localhost signed by it, in a new
/// temporary directory. `None` when the `openssl` command is not available.
fn make_certificates() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kdb-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .ok()?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ok = openssl(
        &dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=kdb-test-ca",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    ) && openssl(
        &dir,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    ) && openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    ok.then_some(dir)
}

impl TlsServer {
    /// Starts the server, or `None` (the test is skipped) without `openssl`.
    pub async fn start() -> Option<TlsServer> {
        let dir = make_certificates()?;
        let cert = std::fs::read(dir.join("server.pem")).ok()?;
        let key = std::fs::read(dir.join("server.key")).ok()?;
        let listener = TcpListener::bind("127.0.0.1:0").await.ok()?;
        let addr = listener.local_addr().ok()?;
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
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = Server::builder()
            .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
            .ok()?
            .layer(tonic::service::InterceptorLayer::new(interceptor))
            .add_routes(routes);
        let task = tokio::spawn(async move {
            let _ = server
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await;
        });
        Some(TlsServer {
            addr: addr.to_string(),
            ca_file: dir.join("ca.pem"),
            seen,
            task,
        })
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
