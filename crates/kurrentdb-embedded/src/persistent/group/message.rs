//! What a group sends its consumers: a [`Message`] (an event, the link that
//! led to it, its retry count and ack id), or word that they were dropped
//! ([`Delivery`]).

use uuid::Uuid;

use crate::store::{NamedRecord, ResolvedRecord};

/// A message for a consumer.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// The event (resolved, when the original record is a link and links are
    /// resolved). `None` when a link could not be resolved.
    pub(crate) event: Option<NamedRecord>,
    /// The link that led to the event, if any.
    pub(crate) link: Option<NamedRecord>,
    /// How many times the message was retried.
    pub(crate) retry_count: u32,
    /// The id consumers ack with: the link's id if any, else the event's.
    pub(crate) ack_id: Uuid,
    /// Its position in the source: the revision (stream groups) or commit
    /// position (`$all` groups) of the record read.
    pub(super) value: u64,
    /// A parked message replayed (outside the checkpoint window).
    pub(super) replayed: bool,
    /// The sequence number in the checkpoint window, given when the message
    /// is first sent (`None` before, and for replayed parked messages).
    pub(super) seq: Option<u64>,
}

impl Message {
    pub(super) fn from_resolved(r: ResolvedRecord, value: u64, replayed: bool) -> Message {
        let ack_id = r.original().record.id;
        Message {
            event: r.event,
            link: r.link,
            retry_count: 0,
            ack_id,
            value,
            replayed,
            seq: None,
        }
    }

    /// The record that was read: the link if any, else the event.
    pub(crate) fn original(&self) -> &NamedRecord {
        self.link
            .as_ref()
            .or(self.event.as_ref())
            .expect("a message has an event or a link")
    }
}

/// What a consumer receives.
#[derive(Debug, Clone)]
pub(crate) enum Delivery {
    Event(Box<Message>),
    /// The consumer was dropped by the server (update, delete, restart, nack
    /// with stop).
    Dropped,
}
