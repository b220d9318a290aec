//! [`AsyncKurrentDBClient`]: every operation of the async client, grouped by
//! gRPC service, one file each:
//! - here: the client itself, connecting, settings and closing;
//! - `call`: `CallKind`, the one call path (`run`, and
//!   `unary` for request-response calls) with the deadline, the retry and the
//!   not-leader reconnect;
//! - `streams`: appends, reads, deletes, tombstones, stream metadata and
//!   catch-up subscriptions (v1 `Streams` and v2 `StreamsService`);
//! - `persistent`: persistent-subscription groups and their consumers;
//! - `projections`: projection management (create, statistics, state, ...);
//! - `server`: gossip and server info;
//! - `users`: user management;
//! - `operations`: scavenges and node administration.
//!
//! Each operation goes the same way: the public method (which carries the
//! docs) checks its arguments, has the per-service module (`crate::streams`,
//! `crate::persistent`, ...) build the request, sends it through the call
//! path with its `CallKind`, and hands the answer back to
//! the per-service module to convert. New services (users, operations) get
//! their own file here the same way.

mod call;
mod operations;
mod persistent;
mod projections;
mod server;
mod streams;
mod subscription_start;
mod users;

use std::sync::Arc;

use crate::connection::Connection;
use crate::connection::settings::ConnectionSettings;
use crate::error::Result;
use crate::telemetry::{client_span, traced};

/// The async KurrentDB client.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`: share one per process.
/// Every operation takes its required arguments plainly and the rest in an
/// options value (see [`crate::options`]).
///
/// ```no_run
/// use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};
/// use kurrentdbclient::options::{AppendToStreamOptions, ReadStreamOptions};
///
/// # async fn run() -> kurrentdbclient::Result<()> {
/// let client = AsyncKurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false").await?;
/// client
///     .append_to_stream(
///         "order:123",
///         StreamState::NoStream,
///         [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
///         &AppendToStreamOptions::default(),
///     )
///     .await?;
/// let events = client.get_stream("order:123", &ReadStreamOptions::default()).await?;
/// assert_eq!(events[0].r#type, "OrderCreated");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AsyncKurrentDBClient {
    conn: Arc<Connection>,
}

impl std::fmt::Debug for AsyncKurrentDBClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncKurrentDBClient")
            .field("settings", self.conn.settings())
            .finish()
    }
}

impl AsyncKurrentDBClient {
    /// Connects with a connection string, for example
    /// `kurrentdb://127.0.0.1:2113?tls=false` or
    /// `kurrentdb://admin:changeit@node1:2113,node2:2113,node3:2113`.
    ///
    /// With one endpoint the channel connects lazily, so this does not fail when
    /// the server is down (the first call does); with several endpoints or
    /// `+discover`, the cluster is discovered now. A malformed string gives
    /// [`Error::InvalidConnectionString`](crate::Error::InvalidConnectionString);
    /// an unreadable `tlsCaFile`, `userCertFile` or `userKeyFile` gives
    /// [`Error::Tls`](crate::Error::Tls).
    ///
    /// Needs a tokio runtime.
    ///
    /// ```no_run
    /// # async fn run() -> kurrentdbclient::Result<()> {
    /// let client =
    ///     kurrentdbclient::AsyncKurrentDBClient::connect("kurrentdb://127.0.0.1:2113?tls=false")
    ///         .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(uri: &str) -> Result<Self> {
        traced(
            client_span!("AsyncKurrentDBClient.connect", "client"),
            async {
                let settings: ConnectionSettings = uri.parse()?;
                Self::with_settings(settings).await
            },
        )
        .await
    }

    /// Connects with parsed settings (see [`connect`](Self::connect)).
    pub async fn with_settings(settings: ConnectionSettings) -> Result<Self> {
        traced(
            client_span!("AsyncKurrentDBClient.with_settings", "client"),
            async {
                Ok(AsyncKurrentDBClient {
                    conn: Connection::open(settings).await?,
                })
            },
        )
        .await
    }

    /// The settings the client was made with.
    pub fn settings(&self) -> &ConnectionSettings {
        self.conn.settings()
    }

    /// Closes the client (and every clone of it). Every later call, and every
    /// open read or subscription, gives
    /// [`Error::ClientClosed`](crate::Error::ClientClosed).
    pub fn close(&self) {
        self.conn.close();
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.conn.check_open().is_err()
    }
}
