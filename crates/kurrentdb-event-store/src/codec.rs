//! How events are turned into bytes: the [`Codec`] trait and the default
//! [`JsonCodec`].

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The error a codec reports.
pub type CodecError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Encodes events (and snapshots) to bytes and back, and names the content type
/// the bytes are recorded with.
///
/// The store uses [`JsonCodec`] unless given another with
/// [`EventStore::with_codec`](crate::EventStore::with_codec). Event *metadata*
/// is always JSON (KurrentDB's convention); only the payload goes through the
/// codec.
///
/// A codec for any serde format is a few lines. This one writes JSON wrapped in
/// a version byte:
///
/// ```
/// use kurrentdb_event_store::{Codec, CodecError};
/// use serde::{Serialize, de::DeserializeOwned};
///
/// struct VersionedJson;
///
/// impl Codec for VersionedJson {
///     fn content_type(&self) -> &str {
///         "application/octet-stream"
///     }
///     fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
///         let mut bytes = vec![1u8];
///         serde_json::to_writer(&mut bytes, value)?;
///         Ok(bytes)
///     }
///     fn decode<T: DeserializeOwned>(&self, data: &[u8]) -> Result<T, CodecError> {
///         match data.split_first() {
///             Some((1, json)) => Ok(serde_json::from_slice(json)?),
///             _ => Err("not version 1".into()),
///         }
///     }
/// }
///
/// let bytes = VersionedJson.encode(&vec![1, 2]).unwrap();
/// assert_eq!(bytes, b"\x01[1,2]");
/// assert_eq!(VersionedJson.decode::<Vec<i32>>(&bytes).unwrap(), vec![1, 2]);
/// ```
pub trait Codec: Send + Sync + 'static {
    /// The content type events are recorded with (for example
    /// `application/json` or `application/octet-stream`).
    fn content_type(&self) -> &str;

    /// Encodes a value.
    fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError>;

    /// Decodes a value.
    fn decode<T: DeserializeOwned>(&self, data: &[u8]) -> Result<T, CodecError>;
}

/// The default codec: JSON (serde_json), content type `application/json`.
///
/// ```
/// use kurrentdb_event_store::{Codec, JsonCodec};
/// assert_eq!(JsonCodec.content_type(), "application/json");
/// assert_eq!(JsonCodec.encode(&[1, 2]).unwrap(), b"[1,2]");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonCodec;

impl Codec for JsonCodec {
    fn content_type(&self) -> &str {
        kurrentdbclient::CONTENT_TYPE_JSON
    }

    fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        Ok(serde_json::to_vec(value)?)
    }

    fn decode<T: DeserializeOwned>(&self, data: &[u8]) -> Result<T, CodecError> {
        Ok(serde_json::from_slice(data)?)
    }
}
