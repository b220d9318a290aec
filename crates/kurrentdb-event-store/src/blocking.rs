//! The blocking [`EventStore`]: the async store's operations, each run to
//! completion on the blocking client's runtime.
//!
//! It holds the async [`crate::EventStore`] and a
//! [`kurrentdbclient_blocking::KurrentDBClient`], and every method is one line:
//! `self.client.block_on(self.inner.method(...))`. Like the blocking client,
//! it panics with a clear message when called from async code (use the async
//! store there).
//!
//! ```
//! use kurrentdb_event_store::blocking::EventStore;
//! use kurrentdb_event_store::{ExpectedVersion, impl_event};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize)]
//! struct Pinged;
//! impl_event!(struct Pinged);
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = kurrentdb_embedded::EmbeddedServer::start_blocking()?;
//! let store = EventStore::connect(&server.connection_string())?;
//! store.append([Pinged], "pings-1", ExpectedVersion::NEW_STREAM)?;
//! let events = store.load_stream::<Pinged>("pings-1", None, None)?;
//! assert_eq!(events[0].version, Some(1));
//! # Ok(()) }
//! ```

use kurrentdbclient_blocking::KurrentDBClient;

use crate::codec::{Codec, JsonCodec};
use crate::error::Result;
use crate::event::{Event, WrappedEvent};
use crate::store::{LoadedStream, UnknownEventPolicy};
use crate::stream_id::StreamId;
use crate::version::ExpectedVersion;

/// The blocking event store: the same operations as the async
/// [`crate::EventStore`], with the same arguments and results, blocking until
/// done. Cheap to clone; `Send + Sync`.
///
/// ```no_run
/// use kurrentdb_event_store::blocking::EventStore;
///
/// # fn main() -> kurrentdb_event_store::Result<()> {
/// let store = EventStore::connect("kurrentdb://127.0.0.1:2113?tls=false")?;
/// let acme = store.scoped_for_tenant("acme")?;
/// let shared = acme.clone();
/// std::thread::spawn(move || shared.current_version("cart-1")).join().unwrap()?;
/// # Ok(()) }
/// ```
pub struct EventStore<C: Codec = JsonCodec> {
    inner: crate::EventStore<C>,
    client: KurrentDBClient,
}

impl<C: Codec> Clone for EventStore<C> {
    fn clone(&self) -> Self {
        EventStore {
            inner: self.inner.clone(),
            client: self.client.clone(),
        }
    }
}

impl<C: Codec> std::fmt::Debug for EventStore<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl EventStore<JsonCodec> {
    /// A store over a blocking client, unscoped, with the JSON codec.
    ///
    /// ```no_run
    /// # fn main() -> kurrentdb_event_store::Result<()> {
    /// let client =
    ///     kurrentdbclient_blocking::KurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")?;
    /// let store = kurrentdb_event_store::blocking::EventStore::new(client);
    /// # Ok(()) }
    /// ```
    pub fn new(client: KurrentDBClient) -> Self {
        EventStore {
            inner: crate::EventStore::new(client.async_client().clone()),
            client,
        }
    }

    /// Connects a blocking client with a connection string and makes a store
    /// over it.
    ///
    /// ```no_run
    /// # fn main() -> kurrentdb_event_store::Result<()> {
    /// let store = kurrentdb_event_store::blocking::EventStore::connect(
    ///     "kurrentdb://127.0.0.1:2113?tls=false",
    /// )?;
    /// # Ok(()) }
    /// ```
    pub fn connect(uri: &str) -> Result<Self> {
        Ok(EventStore::new(KurrentDBClient::connect(uri)?))
    }
}

impl<C: Codec> EventStore<C> {
    /// The async store inside (for async code sharing the connection; its
    /// futures need the blocking client's runtime, see
    /// [`KurrentDBClient::async_client`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let async_store = store.async_store().clone();
    /// let version = store.client().block_on(async_store.current_version("cart-1"))?;
    /// # Ok(()) }
    /// ```
    pub fn async_store(&self) -> &crate::EventStore<C> {
        &self.inner
    }

    /// The blocking client the store uses.
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let info = store.client().get_server_info(&Default::default())?;
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &KurrentDBClient {
        &self.client
    }

    /// The same store with another codec (see [`crate::EventStore::with_codec`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) {
    /// let store = store.with_codec(kurrentdb_event_store::JsonCodec);
    /// # }
    /// ```
    pub fn with_codec<D: Codec>(self, codec: D) -> EventStore<D> {
        EventStore {
            inner: self.inner.with_codec(codec),
            client: self.client,
        }
    }

    /// The same store with another policy for unknown event types (see
    /// [`crate::EventStore::on_unknown_event_type`]).
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::UnknownEventPolicy;
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) {
    /// let lenient = store.on_unknown_event_type(UnknownEventPolicy::Skip);
    /// # }
    /// ```
    pub fn on_unknown_event_type(self, policy: UnknownEventPolicy) -> Self {
        EventStore {
            inner: self.inner.on_unknown_event_type(policy),
            client: self.client,
        }
    }

    /// The tenant the store is scoped for (see
    /// [`crate::EventStore::tenant_id`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.tenant_id(), kurrentdb_event_store::DEFAULT_TENANT);
    /// # Ok(()) }
    /// ```
    pub fn tenant_id(&self) -> &str {
        self.inner.tenant_id()
    }

    /// A store scoped for a tenant (see [`crate::EventStore::scoped_for_tenant`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let acme = store.scoped_for_tenant("acme")?;
    /// assert_eq!(acme.stream_name("cart-1")?, "tenant:acme:cart-1");
    /// # Ok(()) }
    /// ```
    pub fn scoped_for_tenant(&self, tenant_id: &str) -> Result<Self> {
        Ok(EventStore {
            inner: self.inner.scoped_for_tenant(tenant_id)?,
            client: self.client.clone(),
        })
    }

    /// The KurrentDB stream name of a stream id (see
    /// [`crate::EventStore::stream_name`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.stream_name(42)?, "42");
    /// # Ok(()) }
    /// ```
    pub fn stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        self.inner.stream_name(stream_id)
    }

    /// The KurrentDB name of a stream's snapshot stream (see
    /// [`crate::EventStore::snapshot_stream_name`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.snapshot_stream_name("cart-1")?, "snapshot-cart-1");
    /// # Ok(()) }
    /// ```
    pub fn snapshot_stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        self.inner.snapshot_stream_name(stream_id)
    }

    /// The global commit position of the last event this store saw or wrote
    /// (see [`crate::EventStore::position`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// if let Some(position) = store.position() {
    ///     println!("caught up to commit position {position}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn position(&self) -> Option<u64> {
        self.inner.position()
    }

    /// Appends events with optimistic locking; returns the commit position of
    /// the last (see [`crate::EventStore::append`]).
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{ExpectedVersion, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// # impl_event!(struct Pinged);
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// store.append([Pinged, Pinged], "pings-2", ExpectedVersion::NEW_STREAM)?;
    /// store.append([Pinged], "pings-2", 2)?;
    /// # Ok(()) }
    /// ```
    pub fn append<E: Event>(
        &self,
        events: impl IntoIterator<Item = impl Into<WrappedEvent<E>>>,
        stream_id: impl Into<StreamId>,
        expected_version: impl Into<ExpectedVersion>,
    ) -> Result<u64> {
        self.client
            .block_on(self.inner.append(events, stream_id, expected_version))
    }

    /// Loads events from version `start` (included) to `stop` (excluded); an
    /// empty `Vec` for a missing stream (see [`crate::EventStore::load_stream`]).
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::impl_event;
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// # impl_event!(struct Pinged);
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let second = store.load_stream::<Pinged>("pings-2", Some(2), Some(3))?;
    /// assert_eq!(second[0].version, Some(2));
    /// # Ok(()) }
    /// ```
    pub fn load_stream<E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        start: Option<u64>,
        stop: Option<u64>,
    ) -> Result<Vec<WrappedEvent<E>>> {
        self.client
            .block_on(self.inner.load_stream(stream_id, start, stop))
    }

    /// The stream's version, 0 when it does not exist (see
    /// [`crate::EventStore::current_version`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// assert_eq!(store.current_version("not_existing_stream")?, 0);
    /// # Ok(()) }
    /// ```
    pub fn current_version(&self, stream_id: impl Into<StreamId>) -> Result<u64> {
        self.client.block_on(self.inner.current_version(stream_id))
    }

    /// Deletes a stream and its snapshots; a missing stream is no error (see
    /// [`crate::EventStore::delete_stream`]).
    ///
    /// ```no_run
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// store.delete_stream("not_existing_stream")?;
    /// # Ok(()) }
    /// ```
    pub fn delete_stream(&self, stream_id: impl Into<StreamId>) -> Result<()> {
        self.client.block_on(self.inner.delete_stream(stream_id))
    }

    /// Saves a snapshot taken at the version it carries (see
    /// [`crate::EventStore::save_snapshot`]).
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::{WrappedEvent, impl_event};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Count(u64);
    /// # impl_event!(struct Count);
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// store.save_snapshot("pings-2", WrappedEvent::new(Count(3)).with_version(3))?;
    /// # Ok(()) }
    /// ```
    pub fn save_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        snapshot: WrappedEvent<S>,
    ) -> Result<()> {
        self.client
            .block_on(self.inner.save_snapshot(stream_id, snapshot))
    }

    /// The latest snapshot of a stream, if any (see
    /// [`crate::EventStore::load_snapshot`]).
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::impl_event;
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Count(u64);
    /// # impl_event!(struct Count);
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let snapshot = store.load_snapshot::<Count>("pings-2")?;
    /// # Ok(()) }
    /// ```
    pub fn load_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<Option<WrappedEvent<S>>> {
        self.client.block_on(self.inner.load_snapshot(stream_id))
    }

    /// The latest snapshot and the events after it, with how many events were
    /// read (see [`crate::EventStore::load_with_snapshot`]).
    ///
    /// ```no_run
    /// # use kurrentdb_event_store::impl_event;
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Pinged;
    /// # impl_event!(struct Pinged);
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Count(u64);
    /// # impl_event!(struct Count);
    /// # fn run(store: kurrentdb_event_store::blocking::EventStore) -> kurrentdb_event_store::Result<()> {
    /// let loaded = store.load_with_snapshot::<Count, Pinged>("pings-2")?;
    /// println!("read {} events after the snapshot", loaded.events_read);
    /// # Ok(()) }
    /// ```
    pub fn load_with_snapshot<S: Event, E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<LoadedStream<S, E>> {
        self.client
            .block_on(self.inner.load_with_snapshot(stream_id))
    }
}
