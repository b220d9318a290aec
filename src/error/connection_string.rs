//! Why a connection string could not be parsed: [`ConnectionStringError`], and
//! [`UserInfoIssue`] for the user info, which never carries the password.

use std::fmt;

/// What is wrong with the user info (`user:pass@`) part of a connection string,
/// or with credentials given to
/// [`ConnectionSettings::with_credentials`](crate::ConnectionSettings::with_credentials).
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
