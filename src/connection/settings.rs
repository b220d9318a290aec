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

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// One `host:port` endpoint of a KurrentDB server or cluster.
///
/// `host` is a host name, an IPv4 address or an IPv6 address. An IPv6 address
/// is stored *without* brackets (`::1`) and [`Display`](fmt::Display) adds them
/// back (`[::1]:2113`), so the displayed form is always a valid endpoint for a
/// connection string or a gRPC target.
///
/// ```
/// use kurrentdbclient::connection::settings::Endpoint;
///
/// assert_eq!(Endpoint::new("localhost", 2113).to_string(), "localhost:2113");
/// assert_eq!(Endpoint::new("::1", 2113).to_string(), "[::1]:2113");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// The port used when a connection string gives a host without a port.
    pub const DEFAULT_PORT: u16 = 2113;

    /// Creates an endpoint from a host and a port.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Endpoint {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Which role of cluster node the client prefers to talk to.
///
/// Set with the `nodePreference` option, whose accepted values are (in any
/// letter case) `leader`, `follower`, `random` and `readOnlyReplica`.
/// [`Display`](fmt::Display) writes the camel-case spelling used in connection
/// strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NodePreference {
    /// The cluster leader (the default). Use this for writing.
    #[default]
    Leader,
    /// A follower node.
    Follower,
    /// Any node, picked at random.
    Random,
    /// A read-only replica node.
    ReadOnlyReplica,
}

impl NodePreference {
    /// The spelling used in connection strings: `leader`, `follower`, `random`
    /// or `readOnlyReplica`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodePreference::Leader => "leader",
            NodePreference::Follower => "follower",
            NodePreference::Random => "random",
            NodePreference::ReadOnlyReplica => "readOnlyReplica",
        }
    }
}

impl fmt::Display for NodePreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NodePreference {
    type Err = ConnectionStringError;

    /// Parses `leader`, `follower`, `random` or `readOnlyReplica`, ignoring
    /// letter case. Other spellings (e.g. `read_only_replica`, `primary`) are
    /// rejected with [`ConnectionStringError::InvalidOptionValue`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            NodePreference::Leader,
            NodePreference::Follower,
            NodePreference::Random,
            NodePreference::ReadOnlyReplica,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| ConnectionStringError::InvalidOptionValue {
            name: Opt::NodePreference.name().to_owned(),
            value: s.to_owned(),
            expected: Opt::NodePreference.expected(),
        })
    }
}

/// What is wrong with the user info (`user:pass@`) part of a connection string,
/// or with credentials given to [`ConnectionSettings::with_credentials`].
///
/// None of these carry the offending text, so that a password can never leak
/// into an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserInfoIssue {
    /// Nothing before the `@`.
    Empty,
    /// The username is empty (`:pass@`).
    EmptyUsername,
    /// A username without a `:password` (`user@`). Both are required.
    MissingPassword,
    /// The password is empty (`user:@`).
    EmptyPassword,
    /// The user info seems to contain a raw `/`, `?` or `#`, which ends the
    /// host part of a URI; such characters must be percent-encoded
    /// (`%2F`, `%3F`, `%23`).
    UnencodedDelimiter,
}

impl fmt::Display for UserInfoIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UserInfoIssue::Empty => "nothing before the '@'; expected 'username:password@'",
            UserInfoIssue::EmptyUsername => "the username is empty",
            UserInfoIssue::MissingPassword => {
                "a username was given without a password; expected 'username:password@'"
            }
            UserInfoIssue::EmptyPassword => "the password is empty",
            UserInfoIssue::UnencodedDelimiter => {
                "the user info seems to contain a raw '/', '?' or '#'; \
                 percent-encode them as %2F, %3F and %23"
            }
        })
    }
}

/// Why a connection string could not be parsed.
///
/// Every variant names the offending part (text, option, value, and a byte
/// offset into the input where useful). No variant ever carries the password:
/// problems in the user info are reported as a [`UserInfoIssue`], and bad
/// percent-encoding only by component and position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionStringError {
    /// The connection string is empty (or only whitespace).
    #[error("the connection string is empty")]
    Empty,

    /// There is no `scheme://` at the start of the string.
    #[error(
        "the connection string has no scheme; expected it to start with \
         'kurrentdb://' or 'kurrentdb+discover://'"
    )]
    MissingScheme,

    /// The scheme is not one of `kurrentdb`, `kurrentdb+discover`, `esdb`,
    /// `esdb+discover`, `kdb`, `kdb+discover`.
    #[error(
        "unknown scheme '{scheme}'; expected one of kurrentdb, kurrentdb+discover, \
         esdb, esdb+discover, kdb, kdb+discover"
    )]
    UnknownScheme {
        /// The scheme as written.
        scheme: String,
    },

    /// No endpoint follows the scheme (and user info).
    #[error("the connection string has no endpoint; expected 'host[:port]' after '://'")]
    NoEndpoint,

    /// A `+discover` scheme was given more than one endpoint.
    #[error(
        "a '+discover' connection string takes exactly one cluster endpoint, \
         but {count} were given"
    )]
    DiscoverWithManyEndpoints {
        /// How many endpoints were given.
        count: usize,
    },

    /// An endpoint's host is not a valid host name, IPv4 address or bracketed
    /// IPv6 address (or is empty).
    #[error("invalid host '{host}' at position {position}: {reason}")]
    InvalidHost {
        /// The host (or whole endpoint) as written.
        host: String,
        /// Byte offset of the endpoint in the connection string.
        position: usize,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An endpoint's port is not an integer from 1 to 65535.
    #[error(
        "invalid port '{port}' in endpoint '{endpoint}' at position {position}; \
         expected an integer from 1 to 65535"
    )]
    InvalidPort {
        /// The whole endpoint as written.
        endpoint: String,
        /// The port as written.
        port: String,
        /// Byte offset of the endpoint in the connection string.
        position: usize,
    },

    /// The user info (`user:pass@`) is incomplete or malformed.
    #[error("invalid user info: {reason}")]
    InvalidUserInfo {
        /// What is wrong with it.
        reason: UserInfoIssue,
    },

    /// A `%` is not followed by two hex digits, or the decoded bytes are not
    /// UTF-8.
    #[error("invalid percent-encoding in the {component} at position {position}")]
    InvalidPercentEncoding {
        /// Which part: `"username"`, `"password"`, `"option name"` or
        /// `"option value"`.
        component: &'static str,
        /// Byte offset of the bad `%` (or of the component, for bad UTF-8).
        position: usize,
    },

    /// Something other than an optional `/` follows the endpoints (a path or
    /// a `#fragment`).
    #[error(
        "unexpected '{path}' at position {position}; only an optional '/' and a \
         '?query' may follow the endpoints"
    )]
    UnexpectedPath {
        /// The unexpected text, up to the `?` (if any).
        path: String,
        /// Byte offset of the text.
        position: usize,
    },

    /// The query string is not a `&`-separated list of `name=value` pairs.
    #[error("malformed query '{text}' at position {position}: {reason}")]
    MalformedQuery {
        /// The offending part of the query.
        text: String,
        /// Byte offset of that part.
        position: usize,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An option name that is not one of the supported options.
    #[error(
        "unknown option '{name}'; supported options are tls, connectionName, \
         maxDiscoverAttempts, discoveryInterval, gossipTimeout, nodePreference, \
         tlsVerifyCert, defaultDeadline, keepAliveInterval, keepAliveTimeout, \
         tlsCaFile, userCertFile, userKeyFile"
    )]
    UnknownOption {
        /// The option name as written (percent-decoded).
        name: String,
    },

    /// The same option (compared case-insensitively) appears more than once.
    #[error("option '{name}' is given more than once")]
    DuplicateOption {
        /// The canonical name of the option.
        name: String,
    },

    /// An option's value is not acceptable.
    #[error("invalid value '{value}' for option '{name}'; expected {expected}")]
    InvalidOptionValue {
        /// The canonical name of the option (e.g. `maxDiscoverAttempts`).
        name: String,
        /// The value as written (percent-decoded).
        value: String,
        /// A description of the accepted values.
        expected: &'static str,
    },

    /// `userCertFile` was given without `userKeyFile`.
    #[error("option 'userCertFile' is given without 'userKeyFile'; both are required")]
    UserCertWithoutKey,

    /// `userKeyFile` was given without `userCertFile`.
    #[error("option 'userKeyFile' is given without 'userCertFile'; both are required")]
    UserKeyWithoutCert,
}

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
    credentials: Option<Credentials>,
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
}

#[derive(Clone, PartialEq, Eq)]
struct Credentials {
    username: String,
    password: String,
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
        self.credentials = Some(Credentials { username, password });
        Ok(self)
    }

    /// Returns these settings without a username and password.
    pub fn without_credentials(mut self) -> Self {
        self.credentials = None;
        self
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
            .finish()
    }
}

impl FromStr for ConnectionSettings {
    type Err = ConnectionStringError;

    /// Parses a connection string; see the type's documentation for the
    /// format. Leading and trailing whitespace is ignored.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse(input)
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

fn parse(input: &str) -> Result<ConnectionSettings, E> {
    let lead = input.len() - input.trim_start().len();
    let s = input.trim();
    if s.is_empty() {
        return Err(E::Empty);
    }

    // Scheme.
    let sep = s.find("://").ok_or(E::MissingScheme)?;
    let scheme = &s[..sep];
    if !is_scheme_syntax(scheme) {
        // E.g. "user:pass@kurrentdb://..." – whatever precedes "://" is not a
        // scheme, and must not be echoed back (it may hold a password).
        return Err(E::MissingScheme);
    }
    let discover = match scheme.to_ascii_lowercase().as_str() {
        "kurrentdb" | "esdb" | "kdb" => false,
        "kurrentdb+discover" | "esdb+discover" | "kdb+discover" => true,
        _ => {
            return Err(E::UnknownScheme {
                scheme: scheme.to_owned(),
            });
        }
    };

    // Authority: up to the first '/', '?' or '#'.
    let rest_pos = lead + sep + 3;
    let rest = &s[sep + 3..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(auth_end);

    let (credentials, hosts, hosts_pos) = match authority.rfind('@') {
        Some(at) => (
            Some(parse_userinfo(&authority[..at], rest_pos)?),
            &authority[at + 1..],
            rest_pos + at + 1,
        ),
        None => {
            // An '@' after a '/', '?' or '#' but before any '=' means the user
            // info holds a raw delimiter; anything we reported about the text
            // around it could expose part of the password.
            if let Some(at) = after.find('@')
                && !after[..at].contains('=')
            {
                return Err(E::InvalidUserInfo {
                    reason: UserInfoIssue::UnencodedDelimiter,
                });
            }
            (None, authority, rest_pos)
        }
    };

    let endpoints = parse_endpoints(hosts, hosts_pos)?;
    if discover && endpoints.len() > 1 {
        return Err(E::DiscoverWithManyEndpoints {
            count: endpoints.len(),
        });
    }

    // Optional "/" then optional "?query".
    let after_pos = rest_pos + auth_end;
    let (path, query) = match after.find('?') {
        Some(q) => (&after[..q], Some((&after[q + 1..], after_pos + q + 1))),
        None => (after, None),
    };
    if !(path.is_empty() || path == "/") {
        return Err(E::UnexpectedPath {
            path: path.to_owned(),
            position: after_pos,
        });
    }

    let mut opts = Options::default();
    if let Some((query, query_pos)) = query {
        opts.parse_query(query, query_pos)?;
    }
    opts.finish(discover, endpoints, credentials)
}

fn is_scheme_syntax(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn parse_userinfo(userinfo: &str, pos: usize) -> Result<Credentials, E> {
    let issue = |reason| E::InvalidUserInfo { reason };
    if userinfo.is_empty() {
        return Err(issue(UserInfoIssue::Empty));
    }
    let Some(colon) = userinfo.find(':') else {
        return Err(issue(UserInfoIssue::MissingPassword));
    };
    let (user, pass) = (&userinfo[..colon], &userinfo[colon + 1..]);
    if user.is_empty() {
        return Err(issue(UserInfoIssue::EmptyUsername));
    }
    if pass.is_empty() {
        return Err(issue(UserInfoIssue::EmptyPassword));
    }
    let username = percent_decode(user, false, pos, "username")?;
    let password = percent_decode(pass, false, pos + colon + 1, "password")?;
    if username.is_empty() {
        return Err(issue(UserInfoIssue::EmptyUsername));
    }
    Ok(Credentials { username, password })
}

fn parse_endpoints(hosts: &str, pos: usize) -> Result<Vec<Endpoint>, E> {
    if hosts.trim().is_empty() {
        return Err(E::NoEndpoint);
    }
    let mut endpoints = Vec::new();
    let mut offset = 0;
    for piece in hosts.split(',') {
        let trimmed_start = piece.len() - piece.trim_start().len();
        endpoints.push(parse_endpoint(piece.trim(), pos + offset + trimmed_start)?);
        offset += piece.len() + 1;
    }
    Ok(endpoints)
}

fn parse_endpoint(text: &str, position: usize) -> Result<Endpoint, E> {
    let invalid_host = |host: &str, reason| E::InvalidHost {
        host: host.to_owned(),
        position,
        reason,
    };
    if text.is_empty() {
        return Err(invalid_host(text, "the endpoint is empty"));
    }
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(invalid_host(text, "an IPv6 address has no closing ']'"));
        };
        let host = &inner[..close];
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(invalid_host(host, "not a valid IPv6 address"));
        }
        let tail = &inner[close + 1..];
        let port = if tail.is_empty() {
            None
        } else if let Some(port) = tail.strip_prefix(':') {
            Some(port)
        } else {
            return Err(invalid_host(text, "expected ':port' after ']'"));
        };
        (host, port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                return Err(invalid_host(
                    text,
                    "too many ':'; an IPv6 address must be enclosed in brackets, as in [::1]:2113",
                ));
            }
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        if let Err(reason) = check_host_name(host) {
            return Err(invalid_host(host, reason));
        }
        (host, port)
    };
    let port = match port {
        None => Endpoint::DEFAULT_PORT,
        Some(p) => parse_digits::<u16>(p)
            .filter(|&p| p != 0)
            .ok_or_else(|| E::InvalidPort {
                endpoint: text.to_owned(),
                port: p.to_owned(),
                position,
            })?,
    };
    Ok(Endpoint::new(host, port))
}

/// Checks a host name or IPv4 address (not a bracketed IPv6 address).
fn check_host_name(host: &str) -> Result<(), &'static str> {
    if host.is_empty() {
        return Err("the host is empty");
    }
    if host.len() > 253 {
        return Err("a host name is at most 253 characters long");
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let mut all_numeric = true;
    for label in name.split('.') {
        if label.is_empty() {
            return Err("a host name has an empty label");
        }
        if label.len() > 63 {
            return Err("a host name label is at most 63 characters long");
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("a host name may contain only ASCII letters, digits, '-', '_' and '.'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a host name label may not start or end with '-'");
        }
        all_numeric &= label.chars().all(|c| c.is_ascii_digit());
    }
    if all_numeric && name.parse::<Ipv4Addr>().is_err() {
        return Err("not a valid IPv4 address");
    }
    Ok(())
}

/// Parses a non-empty string of ASCII digits (no sign, no whitespace).
fn parse_digits<T: FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn percent_decode(
    s: &str,
    plus_is_space: bool,
    pos: usize,
    component: &'static str,
) -> Result<String, E> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let decoded = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| Some(hex(h[0])? << 4 | hex(h[1])?));
                let Some(b) = decoded else {
                    return Err(E::InvalidPercentEncoding {
                        component,
                        position: pos + i,
                    });
                };
                out.push(b);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| E::InvalidPercentEncoding {
        component,
        position: pos,
    })
}

/// Percent-encodes everything but unreserved characters (and, in query
/// values, `/` and `:` for readable paths).
struct Encoded<'a>(&'a str, bool);

impl fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.bytes() {
            let keep = b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'.' | b'_' | b'~')
                || (self.1 && matches!(b, b'/' | b':'));
            if keep {
                f.write_char(b as char)?;
            } else {
                write!(f, "%{b:02X}")?;
            }
        }
        Ok(())
    }
}

/// The supported options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Tls,
    ConnectionName,
    MaxDiscoverAttempts,
    DiscoveryInterval,
    GossipTimeout,
    NodePreference,
    TlsVerifyCert,
    DefaultDeadline,
    KeepAliveInterval,
    KeepAliveTimeout,
    TlsCaFile,
    UserCertFile,
    UserKeyFile,
}

impl Opt {
    const ALL: [Opt; 13] = [
        Opt::Tls,
        Opt::ConnectionName,
        Opt::MaxDiscoverAttempts,
        Opt::DiscoveryInterval,
        Opt::GossipTimeout,
        Opt::NodePreference,
        Opt::TlsVerifyCert,
        Opt::DefaultDeadline,
        Opt::KeepAliveInterval,
        Opt::KeepAliveTimeout,
        Opt::TlsCaFile,
        Opt::UserCertFile,
        Opt::UserKeyFile,
    ];

    fn name(self) -> &'static str {
        match self {
            Opt::Tls => "tls",
            Opt::ConnectionName => "connectionName",
            Opt::MaxDiscoverAttempts => "maxDiscoverAttempts",
            Opt::DiscoveryInterval => "discoveryInterval",
            Opt::GossipTimeout => "gossipTimeout",
            Opt::NodePreference => "nodePreference",
            Opt::TlsVerifyCert => "tlsVerifyCert",
            Opt::DefaultDeadline => "defaultDeadline",
            Opt::KeepAliveInterval => "keepAliveInterval",
            Opt::KeepAliveTimeout => "keepAliveTimeout",
            Opt::TlsCaFile => "tlsCaFile",
            Opt::UserCertFile => "userCertFile",
            Opt::UserKeyFile => "userKeyFile",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Opt::Tls | Opt::TlsVerifyCert => "'true' or 'false'",
            Opt::ConnectionName => "a non-empty string",
            Opt::MaxDiscoverAttempts => "a whole number from 1 to 4294967295",
            Opt::DiscoveryInterval => "a whole number of milliseconds",
            Opt::GossipTimeout | Opt::DefaultDeadline => "a whole number of seconds, at least 1",
            Opt::KeepAliveInterval | Opt::KeepAliveTimeout => {
                "a whole number of milliseconds, at least 1"
            }
            Opt::NodePreference => "'leader', 'follower', 'random' or 'readOnlyReplica'",
            Opt::TlsCaFile | Opt::UserCertFile | Opt::UserKeyFile => "a non-empty file path",
        }
    }

    fn lookup(name: &str) -> Option<Opt> {
        Opt::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
    }
}

/// Options as parsed from the query, before defaults are filled in.
#[derive(Default)]
struct Options {
    seen: Vec<Opt>,
    tls: Option<bool>,
    tls_verify_cert: Option<bool>,
    connection_name: Option<String>,
    max_discover_attempts: Option<u32>,
    discovery_interval: Option<Duration>,
    gossip_timeout: Option<Duration>,
    node_preference: Option<NodePreference>,
    tls_ca_file: Option<PathBuf>,
    default_deadline: Option<Duration>,
    keep_alive_interval: Option<Duration>,
    keep_alive_timeout: Option<Duration>,
    user_cert_file: Option<PathBuf>,
    user_key_file: Option<PathBuf>,
}

impl Options {
    fn parse_query(&mut self, query: &str, pos: usize) -> Result<(), E> {
        if query.is_empty() {
            return Ok(());
        }
        let mut offset = 0;
        for pair in query.split('&') {
            let pair_pos = pos + offset;
            offset += pair.len() + 1;
            let malformed = |reason| E::MalformedQuery {
                text: pair.to_owned(),
                position: pair_pos,
                reason,
            };
            if pair.is_empty() {
                return Err(malformed("empty option (doubled or trailing '&')"));
            }
            if pair.contains('#') {
                return Err(malformed(
                    "a raw '#' is not allowed; percent-encode it as %23",
                ));
            }
            let Some((name, value)) = pair.split_once('=') else {
                return Err(malformed("expected 'name=value'"));
            };
            if name.is_empty() {
                return Err(malformed("the option name is empty"));
            }
            let value_pos = pair_pos + name.len() + 1;
            let name = percent_decode(name, true, pair_pos, "option name")?;
            let value = percent_decode(value, true, value_pos, "option value")?;
            let opt = Opt::lookup(&name).ok_or(E::UnknownOption { name })?;
            if self.seen.contains(&opt) {
                return Err(E::DuplicateOption {
                    name: opt.name().to_owned(),
                });
            }
            self.seen.push(opt);
            self.set(opt, &value)?;
        }
        Ok(())
    }

    fn set(&mut self, opt: Opt, v: &str) -> Result<(), E> {
        let non_empty = (!v.is_empty()).then_some(v);
        match opt {
            Opt::Tls => self.tls = Some(check(opt, v, parse_bool(v))?),
            Opt::TlsVerifyCert => self.tls_verify_cert = Some(check(opt, v, parse_bool(v))?),
            Opt::ConnectionName => {
                self.connection_name = Some(check(opt, v, non_empty)?.to_owned());
            }
            Opt::MaxDiscoverAttempts => {
                let n = parse_digits::<u32>(v).filter(|&n| n > 0);
                self.max_discover_attempts = Some(check(opt, v, n)?);
            }
            Opt::DiscoveryInterval => {
                let ms = check(opt, v, parse_digits(v))?;
                self.discovery_interval = Some(Duration::from_millis(ms));
            }
            Opt::GossipTimeout => {
                let secs = check(opt, v, positive(v))?;
                self.gossip_timeout = Some(Duration::from_secs(secs));
            }
            Opt::DefaultDeadline => {
                let secs = check(opt, v, positive(v))?;
                self.default_deadline = Some(Duration::from_secs(secs));
            }
            Opt::KeepAliveInterval => {
                let ms = check(opt, v, positive(v))?;
                self.keep_alive_interval = Some(Duration::from_millis(ms));
            }
            Opt::KeepAliveTimeout => {
                let ms = check(opt, v, positive(v))?;
                self.keep_alive_timeout = Some(Duration::from_millis(ms));
            }
            Opt::NodePreference => self.node_preference = Some(v.parse()?),
            Opt::TlsCaFile => self.tls_ca_file = Some(check(opt, v, non_empty)?.into()),
            Opt::UserCertFile => self.user_cert_file = Some(check(opt, v, non_empty)?.into()),
            Opt::UserKeyFile => self.user_key_file = Some(check(opt, v, non_empty)?.into()),
        }
        Ok(())
    }

    fn finish(
        self,
        discover: bool,
        endpoints: Vec<Endpoint>,
        credentials: Option<Credentials>,
    ) -> Result<ConnectionSettings, E> {
        match (&self.user_cert_file, &self.user_key_file) {
            (Some(_), None) => return Err(E::UserCertWithoutKey),
            (None, Some(_)) => return Err(E::UserKeyWithoutCert),
            _ => {}
        }
        Ok(ConnectionSettings {
            discover,
            endpoints,
            credentials,
            tls: self.tls.unwrap_or(true),
            tls_verify_cert: self.tls_verify_cert.unwrap_or(true),
            connection_name: self
                .connection_name
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            max_discover_attempts: self
                .max_discover_attempts
                .unwrap_or(ConnectionSettings::DEFAULT_MAX_DISCOVER_ATTEMPTS),
            discovery_interval: self
                .discovery_interval
                .unwrap_or(ConnectionSettings::DEFAULT_DISCOVERY_INTERVAL),
            gossip_timeout: self
                .gossip_timeout
                .unwrap_or(ConnectionSettings::DEFAULT_GOSSIP_TIMEOUT),
            node_preference: self.node_preference.unwrap_or_default(),
            tls_ca_file: self.tls_ca_file,
            default_deadline: self.default_deadline,
            keep_alive_interval: self.keep_alive_interval,
            keep_alive_timeout: self.keep_alive_timeout,
            user_cert_file: self.user_cert_file,
            user_key_file: self.user_key_file,
        })
    }
}

/// Turns a failed parse of option `opt`'s value `v` into an error.
fn check<T>(opt: Opt, v: &str, parsed: Option<T>) -> Result<T, E> {
    parsed.ok_or_else(|| E::InvalidOptionValue {
        name: opt.name().to_owned(),
        value: v.to_owned(),
        expected: opt.expected(),
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn positive(s: &str) -> Option<u64> {
    parse_digits::<u64>(s).filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> ConnectionSettings {
        s.parse()
            .unwrap_or_else(|e| panic!("{s:?} should parse, got: {e}"))
    }

    fn err(s: &str) -> ConnectionStringError {
        match s.parse::<ConnectionSettings>() {
            Ok(settings) => panic!("{s:?} should not parse, got {settings:?}"),
            Err(e) => e,
        }
    }

    fn hosts(s: &ConnectionSettings) -> Vec<String> {
        s.endpoints().iter().map(ToString::to_string).collect()
    }

    // ---- schemes -------------------------------------------------------

    #[test]
    fn every_scheme() {
        for (scheme, discover) in [
            ("kurrentdb", false),
            ("kurrentdb+discover", true),
            ("esdb", false),
            ("esdb+discover", true),
            ("kdb", false),
            ("kdb+discover", true),
            ("KurrentDB", false),
            ("KURRENTDB+DISCOVER", true),
            ("ESDB+Discover", true),
            ("Kdb", false),
        ] {
            let s = ok(&format!("{scheme}://localhost:2113"));
            assert_eq!(s.discover(), discover, "{scheme}");
            assert_eq!(hosts(&s), ["localhost:2113"], "{scheme}");
        }
    }

    #[test]
    fn legacy_schemes_equal_the_new_ones() {
        let a = ok("esdb://h:1?connectionName=x");
        let b = ok("kurrentdb://h:1?connectionName=x");
        let c = ok("kdb://h:1?connectionName=x");
        assert_eq!(a, b);
        assert_eq!(b, c);
        let a = ok("esdb+discover://h:1?connectionName=x");
        let b = ok("kurrentdb+discover://h:1?connectionName=x");
        assert_eq!(a, b);
        assert!(a.to_string().starts_with("kurrentdb+discover://h:1?"));
    }

    // ---- endpoints -----------------------------------------------------

    #[test]
    fn single_endpoint() {
        let s = ok("kurrentdb://node1.example.com:2114");
        assert_eq!(s.endpoints(), [Endpoint::new("node1.example.com", 2114)]);
    }

    #[test]
    fn many_endpoints() {
        let s = ok("kurrentdb://a.example.com:2113,b.example.com:2114,c.example.com,10.0.0.4:1");
        assert_eq!(
            hosts(&s),
            [
                "a.example.com:2113",
                "b.example.com:2114",
                "c.example.com:2113",
                "10.0.0.4:1"
            ]
        );
        assert!(!s.discover());
    }

    #[test]
    fn whitespace_around_endpoints_and_string_is_ignored() {
        let s = ok("  kurrentdb://a:1 , b:2 ?tls=false\n");
        assert_eq!(hosts(&s), ["a:1", "b:2"]);
        assert!(!s.tls());
    }

    #[test]
    fn default_port() {
        let s = ok("kurrentdb://localhost");
        assert_eq!(s.endpoints()[0].port, Endpoint::DEFAULT_PORT);
        assert_eq!(s.endpoints()[0].port, 2113);
        let s = ok("kurrentdb+discover://cluster.example.com?tls=false");
        assert_eq!(hosts(&s), ["cluster.example.com:2113"]);
        let s = ok("kurrentdb://[::1]");
        assert_eq!(hosts(&s), ["[::1]:2113"]);
    }

    #[test]
    fn ipv6_endpoints() {
        let s = ok("kurrentdb://[::1]:2113,[fe80::1:2]:2114,127.0.0.1:2115");
        assert_eq!(s.endpoints()[0], Endpoint::new("::1", 2113));
        assert_eq!(s.endpoints()[1].host, "fe80::1:2");
        assert_eq!(
            hosts(&s),
            ["[::1]:2113", "[fe80::1:2]:2114", "127.0.0.1:2115"]
        );
    }

    #[test]
    fn trailing_slash_is_allowed() {
        let s = ok("kurrentdb://localhost:2113/?tls=false");
        assert!(!s.tls());
        let s = ok("kurrentdb://localhost:2113/");
        assert!(s.tls());
        let s = ok("kurrentdb://localhost:2113?");
        assert!(s.tls());
    }

    #[test]
    fn port_with_leading_zeros_and_extremes() {
        assert_eq!(ok("kurrentdb://h:02113").endpoints()[0].port, 2113);
        assert_eq!(ok("kurrentdb://h:1").endpoints()[0].port, 1);
        assert_eq!(ok("kurrentdb://h:65535").endpoints()[0].port, 65535);
    }

    #[test]
    fn host_name_forms() {
        for h in [
            "localhost",
            "a-b.c_d.example",
            "example.com.",
            "1.2.3.4",
            "x1",
        ] {
            assert_eq!(ok(&format!("kurrentdb://{h}")).endpoints()[0].host, h);
        }
    }

    // ---- user info -----------------------------------------------------

    #[test]
    fn user_info() {
        let s = ok("kurrentdb://admin:changeit@localhost:2113");
        assert_eq!(s.username(), Some("admin"));
        assert_eq!(s.password(), Some("changeit"));
        let s = ok("kurrentdb://localhost:2113");
        assert_eq!(s.username(), None);
        assert_eq!(s.password(), None);
    }

    #[test]
    fn user_info_percent_decoded() {
        let s = ok("kurrentdb://us%40er%3Aname:p%40ss%3Aw%2Fo%3Frd%23%25+x@localhost");
        assert_eq!(s.username(), Some("us@er:name"));
        assert_eq!(
            s.password(),
            Some("p@ss:w/o?rd#% x".replace(' ', "+").as_str())
        );
        let s = ok("kurrentdb://%C3%A9mile:%E2%82%AC@localhost");
        assert_eq!(s.username(), Some("émile"));
        assert_eq!(s.password(), Some("€"));
    }

    #[test]
    fn password_may_contain_raw_colon_and_at() {
        let s = ok("kurrentdb://admin:a:b@c@localhost");
        assert_eq!(s.username(), Some("admin"));
        assert_eq!(s.password(), Some("a:b@c"));
        assert_eq!(hosts(&s), ["localhost:2113"]);
    }

    #[test]
    fn with_credentials() {
        let s = ok("kurrentdb://localhost?connectionName=c");
        let s2 = s.clone().with_credentials("u", "p").unwrap();
        assert_eq!(s2.username(), Some("u"));
        assert_eq!(s2.password(), Some("p"));
        assert_eq!(s2.without_credentials(), s);
        let e = s.clone().with_credentials("", "p").unwrap_err();
        assert_eq!(
            e,
            ConnectionStringError::InvalidUserInfo {
                reason: UserInfoIssue::EmptyUsername
            }
        );
        let e = s.with_credentials("u", "").unwrap_err();
        assert!(matches!(
            e,
            ConnectionStringError::InvalidUserInfo {
                reason: UserInfoIssue::EmptyPassword
            }
        ));
    }

    // ---- options -------------------------------------------------------

    #[test]
    fn option_defaults() {
        let s = ok("kurrentdb://localhost");
        assert!(s.tls());
        assert!(s.tls_verify_cert());
        assert_eq!(s.max_discover_attempts(), 10);
        assert_eq!(s.discovery_interval(), Duration::from_millis(100));
        assert_eq!(s.gossip_timeout(), Duration::from_secs(5));
        assert_eq!(s.node_preference(), NodePreference::Leader);
        assert_eq!(s.tls_ca_file(), None);
        assert_eq!(s.default_deadline(), None);
        assert_eq!(s.keep_alive_interval(), None);
        assert_eq!(s.keep_alive_timeout(), None);
        assert_eq!(s.user_cert_file(), None);
        assert_eq!(s.user_key_file(), None);
        assert!(!s.discover());
    }

    #[test]
    fn default_connection_name_is_a_fresh_v4_uuid() {
        let a = ok("kurrentdb://localhost");
        let b = ok("kurrentdb://localhost");
        let uuid = uuid::Uuid::parse_str(a.connection_name()).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        assert_eq!(a.connection_name(), uuid.to_string());
        assert_ne!(a.connection_name(), b.connection_name());
        assert_ne!(a, b);
    }

    #[test]
    fn every_option_set() {
        let s = ok("kurrentdb://localhost?tls=false&connectionName=my-app\
             &maxDiscoverAttempts=3&discoveryInterval=250&gossipTimeout=7\
             &nodePreference=follower&tlsVerifyCert=false&tlsCaFile=/etc/ca.pem\
             &defaultDeadline=30&keepAliveInterval=10000&keepAliveTimeout=2000\
             &userCertFile=/c/user.crt&userKeyFile=/c/user.key");
        assert!(!s.tls());
        assert_eq!(s.connection_name(), "my-app");
        assert_eq!(s.max_discover_attempts(), 3);
        assert_eq!(s.discovery_interval(), Duration::from_millis(250));
        assert_eq!(s.gossip_timeout(), Duration::from_secs(7));
        assert_eq!(s.node_preference(), NodePreference::Follower);
        assert!(!s.tls_verify_cert());
        assert_eq!(s.tls_ca_file(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(s.default_deadline(), Some(Duration::from_secs(30)));
        assert_eq!(s.keep_alive_interval(), Some(Duration::from_millis(10_000)));
        assert_eq!(s.keep_alive_timeout(), Some(Duration::from_millis(2_000)));
        assert_eq!(s.user_cert_file(), Some(Path::new("/c/user.crt")));
        assert_eq!(s.user_key_file(), Some(Path::new("/c/user.key")));
    }

    #[test]
    fn each_option_alone_with_explicit_default_values() {
        let base = ok("kurrentdb://h?connectionName=n");
        for q in [
            "tls=true",
            "maxDiscoverAttempts=10",
            "discoveryInterval=100",
            "gossipTimeout=5",
            "nodePreference=leader",
            "tlsVerifyCert=true",
        ] {
            assert_eq!(
                ok(&format!("kurrentdb://h?connectionName=n&{q}")),
                base,
                "{q}"
            );
        }
        assert!(ok("kurrentdb://h?tls=true").tls());
        assert_eq!(
            ok("kurrentdb://h?discoveryInterval=0").discovery_interval(),
            Duration::ZERO
        );
        assert_eq!(
            ok("kurrentdb://h?maxDiscoverAttempts=4294967295").max_discover_attempts(),
            u32::MAX
        );
    }

    #[test]
    fn node_preferences() {
        for (v, p) in [
            ("leader", NodePreference::Leader),
            ("Leader", NodePreference::Leader),
            ("follower", NodePreference::Follower),
            ("FOLLOWER", NodePreference::Follower),
            ("random", NodePreference::Random),
            ("readonlyreplica", NodePreference::ReadOnlyReplica),
            ("readOnlyReplica", NodePreference::ReadOnlyReplica),
            ("ReadOnlyReplica", NodePreference::ReadOnlyReplica),
        ] {
            let s = ok(&format!("kurrentdb://h?nodePreference={v}"));
            assert_eq!(s.node_preference(), p, "{v}");
        }
        assert_eq!(NodePreference::default(), NodePreference::Leader);
        assert_eq!(
            NodePreference::ReadOnlyReplica.to_string(),
            "readOnlyReplica"
        );
        assert_eq!(
            "RANDOM".parse::<NodePreference>(),
            Ok(NodePreference::Random)
        );
    }

    #[test]
    fn option_names_and_values_are_case_insensitive() {
        for q in [
            "tls=FALSE",
            "TLS=false",
            "Tls=False",
            "tLs=fAlSe",
            "TLSVERIFYCERT=FALSE&tls=false",
        ] {
            assert!(!ok(&format!("kurrentdb://h?{q}")).tls(), "{q}");
        }
        let s = ok(
            "kurrentdb://h?NODEPREFERENCE=ReadOnlyReplica&maxdiscoverattempts=2\
             &GOSSIPTIMEOUT=3&DiscoveryInterval=4&defaultdeadline=5&KEEPALIVEINTERVAL=6\
             &keepalivetimeout=7&CONNECTIONNAME=Name&TLSCAFILE=ca&USERCERTFILE=c&userkeyfile=k",
        );
        assert_eq!(s.node_preference(), NodePreference::ReadOnlyReplica);
        assert_eq!(s.max_discover_attempts(), 2);
        assert_eq!(s.gossip_timeout(), Duration::from_secs(3));
        assert_eq!(s.discovery_interval(), Duration::from_millis(4));
        assert_eq!(s.default_deadline(), Some(Duration::from_secs(5)));
        assert_eq!(s.keep_alive_interval(), Some(Duration::from_millis(6)));
        assert_eq!(s.keep_alive_timeout(), Some(Duration::from_millis(7)));
        // Free-form values keep their case.
        assert_eq!(s.connection_name(), "Name");
        assert_eq!(s.tls_ca_file(), Some(Path::new("ca")));
    }

    #[test]
    fn option_values_are_percent_and_form_decoded() {
        let s = ok(
            "kurrentdb://h?connectionName=my+app%2Fv%C3%A9&tlsCaFile=C%3A%5Ccerts%5Cca.pem\
             &t%6Cs=false",
        );
        assert_eq!(s.connection_name(), "my app/vé");
        assert_eq!(s.tls_ca_file(), Some(Path::new("C:\\certs\\ca.pem")));
        assert!(!s.tls());
        // '=' in a value is kept; '@' in the query is fine.
        let s = ok("kurrentdb://h?connectionName=a=b@c");
        assert_eq!(s.connection_name(), "a=b@c");
    }

    // ---- errors --------------------------------------------------------

    #[test]
    fn malformed_strings_give_specific_errors() {
        use ConnectionStringError as E;
        use UserInfoIssue as U;
        type Check = fn(&E) -> bool;
        let cases: Vec<(&str, Check)> = vec![
            ("", |e| matches!(e, E::Empty)),
            ("   \t", |e| matches!(e, E::Empty)),
            ("localhost:2113", |e| matches!(e, E::MissingScheme)),
            ("kurrentdb:localhost", |e| matches!(e, E::MissingScheme)),
            ("kurrentdb:/localhost", |e| matches!(e, E::MissingScheme)),
            ("://localhost", |e| matches!(e, E::MissingScheme)),
            (
                "http://localhost",
                |e| matches!(e, E::UnknownScheme { scheme } if scheme == "http"),
            ),
            (
                "esdb+gossip://localhost",
                |e| matches!(e, E::UnknownScheme { scheme } if scheme == "esdb+gossip"),
            ),
            ("kurrentdb://", |e| matches!(e, E::NoEndpoint)),
            ("kurrentdb://?tls=false", |e| matches!(e, E::NoEndpoint)),
            ("kurrentdb://admin:changeit@", |e| {
                matches!(e, E::NoEndpoint)
            }),
            ("kurrentdb:// /", |e| matches!(e, E::NoEndpoint)),
            ("kurrentdb+discover://a:2113,b:2113", |e| {
                matches!(e, E::DiscoverWithManyEndpoints { count: 2 })
            }),
            ("esdb+discover://a,b,c", |e| {
                matches!(e, E::DiscoverWithManyEndpoints { count: 3 })
            }),
            (
                "kurrentdb://a,,b",
                |e| matches!(e, E::InvalidHost { host, position: 14, .. } if host.is_empty()),
            ),
            ("kurrentdb://a,", |e| matches!(e, E::InvalidHost { .. })),
            (
                "kurrentdb://:2113",
                |e| matches!(e, E::InvalidHost { host, position: 12, .. } if host.is_empty()),
            ),
            (
                "kurrentdb://bad host:2113",
                |e| matches!(e, E::InvalidHost { host, .. } if host == "bad host"),
            ),
            ("kurrentdb://ho$t", |e| matches!(e, E::InvalidHost { .. })),
            ("kurrentdb://a..b", |e| matches!(e, E::InvalidHost { .. })),
            ("kurrentdb://-a.b", |e| matches!(e, E::InvalidHost { .. })),
            ("kurrentdb://256.1.1.1", |e| {
                matches!(e, E::InvalidHost { .. })
            }),
            ("kurrentdb://::1", |e| matches!(e, E::InvalidHost { .. })),
            ("kurrentdb://fe80::1:2113", |e| {
                matches!(e, E::InvalidHost { .. })
            }),
            ("kurrentdb://h:2113:2113", |e| {
                matches!(e, E::InvalidHost { .. })
            }),
            ("kurrentdb://[::1", |e| matches!(e, E::InvalidHost { .. })),
            (
                "kurrentdb://[nope]:2113",
                |e| matches!(e, E::InvalidHost { host, .. } if host == "nope"),
            ),
            ("kurrentdb://[::1]2113", |e| {
                matches!(e, E::InvalidHost { .. })
            }),
            ("kurrentdb://h%41st", |e| matches!(e, E::InvalidHost { .. })),
            ("kurrentdb://localhost:abc", |e| {
                matches!(e, E::InvalidPort { endpoint, port, position: 12 }
                    if endpoint == "localhost:abc" && port == "abc")
            }),
            (
                "kurrentdb://localhost:0",
                |e| matches!(e, E::InvalidPort { port, .. } if port == "0"),
            ),
            (
                "kurrentdb://localhost:65536",
                |e| matches!(e, E::InvalidPort { port, .. } if port == "65536"),
            ),
            ("kurrentdb://localhost:99999999999", |e| {
                matches!(e, E::InvalidPort { .. })
            }),
            (
                "kurrentdb://localhost:",
                |e| matches!(e, E::InvalidPort { port, .. } if port.is_empty()),
            ),
            ("kurrentdb://localhost:-1", |e| {
                matches!(e, E::InvalidPort { .. })
            }),
            ("kurrentdb://localhost:+2113", |e| {
                matches!(e, E::InvalidPort { .. })
            }),
            (
                "kurrentdb://a:1,b:x",
                |e| matches!(e, E::InvalidPort { endpoint, position: 16, .. } if endpoint == "b:x"),
            ),
            ("kurrentdb://[::1]:0", |e| {
                matches!(e, E::InvalidPort { .. })
            }),
            ("kurrentdb://admin@localhost", |e| {
                matches!(
                    e,
                    E::InvalidUserInfo {
                        reason: U::MissingPassword
                    }
                )
            }),
            ("kurrentdb://admin:@localhost", |e| {
                matches!(
                    e,
                    E::InvalidUserInfo {
                        reason: U::EmptyPassword
                    }
                )
            }),
            ("kurrentdb://:secret@localhost", |e| {
                matches!(
                    e,
                    E::InvalidUserInfo {
                        reason: U::EmptyUsername
                    }
                )
            }),
            ("kurrentdb://@localhost", |e| {
                matches!(e, E::InvalidUserInfo { reason: U::Empty })
            }),
            ("kurrentdb://admin:pa/ss@localhost", |e| {
                matches!(
                    e,
                    E::InvalidUserInfo {
                        reason: U::UnencodedDelimiter
                    }
                )
            }),
            ("kurrentdb://admin:pa?ss@localhost", |e| {
                matches!(
                    e,
                    E::InvalidUserInfo {
                        reason: U::UnencodedDelimiter
                    }
                )
            }),
            ("kurrentdb://admin:pa#ss@localhost", |e| {
                matches!(
                    e,
                    E::InvalidUserInfo {
                        reason: U::UnencodedDelimiter
                    }
                )
            }),
            ("kurrentdb://admin:p%zzss@localhost", |e| {
                matches!(
                    e,
                    E::InvalidPercentEncoding {
                        component: "password",
                        position: 19
                    }
                )
            }),
            ("kurrentdb://ad%4min:pass@localhost", |e| {
                matches!(
                    e,
                    E::InvalidPercentEncoding {
                        component: "username",
                        position: 14
                    }
                )
            }),
            ("kurrentdb://admin:pass%@localhost", |e| {
                matches!(
                    e,
                    E::InvalidPercentEncoding {
                        component: "password",
                        ..
                    }
                )
            }),
            ("kurrentdb://admin:%FF%FE@localhost", |e| {
                matches!(
                    e,
                    E::InvalidPercentEncoding {
                        component: "password",
                        ..
                    }
                )
            }),
            ("kurrentdb://h?connectionName=%G1", |e| {
                matches!(
                    e,
                    E::InvalidPercentEncoding {
                        component: "option value",
                        position: 29
                    }
                )
            }),
            ("kurrentdb://h?t%zls=true", |e| {
                matches!(
                    e,
                    E::InvalidPercentEncoding {
                        component: "option name",
                        ..
                    }
                )
            }),
            (
                "kurrentdb://localhost/streams",
                |e| matches!(e, E::UnexpectedPath { path, position: 21 } if path == "/streams"),
            ),
            (
                "kurrentdb://localhost#frag",
                |e| matches!(e, E::UnexpectedPath { path, .. } if path == "#frag"),
            ),
            ("kurrentdb://localhost//?tls=false", |e| {
                matches!(e, E::UnexpectedPath { .. })
            }),
            (
                "kurrentdb://h?tls",
                |e| matches!(e, E::MalformedQuery { text, position: 14, .. } if text == "tls"),
            ),
            (
                "kurrentdb://h?tls=false&",
                |e| matches!(e, E::MalformedQuery { text, position: 24, .. } if text.is_empty()),
            ),
            ("kurrentdb://h?&tls=false", |e| {
                matches!(e, E::MalformedQuery { .. })
            }),
            ("kurrentdb://h?tls=false&&gossipTimeout=1", |e| {
                matches!(e, E::MalformedQuery { .. })
            }),
            ("kurrentdb://h?=false", |e| {
                matches!(e, E::MalformedQuery { .. })
            }),
            ("kurrentdb://h?connectionName=a#b", |e| {
                matches!(e, E::MalformedQuery { .. })
            }),
            (
                "kurrentdb://h?foo=bar",
                |e| matches!(e, E::UnknownOption { name } if name == "foo"),
            ),
            (
                "kurrentdb://h?tls=false&TlsVerifyCerts=false",
                |e| matches!(e, E::UnknownOption { name } if name == "TlsVerifyCerts"),
            ),
            (
                "kurrentdb://h?tls=true&TLS=false",
                |e| matches!(e, E::DuplicateOption { name } if name == "tls"),
            ),
            (
                "kurrentdb://h?gossipTimeout=1&gossipTimeout=1",
                |e| matches!(e, E::DuplicateOption { name } if name == "gossipTimeout"),
            ),
            ("kurrentdb://h?tls=maybe", |e| {
                matches!(e, E::InvalidOptionValue { name, value, .. }
                    if name == "tls" && value == "maybe")
            }),
            ("kurrentdb://h?tls=", |e| {
                matches!(e, E::InvalidOptionValue { name, value, .. }
                    if name == "tls" && value.is_empty())
            }),
            ("kurrentdb://h?tls=1", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            (
                "kurrentdb://h?tlsVerifyCert=yes",
                |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "tlsVerifyCert"),
            ),
            ("kurrentdb://h?maxDiscoverAttempts=-1", |e| {
                matches!(e, E::InvalidOptionValue { name, value, .. }
                    if name == "maxDiscoverAttempts" && value == "-1")
            }),
            ("kurrentdb://h?maxDiscoverAttempts=0", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            ("kurrentdb://h?maxDiscoverAttempts=4294967296", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            ("kurrentdb://h?maxDiscoverAttempts=1.5", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            (
                "kurrentdb://h?discoveryInterval=fast",
                |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "discoveryInterval"),
            ),
            (
                "kurrentdb://h?gossipTimeout=0",
                |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "gossipTimeout"),
            ),
            ("kurrentdb://h?gossipTimeout=+5", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            ("kurrentdb://h?defaultDeadline=abc", |e| {
                matches!(e, E::InvalidOptionValue { name, value, .. }
                    if name == "defaultDeadline" && value == "abc")
            }),
            ("kurrentdb://h?defaultDeadline=0", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            (
                "kurrentdb://h?keepAliveInterval=-1",
                |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "keepAliveInterval"),
            ),
            (
                "kurrentdb://h?keepAliveTimeout=1s",
                |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "keepAliveTimeout"),
            ),
            ("kurrentdb://h?nodePreference=primary", |e| {
                matches!(e, E::InvalidOptionValue { name, value, .. }
                    if name == "nodePreference" && value == "primary")
            }),
            ("kurrentdb://h?nodePreference=read_only_replica", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            (
                "kurrentdb://h?connectionName=",
                |e| matches!(e, E::InvalidOptionValue { name, .. } if name == "connectionName"),
            ),
            ("kurrentdb://h?tlsCaFile=", |e| {
                matches!(e, E::InvalidOptionValue { .. })
            }),
            ("kurrentdb://h?userCertFile=/c.crt", |e| {
                matches!(e, E::UserCertWithoutKey)
            }),
            ("kurrentdb://h?userKeyFile=/c.key", |e| {
                matches!(e, E::UserKeyWithoutCert)
            }),
        ];
        assert!(cases.len() >= 30);
        for (input, check) in cases {
            let e = err(input);
            assert!(check(&e), "{input:?} gave the wrong error: {e:?} ({e})");
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn errors_and_debug_never_contain_the_password() {
        const PW: &str = "s3cr3tPW";
        let bad = [
            "kurrentdb://admin:s3cr3tPW@",
            "kurrentdb://admin:s3cr3tPW@host:abc",
            "kurrentdb://admin:s3cr3tPW@ho$t",
            "kurrentdb://admin:s3cr3tPW@a,,b",
            "kurrentdb+discover://admin:s3cr3tPW@a,b",
            "kurrentdb://admin:s3cr3tPW@host/path",
            "kurrentdb://admin:s3cr3tPW@host?foo=bar",
            "kurrentdb://admin:s3cr3tPW@host?tls=maybe",
            "kurrentdb://admin:s3cr3tPW@host?tls",
            "kurrentdb://admin:s3cr3tPW@host?userCertFile=x",
            "kurrentdb://admin:s3cr3tPW%zz@host",
            "kurrentdb://admin:s3cr3tPW%FF@host",
            "kurrentdb://:s3cr3tPW@host",
            "kurrentdb://admin:s3c/r3tPW@host",
            "kurrentdb://admin:s3c?r3tPW@host?tls=false",
            "kurrentdb://admin:s3c#r3tPW@host",
            "kurrentdb://admin:1234/s3cr3tPW@host",
            "kurrentdb://admin:1234?s3cr3tPW@host",
            "kurrentdb://admin:1234#s3cr3tPW@host",
            "admin:s3cr3tPW@localhost:2113",
            "admin:s3cr3tPW@kurrentdb://localhost",
            "http://admin:s3cr3tPW@localhost",
        ];
        for input in bad {
            let e = err(input);
            for shown in [e.to_string(), format!("{e:?}"), format!("{e:#?}")] {
                assert!(!shown.contains(PW), "{input:?} leaks the password: {shown}");
                assert!(
                    !shown.contains("r3tPW"),
                    "{input:?} leaks part of it: {shown}"
                );
            }
        }
        let s = ok("kurrentdb://admin:s3cr3tPW@host?tls=true");
        for shown in [s.to_string(), format!("{s:?}"), format!("{s:#?}")] {
            assert!(!shown.contains(PW), "leaks the password: {shown}");
        }
        assert!(format!("{s:?}").contains(r#"password: Some("***")"#));
        assert!(
            s.to_string()
                .starts_with("kurrentdb://admin:***@host:2113?")
        );
        assert!(s.to_connection_string_with_secrets().contains(PW));
    }

    // ---- display and round trips -------------------------------------

    #[test]
    fn canonical_display() {
        let s = ok("ESDB://[::1],b?TLS=FALSE&connectionName=my+app&nodePreference=READONLYREPLICA");
        assert_eq!(
            s.to_string(),
            "kurrentdb://[::1]:2113,b:2113?tls=false&connectionName=my%20app\
             &maxDiscoverAttempts=10&discoveryInterval=100&gossipTimeout=5\
             &nodePreference=readOnlyReplica&tlsVerifyCert=true"
        );
        let s = ok(
            "kdb+discover://u%3A:p@c?connectionName=x&tlsCaFile=/a b/ca.pem\
             &defaultDeadline=9&keepAliveInterval=8&keepAliveTimeout=7\
             &userCertFile=C:\\u.crt&userKeyFile=u.key",
        );
        assert_eq!(
            s.to_string(),
            "kurrentdb+discover://u%3A:***@c:2113?tls=true&connectionName=x\
             &maxDiscoverAttempts=10&discoveryInterval=100&gossipTimeout=5\
             &nodePreference=leader&tlsVerifyCert=true&tlsCaFile=/a%20b/ca.pem\
             &defaultDeadline=9&keepAliveInterval=8&keepAliveTimeout=7\
             &userCertFile=C:%5Cu.crt&userKeyFile=u.key"
        );
        assert_eq!(
            s.to_connection_string_with_secrets(),
            s.to_string().replace("***", "p")
        );
    }

    #[test]
    fn round_trips() {
        let without_password = [
            "kurrentdb://localhost",
            "esdb://localhost:2113?tls=false",
            "KDB+DISCOVER://cluster.example.com?nodePreference=random&gossipTimeout=30",
            "kurrentdb://[::1]:2113,[fe80::1]:1,10.0.0.1:3,host?maxDiscoverAttempts=1",
            "kurrentdb://h?connectionName=we%20ird+%26name%3D%2B%23%25%C3%A9",
            "kurrentdb://h?tlsCaFile=C%3A%5CProgram Files%5Cca.pem&tlsVerifyCert=FALSE",
            "kurrentdb://h?defaultDeadline=1&keepAliveInterval=1&keepAliveTimeout=99999",
            "kurrentdb://h?userCertFile=/a/b c.crt&userKeyFile=/a/b+c.key&discoveryInterval=0",
        ];
        for input in without_password {
            let s = ok(input);
            let shown = s.to_string();
            assert_eq!(ok(&shown), s, "{input:?} -> {shown:?}");
            assert_eq!(s.to_connection_string_with_secrets(), shown);
        }

        let with_password = [
            "kurrentdb://admin:changeit@localhost:2113",
            "esdb+discover://u:pw9x@cluster?tls=false&nodePreference=follower",
            "kurrentdb://us%40er:p%40ss%3Aw%2Fo%3Frd%23%25%20+%E2%82%AC@a,b,[::1]?defaultDeadline=5",
            "kurrentdb://admin:a:b@c@h?connectionName=x&userCertFile=c&userKeyFile=k",
            "kurrentdb://u:***@h",
        ];
        for input in with_password {
            let s = ok(input);
            let full = s.to_connection_string_with_secrets();
            assert_eq!(ok(&full), s, "{input:?} -> {full:?}");
            let masked = s.to_string();
            let pw = s.password().unwrap();
            if pw != "***" {
                assert!(!masked.contains(pw), "{masked}");
                assert_ne!(ok(&masked), s);
            }
            assert_eq!(ok(&masked).password(), Some("***"));
        }

        // Programmatic credentials round-trip too.
        let s = ok("kurrentdb://h")
            .with_credentials("ü s:er", "p@ss/w?rd#")
            .unwrap();
        assert_eq!(ok(&s.to_connection_string_with_secrets()), s);
    }

    #[test]
    fn endpoint_display() {
        assert_eq!(
            Endpoint::new("localhost", 2113).to_string(),
            "localhost:2113"
        );
        assert_eq!(Endpoint::new("::1", 1).to_string(), "[::1]:1");
        assert_eq!(Endpoint::new("10.0.0.1", 80).to_string(), "10.0.0.1:80");
    }
}
