//! Stream ids and the scheme that maps them, and tenants, to KurrentDB stream
//! names.
//!
//! # The naming scheme
//!
//! | what | KurrentDB stream name |
//! | --- | --- |
//! | a [`StreamId`] without a category | its id text: `order-7`, `3f2b…-…`, `42` |
//! | a [`StreamId`] with a category | `{category}-{id}`: `cart-3f2b…` |
//! | the same, in a store scoped for tenant `acme` | `tenant:acme:{name}` |
//! | the snapshots of stream `{name}` | `snapshot-{name}` (inside the tenant prefix: `tenant:acme:snapshot-{name}`) |
//!
//! The id text of a UUID is its lowercase hyphenated form, that of an integer
//! its decimal digits. Tenant ids cannot contain `:`, so a scoped name has one
//! reading and no two tenants share a stream. To keep the scheme free of
//! ambiguity, stream names are checked when used: a name must not be empty,
//! must not start with `$` (KurrentDB's system streams) or with `snapshot-`
//! (snapshot streams), and in the default (unscoped) store must not start with
//! `tenant:` (tenants' streams).
//!
//! Snapshots use a prefix rather than a suffix so that a snapshot stream never
//! joins its aggregate's category: KurrentDB's `$ce-cart` projection takes the
//! part of the name before the first `-`, so `cart-1` is in category `cart`
//! while `snapshot-cart-1` is in category `snapshot`.

use std::fmt;

use uuid::Uuid;

use crate::error::EventStoreError;

/// The prefix of every stream of a tenant's store: `tenant:{tenant_id}:`.
pub const TENANT_PREFIX: &str = "tenant:";
/// The prefix of the snapshot stream of each stream: `snapshot-{stream}`.
pub const SNAPSHOT_PREFIX: &str = "snapshot-";
/// The tenant of an unscoped store. Scoping a store for this tenant gives the
/// unscoped store back: its stream names carry no prefix.
pub const DEFAULT_TENANT: &str = "default";

/// Identifies a stream: an id (a name, a UUID or an integer, as text) and an
/// optional category.
///
/// The stream's KurrentDB name is the id, or `{category}-{id}` with a category
/// (see the [module docs](self) for the whole scheme). Every operation of the
/// store takes `impl Into<StreamId>`, so a `&str`, a `String`, a [`Uuid`], an
/// integer, a `StreamId` or a `&StreamId` can be passed.
///
/// ```
/// use kurrentdb_event_store::StreamId;
/// use uuid::Uuid;
///
/// assert_eq!(StreamId::from("order-7").name(), "order-7");
/// assert_eq!(StreamId::from(42).name(), "42");
/// let uuid = Uuid::nil();
/// assert_eq!(
///     StreamId::from(uuid).with_category("cart").name(),
///     "cart-00000000-0000-0000-0000-000000000000"
/// );
/// // A new id is a random UUID.
/// assert_ne!(StreamId::new(), StreamId::new());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId {
    id: String,
    category: Option<String>,
}

impl StreamId {
    /// A new stream id: a random (v4) UUID, without a category.
    ///
    /// ```
    /// let id = kurrentdb_event_store::StreamId::new();
    /// assert!(uuid::Uuid::parse_str(id.id()).is_ok());
    /// ```
    pub fn new() -> Self {
        StreamId::from(Uuid::new_v4())
    }

    /// A stream id from a name.
    ///
    /// ```
    /// assert_eq!(kurrentdb_event_store::StreamId::named("orders").name(), "orders");
    /// ```
    pub fn named(name: impl Into<String>) -> Self {
        StreamId {
            id: name.into(),
            category: None,
        }
    }

    /// Puts the stream in a category: its name becomes `{category}-{id}`.
    ///
    /// ```
    /// let id = kurrentdb_event_store::StreamId::from(7).with_category("cart");
    /// assert_eq!(id.name(), "cart-7");
    /// ```
    pub fn with_category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// The id text (a name, a hyphenated UUID, or decimal digits).
    ///
    /// ```
    /// let id = kurrentdb_event_store::StreamId::from(7).with_category("cart");
    /// assert_eq!(id.id(), "7");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The category, if any.
    ///
    /// ```
    /// let id = kurrentdb_event_store::StreamId::from(7).with_category("cart");
    /// assert_eq!(id.category(), Some("cart"));
    /// ```
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }

    /// The stream's name in an unscoped store: the id, or `{category}-{id}`.
    ///
    /// ```
    /// let id = kurrentdb_event_store::StreamId::from("42").with_category("cart");
    /// assert_eq!(id.name(), "cart-42");
    /// ```
    pub fn name(&self) -> String {
        match &self.category {
            Some(category) => format!("{category}-{}", self.id),
            None => self.id.clone(),
        }
    }
}

impl Default for StreamId {
    /// A new random id, as [`StreamId::new`].
    fn default() -> Self {
        StreamId::new()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.category {
            Some(category) => write!(f, "{category}-{}", self.id),
            None => f.write_str(&self.id),
        }
    }
}

impl From<&StreamId> for StreamId {
    fn from(id: &StreamId) -> Self {
        id.clone()
    }
}

impl From<&str> for StreamId {
    fn from(name: &str) -> Self {
        StreamId::named(name)
    }
}

impl From<String> for StreamId {
    fn from(name: String) -> Self {
        StreamId::named(name)
    }
}

impl From<&String> for StreamId {
    fn from(name: &String) -> Self {
        StreamId::named(name.as_str())
    }
}

impl From<Uuid> for StreamId {
    fn from(id: Uuid) -> Self {
        StreamId::named(id.hyphenated().to_string())
    }
}

macro_rules! from_integer {
    ($($ty:ty),*) => {$(
        impl From<$ty> for StreamId {
            fn from(id: $ty) -> Self {
                StreamId::named(id.to_string())
            }
        }
    )*};
}

from_integer!(i32, i64, u32, u64, usize);

/// Checks a tenant id: not empty, no `:`.
pub(crate) fn check_tenant_id(tenant_id: &str) -> Result<(), EventStoreError> {
    let reason = if tenant_id.is_empty() {
        "a tenant id must not be empty"
    } else if tenant_id.contains(':') {
        "a tenant id must not contain ':'"
    } else {
        return Ok(());
    };
    Err(EventStoreError::InvalidTenantId {
        tenant_id: tenant_id.to_owned(),
        reason: reason.to_owned(),
    })
}

/// The KurrentDB name of a stream id in a store scoped for `tenant` (`None`:
/// unscoped), after checking it against the scheme.
pub(crate) fn stream_name(tenant: Option<&str>, id: &StreamId) -> Result<String, EventStoreError> {
    let name = id.name();
    let reason = if id.id.is_empty() {
        Some("a stream id must not be empty")
    } else if name.starts_with('$') {
        Some("a stream name must not start with '$' (system streams)")
    } else if name.starts_with(SNAPSHOT_PREFIX) {
        Some("a stream name must not start with 'snapshot-' (snapshot streams)")
    } else if tenant.is_none() && name.starts_with(TENANT_PREFIX) {
        Some("a stream name must not start with 'tenant:' (tenants' streams)")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(EventStoreError::InvalidStreamId {
            stream_id: name,
            reason: reason.to_owned(),
        });
    }
    Ok(match tenant {
        Some(tenant) => format!("{TENANT_PREFIX}{tenant}:{name}"),
        None => name,
    })
}

/// The KurrentDB name of the snapshot stream of a stream id.
pub(crate) fn snapshot_stream_name(
    tenant: Option<&str>,
    id: &StreamId,
) -> Result<String, EventStoreError> {
    stream_name(tenant, id)?;
    let snapshot = format!("{SNAPSHOT_PREFIX}{}", id.name());
    Ok(match tenant {
        Some(tenant) => format!("{TENANT_PREFIX}{tenant}:{snapshot}"),
        None => snapshot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_maps_to_its_text() {
        let uuid = Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        assert_eq!(
            StreamId::from(uuid).name(),
            "67e55044-10b1-426f-9247-bb680e5fe0c8"
        );
        assert_eq!(StreamId::from(-3i64).name(), "-3");
        assert_eq!(StreamId::from(7u64).name(), "7");
        assert_eq!(StreamId::from(String::from("a")).name(), "a");
        assert_eq!(StreamId::from(&StreamId::from("b")).to_string(), "b");
    }

    #[test]
    fn tenant_and_snapshot_names() {
        let id = StreamId::from(1).with_category("cart");
        assert_eq!(stream_name(None, &id).unwrap(), "cart-1");
        assert_eq!(
            stream_name(Some("acme"), &id).unwrap(),
            "tenant:acme:cart-1"
        );
        assert_eq!(snapshot_stream_name(None, &id).unwrap(), "snapshot-cart-1");
        assert_eq!(
            snapshot_stream_name(Some("acme"), &id).unwrap(),
            "tenant:acme:snapshot-cart-1"
        );
        // A scoped store may use a name that looks like another tenant's: it
        // gets its own prefix, so it cannot reach the other tenant's stream.
        assert_eq!(
            stream_name(Some("a"), &StreamId::from("tenant:b:x")).unwrap(),
            "tenant:a:tenant:b:x"
        );
    }

    #[test]
    fn reserved_names_are_refused() {
        for name in ["", "$all", "snapshot-x", "tenant:a:x"] {
            let err = stream_name(None, &StreamId::from(name)).unwrap_err();
            assert!(
                matches!(err, EventStoreError::InvalidStreamId { .. }),
                "{name}"
            );
        }
        assert!(stream_name(Some("a"), &StreamId::from("snapshot-x")).is_err());
        assert!(check_tenant_id("a:b").is_err());
        assert!(check_tenant_id("").is_err());
        assert!(check_tenant_id("acme").is_ok());
    }
}
