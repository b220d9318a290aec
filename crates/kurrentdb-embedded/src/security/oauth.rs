//! Bearer access tokens (JWTs), checked as KurrentDB's OAuth authentication
//! checks them (`OAuthAuthenticationPlugin` of its `KurrentDB.Auth.OAuth`),
//! and, for development, a signing key that mints them.
//!
//! What KurrentDB's plugin checks, and so what is checked here:
//! - the signature, by one of the identity provider's keys (RSA only: its
//!   `ValidSigningAlgorithms` are RS256/384/512 and PS256/384/512); the key
//!   whose `kid` the token names, else each key in turn;
//! - the audience (`Audience`; always: `ValidateAudience = true`), and the
//!   issuer (`Issuer`) unless `DisableIssuerValidation`;
//! - the lifetime: an expiry is required (`RequireExpirationTime`), and the
//!   token must be past its `nbf` and before its `exp`, give or take the
//!   clock skew (.NET's `TokenValidationParameters.ClockSkew`, five minutes
//!   unless changed);
//! - the roles: the `role` and `roles` claims (a string or an array of
//!   strings), which .NET's JWT handler maps to role claims, are the caller's
//!   roles (what stream ACLs name, `$admins`, `$ops`); the caller's name is
//!   the `unique_name` claim (mapped to the name claim), else the subject
//!   (`sub`), which then names the caller in logs only.
//!
//! A token refused by these checks ends the call with `UNAUTHENTICATED`
//! "Unauthenticated"; one that is not a JWT at all (its `ReadJwtToken`
//! throws, which the plugin reports as an error, not a refusal) with
//! `UNKNOWN` "Internal server error", as KurrentDB's `AuthenticationMiddleware`
//! answers an authentication error.
//!
//! KurrentDB fetches the keys from the identity provider's discovery
//! document; this server, which makes no outgoing connection, takes them from
//! a JWKS document or a PEM public key ([`SigningKeys`]), or makes a key of
//! its own ([`TokenSigner`]) that mints tokens for tests and local setups.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::principal::AuthenticatedUser;

/// The signing algorithms KurrentDB's OAuth plugin accepts (RSA only).
const ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// .NET's default `ClockSkew`, which KurrentDB's plugin keeps.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// A problem with OAuth keys or tokens: a key that does not parse, a token
/// that cannot be signed, a server with no signing key to mint with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError(String);

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OAuthError {}

impl OAuthError {
    pub(crate) fn new(message: &str) -> OAuthError {
        OAuthError(message.to_owned())
    }
}

impl From<OAuthError> for std::io::Error {
    fn from(e: OAuthError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

fn error(what: &str, e: impl fmt::Display) -> OAuthError {
    OAuthError(format!("{what}: {e}"))
}

/// Makes sure jsonwebtoken has a crypto provider: its own choice when
/// exactly one of its backends is built (ours, `rust_crypto`), else ours,
/// installed (a build that also enables its `aws_lc_rs` has two).
fn crypto() {
    if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    }
}

/// KurrentDB's OAuth authentication settings (its `OAuth` configuration
/// section), for [`ServerOptions::oauth`](crate::ServerOptions::oauth).
///
/// Only a secure server authenticates; an insecure one lets every call
/// through and ignores tokens, as KurrentDB's `--insecure`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthOptions {
    /// The issuer tokens must name (`iss`; KurrentDB's `Issuer`).
    pub issuer: String,
    /// The audience tokens must name (`aud`; KurrentDB's `Audience`).
    pub audience: String,
    /// Accept tokens of any issuer (KurrentDB's `DisableIssuerValidation`;
    /// default false).
    pub disable_issuer_validation: bool,
    /// How far past its expiry (or before its `nbf`) a token is still
    /// accepted ([`DEFAULT_CLOCK_SKEW`], five minutes, as KurrentDB).
    pub clock_skew: Duration,
    /// The keys tokens may be signed with.
    pub keys: SigningKeys,
}

impl OAuthOptions {
    /// Tokens of `issuer` for `audience`, signed by one of `keys`.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        keys: SigningKeys,
    ) -> OAuthOptions {
        OAuthOptions {
            issuer: issuer.into(),
            audience: audience.into(),
            disable_issuer_validation: false,
            clock_skew: DEFAULT_CLOCK_SKEW,
            keys,
        }
    }

    /// For development: a signing key generated now (see [`TokenSigner`]),
    /// issuer `kurrentdb-embedded` and audience `kurrentdb`; mint tokens with
    /// [`mint_token`](Self::mint_token) or
    /// [`EmbeddedServer::mint_token`](crate::EmbeddedServer::mint_token).
    pub fn dev() -> Result<OAuthOptions, OAuthError> {
        Ok(OAuthOptions::new(
            "kurrentdb-embedded",
            "kurrentdb",
            SigningKeys::from_signer(TokenSigner::generate()?),
        ))
    }

    /// The claims of a token for `subject` in `roles`, of these options'
    /// issuer and audience, valid from now for `lifetime`.
    pub fn claims(&self, subject: &str, roles: &[&str], lifetime: Duration) -> TokenClaims {
        TokenClaims::new(subject, roles, &self.issuer, &self.audience, lifetime)
    }

    /// A token for `subject` in `roles`, valid from now for `lifetime`,
    /// signed by the keys' [`TokenSigner`]; an error when the keys have none
    /// (keys given as a JWKS or a public key cannot sign).
    pub fn mint_token(
        &self,
        subject: &str,
        roles: &[&str],
        lifetime: Duration,
    ) -> Result<String, OAuthError> {
        let signer = self.keys.signer().ok_or_else(|| {
            OAuthError("no signing key: the OAuth keys were given as public keys".to_owned())
        })?;
        signer.sign(&self.claims(subject, roles, lifetime))
    }

    /// The checks these options make, ready to run on each call.
    pub(crate) fn checker(&self) -> TokenChecker {
        crypto();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = ALGORITHMS.to_vec();
        validation.leeway = self.clock_skew.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_audience(&[&self.audience]);
        let mut required = vec!["exp", "aud"];
        if self.disable_issuer_validation {
            validation.iss = None;
        } else {
            validation.set_issuer(&[&self.issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        TokenChecker {
            keys: self.keys.keys.clone(),
            validation,
        }
    }
}

/// The keys that may sign tokens: from a JWKS document (the identity
/// provider's `jwks_uri` content), a PEM public key, or a [`TokenSigner`].
#[derive(Clone)]
pub struct SigningKeys {
    /// Each key, with its `kid` when it has one.
    keys: Arc<Vec<(Option<String>, DecodingKey)>>,
    signer: Option<TokenSigner>,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<_> = self.keys.iter().map(|(kid, _)| kid).collect();
        f.debug_struct("SigningKeys")
            .field("key_ids", &ids)
            .field("signer", &self.signer.is_some())
            .finish()
    }
}

impl SigningKeys {
    /// The RSA keys of a JWKS document (`{"keys": [...]}`); other keys are
    /// left out, as KurrentDB uses RSA keys only. An error when the document
    /// does not parse or has no RSA key.
    pub fn from_jwks(json: &str) -> Result<SigningKeys, OAuthError> {
        crypto();
        let set: JwkSet = serde_json::from_str(json).map_err(|e| error("invalid JWKS", e))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            if let AlgorithmParameters::RSA(_) = jwk.algorithm {
                let key = DecodingKey::from_jwk(jwk).map_err(|e| error("invalid JWKS key", e))?;
                keys.push((jwk.common.key_id.clone(), key));
            }
        }
        if keys.is_empty() {
            return Err(OAuthError("the JWKS has no RSA key".to_owned()));
        }
        Ok(SigningKeys {
            keys: Arc::new(keys),
            signer: None,
        })
    }

    /// An RSA public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), which
    /// checks tokens whatever `kid` they name.
    pub fn from_public_key_pem(pem: &str) -> Result<SigningKeys, OAuthError> {
        crypto();
        let key = DecodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| error("invalid RSA public key", e))?;
        Ok(SigningKeys {
            keys: Arc::new(vec![(None, key)]),
            signer: None,
        })
    }

    /// The public key of `signer`, which can also mint tokens.
    pub fn from_signer(signer: TokenSigner) -> SigningKeys {
        SigningKeys {
            keys: Arc::new(vec![(Some(signer.key_id.clone()), signer.decoding.clone())]),
            signer: Some(signer),
        }
    }

    /// The signer these keys were made from, if any.
    pub fn signer(&self) -> Option<&TokenSigner> {
        self.signer.as_ref()
    }
}

/// An RSA key that signs tokens (RS256), for development and tests: what an
/// identity provider does, without one. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct TokenSigner {
    key_id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
    private_key_pem: Arc<str>,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("key_id", &self.key_id)
            .field("private_key", &"<hidden>")
            .finish()
    }
}

impl TokenSigner {
    /// A new 2048-bit RSA key.
    pub fn generate() -> Result<TokenSigner, OAuthError> {
        use rsa::Generate as _;
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let key = rsa::PrivateKey::try_generate().map_err(|e| error("no randomness", e))?;
        let der = key
            .to_pkcs1_der()
            .map_err(|e| error("cannot encode the key", e))?;
        Self::from_private_key_pem(&pem("RSA PRIVATE KEY", der.as_bytes()))
    }

    /// The key in `pem` (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`),
    /// such as one [`private_key_pem`](Self::private_key_pem) wrote.
    pub fn from_private_key_pem(pem: &str) -> Result<TokenSigner, OAuthError> {
        crypto();
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| error("invalid RSA private key", e))?;
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
            .map_err(|e| error("invalid RSA private key", e))?;
        let key_id = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| error("invalid RSA private key", e))?;
        jwk.common.key_id = Some(key_id.clone());
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| error("invalid RSA key", e))?;
        Ok(TokenSigner {
            key_id,
            encoding,
            decoding,
            jwk,
            private_key_pem: pem.into(),
        })
    }

    /// The key's id (`kid`): its JWK thumbprint (SHA-256, RFC 7638).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The private key, PEM: a secret, to keep where only token minters read.
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }

    /// The public key as a JWKS document, for a server (or a real KurrentDB's
    /// identity provider setup) to check this signer's tokens with.
    pub fn jwks(&self) -> String {
        let set = JwkSet {
            keys: vec![self.jwk.clone()],
        };
        serde_json::to_string(&set).expect("a JWKS serializes")
    }

    /// A token with `claims`, signed RS256 and naming this key's `kid`.
    pub fn sign(&self, claims: &TokenClaims) -> Result<String, OAuthError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key_id.clone());
        let seconds = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let payload = Payload {
            sub: &claims.subject,
            iss: &claims.issuer,
            aud: &claims.audience,
            role: &claims.roles,
            iat: seconds(claims.issued_at),
            nbf: claims.not_before.map(seconds),
            exp: seconds(claims.expires_at),
        };
        jsonwebtoken::encode(&header, &payload, &self.encoding)
            .map_err(|e| error("cannot sign the token", e))
    }
}

/// PEM text of `der` under `label`.
fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// What a minted token says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenClaims {
    /// `sub`: who the token is for.
    pub subject: String,
    /// `role`: the caller's roles (`$admins`, `$ops`, or what stream ACLs
    /// name).
    pub roles: Vec<String>,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// `iat`.
    pub issued_at: SystemTime,
    /// `nbf`, when set.
    pub not_before: Option<SystemTime>,
    /// `exp`.
    pub expires_at: SystemTime,
}

impl TokenClaims {
    /// Claims for `subject` in `roles`, of `issuer` for `audience`, valid
    /// from now for `lifetime` (change the fields for other cases: a token
    /// already expired, one not yet valid).
    pub fn new(
        subject: &str,
        roles: &[&str],
        issuer: &str,
        audience: &str,
        lifetime: Duration,
    ) -> TokenClaims {
        let now = SystemTime::now();
        TokenClaims {
            subject: subject.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            issued_at: now,
            not_before: None,
            expires_at: now.checked_add(lifetime).unwrap_or(now),
        }
    }
}

#[derive(Serialize)]
struct Payload<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    role: &'a [String],
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    exp: u64,
}

/// The strings of a claim that is one string or an array (other values
/// count for nothing).
fn strings(value: Option<serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::String(s)) => vec![s],
        Some(serde_json::Value::Array(values)) => values
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The claims read from a valid token.
#[derive(Deserialize)]
struct Identity {
    #[serde(default)]
    sub: Option<serde_json::Value>,
    #[serde(default)]
    unique_name: Option<serde_json::Value>,
    #[serde(default)]
    role: Option<serde_json::Value>,
    #[serde(default)]
    roles: Option<serde_json::Value>,
}

/// What a bearer token is worth.
#[derive(Debug)]
pub(crate) enum TokenCheck {
    /// A valid token, and who it names.
    Valid(AuthenticatedUser),
    /// Refused: the call ends with `UNAUTHENTICATED`.
    Refused,
    /// Not a JWT: the call ends with `UNKNOWN` (see the module docs).
    Malformed,
}

/// The checks of an [`OAuthOptions`].
#[derive(Clone)]
pub(crate) struct TokenChecker {
    keys: Arc<Vec<(Option<String>, DecodingKey)>>,
    validation: Validation,
}

impl fmt::Debug for TokenChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenChecker")
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// Whether `token` has a JWT's shape: three dot-separated parts, the first
/// two base64url JSON objects (what .NET's `ReadJwtToken` needs).
fn is_jwt(token: &str) -> bool {
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    const URL: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let parts: Vec<&str> = token.split('.').collect();
    let object = |part: &str| {
        URL.decode(part).ok().is_some_and(|bytes| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).is_ok()
        })
    };
    parts.len() == 3 && object(parts[0]) && object(parts[1])
}

impl TokenChecker {
    /// Checks `token` (the text after `Bearer `). The work is bounded: one
    /// parse, and one RSA verification per configured key at most (the key
    /// the token's `kid` names, else each).
    pub(crate) fn check(&self, token: &str) -> TokenCheck {
        if !is_jwt(token) {
            return TokenCheck::Malformed;
        }
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return TokenCheck::Refused;
        };
        let named: Vec<_> = self
            .keys
            .iter()
            .filter(|(kid, _)| kid.is_some() && *kid == header.kid)
            .collect();
        let candidates = if named.is_empty() {
            self.keys.iter().collect()
        } else {
            named
        };
        for (_, key) in candidates {
            match jsonwebtoken::decode::<Identity>(token, key, &self.validation) {
                Ok(data) => return TokenCheck::Valid(identity(data.claims)),
                Err(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    continue;
                }
                Err(_) => return TokenCheck::Refused,
            }
        }
        TokenCheck::Refused
    }
}

/// The caller a valid token names.
fn identity(claims: Identity) -> AuthenticatedUser {
    let text = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::to_owned));
    let mut groups = strings(claims.role);
    groups.extend(strings(claims.roles));
    match text(claims.unique_name) {
        Some(name) => AuthenticatedUser {
            login: name,
            groups,
            named: true,
        },
        None => AuthenticatedUser {
            login: text(claims.sub).unwrap_or_default(),
            groups,
            named: false,
        },
    }
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;
