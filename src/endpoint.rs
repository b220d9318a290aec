//! [`Endpoint`]: a `host:port` address of a node. The connection string names
//! endpoints, gossip reports them and a not-leader error carries one, so it is
//! its own small module, below [`crate::connection`] and [`crate::error`]
//! (published as [`crate::connection::settings::Endpoint`] and at the crate
//! root).

use std::fmt;

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
    /// `host:port`, with an IPv6 host in brackets: the form a connection string
    /// and a gRPC target URI both take.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An IPv6 address (it has colons) goes in brackets, unless it already is.
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}
