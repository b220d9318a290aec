//! Events as user types: the [`Event`] trait, the [`impl_event!`](crate::impl_event)
//! macro, and the [`WrappedEvent`] envelope with version, id, times and
//! metadata.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::time::{format_rfc3339, parse_rfc3339, truncate_to_micros};

/// A domain event type: serde-serializable, with a name for each kind of event
/// it holds.
///
/// The name ([`event_type`](Event::event_type)) is recorded as the KurrentDB
/// event type; the value itself, encoded by the store's [`Codec`](crate::Codec),
/// is the payload. When loading, an event whose recorded type is not in
/// [`EVENT_TYPES`](Event::EVENT_TYPES) is an unknown event type (an error, or
/// skipped: see [`UnknownEventPolicy`](crate::UnknownEventPolicy)).
///
/// Usually one enum holds all of an aggregate's events, and
/// [`impl_event!`](crate::impl_event) writes the impl, naming each event after
/// its variant:
///
/// ```
/// use kurrentdb_event_store::{Event, impl_event};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Serialize, Deserialize)]
/// #[serde(tag = "type")]
/// enum CartEvent {
///     ItemAdded { sku: String },
///     CheckedOut,
/// }
/// impl_event!(enum CartEvent { ItemAdded, CheckedOut });
///
/// assert_eq!(CartEvent::CheckedOut.event_type(), "CheckedOut");
/// assert_eq!(CartEvent::EVENT_TYPES, ["ItemAdded", "CheckedOut"]);
/// ```
///
/// Written by hand, for instance to choose other names:
///
/// ```
/// use kurrentdb_event_store::Event;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct OrderPlaced {
///     total: u64,
/// }
///
/// impl Event for OrderPlaced {
///     const EVENT_TYPES: &'static [&'static str] = &["order.placed.v1"];
///     fn event_type(&self) -> &'static str {
///         "order.placed.v1"
///     }
/// }
/// ```
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Every event type name this type can be loaded from.
    const EVENT_TYPES: &'static [&'static str];

    /// This value's event type name (one of [`EVENT_TYPES`](Event::EVENT_TYPES)).
    fn event_type(&self) -> &'static str;

    /// Whether a recorded event type is one this type knows.
    ///
    /// ```
    /// # use kurrentdb_event_store::{Event, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// impl_event!(struct Pinged);
    /// assert!(Pinged::knows_event_type("Pinged"));
    /// assert!(!Pinged::knows_event_type("Ponged"));
    /// ```
    fn knows_event_type(event_type: &str) -> bool {
        Self::EVENT_TYPES.contains(&event_type)
    }
}

/// Implements [`Event`] for an enum (each variant is an event type named after
/// it; list every variant) or a struct (one event type, named after the struct
/// or given explicitly).
///
/// ```
/// use kurrentdb_event_store::{Event, impl_event};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// enum Account {
///     Opened { owner: String },
///     Deposited(u64),
///     Closed,
/// }
/// impl_event!(enum Account { Opened, Deposited, Closed });
///
/// #[derive(Serialize, Deserialize)]
/// struct Pinged;
/// impl_event!(struct Pinged);
///
/// #[derive(Serialize, Deserialize)]
/// struct CartState {
///     items: Vec<String>,
/// }
/// impl_event!(struct CartState = "CartSnapshot");
///
/// assert_eq!(Account::Deposited(5).event_type(), "Deposited");
/// assert_eq!(Pinged.event_type(), "Pinged");
/// assert_eq!(CartState { items: vec![] }.event_type(), "CartSnapshot");
/// ```
#[macro_export]
macro_rules! impl_event {
    (enum $ty:ident { $($variant:ident),+ $(,)? }) => {
        impl $crate::Event for $ty {
            const EVENT_TYPES: &'static [&'static str] = &[$(stringify!($variant)),+];
            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => stringify!($variant),)+
                }
            }
        }
    };
    (struct $ty:ident) => {
        $crate::impl_event!(struct $ty = stringify!($ty));
    };
    (struct $ty:ident = $name:expr) => {
        impl $crate::Event for $ty {
            const EVENT_TYPES: &'static [&'static str] = &[$name];
            fn event_type(&self) -> &'static str {
                $name
            }
        }
    };
}

/// The metadata recorded with an event: correlation and causation ids, and
/// any other string keys.
///
/// Stored as a JSON object of strings in the KurrentDB event's metadata, with
/// KurrentDB's conventional keys `$correlationId` and `$causationId`, beside
/// `created_at` (written by the store). Custom keys named like those are
/// overwritten by them.
///
/// ```
/// use kurrentdb_event_store::EventMetadata;
/// use uuid::Uuid;
///
/// let metadata = EventMetadata::default()
///     .with_correlation_id(Uuid::nil())
///     .with("user", "alice");
/// assert_eq!(metadata.custom["user"], "alice");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMetadata {
    /// The id of the request or process this event belongs to.
    pub correlation_id: Option<Uuid>,
    /// The id of the message (command or event) that caused this event.
    pub causation_id: Option<Uuid>,
    /// Any other keys.
    pub custom: BTreeMap<String, String>,
}

impl EventMetadata {
    /// Sets the correlation id.
    pub fn with_correlation_id(mut self, id: Uuid) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Sets the causation id.
    pub fn with_causation_id(mut self, id: Uuid) -> Self {
        self.causation_id = Some(id);
        self
    }

    /// Sets a custom key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.custom.insert(key.into(), value.into());
        self
    }
}

pub(crate) const CORRELATION_ID_KEY: &str = "$correlationId";
pub(crate) const CAUSATION_ID_KEY: &str = "$causationId";
pub(crate) const CREATED_AT_KEY: &str = "created_at";
pub(crate) const SNAPSHOT_VERSION_KEY: &str = "snapshot_version";
const RESERVED_KEYS: [&str; 4] = [
    CORRELATION_ID_KEY,
    CAUSATION_ID_KEY,
    CREATED_AT_KEY,
    SNAPSHOT_VERSION_KEY,
];

/// An event with its envelope: id, version, times, commit position and
/// metadata.
///
/// Make one with [`WrappedEvent::new`] (or `.into()` from the event) to
/// append; the store fills `version`, `recorded_at` and `position` when it
/// loads one. For a snapshot, `event` is the aggregate's state and `version`
/// the version of the last event the state includes.
///
/// ```
/// use kurrentdb_event_store::{WrappedEvent, impl_event};
/// use serde::{Deserialize, Serialize};
/// use uuid::Uuid;
///
/// #[derive(Debug, Serialize, Deserialize)]
/// struct Pinged;
/// impl_event!(struct Pinged);
///
/// let command_id = Uuid::new_v4();
/// let wrapped = WrappedEvent::new(Pinged).with_causation_id(command_id);
/// assert_eq!(wrapped.version, None);
/// assert_eq!(wrapped.metadata.causation_id, Some(command_id));
/// let plain: WrappedEvent<Pinged> = Pinged.into();
/// assert_ne!(plain.id, wrapped.id);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WrappedEvent<E> {
    /// The event (or, for a snapshot, the state).
    pub event: E,
    /// The event's unique id (a new random UUID by default). Appending the same
    /// id twice with the same expected version records it once.
    pub id: Uuid,
    /// The event's version in its stream (from 1), once stored; for a
    /// snapshot, the version it was taken at.
    pub version: Option<u64>,
    /// When the event was created (whole microseconds; recorded in the
    /// metadata as `created_at`).
    pub created_at: SystemTime,
    /// When the server recorded the event, once loaded.
    pub recorded_at: Option<SystemTime>,
    /// The event's global commit position, once stored and loaded.
    pub position: Option<u64>,
    /// Correlation, causation and custom metadata.
    pub metadata: EventMetadata,
}

impl<E> WrappedEvent<E> {
    /// Wraps an event: a new id, created now, no version, empty metadata.
    ///
    /// ```
    /// # use kurrentdb_event_store::WrappedEvent;
    /// let wrapped = WrappedEvent::new("payload");
    /// assert!(wrapped.version.is_none() && wrapped.position.is_none());
    /// ```
    pub fn new(event: E) -> Self {
        WrappedEvent {
            event,
            id: Uuid::new_v4(),
            version: None,
            created_at: truncate_to_micros(SystemTime::now()),
            recorded_at: None,
            position: None,
            metadata: EventMetadata::default(),
        }
    }

    /// Sets the id (for an idempotent retry).
    ///
    /// ```
    /// # use kurrentdb_event_store::WrappedEvent;
    /// let id = uuid::Uuid::new_v4();
    /// assert_eq!(WrappedEvent::new(()).with_id(id).id, id);
    /// ```
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }

    /// Sets the version: for a snapshot, the version of the last event it
    /// includes. Ignored by `append`.
    ///
    /// ```
    /// # use kurrentdb_event_store::WrappedEvent;
    /// assert_eq!(WrappedEvent::new(()).with_version(4).version, Some(4));
    /// ```
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// Sets the correlation id.
    pub fn with_correlation_id(mut self, id: Uuid) -> Self {
        self.metadata.correlation_id = Some(id);
        self
    }

    /// Sets the causation id.
    pub fn with_causation_id(mut self, id: Uuid) -> Self {
        self.metadata.causation_id = Some(id);
        self
    }

    /// Sets a custom metadata key.
    ///
    /// ```
    /// # use kurrentdb_event_store::WrappedEvent;
    /// let wrapped = WrappedEvent::new(()).with_metadata("user", "alice");
    /// assert_eq!(wrapped.metadata.custom["user"], "alice");
    /// ```
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.custom.insert(key.into(), value.into());
        self
    }

    /// Sets the creation time (cut to whole microseconds).
    ///
    /// ```
    /// # use kurrentdb_event_store::WrappedEvent;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let at = UNIX_EPOCH + Duration::from_nanos(1_500);
    /// let wrapped = WrappedEvent::new(()).with_created_at(at);
    /// assert_eq!(wrapped.created_at, UNIX_EPOCH + Duration::from_micros(1));
    /// ```
    pub fn with_created_at(mut self, created_at: SystemTime) -> Self {
        self.created_at = truncate_to_micros(created_at);
        self
    }
}

impl<E: Event> From<E> for WrappedEvent<E> {
    fn from(event: E) -> Self {
        WrappedEvent::new(event)
    }
}

/// Encodes an envelope's metadata as the JSON object stored with the event.
pub(crate) fn encode_metadata(
    metadata: &EventMetadata,
    created_at: SystemTime,
    snapshot_version: Option<u64>,
) -> Vec<u8> {
    let mut map = Map::new();
    for (key, value) in &metadata.custom {
        map.insert(key.clone(), Value::String(value.clone()));
    }
    if let Some(id) = metadata.correlation_id {
        map.insert(CORRELATION_ID_KEY.into(), Value::String(id.to_string()));
    }
    if let Some(id) = metadata.causation_id {
        map.insert(CAUSATION_ID_KEY.into(), Value::String(id.to_string()));
    }
    map.insert(
        CREATED_AT_KEY.into(),
        Value::String(format_rfc3339(created_at)),
    );
    if let Some(version) = snapshot_version {
        map.insert(
            SNAPSHOT_VERSION_KEY.into(),
            Value::String(version.to_string()),
        );
    }
    serde_json::to_vec(&Value::Object(map)).expect("a JSON map of strings always serializes")
}

/// What the store reads back from an event's metadata.
pub(crate) struct DecodedMetadata {
    pub metadata: EventMetadata,
    pub created_at: Option<SystemTime>,
    pub snapshot_version: Option<u64>,
}

/// Decodes stored metadata. Metadata written by someone else is tolerated:
/// anything that is not a JSON object gives empty metadata, non-string values
/// are kept as their JSON text.
pub(crate) fn decode_metadata(bytes: &[u8]) -> DecodedMetadata {
    let mut decoded = DecodedMetadata {
        metadata: EventMetadata::default(),
        created_at: None,
        snapshot_version: None,
    };
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return decoded;
    };
    let text = |value: &Value| match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (key, value) in &map {
        let value = text(value);
        match key.as_str() {
            CORRELATION_ID_KEY => decoded.metadata.correlation_id = Uuid::parse_str(&value).ok(),
            CAUSATION_ID_KEY => decoded.metadata.causation_id = Uuid::parse_str(&value).ok(),
            CREATED_AT_KEY => decoded.created_at = parse_rfc3339(&value),
            SNAPSHOT_VERSION_KEY => decoded.snapshot_version = value.parse().ok(),
            _ => {
                decoded.metadata.custom.insert(key.clone(), value);
            }
        }
    }
    debug_assert!(
        RESERVED_KEYS
            .iter()
            .all(|k| !decoded.metadata.custom.contains_key(*k))
    );
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trip() {
        let metadata = EventMetadata::default()
            .with_correlation_id(Uuid::new_v4())
            .with_causation_id(Uuid::new_v4())
            .with("user", "alice");
        let created_at = truncate_to_micros(SystemTime::now());
        let bytes = encode_metadata(&metadata, created_at, Some(5));
        let decoded = decode_metadata(&bytes);
        assert_eq!(decoded.metadata, metadata);
        assert_eq!(decoded.created_at, Some(created_at));
        assert_eq!(decoded.snapshot_version, Some(5));
    }

    #[test]
    fn foreign_metadata_is_tolerated() {
        assert_eq!(decode_metadata(b"").metadata, EventMetadata::default());
        assert_eq!(decode_metadata(b"[1]").metadata, EventMetadata::default());
        let decoded = decode_metadata(br#"{"n": 1, "$causationId": "junk"}"#);
        assert_eq!(decoded.metadata.custom["n"], "1");
        assert_eq!(decoded.metadata.causation_id, None);
    }
}
