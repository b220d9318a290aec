//! Projections: what the projection-management calls return ([`ProjectionStatistics`]
//! with its [`ProjectionStatus`] and [`ProjectionMode`]; states and results as
//! [`serde_json::Value`], with [`decode`] for a typed view), and, in
//! `requests`, the request messages the calls send.
//!
//! # States and results on the wire
//!
//! KurrentDB sends a projection's state (and result) as a
//! `google.protobuf.Value`, whose numbers are all doubles. They are converted
//! to JSON here with integral numbers (within ±2^53) as JSON integers, so that
//! `{"count": 3}` reads back as `json!({"count": 3})` and decodes into a `u64`
//! field, not as `3.0`. A projection that has no state yet (or is not running)
//! answers an empty object, `{}`.

pub(crate) mod requests;

use prost_types::value::Kind;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::proto::projections::statistics_resp::Details;

/// A projection's statistics, as
/// [`get_projection_statistics`](crate::AsyncKurrentDBClient::get_projection_statistics)
/// and the list calls return them (the Python client's `ProjectionStatistics`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProjectionStatistics {
    /// The projection's name.
    pub name: String,
    /// The name the projection runs under (the same as `name`).
    pub effective_name: String,
    /// Running, stopped, faulted, ... (see `status_text` for the server's words).
    pub status: ProjectionStatus,
    /// The status as the server wrote it, for instance `"Running"`,
    /// `"Stopped"` or `"Faulted (Enabled)"`.
    pub status_text: String,
    /// Why the projection faulted (the JavaScript error, for instance); empty
    /// otherwise.
    pub state_reason: String,
    /// Continuous, one-time or transient.
    pub mode: ProjectionMode,
    /// How far the projection has read, as the server formats a checkpoint tag
    /// (for instance `"C:1234/P:1234"` for `$all`, or `"account-1: 41"`).
    pub position: String,
    /// How far through its source the projection is, in percent (0 to 100).
    pub progress: f32,
    /// The position of the last checkpoint written.
    pub last_checkpoint: String,
    /// Events processed since the projection last started.
    pub events_processed_after_restart: i64,
    /// Events read but not processed yet.
    pub buffered_events: i64,
    /// Checkpoint state (empty, or `"Requested"`/`"Writing"`).
    pub checkpoint_status: String,
    /// Time spent processing events, in milliseconds.
    pub core_processing_time: i64,
    /// The projection's definition version.
    pub version: i64,
    /// The definition version the projection was last reset at (-1: never).
    pub epoch: i64,
    /// Writes the projection has sent and not seen completed.
    pub writes_in_progress: i32,
    /// Reads the projection has sent and not seen completed.
    pub reads_in_progress: i32,
    /// Partition states held in memory.
    pub partitions_cached: i32,
    /// Emitted events waiting for the next checkpoint.
    pub write_pending_events_before_checkpoint: i32,
    /// Emitted events waiting after the last checkpoint.
    pub write_pending_events_after_checkpoint: i32,
}

/// A projection's status, from the leading word of the server's status text
/// (which may add detail: `"Stopped (Enabled)"`, `"Running/Paused"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProjectionStatus {
    /// Processing events (or waiting for more).
    Running,
    /// Disabled, or not running.
    Stopped,
    /// Aborted (`abort_projection`) while running: stopped without a
    /// checkpoint. KurrentDB reports it as `"Aborted/Stopped"` until the
    /// projection is enabled or disabled, and refuses to delete it until
    /// then.
    Aborted,
    /// Failed; the statistics' `state_reason` says why.
    Faulted,
    /// A one-time projection that reached the end of its source.
    Completed,
    /// Starting, loading, preparing, stopping, deleting, ...: on its way to
    /// another status.
    Transitioning(String),
}

impl ProjectionStatus {
    /// Parses a status text: `"Running"`, `"Faulted (Enabled)"`, `"Stopped/Writing"`.
    pub fn parse(text: &str) -> ProjectionStatus {
        let word = text
            .split(['/', ' ', '('])
            .next()
            .unwrap_or_default()
            .trim();
        match word {
            "Running" => ProjectionStatus::Running,
            "Stopped" => ProjectionStatus::Stopped,
            "Aborted" => ProjectionStatus::Aborted,
            "Faulted" => ProjectionStatus::Faulted,
            "Completed" => ProjectionStatus::Completed,
            other => ProjectionStatus::Transitioning(other.to_owned()),
        }
    }
}

/// How a projection runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProjectionMode {
    /// Runs forever, following new events (every projection this client
    /// creates, and the standard ones).
    Continuous,
    /// Runs once over the events there are, then completes.
    OneTime,
    /// A temporary query (deprecated by KurrentDB).
    Transient,
    /// A mode this client does not know.
    Other(String),
}

impl ProjectionMode {
    /// Parses the server's mode text.
    pub fn parse(text: &str) -> ProjectionMode {
        match text {
            "Continuous" => ProjectionMode::Continuous,
            "OneTime" => ProjectionMode::OneTime,
            "Transient" => ProjectionMode::Transient,
            other => ProjectionMode::Other(other.to_owned()),
        }
    }
}

impl From<Details> for ProjectionStatistics {
    fn from(d: Details) -> Self {
        ProjectionStatistics {
            status: ProjectionStatus::parse(&d.status),
            mode: ProjectionMode::parse(&d.mode),
            name: d.name,
            effective_name: d.effective_name,
            status_text: d.status,
            state_reason: d.state_reason,
            position: d.position,
            progress: d.progress,
            last_checkpoint: d.last_checkpoint,
            events_processed_after_restart: d.events_processed_after_restart,
            buffered_events: d.buffered_events,
            checkpoint_status: d.checkpoint_status,
            core_processing_time: d.core_processing_time,
            version: d.version,
            epoch: d.epoch,
            writes_in_progress: d.writes_in_progress,
            reads_in_progress: d.reads_in_progress,
            partitions_cached: d.partitions_cached,
            write_pending_events_before_checkpoint: d.write_pending_events_before_checkpoint,
            write_pending_events_after_checkpoint: d.write_pending_events_after_checkpoint,
        }
    }
}

/// Decodes a projection's state or result (as
/// [`get_projection_state`](crate::AsyncKurrentDBClient::get_projection_state)
/// returns it) into a type of yours. A value of another shape gives
/// [`Error::Decode`].
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Counts {
///     count: u64,
/// }
/// let state = serde_json::json!({"count": 3});
/// let counts: Counts = kurrentdbclient::projections::decode(&state)?;
/// assert_eq!(counts.count, 3);
/// # Ok::<(), kurrentdbclient::Error>(())
/// ```
pub fn decode<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T> {
    T::deserialize(value).map_err(|e| Error::Decode(format!("projection state or result: {e}")))
}

/// Converts a `google.protobuf.Value` (a state or a result) to JSON; integral
/// doubles become integers (see the module docs). An absent value is `{}`, as
/// the server answers for a projection without state.
pub(crate) fn json_of(value: Option<prost_types::Value>) -> serde_json::Value {
    match value {
        Some(v) => to_json(v),
        None => serde_json::Value::Object(Default::default()),
    }
}

fn to_json(value: prost_types::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value.kind {
        None | Some(Kind::NullValue(_)) => J::Null,
        Some(Kind::BoolValue(b)) => J::Bool(b),
        Some(Kind::StringValue(s)) => J::String(s),
        Some(Kind::NumberValue(n)) => number(n),
        Some(Kind::StructValue(s)) => {
            J::Object(s.fields.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
        Some(Kind::ListValue(l)) => J::Array(l.values.into_iter().map(to_json).collect()),
    }
}

/// The largest integer a double holds exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

fn number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() <= MAX_EXACT {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(n: f64) -> prost_types::Value {
        prost_types::Value {
            kind: Some(Kind::NumberValue(n)),
        }
    }

    #[test]
    fn integral_numbers_become_integers_and_others_stay_floats() {
        assert_eq!(to_json(num(3.0)), json!(3));
        assert_eq!(to_json(num(-7.0)), json!(-7));
        assert_eq!(to_json(num(2.5)), json!(2.5));
        assert_eq!(to_json(num(1e300)), json!(1e300));
        assert_eq!(to_json(num(f64::NAN)), json!(null));
        assert_eq!(json_of(None), json!({}));
    }

    #[test]
    fn statuses_and_modes_parse_from_the_server_words() {
        assert_eq!(
            ProjectionStatus::parse("Running"),
            ProjectionStatus::Running
        );
        assert_eq!(
            ProjectionStatus::parse("Faulted (Enabled)"),
            ProjectionStatus::Faulted
        );
        assert_eq!(
            ProjectionStatus::parse("Stopped/Writing results"),
            ProjectionStatus::Stopped
        );
        assert_eq!(
            ProjectionStatus::parse("Preparing"),
            ProjectionStatus::Transitioning("Preparing".into())
        );
        assert_eq!(
            ProjectionMode::parse("Continuous"),
            ProjectionMode::Continuous
        );
        assert_eq!(
            ProjectionMode::parse("Weird"),
            ProjectionMode::Other("Weird".into())
        );
    }

    #[test]
    fn decode_names_a_shape_mismatch() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Counts {
            count: u64,
        }
        let err = decode::<Counts>(&json!({"count": "x"})).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err:?}");
    }
}
