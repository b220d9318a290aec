//! [`SubscriptionRetry`]: how a catch-up or persistent subscription
//! resubscribes by itself.

use std::time::Duration;

/// How a catch-up subscription resubscribes by itself when its call is lost
/// (the node went away, the connection dropped, a not-leader answer): after
/// `delay`, from the last event it delivered, so that the consumer sees every
/// event once and in order. `attempts` bounds the failed resubscriptions in a
/// row (`None`: no bound); when they are spent the subscription ends with the
/// last error. Errors that are not about the connection (a deleted stream,
/// access denied, a closed client) end the subscription at once.
///
/// A persistent subscription (`ReadSubscriptionOptions::retry`) joins its
/// group again the same way, on the node that serves it (the leader), also
/// when the server drops its consumers (as KurrentDB does on an election):
/// the group goes on from its last checkpoint, so events not yet acked (or
/// acked after that checkpoint) come again, at least once and never lost.
/// Acks for a lost call are dropped meanwhile (their events come again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionRetry {
    /// Failed resubscriptions in a row before giving up (`None`: never).
    pub attempts: Option<u32>,
    /// The wait before each resubscription.
    pub delay: Duration,
}

impl SubscriptionRetry {
    /// At most `attempts` failed resubscriptions in a row, `delay` apart.
    pub fn new(attempts: u32, delay: Duration) -> Self {
        SubscriptionRetry {
            attempts: Some(attempts),
            delay,
        }
    }

    /// Resubscribe for as long as it takes, `delay` apart.
    pub fn forever(delay: Duration) -> Self {
        SubscriptionRetry {
            attempts: None,
            delay,
        }
    }
}

impl Default for SubscriptionRetry {
    /// Three attempts, 500 ms apart.
    fn default() -> Self {
        SubscriptionRetry::new(3, Duration::from_millis(500))
    }
}
