//! Who makes a call: what authentication (`auth`, `oauth`) finds and
//! authorization (`authz`) decides on.

use std::sync::Arc;

/// Who makes a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// No (usable) credentials.
    Anonymous,
    /// An authenticated user.
    User(Arc<AuthenticatedUser>),
}

/// A user whose credentials were verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthenticatedUser {
    /// The login.
    pub(crate) login: String,
    /// The user's groups (roles), such as `$admins`.
    pub(crate) groups: Vec<String>,
    /// Whether `login` is the caller's name claim, which authorization
    /// matches as KurrentDB does (a user's login, a certificate's common
    /// name, a token's `unique_name`); false for a token's subject, which
    /// names the caller in logs and connection lists only.
    pub(crate) named: bool,
}
