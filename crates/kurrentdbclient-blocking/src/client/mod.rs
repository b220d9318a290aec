//! [`KurrentDBClient`]: every operation of [`AsyncKurrentDBClient`], blocking.
//!
//! Each method is one expression, `self.block_on(self.async_client().x(..))`
//! (a read or subscription wraps the async stream into this crate's
//! [`Iterator`]). The methods are grouped by gRPC service as the async
//! client's are: [`streams`] (appends, reads, deletes, metadata, catch-up
//! subscriptions), [`persistent`] (persistent-subscription groups) and
//! [`server`] (gossip, server info); this module holds the type, its
//! construction and the one [`block_on`](KurrentDBClient::block_on).

mod operations;
mod persistent;
mod projections;
mod server;
mod streams;
mod users;

use std::future::Future;
use std::sync::Arc;

use kurrentdbclient::{AsyncKurrentDBClient, ConnectionSettings, Result};

use crate::runtime::{Runtime, Shared};

/// The blocking KurrentDB client: every operation of
/// [`AsyncKurrentDBClient`](kurrentdbclient::AsyncKurrentDBClient), with the
/// same name, arguments and options, run to completion on the calling thread.
///
/// It holds an internal tokio runtime and an async client. It is cheap to clone
/// (an `Arc` inside; clones share the connection, and [`close`](Self::close)
/// closes them all) and `Send + Sync`: share one per process, between as many
/// threads as you like. Reads return an [`Iterator`]
/// ([`ReadStream`](crate::ReadStream)); subscriptions an [`Iterator`] that
/// another thread can stop ([`CatchupSubscription`](crate::CatchupSubscription)).
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
            .field("runtime", self.shared.runtime())
            .finish()
    }
}

impl KurrentDBClient {
    /// Starts the runtime and runs `open` on it to make the async client.
    #[track_caller]
    fn open<F>(open: F) -> Result<Self>
    where
        F: Future<Output = Result<AsyncKurrentDBClient>>,
    {
        let runtime = Runtime::new().unwrap_or_else(|e| {
            panic!("kurrentdbclient_blocking: cannot start the client's tokio runtime: {e}")
        });
        let client = runtime.block_on(open)?;
        Ok(KurrentDBClient {
            shared: Arc::new(Shared::new(client, runtime)),
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
        Self::open(AsyncKurrentDBClient::connect(uri))
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
        Self::open(AsyncKurrentDBClient::with_settings(settings))
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
    /// Every blocking method of this client is this call on the future of its
    /// async twin.
    ///
    /// # Panics
    ///
    /// When called from async code (see [the type's docs](Self)), including
    /// from inside the future of another `block_on`. The message names the
    /// operation: the blocking method whose async twin made the future
    /// (`KurrentDBClient::read_stream`, ...), or `KurrentDBClient::block_on`
    /// for a future of your own.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.shared.block_on(future)
    }

    /// What this client shares with its clones and iterators.
    pub(crate) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }
}
