//! The async [`EventStore`].

use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use futures::StreamExt;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, DeleteStreamOptions, GetCurrentVersionOptions,
    NewEvent, ReadStreamOptions, RecordedEvent, SetStreamMetadataOptions, StreamMetadata,
    StreamState,
};

use crate::codec::{Codec, JsonCodec};
use crate::error::{EventStoreError, Result, is_missing_stream};
use crate::event::{Event, WrappedEvent, decode_metadata, encode_metadata};
use crate::stream_id::{self, DEFAULT_TENANT, StreamId};
use crate::version::{ExpectedVersion, version_of_state};

/// What loading does with an event whose recorded type the event type being
/// loaded does not know.
///
/// ```
/// use kurrentdb_event_store::UnknownEventPolicy;
/// assert_eq!(UnknownEventPolicy::default(), UnknownEventPolicy::Fail);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UnknownEventPolicy {
    /// Fail with [`EventStoreError::UnknownEventType`] (the default).
    #[default]
    Fail,
    /// Leave the event out (it still counts in
    /// [`LoadedStream::events_read`]); an unknown snapshot type is treated as
    /// no snapshot.
    Skip,
}

/// What [`EventStore::load_with_snapshot`] returns: the latest snapshot, the
/// events after it, and how many events were read from the stream.
///
/// ```
/// use kurrentdb_event_store::{LoadedStream, WrappedEvent};
///
/// let loaded: LoadedStream<String, u32> = LoadedStream {
///     snapshot: Some(WrappedEvent::new("state".to_string()).with_version(5)),
///     events: vec![WrappedEvent::new(6).with_version(6)],
///     events_read: 1,
/// };
/// assert_eq!(loaded.version(), 6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedStream<S, E> {
    /// The latest snapshot, if one was saved; its `version` is the version of
    /// the last event it includes.
    pub snapshot: Option<WrappedEvent<S>>,
    /// The events after the snapshot (all of them without one).
    pub events: Vec<WrappedEvent<E>>,
    /// How many events were read from the stream (the snapshot not counted,
    /// skipped unknown events counted).
    pub events_read: u64,
}

impl<S, E> LoadedStream<S, E> {
    /// The stream version the snapshot and events reach: that of the last
    /// event, or of the snapshot when no event follows it, or 0.
    pub fn version(&self) -> u64 {
        self.events
            .last()
            .and_then(|e| e.version)
            .or_else(|| self.snapshot.as_ref().and_then(|s| s.version))
            .unwrap_or(0)
    }
}

/// The highest commit position a store (and its clones) has seen or written.
#[derive(Debug, Default)]
struct PositionTracker(Mutex<Option<u64>>);

impl PositionTracker {
    fn note(&self, position: u64) {
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none_or(|c| c < position) {
            *current = Some(position);
        }
    }

    fn get(&self) -> Option<u64> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An event-sourcing store over KurrentDB: typed events appended with
/// optimistic locking, loaded by version range, snapshots, tenants.
///
/// Versions count from 1 (the first event of a stream is version 1; a stream
/// that does not exist is at version 0). Stream ids map to KurrentDB stream
/// names as described in [`crate::stream_id`]. Events are encoded by the
/// store's [`Codec`] ([`JsonCodec`] by default).
///
/// Cheap to clone; clones share the [`position`](Self::position).
///
/// ```no_run
/// use kurrentdb_event_store::{EventStore, ExpectedVersion, StreamId, impl_event};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Serialize, Deserialize)]
/// #[serde(tag = "type")]
/// enum CartEvent {
///     ItemAdded { sku: String },
///     CheckedOut,
/// }
/// impl_event!(enum CartEvent { ItemAdded, CheckedOut });
///
/// # async fn run() -> kurrentdb_event_store::Result<()> {
/// let store = EventStore::connect("kurrentdb://127.0.0.1:2113?tls=false").await?;
/// let cart = StreamId::new().with_category("cart");
/// store
///     .append([CartEvent::ItemAdded { sku: "apple".into() }], &cart, ExpectedVersion::NEW_STREAM)
///     .await?;
/// store.append([CartEvent::CheckedOut], &cart, 1).await?;
/// let events = store.load_stream::<CartEvent>(&cart, None, None).await?;
/// assert_eq!(events[1].version, Some(2));
/// # Ok(()) }
/// ```
pub struct EventStore<C: Codec = JsonCodec> {
    client: AsyncKurrentDBClient,
    codec: Arc<C>,
    tenant: Option<String>,
    unknown_events: UnknownEventPolicy,
    position: Arc<PositionTracker>,
}

impl<C: Codec> Clone for EventStore<C> {
    fn clone(&self) -> Self {
        EventStore {
            client: self.client.clone(),
            codec: Arc::clone(&self.codec),
            tenant: self.tenant.clone(),
            unknown_events: self.unknown_events,
            position: Arc::clone(&self.position),
        }
    }
}

impl<C: Codec> std::fmt::Debug for EventStore<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore")
            .field("tenant", &self.tenant_id())
            .field("content_type", &self.codec.content_type())
            .field("unknown_events", &self.unknown_events)
            .field("position", &self.position())
            .finish()
    }
}

impl EventStore<JsonCodec> {
    /// A store over a client, unscoped, with the JSON codec.
    ///
    /// ```no_run
    /// # async fn run() -> kurrentdb_event_store::Result<()> {
    /// let client =
    ///     kurrentdbclient::AsyncKurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")
    ///         .await?;
    /// let store = kurrentdb_event_store::EventStore::new(client);
    /// # Ok(()) }
    /// ```
    pub fn new(client: AsyncKurrentDBClient) -> Self {
        EventStore {
            client,
            codec: Arc::new(JsonCodec),
            tenant: None,
            unknown_events: UnknownEventPolicy::Fail,
            position: Arc::default(),
        }
    }

    /// Connects a client with a connection string and makes a store over it.
    ///
    /// ```no_run
    /// # async fn run() -> kurrentdb_event_store::Result<()> {
    /// let store =
    ///     kurrentdb_event_store::EventStore::connect("kurrentdb://127.0.0.1:2113?tls=false")
    ///         .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(uri: &str) -> Result<Self> {
        Ok(EventStore::new(AsyncKurrentDBClient::connect(uri).await?))
    }
}

impl<C: Codec> EventStore<C> {
    /// The same store with another codec for event payloads (see [`Codec`]).
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) {
    /// let store = store.with_codec(kurrentdb_event_store::JsonCodec);
    /// # }
    /// ```
    pub fn with_codec<D: Codec>(self, codec: D) -> EventStore<D> {
        EventStore {
            client: self.client,
            codec: Arc::new(codec),
            tenant: self.tenant,
            unknown_events: self.unknown_events,
            position: self.position,
        }
    }

    /// The same store with another policy for unknown event types.
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{EventStore, UnknownEventPolicy};
    /// # async fn run(store: EventStore) {
    /// let lenient = store.on_unknown_event_type(UnknownEventPolicy::Skip);
    /// # }
    /// ```
    pub fn on_unknown_event_type(mut self, policy: UnknownEventPolicy) -> Self {
        self.unknown_events = policy;
        self
    }

    /// The client the store uses (for calls the store does not cover).
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let info = store.client().get_server_info(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &AsyncKurrentDBClient {
        &self.client
    }

    /// The codec the store uses.
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::Codec;
    /// # async fn run(store: kurrentdb_event_store::EventStore) {
    /// assert_eq!(store.codec().content_type(), "application/json");
    /// # }
    /// ```
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The tenant the store is scoped for ([`DEFAULT_TENANT`] when unscoped).
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.scoped_for_tenant("acme")?.tenant_id(), "acme");
    /// # Ok(()) }
    /// ```
    pub fn tenant_id(&self) -> &str {
        self.tenant.as_deref().unwrap_or(DEFAULT_TENANT)
    }

    /// A store over the same client scoped for a tenant: its stream names carry
    /// the prefix `tenant:{tenant_id}:`, so it sees only that tenant's streams
    /// and no other store sees them (see [`crate::stream_id`]).
    /// [`DEFAULT_TENANT`] gives the unscoped store. Scoping a scoped store
    /// replaces its tenant. The new store has its own
    /// [`position`](Self::position) (none yet).
    ///
    /// A tenant id that is empty or contains `:` gives
    /// [`EventStoreError::InvalidTenantId`].
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let acme = store.scoped_for_tenant("acme")?;
    /// assert_eq!(acme.stream_name("cart-1")?, "tenant:acme:cart-1");
    /// # Ok(()) }
    /// ```
    pub fn scoped_for_tenant(&self, tenant_id: &str) -> Result<Self> {
        stream_id::check_tenant_id(tenant_id)?;
        Ok(EventStore {
            client: self.client.clone(),
            codec: Arc::clone(&self.codec),
            tenant: (tenant_id != DEFAULT_TENANT).then(|| tenant_id.to_owned()),
            unknown_events: self.unknown_events,
            position: Arc::default(),
        })
    }

    /// The KurrentDB stream name of a stream id in this store (see
    /// [`crate::stream_id`]); [`EventStoreError::InvalidStreamId`] for a name
    /// the scheme reserves.
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.stream_name(7)?, "7");
    /// # Ok(()) }
    /// ```
    pub fn stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        stream_id::stream_name(self.tenant.as_deref(), &stream_id.into())
    }

    /// The KurrentDB name of the stream holding a stream's snapshots.
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.snapshot_stream_name("cart-1")?, "snapshot-cart-1");
    /// # Ok(()) }
    /// ```
    pub fn snapshot_stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        stream_id::snapshot_stream_name(self.tenant.as_deref(), &stream_id.into())
    }

    /// The global commit position of the last event this store (or a clone)
    /// saw or wrote: the highest commit position among the events and
    /// snapshots it appended or loaded. `None` before the first.
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{EventStore, ExpectedVersion, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// # impl_event!(struct Pinged);
    /// # async fn run(store: EventStore) -> kurrentdb_event_store::Result<()> {
    /// let before = store.position();
    /// store.append([Pinged], "pings", ExpectedVersion::Any).await?;
    /// assert!(store.position() > before);
    /// # Ok(()) }
    /// ```
    pub fn position(&self) -> Option<u64> {
        self.position.get()
    }

    /// Appends events to a stream, atomically, if the stream is at
    /// `expected_version` (optimistic locking); returns the commit position of
    /// the last event.
    ///
    /// `expected_version` is the version the caller last saw: `0` (or
    /// [`ExpectedVersion::NEW_STREAM`]) for a stream that must not exist yet,
    /// `n` for a stream whose last event is version `n`, or
    /// [`ExpectedVersion::Any`]. When the stream is elsewhere, nothing is
    /// written and the call fails with [`EventStoreError::ConcurrencyConflict`].
    /// Events can be given as they are or as [`WrappedEvent`]s (to set ids or
    /// metadata); a wrapped event's `version` is ignored. Appending no events
    /// gives [`EventStoreError::NoEvents`].
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{EventStore, ExpectedVersion, WrappedEvent, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// # impl_event!(struct Pinged);
    /// # async fn run(store: EventStore) -> kurrentdb_event_store::Result<()> {
    /// store.append([Pinged], "pings-1", ExpectedVersion::NEW_STREAM).await?;
    /// store
    ///     .append([WrappedEvent::new(Pinged).with_metadata("by", "alice")], "pings-1", 1)
    ///     .await?;
    /// let err = store.append([Pinged], "pings-1", 1).await.unwrap_err();
    /// assert!(err.is_concurrency_conflict());
    /// # Ok(()) }
    /// ```
    pub async fn append<E: Event>(
        &self,
        events: impl IntoIterator<Item = impl Into<WrappedEvent<E>>>,
        stream_id: impl Into<StreamId>,
        expected_version: impl Into<ExpectedVersion>,
    ) -> Result<u64> {
        let stream = self.stream_name(stream_id)?;
        let events = events
            .into_iter()
            .map(|event| self.encode(&event.into(), None))
            .collect::<Result<Vec<_>>>()?;
        if events.is_empty() {
            return Err(EventStoreError::NoEvents { stream });
        }
        let position = self
            .client
            .append_to_stream(
                &stream,
                expected_version.into().to_stream_state(),
                events,
                &AppendToStreamOptions::default(),
            )
            .await?
            .commit_position;
        self.position.note(position);
        Ok(position)
    }

    /// Loads a stream's events from version `start` (included; the first by
    /// default) to version `stop` (excluded; the end by default). A stream that
    /// does not exist (or was deleted) gives an empty `Vec`.
    ///
    /// Each event comes with its version, id, creation and recording times,
    /// commit position and metadata. An event of a type `E` does not know
    /// fails with [`EventStoreError::UnknownEventType`], or is left out under
    /// [`UnknownEventPolicy::Skip`].
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{EventStore, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// # impl_event!(struct Pinged);
    /// # async fn run(store: EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert!(store.load_stream::<Pinged>("not_existing_stream", None, None).await?.is_empty());
    /// let second = store.load_stream::<Pinged>("pings-1", Some(2), Some(3)).await?;
    /// assert_eq!(second[0].version, Some(2));
    /// # Ok(()) }
    /// ```
    pub async fn load_stream<E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        start: Option<u64>,
        stop: Option<u64>,
    ) -> Result<Vec<WrappedEvent<E>>> {
        let stream = self.stream_name(stream_id)?;
        Ok(self.read_events(&stream, start.unwrap_or(1), stop).await?.0)
    }

    /// The stream's version: that of its last event, 0 when it does not exist.
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.current_version("not_existing_stream").await?, 0);
    /// # Ok(()) }
    /// ```
    pub async fn current_version(&self, stream_id: impl Into<StreamId>) -> Result<u64> {
        let stream = self.stream_name(stream_id)?;
        let state = self
            .client
            .get_current_version(&stream, &GetCurrentVersionOptions::default())
            .await?;
        Ok(version_of_state(state))
    }

    /// Deletes a stream and its snapshots. A stream that does not exist is no
    /// error.
    ///
    /// The deletion is KurrentDB's soft delete: the stream then loads as empty,
    /// and can be written again with expected version 0 or `Any`; its versions
    /// then continue after the deleted ones (KurrentDB keeps counting).
    ///
    /// ```no_run
    /// # async fn run(store: kurrentdb_event_store::EventStore) -> kurrentdb_event_store::Result<()> {
    /// store.delete_stream("pings-1").await?;
    /// store.delete_stream("not_existing_stream").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_stream(&self, stream_id: impl Into<StreamId>) -> Result<()> {
        let stream_id = stream_id.into();
        let stream = self.stream_name(&stream_id)?;
        let snapshots = self.snapshot_stream_name(&stream_id)?;
        // Snapshots first: a failure between the two deletions then leaves
        // events without a snapshot (loaded by full replay), never a snapshot
        // of deleted events.
        for name in [snapshots, stream] {
            match self
                .client
                .delete_stream(&name, StreamState::Any, &DeleteStreamOptions::default())
                .await
            {
                Ok(()) => {}
                Err(e) if is_missing_stream(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Saves a snapshot of a stream: the aggregate's state, wrapped with the
    /// version of the last event it includes
    /// ([`WrappedEvent::with_version`]). Without a version the call fails with
    /// [`EventStoreError::SnapshotWithoutVersion`]. The stream need not exist.
    ///
    /// Snapshots go to a companion stream (`snapshot-{stream}`, see
    /// [`snapshot_stream_name`](Self::snapshot_stream_name)) whose metadata
    /// keeps only the latest one (`$maxCount` 1); the version is recorded in
    /// the snapshot's metadata (`snapshot_version`).
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{EventStore, WrappedEvent, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Count(u64);
    /// # impl_event!(struct Count);
    /// # async fn run(store: EventStore) -> kurrentdb_event_store::Result<()> {
    /// store.save_snapshot("pings-1", WrappedEvent::new(Count(2)).with_version(2)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn save_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        snapshot: WrappedEvent<S>,
    ) -> Result<()> {
        let stream_id = stream_id.into();
        let stream = self.stream_name(&stream_id)?;
        let Some(version) = snapshot.version else {
            return Err(EventStoreError::SnapshotWithoutVersion { stream });
        };
        let snapshots = self.snapshot_stream_name(&stream_id)?;
        let event = self.encode(&snapshot, Some(version))?;
        let options = AppendToStreamOptions::default();
        // The first snapshot creates the stream and sets its metadata; later
        // ones find it there and simply append.
        match self
            .client
            .append_to_stream(&snapshots, StreamState::NoStream, [event.clone()], &options)
            .await
        {
            Ok(written) => {
                self.position.note(written.commit_position);
                self.client
                    .set_stream_metadata(
                        &snapshots,
                        &StreamMetadata::default().with_max_count(1),
                        StreamState::Any,
                        &SetStreamMetadataOptions::default(),
                    )
                    .await?;
            }
            Err(kurrentdbclient::Error::WrongCurrentVersion { .. }) => {
                let position = self
                    .client
                    .append_to_stream(&snapshots, StreamState::Any, [event], &options)
                    .await?
                    .commit_position;
                self.position.note(position);
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// The latest snapshot of a stream, if any, with its `version` set to the
    /// version it was taken at.
    ///
    /// A snapshot of a type `S` does not know fails with
    /// [`EventStoreError::UnknownEventType`], or gives `None` under
    /// [`UnknownEventPolicy::Skip`].
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{EventStore, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Count(u64);
    /// # impl_event!(struct Count);
    /// # async fn run(store: EventStore) -> kurrentdb_event_store::Result<()> {
    /// if let Some(snapshot) = store.load_snapshot::<Count>("pings-1").await? {
    ///     println!("{} pings up to version {:?}", snapshot.event.0, snapshot.version);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn load_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<Option<WrappedEvent<S>>> {
        let snapshots = self.snapshot_stream_name(stream_id)?;
        let options = ReadStreamOptions::default().backwards(true).limit(1);
        let records = match self.client.get_stream(&snapshots, &options).await {
            Ok(records) => records,
            Err(e) if is_missing_stream(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(record) = records.into_iter().next() else {
            return Ok(None);
        };
        if let Some(position) = record.commit_position {
            self.position.note(position);
        }
        let Some(version) = decode_metadata(&record.metadata).snapshot_version else {
            return Err(EventStoreError::InvalidSnapshot {
                stream: snapshots,
                reason: "its metadata has no snapshot_version".into(),
            });
        };
        Ok(self
            .decode::<S>(&snapshots, &record, version)?
            .map(|snapshot| snapshot.with_version(version)))
    }

    /// Loads a stream the fast way: its latest snapshot, then only the events
    /// after it (all events when there is no snapshot). The result says how
    /// many events were read.
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{EventStore, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// # impl_event!(struct Pinged);
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Count(u64);
    /// # impl_event!(struct Count);
    /// # async fn run(store: EventStore) -> kurrentdb_event_store::Result<()> {
    /// let loaded = store.load_with_snapshot::<Count, Pinged>("pings-1").await?;
    /// let count = loaded.snapshot.map_or(0, |s| s.event.0) + loaded.events.len() as u64;
    /// # Ok(()) }
    /// ```
    pub async fn load_with_snapshot<S: Event, E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<LoadedStream<S, E>> {
        let stream_id = stream_id.into();
        let stream = self.stream_name(&stream_id)?;
        let snapshot = self.load_snapshot::<S>(&stream_id).await?;
        let start = snapshot
            .as_ref()
            .and_then(|s| s.version)
            .map_or(1, |v| v + 1);
        let (events, events_read) = self.read_events(&stream, start, None).await?;
        Ok(LoadedStream {
            snapshot,
            events,
            events_read,
        })
    }

    /// Reads and decodes the events of a stream from version `start`
    /// (included) to `stop` (excluded); also returns how many were read.
    async fn read_events<E: Event>(
        &self,
        stream: &str,
        start: u64,
        stop: Option<u64>,
    ) -> Result<(Vec<WrappedEvent<E>>, u64)> {
        let start = start.max(1);
        let mut options = ReadStreamOptions::default().stream_position(start - 1);
        if let Some(stop) = stop {
            if stop <= start {
                return Ok((Vec::new(), 0));
            }
            options = options.limit(stop - start);
        }
        let mut records = match self.client.read_stream(stream, &options).await {
            Ok(records) => records,
            Err(e) if is_missing_stream(&e) => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e.into()),
        };
        let mut events = Vec::new();
        let mut read = 0;
        while let Some(record) = records.next().await {
            let record = match record {
                Ok(record) => record,
                Err(e) if read == 0 && is_missing_stream(&e) => break,
                Err(e) => return Err(e.into()),
            };
            let version = record.stream_position + 1;
            if stop.is_some_and(|stop| version >= stop) {
                break;
            }
            read += 1;
            if let Some(position) = record.commit_position {
                self.position.note(position);
            }
            if let Some(event) = self.decode(stream, &record, version)? {
                events.push(event);
            }
        }
        Ok((events, read))
    }

    /// Turns an envelope into the client's event.
    fn encode<E: Event>(
        &self,
        wrapped: &WrappedEvent<E>,
        snapshot_version: Option<u64>,
    ) -> Result<NewEvent> {
        let event_type = wrapped.event.event_type();
        let data = self
            .codec
            .encode(&wrapped.event)
            .map_err(|source| EventStoreError::Encode {
                event_type: event_type.to_owned(),
                source,
            })?;
        Ok(NewEvent::new(event_type, data)
            .with_id(wrapped.id)
            .with_content_type(self.codec.content_type())
            .with_metadata(encode_metadata(
                &wrapped.metadata,
                wrapped.created_at,
                snapshot_version,
            )))
    }

    /// Turns a recorded event into an envelope at `version`; `None` for an
    /// unknown type under [`UnknownEventPolicy::Skip`].
    fn decode<E: Event>(
        &self,
        stream: &str,
        record: &RecordedEvent,
        version: u64,
    ) -> Result<Option<WrappedEvent<E>>> {
        if !E::knows_event_type(&record.r#type) {
            return match self.unknown_events {
                UnknownEventPolicy::Skip => Ok(None),
                UnknownEventPolicy::Fail => Err(EventStoreError::UnknownEventType {
                    stream: stream.to_owned(),
                    event_type: record.r#type.clone(),
                    version,
                }),
            };
        }
        let event: E =
            self.codec
                .decode(&record.data)
                .map_err(|source| EventStoreError::Decode {
                    stream: stream.to_owned(),
                    event_type: record.r#type.clone(),
                    version,
                    source,
                })?;
        let metadata = decode_metadata(&record.metadata);
        Ok(Some(WrappedEvent {
            event,
            id: record.id,
            version: Some(version),
            created_at: metadata
                .created_at
                .or(record.recorded_at)
                .unwrap_or(UNIX_EPOCH),
            recorded_at: record.recorded_at,
            position: record.commit_position,
            metadata: metadata.metadata,
        }))
    }
}
