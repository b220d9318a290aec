//! The database: the log and the index behind one lock, and the domain
//! operations every gRPC service is built from. Like mini-redis's `db` module,
//! nothing here knows about gRPC.
//!
//! - `types`: what an append or a delete is asked and answers (expected
//!   and current revisions, proposed events, outcomes, errors);
//! - `prepare`: an append's payloads copied into one buffer before the lock;
//! - `write`: appends (v1 and the v2 session: `Store::append`; v2 with
//!   consistency checks: `Store::append_checked`) and deletes, each with its own
//!   error type;
//! - `read`: reading a stream or `$all` in bounded batches, resolving links;
//! - `filter`: the server-side `$all` filter ([`Matcher`]);
//! - `secondary`: KurrentDB's default secondary indexes (`$idx-all`,
//!   `$idx-ce-`, `$idx-et-`), kept with the log and read through `$all`;
//! - `scavenge`: removing deleted and expired events (`Store::scavenge_step`);
//! - `projection_io`: the store as projections use it (the `$all` reads of
//!   `fromAll` sources, the bulk appends of what they emit);
//! - `system`: the events a fresh node writes, and a scavenge's records.
//!
//! # Concurrency
//!
//! One `parking_lot::RwLock` guards log and index together, so an append (one
//! stream or several, v2) is atomic and a reader sees whole appends only. The lock
//! is never held across an `.await`, and only for in-memory work: payloads are
//! copied into their final buffer *before* the write lock is taken, and readers
//! clone out a bounded batch of records (reference-count increments) and release
//! it. After each append the new log length is published on a `watch` channel:
//! that is how subscriptions and persistent-subscription groups learn about new
//! events without writers ever waiting for them.
//!
//! # Who else writes
//!
//! Persistent-subscription groups are built on the same calls: they read their
//! source with `read_stream` / `read_all`, wait on `watch_head`, and write their
//! checkpoints and parked messages with `append` to system streams
//! (`$persistentsubscription-<stream>::<group>-checkpoint` and `-parked`).
//! They call the store while holding their own mutex: see the lock order on
//! [`Store`].

mod filter;
#[cfg(test)]
mod model_tests;
mod prepare;
mod projection_io;
mod read;
mod scavenge;
mod secondary;
mod system;
mod types;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{RwLock, RwLockWriteGuard};
use tokio::sync::watch;
use uuid::Uuid;

pub(crate) use filter::{Filter, FilterTarget};
pub use filter::{FilterError, Matcher, PrefixSet};
pub(crate) use prepare::{PreparedEvent, PreparedWrite};
pub(crate) use read::{
    AllBatch, Direction, InvalidPosition, LogStart, NamedRecord, ReadStreamError, ResolvedRecord,
};
pub(crate) use scavenge::ScavengeCursor;
pub(crate) use secondary::{INDEX_PREFIX, SecondaryIndex};
pub(crate) use types::{
    ActualState, AppendOutcome, CheckedAppendError, CurrentRevision, Deletion, ExpectedRevision,
    ExpectedState, PER_EVENT_OVERHEAD, ProposedEvent, StateCheck, StreamWrite, Violation,
    WriteError,
};
pub(crate) use write::METADATA_EVENT_TYPE;

use crate::index::{Index, StreamEntry};
use crate::log::Log;

/// How many filtered scans run at once on tokio's blocking pool (see
/// [`Store::off_workers`]): half the cores, at least one, so that filter
/// matching can never take every core from the async workers.
fn parallel_filter_scans() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// The store's limits.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The maximum size of one v1 append (and of a v2 append session), in bytes.
    pub max_append_size: u32,
    /// The maximum size of one v2 record, in bytes.
    pub max_record_size: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_append_size: 1024 * 1024,
            max_record_size: 1024 * 1024,
        }
    }
}

/// What the lock guards: the log and the index, and the write-side caches that
/// must change with them.
#[derive(Debug, Default)]
struct State {
    log: Log,
    index: Index,
    /// Interned event types: records of one type share one `Arc<str>`.
    types: HashMap<Box<str>, Arc<str>>,
    /// Event id -> log index of the most recent events, for the idempotency
    /// check of appends with expected revision "any" or "stream exists".
    recent_ids: HashMap<Uuid, u32>,
    /// The ids put in `recent_ids`, oldest first, to forget them by (see
    /// `State::remember`).
    recent_order: std::collections::VecDeque<(Uuid, u32)>,
    /// The records removed by scavenges (`store/scavenge.rs`).
    scavenged: types::Scavenged,
    /// The default secondary indexes (`store/secondary.rs`).
    secondary: secondary::SecondaryIndexes,
    /// The log length after the last record a `fromAll` projection source
    /// can pass (see [`is_source_stream`]): records after it are all of
    /// system streams.
    source_len: usize,
}

/// The in-memory database shared by all services. [`crate::EmbeddedServer::store`]
/// hands it out for in-process inspection.
///
/// # Lock order
///
/// `state` is the innermost lock of the crate: code holding it takes no other
/// lock (the log only tries the spare segment's, never waiting for it). A
/// persistent-subscription group takes its own mutex first and calls the
/// store under it (group mutex, then store lock), never the other way round.
#[derive(Debug)]
pub struct Store {
    state: RwLock<State>,
    /// The log length, published after every write.
    head: watch::Sender<usize>,
    /// `State::source_len`, published after a write that changed it: what
    /// `fromAll` projections wait on, so that the links and checkpoints that
    /// projections write (all to system streams) wake none of them.
    source_head: watch::Sender<usize>,
    options: StoreOptions,
    /// Permits for filtered scans on the blocking pool.
    scans: tokio::sync::Semaphore,
    /// The log's next segment, made by appends before they take the lock
    /// (see [`crate::log::SpareSegment`]).
    spare_segment: Arc<crate::log::SpareSegment>,
    /// Events read, and their bytes (data and metadata), by every read of a
    /// stream or `$all` (clients', subscriptions', projections' and
    /// persistent subscriptions' alike, as KurrentDB's storage reader
    /// counts them): `/metrics`' `kurrentdb_io_events_total{activity="read"}`
    /// and `kurrentdb_io_bytes_total{activity="read"}`.
    events_read: std::sync::atomic::AtomicU64,
    bytes_read: std::sync::atomic::AtomicU64,
}

impl Store {
    /// An empty store.
    pub fn new(options: StoreOptions) -> Store {
        let state = State::default();
        Store {
            spare_segment: state.log.spare(),
            state: RwLock::new(state),
            head: watch::Sender::new(0),
            source_head: watch::Sender::new(0),
            options,
            scans: tokio::sync::Semaphore::new(parallel_filter_scans()),
            events_read: Default::default(),
            bytes_read: Default::default(),
        }
    }

    /// Events read so far, and their bytes (see the fields).
    pub(crate) fn read_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.events_read.load(Relaxed),
            self.bytes_read.load(Relaxed),
        )
    }

    /// Runs `scan` (a filtered read: CPU the client chooses) on tokio's
    /// blocking pool, a few at a time, so that matching never occupies an
    /// async worker: a pathological filter slows its own read, and the other
    /// calls (which need no permit) go on. Waiting for a permit is fair
    /// (FIFO), and each scan is short (`store/read.rs`), so filtered reads
    /// take turns.
    pub(crate) async fn off_workers<T: Send + 'static>(
        self: &Arc<Self>,
        scan: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> T {
        // The semaphore is never closed.
        let _permit = self.scans.acquire().await.ok();
        let store = self.clone();
        match tokio::task::spawn_blocking(move || scan(&store)).await {
            Ok(t) => t,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // The runtime is shutting down: this call ends with it.
            Err(_) => std::future::pending().await,
        }
    }

    /// The store's limits.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// How many records the log holds.
    pub fn log_len(&self) -> usize {
        self.state.read().log.len()
    }

    /// The log length, and the length after its last record a `fromAll`
    /// source can pass (see [`Store::watch_source_head`]), read together.
    pub(crate) fn source_progress(&self) -> (usize, usize) {
        let st = self.state.read();
        (st.log.len(), st.source_len)
    }

    /// A receiver of the log length, updated after every write.
    pub(crate) fn watch_head(&self) -> watch::Receiver<usize> {
        self.head.subscribe()
    }

    /// A receiver of the log length after the last record of a non-system
    /// stream or of a non-system stream's metadata stream (the records a
    /// `fromAll` projection source can pass), updated after writes that add
    /// one.
    pub(crate) fn watch_source_head(&self) -> watch::Receiver<usize> {
        self.source_head.subscribe()
    }

    /// The position after the last record, and the last record's position.
    pub(crate) fn head_position(&self) -> (u64, Option<u64>) {
        let st = self.state.read();
        (st.log.head_position(), st.log.last().map(|r| r.position))
    }

    /// The state of a stream: its last revision, whether it is tombstoned.
    pub(crate) fn stream_state(&self, stream: &[u8]) -> (CurrentRevision, bool) {
        let st = self.state.read();
        (current_of(st.index.entry(stream)), st.is_tombstoned(stream))
    }

    /// Releases the write lock, then tells the watchers the new log length.
    fn publish(&self, st: RwLockWriteGuard<'_, State>) {
        let len = st.log.len();
        let source_len = st.source_len;
        drop(st);
        self.head.send_replace(len);
        self.source_head.send_if_modified(|published| {
            let changed = *published != source_len;
            *published = source_len;
            changed
        });
    }
}

/// A write of `n` JSON events of type `E` (data `{}`) to `stream`, expecting
/// any revision: the store tests' events.
#[cfg(test)]
fn test_write(stream: &str, n: usize) -> StreamWrite {
    StreamWrite {
        stream: bytes::Bytes::copy_from_slice(stream.as_bytes()),
        expected: ExpectedRevision::Any,
        events: (0..n)
            .map(|_| ProposedEvent {
                id: Uuid::new_v4(),
                event_type: "E".into(),
                is_json: true,
                data: bytes::Bytes::from_static(b"{}"),
                metadata: bytes::Bytes::new(),
            })
            .collect(),
    }
}

/// Whether records of `stream` can pass a `fromAll` projection source:
/// those of non-system streams and of their metadata streams (`$$x`), as
/// KurrentDB's `TransactionFileEventFilter.PassesSource` passes them.
pub(crate) fn is_source_stream(stream: &[u8]) -> bool {
    match stream {
        [b'$', b'$', rest @ ..] => rest.first() != Some(&b'$'),
        [b'$', ..] => false,
        _ => true,
    }
}

/// A stream's current revision, from its index entry.
fn current_of(entry: Option<&StreamEntry>) -> CurrentRevision {
    entry
        .and_then(StreamEntry::last_revision)
        .map_or(CurrentRevision::NoStream, CurrentRevision::Revision)
}
