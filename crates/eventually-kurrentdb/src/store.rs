//! [`KurrentDBEventStore`]: eventually's `EventStore` on KurrentDB.

use std::fmt::{self, Display};
use std::marker::PhantomData;
use std::str::FromStr;
use std::time::Duration;

use eventually_core::store::{EventStore, EventStream, Expected, Select};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, DeleteStreamOptions, GetCurrentVersionOptions,
    NewEvent, ReadStreamOptions, StreamState,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::codec::{from_recorded, to_new_event};
use crate::error::{EventStoreError, is_missing_stream, is_transient};

/// How many times an append is sent again after a transient failure.
const APPEND_RETRIES: u32 = 3;
/// The pause before the first retry (doubled for each later one).
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// An `eventually` event store on KurrentDB, for the aggregates of one type
/// (the *category*), through [`AsyncKurrentDBClient`].
///
/// - Aggregate `id` is the stream `<category>-<id>` (its `Display`), so that
///   `$ce-<category>` groups them; an event's version is one more than its
///   stream revision, and `Expected::Exact(v)` appends only to a stream at
///   version `v` (0: no stream), else fails with [`EventStoreError::Conflict`].
/// - Events are stored as their serde JSON, with their variant name as the
///   KurrentDB event type.
/// - `stream_all` reads `$ce-<category>` (KurrentDB's `$by_category`
///   projection must run): the sequence number is the event's position
///   there. `stream` reads the aggregate's own stream, where that position
///   is not known: its sequence number is the event's stream revision.
pub struct KurrentDBEventStore<Id, Event> {
    client: AsyncKurrentDBClient,
    category: String,
    _types: PhantomData<fn() -> (Id, Event)>,
}

impl<Id, Event> Clone for KurrentDBEventStore<Id, Event> {
    fn clone(&self) -> Self {
        KurrentDBEventStore {
            client: self.client.clone(),
            category: self.category.clone(),
            _types: PhantomData,
        }
    }
}

impl<Id, Event> fmt::Debug for KurrentDBEventStore<Id, Event> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KurrentDBEventStore")
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

impl<Id, Event> KurrentDBEventStore<Id, Event>
where
    Id: Display,
    Event: Serialize,
{
    /// A store of the aggregates of `category` on `client`'s KurrentDB.
    /// Fails with [`EventStoreError::InvalidCategory`] when `category` is
    /// empty, starts with `$` or contains `-`.
    pub fn new(client: AsyncKurrentDBClient, category: &str) -> Result<Self, EventStoreError> {
        if category.is_empty() || category.starts_with('$') || category.contains('-') {
            return Err(EventStoreError::InvalidCategory(category.to_owned()));
        }
        Ok(KurrentDBEventStore {
            client,
            category: category.to_owned(),
            _types: PhantomData,
        })
    }

    /// The category: the stream names' prefix.
    pub fn category(&self) -> &str {
        &self.category
    }

    /// The KurrentDB stream of aggregate `id`.
    pub fn stream_name(&self, id: &Id) -> Result<String, EventStoreError> {
        let id = id.to_string();
        if id.is_empty() {
            return Err(EventStoreError::EmptyId);
        }
        Ok(format!("{}-{id}", self.category))
    }

    /// [`append`](EventStore::append) as the commit `commit_id`: the event
    /// ids derive from the aggregate, the versions and `commit_id`, so that
    /// appending the same events again with the same `commit_id` at the same
    /// expected version (a retry after a lost answer) succeeds without
    /// writing them twice, while another commit there is a conflict.
    /// `append` itself uses a new random commit id, kept across its own
    /// retries.
    pub async fn append_as(
        &self,
        id: &Id,
        version: Expected,
        events: &[Event],
        commit_id: Uuid,
    ) -> Result<u32, EventStoreError> {
        let stream = self.stream_name(id)?;
        if events.is_empty() {
            return self.check_version(&stream, version).await;
        }
        let expected = match version {
            Expected::Any => StreamState::Any,
            Expected::Exact(0) => StreamState::NoStream,
            Expected::Exact(v) => StreamState::Version(u64::from(v) - 1),
        };
        // The first new event's version: known when exact, else the
        // stream's next (the ids need it; KurrentDB checks nothing then).
        let first = match version {
            Expected::Exact(v) => u64::from(v) + 1,
            Expected::Any => u64::from(self.check_version(&stream, Expected::Any).await?) + 1,
        };
        let id_text = id.to_string();
        let new_events = events
            .iter()
            .zip(first..)
            .map(|(event, v)| to_new_event(&self.category, &id_text, v, event, commit_id))
            .collect::<Result<Vec<NewEvent>, _>>()?;
        let written = self.append_retrying(&stream, expected, new_events).await;
        match written {
            Ok(result) => match result.next_expected_version {
                StreamState::Version(revision) => version_of(&stream, revision),
                _ => Ok(0),
            },
            Err(kurrentdbclient::Error::WrongCurrentVersion { actual, .. }) => {
                Err(EventStoreError::Conflict {
                    expected: match version {
                        Expected::Exact(v) => v,
                        Expected::Any => 0,
                    },
                    actual: match actual {
                        StreamState::Version(revision) => version_of(&stream, revision)?,
                        _ => 0,
                    },
                    stream,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The stream's version, checked against `version`.
    async fn check_version(&self, stream: &str, version: Expected) -> Result<u32, EventStoreError> {
        let current = match self
            .client
            .get_current_version(stream, &GetCurrentVersionOptions::default())
            .await
        {
            Ok(StreamState::Version(revision)) => version_of(stream, revision)?,
            Ok(_) => 0,
            Err(e) if is_missing_stream(&e) => 0,
            Err(e) => return Err(e.into()),
        };
        match version {
            Expected::Exact(v) if v != current => Err(EventStoreError::Conflict {
                stream: stream.to_owned(),
                expected: v,
                actual: current,
            }),
            _ => Ok(current),
        }
    }

    async fn append_retrying(
        &self,
        stream: &str,
        expected: StreamState,
        events: Vec<NewEvent>,
    ) -> kurrentdbclient::Result<kurrentdbclient::WriteResult> {
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
                result => return result,
            }
        }
    }
}

/// The version (revision + 1) of a stream revision, as `eventually`'s `u32`.
fn version_of(stream: &str, revision: u64) -> Result<u32, EventStoreError> {
    revision
        .checked_add(1)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| EventStoreError::InvalidStoredEvent {
            stream: stream.to_owned(),
            revision,
            reason: "version beyond u32".to_owned(),
        })
}

impl<Id, Event> EventStore for KurrentDBEventStore<Id, Event>
where
    Id: Eq + Display + FromStr + Clone + Send + Sync + 'static,
    Id::Err: Display,
    Event: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    type SourceId = Id;
    type Event = Event;
    type Error = EventStoreError;

    fn append(
        &mut self,
        id: Id,
        version: Expected,
        events: Vec<Event>,
    ) -> BoxFuture<'_, Result<u32, EventStoreError>> {
        async move { self.append_as(&id, version, &events, Uuid::new_v4()).await }.boxed()
    }

    fn stream(
        &self,
        id: Id,
        select: Select,
    ) -> BoxFuture<'_, Result<EventStream<'_, Self>, EventStoreError>> {
        async move {
            let stream = self.stream_name(&id)?;
            let from = match select {
                Select::All => 0,
                Select::From(v) => u64::from(v.saturating_sub(1)),
            };
            let options = ReadStreamOptions::default().stream_position(from);
            let read = match self.client.read_stream(&stream, &options).await {
                Ok(read) => read,
                Err(e) if is_missing_stream(&e) => return Ok(futures::stream::empty().boxed()),
                Err(e) => return Err(e.into()),
            };
            let category = self.category.clone();
            Ok(read
                .map(move |event| {
                    let event = event?;
                    from_recorded(&category, &event, event.stream_position)
                })
                .boxed())
        }
        .boxed()
    }

    fn stream_all(
        &self,
        select: Select,
    ) -> BoxFuture<'_, Result<EventStream<'_, Self>, EventStoreError>> {
        async move {
            let from = match select {
                Select::All => 0,
                Select::From(n) => u64::from(n),
            };
            let options = ReadStreamOptions::default()
                .stream_position(from)
                .resolve_links(true);
            let category_stream = format!("$ce-{}", self.category);
            let read = match self.client.read_stream(&category_stream, &options).await {
                Ok(read) => read,
                Err(e) if is_missing_stream(&e) => return Ok(futures::stream::empty().boxed()),
                Err(e) => return Err(e.into()),
            };
            let category = self.category.clone();
            Ok(read
                .filter_map(move |event| {
                    let item = match event {
                        // A link whose event is gone (its stream deleted) resolves to nothing.
                        Ok(event) if event.link.is_none() && event.stream_name.starts_with('$') => {
                            None
                        }
                        Ok(event) => {
                            let sequence = event
                                .link
                                .as_ref()
                                .map_or(event.stream_position, |link| link.stream_position);
                            Some(from_recorded(&category, &event, sequence))
                        }
                        Err(e) => Some(Err(e.into())),
                    };
                    futures::future::ready(item)
                })
                .boxed())
        }
        .boxed()
    }

    fn remove(&mut self, id: Id) -> BoxFuture<'_, Result<(), EventStoreError>> {
        async move {
            let stream = self.stream_name(&id)?;
            match self
                .client
                .delete_stream(&stream, StreamState::Any, &DeleteStreamOptions::default())
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if is_missing_stream(&e) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        .boxed()
    }
}
