//! The harness that runs each scenario through both forms of the store.
//!
//! A scenario is a function generic over [`Store`], the store's API as plain
//! blocking calls. [`Store`] is implemented by the blocking
//! `kurrentdb_event_store::blocking::EventStore` as it is, and by [`AsyncForm`],
//! which drives the async `kurrentdb_event_store::EventStore` with its own tokio
//! runtime. [`both_forms!`] turns a list of scenarios into one test per
//! scenario and form, each on a fresh embedded server.

#![allow(dead_code)]

use std::sync::Arc;

use kurrentdb_embedded::EmbeddedServer;
use kurrentdb_event_store::{
    Codec, Event, ExpectedVersion, JsonCodec, LoadedStream, Result, StreamId, UnknownEventPolicy,
    WrappedEvent,
};
use kurrentdbclient::{
    AppendToStreamOptions, GetStreamMetadataOptions, NewEvent, ReadStreamOptions, RecordedEvent,
    StreamMetadata, StreamState,
};

/// The event store's API, blocking, implemented by both forms.
pub trait Store: Sized + Send + Sync + Clone {
    /// The same form of store with another codec.
    type WithCodec<D: Codec>: Store;

    fn append<E: Event>(
        &self,
        events: Vec<WrappedEvent<E>>,
        stream_id: impl Into<StreamId>,
        expected_version: impl Into<ExpectedVersion>,
    ) -> Result<u64>;
    fn load_stream<E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        start: Option<u64>,
        stop: Option<u64>,
    ) -> Result<Vec<WrappedEvent<E>>>;
    fn current_version(&self, stream_id: impl Into<StreamId>) -> Result<u64>;
    fn delete_stream(&self, stream_id: impl Into<StreamId>) -> Result<()>;
    fn save_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        snapshot: WrappedEvent<S>,
    ) -> Result<()>;
    fn load_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<Option<WrappedEvent<S>>>;
    fn load_with_snapshot<S: Event, E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<LoadedStream<S, E>>;
    fn scoped_for_tenant(&self, tenant_id: &str) -> Result<Self>;
    fn on_unknown_event_type(self, policy: UnknownEventPolicy) -> Self;
    fn with_codec<D: Codec>(self, codec: D) -> Self::WithCodec<D>;
    fn tenant_id(&self) -> String;
    fn position(&self) -> Option<u64>;
    fn stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String>;
    fn snapshot_stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String>;

    /// The raw events of a KurrentDB stream (empty when missing), through the
    /// plain client.
    fn raw_events(&self, stream_name: &str) -> Vec<RecordedEvent>;
    /// Appends a raw event to a KurrentDB stream, through the plain client.
    fn raw_append(&self, stream_name: &str, event: NewEvent);
    /// The metadata of a KurrentDB stream, through the plain client.
    fn raw_metadata(&self, stream_name: &str) -> StreamMetadata;
}

/// The async store, driven by a runtime of its own.
pub struct AsyncForm<C: Codec = JsonCodec> {
    rt: Arc<tokio::runtime::Runtime>,
    store: kurrentdb_event_store::EventStore<C>,
}

impl<C: Codec> Clone for AsyncForm<C> {
    fn clone(&self) -> Self {
        AsyncForm {
            rt: Arc::clone(&self.rt),
            store: self.store.clone(),
        }
    }
}

fn missing_is_empty(result: kurrentdbclient::Result<Vec<RecordedEvent>>) -> Vec<RecordedEvent> {
    match result {
        Ok(events) => events,
        Err(kurrentdbclient::Error::NotFound { .. }) => Vec::new(),
        Err(e) => panic!("raw read failed: {e}"),
    }
}

impl<C: Codec> Store for AsyncForm<C> {
    type WithCodec<D: Codec> = AsyncForm<D>;

    fn append<E: Event>(
        &self,
        events: Vec<WrappedEvent<E>>,
        stream_id: impl Into<StreamId>,
        expected_version: impl Into<ExpectedVersion>,
    ) -> Result<u64> {
        self.rt
            .block_on(self.store.append(events, stream_id, expected_version))
    }
    fn load_stream<E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        start: Option<u64>,
        stop: Option<u64>,
    ) -> Result<Vec<WrappedEvent<E>>> {
        self.rt
            .block_on(self.store.load_stream(stream_id, start, stop))
    }
    fn current_version(&self, stream_id: impl Into<StreamId>) -> Result<u64> {
        self.rt.block_on(self.store.current_version(stream_id))
    }
    fn delete_stream(&self, stream_id: impl Into<StreamId>) -> Result<()> {
        self.rt.block_on(self.store.delete_stream(stream_id))
    }
    fn save_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        snapshot: WrappedEvent<S>,
    ) -> Result<()> {
        self.rt
            .block_on(self.store.save_snapshot(stream_id, snapshot))
    }
    fn load_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<Option<WrappedEvent<S>>> {
        self.rt.block_on(self.store.load_snapshot(stream_id))
    }
    fn load_with_snapshot<S: Event, E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<LoadedStream<S, E>> {
        self.rt.block_on(self.store.load_with_snapshot(stream_id))
    }
    fn scoped_for_tenant(&self, tenant_id: &str) -> Result<Self> {
        Ok(AsyncForm {
            rt: Arc::clone(&self.rt),
            store: self.store.scoped_for_tenant(tenant_id)?,
        })
    }
    fn on_unknown_event_type(self, policy: UnknownEventPolicy) -> Self {
        AsyncForm {
            rt: self.rt,
            store: self.store.on_unknown_event_type(policy),
        }
    }
    fn with_codec<D: Codec>(self, codec: D) -> AsyncForm<D> {
        AsyncForm {
            rt: self.rt,
            store: self.store.with_codec(codec),
        }
    }
    fn tenant_id(&self) -> String {
        self.store.tenant_id().to_owned()
    }
    fn position(&self) -> Option<u64> {
        self.store.position()
    }
    fn stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        self.store.stream_name(stream_id)
    }
    fn snapshot_stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        self.store.snapshot_stream_name(stream_id)
    }
    fn raw_events(&self, stream_name: &str) -> Vec<RecordedEvent> {
        missing_is_empty(
            self.rt.block_on(
                self.store
                    .client()
                    .get_stream(stream_name, &ReadStreamOptions::default()),
            ),
        )
    }
    fn raw_append(&self, stream_name: &str, event: NewEvent) {
        self.rt
            .block_on(self.store.client().append_to_stream(
                stream_name,
                StreamState::Any,
                [event],
                &AppendToStreamOptions::default(),
            ))
            .expect("raw append");
    }
    fn raw_metadata(&self, stream_name: &str) -> StreamMetadata {
        self.rt
            .block_on(
                self.store
                    .client()
                    .get_stream_metadata(stream_name, &GetStreamMetadataOptions::default()),
            )
            .expect("raw metadata")
            .0
    }
}

impl<C: Codec> Store for kurrentdb_event_store::blocking::EventStore<C> {
    type WithCodec<D: Codec> = kurrentdb_event_store::blocking::EventStore<D>;

    fn append<E: Event>(
        &self,
        events: Vec<WrappedEvent<E>>,
        stream_id: impl Into<StreamId>,
        expected_version: impl Into<ExpectedVersion>,
    ) -> Result<u64> {
        self.append(events, stream_id, expected_version)
    }
    fn load_stream<E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        start: Option<u64>,
        stop: Option<u64>,
    ) -> Result<Vec<WrappedEvent<E>>> {
        self.load_stream(stream_id, start, stop)
    }
    fn current_version(&self, stream_id: impl Into<StreamId>) -> Result<u64> {
        self.current_version(stream_id)
    }
    fn delete_stream(&self, stream_id: impl Into<StreamId>) -> Result<()> {
        self.delete_stream(stream_id)
    }
    fn save_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
        snapshot: WrappedEvent<S>,
    ) -> Result<()> {
        self.save_snapshot(stream_id, snapshot)
    }
    fn load_snapshot<S: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<Option<WrappedEvent<S>>> {
        self.load_snapshot(stream_id)
    }
    fn load_with_snapshot<S: Event, E: Event>(
        &self,
        stream_id: impl Into<StreamId>,
    ) -> Result<LoadedStream<S, E>> {
        self.load_with_snapshot(stream_id)
    }
    fn scoped_for_tenant(&self, tenant_id: &str) -> Result<Self> {
        self.scoped_for_tenant(tenant_id)
    }
    fn on_unknown_event_type(self, policy: UnknownEventPolicy) -> Self {
        self.on_unknown_event_type(policy)
    }
    fn with_codec<D: Codec>(self, codec: D) -> Self::WithCodec<D> {
        self.with_codec(codec)
    }
    fn tenant_id(&self) -> String {
        self.tenant_id().to_owned()
    }
    fn position(&self) -> Option<u64> {
        self.position()
    }
    fn stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        self.stream_name(stream_id)
    }
    fn snapshot_stream_name(&self, stream_id: impl Into<StreamId>) -> Result<String> {
        self.snapshot_stream_name(stream_id)
    }
    fn raw_events(&self, stream_name: &str) -> Vec<RecordedEvent> {
        missing_is_empty(
            self.client()
                .get_stream(stream_name, &ReadStreamOptions::default()),
        )
    }
    fn raw_append(&self, stream_name: &str, event: NewEvent) {
        self.client()
            .append_to_stream(
                stream_name,
                StreamState::Any,
                [event],
                &AppendToStreamOptions::default(),
            )
            .expect("raw append");
    }
    fn raw_metadata(&self, stream_name: &str) -> StreamMetadata {
        self.client()
            .get_stream_metadata(stream_name, &GetStreamMetadataOptions::default())
            .expect("raw metadata")
            .0
    }
}

/// Runs a scenario on the async store, over a fresh embedded server.
pub fn with_async_store(scenario: impl FnOnce(AsyncForm)) {
    let server = EmbeddedServer::start_blocking().expect("start the embedded server");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let store = rt
        .block_on(kurrentdb_event_store::EventStore::connect(
            &server.connection_string(),
        ))
        .expect("connect");
    scenario(AsyncForm {
        rt: Arc::new(rt),
        store,
    });
}

/// Runs a scenario on the blocking store, over a fresh embedded server.
pub fn with_blocking_store(scenario: impl FnOnce(kurrentdb_event_store::blocking::EventStore)) {
    let server = EmbeddedServer::start_blocking().expect("start the embedded server");
    let store = kurrentdb_event_store::blocking::EventStore::connect(&server.connection_string())
        .expect("connect");
    scenario(store);
}

/// One `#[test]` per scenario and form: `async_form::NAME` and
/// `blocking_form::NAME`.
#[macro_export]
macro_rules! both_forms {
    ($($scenario:ident),* $(,)?) => {
        mod async_form {
            $(
                #[test]
                fn $scenario() {
                    $crate::common::with_async_store(super::$scenario);
                }
            )*
        }
        mod blocking_form {
            $(
                #[test]
                fn $scenario() {
                    $crate::common::with_blocking_store(super::$scenario);
                }
            )*
        }
    };
}
