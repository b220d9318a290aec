//! A group's buffers, kept by the rules of KurrentDB's `StreamBuffer.cs`
//! (`src/KurrentDB.Core/Services/PersistentSubscription/`), because the
//! statistics report them (`read_buffer_count`, `live_buffer_count`,
//! `retry_buffer_count`) and applications act on them (an outbox polls
//! `live_buffer_count`).
//!
//! # The three buffers
//!
//! - `retry`: messages to deliver again (a nack, a timeout, a consumer that
//!   left, a parked message replayed). Served first. A retried message goes
//!   before the first retried message with a higher position; replayed parked
//!   messages go to the end (`AddRetry`).
//! - `read` (KurrentDB's `_buffer`, the *read buffer*): messages waiting for a
//!   consumer. It is filled by history reads while the group is catching up, and
//!   by live events while the group is live and the buffer has room.
//! - `live` (KurrentDB's `_liveBuffer`, a `BoundedQueue` of `live_buffer_size`
//!   that drops its oldest entry when full): **every** event written to the
//!   source after the group was loaded, whatever the group's state. It is not
//!   drained by delivery: it only empties when a catching-up group's history
//!   reads reach its first event (`SwitchToLive` moves it into the read buffer).
//!   So a live group reports its recent events in both `read_buffer_count`
//!   (until delivered) and `live_buffer_count` (up to `live_buffer_size`).
//!
//! # Catching up and live (`Live`, reported as the group's `status`)
//!
//! - A group loaded without a checkpoint and started from the end is live at
//!   once; any other group starts in history (`startInHistory`).
//! - In history, the group reads `read_batch_size` events at a time while
//!   `buffer_size - (retry + read) > read_batch_size` (`CanAccept`). A read
//!   event before the first live event goes to the read buffer; one at or past
//!   it switches the group to live (the live queue, from that event on, moves
//!   into the read buffer). A read that reaches the end of the source with the
//!   live queue empty switches to live too (`TryMoveToLive`).
//! - Live, a new event goes to the read buffer while it holds fewer than
//!   `buffer_size` messages; the first that does not fit sends the group back to
//!   history, reading from that event (`AddLiveMessage`, and
//!   `NotifyLiveSubscriptionMessage` in `PersistentSubscription.cs`).
//!
//! The sizes are the client's `int32`s; here they are clamped (see
//! [`MAX_HISTORY_BUFFER`], [`MAX_LIVE_BUFFER`]) so that no setting makes a
//! group hold more than that many messages per buffer.

use std::collections::VecDeque;

use super::message::Message;
use crate::persistent::types::Settings;

/// The largest read buffer a group keeps, whatever its `history_buffer_size`.
pub(super) const MAX_HISTORY_BUFFER: usize = 65_536;
/// The largest live queue a group keeps, whatever its `live_buffer_size`.
pub(super) const MAX_LIVE_BUFFER: usize = 65_536;

/// The retry, read and live buffers of a group.
#[derive(Debug)]
pub(super) struct Buffers {
    /// KurrentDB's `StreamBuffer.Live`: new events go straight to `read`.
    pub(super) live: bool,
    pub(super) read: VecDeque<Message>,
    pub(super) retry: VecDeque<Message>,
    /// The last `live_capacity` events written to the source since the group
    /// was loaded.
    pub(super) live_queue: VecDeque<Message>,
    live_capacity: usize,
    /// `buffer_size` (the history buffer size).
    max_buffer: usize,
}

impl Buffers {
    pub(super) fn new(settings: &Settings, live: bool) -> Buffers {
        Buffers {
            live,
            read: VecDeque::new(),
            retry: VecDeque::new(),
            live_queue: VecDeque::new(),
            live_capacity: (settings.live_buffer_size as usize).min(MAX_LIVE_BUFFER),
            max_buffer: (settings.history_buffer_size as usize).min(MAX_HISTORY_BUFFER),
        }
    }

    /// Whether a history read of `count` events may start (`CanAccept`).
    pub(super) fn can_accept(&self, count: usize) -> bool {
        self.max_buffer
            .saturating_sub(self.retry.len() + self.read.len())
            > count
    }

    /// A new event written to the source (`AddLiveMessage`). Returns whether it
    /// sent the group back to history (the read buffer was full).
    pub(super) fn add_live(&mut self, msg: Message) -> bool {
        let mut fell_behind = false;
        if self.live {
            if self.read.len() < self.max_buffer {
                self.read.push_back(msg.clone());
            } else {
                self.live = false;
                fell_behind = true;
            }
        }
        if self.live_capacity > 0 {
            if self.live_queue.len() == self.live_capacity {
                self.live_queue.pop_front();
            }
            self.live_queue.push_back(msg);
        }
        fell_behind
    }

    /// An event read from history (`AddReadMessage`).
    pub(super) fn add_read(&mut self, msg: Message) {
        if self.live {
            return;
        }
        match self.live_queue.front().map(|m| m.value) {
            Some(head) if msg.value >= head => {
                // `DrainLiveTo`: the live events before this one were read
                // already.
                while self.live_queue.front().is_some_and(|m| m.value < msg.value) {
                    self.live_queue.pop_front();
                }
                self.switch_to_live();
            }
            _ => self.read.push_back(msg),
        }
    }

    /// A history read reached the end of the source (`TryMoveToLive`).
    pub(super) fn reached_end(&mut self) {
        if self.live_queue.is_empty() {
            self.live = true;
        }
    }

    fn switch_to_live(&mut self) {
        self.read.extend(self.live_queue.drain(..));
        self.live = true;
    }

    /// A message to deliver again (`AddRetry`): before the first retried
    /// message with a higher position; replayed parked messages at the end.
    pub(super) fn add_retry(&mut self, msg: Message) {
        if !msg.replayed
            && let Some(i) = self
                .retry
                .iter()
                .position(|m| !m.replayed && msg.value < m.value)
        {
            self.retry.insert(i, msg);
            return;
        }
        self.retry.push_back(msg);
    }

    /// The next message to deliver (retries first), and whether it is a retry.
    pub(super) fn front(&self) -> Option<(&Message, bool)> {
        match self.retry.front() {
            Some(m) => Some((m, true)),
            None => self.read.front().map(|m| (m, false)),
        }
    }

    /// Takes the next message (as [`Buffers::front`] chose it).
    pub(super) fn pop(&mut self, from_retry: bool) -> Option<Message> {
        if from_retry {
            self.retry.pop_front()
        } else {
            self.read.pop_front()
        }
    }

    /// Puts back a message that could not be sent.
    pub(super) fn unpop(&mut self, msg: Message, from_retry: bool) {
        if from_retry {
            self.retry.push_front(msg);
        } else {
            self.read.push_front(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use uuid::Uuid;

    use super::Buffers;
    use crate::log::Record;
    use crate::persistent::group::Message;
    use crate::persistent::types::Settings;
    use crate::store::{NamedRecord, ResolvedRecord};

    fn msg(value: u64, replayed: bool) -> Message {
        let record = Record {
            position: value,
            revision: value,
            created: 0,
            id: Uuid::new_v4(),
            stream: 0,
            is_json: true,
            data_len: 0,
            event_type: "T".into(),
            body: Default::default(),
        };
        let event = NamedRecord {
            record,
            stream: Bytes::from_static(b"s"),
        };
        let resolved = ResolvedRecord {
            event: Some(event),
            link: None,
        };
        Message::from_resolved(resolved, value, replayed)
    }

    fn buffers(history: u32, live: u32, is_live: bool) -> Buffers {
        let settings = Settings {
            history_buffer_size: history,
            live_buffer_size: live,
            ..Settings::default()
        };
        Buffers::new(&settings, is_live)
    }

    fn values(q: &std::collections::VecDeque<Message>) -> Vec<u64> {
        q.iter().map(|m| m.value).collect()
    }

    #[test]
    fn a_live_group_keeps_new_events_in_both_buffers_and_falls_behind_when_full() {
        let mut b = buffers(2, 2, true);
        assert!(!b.add_live(msg(0, false)));
        assert!(!b.add_live(msg(1, false)));
        // The read buffer is full: back to history; the live queue drops its
        // oldest.
        assert!(b.add_live(msg(2, false)));
        assert!(!b.live);
        assert_eq!(values(&b.read), [0, 1]);
        assert_eq!(values(&b.live_queue), [1, 2]);
    }

    #[test]
    fn history_reads_switch_to_live_at_the_first_live_event() {
        let mut b = buffers(10, 10, false);
        b.add_live(msg(5, false));
        b.add_live(msg(6, false));
        b.add_read(msg(3, false));
        b.add_read(msg(4, false));
        assert!(!b.live);
        b.add_read(msg(5, false));
        assert!(b.live);
        assert_eq!(values(&b.read), [3, 4, 5, 6]);
        assert!(b.live_queue.is_empty());
        // Past the live head (it was dropped): drained to the event read.
        let mut b = buffers(10, 10, false);
        b.add_live(msg(5, false));
        b.add_live(msg(8, false));
        b.add_read(msg(7, false));
        assert!(b.live);
        assert_eq!(values(&b.read), [8]);
        // The end of the source with nothing live: live.
        let mut b = buffers(10, 10, false);
        b.reached_end();
        assert!(b.live);
    }

    #[test]
    fn retries_go_in_position_order_and_replayed_ones_last() {
        let mut b = buffers(10, 10, true);
        b.add_retry(msg(7, false));
        b.add_retry(msg(100, true));
        b.add_retry(msg(3, false));
        b.add_retry(msg(5, false));
        assert_eq!(values(&b.retry), [3, 5, 7, 100]);
        assert!(b.can_accept(5));
        assert!(!b.can_accept(6));
    }
}
