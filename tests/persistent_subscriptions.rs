//! Persistent subscriptions, end to end, against the embedded server. Each
//! scenario is written once, against the [`Api`] trait, and run through both
//! the async client ([`AsyncApi`]: the async calls driven by a runtime of its
//! own) and the blocking client ([`BlockingApi`]), each on its own thread with
//! a time limit.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::*;
use kurrentdbclient::persistent::*;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, Error, NewEvent, ReadStreamOptions, RecordedEvent,
    Result, StreamState,
};
use kurrentdbclient_blocking::KurrentDBClient;

/// What a scenario needs of a client.
trait Api {
    /// A consumer.
    type Sub: Sub;
    fn append(&self, stream: &str, n: usize) -> Vec<Uuid>;
    fn get_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>>;
    fn create_stream(
        &self,
        group: &str,
        stream: &str,
        o: &CreateSubscriptionToStreamOptions,
    ) -> Result<()>;
    fn create_all(&self, group: &str, o: &CreateSubscriptionToAllOptions) -> Result<()>;
    fn read_stream(&self, group: &str, stream: &str) -> Result<Self::Sub>;
    fn read_all(&self, group: &str) -> Result<Self::Sub>;
    fn update_stream(
        &self,
        group: &str,
        stream: &str,
        o: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()>;
    fn delete(&self, group: &str, stream: Option<&str>) -> Result<()>;
    fn info(&self, group: &str, stream: Option<&str>) -> Result<SubscriptionInfo>;
    fn list(&self) -> Result<Vec<SubscriptionInfo>>;
    fn list_stream(&self, stream: &str) -> Result<Vec<SubscriptionInfo>>;
    fn replay(&self, group: &str, stream: Option<&str>) -> Result<()>;
    fn restart(&self) -> Result<()>;
}

/// What a scenario needs of a consumer.
trait Sub {
    fn next_event(&mut self) -> RecordedEvent;
    fn ack(&self, id: Uuid);
    fn nack(&self, id: Uuid, action: NackAction);
    fn stop(&mut self);
    fn id(&self) -> String;
}

// ---- the async client ----------------------------------------------------------

struct AsyncApi {
    rt: tokio::runtime::Runtime,
    client: AsyncKurrentDBClient,
}

struct AsyncSub {
    rt: tokio::runtime::Handle,
    inner: kurrentdbclient::PersistentSubscription,
}

impl Sub for AsyncSub {
    fn next_event(&mut self) -> RecordedEvent {
        let inner = &mut self.inner;
        self.rt
            .block_on(inner.next())
            .expect("the subscription ended")
            .expect("an event")
    }
    fn ack(&self, id: Uuid) {
        self.inner.ack(id).unwrap();
    }
    fn nack(&self, id: Uuid, action: NackAction) {
        self.inner.nack(id, action).unwrap();
    }
    fn stop(&mut self) {
        let inner = &mut self.inner;
        self.rt.block_on(inner.stop());
    }
    fn id(&self) -> String {
        self.inner.subscription_id().to_owned()
    }
}

impl Api for AsyncApi {
    type Sub = AsyncSub;
    fn append(&self, stream: &str, n: usize) -> Vec<Uuid> {
        let events: Vec<NewEvent> = (0..n)
            .map(|i| NewEvent::new("Test", format!("{{\"n\":{i}}}")))
            .collect();
        let ids = events.iter().map(|e| e.id).collect();
        self.rt
            .block_on(self.client.append_to_stream(
                stream,
                StreamState::Any,
                events,
                &AppendToStreamOptions::default(),
            ))
            .unwrap();
        ids
    }
    fn get_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>> {
        self.rt.block_on(
            self.client
                .get_stream(stream, &ReadStreamOptions::default()),
        )
    }
    fn create_stream(
        &self,
        group: &str,
        stream: &str,
        o: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.rt
            .block_on(self.client.create_subscription_to_stream(group, stream, o))
    }
    fn create_all(&self, group: &str, o: &CreateSubscriptionToAllOptions) -> Result<()> {
        self.rt
            .block_on(self.client.create_subscription_to_all(group, o))
    }
    fn read_stream(&self, group: &str, stream: &str) -> Result<AsyncSub> {
        let inner = self.rt.block_on(self.client.read_subscription_to_stream(
            group,
            stream,
            &ReadSubscriptionOptions::default(),
        ))?;
        Ok(AsyncSub {
            rt: self.rt.handle().clone(),
            inner,
        })
    }
    fn read_all(&self, group: &str) -> Result<AsyncSub> {
        let inner = self.rt.block_on(
            self.client
                .read_subscription_to_all(group, &ReadSubscriptionOptions::default()),
        )?;
        Ok(AsyncSub {
            rt: self.rt.handle().clone(),
            inner,
        })
    }
    fn update_stream(
        &self,
        group: &str,
        stream: &str,
        o: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.rt
            .block_on(self.client.update_subscription_to_stream(group, stream, o))
    }
    fn delete(&self, group: &str, stream: Option<&str>) -> Result<()> {
        self.rt.block_on(self.client.delete_subscription(
            group,
            stream,
            &DeleteSubscriptionOptions::default(),
        ))
    }
    fn info(&self, group: &str, stream: Option<&str>) -> Result<SubscriptionInfo> {
        self.rt.block_on(self.client.get_subscription_info(
            group,
            stream,
            &GetSubscriptionInfoOptions::default(),
        ))
    }
    fn list(&self) -> Result<Vec<SubscriptionInfo>> {
        self.rt.block_on(
            self.client
                .list_subscriptions(&ListSubscriptionsOptions::default()),
        )
    }
    fn list_stream(&self, stream: &str) -> Result<Vec<SubscriptionInfo>> {
        self.rt.block_on(
            self.client
                .list_subscriptions_to_stream(stream, &ListSubscriptionsOptions::default()),
        )
    }
    fn replay(&self, group: &str, stream: Option<&str>) -> Result<()> {
        self.rt.block_on(self.client.replay_parked_events(
            group,
            stream,
            &ReplayParkedEventsOptions::default(),
        ))
    }
    fn restart(&self) -> Result<()> {
        self.rt
            .block_on(self.client.restart_persistent_subscription_subsystem(
                &RestartPersistentSubscriptionSubsystemOptions::default(),
            ))
    }
}

// ---- the blocking client -------------------------------------------------------

struct BlockingApi {
    client: KurrentDBClient,
}

struct BlockingSub {
    inner: kurrentdbclient_blocking::PersistentSubscription,
}

impl Sub for BlockingSub {
    fn next_event(&mut self) -> RecordedEvent {
        self.inner
            .next()
            .expect("the subscription ended")
            .expect("an event")
    }
    fn ack(&self, id: Uuid) {
        self.inner.ack(id).unwrap();
    }
    fn nack(&self, id: Uuid, action: NackAction) {
        self.inner.nack(id, action).unwrap();
    }
    fn stop(&mut self) {
        self.inner.stop();
    }
    fn id(&self) -> String {
        self.inner.subscription_id().to_owned()
    }
}

impl Api for BlockingApi {
    type Sub = BlockingSub;
    fn append(&self, stream: &str, n: usize) -> Vec<Uuid> {
        let events: Vec<NewEvent> = (0..n)
            .map(|i| NewEvent::new("Test", format!("{{\"n\":{i}}}")))
            .collect();
        let ids = events.iter().map(|e| e.id).collect();
        self.client
            .append_to_stream(
                stream,
                StreamState::Any,
                events,
                &AppendToStreamOptions::default(),
            )
            .unwrap();
        ids
    }
    fn get_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>> {
        self.client
            .get_stream(stream, &ReadStreamOptions::default())
    }
    fn create_stream(
        &self,
        group: &str,
        stream: &str,
        o: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.client.create_subscription_to_stream(group, stream, o)
    }
    fn create_all(&self, group: &str, o: &CreateSubscriptionToAllOptions) -> Result<()> {
        self.client.create_subscription_to_all(group, o)
    }
    fn read_stream(&self, group: &str, stream: &str) -> Result<BlockingSub> {
        let inner = self.client.read_subscription_to_stream(
            group,
            stream,
            &ReadSubscriptionOptions::default(),
        )?;
        Ok(BlockingSub { inner })
    }
    fn read_all(&self, group: &str) -> Result<BlockingSub> {
        let inner = self
            .client
            .read_subscription_to_all(group, &ReadSubscriptionOptions::default())?;
        Ok(BlockingSub { inner })
    }
    fn update_stream(
        &self,
        group: &str,
        stream: &str,
        o: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        self.client.update_subscription_to_stream(group, stream, o)
    }
    fn delete(&self, group: &str, stream: Option<&str>) -> Result<()> {
        self.client
            .delete_subscription(group, stream, &DeleteSubscriptionOptions::default())
    }
    fn info(&self, group: &str, stream: Option<&str>) -> Result<SubscriptionInfo> {
        self.client
            .get_subscription_info(group, stream, &GetSubscriptionInfoOptions::default())
    }
    fn list(&self) -> Result<Vec<SubscriptionInfo>> {
        self.client
            .list_subscriptions(&ListSubscriptionsOptions::default())
    }
    fn list_stream(&self, stream: &str) -> Result<Vec<SubscriptionInfo>> {
        self.client
            .list_subscriptions_to_stream(stream, &ListSubscriptionsOptions::default())
    }
    fn replay(&self, group: &str, stream: Option<&str>) -> Result<()> {
        self.client
            .replay_parked_events(group, stream, &ReplayParkedEventsOptions::default())
    }
    fn restart(&self) -> Result<()> {
        self.client.restart_persistent_subscription_subsystem(
            &RestartPersistentSubscriptionSubsystemOptions::default(),
        )
    }
}

// ---- running a scenario both ways ---------------------------------------------

/// Runs `scenario` through the async and the blocking client, each against a
/// fresh embedded server, on a thread of its own, failing after 30 s.
fn run_both(name: &str, scenario: fn(&dyn ErasedApi)) {
    for flavour in ["async", "blocking"] {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let server = EmbeddedServer::start_blocking().expect("server");
            let uri = server.connection_string();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if flavour == "async" {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .unwrap();
                    let client = rt.block_on(AsyncKurrentDBClient::connect(&uri)).unwrap();
                    scenario(&AsyncApi { rt, client });
                } else {
                    let client = KurrentDBClient::connect(&uri).unwrap();
                    scenario(&BlockingApi { client });
                }
            }));
            let _ = tx.send(outcome.is_ok());
            drop(server);
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(true) => {
                let _ = thread.join();
            }
            Ok(false) => panic!("scenario {name} failed through the {flavour} API"),
            Err(_) => panic!("scenario {name} timed out through the {flavour} API"),
        }
    }
}

/// [`Api`] with its consumer boxed, so that scenarios are plain functions.
trait ErasedApi {
    fn append(&self, stream: &str, n: usize) -> Vec<Uuid>;
    fn get_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>>;
    fn create_stream(
        &self,
        group: &str,
        stream: &str,
        o: &CreateSubscriptionToStreamOptions,
    ) -> Result<()>;
    fn create_all(&self, group: &str, o: &CreateSubscriptionToAllOptions) -> Result<()>;
    fn read_stream(&self, group: &str, stream: &str) -> Result<Box<dyn Sub>>;
    fn read_all(&self, group: &str) -> Result<Box<dyn Sub>>;
    fn update_stream(
        &self,
        group: &str,
        stream: &str,
        o: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()>;
    fn delete(&self, group: &str, stream: Option<&str>) -> Result<()>;
    fn info(&self, group: &str, stream: Option<&str>) -> Result<SubscriptionInfo>;
    fn list(&self) -> Result<Vec<SubscriptionInfo>>;
    fn list_stream(&self, stream: &str) -> Result<Vec<SubscriptionInfo>>;
    fn replay(&self, group: &str, stream: Option<&str>) -> Result<()>;
    fn restart(&self) -> Result<()>;
}

impl<A: Api> ErasedApi for A
where
    A::Sub: 'static,
{
    fn append(&self, stream: &str, n: usize) -> Vec<Uuid> {
        Api::append(self, stream, n)
    }
    fn get_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>> {
        Api::get_stream(self, stream)
    }
    fn create_stream(
        &self,
        group: &str,
        stream: &str,
        o: &CreateSubscriptionToStreamOptions,
    ) -> Result<()> {
        Api::create_stream(self, group, stream, o)
    }
    fn create_all(&self, group: &str, o: &CreateSubscriptionToAllOptions) -> Result<()> {
        Api::create_all(self, group, o)
    }
    fn read_stream(&self, group: &str, stream: &str) -> Result<Box<dyn Sub>> {
        Ok(Box::new(Api::read_stream(self, group, stream)?))
    }
    fn read_all(&self, group: &str) -> Result<Box<dyn Sub>> {
        Ok(Box::new(Api::read_all(self, group)?))
    }
    fn update_stream(
        &self,
        group: &str,
        stream: &str,
        o: &UpdateSubscriptionToStreamOptions,
    ) -> Result<()> {
        Api::update_stream(self, group, stream, o)
    }
    fn delete(&self, group: &str, stream: Option<&str>) -> Result<()> {
        Api::delete(self, group, stream)
    }
    fn info(&self, group: &str, stream: Option<&str>) -> Result<SubscriptionInfo> {
        Api::info(self, group, stream)
    }
    fn list(&self) -> Result<Vec<SubscriptionInfo>> {
        Api::list(self)
    }
    fn list_stream(&self, stream: &str) -> Result<Vec<SubscriptionInfo>> {
        Api::list_stream(self, stream)
    }
    fn replay(&self, group: &str, stream: Option<&str>) -> Result<()> {
        Api::replay(self, group, stream)
    }
    fn restart(&self) -> Result<()> {
        Api::restart(self)
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

/// Waits (polling) until `check` holds, for at most 5 s.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Options that checkpoint after every processed event.
fn eager_checkpoints() -> CreateSubscriptionToStreamOptions {
    CreateSubscriptionToStreamOptions::default()
        .min_checkpoint_count(1)
        .checkpoint_after(Duration::ZERO)
}

// ---- scenarios ------------------------------------------------------------------

fn every_event_once(api: &dyn ErasedApi) {
    let stream = unique("order");
    let ids = api.append(&stream, 10);
    api.create_stream("group", &stream, &Default::default())
        .unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    assert_eq!(sub.id(), format!("{stream}::group"));
    let mut seen = Vec::new();
    for _ in 0..10 {
        let e = sub.next_event();
        assert_eq!(e.retry_count, Some(0));
        sub.ack(e.ack_id());
        seen.push(e.id);
    }
    assert_eq!(seen, ids);
    wait_until("all acked", || {
        let info = api.info("group", Some(&stream)).unwrap();
        info.total_in_flight_messages == 0 && info.total_items == 10
    });
    sub.stop();
}

fn nack_retry_comes_back(api: &dyn ErasedApi) {
    let stream = unique("order");
    let ids = api.append(&stream, 1);
    api.create_stream("group", &stream, &Default::default())
        .unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    let first = sub.next_event();
    assert_eq!((first.id, first.retry_count), (ids[0], Some(0)));
    sub.nack(first.ack_id(), NackAction::Retry);
    let again = sub.next_event();
    assert_eq!((again.id, again.retry_count), (ids[0], Some(1)));
    sub.ack(again.ack_id());
    sub.stop();
}

fn message_timeout_retries(api: &dyn ErasedApi) {
    let stream = unique("order");
    let ids = api.append(&stream, 1);
    let options =
        CreateSubscriptionToStreamOptions::default().message_timeout(Duration::from_millis(200));
    api.create_stream("group", &stream, &options).unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    let first = sub.next_event();
    assert_eq!(first.retry_count, Some(0));
    // Not acked: the server retries it after the message timeout.
    let again = sub.next_event();
    assert_eq!((again.id, again.retry_count), (ids[0], Some(1)));
    sub.ack(again.ack_id());
    sub.stop();
}

fn parked_and_replayed(api: &dyn ErasedApi) {
    let stream = unique("order");
    let ids = api.append(&stream, 3);
    api.create_stream("group", &stream, &Default::default())
        .unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    for i in 0..3 {
        let e = sub.next_event();
        if i == 1 {
            sub.nack(e.ack_id(), NackAction::Park);
        } else {
            sub.ack(e.ack_id());
        }
    }
    wait_until("one parked", || {
        api.info("group", Some(&stream))
            .unwrap()
            .parked_message_count
            == 1
    });
    let parked = api
        .get_stream(&format!("$persistentsubscription-{stream}::group-parked"))
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].r#type, "$>");
    assert_eq!(&parked[0].data[..], format!("1@{stream}").as_bytes());

    api.replay("group", Some(&stream)).unwrap();
    let replayed = sub.next_event();
    assert_eq!(replayed.id, ids[1]);
    assert!(
        replayed.link.is_some(),
        "a replayed event comes through its parked link"
    );
    sub.ack(replayed.ack_id());
    wait_until("replayed", || {
        let info = api.info("group", Some(&stream)).unwrap();
        info.parked_message_count == 0 && info.total_in_flight_messages == 0
    });
    sub.stop();
}

fn round_robin_shares(api: &dyn ErasedApi) {
    let stream = unique("order");
    let options = CreateSubscriptionToStreamOptions::default()
        .consumer_strategy(ConsumerStrategy::RoundRobin);
    api.create_stream("group", &stream, &options).unwrap();
    let mut a = api.read_stream("group", &stream).unwrap();
    let mut b = api.read_stream("group", &stream).unwrap();
    let ids = api.append(&stream, 10);
    let mut seen = Vec::new();
    for sub in [&mut a, &mut b] {
        for _ in 0..5 {
            let e = sub.next_event();
            assert_eq!(e.retry_count, Some(0));
            sub.ack(e.ack_id());
            seen.push(e.id);
        }
    }
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected, "each event went to exactly one consumer");
    let info = api.info("group", Some(&stream)).unwrap();
    assert_eq!(info.connections.len(), 2);
    assert_eq!(info.consumer_strategy, ConsumerStrategy::RoundRobin);
    assert!(info.connections.iter().all(|c| c.total_items == 5));
    a.stop();
    b.stop();
}

fn deleted_and_recreated_starts_over(api: &dyn ErasedApi) {
    let stream = unique("order");
    let ids = api.append(&stream, 3);
    api.create_stream("group", &stream, &eager_checkpoints())
        .unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    for _ in 0..3 {
        let e = sub.next_event();
        sub.ack(e.ack_id());
    }
    wait_until("checkpointed", || {
        api.info("group", Some(&stream))
            .unwrap()
            .last_checkpointed_event_position
            == "2"
    });
    sub.stop();
    api.delete("group", Some(&stream)).unwrap();
    assert!(matches!(
        api.delete("group", Some(&stream)),
        Err(Error::NotFound { .. })
    ));
    api.create_stream("group", &stream, &eager_checkpoints())
        .unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    let e = sub.next_event();
    assert_eq!((e.id, e.retry_count), (ids[0], Some(0)));
    sub.stop();
}

fn reconnect_resumes_after_checkpoint(api: &dyn ErasedApi) {
    let stream = unique("order");
    let ids = api.append(&stream, 6);
    api.create_stream("group", &stream, &eager_checkpoints())
        .unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    for _ in 0..3 {
        let e = sub.next_event();
        sub.ack(e.ack_id());
    }
    wait_until("checkpointed", || {
        api.info("group", Some(&stream))
            .unwrap()
            .last_checkpointed_event_position
            == "2"
    });
    sub.stop();
    let checkpoints = api
        .get_stream(&format!(
            "$persistentsubscription-{stream}::group-checkpoint"
        ))
        .unwrap();
    let last = checkpoints.last().unwrap();
    assert_eq!(last.r#type, "$SubscriptionCheckpoint");
    assert_eq!(&last.data[..], br#""2""#);
    // Reload every group from its checkpoint, then reconnect.
    api.restart().unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    let e = sub.next_event();
    assert_eq!((e.id, e.stream_position), (ids[3], 3));
    sub.ack(e.ack_id());
    sub.stop();
}

fn info_and_list_report_counts(api: &dyn ErasedApi) {
    let stream = unique("order");
    api.create_stream("group", &stream, &eager_checkpoints().max_retry_count(3))
        .unwrap();
    let mut sub = api.read_stream("group", &stream).unwrap();
    api.append(&stream, 4);
    for _ in 0..4 {
        let e = sub.next_event();
        sub.ack(e.ack_id());
    }
    wait_until("checkpointed", || {
        api.info("group", Some(&stream))
            .unwrap()
            .last_checkpointed_event_position
            == "3"
    });
    let info = api.info("group", Some(&stream)).unwrap();
    assert_eq!(info.event_source, stream);
    assert_eq!(info.group_name, "group");
    assert_eq!(info.total_items, 4);
    assert_eq!(info.total_in_flight_messages, 0);
    assert_eq!(info.parked_message_count, 0);
    assert_eq!(info.last_known_event_position, "3");
    assert_eq!(info.max_retry_count, 3);
    assert_eq!(info.message_timeout, Duration::from_secs(30));
    assert_eq!(info.consumer_strategy, ConsumerStrategy::DispatchToSingle);
    assert_eq!(info.connections.len(), 1);
    assert_eq!(info.connections[0].total_items, 4);
    assert_eq!(info.connections[0].in_flight_messages, 0);

    // An update keeps what it does not change.
    api.update_stream(
        "group",
        &stream,
        &UpdateSubscriptionToStreamOptions::default().max_retry_count(7),
    )
    .unwrap();
    let info = api.info("group", Some(&stream)).unwrap();
    assert_eq!(info.max_retry_count, 7);
    assert_eq!(info.min_checkpoint_count, 1);

    let listed = api.list_stream(&stream).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].group_name, "group");
    assert!(
        api.list()
            .unwrap()
            .iter()
            .any(|i| i.event_source == stream && i.group_name == "group")
    );
    assert!(api.list_stream(&unique("nothing")).unwrap().is_empty());
    sub.stop();
}

fn errors_are_typed(api: &dyn ErasedApi) {
    let stream = unique("order");
    let options = CreateSubscriptionToStreamOptions::default().max_subscriber_count(1);
    api.create_stream("group", &stream, &options).unwrap();
    assert!(matches!(
        api.create_stream("group", &stream, &options),
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        api.read_stream("missing", &stream).map(|_| ()),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        api.info("missing", Some(&stream)),
        Err(Error::NotFound { .. })
    ));
    let mut first = api.read_stream("group", &stream).unwrap();
    assert!(matches!(
        api.read_stream("group", &stream).map(|_| ()),
        Err(Error::MaximumSubscriptionsReached(_))
    ));
    first.stop();
}

fn all_streams_with_filter(api: &dyn ErasedApi) {
    let prefix = unique("filtered");
    let options = CreateSubscriptionToAllOptions::default()
        .filter_by_stream_name(true)
        .filter_include([format!("{prefix}-.*")]);
    api.create_all("group-all", &options).unwrap();
    api.append(&unique("other"), 2);
    let ids = api.append(&format!("{prefix}-1"), 3);
    let mut sub = api.read_all("group-all").unwrap();
    assert_eq!(sub.id(), "$all::group-all");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = sub.next_event();
        sub.ack(e.ack_id());
        seen.push(e.id);
    }
    assert_eq!(seen, ids);
    let info = api.info("group-all", None).unwrap();
    assert_eq!(info.event_source, "$all");
    assert!(info.start_from.starts_with("C:"));
    sub.stop();
    api.delete("group-all", None).unwrap();
}

#[test]
fn a_group_from_the_start_receives_every_event_once() {
    run_both("every_event_once", every_event_once);
}

#[test]
fn a_nacked_event_comes_back_with_a_higher_retry_count() {
    run_both("nack_retry_comes_back", nack_retry_comes_back);
}

#[test]
fn an_unacked_event_is_retried_after_the_message_timeout() {
    run_both("message_timeout_retries", message_timeout_retries);
}

#[test]
fn a_parked_event_lands_in_the_parked_stream_and_comes_back_on_replay() {
    run_both("parked_and_replayed", parked_and_replayed);
}

#[test]
fn round_robin_consumers_share_the_events() {
    run_both("round_robin_shares", round_robin_shares);
}

#[test]
fn a_deleted_and_recreated_group_starts_over() {
    run_both(
        "deleted_and_recreated_starts_over",
        deleted_and_recreated_starts_over,
    );
}

#[test]
fn a_reconnecting_consumer_resumes_after_the_checkpoint() {
    run_both(
        "reconnect_resumes_after_checkpoint",
        reconnect_resumes_after_checkpoint,
    );
}

#[test]
fn info_and_list_report_what_happened() {
    run_both("info_and_list_report_counts", info_and_list_report_counts);
}

#[test]
fn errors_are_already_exists_not_found_and_maximum_subscribers() {
    run_both("errors_are_typed", errors_are_typed);
}

#[test]
fn a_group_on_all_streams_with_a_filter() {
    run_both("all_streams_with_filter", all_streams_with_filter);
}
