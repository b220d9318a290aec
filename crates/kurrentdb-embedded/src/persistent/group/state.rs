//! What a group holds behind its mutex ([`State`]) and the parts it is made
//! of: its read cursors ([`Cursor`]), the checkpoint window
//! ([`WindowEntry`]), its consumers and the messages in flight to them
//! ([`Consumer`], [`InFlight`]), and its statistics' measures
//! ([`Measuring`], [`Latencies`]). The files beside it act on them: the
//! driver reads, `consumers` delivers, `checkpoint` checkpoints, `stats`
//! reports.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

use super::buffer::Buffers;
use super::message::{Delivery, Message};
use crate::persistent::types::{ConsumerDetails, Settings};

/// Everything about a group that changes, behind the group's mutex.
#[derive(Debug)]
pub(super) struct State {
    pub(super) settings: Settings,
    /// Whether the checkpoint was read and the cursor placed (the driver loads
    /// the group on its first step and after a reset).
    pub(super) loaded: bool,
    /// The group was deleted: the driver stops.
    pub(super) shut_down: bool,
    /// Where the next history read starts.
    pub(super) cursor: Cursor,
    /// Whether the last history read reached the end of the source.
    pub(super) history_at_end: bool,
    /// Where the events written since the group was loaded continue.
    pub(super) live_cursor: Cursor,
    /// The retry, read and live buffers.
    pub(super) buffers: Buffers,
    /// Delivered and not yet acked, by ack id.
    pub(super) in_flight: HashMap<Uuid, InFlight>,
    pub(super) consumers: Vec<Consumer>,
    /// The next consumer to try under the round-robin strategy.
    pub(super) rr: usize,
    /// The sequence number of the next message read.
    pub(super) next_seq: u64,
    /// Messages read and not yet done, in order, for the safe checkpoint.
    pub(super) window: VecDeque<WindowEntry>,
    /// The revision or position up to which every message is done.
    pub(super) safe: Option<u64>,
    pub(super) last_checkpointed: Option<u64>,
    pub(super) processed_since_checkpoint: u64,
    pub(super) last_checkpoint_at: Instant,
    /// The highest revision or position read or seen live.
    pub(super) last_known: Option<u64>,
    /// Messages delivered (retries included).
    pub(super) total_items: u64,
    /// The start of the current statistics measurement.
    pub(super) measuring: Measuring,
    pub(super) parked_count: u64,
    /// When the driver must look again although no wake-up will come (see
    /// `driver::RECHECK`); cleared at each step.
    pub(super) recheck_at: Option<Instant>,
    /// The group's clock ticks at this instant plus whole seconds (see
    /// [`TICK`]).
    pub(super) tick_origin: Instant,
}

/// How often KurrentDB times messages out and checks the time rule of
/// checkpoints: its `PersistentSubscriptionService` sends every group a
/// `PersistentSubscriptionTimerTick` each 1000 ms (`NotifyClockTick`), and
/// nothing else looks at the clock. So a message is retried at the first tick
/// after its timeout (a 100 ms timeout waits up to a second, and an ack that
/// arrives before that tick is in time), and a timeout of 0 retries it at
/// the next tick.
pub(super) const TICK: std::time::Duration = std::time::Duration::from_secs(1);

impl State {
    pub(super) fn new(settings: Settings) -> State {
        State {
            buffers: Buffers::new(&settings, false),
            settings,
            loaded: false,
            shut_down: false,
            cursor: Cursor::Stream(0),
            history_at_end: false,
            live_cursor: Cursor::Stream(0),
            in_flight: HashMap::new(),
            consumers: Vec::new(),
            rr: 0,
            next_seq: 0,
            window: VecDeque::new(),
            safe: None,
            last_checkpointed: None,
            processed_since_checkpoint: 0,
            last_checkpoint_at: Instant::now(),
            last_known: None,
            total_items: 0,
            measuring: Measuring::new(),
            parked_count: 0,
            recheck_at: None,
            tick_origin: Instant::now(),
        }
    }

    /// The last tick of the group's clock at or before `now`.
    pub(super) fn last_tick(&self, now: Instant) -> Instant {
        let since = now.saturating_duration_since(self.tick_origin);
        let ticks = since.as_secs() / TICK.as_secs();
        self.tick_origin + TICK * u32::try_from(ticks).unwrap_or(u32::MAX)
    }

    /// The first tick at or after `at`, when what is due at `at` is seen.
    pub(super) fn tick_at_or_after(&self, at: Instant) -> Instant {
        let last = self.last_tick(at);
        if last >= at { last } else { last + TICK }
    }
}

/// Where the next read from the source starts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cursor {
    /// The next revision of the stream.
    Stream(u64),
    /// The next log index.
    All(usize),
}

/// A message read from the source, in the checkpoint window.
#[derive(Debug)]
pub(super) struct WindowEntry {
    pub(super) seq: u64,
    /// Its revision (stream groups) or commit position (`$all` groups): what
    /// the checkpoint records.
    pub(super) value: u64,
    /// Acked, skipped or parked.
    pub(super) done: bool,
}

/// One connected consumer.
#[derive(Debug)]
pub(super) struct Consumer {
    pub(super) id: u64,
    pub(super) tx: mpsc::Sender<Delivery>,
    /// How many unacked messages it may hold (its buffer size).
    pub(super) slots: usize,
    pub(super) in_flight: usize,
    /// Messages pushed to it.
    pub(super) total_items: u64,
    /// `total_items` at the previous statistics call.
    pub(super) last_total_items: u64,
    /// Its latencies, when the group keeps extra statistics.
    pub(super) latencies: Option<Latencies>,
    /// It sent `Stop`: no new messages, but it may still ack.
    pub(super) stopping: bool,
    pub(super) details: ConsumerDetails,
}

impl Consumer {
    /// How many more messages it may receive now.
    pub(super) fn free(&self) -> usize {
        if self.stopping {
            0
        } else {
            self.slots.saturating_sub(self.in_flight)
        }
    }
}

/// A delivered message waiting for its ack.
#[derive(Debug)]
pub(super) struct InFlight {
    pub(super) msg: Message,
    pub(super) consumer: u64,
    /// When it was pushed (for the consumer's latencies).
    pub(super) sent_at: Instant,
    /// When it is retried unless acked (`None`: message timeout zero, never).
    pub(super) deadline: Option<Instant>,
}

/// How many latencies a consumer keeps for its extra statistics
/// (`RequestStatistics`' window in `PersistentSubscriptionClient.cs`).
pub(super) const LATENCY_WINDOW: usize = 1000;

/// The start of the current measurement (`_lastTotalTime`, `_lastTotalItems`).
#[derive(Debug)]
pub(super) struct Measuring {
    pub(super) since: Instant,
    pub(super) total_items: u64,
}

impl Measuring {
    pub(super) fn new() -> Measuring {
        Measuring {
            since: Instant::now(),
            total_items: 0,
        }
    }
}

/// A consumer's latencies, in milliseconds, oldest first.
#[derive(Debug, Default)]
pub(super) struct Latencies(pub(super) VecDeque<u64>);

impl Latencies {
    pub(super) fn record(&mut self, elapsed: Duration) {
        if self.0.len() == LATENCY_WINDOW {
            self.0.pop_front();
        }
        self.0
            .push_back(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
    }

    /// The measurements KurrentDB reports (`GetMeasurementDetails`); none
    /// before the first latency.
    pub(super) fn measurements(&self) -> Vec<(String, i64)> {
        let mut items: Vec<i64> = self
            .0
            .iter()
            .map(|&v| i64::try_from(v).unwrap_or(i64::MAX))
            .collect();
        if items.is_empty() {
            return Vec::new();
        }
        items.sort_unstable();
        let n = items.len();
        // `(int)(percentile / 100 * size)`, the last item for 100%.
        let at = |per_mille: usize| items[(per_mille * n / 1000).min(n - 1)];
        let sum = items.iter().fold(0i64, |a, &v| a.saturating_add(v));
        let mut out = vec![
            ("Mean".to_owned(), sum / n as i64),
            ("Median".to_owned(), items[n / 2]),
            ("Fastest".to_owned(), items[0]),
        ];
        for q in 0..5 {
            out.push((format!("Quintile {}", q + 1), at(q * 200)));
        }
        for (name, per_mille) in [
            ("90%", 900),
            ("95%", 950),
            ("99%", 990),
            ("99.5%", 995),
            ("99.9%", 999),
        ] {
            out.push((name.to_owned(), at(per_mille)));
        }
        out.push(("Highest".to_owned(), items[n - 1]));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Latencies;

    #[test]
    fn latency_measurements_follow_kurrentdb_percentiles() {
        let mut l = Latencies::default();
        assert!(l.measurements().is_empty());
        for ms in (1..=10).rev() {
            l.record(Duration::from_millis(ms));
        }
        let m: Vec<(String, i64)> = l.measurements();
        let get = |k: &str| m.iter().find(|(n, _)| n == k).unwrap().1;
        assert_eq!(m.len(), 14);
        assert_eq!(get("Mean"), 5); // 55 / 10
        assert_eq!(get("Median"), 6); // items[5]
        assert_eq!(get("Fastest"), 1);
        assert_eq!(get("Quintile 1"), 1);
        assert_eq!(get("Quintile 5"), 9); // items[8]
        assert_eq!(get("90%"), 10);
        assert_eq!(get("99.9%"), 10);
        assert_eq!(get("Highest"), 10);
        for _ in 0..2000 {
            l.record(Duration::from_millis(7));
        }
        assert_eq!(l.0.len(), super::LATENCY_WINDOW);
        assert_eq!(l.measurements()[2], ("Fastest".to_owned(), 7));
    }
}
