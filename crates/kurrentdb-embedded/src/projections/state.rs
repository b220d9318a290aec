//! What a projection's runner and the manager share: its status, statistics,
//! partition states, last checkpoint and writer.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::emit::Writer;
use super::tag::Tag;

/// A partition's state and result, as JSON text (`None`: null / none).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PartitionState {
    pub(crate) state: Option<String>,
    pub(crate) result: Option<String>,
}

impl PartitionState {
    /// The checkpoint form KurrentDB writes (`PartitionState.Serialize`):
    /// `[state]`, or `[state,result]` when there is a result.
    pub(crate) fn serialize(&self) -> String {
        let state = self.state.as_deref().unwrap_or("");
        match &self.result {
            Some(result) => format!("[{state},{result}]"),
            None => format!("[{state}]"),
        }
    }
}

/// Where a projection's run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStatus {
    /// Never started, disabled or aborted.
    Stopped,
    Running,
    Faulted,
}

/// The last checkpoint: where to resume, and the states there.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checkpoint {
    /// The log index to read from.
    pub(crate) cursor: usize,
    pub(crate) tag: Option<Tag>,
    pub(crate) states: BTreeMap<String, PartitionState>,
}

/// A projection's run, shared by its runner thread and the manager.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) status: RunStatus,
    /// Why it faulted.
    pub(crate) reason: String,
    /// It faulted before it could run: its query did not compile or
    /// declares no source (KurrentDB never creates its core projection).
    pub(crate) unprepared: bool,
    /// The tag of the last event processed.
    pub(crate) position: Option<Tag>,
    pub(crate) last_checkpoint: Option<Tag>,
    pub(crate) events_processed: i64,
    pub(crate) buffered: i64,
    pub(crate) progress: f32,
    /// The live partition states ("" is the root partition).
    pub(crate) states: BTreeMap<String, PartitionState>,
    /// Partitions changed since the last checkpoint.
    pub(crate) dirty: BTreeSet<String>,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) writer: Writer,
    /// Every stream the projection emitted to (for reset).
    pub(crate) emitted_streams: HashSet<String>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            status: RunStatus::Stopped,
            reason: String::new(),
            unprepared: false,
            position: None,
            last_checkpoint: None,
            events_processed: 0,
            buffered: 0,
            progress: 0.0,
            states: BTreeMap::new(),
            dirty: BTreeSet::new(),
            checkpoint: Checkpoint::default(),
            writer: Writer::default(),
            emitted_streams: HashSet::new(),
        }
    }
}

impl Shared {
    /// Forgets everything the projection computed (a reset).
    pub(crate) fn reset(&mut self) {
        self.position = None;
        self.last_checkpoint = None;
        self.states.clear();
        self.dirty.clear();
        self.checkpoint = Checkpoint::default();
        self.writer.clear();
    }
}
