//! Call credentials: a username and password (HTTP basic authentication) or a
//! bearer token (an OAuth/OIDC access token), sent as the `authorization`
//! header of each call.

use std::fmt;

use base64::Engine as _;
use tonic::metadata::{Ascii, MetadataValue};

use crate::error::{Error, Result};

/// Who a call is made as: a KurrentDB user (basic authentication) or the
/// holder of an access token (bearer authentication, for a server with
/// KurrentDB's OAuth authentication).
///
/// Give them for one call with the `credentials` option every operation
/// has, or for every call of a client with the connection string's user info
/// or [`ConnectionSettings::with_bearer_token`](crate::ConnectionSettings::with_bearer_token).
/// They are sent whether or not the connection uses TLS: over `tls=false`
/// they travel in clear text, so only do that on a network you trust (a
/// KurrentDB started with `--insecure` ignores them and lets every call
/// through).
///
/// `Debug` never shows the password or the token:
///
/// ```
/// use kurrentdbclient::Credentials;
/// let basic = Credentials::new("admin", "changeit");
/// assert!(!format!("{basic:?}").contains("changeit"));
/// let bearer = Credentials::bearer("eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl");
/// assert!(!format!("{bearer:?}").contains("eyJ"));
/// ```
///
/// # Expiring tokens
///
/// The server checks a token when a call starts, never again during the
/// call: a subscription (catch-up or persistent) started with a valid token
/// keeps receiving events after the token expires, as KurrentDB does (its
/// `AuthenticationMiddleware` authenticates each gRPC call once, before the
/// call runs, and the principal it finds stays the call's). Every call
/// started after the expiry, including a subscription's resubscription after
/// a lost connection, fails with [`Error::Unauthenticated`]: give such
/// calls a fresh token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A username and password, sent as `authorization: Basic
    /// base64(username:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An access token (typically a JWT from an OAuth/OIDC identity
    /// provider), sent as `authorization: Bearer <token>`.
    Bearer {
        /// The token, as the identity provider issued it.
        token: String,
    },
}

impl Credentials {
    /// Basic credentials: `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Basic credentials (the same as [`new`](Self::new), named as the
    /// official clients' `Authentication::basic`).
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::new(username, password)
    }

    /// Bearer credentials: an access token, sent as it is.
    pub fn bearer(token: impl Into<String>) -> Self {
        Credentials::Bearer {
            token: token.into(),
        }
    }

    /// The user name of basic credentials; `None` for a bearer token.
    pub fn username(&self) -> Option<&str> {
        match self {
            Credentials::Basic { username, .. } => Some(username),
            Credentials::Bearer { .. } => None,
        }
    }

    /// The value of the `authorization` header: `Basic base64(user:pass)` or
    /// `Bearer <token>`, marked sensitive (kept out of tonic's and h2's
    /// logs). A token that cannot be a header value (empty, or with
    /// characters other than visible ASCII) is [`Error::InvalidBearerToken`].
    pub(crate) fn header_value(&self) -> Result<MetadataValue<Ascii>> {
        let text = match self {
            Credentials::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                format!("Basic {encoded}")
            }
            Credentials::Bearer { token } => {
                if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Error::InvalidBearerToken);
                }
                format!("Bearer {token}")
            }
        };
        let mut value: MetadataValue<Ascii> =
            text.parse().map_err(|_| Error::InvalidBearerToken)?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<hidden>")
                .finish(),
            Credentials::Bearer { .. } => f
                .debug_struct("Bearer")
                .field("token", &"<hidden>")
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_header() {
        let value = Credentials::new("admin", "changeit")
            .header_value()
            .unwrap();
        assert_eq!(value.to_str().unwrap(), "Basic YWRtaW46Y2hhbmdlaXQ=");
        assert!(value.is_sensitive());
    }

    #[test]
    fn bearer_auth_header_is_the_token_verbatim() {
        let value = Credentials::bearer("abc.def-_~+/=.ghi")
            .header_value()
            .unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer abc.def-_~+/=.ghi");
        assert!(value.is_sensitive());
    }

    #[test]
    fn tokens_that_cannot_be_sent_are_named_errors() {
        for bad in ["", "a b", "token\nleak", "tök\u{e9}n", "a\tb"] {
            let r = Credentials::bearer(bad).header_value();
            assert!(
                matches!(r, Err(Error::InvalidBearerToken)),
                "{bad:?}: {r:?}"
            );
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let basic = format!("{:?}", Credentials::new("admin", "changeit"));
        assert_eq!(
            basic,
            r#"Basic { username: "admin", password: "<hidden>" }"#
        );
        let bearer = format!("{:?}", Credentials::bearer("s3cr3t.t0k3n"));
        assert_eq!(bearer, r#"Bearer { token: "<hidden>" }"#);
        assert_eq!(Credentials::bearer("t").username(), None);
        assert_eq!(Credentials::basic("u", "p").username(), Some("u"));
    }
}
