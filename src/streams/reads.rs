//! The streams that reads and catch-up subscriptions hand to the caller:
//! [`ReadStream`] and [`CatchupSubscription`], over the raw `ResponseStream`
//! that carries the call's deadline and the client's close signal.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};

use super::{ReadItem, convert_read_resp};
use crate::error::{Error, Result};
use crate::proto::streams::ReadResp;
use crate::resume::Resume;
use crate::telemetry::ConsumerTags;
use crate::types::{RecordedEvent, SubscriptionItem};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// The raw gRPC response stream of a read, with the call's deadline and the
/// client's close signal.
pub(crate) struct ResponseStream {
    responses: Option<tonic::Streaming<ReadResp>>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    closed: BoxFuture,
}

impl ResponseStream {
    pub(crate) fn new(
        responses: tonic::Streaming<ReadResp>,
        deadline: Option<tokio::time::Instant>,
        mut closed: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        ResponseStream {
            responses: Some(responses),
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
            closed: Box::pin(async move {
                let _ = closed.wait_for(|c| *c).await;
            }),
        }
    }

    fn stop(&mut self) {
        self.responses = None;
        self.deadline = None;
    }

    fn is_stopped(&self) -> bool {
        self.responses.is_none()
    }

    /// The next response, `None` at the end; an error ends the stream.
    fn poll_resp(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ReadResp>>> {
        let Some(responses) = self.responses.as_mut() else {
            return Poll::Ready(None);
        };
        if self.closed.as_mut().poll(cx).is_ready() {
            self.stop();
            return Poll::Ready(Some(Err(Error::ClientClosed)));
        }
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            self.stop();
            return Poll::Ready(Some(Err(Error::DeadlineExceeded)));
        }
        match responses.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.stop();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(status))) => {
                self.stop();
                Poll::Ready(Some(Err(Error::from_status(&status))))
            }
            Poll::Ready(Some(Ok(resp))) => Poll::Ready(Some(Ok(resp))),
        }
    }

    pub(crate) async fn next_resp(&mut self) -> Option<Result<ReadResp>> {
        futures::future::poll_fn(|cx| self.poll_resp(cx)).await
    }

    /// The next item `pick` keeps (it skips the others), `None` at the end. A
    /// stream-not-found answer or an error ends the stream with that error.
    fn poll_item<T>(
        &mut self,
        cx: &mut Context<'_>,
        pick: impl Fn(ReadItem) -> Option<T>,
    ) -> Poll<Option<Result<T>>> {
        loop {
            let resp = match self.poll_resp(cx) {
                Poll::Ready(Some(Ok(resp))) => resp,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            };
            match convert_read_resp(resp) {
                ReadItem::NotFound(stream) => {
                    self.stop();
                    return Poll::Ready(Some(Err(Error::NotFound { what: stream })));
                }
                item => {
                    if let Some(item) = pick(item) {
                        return Poll::Ready(Some(Ok(item)));
                    }
                }
            }
        }
    }
}

/// The events of a read: the other items are skipped.
fn event(item: ReadItem) -> Option<RecordedEvent> {
    match item {
        ReadItem::Event(e) => Some(e),
        _ => None,
    }
}

/// The events of a [`read_stream`] or [`read_all`], as a
/// `Stream<Item = Result<RecordedEvent>>`.
///
/// The stream ends after the last event; an error ends it too. Dropping it
/// cancels the call.
///
/// [`read_stream`]: crate::AsyncKurrentDBClient::read_stream
/// [`read_all`]: crate::AsyncKurrentDBClient::read_all
pub struct ReadStream {
    inner: ResponseStream,
    first: Option<Result<RecordedEvent>>,
}

impl std::fmt::Debug for ReadStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadStream")
            .field("stopped", &self.inner.is_stopped())
            .finish()
    }
}

impl ReadStream {
    /// Starts reading: waits for the first event, so that a missing stream is
    /// reported by the call that opened the read.
    pub(crate) async fn open(mut inner: ResponseStream) -> Result<ReadStream> {
        let first = match futures::future::poll_fn(|cx| inner.poll_item(cx, event)).await {
            Some(Err(e)) => return Err(e),
            first => first,
        };
        Ok(ReadStream { inner, first })
    }

    /// Stops the read, cancelling the call; the stream then ends.
    pub fn stop(&mut self) {
        self.first = None;
        self.inner.stop();
    }

    /// Collects the remaining events into a `Vec`, failing on the first error.
    pub async fn collect_events(mut self) -> Result<Vec<RecordedEvent>> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event?);
        }
        Ok(events)
    }
}

impl Stream for ReadStream {
    type Item = Result<RecordedEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(first));
        }
        this.inner.poll_item(cx, event)
    }
}

/// A catch-up subscription: the stored events, then live ones, as a
/// `Stream<Item = Result<SubscriptionItem>>`.
///
/// Only events are yielded unless checkpoints or caught-up markers were asked
/// for in the options. The stream does not end by itself; call
/// [`stop`](Self::stop) or drop it to cancel the subscription.
pub struct CatchupSubscription {
    id: String,
    inner: ResponseStream,
    include: SubscriptionMarkers,
    /// What the consumer span of each received event reports.
    tags: ConsumerTags,
    /// How it resubscribes by itself, when asked to.
    resume: Option<Resume<CatchupSubscription>>,
    /// Stopped by [`stop`](Self::stop): never resubscribed.
    stopped: bool,
}

/// Which items besides events a catch-up subscription yields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubscriptionMarkers {
    /// [`SubscriptionItem::Checkpoint`]s (filtered subscriptions to `$all`).
    pub(crate) checkpoints: bool,
    /// The [`SubscriptionItem::CaughtUp`] marker.
    pub(crate) caught_up: bool,
    /// The [`SubscriptionItem::FellBehind`] marker.
    pub(crate) fell_behind: bool,
}

impl std::fmt::Debug for CatchupSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatchupSubscription")
            .field("id", &self.id)
            .field("stopped", &self.inner.is_stopped())
            .finish()
    }
}

impl CatchupSubscription {
    /// Starts the subscription: waits for the server's confirmation, and
    /// gives the confirmed id to `tags` for the consumer spans of its events.
    pub(crate) async fn open(
        mut inner: ResponseStream,
        include: SubscriptionMarkers,
        tags: impl FnOnce(&str) -> ConsumerTags,
    ) -> Result<CatchupSubscription> {
        let id = match inner.next_resp().await {
            None => {
                return Err(Error::Protocol(
                    "the subscription ended before it was confirmed".into(),
                ));
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(resp)) => match convert_read_resp(resp) {
                ReadItem::Confirmation(id) => id,
                ReadItem::NotFound(stream) => return Err(Error::NotFound { what: stream }),
                _ => {
                    return Err(Error::Protocol(
                        "expected a subscription confirmation first".into(),
                    ));
                }
            },
        };
        Ok(CatchupSubscription {
            tags: tags(&id),
            id,
            inner,
            include,
            resume: None,
            stopped: false,
        })
    }

    /// Makes the subscription resubscribe by itself (see [`Resume`]).
    pub(crate) fn resumable(mut self, resume: Resume<CatchupSubscription>) -> Self {
        self.resume = Some(resume);
        self
    }

    /// The subscription's id, as the server confirmed it.
    pub fn subscription_id(&self) -> &str {
        &self.id
    }

    /// Stops the subscription, cancelling the call; the stream then ends.
    pub fn stop(&mut self) {
        self.stopped = true;
        if let Some(resume) = self.resume.as_mut() {
            resume.cancel();
        }
        self.inner.stop();
    }

    /// Whether the subscription has stopped (by [`stop`](Self::stop), an error,
    /// or the server ending it).
    pub fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}

impl Stream for CatchupSubscription {
    type Item = Result<SubscriptionItem>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.stopped {
                return Poll::Ready(None);
            }
            if let Some(resume) = this.resume.as_mut() {
                match resume.poll_reopened(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(next))) => {
                        this.id = next.id;
                        this.inner = next.inner;
                        continue;
                    }
                    Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                    Poll::Ready(None) => {}
                }
            }
            let item = this.poll_call(cx);
            let Some(resume) = this.resume.as_mut() else {
                return item;
            };
            match item {
                Poll::Ready(Some(Ok(SubscriptionItem::Event(event)))) => {
                    resume.last = Some(event.clone());
                    return Poll::Ready(Some(Ok(SubscriptionItem::Event(event))));
                }
                Poll::Ready(Some(Err(error))) => {
                    if let Err(error) = resume.schedule(error) {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                // The server ended a subscription, which never ends by itself:
                // the call was lost.
                Poll::Ready(None) => {
                    let lost = Error::ServiceUnavailable("the subscription ended".into());
                    if resume.schedule(lost).is_err() {
                        return Poll::Ready(None);
                    }
                }
                other => return other,
            }
        }
    }
}

impl CatchupSubscription {
    /// The next item of the current call.
    fn poll_call(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<SubscriptionItem>>> {
        let include = self.include;
        let item = self.inner.poll_item(cx, |item| match item {
            ReadItem::Event(e) => Some(SubscriptionItem::Event(e)),
            ReadItem::Checkpoint(c) if include.checkpoints => Some(SubscriptionItem::Checkpoint(c)),
            ReadItem::CaughtUp(c) if include.caught_up => Some(SubscriptionItem::CaughtUp(c)),
            ReadItem::FellBehind(c) if include.fell_behind => Some(SubscriptionItem::FellBehind(c)),
            _ => None,
        });
        match &item {
            Poll::Ready(Some(Ok(SubscriptionItem::Event(event)))) => self.tags.consumed(event),
            Poll::Ready(Some(Err(error))) => self.tags.failed(error),
            _ => {}
        }
        item
    }
}
