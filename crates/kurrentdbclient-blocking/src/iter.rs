//! Blocking iterators over reads ([`ReadStream`]), catch-up subscriptions
//! ([`CatchupSubscription`], stopped from any thread by a [`StopHandle`]) and
//! persistent subscriptions ([`PersistentSubscription`]).
//!
//! Each wraps the async crate's stream of the same name and holds what the
//! [`KurrentDBClient`](crate::KurrentDBClient) that opened it shares with its
//! clones (`runtime::Shared`: its runtime and connection live as long as the
//! iterator). Each `next()` runs an `async` block written in the
//! `Iterator::next` it serves, with `Shared::next_item`, which takes an
//! already-buffered item without parking the thread; the block's type is what
//! names `next()` in the async-context panic.

use std::sync::Arc;

use futures::StreamExt;
use kurrentdbclient::persistent::{AckId, NackAction, PersistentSubscriptionAcker};
use kurrentdbclient::{RecordedEvent, Result, SubscriptionItem};
use tokio::sync::watch;

use crate::runtime::Shared;

/// The events of a [`read_stream`] or [`read_all`], as an
/// `Iterator<Item = Result<RecordedEvent>>`.
///
/// Each `next()` blocks until the next event arrives (events come in batches,
/// so most calls return at once). The iterator ends after the last event; an
/// error ends it too, after being yielded. Dropping it cancels the read. Like
/// every blocking call, `next()` panics when called from async code (see
/// [`KurrentDBClient`](crate::KurrentDBClient#calling-it-from-async-code)).
///
/// ```no_run
/// # use kurrentdbclient_blocking::{KurrentDBClient, ReadStreamOptions, RecordedEvent};
/// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
/// let events: Vec<RecordedEvent> = client
///     .read_stream("order:123", &ReadStreamOptions::default())?
///     .collect::<kurrentdbclient_blocking::Result<_>>()?;
/// # Ok(()) }
/// ```
///
/// [`read_stream`]: crate::KurrentDBClient::read_stream
/// [`read_all`]: crate::KurrentDBClient::read_all
pub struct ReadStream {
    inner: kurrentdbclient::ReadStream,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ReadStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReadStream").field(&self.inner).finish()
    }
}

impl ReadStream {
    pub(crate) fn new(inner: kurrentdbclient::ReadStream, shared: Arc<Shared>) -> Self {
        ReadStream { inner, shared }
    }

    /// Stops the read, cancelling the call; the iterator then ends.
    pub fn stop(&mut self) {
        self.inner.stop();
    }

    /// Collects the remaining events into a `Vec`, failing on the first error
    /// (the same as `.collect::<Result<Vec<_>>>()`, in one blocking call).
    #[track_caller]
    pub fn collect_events(self) -> Result<Vec<RecordedEvent>> {
        self.shared.block_on(self.inner.collect_events())
    }
}

impl Iterator for ReadStream {
    type Item = Result<RecordedEvent>;

    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        let inner = &mut self.inner;
        self.shared.next_item(async { inner.next().await })
    }
}

/// A handle that stops a [`CatchupSubscription`] or a
/// [`PersistentSubscription`] from any thread: cheap to clone, `Send + Sync`,
/// and never blocks.
#[derive(Debug, Clone)]
pub struct StopHandle {
    stop: Arc<watch::Sender<bool>>,
}

impl StopHandle {
    /// A handle, and what the subscription watches.
    fn new() -> (StopHandle, watch::Receiver<bool>) {
        let (sender, stopped) = watch::channel(false);
        let handle = StopHandle {
            stop: Arc::new(sender),
        };
        (handle, stopped)
    }

    /// Stops the subscription: a `next()` blocked in another thread returns
    /// `None` at once, and so does every later `next()`; the call is cancelled.
    /// Stopping twice is harmless.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Whether [`stop`](Self::stop) has been called (on any clone).
    pub fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }
}

/// A catch-up subscription from [`subscribe_to_all`] or
/// [`subscribe_to_stream`]: the stored events, then live ones, as an
/// `Iterator<Item = Result<SubscriptionItem>>`.
///
/// Only events are yielded unless checkpoints or caught-up markers were asked
/// for in the options. The iterator does not end by itself; `next()` blocks
/// until the next item. It ends (returns `None`):
/// - when stopped, with [`stop`](Self::stop) or, from another thread, with a
///   [`StopHandle`] (see [`stop_handle`](Self::stop_handle)), even while a
///   `next()` is blocked waiting;
/// - after yielding an error: when the client is closed (from any thread) a
///   blocked `next()` returns `Some(Err(Error::ClientClosed))` at once, as the
///   async subscription does, then the iterator ends.
///
/// Dropping it cancels the subscription. Like every blocking call, `next()`
/// panics when called from async code (see
/// [`KurrentDBClient`](crate::KurrentDBClient#calling-it-from-async-code)).
///
/// [`subscribe_to_all`]: crate::KurrentDBClient::subscribe_to_all
/// [`subscribe_to_stream`]: crate::KurrentDBClient::subscribe_to_stream
pub struct CatchupSubscription {
    inner: kurrentdbclient::CatchupSubscription,
    stop: StopHandle,
    stopped: watch::Receiver<bool>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CatchupSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CatchupSubscription")
            .field(&self.inner)
            .finish()
    }
}

impl CatchupSubscription {
    pub(crate) fn new(inner: kurrentdbclient::CatchupSubscription, shared: Arc<Shared>) -> Self {
        let (stop, stopped) = StopHandle::new();
        CatchupSubscription {
            inner,
            stop,
            stopped,
            shared,
        }
    }

    /// The subscription's id, as the server confirmed it.
    pub fn subscription_id(&self) -> &str {
        self.inner.subscription_id()
    }

    /// A handle that stops this subscription from another thread.
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, SubscribeToAllOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let subscription = client.subscribe_to_all(&SubscribeToAllOptions::default())?;
    /// let stop = subscription.stop_handle();
    /// let consumer = std::thread::spawn(move || subscription.count());
    /// // ... later, from this thread:
    /// stop.stop();
    /// let received = consumer.join().unwrap();
    /// # Ok(()) }
    /// ```
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Stops the subscription, cancelling the call; the iterator then ends.
    pub fn stop(&mut self) {
        self.stop.stop();
        self.inner.stop();
    }

    /// Whether the subscription has stopped (by [`stop`](Self::stop), a
    /// [`StopHandle`], an error, or the server ending it).
    pub fn is_stopped(&self) -> bool {
        self.stop.is_stopped() || self.inner.is_stopped()
    }
}

impl Iterator for CatchupSubscription {
    type Item = Result<SubscriptionItem>;

    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        if self.stop.is_stopped() {
            self.inner.stop();
            return None;
        }
        let (inner, stopped) = (&mut self.inner, &mut self.stopped);
        let item = self.shared.next_item(async {
            tokio::select! {
                // A stop wins over an item that is ready at the same moment.
                biased;
                _ = stopped.wait_for(|stopped| *stopped) => None,
                item = inner.next() => Some(item),
            }
        });
        match item {
            Some(item) => item,
            None => {
                self.inner.stop();
                None
            }
        }
    }
}

/// One consumer of a persistent subscription group, blocking: an
/// [`Iterator`] of the events the server delivers (each with its
/// [`retry_count`](RecordedEvent::retry_count)), whose
/// [`ack`](Self::ack) and [`nack`](Self::nack) can be called from the
/// consuming thread (or, through [`acker`](Self::acker), from any other).
///
/// The iterator does not end by itself: call [`stop`](Self::stop) (which sends
/// the queued acks first) or, from another thread, stop it with a
/// [`StopHandle`] (see [`stop_handle`](Self::stop_handle)): a `next()` blocked
/// waiting then sends the queued acks, leaves the group and returns `None`.
/// When the client is closed, a blocked `next()` returns
/// `Some(Err(Error::ClientClosed))` and the iterator ends. Dropping it also
/// leaves the group. Like every blocking call, `next()` and
/// `stop()` panic when called from async code (see
/// [`KurrentDBClient`](crate::KurrentDBClient#calling-it-from-async-code)).
pub struct PersistentSubscription {
    inner: kurrentdbclient::PersistentSubscription,
    stop: StopHandle,
    stopped: watch::Receiver<bool>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PersistentSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PersistentSubscription")
            .field(&self.inner)
            .finish()
    }
}

impl PersistentSubscription {
    pub(crate) fn new(inner: kurrentdbclient::PersistentSubscription, shared: Arc<Shared>) -> Self {
        let (stop, stopped) = StopHandle::new();
        PersistentSubscription {
            inner,
            stop,
            stopped,
            shared,
        }
    }

    /// The subscription id the server confirmed (`<stream>::<group>`).
    pub fn subscription_id(&self) -> &str {
        self.inner.subscription_id()
    }

    /// Acknowledges an event: the received event (settled by its
    /// [`ack_id`](RecordedEvent::ack_id)) or an id. Does not block: acks are
    /// queued and sent in batches.
    pub fn ack(&self, event: impl Into<AckId>) -> Result<()> {
        self.inner.ack(event)
    }

    /// Negatively acknowledges an event (the received event or an id), with
    /// what the server should do with it and why. Does not block.
    pub fn nack(&self, event: impl Into<AckId>, action: NackAction, reason: &str) -> Result<()> {
        self.inner.nack(event, action, reason)
    }

    /// A handle that stops this subscription from another thread.
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadSubscriptionOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let mut subscription =
    ///     client.read_subscription_to_all("group-1", &ReadSubscriptionOptions::default())?;
    /// let stop = subscription.stop_handle();
    /// let consumer = std::thread::spawn(move || -> kurrentdbclient_blocking::Result<()> {
    ///     for event in subscription.by_ref() {
    ///         let event = event?;
    ///         // ... handle it, then:
    ///         // subscription.ack(&event)?;
    ///         # let _ = event;
    ///     }
    ///     Ok(())
    /// });
    /// // ... later, from this thread:
    /// stop.stop();
    /// consumer.join().unwrap()?;
    /// # Ok(()) }
    /// ```
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// A cloneable handle to ack and nack from other threads.
    pub fn acker(&self) -> PersistentSubscriptionAcker {
        self.inner.acker()
    }

    /// Sends the queued acks and nacks and leaves the group; the iterator then
    /// ends.
    #[track_caller]
    pub fn stop(&mut self) {
        self.stop.stop();
        self.shared.block_on(self.inner.stop());
    }

    /// Whether the subscription has stopped (by [`stop`](Self::stop), a
    /// [`StopHandle`], an error, or the server ending it).
    pub fn is_stopped(&self) -> bool {
        self.stop.is_stopped() || self.inner.is_stopped()
    }
}

impl Iterator for PersistentSubscription {
    type Item = Result<RecordedEvent>;

    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        let (inner, stopped) = (&mut self.inner, &mut self.stopped);
        self.shared.next_item(async {
            tokio::select! {
                // A stop wins over an event that is ready at the same moment.
                biased;
                _ = stopped.wait_for(|stopped| *stopped) => {
                    // Send the queued acks and leave the group.
                    inner.stop().await;
                    None
                }
                item = inner.next() => item,
            }
        })
    }
}
