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

impl Group {
    /// Sends waiting messages (retries first) to consumers with free slots.
    /// Returns how many were sent. A consumer whose channel is full (it has not
    /// read what it was sent) is tried again after [`RECHECK`].
    pub(super) fn dispatch(&self, st: &mut State) -> usize {
        let mut sent = 0;
        // Retries a pinned consumer was too busy for, in their order, and new
        // messages it was too busy for (see [`Choice::Skip`]).
        let mut held: Vec<Message> = Vec::new();
        let mut skipped: Vec<Message> = Vec::new();
        while let Some((msg, from_retry)) = st.buffers.front() {
            let pin_key = msg.event.as_ref().unwrap_or(msg.original()).stream.clone();
            let target = match choose(st, &pin_key) {
                Choice::Send(target) => target,
                Choice::Full => break,
                Choice::Skip => {
                    let mut msg = st.buffers.pop(from_retry).expect("front exists");
                    if from_retry {
                        held.push(msg);
                    } else {
                        number(st, &mut msg);
                        skipped.push(msg);
                    }
                    continue;
                }
            };
            let timeout = st.settings.message_timeout;
            let mut msg = st.buffers.pop(from_retry).expect("front exists");
            let consumer = &mut st.consumers[target];
            match consumer.tx.try_send(Delivery::Event(Box::new(msg.clone()))) {
                Ok(()) => {
                    consumer.in_flight += 1;
                    consumer.total_items += 1;
                    let consumer_id = consumer.id;
                    let now = Instant::now();
                    // Seen at the first clock tick after it (`TICK`); a
                    // timeout of 0 expires at the next one.
                    let deadline = now.checked_add(timeout);
                    st.total_items += 1;
                    number(st, &mut msg);
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
        // The held retries stay where they were, ahead of the rest; the new
        // messages go to the end of the retry buffer.
        for msg in held.into_iter().rev() {
            st.buffers.retry.push_front(msg);
        }
        st.buffers.retry.extend(skipped);
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
        // Only what was due by the last clock tick (see `state::TICK`).
        let now = st.last_tick(Instant::now());
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

/// Gives a message its sequence number and its entry in the checkpoint
/// window the first time it leaves the buffer (KurrentDB numbers a message
/// when it is sent, or skipped: `PushToClients`); replayed parked messages
/// are not in the window.
fn number(st: &mut State, msg: &mut Message) {
    if msg.seq.is_none() && !msg.replayed {
        let seq = st.next_seq;
        st.next_seq += 1;
        st.window.push_back(WindowEntry {
            seq,
            value: msg.value,
            done: false,
        });
        msg.seq = Some(seq);
    }
}

/// Where the strategy sends the next message.
enum Choice {
    /// To this consumer.
    Send(usize),
    /// Not now: no consumer has a free slot (`NoMoreCapacity`).
    Full,
    /// Not to anyone now: the consumer it is pinned to is busy while others
    /// have room. KurrentDB's pinned strategies answer `Skipped`, and the
    /// scan goes on with the next message, so one busy consumer does not
    /// hold up the others (`PinnablePersistentSubscriptionConsumerStrategy.
    /// PushMessageToClient`; a skipped new message moves to the end of the
    /// retry buffer, a skipped retry stays in place: `PushToClients`).
    Skip,
}

/// The consumer the group's strategy gives the next message to.
fn choose(st: &mut State, pin_key: &Bytes) -> Choice {
    let n = st.consumers.len();
    let found = |i: Option<usize>| i.map_or(Choice::Full, Choice::Send);
    if n == 0 {
        return Choice::Full;
    }
    match st.settings.consumer_strategy {
        ConsumerStrategy::DispatchToSingle => found(st.consumers.iter().position(|c| c.free() > 0)),
        ConsumerStrategy::RoundRobin => {
            let start = st.rr % n;
            let Some(i) = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| st.consumers[i].free() > 0)
            else {
                return Choice::Full;
            };
            st.rr = i + 1;
            Choice::Send(i)
        }
        ConsumerStrategy::Pinned | ConsumerStrategy::PinnedByCorrelation => {
            if st.consumers.iter().all(|c| c.free() == 0) {
                return Choice::Full;
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            pin_key.hash(&mut h);
            let i = (h.finish() % n as u64) as usize;
            if st.consumers[i].free() > 0 {
                Choice::Send(i)
            } else {
                Choice::Skip
            }
        }
    }
}
