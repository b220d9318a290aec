//! Stream metadata: the JSON document KurrentDB keeps in a stream's metadata
//! stream (`$$<stream>`), with typed well-known keys and any custom keys, and
//! its form as the `$metadata` event that `set_stream_metadata` appends and
//! `get_stream_metadata` reads back.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::types::{NewEvent, RecordedEvent, StreamState};

/// A stream's access control list (`$acl`): the roles or users allowed each
/// kind of access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamAcl {
    /// Who may read the stream (`$r`).
    pub read: Vec<String>,
    /// Who may write to the stream (`$w`).
    pub write: Vec<String>,
    /// Who may delete the stream (`$d`).
    pub delete: Vec<String>,
    /// Who may read the stream's metadata (`$mr`).
    pub meta_read: Vec<String>,
    /// Who may write the stream's metadata (`$mw`).
    pub meta_write: Vec<String>,
}

const ACL_KEYS: [&str; 5] = ["$r", "$w", "$d", "$mr", "$mw"];

impl StreamAcl {
    fn fields(&self) -> [&Vec<String>; 5] {
        [
            &self.read,
            &self.write,
            &self.delete,
            &self.meta_read,
            &self.meta_write,
        ]
    }

    fn fields_mut(&mut self) -> [&mut Vec<String>; 5] {
        [
            &mut self.read,
            &mut self.write,
            &mut self.delete,
            &mut self.meta_read,
            &mut self.meta_write,
        ]
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (key, roles) in ACL_KEYS.iter().zip(self.fields()) {
            match roles.len() {
                0 => {}
                1 => {
                    map.insert((*key).to_owned(), Value::String(roles[0].clone()));
                }
                _ => {
                    map.insert(
                        (*key).to_owned(),
                        Value::Array(roles.iter().cloned().map(Value::String).collect()),
                    );
                }
            }
        }
        Value::Object(map)
    }

    /// The ACL of an `$acl` object whose entries are each a role or a list of
    /// roles; `None` for any other shape.
    fn from_json(value: &Value) -> Option<StreamAcl> {
        let Value::Object(map) = value else {
            return None;
        };
        let mut acl = StreamAcl::default();
        for (key, field) in ACL_KEYS.iter().zip(acl.fields_mut()) {
            match map.get(*key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => field.push(s.clone()),
                Some(Value::Array(items)) => {
                    for item in items {
                        field.push(item.as_str()?.to_owned());
                    }
                }
                Some(_) => return None,
            }
        }
        Some(acl)
    }
}

/// A stream's metadata: typed well-known keys, plus any other keys in `custom`.
///
/// Serialized as KurrentDB's JSON: `$maxCount`, `$maxAge` (seconds), `$tb`
/// (truncate before), `$cacheControl` (seconds), `$acl`, and the custom keys as
/// they are.
///
/// Reading never refuses what a KurrentDB node stores: a well-known key whose
/// value has another shape than the typed field's (an `$acl` in its string
/// forms `"$userStreamAcl"` or `"$systemStreamAcl"`, a `$maxCount` written as a
/// string, an ACL entry that is not a role) is kept, as it was, in `custom`, and
/// written back as it was by [`to_json`](Self::to_json).
///
/// ```
/// use kurrentdbclient::StreamMetadata;
/// let json = serde_json::json!({"$acl": "$userStreamAcl", "$maxCount": 3});
/// let metadata = StreamMetadata::from_json(&json).unwrap();
/// assert_eq!(metadata.acl, None);
/// assert_eq!(metadata.custom["$acl"], "$userStreamAcl");
/// assert_eq!(metadata.to_json(), json);
/// ```
///
/// ```
/// use kurrentdbclient::StreamMetadata;
/// let mut metadata = StreamMetadata::default().with_max_count(10);
/// metadata.custom.insert("foo".into(), "bar".into());
/// let json = metadata.to_json();
/// assert_eq!(json["$maxCount"], 10);
/// assert_eq!(json["foo"], "bar");
/// assert_eq!(StreamMetadata::from_json(&json).unwrap(), metadata);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamMetadata {
    /// Keep at most this many events (`$maxCount`).
    pub max_count: Option<u64>,
    /// Keep events at most this long (`$maxAge`, whole seconds).
    pub max_age: Option<Duration>,
    /// Events before this stream position are gone (`$tb`).
    pub truncate_before: Option<u64>,
    /// How long readers may cache the stream's head (`$cacheControl`, seconds).
    pub cache_control: Option<Duration>,
    /// Access control (`$acl`), when it is an object of roles (its string forms
    /// are kept in `custom`).
    pub acl: Option<StreamAcl>,
    /// Every other key, as JSON, and a well-known key of another shape than its
    /// typed field's.
    pub custom: Map<String, Value>,
}

impl StreamMetadata {
    /// Sets `$maxCount`.
    pub fn with_max_count(mut self, max_count: u64) -> Self {
        self.max_count = Some(max_count);
        self
    }

    /// Sets `$maxAge`.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Sets `$tb`.
    pub fn with_truncate_before(mut self, position: u64) -> Self {
        self.truncate_before = Some(position);
        self
    }

    /// Sets `$cacheControl`.
    pub fn with_cache_control(mut self, cache_control: Duration) -> Self {
        self.cache_control = Some(cache_control);
        self
    }

    /// Sets `$acl`.
    pub fn with_acl(mut self, acl: StreamAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Sets a custom key.
    pub fn with_custom(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.custom.insert(key.into(), value.into());
        self
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        *self == StreamMetadata::default()
    }

    /// The JSON document KurrentDB stores.
    pub fn to_json(&self) -> Value {
        let mut map = self.custom.clone();
        if let Some(v) = self.max_count {
            map.insert("$maxCount".into(), v.into());
        }
        if let Some(v) = self.max_age {
            map.insert("$maxAge".into(), v.as_secs().into());
        }
        if let Some(v) = self.truncate_before {
            map.insert("$tb".into(), v.into());
        }
        if let Some(v) = self.cache_control {
            map.insert("$cacheControl".into(), v.as_secs().into());
        }
        if let Some(acl) = &self.acl {
            map.insert("$acl".into(), acl.to_json());
        }
        Value::Object(map)
    }

    /// Reads the JSON document KurrentDB stores. Only a document that is not a
    /// JSON object is refused ([`Error::Protocol`]); see the type's docs for
    /// values of unexpected shape.
    pub fn from_json(value: &Value) -> Result<StreamMetadata> {
        let Value::Object(map) = value else {
            return Err(Error::Protocol(
                "stream metadata is not a JSON object".into(),
            ));
        };
        let mut metadata = StreamMetadata::default();
        let seconds = |v: &Value| v.as_u64().map(Duration::from_secs);
        for (key, v) in map {
            let typed = match key.as_str() {
                "$maxCount" => v.as_u64().map(|n| metadata.max_count = Some(n)),
                "$maxAge" => seconds(v).map(|d| metadata.max_age = Some(d)),
                "$tb" => v.as_u64().map(|n| metadata.truncate_before = Some(n)),
                "$cacheControl" => seconds(v).map(|d| metadata.cache_control = Some(d)),
                "$acl" => StreamAcl::from_json(v).map(|acl| metadata.acl = Some(acl)),
                _ => None,
            };
            if typed.is_none() {
                metadata.custom.insert(key.clone(), v.clone());
            }
        }
        Ok(metadata)
    }

    /// The `$metadata` event that sets this metadata.
    pub(crate) fn to_event(&self) -> Result<NewEvent> {
        let data = serde_json::to_vec(&self.to_json())
            .map_err(|e| Error::Programming(format!("stream metadata: {e}")))?;
        Ok(NewEvent::new("$metadata", data))
    }

    /// The metadata a `$metadata` event sets, with the event's position (the
    /// metadata stream's version).
    pub(crate) fn from_event(event: &RecordedEvent) -> Result<(StreamMetadata, StreamState)> {
        let json: Value = serde_json::from_slice(&event.data)
            .map_err(|e| Error::Protocol(format!("stream metadata is not JSON: {e}")))?;
        Ok((
            StreamMetadata::from_json(&json)?,
            StreamState::Version(event.stream_position),
        ))
    }
}

/// The metadata stream of `stream_name`: `$$<stream_name>`.
pub(crate) fn metadata_stream(stream_name: &str) -> String {
    format!("$${stream_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_acl() {
        let metadata = StreamMetadata::default()
            .with_max_count(5)
            .with_max_age(Duration::from_secs(60))
            .with_truncate_before(3)
            .with_cache_control(Duration::from_secs(2))
            .with_acl(StreamAcl {
                read: vec!["$all".into()],
                write: vec!["ops".into(), "admin".into()],
                ..StreamAcl::default()
            })
            .with_custom("foo", "bar");
        let json = metadata.to_json();
        assert_eq!(json["$acl"]["$r"], "$all");
        assert_eq!(json["$acl"]["$w"][1], "admin");
        assert_eq!(json["$maxAge"], 60);
        assert_eq!(StreamMetadata::from_json(&json).unwrap(), metadata);
    }

    #[test]
    fn unexpected_shapes_are_kept_as_they_were() {
        for json in [
            serde_json::json!({"$acl": "$systemStreamAcl"}),
            serde_json::json!({"$acl": {"$r": ["ops", 1]}, "$maxAge": -1}),
            serde_json::json!({"$maxCount": "10", "$tb": null, "$cacheControl": 1.5}),
        ] {
            let metadata = StreamMetadata::from_json(&json).unwrap();
            assert_eq!(metadata.acl, None);
            assert_eq!(metadata.max_count, None);
            assert_eq!(metadata.to_json(), json);
        }
    }
}
