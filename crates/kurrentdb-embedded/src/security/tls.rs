//! The TLS material a secure server serves with: [`ServerCertificates`] (own
//! certificates, read from KurrentDB's certificate options) and
//! [`DevCertificates`] (generated in-process for `--dev` and tests, with
//! rcgen: nobody needs the `openssl` command).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// TLS material that cannot be used: a file that cannot be read, PEM that
/// holds no certificate or key, or a certificate that cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError(String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

impl From<TlsError> for std::io::Error {
    fn from(e: TlsError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// The extensions KurrentDB reads trusted root certificates from in a
/// `--trusted-root-certificates-path` directory (`CertificateUtils.LoadAllCertificates`).
const ROOT_EXTENSIONS: [&str; 5] = ["crt", "cert", "cer", "pem", "der"];

/// A server's own certificates: its certificate chain and private key, and the
/// roots it trusts for client (user) certificates.
#[derive(Clone)]
pub struct ServerCertificates {
    certificate_chain_pem: String,
    private_key_pem: String,
    trusted_roots_pem: String,
}

impl fmt::Debug for ServerCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("ServerCertificates")
            .field("certificate_chain_pem", &self.certificate_chain_pem)
            .field("trusted_roots_pem", &self.trusted_roots_pem)
            .finish_non_exhaustive()
    }
}

/// The certificates (DER) in `pem`, or an error naming `what` when there are
/// none or one cannot be decoded.
fn certificates(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError(format!("{what}: invalid PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(TlsError(format!("{what}: no PEM certificate found")));
    }
    Ok(certificates)
}

impl ServerCertificates {
    /// The certificates from PEM text: the server's certificate (followed by
    /// any intermediates), its private key (PKCS#8, PKCS#1 or SEC1), and the
    /// trusted root certificates (one or more).
    pub fn from_pem(
        certificate_chain_pem: impl Into<String>,
        private_key_pem: impl Into<String>,
        trusted_roots_pem: impl Into<String>,
    ) -> Result<ServerCertificates, TlsError> {
        let certificates_pem = ServerCertificates {
            certificate_chain_pem: certificate_chain_pem.into(),
            private_key_pem: private_key_pem.into(),
            trusted_roots_pem: trusted_roots_pem.into(),
        };
        certificates(&certificates_pem.certificate_chain_pem, "certificate")?;
        certificates(
            &certificates_pem.trusted_roots_pem,
            "trusted root certificates",
        )?;
        PrivateKeyDer::from_pem_slice(certificates_pem.private_key_pem.as_bytes())
            .map_err(|e| TlsError(format!("certificate private key: no PEM private key: {e}")))?;
        Ok(certificates_pem)
    }

    /// The certificates from files, as KurrentDB's `--certificate-file`,
    /// `--certificate-private-key-file` and `--trusted-root-certificates-path`
    /// give them (PEM). The trusted roots are every `.crt`, `.cert`, `.cer`,
    /// `.pem` (and `.der`, refused: PEM only here) file of the directory, as
    /// KurrentDB loads them, or the one file when the path is a file.
    pub fn from_files(
        certificate_file: &Path,
        private_key_file: &Path,
        trusted_root_certificates_path: &Path,
    ) -> Result<ServerCertificates, TlsError> {
        let read = |path: &Path, what: &str| {
            std::fs::read_to_string(path)
                .map_err(|e| TlsError(format!("cannot read {what} {}: {e}", path.display())))
        };
        let roots = if trusted_root_certificates_path.is_dir() {
            let entries = std::fs::read_dir(trusted_root_certificates_path).map_err(|e| {
                TlsError(format!(
                    "cannot read trusted root certificates path {}: {e}",
                    trusted_root_certificates_path.display()
                ))
            })?;
            let mut paths: Vec<_> = entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| ROOT_EXTENSIONS.contains(&e))
                })
                .collect();
            paths.sort();
            let mut roots = String::new();
            for path in paths {
                roots.push_str(&read(&path, "trusted root certificate file")?);
                roots.push('\n');
            }
            if roots.is_empty() {
                // KurrentDB's message (`LoadTrustedRootCertificates`).
                return Err(TlsError(format!(
                    "No trusted root certificate files were loaded from the specified path: {}",
                    trusted_root_certificates_path.display()
                )));
            }
            roots
        } else {
            read(trusted_root_certificates_path, "trusted root certificates")?
        };
        ServerCertificates::from_pem(
            read(certificate_file, "certificate file")?,
            read(private_key_file, "certificate private key file")?,
            roots,
        )
    }

    /// The server's certificate chain (PEM).
    pub fn certificate_chain_pem(&self) -> &str {
        &self.certificate_chain_pem
    }

    /// The trusted root certificates (PEM).
    pub fn trusted_roots_pem(&self) -> &str {
        &self.trusted_roots_pem
    }

    /// The rustls configuration the node's listener serves with: the
    /// server's identity, and client certificates verified against the
    /// trusted roots when a client sends one (optional: basic credentials
    /// need none). ALPN offers `h2` and `http/1.1`, so one TLS port serves
    /// gRPC and HTTP/2 and HTTP/1.1 clients alike, as Kestrel's does
    /// (`HttpProtocols.Http1AndHttp2`); rustls refuses a client whose ALPN
    /// list has neither. Always the ring provider, as the client's.
    pub(crate) fn rustls_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        // rustls 0.23.48 deprecates ring's provider (no post-quantum key
        // exchange); tonic's `tls-ring`, which the client uses, makes every
        // connection with ring anyway. Moving off ring means moving tonic
        // to `tls-aws-lc`: a decision of its own (see `node::serve`).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for root in certificates(&self.trusted_roots_pem, "trusted root certificates")? {
            roots
                .add(root)
                .map_err(|e| TlsError(format!("trusted root certificates: {e}")))?;
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.into(),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError(format!("trusted root certificates: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(self.private_key_pem.as_bytes())
            .map_err(|e| TlsError(format!("certificate private key: no PEM private key: {e}")))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("TLS configuration: {e}")))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                certificates(&self.certificate_chain_pem, "certificate")?,
                key,
            )
            .map_err(|e| TlsError(format!("certificate: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A development CA and a server certificate signed by it for `localhost`
/// and `127.0.0.1`, generated in-process (ECDSA P-256). Clients trust the CA
/// ([`DevCertificates::ca_pem`]); the CA also signs user certificates.
#[derive(Clone)]
pub struct DevCertificates {
    ca_params: CertificateParams,
    ca_key_pem: String,
    server: ServerCertificates,
}

impl fmt::Debug for DevCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevCertificates")
            .field("ca_pem", &self.server.trusted_roots_pem)
            .finish_non_exhaustive()
    }
}

fn generation_error(e: rcgen::Error) -> TlsError {
    TlsError(format!("cannot generate a certificate: {e}"))
}

/// A server certificate for `localhost` and `127.0.0.1` with a new key,
/// signed by the CA (`ca_pem` is its certificate, the trusted root).
fn issue_node_certificate(
    ca_params: &CertificateParams,
    ca_key: &KeyPair,
    ca_pem: String,
) -> Result<ServerCertificates, TlsError> {
    let key = KeyPair::generate().map_err(generation_error)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(generation_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    // The key usages of KurrentDB's node certificates (es-gencert-cli), which
    // its user-certificate check tells apart from user certificates by the
    // server authentication usage.
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let issuer = Issuer::from_params(ca_params, ca_key);
    let certificate = params.signed_by(&key, &issuer).map_err(generation_error)?;
    Ok(ServerCertificates {
        certificate_chain_pem: certificate.pem(),
        private_key_pem: key.serialize_pem(),
        trusted_roots_pem: ca_pem,
    })
}

impl DevCertificates {
    /// Generates a new CA and server certificate.
    pub fn generate() -> Result<DevCertificates, TlsError> {
        let ca_key = KeyPair::generate().map_err(generation_error)?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(generation_error)?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "KurrentDB embedded dev CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).map_err(generation_error)?;
        let server = issue_node_certificate(&ca_params, &ca_key, ca.pem())?;
        Ok(DevCertificates {
            server,
            ca_key_pem: ca_key.serialize_pem(),
            ca_params,
        })
    }

    /// Another node certificate for `localhost` and `127.0.0.1` signed by the
    /// same CA, with its own key: one per node of a dev cluster.
    pub(crate) fn node_certificates(&self) -> Result<ServerCertificates, TlsError> {
        let ca_key = KeyPair::from_pem(&self.ca_key_pem).map_err(generation_error)?;
        issue_node_certificate(&self.ca_params, &ca_key, self.ca_pem().to_owned())
    }

    /// The CA certificate (PEM) clients trust (`tlsCaFile`).
    pub fn ca_pem(&self) -> &str {
        &self.server.trusted_roots_pem
    }

    /// The server's certificates (its certificate and key, and the CA as the
    /// trusted root for user certificates).
    pub fn server(&self) -> &ServerCertificates {
        &self.server
    }

    /// The server certificate's private key (PEM), to write the dev
    /// certificate to a file (the binary's `--dev-cert-path`).
    pub fn server_private_key_pem(&self) -> &str {
        &self.server.private_key_pem
    }

    /// A user certificate for `login` signed by the CA: its common name is the
    /// login, as KurrentDB's X.509 user authentication reads it. Returns the
    /// certificate and its private key (both PEM), for a client's
    /// `userCertFile` and `userKeyFile`.
    pub fn user_certificate(&self, login: &str) -> Result<(String, String), TlsError> {
        let ca_key = KeyPair::from_pem(&self.ca_key_pem).map_err(generation_error)?;
        let key = KeyPair::generate().map_err(generation_error)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generation_error)?;
        params.distinguished_name.push(DnType::CommonName, login);
        // What KurrentDB requires of a user certificate (see
        // `security::auth::user_certificate_login`).
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let issuer = Issuer::from_params(&self.ca_params, &ca_key);
        let certificate = params.signed_by(&key, &issuer).map_err(generation_error)?;
        Ok((certificate.pem(), key.serialize_pem()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_certificates_parse_and_chain_to_their_ca() {
        let dev = DevCertificates::generate().unwrap();
        assert_eq!(certificates(dev.ca_pem(), "ca").unwrap().len(), 1);
        let again = ServerCertificates::from_pem(
            dev.server().certificate_chain_pem(),
            dev.server.private_key_pem.clone(),
            dev.ca_pem(),
        )
        .unwrap();
        assert_eq!(again.trusted_roots_pem(), dev.ca_pem());
        let node = dev.node_certificates().unwrap();
        assert_eq!(node.trusted_roots_pem(), dev.ca_pem());
        assert_ne!(
            node.certificate_chain_pem(),
            dev.server().certificate_chain_pem()
        );
        let (cert, key) = dev.user_certificate("ops").unwrap();
        assert!(cert.contains("BEGIN CERTIFICATE") && key.contains("PRIVATE KEY"));
        assert!(
            !format!("{dev:?}{again:?}").contains("PRIVATE KEY"),
            "keys never printed"
        );
    }

    #[test]
    fn bad_material_is_a_named_error() {
        let dev = DevCertificates::generate().unwrap();
        let key = dev.server.private_key_pem.clone();
        let e = ServerCertificates::from_pem("garbage", key.clone(), dev.ca_pem()).unwrap_err();
        assert_eq!(e.to_string(), "certificate: no PEM certificate found");
        let e = ServerCertificates::from_pem(dev.ca_pem(), "", dev.ca_pem()).unwrap_err();
        assert!(e.to_string().starts_with("certificate private key:"), "{e}");
        let e = ServerCertificates::from_pem(dev.ca_pem(), key, "").unwrap_err();
        assert!(
            e.to_string().starts_with("trusted root certificates:"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("kdb-roots-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = ServerCertificates::from_files(&dir.join("a"), &dir.join("b"), &dir).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("No trusted root certificate files were loaded"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
