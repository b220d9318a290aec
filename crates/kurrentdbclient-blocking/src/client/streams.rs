//! The blocking twins of the streams service's calls: appends, reads, deletes,
//! stream metadata and catch-up subscriptions.

use kurrentdbclient::{
    AppendRecordsOptions, AppendRecordsResult, AppendToStreamOptions, DeleteStreamOptions,
    GetCommitPositionOptions, GetCurrentVersionOptions, GetStreamMetadataOptions,
    MultiAppendOptions, NewEvent, NewEvents, NewRecord, ReadAllOptions, ReadIndexOptions,
    ReadStreamOptions, RecordedEvent, Result, SetStreamMetadataOptions, StreamMetadata,
    StreamState, StreamStateCheck, SubscribeToAllOptions, SubscribeToIndexOptions,
    SubscribeToStreamOptions, TombstoneStreamOptions, WriteResult,
};

use super::KurrentDBClient;
use crate::iter::{CatchupSubscription, ReadStream};

// For the doc links to each method's async twin.
#[cfg(doc)]
use kurrentdbclient::AsyncKurrentDBClient;

impl KurrentDBClient {
    /// Appends events to a stream, atomically, if the stream is in the state
    /// `current_version` says; returns the stream's new version and the commit
    /// position of the last event (see [`AsyncKurrentDBClient::append_to_stream`]).
    ///
    /// A failed check gives
    /// [`Error::WrongCurrentVersion`](crate::Error::WrongCurrentVersion); a
    /// tombstoned stream gives
    /// [`Error::StreamIsDeleted`](crate::Error::StreamIsDeleted).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, NewEvent, StreamState, AppendToStreamOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let result = client.append_to_stream(
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
    ) -> Result<WriteResult> {
        self.block_on(self.async_client().append_to_stream(
            stream_name,
            current_version,
            events,
            options,
        ))
    }

    /// Appends events to several streams in one atomic transaction (v2
    /// `AppendSession`, KurrentDB 25.1+); returns the transaction's commit
    /// position and each stream's new position (see
    /// [`AsyncKurrentDBClient::multi_append_to_stream`]).
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
    ) -> Result<AppendRecordsResult> {
        self.block_on(self.async_client().multi_append_to_stream(events, options))
    }

    /// Appends records to any streams, in one atomic transaction, if every
    /// consistency check holds (v2 `AppendRecords`, KurrentDB 26.1+); returns
    /// the transaction's commit position and each stream's new position (see
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
    ) -> Result<AppendRecordsResult> {
        self.block_on(self.async_client().append_records(records, checks, options))
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
        self.block_on(self.async_client().read_stream(stream_name, options))
            .map(|events| ReadStream::new(events, self.shared()))
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
        self.block_on(self.async_client().get_stream(stream_name, options))
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
        self.block_on(self.async_client().read_all(options))
            .map(|events| ReadStream::new(events, self.shared()))
    }

    /// Reads a KurrentDB 25.1+ secondary index, as an [`Iterator`] (see
    /// [`AsyncKurrentDBClient::read_index`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, ReadIndexOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// for event in client.read_index("et-OrderPlaced", &ReadIndexOptions::default())? {
    ///     println!("{}", event?.stream_name);
    /// }
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn read_index(&self, index_name: &str, options: &ReadIndexOptions) -> Result<ReadStream> {
        self.block_on(self.async_client().read_index(index_name, options))
            .map(|events| ReadStream::new(events, self.shared()))
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
        self.block_on(
            self.async_client()
                .get_current_version(stream_name, options),
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
        self.block_on(self.async_client().get_commit_position(options))
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
        self.block_on(
            self.async_client()
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
        self.block_on(
            self.async_client()
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
        self.block_on(
            self.async_client()
                .get_stream_metadata(stream_name, options),
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
        self.block_on(self.async_client().set_stream_metadata(
            stream_name,
            metadata,
            current_version,
            options,
        ))
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
        self.block_on(self.async_client().subscribe_to_all(options))
            .map(|subscription| CatchupSubscription::new(subscription, self.shared()))
    }

    /// Subscribes to a KurrentDB 25.1+ secondary index, as an [`Iterator`] (see
    /// [`AsyncKurrentDBClient::subscribe_to_index`]).
    ///
    /// ```no_run
    /// # use kurrentdbclient_blocking::{KurrentDBClient, SubscribeToIndexOptions};
    /// # fn run(client: KurrentDBClient) -> kurrentdbclient_blocking::Result<()> {
    /// let mut subscription =
    ///     client.subscribe_to_index("et-OrderPlaced", &SubscribeToIndexOptions::default())?;
    /// let first = subscription.next();
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn subscribe_to_index(
        &self,
        index_name: &str,
        options: &SubscribeToIndexOptions,
    ) -> Result<CatchupSubscription> {
        self.block_on(self.async_client().subscribe_to_index(index_name, options))
            .map(|subscription| CatchupSubscription::new(subscription, self.shared()))
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
        self.block_on(
            self.async_client()
                .subscribe_to_stream(stream_name, options),
        )
        .map(|subscription| CatchupSubscription::new(subscription, self.shared()))
    }
}
