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

use bytes::Bytes;
use uuid::Uuid;

use super::Store;
use super::write::{ExpectedRevision, ProposedEvent, StreamWrite};

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
            "timeStamp": crate::projections::timestamp(super::now_ticks()),
            "leaderInstanceId": Uuid::new_v4().to_string(),
        });
        let scavenges = serde_json::json!({
            "$maxAge": SCAVENGE_HISTORY_MAX_AGE_SECS,
            "$acl": {"$r": "$ops", "$w": [], "$d": [], "$mr": [], "$mw": []},
        });
        for (stream, event_type, data) in [
            ("$epoch-information", "$epoch-information", epoch),
            ("$$$scavenges", "$metadata", scavenges),
        ] {
            let write = StreamWrite {
                stream: Bytes::from_static(stream.as_bytes()),
                expected: ExpectedRevision::Any,
                events: vec![ProposedEvent {
                    id: Uuid::new_v4(),
                    event_type: event_type.to_owned(),
                    is_json: true,
                    data: Bytes::from(data.to_string()),
                    metadata: Bytes::new(),
                }],
            };
            if let Err(e) = self.append(vec![write]) {
                tracing::error!("writing the startup event of {stream}: {e:?}");
            }
        }
    }
}
