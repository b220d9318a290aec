//! Connection settings, parsed from a KurrentDB connection string.
//!
//! A connection string looks like
//!
//! ```text
//! kurrentdb://user:pass@node1.example.com:2113,node2.example.com:2113?tls=true&nodePreference=follower
//! kurrentdb+discover://user:pass@cluster1.example.com:2113?gossipTimeout=10
//! ```
//!
//! Parse one with [`str::parse`] (or [`ConnectionSettings::from_str`]) to get a
//! [`ConnectionSettings`]; a malformed string gives a [`ConnectionStringError`]
//! that says what is wrong and where, without ever repeating the password.
//!
//! The module is laid out as the parse goes, each file importing only those
//! below it:
//! - this file: [`ConnectionSettings`], with its accessors, the defaults of
//!   the options a string leaves out, and its canonical (password-masking)
//!   display;
//! - `parse`: the scheme, user info and endpoints;
//! - `query`: the `?name=value` options, and [`NodePreference`];
//! - `text`: percent-encoding both ways, and digits;
//! - `tests`: the connection-string test suite.
//!
//! [`Endpoint`] and the errors ([`ConnectionStringError`], [`UserInfoIssue`])
//! are defined lower in the crate, since the crate's [`Error`](crate::Error)
//! carries them too, and published here.

mod parse;
mod query;
#[cfg(test)]
mod tests;
mod text;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use self::parse::{Parsed, UserInfo, parse};
pub use self::query::NodePreference;
use self::text::Encoded;
pub use crate::endpoint::Endpoint;
pub use crate::error::connection_string::{ConnectionStringError, UserInfoIssue};

type E = ConnectionStringError;

/// Settings for connecting to KurrentDB, parsed from a connection string.
///
/// # Format
///
/// ```text
/// scheme://[username:password@]host[:port][,host[:port]...][/][?name=value[&name=value...]]
/// ```
///
/// * **Scheme** (any letter case): `kurrentdb://` connects to one or more
///   given endpoints; `kurrentdb+discover://` discovers a cluster through the
///   DNS A records of exactly one given name. The legacy `esdb`,
///   `esdb+discover`, `kdb` and `kdb+discover` are accepted as synonyms.
/// * **User info** is optional, but if given it must have both a non-empty
///   username and a non-empty password. Both are percent-decoded; a raw `@`
///   in the password is tolerated (the *last* `@` ends the user info), but
///   `/`, `?` and `#` must be percent-encoded.
/// * **Endpoints** are `host[:port]`, separated by commas (whitespace around
///   each is ignored). The port defaults to [`Endpoint::DEFAULT_PORT`] (2113).
///   IPv6 addresses must be bracketed: `[::1]:2113`.
/// * **Options** are case-insensitive in both names and values; names and
///   values are percent-decoded and `+` decodes to a space (form encoding).
///   An unknown option, an empty value, or an option given twice (e.g. `tls`
///   and `TLS`) is an error, not silently resolved.
///
/// | Option | Values | Default | Accessor |
/// |---|---|---|---|
/// | `tls` | `true`, `false` | `true` | [`tls`](Self::tls) |
/// | `connectionName` | any non-empty string | random v4 UUID | [`connection_name`](Self::connection_name) |
/// | `maxDiscoverAttempts` | integer ≥ 1 | 10 | [`max_discover_attempts`](Self::max_discover_attempts) |
/// | `discoveryInterval` | integer ≥ 0, milliseconds | 100 | [`discovery_interval`](Self::discovery_interval) |
/// | `gossipTimeout` | integer ≥ 1, seconds | 5 | [`gossip_timeout`](Self::gossip_timeout) |
/// | `nodePreference` | `leader`, `follower`, `random`, `readOnlyReplica` | `leader` | [`node_preference`](Self::node_preference) |
/// | `tlsVerifyCert` | `true`, `false` | `true` | [`tls_verify_cert`](Self::tls_verify_cert) |
/// | `tlsCaFile` | path | none | [`tls_ca_file`](Self::tls_ca_file) |
/// | `defaultDeadline` | integer ≥ 1, seconds | none | [`default_deadline`](Self::default_deadline) |
/// | `keepAliveInterval` | integer ≥ 1, milliseconds | none | [`keep_alive_interval`](Self::keep_alive_interval) |
/// | `keepAliveTimeout` | integer ≥ 1, milliseconds | none | [`keep_alive_timeout`](Self::keep_alive_timeout) |
/// | `userCertFile` | path (needs `userKeyFile`) | none | [`user_cert_file`](Self::user_cert_file) |
/// | `userKeyFile` | path (needs `userCertFile`) | none | [`user_key_file`](Self::user_key_file) |
///
/// Integers are plain ASCII digits (no sign). `tlsVerifyCert` is not in the
/// documentation's table but is accepted by the other official clients.
///
/// # Display, secrets and round trips
///
/// Neither [`Debug`](fmt::Debug) nor [`Display`](fmt::Display) ever shows the
/// password: both print it as `***`.
///
/// [`Display`](fmt::Display) writes a *canonical* connection string: scheme
/// `kurrentdb://` or `kurrentdb+discover://`, every endpoint with its port,
/// and every option written out explicitly, including the `connectionName`
/// that was generated when none was given. So for settings **without** a
/// password, `s.to_string().parse() == Ok(s)`. For settings **with** a
/// password the displayed string carries `***` instead, and does not round
/// trip; use [`to_connection_string_with_secrets`](Self::to_connection_string_with_secrets)
/// to get the full string, for which `parse` gives back equal settings.
///
/// Note that two parses of a string without `connectionName` are *not* equal,
/// since each generates its own random name.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use kurrentdbclient::{ConnectionSettings, NodePreference};
///
/// let settings: ConnectionSettings =
///     "kurrentdb://admin:changeit@localhost:2113?tls=false&nodePreference=follower"
///         .parse()?;
///
/// assert!(!settings.discover());
/// assert_eq!(settings.endpoints()[0].to_string(), "localhost:2113");
/// assert_eq!(settings.username(), Some("admin"));
/// assert_eq!(settings.password(), Some("changeit"));
/// assert!(!settings.tls());
/// assert_eq!(settings.node_preference(), NodePreference::Follower);
/// assert_eq!(settings.max_discover_attempts(), 10);
/// assert_eq!(settings.gossip_timeout(), Duration::from_secs(5));
/// assert_eq!(settings.default_deadline(), None);
///
/// // The password never shows in Display or Debug ...
/// assert!(!settings.to_string().contains("changeit"));
/// assert!(!format!("{settings:?}").contains("changeit"));
/// // ... but the explicitly named method gives a string that round-trips.
/// let again: ConnectionSettings = settings.to_connection_string_with_secrets().parse()?;
/// assert_eq!(again, settings);
/// # Ok::<(), kurrentdbclient::connection::settings::ConnectionStringError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    discover: bool,
    endpoints: Vec<Endpoint>,
    credentials: Option<UserInfo>,
    tls: bool,
    tls_verify_cert: bool,
    connection_name: String,
    max_discover_attempts: u32,
    discovery_interval: Duration,
    gossip_timeout: Duration,
    node_preference: NodePreference,
    tls_ca_file: Option<PathBuf>,
    default_deadline: Option<Duration>,
    keep_alive_interval: Option<Duration>,
    keep_alive_timeout: Option<Duration>,
    user_cert_file: Option<PathBuf>,
    user_key_file: Option<PathBuf>,
    /// TLS material given in memory (PEM), not part of connection strings.
    pem: PemMaterial,
    /// An access token sent with every call instead of the user info, not
    /// part of connection strings.
    bearer_token: Option<String>,
}

/// TLS material given in memory: see
/// [`ConnectionSettings::with_root_certificates`] and
/// [`ConnectionSettings::with_user_certificate`].
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct PemMaterial {
    pub(crate) root_certificates: Option<String>,
    /// The certificate and its private key.
    pub(crate) user_certificate: Option<(String, String)>,
}

impl ConnectionSettings {
    /// Default of `maxDiscoverAttempts`.
    pub const DEFAULT_MAX_DISCOVER_ATTEMPTS: u32 = 10;
    /// Default of `discoveryInterval` (100 ms).
    pub const DEFAULT_DISCOVERY_INTERVAL: Duration = Duration::from_millis(100);
    /// Default of `gossipTimeout` (5 s).
    pub const DEFAULT_GOSSIP_TIMEOUT: Duration = Duration::from_secs(5);

    /// Whether cluster discovery through DNS is used (`+discover` schemes).
    ///
    /// When true, [`endpoints`](Self::endpoints) holds exactly one endpoint:
    /// the cluster's DNS name and port.
    pub fn discover(&self) -> bool {
        self.discover
    }

    /// The endpoints given in the connection string, in order; never empty.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The username from the user info, percent-decoded.
    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.username.as_str())
    }

    /// The password from the user info, percent-decoded.
    ///
    /// If there is a username there is a password, and vice versa.
    pub fn password(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.password.as_str())
    }

    /// Whether to use TLS (`tls`, default `true`).
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// Whether to verify the server's certificate (`tlsVerifyCert`, default
    /// `true`).
    pub fn tls_verify_cert(&self) -> bool {
        self.tls_verify_cert
    }

    /// The connection name sent to the server (`connectionName`); when not
    /// given, a random v4 UUID generated at parse time.
    pub fn connection_name(&self) -> &str {
        &self.connection_name
    }

    /// How many times to try discovering the cluster (`maxDiscoverAttempts`,
    /// default 10).
    pub fn max_discover_attempts(&self) -> u32 {
        self.max_discover_attempts
    }

    /// How long to wait between discovery attempts (`discoveryInterval`, in
    /// milliseconds; default 100 ms).
    pub fn discovery_interval(&self) -> Duration {
        self.discovery_interval
    }

    /// How long to wait for a gossip call (`gossipTimeout`, in seconds;
    /// default 5 s).
    pub fn gossip_timeout(&self) -> Duration {
        self.gossip_timeout
    }

    /// Which node role to prefer (`nodePreference`, default
    /// [`NodePreference::Leader`]).
    pub fn node_preference(&self) -> NodePreference {
        self.node_preference
    }

    /// Path of a CA certificate file to trust (`tlsCaFile`).
    pub fn tls_ca_file(&self) -> Option<&Path> {
        self.tls_ca_file.as_deref()
    }

    /// Default deadline for client operations (`defaultDeadline`, in seconds).
    pub fn default_deadline(&self) -> Option<Duration> {
        self.default_deadline
    }

    /// Interval between gRPC keep-alive pings (`keepAliveInterval`, in
    /// milliseconds).
    pub fn keep_alive_interval(&self) -> Option<Duration> {
        self.keep_alive_interval
    }

    /// Timeout of a gRPC keep-alive ping (`keepAliveTimeout`, in
    /// milliseconds).
    pub fn keep_alive_timeout(&self) -> Option<Duration> {
        self.keep_alive_timeout
    }

    /// Path of the user's X.509 certificate (`userCertFile`). Set if and only
    /// if [`user_key_file`](Self::user_key_file) is set.
    pub fn user_cert_file(&self) -> Option<&Path> {
        self.user_cert_file.as_deref()
    }

    /// Path of the key of the user's X.509 certificate (`userKeyFile`). Set if
    /// and only if [`user_cert_file`](Self::user_cert_file) is set.
    pub fn user_key_file(&self) -> Option<&Path> {
        self.user_key_file.as_deref()
    }

    /// The CA certificates (PEM) given with
    /// [`with_root_certificates`](Self::with_root_certificates).
    pub fn root_certificates(&self) -> Option<&str> {
        self.pem.root_certificates.as_deref()
    }

    /// The user certificate and private key (PEM) given with
    /// [`with_user_certificate`](Self::with_user_certificate).
    pub fn user_certificate(&self) -> Option<(&str, &str)> {
        let (certificate, key) = self.pem.user_certificate.as_ref()?;
        Some((certificate, key))
    }

    /// Returns these settings trusting the CA certificates in `pem` (one or
    /// more PEM `CERTIFICATE` blocks) instead of the file `tlsCaFile` names:
    /// the in-memory alternative the Python client offers as
    /// `root_certificates`. It takes precedence over `tlsCaFile`. Like the
    /// file, it is checked when the client is built (`connect` fails with
    /// [`Error::Tls`](crate::Error::Tls) when it holds no certificate).
    ///
    /// In-memory material is not part of the connection string:
    /// [`to_connection_string_with_secrets`](Self::to_connection_string_with_secrets)
    /// leaves it out, so settings carrying it do not round-trip through one.
    ///
    /// ```
    /// use kurrentdbclient::ConnectionSettings;
    ///
    /// let ca = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n";
    /// let settings: ConnectionSettings = "kurrentdb://admin:changeit@localhost:2113".parse()?;
    /// let settings = settings.with_root_certificates(ca);
    /// assert_eq!(settings.root_certificates(), Some(ca));
    /// # Ok::<(), kurrentdbclient::connection::settings::ConnectionStringError>(())
    /// ```
    pub fn with_root_certificates(mut self, pem: impl Into<String>) -> Self {
        self.pem.root_certificates = Some(pem.into());
        self
    }

    /// Returns these settings presenting the X.509 user certificate
    /// `certificate` with its private key `key` (both PEM) instead of the
    /// files `userCertFile` and `userKeyFile` name, over which they take
    /// precedence. See [`with_root_certificates`](Self::with_root_certificates)
    /// for when they are checked and why they are not in the connection
    /// string. [`Debug`](fmt::Debug) never shows the key.
    pub fn with_user_certificate(
        mut self,
        certificate: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        self.pem.user_certificate = Some((certificate.into(), key.into()));
        self
    }

    /// Returns these settings with the given username and password, replacing
    /// any from the connection string.
    ///
    /// # Errors
    ///
    /// [`ConnectionStringError::InvalidUserInfo`] if either is empty (the same
    /// rule as for a connection string, so the result always round-trips).
    ///
    /// ```
    /// use kurrentdbclient::ConnectionSettings;
    ///
    /// let settings: ConnectionSettings = "kurrentdb://localhost".parse()?;
    /// let settings = settings.with_credentials("admin", "changeit")?;
    /// assert_eq!(settings.username(), Some("admin"));
    /// assert_eq!(settings.password(), Some("changeit"));
    /// # Ok::<(), kurrentdbclient::connection::settings::ConnectionStringError>(())
    /// ```
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<Self, ConnectionStringError> {
        let (username, password) = (username.into(), password.into());
        let reason = if username.is_empty() {
            Some(UserInfoIssue::EmptyUsername)
        } else if password.is_empty() {
            Some(UserInfoIssue::EmptyPassword)
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(E::InvalidUserInfo { reason });
        }
        self.credentials = Some(UserInfo { username, password });
        Ok(self)
    }

    /// Returns these settings without a username and password.
    pub fn without_credentials(mut self) -> Self {
        self.credentials = None;
        self
    }

    /// Returns these settings sending `token` (an OAuth/OIDC access token)
    /// as `authorization: Bearer <token>` with every call, in place of the
    /// user info; a call's own `credentials` option still overrides it (see
    /// [`Credentials`](crate::Credentials) for what happens when it expires).
    ///
    /// The token is a secret: [`Debug`](fmt::Debug) shows it as `<hidden>`,
    /// and it is not part of the connection string, so neither
    /// [`Display`](fmt::Display) nor
    /// [`to_connection_string_with_secrets`](Self::to_connection_string_with_secrets)
    /// writes it. A token that cannot be a header value (empty, or not
    /// visible ASCII) fails `connect` with
    /// [`Error::InvalidBearerToken`](crate::Error::InvalidBearerToken).
    ///
    /// ```
    /// use kurrentdbclient::ConnectionSettings;
    ///
    /// let settings: ConnectionSettings = "kurrentdb://localhost:2113".parse()?;
    /// let settings = settings.with_bearer_token("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    /// assert_eq!(settings.bearer_token(), Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
    /// assert!(!format!("{settings:?}").contains("eyJ"));
    /// assert!(!settings.to_connection_string_with_secrets().contains("eyJ"));
    /// # Ok::<(), kurrentdbclient::connection::settings::ConnectionStringError>(())
    /// ```
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Returns these settings without a bearer token.
    pub fn without_bearer_token(mut self) -> Self {
        self.bearer_token = None;
        self
    }

    /// The bearer token given with [`with_bearer_token`](Self::with_bearer_token).
    pub fn bearer_token(&self) -> Option<&str> {
        self.bearer_token.as_deref()
    }

    /// The canonical connection string, *including the password*.
    ///
    /// Parsing it gives back settings equal to `self`. Unlike
    /// [`Display`](fmt::Display), which masks the password as `***`, this
    /// exposes the secret: do not log it.
    pub fn to_connection_string_with_secrets(&self) -> String {
        let mut s = String::new();
        self.write_connection_string(&mut s, true)
            .expect("writing to a String cannot fail");
        s
    }

    fn write_connection_string<W: fmt::Write>(&self, w: &mut W, reveal: bool) -> fmt::Result {
        w.write_str(if self.discover {
            "kurrentdb+discover://"
        } else {
            "kurrentdb://"
        })?;
        if let Some(c) = &self.credentials {
            write!(w, "{}:", Encoded(&c.username, false))?;
            if reveal {
                write!(w, "{}", Encoded(&c.password, false))?;
            } else {
                w.write_str("***")?;
            }
            w.write_char('@')?;
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            if i > 0 {
                w.write_char(',')?;
            }
            write!(w, "{e}")?;
        }
        write!(
            w,
            "?tls={}&connectionName={}&maxDiscoverAttempts={}&discoveryInterval={}\
             &gossipTimeout={}&nodePreference={}&tlsVerifyCert={}",
            self.tls,
            Encoded(&self.connection_name, true),
            self.max_discover_attempts,
            self.discovery_interval.as_millis(),
            self.gossip_timeout.as_secs(),
            self.node_preference,
            self.tls_verify_cert,
        )?;
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        if let Some(p) = &self.tls_ca_file {
            write!(w, "&tlsCaFile={}", Encoded(&path(p), true))?;
        }
        if let Some(d) = self.default_deadline {
            write!(w, "&defaultDeadline={}", d.as_secs())?;
        }
        if let Some(d) = self.keep_alive_interval {
            write!(w, "&keepAliveInterval={}", d.as_millis())?;
        }
        if let Some(d) = self.keep_alive_timeout {
            write!(w, "&keepAliveTimeout={}", d.as_millis())?;
        }
        if let Some(p) = &self.user_cert_file {
            write!(w, "&userCertFile={}", Encoded(&path(p), true))?;
        }
        if let Some(p) = &self.user_key_file {
            write!(w, "&userKeyFile={}", Encoded(&path(p), true))?;
        }
        Ok(())
    }
}

impl fmt::Display for ConnectionSettings {
    /// Writes the canonical connection string with the password masked as
    /// `***`. See the type's documentation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_connection_string(f, false)
    }
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("discover", &self.discover)
            .field("endpoints", &self.endpoints)
            .field("username", &self.username())
            .field("password", &self.password().map(|_| "***"))
            .field("tls", &self.tls)
            .field("tls_verify_cert", &self.tls_verify_cert)
            .field("connection_name", &self.connection_name)
            .field("max_discover_attempts", &self.max_discover_attempts)
            .field("discovery_interval", &self.discovery_interval)
            .field("gossip_timeout", &self.gossip_timeout)
            .field("node_preference", &self.node_preference)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("default_deadline", &self.default_deadline)
            .field("keep_alive_interval", &self.keep_alive_interval)
            .field("keep_alive_timeout", &self.keep_alive_timeout)
            .field("user_cert_file", &self.user_cert_file)
            .field("user_key_file", &self.user_key_file)
            .field(
                "root_certificates",
                &self.pem.root_certificates.as_ref().map(|_| "<PEM>"),
            )
            .field(
                "user_certificate",
                &self.pem.user_certificate.as_ref().map(|_| "<PEM, key ***>"),
            )
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

impl FromStr for ConnectionSettings {
    type Err = ConnectionStringError;

    /// Parses a connection string; see the type's documentation for the
    /// format. Leading and trailing whitespace is ignored.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let Parsed {
            discover,
            endpoints,
            user_info,
            options,
        } = parse(input)?;
        Ok(ConnectionSettings {
            discover,
            endpoints,
            credentials: user_info,
            tls: options.tls.unwrap_or(true),
            tls_verify_cert: options.tls_verify_cert.unwrap_or(true),
            connection_name: options
                .connection_name
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            max_discover_attempts: options
                .max_discover_attempts
                .unwrap_or(Self::DEFAULT_MAX_DISCOVER_ATTEMPTS),
            discovery_interval: options
                .discovery_interval
                .unwrap_or(Self::DEFAULT_DISCOVERY_INTERVAL),
            gossip_timeout: options
                .gossip_timeout
                .unwrap_or(Self::DEFAULT_GOSSIP_TIMEOUT),
            node_preference: options.node_preference.unwrap_or_default(),
            tls_ca_file: options.tls_ca_file,
            default_deadline: options.default_deadline,
            keep_alive_interval: options.keep_alive_interval,
            keep_alive_timeout: options.keep_alive_timeout,
            user_cert_file: options.user_cert_file,
            user_key_file: options.user_key_file,
            pem: PemMaterial::default(),
            bearer_token: None,
        })
    }
}
