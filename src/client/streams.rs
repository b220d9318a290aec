//! The streams services' operations: appends (v1 `Append`, v2
//! `AppendSession` and `AppendRecords`), reads, deletes, tombstones, stream
//! metadata and catch-up subscriptions. Requests are built and answers read
//! by [`crate::streams`].

use std::sync::Arc;

use futures::StreamExt;

use super::AsyncKurrentDBClient;
use super::call::CallKind;
use crate::error::{Error, Result};
use crate::metadata::{StreamMetadata, metadata_stream};
use crate::options::*;
use crate::proto::streams::ReadReq;
use crate::resume::{Reopen, Resume, connection_lost};
use crate::streams::{
    self, CatchupSubscription, ReadStream, SubscriptionMarkers, check_event_type, check_stream_name,
};
use crate::telemetry::{self, client_span, traced};
use crate::types::{
    AppendRecordsResult, NewEvent, NewEvents, NewRecord, RecordedEvent, StreamState,
    StreamStateCheck, WriteResult,
};

impl AsyncKurrentDBClient {
    /// Appends events to a stream, atomically, if the stream is in the state
    /// `current_version` says; returns a [`WriteResult`]: the stream's new
    /// version (the `current_version` of the next append) and the commit
    /// position of the last event.
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
    /// let result = client
    ///     .append_to_stream(
    ///         "student-1",
    ///         StreamState::NoStream,
    ///         [NewEvent::new("StudentRegistered", r#"{"name": "Greg"}"#)],
    ///         &AppendToStreamOptions::default(),
    ///     )
    ///     .await?;
    /// assert_eq!(result.next_expected_version, StreamState::Version(0));
    /// println!("written at {}", result.commit_position);
    /// # Ok(()) }
    /// ```
    pub async fn append_to_stream(
        &self,
        stream_name: &str,
        current_version: impl Into<StreamState>,
        events: impl IntoIterator<Item = NewEvent>,
        options: &AppendToStreamOptions,
    ) -> Result<WriteResult> {
        traced(
            client_span!("streams.append", "producer", stream_name),
            async {
                check_stream_name(stream_name)?;
                let current_version = current_version.into();
                let mut events: Vec<NewEvent> = events.into_iter().collect();
                for event in &events {
                    check_event_type(&event.r#type, event.id)?;
                }
                telemetry::propagate(
                    events
                        .iter_mut()
                        .map(|e| (&mut e.metadata, e.content_type.as_str())),
                );
                self.append_unchecked(stream_name, current_version, &events, options)
                    .await
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Appends without checking the event types (`set_stream_metadata`'s
    /// `$metadata` event is the client's own).
    async fn append_unchecked(
        &self,
        stream_name: &str,
        current_version: StreamState,
        events: &[NewEvent],
        options: &impl CallOptions,
    ) -> Result<WriteResult> {
        let requests = streams::append_requests(stream_name, current_version, events);
        let response = self
            .unary(CallKind::Write, options, requests, |call, r| async move {
                call.streams().append(r.map(futures::stream::iter)).await
            })
            .await?;
        streams::append_result(response, stream_name, current_version)
    }

    /// Appends events to several streams in one atomic transaction (v2
    /// `AppendSession`, KurrentDB 25.1+); returns an [`AppendRecordsResult`]:
    /// the commit position of the transaction and each stream's new position.
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
    ) -> Result<AppendRecordsResult> {
        traced(client_span!("streams.multi-append", "producer"), async {
            let mut events: Vec<NewEvents> = events.into_iter().collect();
            telemetry::propagate(
                events
                    .iter_mut()
                    .flat_map(|e| e.events.iter_mut())
                    .map(|e| (&mut e.metadata, e.content_type.as_str())),
            );
            let requests = streams::v2::append_session_requests(&events)?;
            let response = self
                .unary(CallKind::Write, options, requests, |call, r| async move {
                    call.v2().append_session(r.map(futures::stream::iter)).await
                })
                .await?;
            Ok(streams::v2::append_session_result(&response))
        })
        .await
    }

    /// Appends records to any streams, in any order, in one atomic transaction,
    /// if every consistency check holds (v2 `AppendRecords`, KurrentDB 26.1+);
    /// returns an [`AppendRecordsResult`]: the commit position of the
    /// transaction and each written stream's new position.
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
    ) -> Result<AppendRecordsResult> {
        traced(client_span!("streams.multi-append", "producer"), async {
            let mut records: Vec<NewRecord> = records.into_iter().collect();
            let checks: Vec<StreamStateCheck> = checks.into_iter().collect();
            telemetry::propagate(
                records
                    .iter_mut()
                    .map(|r| (&mut r.metadata, r.content_type.as_str())),
            );
            let request = streams::v2::append_records_request(&records, &checks)?;
            let response = self
                .unary(CallKind::Write, options, request, |call, r| async move {
                    call.v2().append_records(r).await
                })
                .await?;
            Ok(streams::v2::append_records_response(&response))
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
        traced(
            client_span!("AsyncKurrentDBClient.read_stream", "client", stream_name),
            async {
                self.read_stream_as(CallKind::Stream, stream_name, options)
                    .await
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// `read_stream` as a call of `kind`: a [`CallKind::Stream`] for the
    /// caller to consume, or a [`CallKind::Query`] read whole by `get_stream`.
    async fn read_stream_as(
        &self,
        kind: CallKind,
        stream_name: &str,
        options: &ReadStreamOptions,
    ) -> Result<ReadStream> {
        check_stream_name(stream_name)?;
        let request = streams::read_stream_request(stream_name, options);
        self.read(kind, options, request).await
    }

    /// Opens a read of `kind`: waits for its first event (or its end).
    async fn read(
        &self,
        kind: CallKind,
        options: &impl CallOptions,
        request: ReadReq,
    ) -> Result<ReadStream> {
        self.run(kind, options, |call| {
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
        traced(
            client_span!("AsyncKurrentDBClient.get_stream", "client", stream_name),
            async {
                // A `Query` call: the deadline bounds the opening and, kept by the
                // stream, the whole collection.
                self.read_stream_as(CallKind::Query, stream_name, options)
                    .await?
                    .collect_events()
                    .await
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
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
        traced(
            client_span!("AsyncKurrentDBClient.read_all", "client"),
            async {
                self.read(
                    CallKind::Stream,
                    options,
                    streams::read_all_request(options),
                )
                .await
            },
        )
        .await
    }

    /// Reads a secondary index in commit order, as the Python client's
    /// `read_index`: `"ce-<category>"` (the events of streams named
    /// `<category>-...`), `"et-<event type>"`, or `"all"`, with or without
    /// the `$idx-` prefix. It is a read of `$all` filtered by the stream-name
    /// prefix `$idx-<name>`, which KurrentDB (and the embedded server)
    /// answers from the index: the cost is that of the events read, not of
    /// `$all`. System events are never indexed; events come back unresolved.
    /// An index the node does not have (a user-defined one never created)
    /// is [`Error::NotFound`](crate::Error::NotFound); a category or type no
    /// event has is an empty index. A node older than the indexes reads it
    /// as a plain prefix filter and returns no events.
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::ReadIndexOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut events = client
    ///     .read_index("et-OrderPlaced", &ReadIndexOptions::default().limit(10))
    ///     .await?;
    /// while let Some(event) = events.next().await {
    ///     println!("{}", event?.stream_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_index(
        &self,
        index_name: &str,
        options: &ReadIndexOptions,
    ) -> Result<ReadStream> {
        traced(
            client_span!("AsyncKurrentDBClient.read_index", "client"),
            async {
                let options = options.to_read_all(index_name);
                let request = streams::read_all_request(&options);
                self.read(CallKind::Stream, &options, request).await
            },
        )
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
        traced(
            client_span!(
                "AsyncKurrentDBClient.get_current_version",
                "client",
                stream_name
            ),
            async {
                let last = self.last_event(stream_name, options).await?;
                Ok(last.map_or(StreamState::NoStream, |e| {
                    StreamState::Version(e.stream_position)
                }))
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// The last event of a stream, `None` when it has none or does not exist
    /// (read as `get_stream` reads, with the options' timeout and credentials).
    async fn last_event(
        &self,
        stream_name: &str,
        options: &impl CallOptions,
    ) -> Result<Option<RecordedEvent>> {
        let mut read = ReadStreamOptions::default().backwards(true).limit(1);
        read.timeout = options.call_timeout();
        read.credentials = options.call_credentials().cloned();
        match self.get_stream(stream_name, &read).await {
            Ok(events) => Ok(events.into_iter().next()),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.renamed_to(options.operation())),
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
        traced(
            client_span!("AsyncKurrentDBClient.get_commit_position", "client"),
            async {
                // A `Query` call: the deadline bounds the opening and, kept by the
                // stream, the read of the one event.
                let request = streams::last_commit_request(options);
                let mut events = self.read(CallKind::Query, options, request).await?;
                match events.next().await {
                    Some(event) => Ok(event?.commit_position.unwrap_or(0)),
                    None => Ok(0),
                }
            },
        )
        .await
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
        traced(
            client_span!("AsyncKurrentDBClient.delete_stream", "client", stream_name),
            async {
                check_stream_name(stream_name)?;
                let request = streams::delete_request(stream_name, current_version.into());
                self.unary(CallKind::Write, options, request, |call, r| async move {
                    call.streams().delete(r).await
                })
                .await?;
                Ok(())
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
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
        traced(
            client_span!(
                "AsyncKurrentDBClient.tombstone_stream",
                "client",
                stream_name
            ),
            async {
                check_stream_name(stream_name)?;
                let request = streams::tombstone_request(stream_name, current_version.into());
                self.unary(CallKind::Write, options, request, |call, r| async move {
                    call.streams().tombstone(r).await
                })
                .await?;
                Ok(())
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
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
        traced(
            client_span!(
                "AsyncKurrentDBClient.get_stream_metadata",
                "client",
                stream_name
            ),
            async {
                check_stream_name(stream_name)?;
                match self
                    .last_event(&metadata_stream(stream_name), options)
                    .await?
                {
                    Some(event) => StreamMetadata::from_event(&event),
                    None => Ok((StreamMetadata::default(), StreamState::NoStream)),
                }
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
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
        traced(
            client_span!(
                "AsyncKurrentDBClient.set_stream_metadata",
                "client",
                stream_name
            ),
            async {
                check_stream_name(stream_name)?;
                let event = metadata.to_event()?;
                let stream = metadata_stream(stream_name);
                self.append_unchecked(&stream, current_version.into(), &[event], options)
                    .await?;
                Ok(())
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Subscribes to all streams: the stored events from the start (or after a
    /// commit position, or only new ones with `from_end`), then live events, as
    /// a [`CatchupSubscription`]. System events are excluded by default.
    ///
    /// With the `retry` option ([`SubscriptionRetry`]) the subscription
    /// resubscribes by itself when its call is lost (a node stopped, a
    /// connection dropped), after the last event it delivered, so that every
    /// event comes once and in order; otherwise it ends with the error. A
    /// resumable subscription `from_end` starts after the end as it is when
    /// called (read first), so that none is skipped if it is lost before its
    /// first event.
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
        traced(client_span!("streams.subscribe", "consumer"), async {
            let options = &self.pin_end_of_all(options).await?;
            let request = streams::subscribe_to_all_request(options);
            let include = SubscriptionMarkers {
                checkpoints: options.include_checkpoints,
                caught_up: options.include_caught_up,
                fell_behind: options.include_fell_behind,
            };
            let subscription = self.subscribe(options, request, include).await?;
            let Some(retry) = options.retry else {
                return Ok(subscription);
            };
            let (client, options) = (self.clone(), options.clone());
            let reopen: Reopen<CatchupSubscription> = Arc::new(move |last| {
                let mut options = options.clone();
                if let Some(position) = last.and_then(|e| resume_after(e).1) {
                    options.commit_position = Some(position);
                    options.from_end = false;
                }
                let client = client.clone();
                Box::pin(async move {
                    let request = streams::subscribe_to_all_request(&options);
                    client.subscribe(&options, request, include).await
                })
            });
            Ok(subscription.resumable(Resume::new(retry, reopen, connection_lost)))
        })
        .await
    }

    /// Subscribes to a secondary index (see [`read_index`](Self::read_index)):
    /// a subscription to `$all` filtered by the stream-name prefix
    /// `$idx-<name>`, as the Python client's `subscribe_to_index`. It yields
    /// the index's events after `commit_position` (any position), then the
    /// new ones as they are written; the server sends no checkpoints on an
    /// index subscription.
    ///
    /// ```no_run
    /// # use futures::StreamExt;
    /// # use kurrentdbclient::{AsyncKurrentDBClient, options::SubscribeToIndexOptions};
    /// # async fn run(client: AsyncKurrentDBClient) -> kurrentdbclient::Result<()> {
    /// let mut subscription = client
    ///     .subscribe_to_index("et-OrderPlaced", &SubscribeToIndexOptions::default())
    ///     .await?;
    /// let first = subscription.next().await;
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_to_index(
        &self,
        index_name: &str,
        options: &SubscribeToIndexOptions,
    ) -> Result<CatchupSubscription> {
        traced(client_span!("streams.subscribe", "consumer"), async {
            let options = options.to_subscribe_to_all(index_name);
            let request = streams::subscribe_to_all_request(&options);
            let include = SubscriptionMarkers {
                checkpoints: false,
                caught_up: options.include_caught_up,
                fell_behind: options.include_fell_behind,
            };
            self.subscribe(&options, request, include).await
        })
        .await
    }

    /// Subscribes to one stream: its stored events from the start (or after a
    /// stream position, or only new ones with `from_end`), then live events.
    /// The `retry` option makes it resubscribe by itself after losing its
    /// call, as [`subscribe_to_all`](Self::subscribe_to_all) does.
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
        traced(
            client_span!("streams.subscribe", "consumer", stream_name),
            async {
                check_stream_name(stream_name)?;
                let options = &self.pin_end_of_stream(stream_name, options).await?;
                let request = streams::subscribe_to_stream_request(stream_name, options);
                let include = SubscriptionMarkers {
                    checkpoints: false,
                    caught_up: options.include_caught_up,
                    fell_behind: options.include_fell_behind,
                };
                let subscription = self.subscribe(options, request, include).await?;
                let Some(retry) = options.retry else {
                    return Ok(subscription);
                };
                let (client, options) = (self.clone(), options.clone());
                let stream_name = stream_name.to_owned();
                let reopen: Reopen<CatchupSubscription> = Arc::new(move |last| {
                    let mut options = options.clone();
                    if let Some(last) = last {
                        options.stream_position = Some(resume_after(last).0);
                        options.from_end = false;
                    }
                    let (client, stream_name) = (client.clone(), stream_name.clone());
                    Box::pin(async move {
                        let request = streams::subscribe_to_stream_request(&stream_name, &options);
                        client.subscribe(&options, request, include).await
                    })
                });
                Ok(subscription.resumable(Resume::new(retry, reopen, connection_lost)))
            },
        )
        .await
        .map_err(|e| e.on_stream(stream_name))
    }

    /// Opens a catch-up subscription: waits for the server's confirmation.
    async fn subscribe(
        &self,
        options: &impl CallOptions,
        request: ReadReq,
        include: SubscriptionMarkers,
    ) -> Result<CatchupSubscription> {
        self.run(CallKind::Stream, options, |call| {
            let request = request.clone();
            async move {
                let responses = call.read(request).await?;
                CatchupSubscription::open(responses, include, |id| call.consumer_tags(id)).await
            }
        })
        .await
    }
}

/// Where a resumed subscription starts after `event`, the last one it
/// delivered: its stream position and commit position in the subscribed
/// stream or `$all`, which are the link's when the event was resolved from a
/// link.
fn resume_after(event: &RecordedEvent) -> (u64, Option<u64>) {
    let recorded = event.link.as_deref().unwrap_or(event);
    (recorded.stream_position, recorded.commit_position)
}
