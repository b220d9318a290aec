//! [`KurrentDBClient`]: every operation of [`AsyncKurrentDBClient`], blocking.

use std::future::Future;
use std::sync::Arc;

use kurrentdbclient::{
    AppendRecordsOptions, AppendToStreamOptions, AsyncKurrentDBClient, ClusterMember,
    ConnectionSettings, DeleteStreamOptions, GetCommitPositionOptions, GetCurrentVersionOptions,
    GetServerInfoOptions, GetStreamMetadataOptions, MultiAppendOptions, NewEvent, NewEvents,
    NewRecord, ReadAllOptions, ReadGossipOptions, ReadStreamOptions, RecordedEvent, Result,
    ServerInfo, SetStreamMetadataOptions, StreamMetadata, StreamState, StreamStateCheck,
    SubscribeToAllOptions, SubscribeToStreamOptions, TombstoneStreamOptions,
};

use crate::iter::{CatchupSubscription, ReadStream};
use crate::runtime::Runtime;

/// What a client and its iterators share: the runtime and the async client.
pub(crate) struct Shared {
    pub(crate) client: AsyncKurrentDBClient,
    pub(crate) runtime: Runtime,
}

impl Shared {
    /// Runs `future` to completion on the calling thread (see
    /// [`KurrentDBClient::block_on`]).
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, operation: &str, future: F) -> F::Output {
        self.runtime.block_on(operation, future)
    }

    /// Takes the next item of a read or subscription stream (see
    /// `Runtime::next_item`: an already-buffered item skips the scheduler).
    #[track_caller]
    pub(crate) fn next_item<F: Future>(&self, operation: &str, future: F) -> F::Output {
        self.runtime.next_item(operation, future)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone, and the runtime with it: close the async
        // client too, so that any clone of it taken with `async_client()` fails
        // with `Error::ClientClosed` rather than with a dead connection.
        self.client.close();
    }
}

/// The blocking KurrentDB client: every operation of
/// [`AsyncKurrentDBClient`](kurrentdbclient::AsyncKurrentDBClient), with the
/// same name, arguments and options, run to completion on the calling thread.
///
/// It holds an internal tokio runtime and an async client. It is cheap to clone
/// (an `Arc` inside; clones share the connection, and [`close`](Self::close)
/// closes them all) and `Send + Sync`: share one per process, between as many
/// threads as you like. Reads return an [`Iterator`] ([`ReadStream`]);
/// subscriptions an [`Iterator`] that another thread can stop
/// ([`CatchupSubscription`]).
///
/// # Calling it from async code
///
/// Every blocking method (each one except [`settings`](Self::settings),
/// [`close`](Self::close), [`is_closed`](Self::is_closed) and
/// [`async_client`](Self::async_client)) **panics** when called on a thread
/// that drives asynchronous tasks: inside `#[tokio::main]`, `#[tokio::test]`,
/// `Runtime::block_on` or a spawned task. Blocking such a thread would stall its
/// runtime, or deadlock it. The panic message starts with
/// `kurrentdbclient_blocking: a blocking call was made from inside an async
/// runtime` and names the call. (Tokio's own message, "Cannot block the current
/// thread from within a runtime", is printed just before it.) In async code use
/// [`async_client`](Self::async_client) and `.await`, or move the blocking call
/// to `tokio::task::spawn_blocking`, where it is allowed, as it is in
/// `block_in_place` and on plain threads.
///
/// Dropping the client never blocks, so it may be dropped anywhere.
///
/// # Example
///
/// ```no_run
/// use kurrentdbclient_blocking::{KurrentDBClient, NewEvent, StreamState};
/// use kurrentdbclient_blocking::options::{AppendToStreamOptions, ReadStreamOptions};
///
/// # fn main() -> kurrentdbclient_blocking::Result<()> {
/// let client = KurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")?;
/// client.append_to_stream(
///     "order:123",
///     StreamState::NoStream,
///     [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
///     &AppendToStreamOptions::default(),
/// )?;
/// for event in client.read_stream("order:123", &ReadStreamOptions::default())? {
///     let event = event?;
///     println!("{} {}", event.stream_position, event.r#type);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct KurrentDBClient {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for KurrentDBClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KurrentDBClient")
            .field("client", &self.shared.client)
            .field("runtime", &self.shared.runtime)
            .finish()
    }
}

impl KurrentDBClient {
    /// Starts the runtime and runs `open` on it to make the async client.
    #[track_caller]
    fn open<F>(operation: &str, open: F) -> Result<Self>
    where
        F: Future<Output = Result<AsyncKurrentDBClient>>,
    {
        crate::runtime::assert_blocking_allowed(operation);
        let runtime = Runtime::new().unwrap_or_else(|e| {
            panic!("kurrentdbclient_blocking: cannot start the client's tokio runtime: {e}")
        });
        let client = runtime.block_on(operation, open)?;
        Ok(KurrentDBClient {
            shared: Arc::new(Shared { client, runtime }),
        })
    }

    /// Connects with a connection string, for example
    /// `kurrentdb://127.0.0.1:2113?tls=false` or
    /// `kurrentdb://admin:changeit@node1:2113,node2:2113,node3:2113`
    /// (see [`AsyncKurrentDBClient::connect`]).
    ///
    /// With one endpoint the connection is made lazily, so this does not fail
    /// when the server is down (the first call does). A malformed string gives
    /// [`Error::InvalidConnectionString`](crate::Error::InvalidConnectionString).
    ///
    /// # Panics
    ///
    /// When called from async code (see [the type's docs](Self)), or when the
    /// internal runtime cannot start (the system refuses to create threads).
    ///
    /// ```no_run
    /// # fn main() -> kurrentdbclient_blocking::Result<()> {
    /// let client =
    ///     kurrentdbclient_blocking::KurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn connect(uri: &str) -> Result<Self> {
        Self::open(
            "KurrentDBClient::connect",
            AsyncKurrentDBClient::connect(uri),
        )
    }

    /// Connects with parsed settings (see [`connect`](Self::connect)).
    ///
    /// ```no_run
    /// # fn main() -> kurrentdbclient_blocking::Result<()> {
    /// use kurrentdbclient_blocking::{ConnectionSettings, KurrentDBClient};
    ///
    /// let settings: ConnectionSettings = "kurrentdb://127.0.0.1:2113?tls=false".parse()?;
    /// let client = KurrentDBClient::with_settings(settings)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn with_settings(settings: ConnectionSettings) -> Result<Self> {
        Self::open(
            "KurrentDBClient::with_settings",
            AsyncKurrentDBClient::with_settings(settings),
        )
    }

    /// The settings the client was made with. Does not block.
    pub fn settings(&self) -> &ConnectionSettings {
        self.shared.client.settings()
    }

    /// Closes the client and every clone of it. Every later call gives
    /// [`Error::ClientClosed`](crate::Error::ClientClosed); an open read or
    /// subscription yields that error once, then ends. Does not block, so it
    /// may be called from any thread, async code included.
    pub fn close(&self) {
        self.shared.client.close();
    }

    /// Whether [`close`](Self::close) has been called. Does not block.
    pub fn is_closed(&self) -> bool {
        self.shared.client.is_closed()
    }

    /// The async client inside, for async code that shares the connection.
    ///
    /// Its futures must be awaited in async code (not through this client's
    /// blocking calls), and it needs this client's runtime, which stops when
    /// the last handle to this client (clones, iterators) is dropped; after
    /// that, a clone of it gives [`Error::ClientClosed`](crate::Error::ClientClosed).
    pub fn async_client(&self) -> &AsyncKurrentDBClient {
        &self.shared.client
    }

    /// Runs any future to completion on the client's runtime, blocking the
    /// calling thread; for work the blocking API does not cover, built from
    /// [`async_client`](Self::async_client):
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use kurrentdbclient_blocking::{KurrentDBClient, ReadAllOptions};
    ///
    /// # fn main() -> kurrentdbclient_blocking::Result<()> {
    /// let client = KurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")?;
    /// let async_client = client.async_client();
    /// let first_ten_types = client.block_on(async {
    ///     let mut events = async_client.read_all(&ReadAllOptions::default().limit(10)).await?;
    ///     let mut types = Vec::new();
    ///     while let Some(event) = events.next().await {
    ///         types.push(event?.r#type);
    ///     }
    ///     Ok::<_, kurrentdbclient_blocking::Error>(types)
    /// })?;
    /// # Ok(()) }
    /// ```
    ///
    /// The future is polled on the calling thread, so it need not be `Send`.
    ///
    /// # Panics
    ///
    /// When called from async code (see [the type's docs](Self)), including
    /// from inside the future of another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.shared.block_on("KurrentDBClient::block_on", future)
    }

    /// Runs one operation's future to completion (the async-context panic
    /// names `operation`).
    #[track_caller]
    pub(crate) fn run<F: Future>(&self, operation: &str, future: F) -> F::Output {
        self.shared.block_on(operation, future)
    }

    /// Appends events to a stream, atomically, if the stream is in the state
    /// `current_version` says; returns the commit position of the last event
    /// (see [`AsyncKurrentDBClient::append_to_stream`]).
    ///
    /// A failed check gives
    /// [`Error::WrongCurrentVersion`](crate::Error::WrongCurrentVersion); a
    /// tombstoned stream gives
    /// [`Error::StreamIsDeleted`](crate::Error::StreamIsDeleted).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, NewEvent, StreamState, AppendToStreamOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let commit_position = client.append_to_stream(
    ///     "student-1",
    ///     StreamState::NoStream,
    ///     [NewEvent::new("StudentRegistered", r#"{"name": "Greg"}"#)],
    ///     &AppendToStreamOptions::default(),
    /// )?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: impl Into<StreamState>,
        events: impl IntoIterator<Item = NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<u64> {
        self.shared.block_on(
            "KurrentDBClient::append_to_stream",
            self.shared
                .client
                .append_to_stream(stream_name, current_version, events, options),
        )
    }

    /// Appends events to several streams in one atomic transaction (v2
    /// `AppendSession`, KurrentDB 25.1+); returns the commit position of the
    /// last event (see [`AsyncKurrentDBClient::multi_append_to_stream`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, NewEvent, NewEvents, StreamState, MultiAppendOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.multi_append_to_stream(
    ///     vec![
    ///         NewEvents::new("course-1", [NewEvent::new("CourseCreated", "{}")], StreamState::NoStream),
    ///         NewEvents::new("course-2", [NewEvent::new("CourseCreated", "{}")], StreamState::NoStream),
    ///     ],
    ///     &MultiAppendOptions::default(),
    /// )?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn multi_append_to_stream(
        &self,
        events: impl IntoIterator<Item = NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<u64> {
        self.shared.block_on(
            "KurrentDBClient::multi_append_to_stream",
            self.shared.client.multi_append_to_stream(events, options),
        )
    }

    /// Appends records to any streams, in one atomic transaction, if every
    /// consistency check holds (v2 `AppendRecords`, KurrentDB 26.1+); returns
    /// the commit position of the last record (see
    /// [`AsyncKurrentDBClient::append_records`]). Failed checks give
    /// [`Error::ConsistencyChecksFailed`](crate::Error::ConsistencyChecksFailed).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, NewRecord, StreamState, StreamStateCheck, AppendRecordsOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// client.append_records(
    ///     [NewRecord::new("student-2", "StudentRegistered", r#"{"name": "Joe"}"#)],
    ///     [StreamStateCheck::new("student-2", StreamState::NoStream)],
    ///     &AppendRecordsOptions::default(),
    /// )?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn append_records(
        &self,
        records: impl IntoIterator<Item = NewRecord>,
        checks: impl IntoIterator<Item = StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<u64> {
        self.shared.block_on(
            "KurrentDBClient::append_records",
            self.shared.client.append_records(records, checks, options),
        )
    }

    /// Reads a stream's events, as an [`Iterator`] (see
    /// [`AsyncKurrentDBClient::read_stream`]). The call waits for the first
    /// event, so a stream that does not exist gives
    /// [`Error::NotFound`](crate::Error::NotFound) here; each `next()` then
    /// blocks until the next event arrives.
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadStreamOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// for event in client.read_stream("order:123", &ReadStreamOptions::default())? {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn read_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<ReadStream> {
        let events = self.shared.block_on(
            "KurrentDBClient::read_stream",
            self.shared.client.read_stream(stream_name, options),
        )?;
        Ok(ReadStream::new(events, self.shared.clone()))
    }

    /// Reads a stream's events into a `Vec` (see
    /// [`AsyncKurrentDBClient::get_stream`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadStreamOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let last_two =
    ///     client.get_stream("order:123", &ReadStreamOptions::default().backwards(true).limit(2))?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        self.shared.block_on(
            "KurrentDBClient::get_stream",
            self.shared.client.get_stream(stream_name, options),
        )
    }

    /// Reads the events of all streams (`$all`) in commit order, filtered, as an
    /// [`Iterator`] (see [`AsyncKurrentDBClient::read_all`]). By default system
    /// events are excluded.
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadAllOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let options = ReadAllOptions::default().filter_include(["Order.*"]).limit(100);
    /// for event in client.read_all(&options)? {
    ///     let event = event?;
    ///     println!("{} {}", event.stream_name, event.r#type);
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn read_all(&self, options: &ReadAllOptions) -> Result<ReadStream> {
        let events = self.shared.block_on(
            "KurrentDBClient::read_all",
            self.shared.client.read_all(options),
        )?;
        Ok(ReadStream::new(events, self.shared.clone()))
    }

    /// The stream's current version: the position of its last event, or
    /// [`StreamState::NoStream`] when it does not exist (see
    /// [`AsyncKurrentDBClient::get_current_version`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, GetCurrentVersionOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let current_version =
    ///     client.get_current_version("order-123", &GetCurrentVersionOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_current_version(
        &self,
        stream_name: &str,
        options: &GetCurrentVersionOptions,
    ) -> Result<StreamState> {
        self.shared.block_on(
            "KurrentDBClient::get_current_version",
            self.shared.client.get_current_version(stream_name, options),
        )
    }

    /// The database's current commit position: that of the last event matching
    /// the filters (by default, the last non-system event), or 0 when there is
    /// none (see [`AsyncKurrentDBClient::get_commit_position`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, GetCommitPositionOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let commit_position = client.get_commit_position(&GetCommitPositionOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_commit_position(&self, options: &GetCommitPositionOptions) -> Result<u64> {
        self.shared.block_on(
            "KurrentDBClient::get_commit_position",
            self.shared.client.get_commit_position(options),
        )
    }

    /// Soft-deletes a stream, if it is in the state `current_version` says (see
    /// [`AsyncKurrentDBClient::delete_stream`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, options::*};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let current_version =
    ///     client.get_current_version("order-123", &GetCurrentVersionOptions::default())?;
    /// client.delete_stream("order-123", current_version, &DeleteStreamOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn delete_stream(
        &self,
        stream_name: &str,
        current_version: impl Into<StreamState>,
        options: &DeleteStreamOptions,
    ) -> Result<()> {
        self.shared.block_on(
            "KurrentDBClient::delete_stream",
            self.shared
                .client
                .delete_stream(stream_name, current_version, options),
        )
    }

    /// Hard-deletes (tombstones) a stream, if it is in the state
    /// `current_version` says; the name can never be used again (see
    /// [`AsyncKurrentDBClient::tombstone_stream`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, options::*};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let current_version =
    ///     client.get_current_version("order-123", &GetCurrentVersionOptions::default())?;
    /// client.tombstone_stream("order-123", current_version, &TombstoneStreamOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn tombstone_stream(
        &self,
        stream_name: &str,
        current_version: impl Into<StreamState>,
        options: &TombstoneStreamOptions,
    ) -> Result<()> {
        self.shared.block_on(
            "KurrentDBClient::tombstone_stream",
            self.shared
                .client
                .tombstone_stream(stream_name, current_version, options),
        )
    }

    /// A stream's metadata, with the version of its metadata stream (see
    /// [`AsyncKurrentDBClient::get_stream_metadata`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, options::*};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let (mut metadata, version) =
    ///     client.get_stream_metadata("order-123", &GetStreamMetadataOptions::default())?;
    /// metadata.custom.insert("foo".into(), "bar".into());
    /// client.set_stream_metadata("order-123", &metadata, version, &SetStreamMetadataOptions::default())?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_stream_metadata(
        &self,
        stream_name: &str,
        options: &GetStreamMetadataOptions,
    ) -> Result<(StreamMetadata, StreamState)> {
        self.shared.block_on(
            "KurrentDBClient::get_stream_metadata",
            self.shared.client.get_stream_metadata(stream_name, options),
        )
    }

    /// Sets a stream's metadata, if its metadata stream is in the state
    /// `current_version` says (see [`AsyncKurrentDBClient::set_stream_metadata`]
    /// and, for an example, [`get_stream_metadata`](Self::get_stream_metadata)).
    #[track_caller]
    pub fn set_stream_metadata(
        &self,
        stream_name: &str,
        metadata: &StreamMetadata,
        current_version: impl Into<StreamState>,
        options: &SetStreamMetadataOptions,
    ) -> Result<()> {
        self.shared.block_on(
            "KurrentDBClient::set_stream_metadata",
            self.shared
                .client
                .set_stream_metadata(stream_name, metadata, current_version, options),
        )
    }

    /// Subscribes to all streams: stored events, then live ones, as an
    /// [`Iterator`] that another thread can stop (see
    /// [`AsyncKurrentDBClient::subscribe_to_all`] and [`CatchupSubscription`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, SubscriptionItem, SubscribeToAllOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let subscription =
    ///     client.subscribe_to_all(&SubscribeToAllOptions::default().include_caught_up(true))?;
    /// let stop = subscription.stop_handle();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_secs(10));
    ///     stop.stop(); // ends the loop below
    /// });
    /// for item in subscription {
    ///     match item? {
    ///         SubscriptionItem::Event(event) => println!("{}", event.r#type),
    ///         SubscriptionItem::CaughtUp(_) => println!("live"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn subscribe_to_all(&self, options: &SubscribeToAllOptions) -> Result<CatchupSubscription> {
        let subscription = self.shared.block_on(
            "KurrentDBClient::subscribe_to_all",
            self.shared.client.subscribe_to_all(options),
        )?;
        Ok(CatchupSubscription::new(subscription, self.shared.clone()))
    }

    /// Subscribes to one stream: its stored events, then live ones, as an
    /// [`Iterator`] that another thread can stop (see
    /// [`AsyncKurrentDBClient::subscribe_to_stream`] and
    /// [`CatchupSubscription`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, SubscriptionItem, SubscribeToStreamOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let mut subscription =
    ///     client.subscribe_to_stream("order-123", &SubscribeToStreamOptions::default())?;
    /// if let Some(SubscriptionItem::Event(event)) = subscription.next().transpose()? {
    ///     println!("{}", event.r#type);
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn subscribe_to_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<CatchupSubscription> {
        let subscription = self.shared.block_on(
            "KurrentDBClient::subscribe_to_stream",
            self.shared.client.subscribe_to_stream(stream_name, options),
        )?;
        Ok(CatchupSubscription::new(subscription, self.shared.clone()))
    }

    /// The cluster's members, as the current node's gossip reports them (see
    /// [`AsyncKurrentDBClient::read_gossip`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadGossipOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// for member in client.read_gossip(&ReadGossipOptions::default())? {
    ///     println!("{}:{} {:?}", member.address, member.port, member.state);
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        self.shared.block_on(
            "KurrentDBClient::read_gossip",
            self.shared.client.read_gossip(options),
        )
    }

    /// The server's version and the methods and features it supports (see
    /// [`AsyncKurrentDBClient::get_server_info`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, GetServerInfoOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let info = client.get_server_info(&GetServerInfoOptions::default())?;
    /// println!("KurrentDB {}", info.version);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        self.shared.block_on(
            "KurrentDBClient::get_server_info",
            self.shared.client.get_server_info(options),
        )
    }
}
