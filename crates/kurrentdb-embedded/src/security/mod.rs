//! How the server is secured: [`Security`] (KurrentDB's `--insecure`, `--dev`
//! and own-certificate modes), the TLS material each mode serves with, and
//! the bearer tokens ([`OAuthOptions`]) a secure server accepts beside users
//! and user certificates.
//!
//! KurrentDB is secure unless started with `--insecure`: a node started with
//! neither `--insecure`, `--dev` nor a certificate refuses to start with "A
//! certificate is required unless insecure mode (--insecure) is set." (its
//! `ClusterVNodeOptionsExtensions.LoadNodeCertificate`). The binary does the
//! same; the library's [`ServerOptions`](crate::ServerOptions) default stays
//! [`Security::Insecure`], because tests and the quickstart start a server per
//! test and want nothing to trust.

pub(crate) mod auth;
pub(crate) mod authz;
mod oauth;
pub(crate) mod principal;
mod tls;

pub use oauth::{
    DEFAULT_CLOCK_SKEW, OAuthError, OAuthOptions, SigningKeys, TokenClaims, TokenSigner,
};
pub use tls::{DevCertificates, ServerCertificates, TlsError};

/// How a server is secured (KurrentDB's security modes).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Security {
    /// `--insecure`: plain HTTP/2, no TLS (connect with `?tls=false`). The
    /// library's default.
    #[default]
    Insecure,
    /// `--dev`: TLS with a development CA and a server certificate for
    /// `localhost` and `127.0.0.1` generated in-process at start. The CA is
    /// available from [`EmbeddedServer::ca_pem`](crate::EmbeddedServer::ca_pem)
    /// and written to a file that [`connection_string`] names as `tlsCaFile`.
    ///
    /// KurrentDB's dev mode makes one self-signed certificate; a CA and a
    /// certificate signed by it serve clients the same way (they trust the
    /// one file) and let the CA also sign user certificates
    /// ([`DevCertificates::user_certificate`]).
    ///
    /// [`connection_string`]: crate::EmbeddedServer::connection_string
    Dev,
    /// TLS with the given certificates (KurrentDB's `--certificate-file`,
    /// `--certificate-private-key-file`, `--trusted-root-certificates-path`).
    Certificates(ServerCertificates),
}

impl Security {
    /// Whether the server speaks TLS.
    pub fn is_secure(&self) -> bool {
        !matches!(self, Security::Insecure)
    }
}
