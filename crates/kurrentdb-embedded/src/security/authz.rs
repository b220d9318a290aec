//! Authorization of each call of a secure server, as KurrentDB's default
//! (`acl`) policy decides it (`LegacyPolicySelectorFactory` and
//! `LegacyStreamPermissionAssertion` in `KurrentDB.Core/Authorization`):
//!
//! - stream read, write, delete, metadata read and metadata write need an
//!   authenticated caller (`AllowAnonymousStreamAccess` is off by default)
//!   who is in `$admins` (or is `admin`), or is named by the stream's ACL;
//!   a metadata stream `$$s` is read with `s`'s metadata-read rule and
//!   written with its metadata-write rule, and cannot be deleted; `$all`
//!   cannot be written or deleted, and is read with the rules of the system
//!   stream `$all`;
//! - a stream's ACL, per action: its own `$acl` (from the last event of
//!   `$$s`), else the `$userStreamAcl` or `$systemStreamAcl` (names starting
//!   with `$`) of the last `$settings` event, else KurrentDB's default:
//!   everyone (`$all`) for user streams, `$admins` for system streams;
//! - persistent subscriptions: create, update, delete, replay parked and
//!   restart need `$admins` or `$ops`; info and list an authenticated
//!   caller; reading a group an authenticated caller who may read its
//!   stream;
//! - projections: delete, restart and configuration need `$admins` or
//!   `$ops`, everything else an authenticated caller;
//! - users: everything `$admins`, but a user may read their own details and
//!   change their own password;
//! - gossip and server features: anyone (not checked).
//!
//! A refusal is `PERMISSION_DENIED` "Access Denied" with the trailer
//! `exception: access-denied` (`RpcExceptions.AccessDenied`), for an
//! anonymous caller too.
//!
//! The authentication layer (`security::auth`) puts an [`Access`] (the
//! caller and this server's [`Authorizer`]) in each request's extensions;
//! an insecure server puts none, and every check passes, as with
//! `--insecure`. Checking a stream costs one store read lock (two index
//! lookups) and one cache lookup: ACLs are parsed outside the store lock,
//! once per metadata event, and cached by its log position.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tonic::Status;
use tonic::metadata::MetadataValue;

use super::principal::{AuthenticatedUser, Principal};
use crate::store::Store;

/// Parsed ACLs remembered at most per cache; a full cache is emptied.
pub(crate) const ACL_CACHE_LIMIT: usize = 4096;

/// What a stream operation does (KurrentDB's `Operations.Streams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamAction {
    /// Read or subscribe.
    Read,
    /// Append.
    Write,
    /// Delete or tombstone.
    Delete,
}

/// An operation a caller asks for, as KurrentDB's policy names it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Operation<'a> {
    /// A stream operation (`$$s` and `$all` included).
    Stream(StreamAction, &'a [u8]),
    /// Persistent-subscription management (create, update, delete, replay
    /// parked, restart): `$admins` or `$ops`.
    SubscriptionsManage,
    /// Persistent-subscription info and list: authenticated.
    SubscriptionsStatistics,
    /// Reading a persistent-subscription group of a stream (`$all` for
    /// `$all`): authenticated and allowed to read the stream.
    SubscriptionsRead(&'a [u8]),
    /// Projection operations open to any authenticated caller.
    Projections,
    /// Projection deletion, restart and configuration: `$admins` or `$ops`.
    ProjectionsManage,
    /// The Operations service (scavenge start and stop, shutdown, merge
    /// indexes, resign, set priority): `$admins` or `$ops`
    /// (`Operations.Node.*` in KurrentDB's `LegacyPolicySelectorFactory`).
    NodeManage,
    /// User management: `$admins`.
    UsersManage,
    /// Reading a user's details: `$admins` or that user.
    UsersRead(&'a str),
    /// Changing a user's password: that user.
    UsersChangePassword(&'a str),
}

/// The caller of a request and the authorizer to ask: what
/// `security::auth` puts in the extensions of a secure server's requests.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub(crate) principal: Principal,
    pub(crate) authorizer: Arc<Authorizer>,
}

/// Checks `operation` for the caller of a request with these extensions:
/// `Ok` when allowed (always, on an insecure server), else KurrentDB's
/// access-denied status.
pub(crate) fn check(
    extensions: &tonic::Extensions,
    operation: Operation<'_>,
) -> Result<(), Status> {
    check_access(extensions.get::<Access>(), operation)
}

/// [`check`] for a request's [`Access`], taken out of its extensions
/// (`None` on an insecure server).
pub(crate) fn check_access(
    access: Option<&Access>,
    operation: Operation<'_>,
) -> Result<(), Status> {
    match access {
        None => Ok(()),
        Some(access) if access.authorizer.allows(&access.principal, operation) => Ok(()),
        Some(_) => Err(access_denied()),
    }
}

/// The login of the authenticated caller of a request with these
/// extensions; `None` for an anonymous caller, and on an insecure server.
pub(crate) fn login(extensions: &tonic::Extensions) -> Option<&str> {
    match &extensions.get::<Access>()?.principal {
        Principal::User(user) => Some(&user.login),
        Principal::Anonymous => None,
    }
}

/// `PERMISSION_DENIED` "Access Denied", `exception: access-denied`.
pub(crate) fn access_denied() -> Status {
    let mut status = Status::permission_denied("Access Denied");
    status
        .metadata_mut()
        .insert("exception", MetadataValue::from_static("access-denied"));
    status
}

/// One ACL: the roles (users or groups; `$all` for everyone) per action,
/// `None` where the ACL says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
struct Acl {
    read: Option<Vec<String>>,
    write: Option<Vec<String>>,
    delete: Option<Vec<String>>,
    meta_read: Option<Vec<String>>,
    meta_write: Option<Vec<String>>,
}

/// An ACL action, after mapping metadata-stream operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AclAction {
    Read,
    Write,
    Delete,
    MetaRead,
    MetaWrite,
}

impl Acl {
    /// Parses an ACL object (`{"$r": "x", "$w": ["a", "b"], ...}`); a
    /// value that is neither a string nor an array of strings counts as
    /// absent (KurrentDB refuses such metadata as a whole).
    fn from_json(value: &serde_json::Value) -> Option<Acl> {
        let object = value.as_object()?;
        let roles = |key: &str| match object.get(key)? {
            serde_json::Value::String(s) => Some(vec![s.clone()]),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        Some(Acl {
            read: roles("$r"),
            write: roles("$w"),
            delete: roles("$d"),
            meta_read: roles("$mr"),
            meta_write: roles("$mw"),
        })
    }

    fn roles(&self, action: AclAction) -> Option<&[String]> {
        match action {
            AclAction::Read => self.read.as_deref(),
            AclAction::Write => self.write.as_deref(),
            AclAction::Delete => self.delete.as_deref(),
            AclAction::MetaRead => self.meta_read.as_deref(),
            AclAction::MetaWrite => self.meta_write.as_deref(),
        }
    }
}

/// The ACLs of `$settings` (`SystemSettings`).
#[derive(Debug, Clone, Default)]
struct Settings {
    user: Option<Acl>,
    system: Option<Acl>,
}

/// A metadata or settings event's data, parsed once.
#[derive(Debug, Clone)]
enum Parsed {
    Metadata(Option<Acl>),
    Settings(Settings),
}

fn parse_metadata(data: &[u8]) -> Parsed {
    let value: Option<serde_json::Value> = serde_json::from_slice(data).ok();
    Parsed::Metadata(value.as_ref().and_then(|v| Acl::from_json(v.get("$acl")?)))
}

fn parse_settings(data: &[u8]) -> Parsed {
    let value: Option<serde_json::Value> = serde_json::from_slice(data).ok();
    let acl = |key: &str| Acl::from_json(value.as_ref()?.get(key)?);
    Parsed::Settings(Settings {
        user: acl("$userStreamAcl"),
        system: acl("$systemStreamAcl"),
    })
}

/// Decides what callers may do, against one store's metadata.
#[derive(Debug)]
pub(crate) struct Authorizer {
    store: Arc<Store>,
    /// Parsed metadata and settings events, by log position.
    parsed: Mutex<HashMap<u64, Arc<Parsed>>>,
}

const ADMINS: &str = "$admins";
const OPS: &str = "$ops";
const EVERYONE: &str = "$all";

impl AuthenticatedUser {
    /// Whether the user is `role`: their login or one of their groups
    /// (KurrentDB's claims of type name and role).
    fn is(&self, role: &str) -> bool {
        self.is_named(role) || self.groups.iter().any(|g| g == role)
    }

    /// Whether the caller's name claim is `name`.
    fn is_named(&self, name: &str) -> bool {
        self.named && self.login == name
    }

    /// The login `admin` counts as an administrator even outside `$admins`,
    /// and `ops` as an operator outside `$ops`: KurrentDB grants by a name
    /// claim as well as by role (`WellKnownAssertions.Admin` is "name admin
    /// or role $admins"; `LegacyPolicySelectorFactory`'s `Admins` and
    /// `OperationsOrAdmins` list `SystemUsers.Admin` and `SystemUsers.Operations`
    /// beside the roles), so removing them from their group changes nothing.
    fn is_admin(&self) -> bool {
        self.is(ADMINS) || self.is_named("admin")
    }

    fn is_ops_or_admin(&self) -> bool {
        self.is_admin() || self.is(OPS) || self.is_named("ops")
    }
}

impl Authorizer {
    /// An authorizer over `store`.
    pub(crate) fn new(store: Arc<Store>) -> Authorizer {
        Authorizer {
            store,
            parsed: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `principal` may perform `operation`.
    pub(crate) fn allows(&self, principal: &Principal, operation: Operation<'_>) -> bool {
        let Principal::User(user) = principal else {
            // Nothing checked here is open to anonymous callers.
            return false;
        };
        match operation {
            Operation::Stream(action, stream) => self.stream_allows(user, action, stream),
            Operation::SubscriptionsRead(stream) => {
                self.stream_allows(user, StreamAction::Read, stream)
            }
            Operation::SubscriptionsStatistics | Operation::Projections => true,
            Operation::SubscriptionsManage
            | Operation::ProjectionsManage
            | Operation::NodeManage => user.is_ops_or_admin(),
            Operation::UsersManage => user.is_admin(),
            Operation::UsersRead(login) => user.is_admin() || user.is_named(login),
            Operation::UsersChangePassword(login) => user.is_named(login),
        }
    }

    fn stream_allows(&self, user: &AuthenticatedUser, action: StreamAction, stream: &[u8]) -> bool {
        let (base, action) = match stream.strip_prefix(b"$$") {
            Some(base) => match action {
                StreamAction::Read => (base, AclAction::MetaRead),
                StreamAction::Write => (base, AclAction::MetaWrite),
                // `invalid metadata operation`: denied, even to admins.
                StreamAction::Delete => return false,
            },
            None => {
                let action = match action {
                    StreamAction::Read => AclAction::Read,
                    StreamAction::Write => AclAction::Write,
                    StreamAction::Delete => AclAction::Delete,
                };
                (stream, action)
            }
        };
        if base == b"$all" && matches!(action, AclAction::Write | AclAction::Delete) {
            return false;
        }
        if user.is_admin() {
            return true;
        }
        self.roles_allow(user, base, action)
    }

    /// The effective ACL's roles for `action` on `stream` (see the module
    /// docs) name `user` or everyone.
    fn roles_allow(&self, user: &AuthenticatedUser, stream: &[u8], action: AclAction) -> bool {
        let sources = self.store.acl_sources(stream);
        let metadata = sources
            .metadata
            .map(|(position, data)| self.parsed(position, data, parse_metadata));
        let settings = sources
            .settings
            .map(|(position, data)| self.parsed(position, data, parse_settings));
        let system = stream.starts_with(b"$");
        let stream_acl = match metadata.as_deref() {
            Some(Parsed::Metadata(acl)) => acl.as_ref(),
            _ => None,
        };
        let settings_acl = match settings.as_deref() {
            Some(Parsed::Settings(s)) if system => s.system.as_ref(),
            Some(Parsed::Settings(s)) => s.user.as_ref(),
            _ => None,
        };
        let roles = stream_acl
            .and_then(|a| a.roles(action))
            .or_else(|| settings_acl.and_then(|a| a.roles(action)));
        match roles {
            Some(roles) => roles.iter().any(|r| r == EVERYONE || user.is(r)),
            // KurrentDB's defaults: everyone on user streams, `$admins`
            // (already let through) on system streams.
            None => !system,
        }
    }

    /// The parsed form of the event at `position`, parsing `data` on a
    /// miss (outside the store lock; the cache's own lock is not held
    /// while parsing either).
    fn parsed(&self, position: u64, data: Bytes, parse: fn(&[u8]) -> Parsed) -> Arc<Parsed> {
        if let Some(parsed) = self.parsed.lock().get(&position) {
            return parsed.clone();
        }
        let parsed = Arc::new(parse(&data));
        let mut cache = self.parsed.lock();
        if cache.len() >= ACL_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(position, parsed.clone());
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acls_parse_as_kurrentdb_reads_them() {
        let v = serde_json::json!({"$r": "alice", "$w": ["a", "$ops"], "$d": 3, "$mw": [1]});
        let acl = Acl::from_json(&v).unwrap();
        assert_eq!(acl.read, Some(vec!["alice".to_owned()]));
        assert_eq!(acl.write, Some(vec!["a".to_owned(), "$ops".to_owned()]));
        assert_eq!(acl.delete, None);
        assert_eq!(acl.meta_read, None);
        assert_eq!(acl.meta_write, None);
        assert!(Acl::from_json(&serde_json::json!("x")).is_none());
        let Parsed::Settings(s) = parse_settings(br#"{"$systemStreamAcl": {"$r": "$all"}}"#) else {
            panic!()
        };
        assert!(s.user.is_none());
        assert_eq!(s.system.unwrap().read, Some(vec!["$all".to_owned()]));
        let Parsed::Metadata(none) = parse_metadata(b"not json") else {
            panic!()
        };
        assert!(none.is_none());
    }
}
