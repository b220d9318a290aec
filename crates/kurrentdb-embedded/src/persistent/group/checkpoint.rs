//! A group's checkpoint: loading the group from it (and placing the read
//! cursor), the window of messages that are not done yet, and writing the safe
//! checkpoint by the `min/max_checkpoint_count` and `checkpoint_after` rules.

use bytes::Bytes;
use tokio::time::Instant;

use super::Group;
use super::buffer::Buffers;
use super::driver::RECHECK;
use super::message::Message;
use super::state::{Cursor, State};
use crate::persistent::types::{
    CHECKPOINT_EVENT_TYPE, LEGACY_CHECKPOINT_EVENT_TYPE, Source, StartFrom, checkpoint_stream,
    parked_stream,
};
use crate::store::{CurrentRevision, Direction, LogStart};

impl State {
    /// Whether a checkpoint is waiting to be written: the safe point moved
    /// since the last one and messages were processed.
    fn checkpoint_pending(&self) -> bool {
        self.safe.is_some()
            && self.last_checkpointed != self.safe
            && self.processed_since_checkpoint > 0
    }

    /// When the time rule (`min_checkpoint_count` messages processed and
    /// `checkpoint_after` elapsed) makes the pending checkpoint due; `None`
    /// when none is pending or the count is not reached.
    pub(super) fn checkpoint_due_at(&self) -> Option<Instant> {
        let s = &self.settings;
        // A `checkpoint_after` of 0 turns the time rule off: KurrentDB
        // takes it as `TimeSpan.MaxValue` (`ToCheckPointAfterTimeout`).
        if s.checkpoint_after.is_zero()
            || !self.checkpoint_pending()
            || self.processed_since_checkpoint < u64::from(s.min_checkpoint_count)
        {
            return None;
        }
        self.last_checkpoint_at.checked_add(s.checkpoint_after)
    }

    /// Whether the pending checkpoint must be written now: by count
    /// (`max_checkpoint_count`) or by time.
    fn checkpoint_due(&self, now: Instant) -> bool {
        let by_count =
            self.processed_since_checkpoint >= u64::from(self.settings.max_checkpoint_count.max(1));
        self.checkpoint_pending()
            && (by_count || self.checkpoint_due_at().is_some_and(|at| at <= now))
    }
}

impl Group {
    /// Reads the checkpoint and the parked count, and places the cursors: the
    /// history read's, and the live one at the end of the source (KurrentDB's
    /// `OnCheckpointLoaded` in `PersistentSubscription.cs`: a group without a
    /// checkpoint that starts from the end is live at once, any other starts
    /// in history).
    pub(super) fn load(&self, st: &mut State) {
        let checkpoint = self.read_checkpoint();
        let start = st.settings.start_from;
        st.cursor = match &self.source {
            // The checkpoint stream is an ordinary stream any client can
            // write to: a checkpoint of `u64::MAX` has nothing after it (the
            // cursor stays there: nothing to deliver), it does not wrap to 0.
            Source::Stream(stream) => Cursor::Stream(match (checkpoint, start) {
                (Some(r), _) => r.saturating_add(1),
                (None, StartFrom::Start) => 0,
                (None, StartFrom::At(r)) => r,
                (None, StartFrom::End) => match self.store.stream_state(stream).0 {
                    CurrentRevision::Revision(r) => r + 1,
                    CurrentRevision::NoStream => 0,
                },
            }),
            Source::All { .. } => {
                let from = match (checkpoint, start) {
                    (Some(p), _) => LogStart::After(p),
                    (None, StartFrom::At(p)) => LogStart::At(p),
                    (None, StartFrom::Start) => LogStart::Start,
                    (None, StartFrom::End) => LogStart::End,
                };
                // A position that is not a record's (a checkpoint anyone could
                // have written, up to `u64::MAX`): the first record after it.
                Cursor::All(self.store.all_cursor_nearest(from))
            }
        };
        st.live_cursor = match &self.source {
            Source::Stream(stream) => Cursor::Stream(match self.store.stream_state(stream).0 {
                CurrentRevision::Revision(r) => r.saturating_add(1),
                CurrentRevision::NoStream => 0,
            }),
            Source::All { .. } => Cursor::All(self.store.all_cursor_nearest(LogStart::End)),
        };
        let live = checkpoint.is_none() && start == StartFrom::End;
        st.buffers = Buffers::new(&st.settings, live);
        st.history_at_end = false;
        st.safe = checkpoint;
        st.last_checkpointed = checkpoint;
        // The loaded checkpoint is not a known event: KurrentDB's statistics
        // learn the last known position from reads and live events only.
        st.last_known = None;
        st.parked_count = self.parked_count();
        st.last_checkpoint_at = Instant::now();
        st.loaded = true;
    }

    fn read_checkpoint(&self) -> Option<u64> {
        let stream = Bytes::from(checkpoint_stream(&self.stream_name, &self.name));
        let batch = self
            .store
            .read_stream(&stream, None, Direction::Backwards, 1, false)
            .ok()?;
        let record = &batch.events.first()?.event.as_ref()?.record;
        if !matches!(
            &*record.event_type,
            CHECKPOINT_EVENT_TYPE | LEGACY_CHECKPOINT_EVENT_TYPE
        ) {
            return None;
        }
        let text: String = serde_json::from_slice(&record.data()).ok()?;
        parse_checkpoint(&text)
    }

    fn parked_count(&self) -> u64 {
        let stream = Bytes::from(parked_stream(&self.stream_name, &self.name));
        match self
            .store
            .read_stream(&stream, None, Direction::Backwards, 1, false)
        {
            Ok(batch) => batch
                .last_revision
                .map_or(0, |last| (last + 1).saturating_sub(batch.first_revision)),
            Err(_) => 0,
        }
    }

    /// Marks a message done: the checkpoint may advance past it.
    pub(super) fn complete(st: &mut State, msg: &Message) {
        let Some(seq) = msg.seq else {
            return;
        };
        let Some(front) = st.window.front().map(|e| e.seq) else {
            return;
        };
        if seq < front {
            return;
        }
        if let Some(entry) = st.window.get_mut((seq - front) as usize) {
            if entry.done {
                return;
            }
            entry.done = true;
            st.processed_since_checkpoint += 1;
        }
        while st.window.front().is_some_and(|e| e.done) {
            let e = st.window.pop_front().expect("front exists");
            st.safe = Some(e.value);
        }
    }

    /// Writes the safe checkpoint when it is due. A write that fails is tried
    /// again after [`RECHECK`].
    pub(super) fn maybe_checkpoint(&self, st: &mut State) {
        let Some(safe) = st.safe else {
            return;
        };
        // The time rule is checked at the clock's ticks (`state::TICK`,
        // `TryMarkCheckpoint(isTimeCheck: true)`), the count rule at once.
        let tick = st.last_tick(Instant::now());
        if !st.checkpoint_due(tick) {
            return;
        }
        let stream = checkpoint_stream(&self.stream_name, &self.name);
        if self.store.stream_state(stream.as_bytes()).0 == CurrentRevision::NoStream {
            // First checkpoint: keep only the last two, as the real server does.
            self.append_metadata(stream.as_bytes(), Bytes::from_static(br#"{"$maxCount":2}"#));
        }
        let data = serde_json::Value::String(self.format_position(safe)).to_string();
        if self.append(
            Bytes::from(stream),
            CHECKPOINT_EVENT_TYPE,
            true,
            Bytes::from(data),
        ) {
            st.last_checkpointed = Some(safe);
            st.processed_since_checkpoint = 0;
            st.last_checkpoint_at = Instant::now();
        } else {
            st.recheck_at = Instant::now().checked_add(RECHECK);
        }
    }
}

/// Parses a checkpoint: `"5"` or `"C:5/P:5"`.
fn parse_checkpoint(text: &str) -> Option<u64> {
    if let Some(rest) = text.strip_prefix("C:") {
        let commit = rest.split('/').next()?;
        return commit.parse().ok();
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_checkpoint;

    #[test]
    fn checkpoints_parse_in_both_forms() {
        assert_eq!(parse_checkpoint("5"), Some(5));
        assert_eq!(parse_checkpoint("C:4096/P:4096"), Some(4096));
        assert_eq!(parse_checkpoint("x"), None);
    }
}
