//! How `eventually` events are stored as KurrentDB events: the event's serde
//! JSON as the data, its variant name as the event type, and
//! `{"aggregateType", "aggregateId", "version"}` as the metadata.

use std::fmt::Display;
use std::str::FromStr;

use eventually_core::store::Persisted;
use kurrentdbclient::{NewEvent, RecordedEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use uuid::Uuid;

use crate::error::EventStoreError;
use crate::event_type::event_type;

/// The namespace of the store's event ids (UUID v5).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x2c4ac7c6_0716_46f5_9524_63ea822d6770);

/// The KurrentDB event of `event`, the aggregate's `version`th, appended by
/// the commit `commit_id`. Its id derives from the aggregate, the version and
/// the commit: the same when the commit is sent again, another for another
/// commit.
pub(crate) fn to_new_event<E: Serialize>(
    category: &str,
    id: &str,
    version: u64,
    event: &E,
    commit_id: Uuid,
) -> Result<NewEvent, EventStoreError> {
    let data = serde_json::to_value(event).map_err(EventStoreError::Serialize)?;
    let metadata = json!({"aggregateType": category, "aggregateId": id, "version": version});
    let name = format!(
        "{}:{category}/{}:{id}/{version}/{commit_id}",
        category.len(),
        id.len()
    );
    Ok(NewEvent::new(event_type(event), data.to_string())
        .with_metadata(metadata.to_string())
        .with_id(Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes())))
}

/// The `Persisted` event of a stored event of `category`: the version is the
/// event's revision in its stream + 1, the sequence number `sequence`.
pub(crate) fn from_recorded<Id, E>(
    category: &str,
    event: &RecordedEvent,
    sequence: u64,
) -> Result<Persisted<Id, E>, EventStoreError>
where
    Id: FromStr,
    Id::Err: Display,
    E: DeserializeOwned,
{
    let invalid = |reason: String| EventStoreError::InvalidStoredEvent {
        stream: event.stream_name.clone(),
        revision: event.stream_position,
        reason,
    };
    let id = event
        .stream_name
        .strip_prefix(category)
        .and_then(|rest| rest.strip_prefix('-'))
        .ok_or_else(|| invalid(format!("not a stream of category {category:?}")))?;
    let id = Id::from_str(id).map_err(|e| invalid(format!("aggregate id {id:?}: {e}")))?;
    let version = event
        .stream_position
        .checked_add(1)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| invalid("version beyond u32".to_owned()))?;
    let sequence =
        u32::try_from(sequence).map_err(|_| invalid("sequence number beyond u32".to_owned()))?;
    let payload: E = serde_json::from_slice(&event.data)
        .map_err(|e| invalid(format!("data is not the event's JSON: {e}")))?;
    Ok(Persisted::from(id, payload)
        .version(version)
        .sequence_number(sequence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Plain {
        amount: u32,
    }

    #[test]
    fn ids_are_stable_per_commit() {
        let commit = Uuid::new_v4();
        let a = to_new_event("c", "1", 1, &Plain { amount: 1 }, commit).unwrap();
        let b = to_new_event("c", "1", 1, &Plain { amount: 1 }, commit).unwrap();
        let c = to_new_event("c", "1", 1, &Plain { amount: 1 }, Uuid::new_v4()).unwrap();
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }
}
