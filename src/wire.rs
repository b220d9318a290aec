//! The messages of the `event_store.client` package ([`crate::proto::shared`])
//! that every service's requests and answers carry, converted in one place:
//! stream identifiers and UUIDs. Below the services (`streams`, `persistent`,
//! `server`), which all use them.

use bytes::Bytes;
use uuid::Uuid;

use crate::proto::shared::{self as ps, StreamIdentifier};

/// The stream name as every protocol message carries it (the one place a
/// stream identifier is built).
pub(crate) fn stream_identifier(name: &str) -> StreamIdentifier {
    StreamIdentifier {
        stream_name: Bytes::copy_from_slice(name.as_bytes()),
    }
}

/// A proto UUID (text or two halves) as a [`Uuid`].
pub(crate) fn uuid_from_proto(id: ps::Uuid) -> Option<Uuid> {
    match id.value? {
        ps::uuid::Value::String(s) => s.parse().ok(),
        ps::uuid::Value::Structured(s) => Some(Uuid::from_u64_pair(
            s.most_significant_bits as u64,
            s.least_significant_bits as u64,
        )),
    }
}

/// A [`Uuid`] as a proto UUID, in the text form the client asks the server for.
pub(crate) fn uuid_to_proto(id: Uuid) -> ps::Uuid {
    ps::Uuid {
        value: Some(ps::uuid::Value::String(id.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_uuid() {
        let id = Uuid::new_v4();
        let (hi, lo) = id.as_u64_pair();
        let proto = ps::Uuid {
            value: Some(ps::uuid::Value::Structured(ps::uuid::Structured {
                most_significant_bits: hi as i64,
                least_significant_bits: lo as i64,
            })),
        };
        assert_eq!(uuid_from_proto(proto), Some(id));
    }
}
