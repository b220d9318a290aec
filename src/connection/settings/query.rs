//! The `?name=value` options of a connection string: which exist, how each
//! value is checked, and the defaults filled in when one is not given.

use std::path::PathBuf;
use std::time::Duration;

use super::parse::{parse_digits, percent_decode};
use super::{ConnectionSettings, Credentials, E, Endpoint, NodePreference};

/// The supported options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opt {
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

    pub(super) fn name(self) -> &'static str {
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

    pub(super) fn expected(self) -> &'static str {
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

    pub(super) fn finish(
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
            pem: Default::default(),
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
