//! [`KurrentDBEventRepository`]: cqrs-es's `PersistedEventRepository` on
//! KurrentDB.

use std::time::Duration;

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayFeed, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use futures::{Stream, StreamExt};
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, GetCurrentVersionOptions, NewEvent,
    ReadAllOptions, ReadStreamOptions, RecordedEvent, SetStreamMetadataOptions, StreamMetadata,
    StreamState, WriteResult,
};
use serde_json::Value;
use uuid::Uuid;

use crate::codec::{from_recorded, snapshot_from_recorded, snapshot_to_new_event, to_new_event};
use crate::error::{KurrentDBRepositoryError, is_missing_stream, is_transient};
use crate::naming::{category_prefix, check_aggregate_type, event_stream, snapshot_stream};

/// How many events a replay buffers ahead of its reader by default.
const DEFAULT_STREAMING_CHANNEL_SIZE: usize = 200;
/// How many times an append is sent again after a transient failure.
const APPEND_RETRIES: u32 = 3;
/// The pause before the first retry (doubled for each later one).
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// An event repository for cqrs-es on KurrentDB, through
/// [`AsyncKurrentDBClient`].
///
/// Each aggregate instance is the stream `<Aggregate::TYPE>-<aggregate id>`
/// (so `$ce-<Aggregate::TYPE>` holds them all) whose revision is the event's
/// sequence less one; a commit appends at the revision its aggregate was
/// loaded at, so of two concurrent commits one is refused with
/// [`PersistenceError::OptimisticLockError`]. Snapshots go to
/// `snapshot-<Aggregate::TYPE>-<aggregate id>`, a stream that keeps only its
/// last event (`$maxCount` 1).
///
/// Build a `CqrsFramework` on it with [`kurrentdb_cqrs`](crate::kurrentdb_cqrs)
/// and its siblings, or with cqrs-es's `PersistedEventStore`.
#[derive(Clone)]
pub struct KurrentDBEventRepository {
    client: AsyncKurrentDBClient,
    stream_channel_size: usize,
}

impl KurrentDBEventRepository {
    /// A repository on `client`'s KurrentDB.
    pub fn new(client: AsyncKurrentDBClient) -> Self {
        KurrentDBEventRepository {
            client,
            stream_channel_size: DEFAULT_STREAMING_CHANNEL_SIZE,
        }
    }

    /// Sets how many events a replay ([`ReplayStream`]) reads ahead of its
    /// reader (default 200; at least 1).
    pub fn with_streaming_channel_size(mut self, size: usize) -> Self {
        self.stream_channel_size = size.max(1);
        self
    }

    /// The client the repository calls.
    pub fn client(&self) -> &AsyncKurrentDBClient {
        &self.client
    }

    /// The KurrentDB stream of an aggregate instance's events.
    ///
    /// ```
    /// # use kurrentdb_es::KurrentDBEventRepository;
    /// assert_eq!(KurrentDBEventRepository::event_stream_name("account", "42")?, "account-42");
    /// # Ok::<(), kurrentdb_es::KurrentDBRepositoryError>(())
    /// ```
    pub fn event_stream_name(
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<String, KurrentDBRepositoryError> {
        event_stream(aggregate_type, aggregate_id)
    }

    /// The KurrentDB stream of an aggregate instance's snapshots.
    ///
    /// ```
    /// # use kurrentdb_es::KurrentDBEventRepository;
    /// assert_eq!(
    ///     KurrentDBEventRepository::snapshot_stream_name("account", "42")?,
    ///     "snapshot-account-42"
    /// );
    /// # Ok::<(), kurrentdb_es::KurrentDBRepositoryError>(())
    /// ```
    pub fn snapshot_stream_name(
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<String, KurrentDBRepositoryError> {
        snapshot_stream(aggregate_type, aggregate_id)
    }

    /// Commits `events` (and a snapshot) as the commit `commit_id`: what
    /// [`persist`](PersistedEventRepository::persist) does with a new random
    /// commit id. The event ids derive from the aggregate, the sequence and
    /// `commit_id`, so committing the same events again with the same
    /// `commit_id` (a retry after a lost answer, say with a command id as
    /// `commit_id`) succeeds without writing them twice, while another commit
    /// at the same sequences fails with
    /// [`PersistenceError::OptimisticLockError`].
    ///
    /// The snapshot is written after the events (KurrentDB writes one stream
    /// at a time): when its own version check fails, the events are
    /// committed and the error is [`PersistenceError::OptimisticLockError`].
    pub async fn commit<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
        commit_id: Uuid,
    ) -> Result<(), PersistenceError> {
        let aggregate_id = check_commit::<A>(events, snapshot_update.as_ref())?;
        let mut current_sequence = None;
        if let (Some(first), Some(last)) = (events.first(), events.last()) {
            let stream = event_stream(A::TYPE, &first.aggregate_id)?;
            // cqrs-es numbers events from 1: sequence n is revision n - 1.
            let expected = match first.sequence {
                1 => StreamState::NoStream,
                n => StreamState::Version(n as u64 - 2),
            };
            let new_events: Vec<NewEvent> =
                events.iter().map(|e| to_new_event(e, commit_id)).collect();
            self.append(&stream, expected, new_events).await?;
            current_sequence = Some(last.sequence);
        }
        if let (Some((_, aggregate, version)), Some(aggregate_id)) = (snapshot_update, aggregate_id)
        {
            let current_sequence = match current_sequence {
                Some(sequence) => sequence,
                None => self.current_sequence::<A>(&aggregate_id).await?,
            };
            let snapshot = SerializedSnapshot {
                aggregate_id,
                aggregate,
                current_sequence,
                current_snapshot: version,
            };
            self.write_snapshot::<A>(&snapshot, commit_id).await?;
        }
        Ok(())
    }

    /// Appends, sending the same events again after a transient failure
    /// (idempotent: their ids are the same).
    async fn append(
        &self,
        stream: &str,
        expected: StreamState,
        events: Vec<NewEvent>,
    ) -> Result<WriteResult, KurrentDBRepositoryError> {
        let options = AppendToStreamOptions::default();
        let mut delay = RETRY_DELAY;
        let mut retries = 0;
        loop {
            match self
                .client
                .append_to_stream(stream, expected, events.clone(), &options)
                .await
            {
                Err(e) if is_transient(&e) && retries < APPEND_RETRIES => {
                    retries += 1;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                result => return Ok(result?),
            }
        }
    }

    /// Writes a snapshot, checking that it follows the stored one: version 1
    /// to a snapshot stream that does not exist, version n after version n-1.
    async fn write_snapshot<A: Aggregate>(
        &self,
        snapshot: &SerializedSnapshot,
        commit_id: Uuid,
    ) -> Result<(), KurrentDBRepositoryError> {
        let stream = snapshot_stream(A::TYPE, &snapshot.aggregate_id)?;
        let expected = match snapshot.current_snapshot {
            0 => {
                return Err(KurrentDBRepositoryError::InconsistentCommit(
                    "snapshot version 0 (cqrs-es numbers snapshots from 1)".to_owned(),
                ));
            }
            1 => {
                // Only the last snapshot is kept. Set before the first one, so
                // that no snapshot is ever kept without the limit.
                self.client
                    .set_stream_metadata(
                        &stream,
                        &StreamMetadata::default().with_max_count(1),
                        StreamState::Any,
                        &SetStreamMetadataOptions::default(),
                    )
                    .await?;
                StreamState::NoStream
            }
            n => StreamState::Version(n as u64 - 2),
        };
        let event = snapshot_to_new_event(A::TYPE, snapshot, commit_id);
        self.append(&stream, expected, vec![event]).await?;
        Ok(())
    }

    /// The sequence of an aggregate's last event (0 when it has none).
    async fn current_sequence<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<usize, KurrentDBRepositoryError> {
        let stream = event_stream(A::TYPE, aggregate_id)?;
        match self
            .client
            .get_current_version(&stream, &GetCurrentVersionOptions::default())
            .await
        {
            Ok(StreamState::Version(revision)) => Ok(sequence_of(&stream, revision)?),
            Ok(_) => Ok(0),
            Err(e) if is_missing_stream(&e) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// The events of an aggregate from `revision` on, read whole.
    async fn read_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        revision: u64,
    ) -> Result<Vec<SerializedEvent>, KurrentDBRepositoryError> {
        let stream = event_stream(A::TYPE, aggregate_id)?;
        let options = ReadStreamOptions::default().stream_position(revision);
        let recorded = match self.client.get_stream(&stream, &options).await {
            Ok(recorded) => recorded,
            Err(e) if is_missing_stream(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        recorded.iter().map(|e| from_recorded(A::TYPE, e)).collect()
    }

    /// A replay fed, in a task of its own, from `events` (opened by `open`).
    fn replay<S, F>(&self, aggregate_type: &'static str, open: F) -> ReplayStream
    where
        S: Stream<Item = kurrentdbclient::Result<RecordedEvent>> + Send + Unpin + 'static,
        F: Future<Output = kurrentdbclient::Result<S>> + Send + 'static,
    {
        let (feed, stream) = ReplayStream::new(self.stream_channel_size);
        tokio::spawn(feed_replay(feed, aggregate_type, open));
        stream
    }
}

/// Feeds a replay: each event converted, or the first error, after which the
/// replay ends. Stops when the replay's reader is dropped.
async fn feed_replay<S, F>(mut feed: ReplayFeed, aggregate_type: &str, open: F)
where
    S: Stream<Item = kurrentdbclient::Result<RecordedEvent>> + Unpin,
    F: Future<Output = kurrentdbclient::Result<S>>,
{
    let mut events = match open.await {
        Ok(events) => events,
        Err(e) if is_missing_stream(&e) => return,
        Err(e) => {
            let _ = feed
                .push(Err(KurrentDBRepositoryError::from(e).into()))
                .await;
            return;
        }
    };
    while let Some(event) = events.next().await {
        let item = event
            .map_err(KurrentDBRepositoryError::from)
            .and_then(|e| from_recorded(aggregate_type, &e))
            .map_err(PersistenceError::from);
        let failed = item.is_err();
        if feed.push(item).await.is_err() || failed {
            return;
        }
    }
}

/// Checks that a commit's events are of one aggregate of type `A`, with
/// consecutive sequences from 1 or more, and that its snapshot is of that
/// aggregate. Returns the aggregate id (`None` for an empty commit).
fn check_commit<A: Aggregate>(
    events: &[SerializedEvent],
    snapshot_update: Option<&(String, Value, usize)>,
) -> Result<Option<String>, KurrentDBRepositoryError> {
    check_aggregate_type(A::TYPE)?;
    let inconsistent = |what: String| Err(KurrentDBRepositoryError::InconsistentCommit(what));
    let aggregate_id = events
        .first()
        .map(|e| e.aggregate_id.clone())
        .or_else(|| snapshot_update.map(|s| s.0.clone()));
    if let Some(first) = events.first()
        && first.sequence == 0
    {
        return inconsistent("sequence 0 (cqrs-es numbers events from 1)".to_owned());
    }
    if let Some((snapshot_id, _, _)) = snapshot_update
        && Some(snapshot_id) != aggregate_id.as_ref()
    {
        return inconsistent("a snapshot of another aggregate id than the events'".to_owned());
    }
    for (i, event) in events.iter().enumerate() {
        if event.aggregate_type != A::TYPE {
            return inconsistent(format!(
                "event of aggregate type {:?} committed as {:?}",
                event.aggregate_type,
                A::TYPE
            ));
        }
        if Some(&event.aggregate_id) != aggregate_id.as_ref() {
            return inconsistent("events of several aggregate ids".to_owned());
        }
        if event.sequence.checked_sub(i) != Some(events[0].sequence) {
            return inconsistent(format!(
                "sequence {} follows {}",
                event.sequence,
                events[i.saturating_sub(1)].sequence
            ));
        }
    }
    Ok(aggregate_id)
}

/// The cqrs-es sequence of a stream revision.
fn sequence_of(stream: &str, revision: u64) -> Result<usize, KurrentDBRepositoryError> {
    revision
        .checked_add(1)
        .and_then(|s| usize::try_from(s).ok())
        .ok_or_else(|| KurrentDBRepositoryError::InvalidStoredEvent {
            stream: stream.to_owned(),
            revision,
            reason: "revision out of range".to_owned(),
        })
}

impl PersistedEventRepository for KurrentDBEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        Ok(self.read_events::<A>(aggregate_id, 0).await?)
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        // The events after sequence `last_sequence`: from revision `last_sequence`.
        Ok(self
            .read_events::<A>(aggregate_id, last_sequence as u64)
            .await?)
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        let stream = snapshot_stream(A::TYPE, aggregate_id)?;
        let options = ReadStreamOptions::default().backwards(true).limit(1);
        let last = match self.client.get_stream(&stream, &options).await {
            Ok(events) => events,
            Err(e) if is_missing_stream(&e) => return Ok(None),
            Err(e) => return Err(KurrentDBRepositoryError::from(e).into()),
        };
        match last.first() {
            Some(event) => Ok(Some(snapshot_from_recorded(aggregate_id, event)?)),
            None => Ok(None),
        }
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        self.commit::<A>(events, snapshot_update, Uuid::new_v4())
            .await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let stream = event_stream(A::TYPE, aggregate_id)?;
        let client = self.client.clone();
        Ok(self.replay(A::TYPE, async move {
            client
                .read_stream(&stream, &ReadStreamOptions::default())
                .await
        }))
    }

    /// Replays every event of the aggregate type in commit order: a read of
    /// `$all` filtered by the stream-name prefix `<Aggregate::TYPE>-`, which
    /// sees every committed event at once (`$ce-<Aggregate::TYPE>` is written
    /// by a projection, after the events) and needs no projection running.
    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let prefix = category_prefix(A::TYPE)?;
        let client = self.client.clone();
        Ok(self.replay(A::TYPE, async move {
            let options = ReadAllOptions::default()
                .filter_include([prefix])
                .filter_by_stream_name(true)
                .filter_by_prefix(true);
            client.read_all(&options).await
        }))
    }
}
