//! The `?name=value` options of a connection string: which exist, how each
//! value is checked, and [`NodePreference`], the one option value with a type
//! of its own. The defaults of the options not given are filled in by
//! `ConnectionSettings`, which declares them.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::text::{parse_digits, percent_decode};
use crate::error::connection_string::ConnectionStringError;

type E = ConnectionStringError;

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
pub(super) struct Options {
    seen: Vec<Opt>,
    pub(super) tls: Option<bool>,
    pub(super) tls_verify_cert: Option<bool>,
    pub(super) connection_name: Option<String>,
    pub(super) max_discover_attempts: Option<u32>,
    pub(super) discovery_interval: Option<Duration>,
    pub(super) gossip_timeout: Option<Duration>,
    pub(super) node_preference: Option<NodePreference>,
    pub(super) tls_ca_file: Option<PathBuf>,
    pub(super) default_deadline: Option<Duration>,
    pub(super) keep_alive_interval: Option<Duration>,
    pub(super) keep_alive_timeout: Option<Duration>,
    pub(super) user_cert_file: Option<PathBuf>,
    pub(super) user_key_file: Option<PathBuf>,
}

impl Options {
    pub(super) fn parse_query(&mut self, query: &str, pos: usize) -> Result<(), E> {
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

    /// The user certificate's two files are given together or not at all.
    pub(super) fn check_user_certificate(&self) -> Result<(), E> {
        match (&self.user_cert_file, &self.user_key_file) {
            (Some(_), None) => Err(E::UserCertWithoutKey),
            (None, Some(_)) => Err(E::UserKeyWithoutCert),
            _ => Ok(()),
        }
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
