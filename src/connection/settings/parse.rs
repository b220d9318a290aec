//! Taking a connection string apart: the scheme, the user info and the
//! endpoints here, the `?query` options through `query`. What comes out is a
//! [`Parsed`] string, which `ConnectionSettings` completes with its defaults.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::query::Options;
use super::text::{parse_digits, percent_decode};
use crate::endpoint::Endpoint;
use crate::error::connection_string::{ConnectionStringError as E, UserInfoIssue};

/// The user info of a connection string: both parts percent-decoded, neither
/// empty.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct UserInfo {
    pub(super) username: String,
    pub(super) password: String,
}

/// A connection string taken apart, before the defaults of the options it
/// leaves out are filled in.
pub(super) struct Parsed {
    pub(super) discover: bool,
    pub(super) endpoints: Vec<Endpoint>,
    pub(super) user_info: Option<UserInfo>,
    pub(super) options: Options,
}

pub(super) fn parse(input: &str) -> Result<Parsed, E> {
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

    let (user_info, hosts, hosts_pos) = match authority.rfind('@') {
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

    let mut options = Options::default();
    if let Some((query, query_pos)) = query {
        options.parse_query(query, query_pos)?;
    }
    options.check_user_certificate()?;
    Ok(Parsed {
        discover,
        endpoints,
        user_info,
        options,
    })
}

fn is_scheme_syntax(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn parse_userinfo(userinfo: &str, pos: usize) -> Result<UserInfo, E> {
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
    Ok(UserInfo { username, password })
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
