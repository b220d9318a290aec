//! How cqrs-es's serialized events and snapshots are stored as KurrentDB
//! events, so that any client reads them as plain JSON:
//!
//! | cqrs-es | KurrentDB |
//! |---|---|
//! | `event_type` | the event type |
//! | `payload` | the data (`application/json`) |
//! | `sequence` | the stream revision + 1 (cqrs-es counts from 1) |
//! | `event_version`, `metadata` | the metadata: `{"eventVersion": ..., "metadata": {...}}`, beside `aggregateType`, `aggregateId` and `sequence` |
//!
//! A snapshot is an event of type `Snapshot` whose data is the aggregate and
//! whose metadata holds `currentSequence` and `snapshotVersion`.

use cqrs_es::persist::{SerializedEvent, SerializedSnapshot};
use kurrentdbclient::{NewEvent, RecordedEvent};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::error::KurrentDBRepositoryError;
use crate::naming::{aggregate_id_of, event_id};

/// The KurrentDB event type of a snapshot.
pub(crate) const SNAPSHOT_EVENT_TYPE: &str = "Snapshot";

/// The KurrentDB event of a cqrs-es event written by the commit `commit_id`.
pub(crate) fn to_new_event(event: &SerializedEvent, commit_id: Uuid) -> NewEvent {
    let metadata = json!({
        "aggregateType": event.aggregate_type,
        "aggregateId": event.aggregate_id,
        "sequence": event.sequence,
        "eventVersion": event.event_version,
        "metadata": event.metadata,
    });
    let id = event_id(
        "event",
        &event.aggregate_type,
        &event.aggregate_id,
        event.sequence,
        commit_id,
    );
    NewEvent::new(event.event_type.clone(), to_bytes(&event.payload))
        .with_metadata(to_bytes(&metadata))
        .with_id(id)
}

/// The cqrs-es event of a KurrentDB event of an `aggregate_type` stream.
/// Events other clients wrote without this crate's metadata read with an
/// empty event version and no metadata.
pub(crate) fn from_recorded(
    aggregate_type: &str,
    event: &RecordedEvent,
) -> Result<SerializedEvent, KurrentDBRepositoryError> {
    let invalid = |reason: String| KurrentDBRepositoryError::InvalidStoredEvent {
        stream: event.stream_name.clone(),
        revision: event.stream_position,
        reason,
    };
    let aggregate_id = aggregate_id_of(aggregate_type, &event.stream_name)
        .ok_or_else(|| invalid(format!("not a stream of aggregate type {aggregate_type:?}")))?;
    let sequence = event
        .stream_position
        .checked_add(1)
        .and_then(|s| usize::try_from(s).ok())
        .ok_or_else(|| invalid("revision out of range".to_owned()))?;
    let payload: Value = serde_json::from_slice(&event.data)
        .map_err(|e| invalid(format!("data is not JSON: {e}")))?;
    let metadata = metadata_object(&event.metadata).map_err(invalid)?;
    let event_version = match metadata.get("eventVersion") {
        None => String::new(),
        Some(Value::String(v)) => v.clone(),
        Some(other) => return Err(invalid(format!("eventVersion is not a string: {other}"))),
    };
    let user_metadata = metadata
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    Ok(SerializedEvent::new(
        aggregate_id.to_owned(),
        sequence,
        aggregate_type.to_owned(),
        event.r#type.clone(),
        event_version,
        payload,
        user_metadata,
    ))
}

/// The KurrentDB event of a snapshot.
pub(crate) fn snapshot_to_new_event(
    aggregate_type: &str,
    snapshot: &SerializedSnapshot,
    commit_id: Uuid,
) -> NewEvent {
    let metadata = json!({
        "aggregateType": aggregate_type,
        "aggregateId": snapshot.aggregate_id,
        "currentSequence": snapshot.current_sequence,
        "snapshotVersion": snapshot.current_snapshot,
    });
    let id = event_id(
        "snapshot",
        aggregate_type,
        &snapshot.aggregate_id,
        snapshot.current_snapshot,
        commit_id,
    );
    NewEvent::new(SNAPSHOT_EVENT_TYPE, to_bytes(&snapshot.aggregate))
        .with_metadata(to_bytes(&metadata))
        .with_id(id)
}

/// The snapshot a KurrentDB snapshot event holds.
pub(crate) fn snapshot_from_recorded(
    aggregate_id: &str,
    event: &RecordedEvent,
) -> Result<SerializedSnapshot, KurrentDBRepositoryError> {
    let invalid = |reason: String| KurrentDBRepositoryError::InvalidStoredEvent {
        stream: event.stream_name.clone(),
        revision: event.stream_position,
        reason,
    };
    let aggregate: Value = serde_json::from_slice(&event.data)
        .map_err(|e| invalid(format!("snapshot data is not JSON: {e}")))?;
    let metadata = metadata_object(&event.metadata).map_err(invalid)?;
    let number = |key: &str| {
        metadata
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| invalid(format!("snapshot metadata lacks a number {key:?}")))
    };
    Ok(SerializedSnapshot {
        aggregate_id: aggregate_id.to_owned(),
        aggregate,
        current_sequence: number("currentSequence")?,
        current_snapshot: number("snapshotVersion")?,
    })
}

/// A stored event's metadata as a JSON object (empty when there is none).
fn metadata_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("metadata is not a JSON object".to_owned()),
        Err(e) => Err(format!("metadata is not JSON: {e}")),
    }
}

/// A JSON value's bytes (`Value`'s `Display` is its compact JSON, and cannot fail).
fn to_bytes(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}
