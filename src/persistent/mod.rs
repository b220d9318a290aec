//! Persistent subscriptions: server-side consumer groups (competing consumers)
//! with acknowledgements, retries and parking.
//!
//! A group is created once ([`create_subscription_to_all`] or
//! [`create_subscription_to_stream`]); any number of consumers then join it
//! ([`read_subscription_to_all`] / [`read_subscription_to_stream`]) and share
//! its events according to the group's [`ConsumerStrategy`]. Each event must be
//! acknowledged ([`PersistentSubscription::ack`]) or negatively acknowledged
//! ([`PersistentSubscription::nack`] with a [`NackAction`]); events not acked
//! within the group's message timeout are delivered again with a higher
//! [`retry_count`](crate::RecordedEvent::retry_count), and parked after
//! `max_retry_count` retries.
//!
//! Acks and nacks are batched as the official clients batch them: one request
//! carries up to `max_ack_batch_size` ids of one action, and a batch is sent at
//! the latest `max_ack_delay` after its first id, or at once when the action
//! changes. [`PersistentSubscription::stop`] sends what is left; dropping the
//! subscription does so too, on a best-effort basis.
//!
//! Defaults follow the Python client (`message_timeout` 30 s, `max_retry_count`
//! 10, `min/max_checkpoint_count` 10/1000, `checkpoint_after` 2 s,
//! `max_subscriber_count` 5, buffers 500, `read_batch_size` 200, consumer
//! buffer 150, ack batches of 50 or every 200 ms); they and the options live in
//! [`crate::options`], with a group's settings
//! ([`PersistentSubscriptionSettings`](crate::PersistentSubscriptionSettings),
//! the [`ConsumerStrategy`] among them, re-exported here).
//!
//! One module per concern; the client's methods live in `client::persistent`:
//! - here: [`AckId`] and [`NackAction`];
//! - `info`: [`SubscriptionInfo`], [`ConnectionInfo`], [`Measurement`], read
//!   from the server's answers;
//! - `requests`: the create, update, delete, info, list, replay and consumer
//!   requests, and the one conversion of a group's settings into the settings
//!   a create or update request carries;
//! - `acks`: [`PersistentSubscriptionAcker`] and the batcher that turns its
//!   queue into the consumer call's requests;
//! - `subscription`: [`PersistentSubscription`], the consumer's `Stream`.
//!
//! [`create_subscription_to_all`]: crate::AsyncKurrentDBClient::create_subscription_to_all
//! [`create_subscription_to_stream`]: crate::AsyncKurrentDBClient::create_subscription_to_stream
//! [`read_subscription_to_all`]: crate::AsyncKurrentDBClient::read_subscription_to_all
//! [`read_subscription_to_stream`]: crate::AsyncKurrentDBClient::read_subscription_to_stream

mod acks;
mod info;
pub(crate) mod requests;
mod subscription;

pub use uuid::Uuid;

use crate::types::RecordedEvent;

pub use self::acks::PersistentSubscriptionAcker;
pub use self::info::{ConnectionInfo, Measurement, SubscriptionInfo};
pub(crate) use self::info::{from_get_info, from_list};
pub use self::subscription::PersistentSubscription;
pub(crate) use self::subscription::{ConsumerSetup, consumer_lost};
pub use crate::options::ConsumerStrategy;
use crate::proto::persistent as pp;

/// What [`ack`](PersistentSubscription::ack) and
/// [`nack`](PersistentSubscription::nack) take: an event received from the
/// subscription (settled by its [`ack_id`](RecordedEvent::ack_id): the link's
/// id when it was resolved from a link, so a resolved link is settled by the
/// right id) or an event id.
///
/// ```
/// use kurrentdbclient::persistent::{AckId, Uuid};
/// let id = Uuid::new_v4();
/// assert_eq!(AckId::from(id).id(), id);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AckId(Uuid);

impl AckId {
    /// The id sent to the server.
    pub fn id(self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for AckId {
    fn from(id: Uuid) -> Self {
        AckId(id)
    }
}

impl From<&RecordedEvent> for AckId {
    fn from(event: &RecordedEvent) -> Self {
        AckId(event.ack_id())
    }
}

/// What to do with a negatively acknowledged event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NackAction {
    /// Let the server decide (it retries).
    Unknown,
    /// Park the event (in the group's parked stream) until replayed.
    Park,
    /// Deliver the event again (with a higher retry count).
    Retry,
    /// Drop the event, as if it had been processed.
    Skip,
    /// Stop this consumer.
    Stop,
}

impl NackAction {
    /// The action's number on the wire.
    pub(crate) fn wire(self) -> i32 {
        use pp::read_req::nack::Action;
        match self {
            NackAction::Unknown => Action::Unknown as i32,
            NackAction::Park => Action::Park as i32,
            NackAction::Retry => Action::Retry as i32,
            NackAction::Skip => Action::Skip as i32,
            NackAction::Stop => Action::Stop as i32,
        }
    }
}
