//! The prepare step of an append (see [`super::write`]): done before the
//! store's lock is taken, it copies every payload of an append into one
//! buffer, in the form the records store them. What projections emit is
//! built in this form directly.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use uuid::Uuid;

use super::types::{ExpectedRevision, StreamWrite};
use crate::log::Body;

/// An event after the prepare step: its payloads in one buffer, as the
/// record stores them. What projections emit is written in this form
/// directly ([`super::Store::append_emitted`]), with no copy of it as a
/// [`super::ProposedEvent`] first.
#[derive(Debug, Clone)]
pub(crate) struct PreparedEvent {
    pub(crate) id: Uuid,
    /// The event type (what the server writes has `'static` ones).
    pub(crate) event_type: Cow<'static, str>,
    pub(crate) is_json: bool,
    /// The length of the data at the front of `body`; the user metadata
    /// follows it.
    pub(crate) data_len: u32,
    pub(crate) body: Body,
}

/// A stream write after the prepare step (see [`PreparedEvent`]).
#[derive(Debug, Clone)]
pub(crate) struct PreparedWrite {
    pub(crate) stream: Bytes,
    pub(crate) expected: ExpectedRevision,
    pub(crate) events: Vec<PreparedEvent>,
}

impl PreparedWrite {
    /// Copies every payload of `writes` into one buffer: one allocation
    /// for a whole append, and stored events do not pin the (larger)
    /// request buffers they were decoded from.
    pub(crate) fn from_writes(writes: Vec<StreamWrite>) -> Vec<PreparedWrite> {
        let total: usize = writes
            .iter()
            .flat_map(|w| &w.events)
            .map(|e| e.data.len() + e.metadata.len())
            .sum();
        let mut arena = BytesMut::with_capacity(total);
        writes
            .into_iter()
            .map(|w| PreparedWrite {
                stream: w.stream,
                expected: w.expected,
                events: w
                    .events
                    .into_iter()
                    .map(|e| {
                        arena.extend_from_slice(&e.data);
                        arena.extend_from_slice(&e.metadata);
                        PreparedEvent {
                            id: e.id,
                            event_type: Cow::Owned(e.event_type),
                            is_json: e.is_json,
                            // Appends are limited far below 4 GiB.
                            data_len: e.data.len() as u32,
                            body: arena.split().freeze().into(),
                        }
                    })
                    .collect(),
            })
            .collect()
    }
}

/// An append after the prepare step, done before the lock is taken: its
/// payloads copied out of the request buffers, and its creation time.
pub(super) struct Prepared {
    pub(super) writes: Vec<PreparedWrite>,
    pub(super) created: i64,
    /// Whether the events' ids go into the recent ids that retries are
    /// detected by (see [`super::Store::append_emitted`]).
    pub(super) remember_ids: bool,
}
