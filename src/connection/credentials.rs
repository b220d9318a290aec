//! Call credentials: a username and password sent as an HTTP basic-auth
//! `authorization` header with each call (over TLS only).

use std::fmt;

use base64::Engine as _;
use tonic::metadata::MetadataValue;

/// A username and password for one call, overriding the connection string's user
/// info. Its `Debug` output never shows the password.
///
/// ```
/// use kurrentdbclient::Credentials;
/// let creds = Credentials::new("admin", "changeit");
/// assert!(!format!("{creds:?}").contains("changeit"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl Credentials {
    /// Credentials for `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The value of the `authorization` header: `Basic base64(user:pass)`.
    pub(crate) fn header_value(&self) -> MetadataValue<tonic::metadata::Ascii> {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.password));
        let mut value: MetadataValue<_> = format!("Basic {token}")
            .parse()
            .expect("base64 is always a valid header value");
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_header() {
        let value = Credentials::new("admin", "changeit").header_value();
        assert_eq!(value.to_str().unwrap(), "Basic YWRtaW46Y2hhbmdlaXQ=");
        assert!(value.is_sensitive());
    }
}
