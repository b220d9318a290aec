//! Persistent subscriptions, blocking: the async crate's
//! [`kurrentdbclient::persistent`] items (info types, [`NackAction`],
//! [`PersistentSubscriptionAcker`], ...), with [`PersistentSubscription`]
//! standing for this crate's blocking iterator.
//!
//! The calls are methods of [`KurrentDBClient`](crate::KurrentDBClient), like
//! every other (`create_subscription_to_stream`, `read_subscription_to_all`,
//! ...); the options, like every options type, are at the crate root and in
//! [`crate::options`], with a group's settings
//! ([`PersistentSubscriptionSettings`](crate::PersistentSubscriptionSettings)),
//! which the create and update options hold and set by their builder methods.
//!
//! ```no_run
//! use kurrentdbclient_blocking::{
//!     CreateSubscriptionToStreamOptions, KurrentDBClient, NackAction, ReadSubscriptionOptions,
//! };
//!
//! # fn main() -> kurrentdbclient_blocking::Result<()> {
//! let client = KurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")?;
//! client.create_subscription_to_stream(
//!     "group-1",
//!     "order-123",
//!     &CreateSubscriptionToStreamOptions::default(),
//! )?;
//! let mut subscription =
//!     client.read_subscription_to_stream("group-1", "order-123", &ReadSubscriptionOptions::default())?;
//! while let Some(event) = subscription.next() {
//!     let event = event?;
//!     if event.r#type == "Poison" {
//!         subscription.nack(&event, NackAction::Park, "cannot be handled")?;
//!     } else {
//!         subscription.ack(event.ack_id())?;
//!     }
//! }
//! subscription.stop();
//! # Ok(()) }
//! ```

pub use kurrentdbclient::persistent::*;

// Shadows the async `PersistentSubscription` of the glob above.
pub use crate::iter::PersistentSubscription;
