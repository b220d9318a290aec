//! [`AsyncKurrentDBClient`]: every operation of the async client.
//!
//! Each operation goes the same way: the options give the per-call timeout and
//! credentials; [`Connection::call_metadata`] builds the call's metadata (the one
//! place that does); the request is built by `streams` (or `streams::v2`); the
//! call runs through [`AsyncKurrentDBClient::run`], which applies the deadline,
//! retries once after a transient transport failure or a not-leader answer, and
//! maps statuses with [`Error::from_status`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

use crate::connection::settings::{ConnectionSettings, NodePreference};
use crate::connection::{Connection, NodeHandle};
use crate::error::{Error, Result};
use crate::metadata::StreamMetadata;
use crate::options::*;
use crate::proto::gossip::gossip_client::GossipClient;
use crate::proto::server_features::server_features_client::ServerFeaturesClient;
use crate::proto::shared::Empty;
use crate::proto::streams::streams_client::StreamsClient;
use crate::proto::v2::streams_service_client::StreamsServiceClient;
use crate::server::{ClusterMember, ServerInfo};
use crate::streams::{
    self, CatchupSubscription, Filter, ReadFrom, ReadStream, ResponseStream, check_event_type,
    check_stream_name,
};
use crate::types::{NewEvent, NewEvents, NewRecord, RecordedEvent, StreamState, StreamStateCheck};

/// The largest message the client accepts (KurrentDB events can be up to 16 MiB).
const MAX_DECODING_MESSAGE_SIZE: usize = 17 * 1024 * 1024;
/// The pause before retrying a call.
const RETRY_DELAY: Duration = Duration::from_millis(100);

/// One attempt of a call: the node to send to, the metadata, the deadline.
pub(crate) struct Call {
    node: NodeHandle,
    metadata: MetadataMap,
    deadline: Option<Instant>,
    closed: tokio::sync::watch::Receiver<bool>,
}

impl Call {
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.metadata.clone();
        if let Some(deadline) = self.deadline {
            request.set_timeout(deadline.saturating_duration_since(Instant::now()));
        }
        request
    }

    pub(crate) fn channel(&self) -> Channel {
        self.node.channel.clone()
    }

    fn streams(&self) -> StreamsClient<Channel> {
        StreamsClient::new(self.channel()).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    fn v2(&self) -> StreamsServiceClient<Channel> {
        StreamsServiceClient::new(self.channel())
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
    }

    /// Opens a `Read` call and wraps its responses.
    async fn read(&self, request: crate::proto::streams::ReadReq) -> Result<ResponseStream> {
        let responses = self
            .streams()
            .read(self.request(request))
            .await?
            .into_inner();
        Ok(ResponseStream::new(
            responses,
            self.deadline,
            self.closed.clone(),
        ))
    }
}

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
    /// [`Error::InvalidConnectionString`]; an unreadable `tlsCaFile`,
    /// `userCertFile` or `userKeyFile` gives [`Error::Tls`].
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
        let settings: ConnectionSettings = uri.parse()?;
        Self::with_settings(settings).await
    }

    /// Connects with parsed settings (see [`connect`](Self::connect)).
    pub async fn with_settings(settings: ConnectionSettings) -> Result<Self> {
        Ok(AsyncKurrentDBClient {
            conn: Connection::open(settings).await?,
        })
    }

    /// The settings the client was made with.
    pub fn settings(&self) -> &ConnectionSettings {
        self.conn.settings()
    }

    /// Closes the client (and every clone of it). Every later call, and every
    /// open read or subscription, gives [`Error::ClientClosed`].
    pub fn close(&self) {
        self.conn.close();
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.conn.check_open().is_err()
    }

    /// Runs one call: builds its metadata (refusing credentials over an insecure
    /// connection before anything is sent), applies the deadline, and retries
    /// once when the outcome is unknown after a transient transport failure
    /// (with the same request, so appends keep their event ids and stay
    /// idempotent), or when a not-leader node names the leader.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        options: &impl CallOptions,
        requires_leader: bool,
        use_default_deadline: bool,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut(Call) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let conn = &self.conn;
        conn.check_open()?;
        let metadata = conn.call_metadata(options.call_credentials(), requires_leader)?;
        let deadline = conn
            .timeout(options.call_timeout(), use_default_deadline)
            .map(|t| Instant::now() + t);
        let mut retried = false;
        loop {
            let node = conn.current().await?;
            let generation = node.generation;
            let endpoint = node.endpoint.clone();
            let call = Call {
                node,
                metadata: metadata.clone(),
                deadline,
                closed: conn.closed_signal(),
            };
            let outcome = attempt(call);
            let result = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, outcome)
                    .await
                    .unwrap_or(Err(Error::DeadlineExceeded)),
                None => outcome.await,
            };
            let err = match result {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if retried || conn.check_open().is_err() {
                return Err(if conn.check_open().is_err() {
                    Error::ClientClosed
                } else {
                    err
                });
            }
            match &err {
                Error::NodeIsNotLeader { leader, .. }
                    if conn.settings().node_preference() == NodePreference::Leader
                        && !conn.is_direct() =>
                {
                    tracing::debug!(%endpoint, ?leader, "node is not leader: reconnecting");
                    conn.reconnect(Some(generation), leader.clone()).await?;
                }
                e if e.is_transient() => {
                    tracing::debug!(%endpoint, error = %e, "transient failure: retrying once");
                    conn.reconnect(Some(generation), None).await?;
                }
                _ => return Err(err),
            }
            retried = true;
            tokio::time::sleep(RETRY_DELAY).await;
        }
    }

    /// Appends events to a stream, atomically, if the stream is in the state
    /// `current_version` says; returns the commit position of the last event.
    ///
    /// A failed check gives [`Error::WrongCurrentVersion`] with the stream, the
    /// expected and the actual version; a tombstoned stream gives
    /// [`Error::StreamIsDeleted`]. Retrying with the same events (same ids) and
    /// the same `current_version` writes nothing twice, which is why the client
    /// itself retries once when the outcome is unknown.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState, options::AppendToStreamOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let commit_position = client
    ///     .append_to_stream(
    ///         "student-1",
    ///         StreamState::NoStream,
    ///         [NewEvent::new("StudentRegistered", r#"{"name": "Greg"}"#)],
    ///         &AppendToStreamOptions::default(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: impl Into<StreamState>,
        events: impl IntoIterator<Item = NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<u64> {
        check_stream_name(stream_name)?;
        let current_version = current_version.into();
        let events: Vec<NewEvent> = events.into_iter().collect();
        for event in &events {
            check_event_type(&event.r#type, event.id)?;
        }
        self.append_unchecked(stream_name, current_version, &events, options)
            .await
    }

    async fn append_unchecked(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: &[NewEvent],
        options: &impl CallOptions,
    ) -> Result<u64> {
        let requests = streams::append_requests(stream_name, current_version, events);
        self.run(options, true, true, |call| {
            let requests = requests.clone();
            async move {
                let body = futures::stream::iter(requests);
                let response = call.streams().append(call.request(body)).await?;
                streams::append_result(response.into_inner(), stream_name, current_version)
            }
        })
        .await
    }

    /// Appends events to several streams in one atomic transaction (v2
    /// `AppendSession`, KurrentDB 25.1+); returns the commit position of the last
    /// event.
    ///
    /// Checked before sending: a stream named twice gives
    /// [`Error::MultiAppendToSameStream`]; event metadata must be empty or a JSON
    /// object of strings, else [`Error::Programming`]. A failed version check
    /// gives [`Error::WrongCurrentVersion`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, NewEvents, StreamState, options::MultiAppendOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .multi_append_to_stream(
    ///         vec![
    ///             NewEvents::new("course-1", [NewEvent::new("CourseCreated", r#"{"name": "French"}"#)], StreamState::NoStream),
    ///             NewEvents::new("course-2", [NewEvent::new("CourseCreated", r#"{"name": "German"}"#)], StreamState::NoStream),
    ///         ],
    ///         &MultiAppendOptions::default(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn multi_append_to_stream(
        &self,
        events: impl IntoIterator<Item = NewEvents>,
        options: &MultiAppendOptions,
    ) -> Result<u64> {
        let events: Vec<NewEvents> = events.into_iter().collect();
        let requests = streams::v2::append_session_requests(&events)?;
        self.run(options, true, true, |call| {
            let requests = requests.clone();
            async move {
                let body = futures::stream::iter(requests);
                let response = call.v2().append_session(call.request(body)).await?;
                Ok(position_to_u64(response.into_inner().position))
            }
        })
        .await
    }

    /// Appends records to any streams, in any order, in one atomic transaction,
    /// if every consistency check holds (v2 `AppendRecords`, KurrentDB 26.1+);
    /// returns the commit position of the last record.
    ///
    /// Failed checks give [`Error::ConsistencyChecksFailed`] listing every
    /// failure (check index, stream, expected and actual state). Metadata must be
    /// empty or a JSON object of strings, else [`Error::Programming`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, NewRecord, StreamState, StreamStateCheck, options::AppendRecordsOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// client
    ///     .append_records(
    ///         [NewRecord::new("student-2", "StudentRegistered", r#"{"name": "Joe"}"#)],
    ///         [StreamStateCheck::new("student-2", StreamState::NoStream)],
    ///         &AppendRecordsOptions::default(),
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn append_records(
        &self,
        records: impl IntoIterator<Item = NewRecord>,
        checks: impl IntoIterator<Item = StreamStateCheck>,
        options: &AppendRecordsOptions,
    ) -> Result<u64> {
        let records: Vec<NewRecord> = records.into_iter().collect();
        let checks: Vec<StreamStateCheck> = checks.into_iter().collect();
        let request = streams::v2::append_records_request(&records, &checks)?;
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                let response = call.v2().append_records(call.request(request)).await?;
                Ok(position_to_u64(response.into_inner().position))
            }
        })
        .await
    }

    /// Reads a stream's events. Awaiting this waits for the first event, so a
    /// stream that does not exist gives [`Error::NotFound`] here; a tombstoned
    /// one gives [`Error::StreamIsDeleted`].
    ///
    /// Only the per-call `timeout` applies (not `defaultDeadline`), to the whole
    /// read.
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::ReadStreamOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut events = client.read_stream("order:123", &ReadStreamOptions::default()).await?;
    /// while let Some(event) = events.next().await {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<ReadStream> {
        self.read_stream_impl(stream_name, options, false).await
    }

    async fn read_stream_impl(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
        use_default_deadline: bool,
    ) -> Result<ReadStream> {
        check_stream_name(stream_name)?;
        let request = streams::read_request(
            &ReadFrom::Stream {
                name: stream_name.to_owned(),
                position: options.stream_position,
                from_end: false,
            },
            options.backwards,
            options.resolve_links,
            options.limit,
            false,
            None,
        );
        self.run(options, false, use_default_deadline, |call| {
            let request = request.clone();
            async move { ReadStream::open(call.read(request).await?).await }
        })
        .await
    }

    /// Reads a stream's events into a `Vec` (see [`read_stream`](Self::read_stream)).
    /// `defaultDeadline` applies when no `timeout` is given.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::ReadStreamOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let last_two = client
    ///     .get_stream("order:123", &ReadStreamOptions::default().backwards(true).limit(2))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_stream(
        &self,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<Vec<RecordedEvent>> {
        let timeout = self.conn.timeout(options.timeout, true);
        let work = async {
            self.read_stream_impl(stream_name, options, true)
                .await?
                .collect_events()
                .await
        };
        with_timeout(timeout, work).await
    }

    /// Reads the events of all streams (`$all`) in commit order, filtered. By
    /// default system events are excluded
    /// ([`DEFAULT_EXCLUDE_FILTER`](crate::options::DEFAULT_EXCLUDE_FILTER)).
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::ReadAllOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let options = ReadAllOptions::default()
    ///     .filter_include(["Order.*"])
    ///     .limit(100);
    /// let mut events = client.read_all(&options).await?;
    /// while let Some(event) = events.next().await {
    ///     let event = event?;
    ///     println!("{} {}", event.stream_name, event.r#type);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_all(&self, options: &ReadAllOptions) -> Result<ReadStream> {
        let filter = Filter {
            include: options.filter_include.clone(),
            exclude: options.effective_exclude(),
            by_stream_name: options.filter_by_stream_name,
            by_prefix: options.filter_by_prefix,
            window_size: DEFAULT_WINDOW_SIZE,
            checkpoint_interval_multiplier: DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER,
        };
        let request = streams::read_request(
            &ReadFrom::All {
                commit_position: options.commit_position,
                from_end: false,
            },
            options.backwards,
            options.resolve_links,
            options.limit,
            false,
            Some(&filter),
        );
        self.run(options, false, false, |call| {
            let request = request.clone();
            async move { ReadStream::open(call.read(request).await?).await }
        })
        .await
    }

    /// The stream's current version: the position of its last event, or
    /// [`StreamState::NoStream`] when it does not exist (never written, or
    /// deleted).
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::GetCurrentVersionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let current_version = client
    ///     .get_current_version("order-123", &GetCurrentVersionOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_current_version(
        &self,
        stream_name: &str,
        options: &GetCurrentVersionOptions,
    ) -> Result<StreamState> {
        let mut read = ReadStreamOptions::default().backwards(true).limit(1);
        read.timeout = options.timeout;
        read.credentials = options.credentials.clone();
        match self.get_stream(stream_name, &read).await {
            Ok(events) => Ok(events.first().map_or(StreamState::NoStream, |e| {
                StreamState::Version(e.stream_position)
            })),
            Err(Error::NotFound { .. }) => Ok(StreamState::NoStream),
            Err(e) => Err(e),
        }
    }

    /// The database's current commit position: that of the last event matching
    /// the filters (by default, the last non-system event), or 0 when there is
    /// none.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::GetCommitPositionOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let commit_position = client
    ///     .get_commit_position(&GetCommitPositionOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_commit_position(&self, options: &GetCommitPositionOptions) -> Result<u64> {
        let mut read = ReadAllOptions::default().backwards(true).limit(1);
        read.filter_include = options.filter_include.clone();
        read.filter_exclude = options.filter_exclude.clone();
        read.filter_by_stream_name = options.filter_by_stream_name;
        read.timeout = options.timeout;
        read.credentials = options.credentials.clone();
        let timeout = self.conn.timeout(options.timeout, true);
        let work = async {
            let mut events = self.read_all(&read).await?;
            match events.next().await {
                Some(event) => Ok(event?.commit_position.unwrap_or(0)),
                None => Ok(0),
            }
        };
        with_timeout(timeout, work).await
    }

    /// Soft-deletes a stream, if it is in the state `current_version` says: it
    /// reads as not found, and can be appended to again (its positions continue).
    ///
    /// A failed check gives [`Error::WrongCurrentVersion`]; deleting a stream
    /// that does not exist with an exact version gives [`Error::NotFound`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::*};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let current_version = client
    ///     .get_current_version("order-123", &GetCurrentVersionOptions::default())
    ///     .await?;
    /// client
    ///     .delete_stream("order-123", current_version, &DeleteStreamOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_stream(
        &self,
        stream_name: &str,
        current_version: impl Into<StreamState>,
        options: &DeleteStreamOptions,
    ) -> Result<()> {
        check_stream_name(stream_name)?;
        let request = streams::delete_request(stream_name, current_version.into());
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                call.streams().delete(call.request(request)).await?;
                Ok(())
            }
        })
        .await
    }

    /// Hard-deletes (tombstones) a stream, if it is in the state
    /// `current_version` says. The name can never be used again: later appends
    /// and reads give [`Error::StreamIsDeleted`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::*};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let current_version = client
    ///     .get_current_version("order-123", &GetCurrentVersionOptions::default())
    ///     .await?;
    /// client
    ///     .tombstone_stream("order-123", current_version, &TombstoneStreamOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn tombstone_stream(
        &self,
        stream_name: &str,
        current_version: impl Into<StreamState>,
        options: &TombstoneStreamOptions,
    ) -> Result<()> {
        check_stream_name(stream_name)?;
        let request = streams::tombstone_request(stream_name, current_version.into());
        self.run(options, true, true, |call| {
            let request = request.clone();
            async move {
                call.streams().tombstone(call.request(request)).await?;
                Ok(())
            }
        })
        .await
    }

    /// A stream's metadata, with the version of its metadata stream (for the
    /// consistency check of [`set_stream_metadata`](Self::set_stream_metadata)).
    /// A stream without metadata gives empty metadata and
    /// [`StreamState::NoStream`].
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::*};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let (mut metadata, version) = client
    ///     .get_stream_metadata("order-123", &GetStreamMetadataOptions::default())
    ///     .await?;
    /// metadata.custom.insert("foo".into(), "bar".into());
    /// client
    ///     .set_stream_metadata("order-123", &metadata, version, &SetStreamMetadataOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_stream_metadata(
        &self,
        stream_name: &str,
        options: &GetStreamMetadataOptions,
    ) -> Result<(StreamMetadata, StreamState)> {
        check_stream_name(stream_name)?;
        let mut read = ReadStreamOptions::default().backwards(true).limit(1);
        read.timeout = options.timeout;
        read.credentials = options.credentials.clone();
        let events = match self.get_stream(&metadata_stream(stream_name), &read).await {
            Ok(events) => events,
            Err(Error::NotFound { .. }) => {
                return Ok((StreamMetadata::default(), StreamState::NoStream));
            }
            Err(e) => return Err(e),
        };
        let Some(event) = events.into_iter().next() else {
            return Ok((StreamMetadata::default(), StreamState::NoStream));
        };
        let json: serde_json::Value = serde_json::from_slice(&event.data)
            .map_err(|e| Error::Protocol(format!("stream metadata is not JSON: {e}")))?;
        Ok((
            StreamMetadata::from_json(&json)?,
            StreamState::Version(event.stream_position),
        ))
    }

    /// Sets a stream's metadata (appends a `$metadata` event to `$$<stream>`), if
    /// the metadata stream is in the state `current_version` says. Works for
    /// streams that do not exist yet.
    ///
    /// See [`get_stream_metadata`](Self::get_stream_metadata) for an example.
    pub async fn set_stream_metadata(
        &self,
        stream_name: &str,
        metadata: &StreamMetadata,
        current_version: impl Into<StreamState>,
        options: &SetStreamMetadataOptions,
    ) -> Result<()> {
        check_stream_name(stream_name)?;
        let data = serde_json::to_vec(&metadata.to_json())
            .map_err(|e| Error::Programming(format!("stream metadata: {e}")))?;
        let event = NewEvent::new("$metadata", data);
        self.append_unchecked(
            &metadata_stream(stream_name),
            current_version.into(),
            &[event],
            options,
        )
        .await?;
        Ok(())
    }

    /// Subscribes to all streams: the stored events from the start (or after a
    /// commit position, or only new ones with `from_end`), then live events, as
    /// a [`CatchupSubscription`]. System events are excluded by default.
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, SubscriptionItem, options::SubscribeToAllOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut subscription = client
    ///     .subscribe_to_all(&SubscribeToAllOptions::default().include_caught_up(true))
    ///     .await?;
    /// while let Some(item) = subscription.next().await {
    ///     match item? {
    ///         SubscriptionItem::Event(event) => println!("{}", event.r#type),
    ///         SubscriptionItem::CaughtUp(_) => break,
    ///         _ => {}
    ///     }
    /// }
    /// subscription.stop();
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_to_all(
        &self,
        options: &SubscribeToAllOptions,
    ) -> Result<CatchupSubscription> {
        let filter = Filter {
            include: options.filter_include.clone(),
            exclude: options.effective_exclude(),
            by_stream_name: options.filter_by_stream_name,
            by_prefix: options.filter_by_prefix,
            window_size: options.window_size.unwrap_or(DEFAULT_WINDOW_SIZE),
            checkpoint_interval_multiplier: options
                .checkpoint_interval_multiplier
                .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL_MULTIPLIER),
        };
        let request = streams::read_request(
            &ReadFrom::All {
                commit_position: options.commit_position,
                from_end: options.from_end,
            },
            false,
            options.resolve_links,
            None,
            true,
            Some(&filter),
        );
        let (checkpoints, caught_up) = (options.include_checkpoints, options.include_caught_up);
        self.run(options, false, false, |call| {
            let request = request.clone();
            async move {
                CatchupSubscription::open(call.read(request).await?, checkpoints, caught_up).await
            }
        })
        .await
    }

    /// Subscribes to one stream: its stored events from the start (or after a
    /// stream position, or only new ones with `from_end`), then live events.
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, SubscriptionItem, options::SubscribeToStreamOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut subscription = client
    ///     .subscribe_to_stream("order-123", &SubscribeToStreamOptions::default())
    ///     .await?;
    /// if let Some(SubscriptionItem::Event(event)) = subscription.next().await.transpose()? {
    ///     println!("{}", event.r#type);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_to_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<CatchupSubscription> {
        check_stream_name(stream_name)?;
        let request = streams::read_request(
            &ReadFrom::Stream {
                name: stream_name.to_owned(),
                position: options.stream_position,
                from_end: options.from_end,
            },
            false,
            options.resolve_links,
            None,
            true,
            None,
        );
        let caught_up = options.include_caught_up;
        self.run(options, false, false, |call| {
            let request = request.clone();
            async move {
                CatchupSubscription::open(call.read(request).await?, false, caught_up).await
            }
        })
        .await
    }

    /// The cluster's members, as the current node's gossip reports them.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::ReadGossipOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// for member in client.read_gossip(&ReadGossipOptions::default()).await? {
    ///     println!("{}:{} {:?}", member.address, member.port, member.state);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_gossip(&self, options: &ReadGossipOptions) -> Result<Vec<ClusterMember>> {
        self.run(options, false, true, |call| async move {
            let info = GossipClient::new(call.channel())
                .read(call.request(Empty {}))
                .await?
                .into_inner();
            Ok(info
                .members
                .into_iter()
                .map(ClusterMember::from_proto)
                .collect())
        })
        .await
    }

    /// The server's version and the methods and features it supports.
    ///
    /// ```no_run
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::GetServerInfoOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let info = client.get_server_info(&GetServerInfoOptions::default()).await?;
    /// println!("KurrentDB {}", info.version);
    /// # Ok(()) }
    /// ```
    pub async fn get_server_info(&self, options: &GetServerInfoOptions) -> Result<ServerInfo> {
        self.run(options, false, true, |call| async move {
            let methods = ServerFeaturesClient::new(call.channel())
                .get_supported_methods(call.request(Empty {}))
                .await?
                .into_inner();
            Ok(ServerInfo::from_proto(methods))
        })
        .await
    }
}

fn metadata_stream(stream_name: &str) -> String {
    format!("$${stream_name}")
}

fn position_to_u64(position: i64) -> u64 {
    u64::try_from(position).unwrap_or(0)
}

async fn with_timeout<T>(
    timeout: Option<Duration>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        Some(t) => tokio::time::timeout(t, work)
            .await
            .unwrap_or(Err(Error::DeadlineExceeded)),
        None => work.await,
    }
}
