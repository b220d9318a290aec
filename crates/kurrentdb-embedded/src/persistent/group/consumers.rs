//! A group's consumers and the messages in flight to them: choosing a consumer
//! by the group's strategy, delivering, and what happens to a message that
//! comes back (retried, or parked past `max_retry_count`).

use std::hash::{Hash, Hasher};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

use super::Group;
use super::driver::RECHECK;
use super::message::{Delivery, Message};
use super::state::{InFlight, State, WindowEntry};
use crate::log::LINK_EVENT_TYPE;
use crate::persistent::types::{ConsumerStrategy, parked_stream};

/// The shortest message timeout the driver keeps. KurrentDB looks for timed
/// out messages once a second (its `PersistentSubscriptionTimerTick`, every
/// 1000 ms, in `PersistentSubscriptionService.cs`), so a shorter timeout
/// never took effect there; here, a 1 ms timeout with a huge retry count had
/// the driver resend every message a thousand times a second.
pub(super) const MIN_MESSAGE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(100);

impl Group {
    /// Sends waiting messages (retries first) to consumers with free slots.
    /// Returns how many were sent. A consumer whose channel is full (it has not
    /// read what it was sent) is tried again after [`RECHECK`].
    pub(super) fn dispatch(&self, st: &mut State) -> usize {
        let mut sent = 0;
        while let Some((msg, from_retry)) = st.buffers.front() {
            let pin_key = msg.event.as_ref().unwrap_or(msg.original()).stream.clone();
            let Some(target) = choose(st, &pin_key) else {
                break;
            };
            let timeout = st.settings.message_timeout.max(MIN_MESSAGE_TIMEOUT);
            let mut msg = st.buffers.pop(from_retry).expect("front exists");
            let consumer = &mut st.consumers[target];
            match consumer.tx.try_send(Delivery::Event(Box::new(msg.clone()))) {
                Ok(()) => {
                    consumer.in_flight += 1;
                    consumer.total_items += 1;
                    let consumer_id = consumer.id;
                    let now = Instant::now();
                    let deadline = if timeout.is_zero() {
                        None
                    } else {
                        now.checked_add(timeout)
                    };
                    st.total_items += 1;
                    if msg.seq.is_none() && !msg.replayed {
                        // First sent: it enters the checkpoint window (KurrentDB
                        // numbers a message when it leaves the buffer).
                        let seq = st.next_seq;
                        st.next_seq += 1;
                        st.window.push_back(WindowEntry {
                            seq,
                            value: msg.value,
                            done: false,
                        });
                        msg.seq = Some(seq);
                    }
                    st.in_flight.insert(
                        msg.ack_id,
                        InFlight {
                            msg,
                            consumer: consumer_id,
                            sent_at: now,
                            deadline,
                        },
                    );
                    sent += 1;
                }
                Err(e) => {
                    let full = matches!(e, mpsc::error::TrySendError::Full(_));
                    let id = consumer.id;
                    st.buffers.unpop(msg, from_retry);
                    if full {
                        st.recheck_at = Instant::now().checked_add(RECHECK);
                        break;
                    }
                    self.remove_consumer(st, id, false);
                }
            }
        }
        sent
    }

    /// Takes a message out of flight (its consumer gets the slot back, and a
    /// latency when it keeps extra statistics).
    pub(super) fn take_in_flight(st: &mut State, id: &Uuid) -> Option<Message> {
        let f = st.in_flight.remove(id)?;
        if let Some(c) = st.consumers.iter_mut().find(|c| c.id == f.consumer) {
            c.in_flight = c.in_flight.saturating_sub(1);
            if let Some(l) = &mut c.latencies {
                l.record(f.sent_at.elapsed());
            }
        }
        Some(f.msg)
    }

    /// Retries every in-flight message whose deadline has passed.
    pub(super) fn expire(&self, st: &mut State) {
        let now = Instant::now();
        let expired: Vec<Uuid> = st
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(m) = Self::take_in_flight(st, &id) {
                self.retry_or_park(st, m);
            }
        }
    }

    pub(super) fn retry_or_park(&self, st: &mut State, mut msg: Message) {
        if msg.retry_count < st.settings.max_retry_count {
            msg.retry_count += 1;
            st.buffers.add_retry(msg);
        } else {
            self.park(st, msg, "Max retry count reached");
        }
    }

    /// Writes a link to the message's event to the parked stream.
    pub(super) fn park(&self, st: &mut State, msg: Message, reason: &str) {
        // A replayed message's original record is the parked link itself: park
        // the event it points to instead.
        let target = if msg.replayed {
            msg.event.as_ref().unwrap_or(msg.original())
        } else {
            msg.original()
        };
        let data = format!(
            "{}@{}",
            target.record.revision,
            String::from_utf8_lossy(&target.stream)
        );
        tracing::debug!(group = %self.subscription_id(), %reason, "parking {data}");
        let stream = Bytes::from(parked_stream(&self.stream_name, &self.name));
        if self.append(stream, LINK_EVENT_TYPE, false, Bytes::from(data)) {
            st.parked_count += 1;
        }
        Self::complete(st, &msg);
    }

    /// Removes a consumer (telling it so when `notify_dropped`); its messages
    /// in flight are retried.
    pub(super) fn remove_consumer(&self, st: &mut State, id: u64, notify_dropped: bool) {
        let Some(i) = st.consumers.iter().position(|c| c.id == id) else {
            return;
        };
        let c = st.consumers.remove(i);
        if notify_dropped {
            let _ = c.tx.try_send(Delivery::Dropped);
        }
        let ids: Vec<Uuid> = st
            .in_flight
            .iter()
            .filter(|(_, f)| f.consumer == id)
            .map(|(k, _)| *k)
            .collect();
        for k in ids {
            if let Some(m) = Self::take_in_flight(st, &k) {
                self.retry_or_park(st, m);
            }
        }
    }
}

/// Picks the consumer for a message by the group's strategy (`pin_key`: the
/// event's stream, for the pinned strategies).
fn choose(st: &mut State, pin_key: &Bytes) -> Option<usize> {
    let n = st.consumers.len();
    if n == 0 {
        return None;
    }
    match st.settings.consumer_strategy {
        ConsumerStrategy::DispatchToSingle => st.consumers.iter().position(|c| c.free() > 0),
        ConsumerStrategy::RoundRobin => {
            let start = st.rr % n;
            let found = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| st.consumers[i].free() > 0)?;
            st.rr = found + 1;
            Some(found)
        }
        ConsumerStrategy::Pinned | ConsumerStrategy::PinnedByCorrelation => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            pin_key.hash(&mut h);
            let i = (h.finish() % n as u64) as usize;
            (st.consumers[i].free() > 0).then_some(i)
        }
    }
}
