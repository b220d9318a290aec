//! Catch-up subscriptions, blocking: a consumer thread iterates a stream
//! subscription (stored events, the caught-up marker, then live events) while
//! the main thread appends, then stops it from the main thread with a
//! `StopHandle`; then `$all`, filtered by stream name. The blocking twin of
//! `subscribing.rs`.
//!
//! ```text
//! cargo run --example blocking_subscribing
//! ```

use std::sync::mpsc;
use std::thread;

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient_blocking::options::*;
use kurrentdbclient_blocking::{KurrentDBClient, NewEvent, StreamState, SubscriptionItem};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = match std::env::var("KURRENTDB_URI") {
        Ok(uri) => (None, uri),
        Err(_) => {
            let server = EmbeddedServer::start_blocking()?;
            let uri = server.connection_string();
            (Some(server), uri)
        }
    };
    let client = KurrentDBClient::connect(&uri)?;
    let stream = format!("order-{}", uuid::Uuid::new_v4().simple());
    client.append_to_stream(
        &stream,
        StreamState::NoStream,
        [NewEvent::new("OrderCreated", "{}")],
        &AppendToStreamOptions::default(),
    )?;

    // A stream subscription, consumed on its own thread.
    let subscription = client.subscribe_to_stream(
        &stream,
        &SubscribeToStreamOptions::default().include_caught_up(true),
    )?;
    println!("subscription {}", subscription.subscription_id());
    let stop = subscription.stop_handle();
    let (caught_up_tx, caught_up) = mpsc::channel();
    let (shipped_tx, shipped) = mpsc::channel();
    let consumer = thread::spawn(move || -> kurrentdbclient_blocking::Result<()> {
        for item in subscription {
            match item? {
                SubscriptionItem::Event(event) => {
                    println!("event #{} {}", event.stream_position, event.r#type);
                    if event.r#type == "OrderShipped" {
                        let _ = shipped_tx.send(());
                    }
                }
                SubscriptionItem::CaughtUp(_) => {
                    println!("caught up");
                    let _ = caught_up_tx.send(());
                }
                _ => {} // checkpoints, and items of later versions
            }
        }
        println!("subscription stopped");
        Ok(())
    });
    caught_up.recv()?;
    println!("appending a live event");
    client.append_to_stream(
        &stream,
        0u64,
        [NewEvent::new("OrderShipped", "{}")],
        &AppendToStreamOptions::default(),
    )?;
    shipped.recv()?;
    // Stop the subscription from this thread: the consumer's `next()` returns
    // `None` and its loop ends.
    stop.stop();
    consumer.join().expect("the consumer thread")?;

    // $all, filtered by stream name, from the start (system events excluded).
    let all = client.subscribe_to_all(
        &SubscribeToAllOptions::default()
            .filter_include([stream.clone()])
            .filter_by_stream_name(true)
            .include_caught_up(true),
    )?;
    for item in all {
        match item? {
            SubscriptionItem::Event(event) => {
                println!("$all: {} at {:?}", event.r#type, event.commit_position)
            }
            SubscriptionItem::CaughtUp(_) => break, // dropping the iterator stops it
            SubscriptionItem::Checkpoint(c) => println!("checkpoint {}", c.commit_position),
            _ => {}
        }
    }
    Ok(())
}
