//! The blocking [`KurrentDBClient`], against the embedded server (or
//! `KURRENTDB_URI`):
//!
//! - every scenario in `tests/scenarios`, the same list as
//!   `tests/async_client.rs` (both expand `for_each_scenario!`), run through the
//!   harness's [`Blocking`], which makes each blocking call on tokio's blocking
//!   pool;
//! - the blocking client's own behaviour, on plain threads: sharing between
//!   threads, iterators, stopping a subscription from another thread, closing,
//!   `block_on`, and the async-context guard (a blocking call made in async
//!   code panics with the documented message instead of deadlocking).

mod common;
mod scenarios;

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use kurrentdbclient_blocking::{
    AppendToStreamOptions, CreateSubscriptionToStreamOptions, Error, GetCommitPositionOptions,
    KurrentDBClient, NewEvent, ReadAllOptions, ReadStreamOptions, ReadSubscriptionOptions,
    StreamState, SubscribeToAllOptions, SubscribeToStreamOptions, SubscriptionItem,
};

use common::blocking_api::Blocking;
use common::harness::ClientUnderTest;
use common::{server_uri, unique};

for_each_scenario!(Blocking);

/// The blocking client called straight from async code (a `#[tokio::test]`)
/// panics with the documented message, naming the call, instead of blocking
/// the runtime's thread; and the client can still be dropped there.
#[tokio::test]
#[should_panic(
    expected = "kurrentdbclient_blocking: a blocking call was made from inside an async runtime (`KurrentDBClient::get_commit_position`)"
)]
async fn blocking_call_in_async_code_panics_with_a_clear_message() {
    let Blocking(client) = Blocking::connect(&server_uri()).await.expect("connect");
    let _ = client.get_commit_position(&GetCommitPositionOptions::default());
}

// ---- the blocking client's own behaviour, on plain threads ----------------------

fn client() -> KurrentDBClient {
    KurrentDBClient::connect(&server_uri()).expect("connect")
}

const fn assert_send_sync<T: Send + Sync>() {}
const fn assert_send<T: Send>() {}
// Static checks: the client may be shared between threads; iterators and
// subscriptions may be moved to another thread; a stop handle may be shared.
const _: () = assert_send_sync::<KurrentDBClient>();
const _: () = assert_send::<kurrentdbclient_blocking::ReadStream>();
const _: () = assert_send::<kurrentdbclient_blocking::CatchupSubscription>();
const _: () = assert_send::<kurrentdbclient_blocking::PersistentSubscription>();
const _: () = assert_send_sync::<kurrentdbclient_blocking::StopHandle>();

/// 8 threads share one client: each appends 50 events one by one to its own
/// stream (checking the version each time) and to one shared stream, reading
/// as it goes. Nothing fails, nothing is lost or doubled.
#[test]
fn eight_threads_share_one_client() {
    const THREADS: usize = 8;
    const EVENTS: usize = 50;
    let client = client();
    let shared_stream = unique("shared");
    let own_streams: Vec<String> = (0..THREADS)
        .map(|t| unique(&format!("thread{t}")))
        .collect();

    thread::scope(|s| {
        for (t, own) in own_streams.iter().enumerate() {
            let (client, shared_stream) = (&client, &shared_stream);
            s.spawn(move || {
                let opts = AppendToStreamOptions::default();
                for i in 0..EVENTS {
                    let version = if i == 0 {
                        StreamState::NoStream
                    } else {
                        StreamState::Version(i as u64 - 1)
                    };
                    client
                        .append_to_stream(
                            own,
                            version,
                            [NewEvent::new("Own", format!("{t}-{i}"))],
                            &opts,
                        )
                        .unwrap_or_else(|e| panic!("thread {t} append {i}: {e}"));
                    client
                        .append_to_stream(
                            shared_stream,
                            StreamState::Any,
                            [NewEvent::new("Shared", format!("{t}-{i}"))],
                            &opts,
                        )
                        .unwrap_or_else(|e| panic!("thread {t} shared append {i}: {e}"));
                    if i % 10 == 9 {
                        let read: Vec<_> = client
                            .read_stream(own, &ReadStreamOptions::default())
                            .unwrap()
                            .collect::<Result<_, _>>()
                            .unwrap();
                        assert_eq!(read.len(), i + 1, "thread {t} reads its own writes");
                        client
                            .get_commit_position(&GetCommitPositionOptions::default())
                            .unwrap();
                    }
                }
            });
        }
    });

    for (t, own) in own_streams.iter().enumerate() {
        let events = client
            .get_stream(own, &ReadStreamOptions::default())
            .unwrap();
        let data: Vec<String> = events
            .iter()
            .map(|e| String::from_utf8(e.data.to_vec()).unwrap())
            .collect();
        let expected: Vec<String> = (0..EVENTS).map(|i| format!("{t}-{i}")).collect();
        assert_eq!(data, expected, "thread {t}'s stream");
    }
    let shared: Vec<_> = client
        .read_stream(&shared_stream, &ReadStreamOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(shared.len(), THREADS * EVENTS);
    let distinct: BTreeSet<Vec<u8>> = shared.iter().map(|e| e.data.to_vec()).collect();
    assert_eq!(distinct.len(), THREADS * EVENTS, "no event lost or doubled");
    let positions: Vec<u64> = shared.iter().map(|e| e.stream_position).collect();
    assert_eq!(
        positions,
        (0..(THREADS * EVENTS) as u64).collect::<Vec<_>>()
    );
}

/// `read_stream` and `read_all` are iterators; `stop()` ends them early.
#[test]
fn reads_are_iterators() {
    let client = client();
    let stream = unique("iter");
    let events: Vec<NewEvent> = (0..5)
        .map(|i| NewEvent::new("Counted", format!("{i}")))
        .collect();
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            events,
            &AppendToStreamOptions::default(),
        )
        .unwrap();

    let positions: Vec<u64> = client
        .read_stream(&stream, &ReadStreamOptions::default())
        .unwrap()
        .map(|e| e.unwrap().stream_position)
        .collect();
    assert_eq!(positions, [0, 1, 2, 3, 4]);

    let collected = client
        .read_stream(
            &stream,
            &ReadStreamOptions::default().backwards(true).limit(2),
        )
        .unwrap()
        .collect_events()
        .unwrap();
    let positions: Vec<u64> = collected.iter().map(|e| e.stream_position).collect();
    assert_eq!(positions, [4, 3]);

    let mut read = client
        .read_stream(&stream, &ReadStreamOptions::default())
        .unwrap();
    assert_eq!(read.next().unwrap().unwrap().stream_position, 0);
    read.stop();
    assert!(read.next().is_none());

    let from_all: Vec<_> = client
        .read_all(
            &ReadAllOptions::default()
                .filter_include([stream.clone()])
                .filter_by_stream_name(true),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(from_all.len(), 5);

    let missing = client.read_stream(&unique("missing"), &ReadStreamOptions::default());
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
}

/// A subscription iterates stored then live events; a `StopHandle` used from
/// another thread ends a `next()` that is blocked waiting.
#[test]
fn subscription_is_stopped_from_another_thread() {
    let client = client();
    let stream = unique("sub");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            [NewEvent::new("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .unwrap();
    let mut sub = client
        .subscribe_to_stream(
            &stream,
            &SubscribeToStreamOptions::default().include_caught_up(true),
        )
        .unwrap();
    assert!(!sub.subscription_id().is_empty());
    assert!(matches!(sub.next(), Some(Ok(SubscriptionItem::Event(e))) if e.r#type == "A"));
    assert!(matches!(
        sub.next(),
        Some(Ok(SubscriptionItem::CaughtUp(_)))
    ));

    let stop = sub.stop_handle();
    let (tx, rx) = mpsc::channel();
    let consumer = thread::spawn(move || {
        let mut live = Vec::new();
        for item in sub.by_ref() {
            if let SubscriptionItem::Event(e) = item.unwrap() {
                live.push(e.r#type);
                tx.send(()).unwrap();
            }
        }
        (live, sub.is_stopped())
    });
    client
        .append_to_stream(
            &stream,
            0u64,
            [NewEvent::new("B", "{}")],
            &AppendToStreamOptions::default(),
        )
        .unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the live event arrives");
    // The consumer is now blocked in `next()`, waiting for more.
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    stop.stop();
    let (live, stopped) = consumer.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stop ends the blocked next() (a bound for a busy machine; without stop it waits forever)"
    );
    assert_eq!(live, ["B"]);
    assert!(stopped && stop.is_stopped());
}

/// Closing the client (here from another thread) ends a subscription blocked
/// in `next()`: it yields `ClientClosed` once, as the async one does, then
/// ends; every later call gives `ClientClosed`.
#[test]
fn close_ends_a_blocked_subscription() {
    let client = client();
    let mut sub = client
        .subscribe_to_all(
            // A stream nobody writes (other tests share the server).
            &SubscribeToAllOptions::default()
                .from_end(true)
                .filter_include([unique("nobody")])
                .filter_by_stream_name(true),
        )
        .unwrap();
    let closer = {
        let client = client.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(200));
            client.close();
        })
    };
    let started = Instant::now();
    let next = sub.next();
    assert!(matches!(next, Some(Err(Error::ClientClosed))), "{next:?}");
    assert!(sub.next().is_none());
    assert!(started.elapsed() < Duration::from_secs(30));
    closer.join().unwrap();
    assert!(client.is_closed());
    let r = client.get_commit_position(&GetCommitPositionOptions::default());
    assert!(matches!(r, Err(Error::ClientClosed)), "{r:?}");
}

/// A blocking call inside a runtime's async context panics with the
/// documented message (never a deadlock), for each kind of async context;
/// `spawn_blocking`, `block_in_place` and `Runtime::enter` allow it.
#[test]
fn async_context_guard() {
    let client = client();
    let expected =
        "kurrentdbclient_blocking: a blocking call was made from inside an async runtime";
    let panic_message = |r: thread::Result<()>| -> String {
        let payload = r.expect_err("expected a panic");
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    };
    let opts = GetCommitPositionOptions::default();

    // Inside `block_on` of a current-thread runtime (what #[tokio::test] does).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let msg = panic_message(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || {
            rt.block_on(async {
                let _ = client.get_commit_position(&opts);
            })
        },
    )));
    assert!(msg.starts_with(expected), "{msg}");
    assert!(
        msg.contains("`KurrentDBClient::get_commit_position`"),
        "{msg}"
    );
    assert!(msg.contains("spawn_blocking"), "{msg}");

    // Inside a task of a multi-thread runtime; also for `connect`, iterators
    // and `block_on`.
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut sub = client
        .subscribe_to_all(&SubscribeToAllOptions::default())
        .unwrap();
    let (c1, c2) = (client.clone(), client.clone());
    let uri = server_uri();
    let results = mt.block_on(async move {
        let a = tokio::spawn(async move {
            let _ = c1.append_to_stream(
                "guard",
                StreamState::Any,
                [NewEvent::new("A", "{}")],
                &AppendToStreamOptions::default(),
            );
        })
        .await;
        let b = tokio::spawn(async move {
            let _ = KurrentDBClient::connect(&uri);
        })
        .await;
        let c = tokio::spawn(async move {
            let _ = sub.next();
        })
        .await;
        let d = tokio::spawn(async move {
            c2.block_on(async {});
        })
        .await;
        [a, b, c, d]
    });
    for (result, name) in results.into_iter().zip([
        "KurrentDBClient::append_to_stream",
        "KurrentDBClient::connect",
        "CatchupSubscription::next",
        "KurrentDBClient::block_on",
    ]) {
        let payload = result.expect_err("panics").into_panic();
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            msg.starts_with(expected) && msg.contains(name),
            "{name}: {msg}"
        );
    }

    // Nested in the client's own `block_on`.
    let msg = panic_message(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || {
            client.block_on(async {
                let _ = client.get_commit_position(&opts);
            })
        },
    )));
    assert!(msg.starts_with(expected), "{msg}");

    // Allowed: spawn_blocking, block_in_place, a thread that only entered a runtime.
    let c = client.clone();
    mt.block_on(async move {
        let c2 = c.clone();
        tokio::task::spawn_blocking(move || {
            c2.get_commit_position(&GetCommitPositionOptions::default())
        })
        .await
        .unwrap()
        .unwrap();
        tokio::spawn(async move {
            tokio::task::block_in_place(|| {
                c.get_commit_position(&GetCommitPositionOptions::default())
            })
            .unwrap()
        })
        .await
        .unwrap();
    });
    let _entered = mt.enter();
    client.get_commit_position(&opts).unwrap();
}

/// The client may be dropped in async code (its runtime shuts down in the
/// background), and `close`, `is_closed`, `settings` and `async_client` work
/// there, since they do not block.
#[test]
fn dropping_and_non_blocking_calls_in_async_code() {
    let client = client();
    let sub = client
        .subscribe_to_all(&SubscribeToAllOptions::default())
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        assert!(!client.settings().endpoints().is_empty());
        assert!(!client.async_client().is_closed());
        let other = client.clone();
        drop(client);
        other.close();
        assert!(other.is_closed());
        drop(sub);
        drop(other);
    });
}

/// `block_on` runs any future on the client's runtime, for example one built
/// from the async client inside.
#[test]
fn block_on_runs_async_client_futures() {
    let client = client();
    let stream = unique("blockon");
    let async_client = client.async_client();
    let position = client
        .block_on(async_client.append_to_stream(
            &stream,
            StreamState::NoStream,
            [NewEvent::new("A", "{}")],
            &AppendToStreamOptions::default(),
        ))
        .unwrap()
        .commit_position;
    assert!(
        position > 0
            || client
                .get_commit_position(&GetCommitPositionOptions::default())
                .unwrap()
                >= position
    );
    assert_eq!(
        client
            .get_current_version(&stream, &Default::default())
            .unwrap(),
        StreamState::Version(0)
    );
}

/// A blocking persistent subscription is stopped from another thread: the
/// `next()` blocked there sends its queued acks, leaves the group and ends.
#[test]
fn persistent_subscription_is_stopped_from_another_thread() {
    let client = client();
    let stream = unique("persistent-stop");
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            [NewEvent::new("A", "{}")],
            &AppendToStreamOptions::default(),
        )
        .unwrap();
    client
        .create_subscription_to_stream(
            "stoppable",
            &stream,
            &CreateSubscriptionToStreamOptions::default()
                .min_checkpoint_count(1)
                .max_checkpoint_count(1),
        )
        .unwrap();
    let mut sub = client
        .read_subscription_to_stream(
            "stoppable",
            &stream,
            // A long batching delay: the ack is still queued when stopped.
            &ReadSubscriptionOptions::default().max_ack_delay(Duration::from_secs(30)),
        )
        .unwrap();
    let stop = sub.stop_handle();
    let (tx, rx) = mpsc::channel();
    let consumer = thread::spawn(move || {
        let mut received = 0;
        while let Some(event) = sub.next() {
            let event = event.unwrap();
            sub.ack(&event).unwrap();
            received += 1;
            tx.send(()).unwrap();
        }
        (received, sub.is_stopped())
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the event arrives");
    // The consumer is now blocked in `next()`, waiting for more.
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    stop.stop();
    assert!(stop.is_stopped());
    let (received, stopped) = consumer.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stop ends the blocked next()"
    );
    assert_eq!(received, 1);
    assert!(stopped);
    // The consumer left the group, and its ack reached the server.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = client
            .get_subscription_info("stoppable", Some(&stream), &Default::default())
            .unwrap();
        if info.connections.is_empty() && info.last_checkpointed_event_position == "0" {
            break;
        }
        assert!(Instant::now() < deadline, "{info:?}");
        thread::sleep(Duration::from_millis(100));
    }
}
