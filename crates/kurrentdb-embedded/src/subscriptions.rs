//! Reads as streams of items: finite reads (a stream or `$all`, in pages) and
//! catch-up subscriptions (the stored events, then a caught-up marker, then live
//! events).
//!
//! # No subscriber ever blocks a writer
//!
//! A subscription does not get events pushed into a buffer. It *pulls*: it reads
//! the next page from the log under the read lock (for a few microseconds), hands
//! the page to gRPC, and when it has reached the head of the log it waits on the
//! store's `watch` of the log length. A slow subscriber simply is not polled by
//! its HTTP/2 connection (flow control), so it reads its next page later, from
//! the log, wherever it is: writers never wait for it, and memory does not grow
//! with its lag. When a live subscriber wakes up more than [`FELL_BEHIND_LAG`]
//! records behind (of the log for `$all`, of its stream for a stream), it reports `fell_behind` (as the real server does when it
//! drops a subscription back to catch-up), pages through the backlog, and
//! reports `caught_up` again.

use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::watch;

use crate::store::{
    AllBatch, CurrentRevision, Direction, Filter, InvalidPosition, LogStart, ReadStreamError,
    ResolvedRecord, Store,
};

/// Events per page.
const PAGE: usize = 512;
/// Records looked at per page of a filtered `$all` read.
const SCAN_PAGE: usize = 4096;
/// How far behind the head (in records) a live subscription may wake up before
/// it reports `fell_behind`.
pub(crate) const FELL_BEHIND_LAG: usize = 10_000;

/// One item of a read's response.
// Events are by far the most common item; boxing them would cost an allocation
// per event for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum ReadItem {
    /// An event (resolved, when links are resolved).
    Event(ResolvedRecord),
    /// The subscription was accepted.
    Confirmation(String),
    /// The subscription reached the head of the log.
    CaughtUp {
        /// For a stream subscription: the stream's last revision.
        revision: Option<i64>,
        /// For a `$all` subscription: the position reached.
        position: Option<u64>,
    },
    /// A live subscription fell behind and is catching up again.
    FellBehind {
        /// For a stream subscription: the stream's last revision.
        revision: Option<i64>,
        /// For a `$all` subscription: the position reached.
        position: Option<u64>,
    },
    /// A filtered `$all` subscription has searched up to this position.
    Checkpoint(u64),
    /// The stream does not exist (in-band).
    StreamNotFound,
    /// The first revision of the stream (end of a backwards stream read).
    FirstStreamPosition(u64),
    /// The last revision of the stream (end of a forwards stream read).
    LastStreamPosition(u64),
    /// The last position of `$all` (end of a `$all` read).
    LastAllStreamPosition(u64),
}

/// Why a read stopped with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadFailure {
    /// The stream was tombstoned.
    StreamDeleted,
    /// `$all` was read from a position that is not a record's.
    InvalidPosition {
        /// Whether the read was filtered.
        filtered: bool,
    },
}

/// A page of items.
pub(crate) type Page = Vec<Result<ReadItem, ReadFailure>>;

/// Where a `$all` read or subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllStart {
    /// The first record.
    Start,
    /// The head.
    End,
    /// A commit position.
    Position(u64),
}

/// Where a stream read or subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamStart {
    /// The first event.
    Start,
    /// The last event (reads) / after it (subscriptions).
    End,
    /// A revision (included by reads, excluded by subscriptions).
    Revision(u64),
}

/// A finite read of a stream: at most `count` events.
#[derive(Debug, Clone)]
pub(crate) struct StreamRead {
    pub(crate) stream: Bytes,
    pub(crate) from: StreamStart,
    pub(crate) direction: Direction,
    pub(crate) count: u64,
    pub(crate) resolve_links: bool,
    /// Whether to send first/last stream position messages (control option
    /// compatibility ≥ 1).
    pub(crate) positions: bool,
}

/// Reads a stream page by page. The first page is read at once, so that a
/// tombstoned stream fails the call before any message is sent.
pub(crate) fn read_stream(
    store: Arc<Store>,
    read: StreamRead,
) -> Result<impl Stream<Item = Page> + Send + 'static, ReadFailure> {
    let from = match (read.from, read.direction) {
        (StreamStart::Start, Direction::Forwards) => Some(0),
        (StreamStart::Start, Direction::Backwards) => Some(0),
        (StreamStart::End, Direction::Forwards) => Some(u64::MAX),
        (StreamStart::End, Direction::Backwards) => None,
        (StreamStart::Revision(r), _) => Some(r),
    };
    let first = match store.read_stream(
        &read.stream,
        from,
        read.direction,
        (read.count.min(PAGE as u64)) as usize,
        read.resolve_links,
    ) {
        Err(ReadStreamError::Deleted) => return Err(ReadFailure::StreamDeleted),
        other => other,
    };
    let state = (Some(first), Some(from), read.count, read);
    Ok(futures::stream::unfold(
        state,
        move |(first, cursor, remaining, read)| {
            let store = store.clone();
            async move {
                let cursor = cursor?;
                let is_first = first.is_some();
                let batch = match first {
                    Some(b) => b,
                    None => store.read_stream(
                        &read.stream,
                        cursor,
                        read.direction,
                        (remaining.min(PAGE as u64)) as usize,
                        read.resolve_links,
                    ),
                };
                let batch = match batch {
                    Ok(b) => b,
                    Err(ReadStreamError::NotFound) if is_first => {
                        return Some((vec![Ok(ReadItem::StreamNotFound)], (None, None, 0, read)));
                    }
                    Err(ReadStreamError::NotFound) => return None,
                    Err(ReadStreamError::Deleted) => {
                        return Some((
                            vec![Err(ReadFailure::StreamDeleted)],
                            (None, None, 0, read),
                        ));
                    }
                };
                let remaining = remaining - batch.events.len() as u64;
                let last = batch.last_revision.unwrap_or(0);
                let at_end = match read.direction {
                    Direction::Forwards => batch.next.is_none_or(|n| n > last),
                    Direction::Backwards => batch.next.is_none(),
                };
                let mut page: Page = batch
                    .events
                    .into_iter()
                    .map(|e| Ok(ReadItem::Event(e)))
                    .collect();
                let done = at_end || remaining == 0;
                if done && at_end && read.positions {
                    page.push(Ok(match read.direction {
                        Direction::Forwards => ReadItem::LastStreamPosition(last),
                        Direction::Backwards => ReadItem::FirstStreamPosition(batch.first_revision),
                    }));
                }
                let next = if done { None } else { Some(batch.next) };
                Some((page, (None, next, remaining, read)))
            }
        },
    ))
}

/// A finite read of `$all`: at most `count` events (that pass `filter`).
#[derive(Debug, Clone)]
pub(crate) struct AllRead {
    pub(crate) from: AllStart,
    pub(crate) direction: Direction,
    pub(crate) count: u64,
    pub(crate) resolve_links: bool,
    pub(crate) filter: Option<Filter>,
    /// Whether to send the last all-stream position message (control option
    /// compatibility ≥ 1).
    pub(crate) positions: bool,
}

/// Reads `$all` page by page. Forwards from a position includes the record at
/// it; backwards excludes it.
pub(crate) fn read_all(
    store: Arc<Store>,
    read: AllRead,
) -> Result<impl Stream<Item = Page> + Send + 'static, ReadFailure> {
    let filtered = read.filter.is_some();
    let cursor = match (read.from, &read.filter) {
        // An index read takes any position: forwards, the entries at or
        // after it; backwards, at or before it (`store/secondary.rs`).
        (AllStart::Position(p), Some(Filter::Index(_))) => Ok(match read.direction {
            Direction::Forwards => store.all_cursor_nearest(LogStart::At(p)),
            Direction::Backwards => store.all_cursor_nearest(LogStart::After(p)),
        }),
        (AllStart::Start, _) => store.all_cursor(LogStart::Start),
        (AllStart::End, _) => store.all_cursor(LogStart::End),
        (AllStart::Position(p), _) => store.all_cursor(LogStart::At(p)),
    }
    .map_err(|InvalidPosition| ReadFailure::InvalidPosition { filtered })?;
    let state = (Some(cursor), read.count, read);
    Ok(futures::stream::unfold(
        state,
        move |(cursor, remaining, read)| {
            let store = store.clone();
            async move {
                let cursor = cursor?;
                let mut page = Vec::new();
                let mut cursor = cursor;
                let mut remaining = remaining;
                // Keep scanning (page by page of records) until something is found
                // or the read is over, so that a sparse filter does not produce a
                // flood of empty pages.
                loop {
                    let batch = read_all_page(
                        &store,
                        cursor,
                        read.direction,
                        (remaining.min(PAGE as u64)) as usize,
                        read.filter.as_ref(),
                        read.resolve_links,
                    )
                    .await;
                    remaining -= batch.events.len() as u64;
                    cursor = batch.next;
                    page.extend(batch.events.into_iter().map(|e| Ok(ReadItem::Event(e))));
                    let done = batch.at_end || remaining == 0;
                    if done {
                        if read.positions {
                            let (_, last) = store.head_position();
                            page.push(Ok(ReadItem::LastAllStreamPosition(last.unwrap_or(0))));
                        }
                        return Some((page, (None, 0, read)));
                    }
                    if !page.is_empty() {
                        return Some((page, (Some(cursor), remaining, read)));
                    }
                }
            }
        },
    ))
}

/// One page of `$all`: unfiltered or through a secondary index, read in
/// place (its cost is bounded by the page); filtered, scanned off the async
/// workers ([`Store::off_workers`]).
async fn read_all_page(
    store: &Arc<Store>,
    cursor: usize,
    direction: Direction,
    max: usize,
    filter: Option<&Filter>,
    resolve_links: bool,
) -> AllBatch {
    match filter {
        // An index read looks at the index's entries only: bounded by the
        // page, like an unfiltered one.
        None | Some(Filter::Index(_)) => {
            store.read_all(cursor, direction, max, SCAN_PAGE, filter, resolve_links)
        }
        Some(filter) => {
            let filter = filter.clone();
            store
                .off_workers(move |s| {
                    s.read_all(
                        cursor,
                        direction,
                        max,
                        SCAN_PAGE,
                        Some(&filter),
                        resolve_links,
                    )
                })
                .await
        }
    }
}

/// What a subscription follows.
#[derive(Debug, Clone)]
pub(crate) enum SubscriptionTarget {
    /// One stream.
    Stream {
        stream: Bytes,
        /// Where to start (exclusive for a revision).
        from: StreamStart,
    },
    /// `$all`.
    All {
        /// Where to start (exclusive for a position).
        from: AllStart,
        /// The filter, with its checkpoint interval (records searched between
        /// checkpoints: max search window × checkpoint interval multiplier).
        filter: Option<(Filter, usize)>,
    },
}

#[derive(Debug)]
enum Cursor {
    Stream {
        stream: Bytes,
        next: u64,
    },
    All {
        next: usize,
        filter: Option<(Filter, usize)>,
        since_checkpoint: usize,
    },
}

struct Subscription {
    store: Arc<Store>,
    head: watch::Receiver<usize>,
    cursor: Cursor,
    resolve_links: bool,
    confirmed: bool,
    live: bool,
    id: String,
}

/// Starts a catch-up subscription: confirmation, stored events, caught-up, live
/// events. Starting `$all` from an invalid position fails at once.
pub(crate) fn subscribe(
    store: Arc<Store>,
    target: SubscriptionTarget,
    resolve_links: bool,
) -> Result<impl Stream<Item = Page> + Send + 'static, ReadFailure> {
    let mut head = store.watch_head();
    head.mark_changed();
    let cursor = match target {
        SubscriptionTarget::Stream { stream, from } => {
            let next = match from {
                StreamStart::Start => 0,
                // After the revision. A revision of `u64::MAX` means the end
                // (the services map it to `End`), so `r + 1` cannot overflow;
                // saturating all the same.
                StreamStart::Revision(r) => r.saturating_add(1),
                StreamStart::End => match store.stream_state(&stream) {
                    (_, true) => return Err(ReadFailure::StreamDeleted),
                    (CurrentRevision::Revision(r), _) => r + 1,
                    (CurrentRevision::NoStream, _) => 0,
                },
            };
            Cursor::Stream { stream, next }
        }
        SubscriptionTarget::All { from, filter } => {
            let filtered = filter.is_some();
            let next = match (from, &filter) {
                // An index subscription starts after any position.
                (AllStart::Position(p), Some((Filter::Index(_), _))) => {
                    Ok(store.all_cursor_nearest(LogStart::After(p)))
                }
                (AllStart::Start, _) => store.all_cursor(LogStart::Start),
                (AllStart::End, _) => store.all_cursor(LogStart::End),
                (AllStart::Position(p), _) => store.all_cursor(LogStart::After(p)),
            }
            .map_err(|InvalidPosition| ReadFailure::InvalidPosition { filtered })?;
            Cursor::All {
                next,
                filter,
                since_checkpoint: 0,
            }
        }
    };
    let sub = Subscription {
        store,
        head,
        cursor,
        resolve_links,
        confirmed: false,
        live: false,
        id: uuid::Uuid::new_v4().to_string(),
    };
    tracing::debug!(subscription = %sub.id, "catch-up subscription started");
    Ok(futures::stream::unfold(Some(sub), |sub| async move {
        let mut sub = sub?;
        let page = sub.next_page().await?;
        let failed = page.iter().any(Result::is_err);
        Some((page, (!failed).then_some(sub)))
    }))
}

impl Drop for Subscription {
    fn drop(&mut self) {
        tracing::debug!(subscription = %self.id, "catch-up subscription ended");
    }
}

impl Subscription {
    /// The next page of items, waiting for new events when live. `None` ends the
    /// subscription (the server is shutting down).
    async fn next_page(&mut self) -> Option<Page> {
        if !self.confirmed {
            self.confirmed = true;
            return Some(vec![Ok(ReadItem::Confirmation(self.id.clone()))]);
        }
        loop {
            // Mark the current head as seen *before* reading, so a write that
            // lands after the read wakes us up.
            let head_len = *self.head.borrow_and_update();
            let mut page = Vec::new();
            // A `$all` subscription's lag is the log's growth (known without
            // the store); a stream subscription's is its stream's, which the
            // page read tells, so its marker (the revision before the read)
            // is taken now and put in front of the page if it fell behind.
            let stream_marker = match self.cursor {
                Cursor::Stream { .. } if self.live => Some(self.marker()),
                Cursor::Stream { .. } => None,
                Cursor::All { next, .. } => {
                    if self.live && head_len.saturating_sub(next) > FELL_BEHIND_LAG {
                        self.live = false;
                        let (revision, position) = self.marker();
                        page.push(Ok(ReadItem::FellBehind { revision, position }));
                    }
                    None
                }
            };
            let (at_end, stream_lag) = match self.read_page(&mut page).await {
                Ok(read) => read,
                Err(failure) => {
                    page.push(Err(failure));
                    return Some(page);
                }
            };
            if let Some((revision, position)) = stream_marker
                && stream_lag > FELL_BEHIND_LAG as u64
            {
                self.live = false;
                page.insert(0, Ok(ReadItem::FellBehind { revision, position }));
            }
            if at_end && !self.live {
                self.live = true;
                let (revision, position) = self.marker();
                page.push(Ok(ReadItem::CaughtUp { revision, position }));
            }
            if !page.is_empty() {
                return Some(page);
            }
            if !at_end {
                // A filtered scan that found nothing (and owes no checkpoint
                // yet) but has not reached the head: scan on, rather than
                // wait for a write that may never come.
                continue;
            }
            if self.head.changed().await.is_err() {
                return None;
            }
        }
    }

    /// The revision or position a caught-up / fell-behind marker carries.
    fn marker(&self) -> (Option<i64>, Option<u64>) {
        match &self.cursor {
            // KurrentDB reports its checkpoint: the last revision sent, or
            // the one the subscription started after (-1 from the start);
            // see `NotifyCaughtUp` in
            // `src/KurrentDB.Core/Services/Transport/Enumerators/Enumerator.StreamSubscription.cs`.
            Cursor::Stream { next, .. } => (
                Some(
                    next.checked_sub(1)
                        .map_or(-1, |c| i64::try_from(c).unwrap_or(i64::MAX)),
                ),
                None,
            ),
            Cursor::All { next, .. } => {
                let position = next
                    .checked_sub(1)
                    .and_then(|i| {
                        self.store
                            .read_all(i, Direction::Forwards, 1, 1, None, false)
                            .events
                            .pop()
                    })
                    .map_or(0, |e| e.original().record.position);
                (None, Some(position))
            }
        }
    }

    /// Reads one page into `page`; returns whether the head was reached.
    /// Reads the next page into `page`. Returns whether the read reached the
    /// end, and for a stream how many of its events were still to read
    /// before it (KurrentDB's live stream subscription falls behind on the
    /// stream's own events, not on the traffic of other streams).
    async fn read_page(&mut self, page: &mut Page) -> Result<(bool, u64), ReadFailure> {
        match &mut self.cursor {
            Cursor::Stream { stream, next } => {
                let before = *next;
                match self.store.read_stream(
                    stream,
                    Some(*next),
                    Direction::Forwards,
                    PAGE,
                    self.resolve_links,
                ) {
                    Ok(batch) => {
                        if let Some(n) = batch.next {
                            *next = n.max(*next);
                        }
                        let at_end = batch.last_revision.is_none_or(|l| *next > l);
                        let lag = batch
                            .last_revision
                            .map_or(0, |l| l.saturating_add(1).saturating_sub(before));
                        page.extend(batch.events.into_iter().map(|e| Ok(ReadItem::Event(e))));
                        Ok((at_end, lag))
                    }
                    Err(ReadStreamError::NotFound) => Ok((true, 0)),
                    Err(ReadStreamError::Deleted) => Err(ReadFailure::StreamDeleted),
                }
            }
            Cursor::All {
                next,
                filter,
                since_checkpoint,
            } => {
                let batch = read_all_page(
                    &self.store,
                    *next,
                    Direction::Forwards,
                    PAGE,
                    filter.as_ref().map(|(f, _)| f),
                    self.resolve_links,
                )
                .await;
                *next = batch.next;
                page.extend(batch.events.into_iter().map(|e| Ok(ReadItem::Event(e))));
                // KurrentDB's index subscriptions send no checkpoints.
                if let Some((Filter::Match { .. }, interval)) = filter {
                    *since_checkpoint += batch.scanned;
                    if *since_checkpoint >= *interval
                        && let Some(p) = batch.last_scanned_position
                    {
                        *since_checkpoint = 0;
                        page.push(Ok(ReadItem::Checkpoint(p)));
                    }
                }
                Ok((batch.at_end, 0))
            }
        }
    }
}
