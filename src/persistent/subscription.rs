//! [`PersistentSubscription`]: one consumer of a group, as a `Stream` of the
//! events the server delivers, with ack and nack (sent through the acker's
//! batches on the same call).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::sync::{oneshot, watch};

use super::acks::{AckBatching, AckCommand, ack_channel};
use super::{AckId, NackAction, PersistentSubscriptionAcker, requests};
use crate::error::{Error, Result};
use crate::options::{
    DEFAULT_PERSISTENT_SUB_EVENT_BUFFER_SIZE, DEFAULT_PERSISTENT_SUB_MAX_ACK_BATCH_SIZE,
    DEFAULT_PERSISTENT_SUB_MAX_ACK_DELAY, DEFAULT_PERSISTENT_SUB_STOPPING_GRACE,
    ReadSubscriptionOptions,
};
use crate::proto::persistent as pp;
use crate::resume::{Resume, connection_lost};
use crate::streams::convert_event_and_link;
use crate::telemetry::ConsumerTags;
use crate::types::RecordedEvent;

/// A persistent-subscription event as a [`RecordedEvent`] with its retry count.
fn convert_event(e: pp::read_resp::ReadEvent) -> Option<RecordedEvent> {
    let retry_count = match e.count {
        Some(pp::read_resp::read_event::Count::RetryCount(n)) => u32::try_from(n).ok(),
        _ => None,
    };
    convert_event_and_link(e.event, e.link, retry_count)
}

/// One consumer of a persistent subscription group: a
/// `Stream<Item = Result<RecordedEvent>>` of the events the server delivers
/// (each with its [`retry_count`](RecordedEvent::retry_count)), plus
/// [`ack`](Self::ack) and [`nack`](Self::nack).
///
/// The stream does not end by itself. Call [`stop`](Self::stop) to send the
/// remaining acks and leave the group; dropping the subscription also sends
/// them, without waiting. When the client is [closed], the stream yields
/// [`Error::ClientClosed`] and ends (the queued acks are still sent).
///
/// [closed]: crate::AsyncKurrentDBClient::close
pub struct PersistentSubscription {
    subscription_id: String,
    responses: Option<tonic::Streaming<pp::ReadResp>>,
    /// Ready once the client is closed.
    closed: Pin<Box<dyn Future<Output = ()> + Send + Sync>>,
    acker: PersistentSubscriptionAcker,
    stopping_grace: Duration,
    runtime: Option<tokio::runtime::Handle>,
    /// What the consumer span of each received event reports.
    tags: ConsumerTags,
    /// How it joins again by itself, when asked to (the `retry` option).
    resume: Option<Resume<PersistentSubscription>>,
}

/// Whether a persistent subscription that lost its call with `error` joins
/// again: after a lost connection or node, a not-leader answer, or the server
/// dropping its consumers (`persistent-subscription-dropped`, which KurrentDB
/// sends when its node stops leading or the subsystem restarts).
pub(crate) fn consumer_lost(error: &Error) -> bool {
    connection_lost(error) || matches!(error, Error::Cancelled(_))
}

impl std::fmt::Debug for PersistentSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistentSubscription")
            .field("subscription_id", &self.subscription_id)
            .field("stopped", &self.responses.is_none())
            .finish()
    }
}

/// What a consumer asks for, made once and reused by a retried attempt.
#[derive(Debug, Clone)]
pub(crate) struct ConsumerSetup {
    /// The opening message (see `requests::consumer_options`).
    options: pp::ReadReq,
    /// The group's stream (`$all` for a group on all streams).
    stream_name: String,
    group_name: String,
    batching: AckBatching,
    /// How long `stop` (or the drop) gives the server for the last acks.
    stopping_grace: Duration,
}

impl ConsumerSetup {
    /// The setup of a consumer of the group `group_name` of `stream_name`
    /// (`$all` when `None`), with the options' defaults filled in. A zero
    /// `event_buffer_size` is refused.
    pub(crate) fn new(
        group_name: &str,
        stream_name: Option<&str>,
        options: &ReadSubscriptionOptions,
    ) -> Result<ConsumerSetup> {
        let buffer_size = options
            .event_buffer_size
            .unwrap_or(DEFAULT_PERSISTENT_SUB_EVENT_BUFFER_SIZE);
        if buffer_size == 0 {
            return Err(Error::Programming(
                "event_buffer_size must be positive".into(),
            ));
        }
        Ok(ConsumerSetup {
            options: requests::consumer_options(group_name, stream_name, buffer_size),
            stream_name: stream_name.unwrap_or("$all").to_owned(),
            group_name: group_name.to_owned(),
            batching: AckBatching {
                max_batch: options
                    .max_ack_batch_size
                    .unwrap_or(DEFAULT_PERSISTENT_SUB_MAX_ACK_BATCH_SIZE)
                    .max(1),
                max_delay: options
                    .max_ack_delay
                    .unwrap_or(DEFAULT_PERSISTENT_SUB_MAX_ACK_DELAY),
            },
            stopping_grace: options
                .stopping_grace
                .unwrap_or(DEFAULT_PERSISTENT_SUB_STOPPING_GRACE),
        })
    }

    /// One attempt to join: the request stream to open the consumer's `Read`
    /// call with (the opening message, then the acks), and what reads the
    /// call's answers.
    pub(crate) fn join(&self) -> (Joining, impl Stream<Item = pp::ReadReq> + Send + 'static) {
        let subscription_id = Arc::new(OnceLock::new());
        let (acker, requests) =
            ack_channel(self.options.clone(), subscription_id.clone(), self.batching);
        let joining = Joining {
            setup: self.clone(),
            acker,
            subscription_id,
        };
        (joining, requests)
    }
}

/// A consumer call just opened, waiting for the server's confirmation.
pub(crate) struct Joining {
    setup: ConsumerSetup,
    acker: PersistentSubscriptionAcker,
    subscription_id: Arc<OnceLock<String>>,
}

impl Joining {
    /// Waits for the confirmation, checks that it names the group asked for,
    /// and gives the subscription (with `tags` of the confirmed id for the
    /// consumer spans of its events).
    pub(crate) async fn confirm(
        self,
        mut responses: tonic::Streaming<pp::ReadResp>,
        mut closed: watch::Receiver<bool>,
        tags: impl FnOnce(&str) -> ConsumerTags,
    ) -> Result<PersistentSubscription> {
        let first = match responses.message().await {
            Ok(Some(first)) => first,
            Ok(None) => {
                return Err(Error::Protocol(
                    "the subscription ended before it was confirmed".into(),
                ));
            }
            Err(status) => return Err(Error::from_status(&status)),
        };
        let Some(pp::read_resp::Content::SubscriptionConfirmation(confirmation)) = first.content
        else {
            return Err(Error::Protocol(
                "expected a subscription confirmation first".into(),
            ));
        };
        let id = confirmation.subscription_id;
        let (stream, group) = (&self.setup.stream_name, &self.setup.group_name);
        match id.split_once("::") {
            Some((s, g)) if s == stream && g == group => {}
            _ => {
                return Err(Error::Protocol(format!(
                    "confirmed subscription {id:?}, expected {stream}::{group}"
                )));
            }
        }
        let _ = self.subscription_id.set(id.clone());
        Ok(PersistentSubscription {
            tags: tags(&id),
            subscription_id: id,
            responses: Some(responses),
            closed: Box::pin(async move {
                let _ = closed.wait_for(|c| *c).await;
            }),
            acker: self.acker,
            stopping_grace: self.setup.stopping_grace,
            runtime: tokio::runtime::Handle::try_current().ok(),
            resume: None,
        })
    }
}

impl PersistentSubscription {
    /// The subscription id the server confirmed: `<stream>::<group>` (`$all`
    /// as the stream for subscriptions to all streams).
    pub fn subscription_id(&self) -> &str {
        &self.subscription_id
    }

    /// Acknowledges an event: the received event (settled by its
    /// [`ack_id`](RecordedEvent::ack_id)) or an id.
    pub fn ack(&self, event: impl Into<AckId>) -> Result<()> {
        self.acker.ack(event)
    }

    /// Negatively acknowledges an event (the received event or an id), with
    /// what the server should do with it and why.
    pub fn nack(&self, event: impl Into<AckId>, action: NackAction, reason: &str) -> Result<()> {
        self.acker.nack(event, action, reason)
    }

    /// A cloneable handle to ack and nack from elsewhere (another task or
    /// thread) while this subscription is being consumed.
    pub fn acker(&self) -> PersistentSubscriptionAcker {
        self.acker.clone()
    }

    /// Makes the subscription join again by itself (see [`Resume`]).
    pub(crate) fn resumable(mut self, resume: Resume<PersistentSubscription>) -> Self {
        self.acker.set_resumable(true);
        self.resume = Some(resume);
        self
    }

    /// Whether the subscription has stopped (a resumable one that is joining
    /// again has not).
    pub fn is_stopped(&self) -> bool {
        self.responses.is_none() && !self.resume.as_ref().is_some_and(Resume::is_pending)
    }

    /// Stops joining again: later acks to a lost call fail.
    fn give_up_resuming(&mut self) {
        self.resume = None;
        self.acker.set_resumable(false);
    }

    /// Takes over the call of `next`, a resubscription: its responses, id and
    /// spans; this subscription's ackers now send to its call.
    fn adopt(&mut self, mut next: PersistentSubscription) {
        self.acker.redirect(&next.acker);
        self.responses = next.responses.take();
        self.subscription_id = std::mem::take(&mut next.subscription_id);
        std::mem::swap(&mut self.closed, &mut next.closed);
        std::mem::swap(&mut self.tags, &mut next.tags);
    }

    /// Ends the current call after `error` (or its end, when `None`): joins
    /// again when resumable and the error is a lost call, or gives the error.
    fn lost(&mut self, error: Option<Error>) -> Option<Error> {
        self.responses = None;
        let _ = self.acker.send(AckCommand::Stop(None));
        if let Some(error) = &error {
            self.tags.failed(error);
        }
        let Some(resume) = self.resume.as_mut() else {
            return error;
        };
        let lost =
            error.unwrap_or_else(|| Error::ServiceUnavailable("the subscription ended".into()));
        let gave_up = resume.schedule(lost).err();
        if gave_up.is_some() {
            self.give_up_resuming();
        }
        gave_up
    }

    /// Sends the queued acks and nacks, gives the server `stopping_grace` to
    /// process them (less when the server ends the call first), and ends the
    /// call. Later acks fail with [`Error::Programming`]; the stream ends.
    pub async fn stop(&mut self) {
        self.give_up_resuming();
        let Some(mut responses) = self.responses.take() else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        if self.acker.send(AckCommand::Stop(Some(tx))).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
        }
        drain(&mut responses, self.stopping_grace).await;
    }
}

impl Drop for PersistentSubscription {
    fn drop(&mut self) {
        let Some(mut responses) = self.responses.take() else {
            return;
        };
        // Flush the acks; keep the call open for the grace period so that they
        // reach the server before the call is cancelled.
        let _ = self.acker.send(AckCommand::Stop(None));
        let grace = self.stopping_grace;
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move { drain(&mut responses, grace).await });
        }
    }
}

impl Stream for PersistentSubscription {
    type Item = Result<RecordedEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(resume) = this.resume.as_mut() {
                match resume.poll_reopened(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(next))) => {
                        this.adopt(next);
                        continue;
                    }
                    Poll::Ready(Some(Err(error))) => {
                        this.give_up_resuming();
                        return Poll::Ready(Some(Err(error)));
                    }
                    Poll::Ready(None) => {}
                }
            }
            let Some(responses) = this.responses.as_mut() else {
                return Poll::Ready(None);
            };
            if this.closed.as_mut().poll(cx).is_ready() {
                // As a dropped subscription does: flush the acks, then let the
                // call go (the closed client cancels it).
                this.responses = None;
                this.give_up_resuming();
                let _ = this.acker.send(AckCommand::Stop(None));
                return Poll::Ready(Some(Err(Error::ClientClosed)));
            }
            match responses.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                // A consumer's call never ends by itself: it was lost.
                Poll::Ready(None) => match this.lost(None) {
                    Some(error) => return Poll::Ready(Some(Err(error))),
                    None if this.resume.is_none() => return Poll::Ready(None),
                    None => {}
                },
                Poll::Ready(Some(Err(status))) => {
                    if let Some(error) = this.lost(Some(Error::from_status(&status))) {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                Poll::Ready(Some(Ok(resp))) => {
                    if let Some(pp::read_resp::Content::Event(e)) = resp.content
                        && let Some(event) = convert_event(e)
                    {
                        this.tags.consumed(&event);
                        return Poll::Ready(Some(Ok(event)));
                    }
                }
            }
        }
    }
}

/// Reads what is left of the call for at most `grace`, so that the last acks
/// reach the server before the call is cancelled.
async fn drain(responses: &mut tonic::Streaming<pp::ReadResp>, grace: Duration) {
    let _ = tokio::time::timeout(grace, async {
        while let Some(Ok(_)) = responses.next().await {}
    })
    .await;
}
