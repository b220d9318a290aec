//! [`Resume`]: how a subscription (catch-up or persistent) opens itself again
//! after losing its call, as its [`SubscriptionRetry`] option says.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::{Error, Result};
use crate::options::SubscriptionRetry;
use crate::types::RecordedEvent;

/// A resubscription under way.
pub(crate) type Reopening<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;

/// Opens the subscription again, after the given last delivered event (a
/// persistent subscription ignores it: its group knows where it is).
pub(crate) type Reopen<T> = Arc<dyn Fn(Option<&RecordedEvent>) -> Reopening<T> + Send + Sync>;

/// A resumable subscription's state.
pub(crate) struct Resume<T> {
    retry: SubscriptionRetry,
    reopen: Reopen<T>,
    /// Which errors mean the call was lost (the others end the subscription).
    lost: fn(&Error) -> bool,
    /// The last event delivered: where the next subscription starts after.
    pub(crate) last: Option<RecordedEvent>,
    /// Failed resubscriptions in a row.
    failures: u32,
    /// The resubscription under way.
    pending: Option<Reopening<T>>,
}

/// Whether `error` means the connection or the node went away (or the node no
/// longer leads): what a resumable catch-up subscription resubscribes after.
pub(crate) fn connection_lost(error: &Error) -> bool {
    error.is_transient() || matches!(error, Error::NodeIsNotLeader { .. })
}

impl<T: 'static> Resume<T> {
    /// Resubscription by `reopen` as `retry` says, after the errors `lost`
    /// accepts.
    pub(crate) fn new(
        retry: SubscriptionRetry,
        reopen: Reopen<T>,
        lost: fn(&Error) -> bool,
    ) -> Self {
        Resume {
            retry,
            reopen,
            lost,
            last: None,
            failures: 0,
            pending: None,
        }
    }

    /// Starts a resubscription after `error`, or gives the error back when it
    /// is not a lost call or the attempts are spent.
    pub(crate) fn schedule(&mut self, error: Error) -> std::result::Result<(), Error> {
        if !(self.lost)(&error) || self.retry.attempts.is_some_and(|n| self.failures >= n) {
            return Err(error);
        }
        self.failures = self.failures.saturating_add(1);
        tracing::info!(%error, failures = self.failures, "subscription lost: resubscribing");
        let reopen = self.reopen.clone();
        let last = self.last.clone();
        let delay = self.retry.delay;
        self.pending = Some(Box::pin(async move {
            tokio::time::sleep(delay).await;
            reopen(last.as_ref()).await
        }));
        Ok(())
    }

    /// Drives the resubscription under way: `Ready(None)` when there is none,
    /// `Ready(Some(Ok(_)))` with the subscription reopened, `Ready(Some(Err(_)))`
    /// when it gave up (the error was not a lost call, or the attempts are
    /// spent).
    pub(crate) fn poll_reopened(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        loop {
            let Some(pending) = self.pending.as_mut() else {
                return Poll::Ready(None);
            };
            let reopened = std::task::ready!(pending.as_mut().poll(cx));
            self.pending = None;
            match reopened {
                Ok(next) => {
                    self.failures = 0;
                    return Poll::Ready(Some(Ok(next)));
                }
                Err(error) => {
                    if let Err(error) = self.schedule(error) {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
            }
        }
    }

    /// Whether a resubscription is under way.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Abandons the resubscription under way, if any.
    pub(crate) fn cancel(&mut self) {
        self.pending = None;
    }
}
