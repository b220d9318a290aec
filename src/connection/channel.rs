//! Building one tonic [`Channel`] for one node: plain HTTP/2 when `tls=false`,
//! TLS with rustls otherwise (system roots, or the `tlsCaFile` CA; a client
//! identity from `userCertFile`/`userKeyFile`), with the keep-alive options.

use std::sync::Arc;
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
    /// Reads `tlsCaFile`, `userCertFile` and `userKeyFile`, unless the
    /// settings carry the material in memory (which takes precedence).
    pub(crate) fn load(settings: &ConnectionSettings) -> Result<Self> {
        let read = |path: &std::path::Path, what: &str| {
            let pem = std::fs::read(path)
                .map_err(|e| Error::Tls(format!("cannot read {what} {}: {e}", path.display())))?;
            Ok::<_, Error>((pem, format!("{what} {}", path.display())))
        };
        let ca = match (settings.root_certificates(), settings.tls_ca_file()) {
            (Some(pem), _) => Some((pem.as_bytes().to_vec(), "root_certificates".to_owned())),
            (None, Some(path)) => Some(read(path, "tlsCaFile")?),
            (None, None) => None,
        };
        let ca = match ca {
            Some((pem, source)) => {
                Some(Certificate::from_pem(checked(pem, &source, "CERTIFICATE")?))
            }
            None => None,
        };
        let pair = match (
            settings.user_certificate(),
            settings.user_cert_file(),
            settings.user_key_file(),
        ) {
            (Some((cert, key)), _, _) => Some((
                (cert.as_bytes().to_vec(), "user certificate".to_owned()),
                (key.as_bytes().to_vec(), "user certificate key".to_owned()),
            )),
            (None, Some(cert), Some(key)) => {
                Some((read(cert, "userCertFile")?, read(key, "userKeyFile")?))
            }
            _ => None,
        };
        let identity = match pair {
            Some(((cert, cert_source), (key, key_source))) => Some(Identity::from_pem(
                checked(cert, &cert_source, "CERTIFICATE")?,
                checked(key, &key_source, "PRIVATE KEY")?,
            )),
            None => None,
        };
        Ok(TlsMaterial { ca, identity })
    }
}

/// `pem` when it looks like PEM holding a `label` block, else a TLS error
/// naming where it came from.
fn checked(pem: Vec<u8>, source: &str, label: &str) -> Result<Vec<u8>> {
    if looks_like_pem(&pem, label) {
        return Ok(pem);
    }
    let what = if label == "CERTIFICATE" {
        "certificate"
    } else {
        "private key"
    };
    Err(Error::Tls(format!("{source} holds no PEM {what}")))
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
    build_channel_named(settings, tls, endpoint, &endpoint.host)
}

/// [`build_channel`] to `endpoint`, verifying the server's certificate (over
/// TLS) for `tls_name`: a gossip seed resolved from a cluster's DNS name is
/// an address, and its certificate names the DNS name.
pub(crate) fn build_channel_named(
    settings: &ConnectionSettings,
    tls: &TlsMaterial,
    endpoint: &Endpoint,
    tls_name: &str,
) -> Result<Channel> {
    let scheme = if settings.tls() { "https" } else { "http" };
    // `Endpoint`'s display is `host:port` with an IPv6 host bracketed.
    let uri = format!("{scheme}://{endpoint}");
    let mut ep = Channel::from_shared(uri.clone())
        .map_err(|e| Error::Programming(format!("invalid endpoint {uri}: {e}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true);
    if let Some(interval) = settings.keep_alive_interval() {
        ep = ep
            .http2_keep_alive_interval(interval)
            .keep_alive_while_idle(true);
    }
    if let Some(timeout) = settings.keep_alive_timeout() {
        ep = ep.keep_alive_timeout(timeout);
    }
    if settings.tls() {
        let mut config = ClientTlsConfig::new().domain_name(tls_name);
        if let Some(identity) = &tls.identity {
            config = config.identity(identity.clone());
        }
        let tls_error = |e: tonic::transport::Error| {
            Error::Tls(format!("{e}: {:?}", std::error::Error::source(&e)))
        };
        ep = if settings.tls_verify_cert() {
            config = match &tls.ca {
                Some(ca) => config.ca_certificate(ca.clone()),
                None => config.with_native_roots(),
            };
            ep.tls_config(config).map_err(tls_error)?
        } else {
            ep.tls_config_with_verifier(config, Arc::new(no_verify::AcceptAnyCertificate::new()))
                .map_err(tls_error)?
        };
    }
    Ok(ep.connect_lazy())
}

/// `tlsVerifyCert=false`: a certificate verifier that accepts any server
/// certificate (the handshake signatures are still checked). For development
/// against servers with self-signed certificates only.
mod no_verify {
    use rustls::DigitallySignedStruct;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

    #[derive(Debug)]
    pub(super) struct AcceptAnyCertificate(CryptoProvider);

    impl AcceptAnyCertificate {
        pub(super) fn new() -> Self {
            AcceptAnyCertificate(ring_provider())
        }
    }

    /// *ring*'s provider, which tonic's `tls-ring` feature (the one this crate
    /// uses) makes every connection with when the process installed no
    /// default provider: the verifier checks handshake signatures with its
    /// algorithms, the same ones the handshake uses. rustls 0.23.48 deprecates
    /// it (no post-quantum key exchange) in favour of aws-lc-rs; moving off it
    /// is moving tonic's TLS to `tls-aws-lc`, a change of crypto backend of its
    /// own, not of this verifier.
    #[allow(deprecated)]
    fn ring_provider() -> CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    impl ServerCertVerifier for AcceptAnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}
