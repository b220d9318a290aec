//! Building one tonic [`Channel`] for one node: plain HTTP/2 when `tls=false`,
//! TLS with rustls otherwise (system roots, or the `tlsCaFile` CA; a client
//! identity from `userCertFile`/`userKeyFile`), with the keep-alive options.

use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::connection::settings::{ConnectionSettings, Endpoint};
use crate::error::{Error, Result};

/// How long to wait for a TCP (and TLS) connection to a node.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The TLS material read from the files named in the settings, read once when
/// the client is built so that a bad file fails `connect`, not the first call.
#[derive(Clone, Default)]
pub(crate) struct TlsMaterial {
    ca: Option<Certificate>,
    identity: Option<Identity>,
}

impl TlsMaterial {
    /// Reads `tlsCaFile`, `userCertFile` and `userKeyFile`.
    pub(crate) fn load(settings: &ConnectionSettings) -> Result<Self> {
        let read = |path: &std::path::Path, what: &str| {
            std::fs::read(path)
                .map_err(|e| Error::Tls(format!("cannot read {what} {}: {e}", path.display())))
        };
        let ca = match settings.tls_ca_file() {
            Some(path) => {
                let pem = read(path, "tlsCaFile")?;
                if !looks_like_pem(&pem, "CERTIFICATE") {
                    return Err(Error::Tls(format!(
                        "tlsCaFile {} holds no PEM certificate",
                        path.display()
                    )));
                }
                Some(Certificate::from_pem(pem))
            }
            None => None,
        };
        let identity = match (settings.user_cert_file(), settings.user_key_file()) {
            (Some(cert), Some(key)) => {
                let cert_pem = read(cert, "userCertFile")?;
                let key_pem = read(key, "userKeyFile")?;
                if !looks_like_pem(&cert_pem, "CERTIFICATE") {
                    return Err(Error::Tls(format!(
                        "userCertFile {} holds no PEM certificate",
                        cert.display()
                    )));
                }
                if !looks_like_pem(&key_pem, "PRIVATE KEY") {
                    return Err(Error::Tls(format!(
                        "userKeyFile {} holds no PEM private key",
                        key.display()
                    )));
                }
                Some(Identity::from_pem(cert_pem, key_pem))
            }
            _ => None,
        };
        Ok(TlsMaterial { ca, identity })
    }
}

fn looks_like_pem(bytes: &[u8], label: &str) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains("-----BEGIN") && text.contains(label)
}

/// Builds a lazily connecting channel to `endpoint`. Nothing is sent until the
/// first call; connection failures surface as [`Error::ServiceUnavailable`] then.
pub(crate) fn build_channel(
    settings: &ConnectionSettings,
    tls: &TlsMaterial,
    endpoint: &Endpoint,
) -> Result<Channel> {
    let scheme = if settings.tls() { "https" } else { "http" };
    let host = if endpoint.host.contains(':') && !endpoint.host.starts_with('[') {
        format!("[{}]", endpoint.host)
    } else {
        endpoint.host.clone()
    };
    let uri = format!("{scheme}://{host}:{}", endpoint.port);
    let mut ep = Channel::from_shared(uri.clone())
        .map_err(|e| Error::Programming(format!("invalid endpoint {uri}: {e}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true);
    if let Some(interval) = settings.keep_alive_interval() {
        ep = ep.http2_keep_alive_interval(interval).keep_alive_while_idle(true);
    }
    if let Some(timeout) = settings.keep_alive_timeout() {
        ep = ep.keep_alive_timeout(timeout);
    }
    if settings.tls() {
        let mut config = ClientTlsConfig::new().domain_name(endpoint.host.clone());
        config = match &tls.ca {
            Some(ca) => config.ca_certificate(ca.clone()),
            None => config.with_native_roots(),
        };
        if let Some(identity) = &tls.identity {
            config = config.identity(identity.clone());
        }
        if !settings.tls_verify_cert() {
            tracing::warn!(
                "tlsVerifyCert=false is not supported yet; the server certificate is verified"
            );
        }
        ep = ep
            .tls_config(config)
            .map_err(|e| Error::Tls(format!("{e}: {:?}", std::error::Error::source(&e))))?;
    }
    Ok(ep.connect_lazy())
}
