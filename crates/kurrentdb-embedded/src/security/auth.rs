//! Authentication of each call of a secure server, as KurrentDB's
//! `AuthenticationMiddleware` does it for gRPC:
//!
//! - an `authorization` header `Basic base64(login:password)` (or `Bearer`
//!   with the same payload, which KurrentDB's `BasicHttpAuthenticationProvider`
//!   also accepts, for its Flight SQL handshake) names a user; a wrong
//!   password, an unknown user or a disabled one ends the call at once with
//!   `UNAUTHENTICATED` "Unauthenticated";
//! - any other `Bearer` token, on a server with OAuth options, is an access
//!   token checked as KurrentDB's OAuth plugin checks it (`security::oauth`):
//!   a valid one names its caller and roles, one refused ends the call with
//!   `UNAUTHENTICATED` "Unauthenticated", one that is no JWT with `UNKNOWN`
//!   "Internal server error". The check is made once, when the call starts
//!   (KurrentDB's `AuthenticationMiddleware` runs before each gRPC call, and
//!   nothing checks again), so a subscription outlives its token's expiry;
//! - with no such header, an X.509 user certificate the client presented in
//!   the TLS handshake names a user by its common name, as KurrentDB's
//!   `UserCertificateAuthenticationProvider` does (it sits just before the
//!   anonymous provider, so basic credentials win when both are sent): the
//!   user must exist and be enabled, or the call ends with `UNAUTHENTICATED`
//!   (its `InternalAuthenticationProvider` needs no password for a valid
//!   certificate). What counts as a user certificate is [`user_certificate_login`];
//!   the handshake already refused a certificate that does not chain to the
//!   trusted roots, or is outside its validity (KurrentDB's client certificate
//!   validation callback refuses the connection the same way);
//! - anything else (no header, another scheme, a payload that does not
//!   decode, a bearer token on a server without OAuth, no user certificate)
//!   leaves the call anonymous: KurrentDB's last
//!   provider, `AnonymousHttpAuthenticationProvider`, accepts every request.
//!
//! What an anonymous or authenticated caller may do is authorization's
//! business: the caller (`Principal`) goes in the request's extensions for it, in
//! an [`Access`] (`security::authz`).
//! An insecure server ignores credentials, as KurrentDB's `--insecure`.
//!
//! Verifying a password is slow on purpose (PBKDF2), so a verified login is
//! remembered, keyed by the login and a SHA-256 of the password (never the
//! password), with the revision of the user's stream it was verified at: any
//! change to the user (password, disable, delete) moves the revision and the
//! entry no longer counts. The cache is bounded ([`CACHE_LIMIT`]); a miss is
//! verified on tokio's blocking pool, off the async workers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::authz::{Access, Authorizer};
use super::oauth::{TokenCheck, TokenChecker};
use super::principal::{AuthenticatedUser, Principal};
use crate::users::Users;

/// Verified logins remembered at most; the cache is emptied when full.
pub(crate) const CACHE_LIMIT: usize = 1024;

type CacheKey = (String, [u8; 32]);

/// Checks credentials against the users of a store.
#[derive(Debug)]
pub(crate) struct Authenticator {
    users: Users,
    /// What authenticated callers may do (`security::authz`).
    authorizer: Arc<Authorizer>,
    /// The bearer-token checks, on a server with OAuth options.
    tokens: Option<TokenChecker>,
    verified: Mutex<HashMap<CacheKey, (u64, Arc<AuthenticatedUser>)>>,
}

/// The login and password of a basic `authorization` header, or `None`
/// when the header is not one (the call is then anonymous).
fn basic_credentials(header: &http::HeaderValue) -> Option<(String, String)> {
    let text = header.to_str().ok()?;
    let (scheme, payload) = text.trim().split_once(' ')?;
    if scheme != "Basic" && scheme != "Bearer" {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(payload.trim()).ok()?).ok()?;
    let (login, password) = decoded.split_once(':')?;
    Some((login.to_owned(), password.to_owned()))
}

/// The token of a `Bearer` `authorization` header.
fn bearer_token(header: &http::HeaderValue) -> Option<&str> {
    let (scheme, token) = header.to_str().ok()?.trim().split_once(' ')?;
    (scheme == "Bearer").then(|| token.trim())
}

/// The login a client certificate (DER) names when it is a user certificate
/// as KurrentDB tells them apart (`CertificateExtensions` of its
/// `KurrentDB.Auth.UserCertificates`): key usages with digital signature and
/// key encipherment or key agreement, an extended key usage extension with
/// client authentication, and not a node (server) certificate, which has
/// server authentication too (or no extended key usages at all). The login is
/// the subject's common name. `None`: not a user certificate (or no common
/// name), and the call goes on as if no certificate had been sent.
pub(crate) fn user_certificate_login(der: &[u8]) -> Option<String> {
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    let key_usage = certificate.key_usage().ok()??.value;
    let correct_key_usages = key_usage.digital_signature()
        && (key_usage.key_encipherment() || key_usage.key_agreement());
    let extended = certificate.extended_key_usage().ok()??.value;
    if !correct_key_usages || !extended.client_auth || extended.server_auth {
        return None;
    }
    let common_name = certificate.subject().iter_common_name().next()?;
    let login = common_name.as_str().ok()?;
    (!login.is_empty()).then(|| login.to_owned())
}

fn digest(password: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, password.as_bytes()).as_ref());
    out
}

impl Authenticator {
    pub(crate) fn new(
        users: Users,
        authorizer: Arc<Authorizer>,
        tokens: Option<TokenChecker>,
    ) -> Authenticator {
        Authenticator {
            users,
            authorizer,
            tokens,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// What authenticated callers may do.
    pub(crate) fn authorizer(&self) -> &Arc<Authorizer> {
        &self.authorizer
    }

    /// A remembered verification that still holds: `Some(user)`, or `None`
    /// when the password must be verified.
    fn cached(&self, key: &CacheKey) -> Option<Arc<AuthenticatedUser>> {
        let (revision, user) = self.verified.lock().get(key).cloned()?;
        (self.users.revision(&key.0) == Some(revision)).then_some(user)
    }

    /// Verifies the password (slow), remembering a success.
    fn verify(&self, key: CacheKey, password: &str) -> Option<Arc<AuthenticatedUser>> {
        let (details, revision) = self.users.authenticate(&key.0, password)?;
        let user = Arc::new(AuthenticatedUser {
            login: details.login_name,
            groups: details.groups,
            named: true,
        });
        let mut verified = self.verified.lock();
        if verified.len() >= CACHE_LIMIT {
            verified.clear();
        }
        verified.insert(key, (revision, user.clone()));
        Some(user)
    }

    /// The user a user certificate names: `None` when there is no such
    /// user or it is disabled.
    fn certificate_user(&self, login: &str) -> Option<Arc<AuthenticatedUser>> {
        let details = self.users.details(login).ok()?;
        (!details.disabled).then(|| {
            Arc::new(AuthenticatedUser {
                login: details.login_name,
                groups: details.groups,
                named: true,
            })
        })
    }

    /// The principal of a call with these headers, over a connection whose
    /// client presented `certificate` (its leaf, DER): `Err` when its
    /// credentials are refused.
    pub(crate) async fn principal(
        self: Arc<Self>,
        headers: &http::HeaderMap,
        certificate: Option<&[u8]>,
    ) -> Result<Principal, Refusal> {
        let header = headers.get("authorization");
        let Some((login, password)) = header.and_then(basic_credentials) else {
            if let (Some(tokens), Some(token)) = (&self.tokens, header.and_then(bearer_token)) {
                // Cheap enough for an async worker: one parse and one RSA
                // verification (public exponent) per configured key at most.
                return match tokens.check(token) {
                    TokenCheck::Valid(user) => Ok(Principal::User(Arc::new(user))),
                    TokenCheck::Refused => Err(Refusal::Unauthenticated),
                    TokenCheck::Malformed => Err(Refusal::Error),
                };
            }
            return match certificate.and_then(user_certificate_login) {
                Some(login) => self
                    .certificate_user(&login)
                    .map(Principal::User)
                    .ok_or(Refusal::Unauthenticated),
                None => Ok(Principal::Anonymous),
            };
        };
        let key = (login, digest(&password));
        if let Some(user) = self.cached(&key) {
            return Ok(Principal::User(user));
        }
        tokio::task::spawn_blocking(move || self.verify(key, &password))
            .await
            .ok()
            .flatten()
            .map(Principal::User)
            .ok_or(Refusal::Unauthenticated)
    }
}

/// Why a call's credentials were not accepted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Refused: `UNAUTHENTICATED` "Unauthenticated".
    Unauthenticated,
    /// The provider failed (a bearer token that is no JWT): `UNKNOWN`
    /// "Internal server error", KurrentDB's answer to an authentication
    /// error (`AuthenticationMiddleware.HandleAsGrpcAsync`).
    Error,
}

impl Refusal {
    fn status(&self) -> tonic::Status {
        match self {
            Refusal::Unauthenticated => tonic::Status::unauthenticated("Unauthenticated"),
            Refusal::Error => tonic::Status::unknown("Internal server error"),
        }
    }
}

/// A service whose calls are authenticated first (see the module docs);
/// with no authenticator (an insecure server) calls pass untouched.
#[derive(Debug, Clone)]
pub(crate) struct Authenticate<S> {
    pub(crate) authenticator: Option<Arc<Authenticator>>,
    pub(crate) inner: S,
}

impl<S: NamedService> NamedService for Authenticate<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower_service::Service<http::Request<B>> for Authenticate<S>
where
    S: tower_service::Service<
            http::Request<B>,
            Response = http::Response<Body>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let Some(authenticator) = self.authenticator.clone() else {
            return Box::pin(self.inner.call(request));
        };
        // The service polled ready is the one to call; a clone takes its
        // place (tower's documented pattern for calling from a future).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // The client certificates tonic's TLS server saw in the handshake.
        let certificates = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(TlsConnectInfo::peer_certs);
        Box::pin(async move {
            let authorizer = authenticator.authorizer.clone();
            let leaf = certificates.as_deref().and_then(|c| c.first());
            match authenticator
                .principal(request.headers(), leaf.map(|c| c.as_ref()))
                .await
            {
                Ok(principal) => {
                    request.extensions_mut().insert(Access {
                        principal,
                        authorizer,
                    });
                    inner.call(request).await
                }
                Err(refusal) => Ok(refusal.status().into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_headers_parse_as_kurrentdb_reads_them() {
        let header = |s: &str| http::HeaderValue::from_str(s).unwrap();
        let admin = Some(("admin".to_owned(), "changeit".to_owned()));
        assert_eq!(
            basic_credentials(&header("Basic YWRtaW46Y2hhbmdlaXQ=")),
            admin
        );
        assert_eq!(
            basic_credentials(&header("Bearer YWRtaW46Y2hhbmdlaXQ=")),
            admin
        );
        // A colon in the password stays in it.
        let colon = STANDARD.encode("ops:a:b");
        assert_eq!(
            basic_credentials(&header(&format!("Basic {colon}"))),
            Some(("ops".to_owned(), "a:b".to_owned()))
        );
        for anonymous in [
            "",
            "Basic",
            "Basic !!!",
            "Digest YWRtaW46Y2hhbmdlaXQ=",
            "Basic YWRtaW4=",
        ] {
            assert_eq!(basic_credentials(&header(anonymous)), None, "{anonymous:?}");
        }
    }

    #[test]
    fn user_certificates_are_told_from_node_certificates_as_kurrentdb_does() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let der = |pem: &str| CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        let dev = super::super::DevCertificates::generate().unwrap();
        let (user, _) = dev.user_certificate("ops").unwrap();
        assert_eq!(user_certificate_login(&der(&user)), Some("ops".to_owned()));
        // A node certificate (server and client authentication) is no user's.
        let node = der(dev.server().certificate_chain_pem());
        assert_eq!(user_certificate_login(&node), None);
        // Nor is the CA's (no client authentication), nor garbage.
        assert_eq!(user_certificate_login(&der(dev.ca_pem())), None);
        assert_eq!(user_certificate_login(b"not a certificate"), None);
        assert_eq!(user_certificate_login(&[]), None);
    }
}
