//! Acks and nacks of a persistent subscription: [`PersistentSubscriptionAcker`]
//! queues them from any task or thread; the batcher turns the queue into the
//! consumer call's request stream, as the official clients batch: one request
//! carries up to `max_ack_batch_size` ids of one action, and a batch is sent at
//! the latest `max_ack_delay` after its first id, or at once when the action
//! changes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{AckId, NackAction};
use crate::error::{Error, Result};
use crate::proto::persistent as pp;
use crate::wire::uuid_to_proto;

/// How a nack settles an event: the action, and the reason the server logs
/// (and records with a parked event).
pub(crate) type Nack = (NackAction, String);

/// A command for the ack batcher.
pub(crate) enum AckCommand {
    /// Ack (`None`) or nack an event.
    Settle(Uuid, Option<Nack>),
    /// Send what is queued, then end the request stream; the sender (if any)
    /// hears when that is done.
    Stop(Option<oneshot::Sender<()>>),
}

/// A cloneable handle that acks and nacks events of one
/// [`PersistentSubscription`](super::PersistentSubscription), usable from any
/// thread (the blocking twin's consuming thread included). Acks are queued and
/// sent in batches.
///
/// A subscription that resubscribes by itself (its `retry` option) keeps its
/// acker: the handles then send to the new call. Acks queued for the lost
/// call are lost with it; the server delivers those events again.
#[derive(Debug, Clone)]
pub struct PersistentSubscriptionAcker {
    slot: Arc<AckSlot>,
}

/// Where an acker sends: the current call's queue.
#[derive(Debug)]
struct AckSlot {
    tx: Mutex<mpsc::UnboundedSender<AckCommand>>,
    /// Set while the subscription joins again by itself: an ack for a lost
    /// call is then dropped (its event comes again), not an error.
    resumable: AtomicBool,
}

impl std::fmt::Debug for AckCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckCommand::Settle(id, action) => write!(f, "Settle({id}, {action:?})"),
            AckCommand::Stop(_) => f.write_str("Stop"),
        }
    }
}

impl PersistentSubscriptionAcker {
    /// Acknowledges an event: the received event itself (settled by its
    /// [`ack_id`](crate::RecordedEvent::ack_id), the link's id for a resolved
    /// link) or an id. Fails with [`Error::Programming`] after the subscription
    /// was stopped.
    pub fn ack(&self, event: impl Into<AckId>) -> Result<()> {
        self.send(AckCommand::Settle(event.into().id(), None))
    }

    /// Negatively acknowledges an event (the received event or an id, as
    /// [`ack`](Self::ack) takes), telling the server what to do with it and
    /// why (the server logs the reason; it may be empty).
    pub fn nack(&self, event: impl Into<AckId>, action: NackAction, reason: &str) -> Result<()> {
        self.send(AckCommand::Settle(
            event.into().id(),
            Some((action, reason.to_owned())),
        ))
    }

    /// Queues a command; fails once the subscription has stopped.
    pub(crate) fn send(&self, command: AckCommand) -> Result<()> {
        let sent = self
            .slot
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(command);
        match sent {
            Ok(()) => Ok(()),
            Err(_) if self.slot.resumable.load(Ordering::Acquire) => Ok(()),
            Err(_) => Err(Error::Programming(
                "the subscription has been stopped".into(),
            )),
        }
    }

    /// Whether a send to a lost call is dropped rather than refused (set
    /// while the subscription resubscribes by itself).
    pub(crate) fn set_resumable(&self, resumable: bool) {
        self.slot.resumable.store(resumable, Ordering::Release);
    }

    /// Sends from now on to `other`'s call (a resubscription's).
    pub(crate) fn redirect(&self, other: &PersistentSubscriptionAcker) {
        let next = other
            .slot
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        *self.slot.tx.lock().unwrap_or_else(PoisonError::into_inner) = next;
    }
}

/// Turns queued acks and nacks into `ReadReq` batches: the options message
/// first, then batches of one action, each sent when full, when the action
/// changes, or `max_ack_delay` after its first id; on stop, the last batch,
/// then the end of the request stream.
struct Batcher {
    options: Option<pp::ReadReq>,
    rx: mpsc::UnboundedReceiver<AckCommand>,
    subscription_id: Arc<OnceLock<String>>,
    max_batch: usize,
    max_delay: Duration,
    held: Option<(Uuid, Option<Nack>)>,
    stopping: bool,
    stopped: Vec<oneshot::Sender<()>>,
}

/// How acks are batched: at most `max_batch` ids a request, sent at the latest
/// `max_delay` after the first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AckBatching {
    pub(crate) max_batch: usize,
    pub(crate) max_delay: Duration,
}

/// The acker of one consumer call and the call's request stream: `options`
/// (the consumer's opening message) first, then the batches of what the acker
/// queues. Ack requests carry the subscription id, set once the server has
/// confirmed it.
pub(crate) fn ack_channel(
    options: pp::ReadReq,
    subscription_id: Arc<OnceLock<String>>,
    batching: AckBatching,
) -> (
    PersistentSubscriptionAcker,
    impl Stream<Item = pp::ReadReq> + Send + 'static,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let batcher = Batcher::new(Some(options), rx, subscription_id, batching);
    let requests = futures::stream::unfold(batcher, |mut b| async move {
        b.next().await.map(|req| (req, b))
    });
    (
        PersistentSubscriptionAcker {
            slot: Arc::new(AckSlot {
                tx: Mutex::new(tx),
                resumable: AtomicBool::new(false),
            }),
        },
        requests,
    )
}

impl Batcher {
    fn new(
        options: Option<pp::ReadReq>,
        rx: mpsc::UnboundedReceiver<AckCommand>,
        subscription_id: Arc<OnceLock<String>>,
        batching: AckBatching,
    ) -> Batcher {
        Batcher {
            options,
            rx,
            subscription_id,
            max_batch: batching.max_batch,
            max_delay: batching.max_delay,
            held: None,
            stopping: false,
            stopped: Vec::new(),
        }
    }

    fn request(&self, ids: Vec<Uuid>, action: Option<Nack>) -> pp::ReadReq {
        let id = Bytes::from(self.subscription_id.get().cloned().unwrap_or_default());
        let ids = ids.into_iter().map(uuid_to_proto).collect();
        let content = match action {
            None => pp::read_req::Content::Ack(pp::read_req::Ack { id, ids }),
            Some((a, reason)) => pp::read_req::Content::Nack(pp::read_req::Nack {
                id,
                ids,
                action: a.wire(),
                reason,
            }),
        };
        pp::ReadReq {
            content: Some(content),
        }
    }

    fn finish(&mut self) -> Option<pp::ReadReq> {
        for tx in self.stopped.drain(..) {
            let _ = tx.send(());
        }
        None
    }

    async fn next(&mut self) -> Option<pp::ReadReq> {
        if let Some(options) = self.options.take() {
            return Some(options);
        }
        if self.stopping {
            return self.finish();
        }
        let mut ids = Vec::new();
        let mut action = None;
        if let Some((id, a)) = self.held.take() {
            ids.push(id);
            action = Some(a);
        }
        let mut deadline = tokio::time::Instant::now() + self.max_delay;
        loop {
            let command = if ids.is_empty() {
                self.rx.recv().await
            } else {
                match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                    Ok(command) => command,
                    Err(_) => return Some(self.request(ids, action.flatten())),
                }
            };
            match command {
                None | Some(AckCommand::Stop(_)) => {
                    if let Some(AckCommand::Stop(Some(tx))) = command {
                        self.stopped.push(tx);
                    }
                    self.stopping = true;
                    self.rx.close();
                    if ids.is_empty() {
                        return self.finish();
                    }
                    return Some(self.request(ids, action.flatten()));
                }
                Some(AckCommand::Settle(id, a)) => {
                    if ids.is_empty() {
                        deadline = tokio::time::Instant::now() + self.max_delay;
                    }
                    // One request carries one action (and one reason).
                    if let Some(current) = &action
                        && *current != a
                    {
                        self.held = Some((id, a));
                        return Some(self.request(ids, action.flatten()));
                    }
                    action = Some(a);
                    ids.push(id);
                    if ids.len() >= self.max_batch {
                        return Some(self.request(ids, action.flatten()));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_split_on_action_change_and_size() {
        let (tx, rx) = mpsc::unbounded_channel();
        let batching = AckBatching {
            max_batch: 2,
            max_delay: Duration::from_millis(50),
        };
        let mut b = Batcher::new(None, rx, Arc::new(OnceLock::new()), batching);
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        tx.send(AckCommand::Settle(ids[0], None)).unwrap();
        let park = |reason: &str| Some((NackAction::Park, reason.to_owned()));
        tx.send(AckCommand::Settle(ids[1], park("bad"))).unwrap();
        tx.send(AckCommand::Settle(ids[2], park("bad"))).unwrap();
        tx.send(AckCommand::Settle(ids[3], park("bad"))).unwrap();
        tx.send(AckCommand::Settle(ids[0], park("worse"))).unwrap();
        tx.send(AckCommand::Stop(None)).unwrap();
        let mut seen = Vec::new();
        while let Some(req) = b.next().await {
            match req.content.unwrap() {
                pp::read_req::Content::Ack(a) => seen.push(("ack", a.ids.len(), String::new())),
                pp::read_req::Content::Nack(n) => seen.push(("nack", n.ids.len(), n.reason)),
                _ => unreachable!(),
            }
        }
        let nack = |n, reason: &str| ("nack", n, reason.to_owned());
        assert_eq!(
            seen,
            vec![
                ("ack", 1, String::new()),
                nack(2, "bad"),
                nack(1, "bad"),
                nack(1, "worse")
            ]
        );
    }
}
