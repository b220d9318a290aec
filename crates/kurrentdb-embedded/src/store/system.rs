//! The events a fresh KurrentDB node writes to its own log when it starts,
//! before any client writes, so that `$all` here starts as it does there (a
//! subscription to `$all` without a filter sees these `$`-typed events first).
//!
//! What a node writes at start (read in kurrent-io/KurrentDB), and what is done
//! here:
//! - `EpochManager.WriteEpochInformationWithRetry`: an `$epoch-information`
//!   event in the `$epoch-information` stream, with the epoch's JSON
//!   (`EpochRecord.EpochRecordDto`, camel-cased): written here, for epoch 0.
//! - `TFChunkScavengerLogManager.SetScavengeStreamMetadata` (once the node is
//!   leader): a `$metadata` event in `$$$scavenges`, `$maxAge` of
//!   `ScavengeHistoryMaxAge` (30 days) and read access for `$ops`, written as
//!   `StreamMetadata.ToJsonBytes` writes it: written here.
//! - `MonitoringService`: `$statsCollected` events only with `StatsStorage`
//!   including `Stream`, which is not the default (`File`): not written.
//! - With users (a secure node: KurrentDB's `--insecure` runs the passthrough
//!   authentication provider, which has no users), the `$users`,
//!   `$user-admin` and `$user-ops` streams follow: written here by the
//!   server's start on a secure server (`users::Users::ensure_defaults`),
//!   after these. With projections running, the `$projections-*` streams
//!   follow: the embedded projection subsystem keeps its own state, so they
//!   are not written.
//!
//! A scavenge's records (`TFChunkScavengerLog`) are written here too, when
//! one starts and ends (see [`Store::record_scavenge_started`]).

use bytes::Bytes;
use uuid::Uuid;

use super::Store;
use super::types::{CurrentRevision, ExpectedRevision, ProposedEvent, StreamWrite};
use crate::ticks::{now_ticks, timestamp};

/// `ScavengeHistoryMaxAge`'s default (30 days), in seconds.
const SCAVENGE_HISTORY_MAX_AGE_SECS: u64 = 30 * 24 * 3600;

impl Store {
    /// Writes the events a fresh node writes when it starts (see the module
    /// docs). Call once, on an empty store.
    pub(crate) fn write_startup_events(&self) {
        let epoch = serde_json::json!({
            "epochPosition": 0,
            "epochNumber": 0,
            "epochId": Uuid::new_v4().to_string(),
            "prevEpochPosition": -1,
            "timeStamp": timestamp(now_ticks()),
            "leaderInstanceId": Uuid::new_v4().to_string(),
        });
        for (stream, event_type, data) in [
            ("$epoch-information", "$epoch-information", epoch),
            ("$$$scavenges", "$metadata", scavenge_history_metadata()),
        ] {
            self.append_system(stream, event_type, true, data.to_string());
        }
    }

    /// Records the start of scavenge `id`, asked of the node at `node`
    /// (`host:port`), as KurrentDB's `TFChunkScavengerLog` does (the
    /// `Scavenger`'s `ScavengeStarted()`): the metadata of `$scavenges-<id>`
    /// (`$maxAge` of `ScavengeHistoryMaxAge`, read access for `$ops`), a
    /// `$scavengeStarted` event there with `scavengeId` and `nodeEndpoint`,
    /// and a link to it in `$scavenges`.
    pub(crate) fn record_scavenge_started(&self, id: &str, node: &str) {
        let stream = format!("$scavenges-{id}");
        self.append_system(
            &format!("$${stream}"),
            "$metadata",
            true,
            scavenge_history_metadata().to_string(),
        );
        let data = serde_json::json!({"scavengeId": id, "nodeEndpoint": node});
        self.record_scavenge_event(&stream, "$scavengeStarted", data);
    }

    /// Records the end of scavenge `id`: a `$scavengeCompleted` event in
    /// `$scavenges-<id>` (and its link in `$scavenges`) with the fields of
    /// KurrentDB's `ScavengeCompleted`: `result` (`Success` or `Stopped`),
    /// `error` (null), `timeTaken` (a .NET `TimeSpan` as JSON.NET writes it),
    /// `spaceSaved` and `maxChunkScavenged`. The in-memory log has no chunks
    /// and frees no file space: both are 0.
    pub(crate) fn record_scavenge_completed(
        &self,
        id: &str,
        node: &str,
        stopped: bool,
        elapsed: std::time::Duration,
    ) {
        let data = serde_json::json!({
            "scavengeId": id,
            "nodeEndpoint": node,
            "result": if stopped { "Stopped" } else { "Success" },
            "error": null,
            "timeTaken": time_span(elapsed),
            "spaceSaved": 0,
            "maxChunkScavenged": 0,
        });
        let stream = format!("$scavenges-{id}");
        self.record_scavenge_event(&stream, "$scavengeCompleted", data);
    }

    /// Writes a scavenge's event to its stream and, once written, the link
    /// `N@<stream>` (`$>`) to it in `$scavenges`.
    fn record_scavenge_event(&self, stream: &str, event_type: &str, data: serde_json::Value) {
        if let Some(revision) = self.append_system(stream, event_type, true, data.to_string()) {
            self.append_system("$scavenges", "$>", false, format!("{revision}@{stream}"));
        }
    }

    /// Appends one system event to `stream` (any revision); the revision it
    /// got, or `None` (logged) when it could not be written.
    pub(crate) fn append_system(
        &self,
        stream: &str,
        event_type: &str,
        is_json: bool,
        data: impl Into<Bytes>,
    ) -> Option<u64> {
        let write = StreamWrite {
            stream: Bytes::copy_from_slice(stream.as_bytes()),
            expected: ExpectedRevision::Any,
            events: vec![ProposedEvent {
                id: Uuid::new_v4(),
                event_type: event_type.to_owned(),
                is_json,
                data: data.into(),
                metadata: Bytes::new(),
            }],
        };
        match self.append(vec![write]) {
            Ok(outcome) => match outcome.writes.first().map(|w| w.current) {
                Some(CurrentRevision::Revision(revision)) => Some(revision),
                _ => None,
            },
            Err(e) => {
                tracing::error!("writing the system event {event_type} of {stream}: {e:?}");
                None
            }
        }
    }
}

/// The metadata KurrentDB gives `$scavenges` and each `$scavenges-<id>`:
/// `$maxAge` of `ScavengeHistoryMaxAge`, read access for `$ops` only, written
/// as `StreamMetadata.ToJsonBytes` writes it (one role as a string).
fn scavenge_history_metadata() -> serde_json::Value {
    serde_json::json!({
        "$maxAge": SCAVENGE_HISTORY_MAX_AGE_SECS,
        "$acl": {"$r": "$ops", "$w": [], "$d": [], "$mr": [], "$mw": []},
    })
}

/// A duration as JSON.NET writes a `TimeSpan` (`[d.]hh:mm:ss[.fffffff]`).
fn time_span(elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs();
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let ticks = elapsed.subsec_nanos() / 100;
    let mut text = String::new();
    if days > 0 {
        text.push_str(&format!("{days}."));
    }
    text.push_str(&format!("{hours:02}:{minutes:02}:{seconds:02}"));
    if ticks > 0 {
        text.push_str(&format!(".{ticks:07}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::time_span;
    use std::time::Duration;

    #[test]
    fn time_spans_read_as_dotnet_writes_them() {
        assert_eq!(time_span(Duration::ZERO), "00:00:00");
        assert_eq!(time_span(Duration::from_millis(1_234)), "00:00:01.2340000");
        assert_eq!(
            time_span(Duration::from_secs(90_061) + Duration::from_nanos(100)),
            "1.01:01:01.0000001"
        );
    }
}
