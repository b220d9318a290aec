//! Catch-up subscriptions: to a stream and to `$all`, with the caught-up marker
//! and live events.
//!
//! ```text
//! cargo run --example subscribing
//! ```

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::*;
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState, SubscriptionItem};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = server().await?;
    let client = AsyncKurrentDBClient::connect(&uri).await?;
    let stream = format!("order-{}", uuid::Uuid::new_v4().simple());
    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            [NewEvent::new("OrderCreated", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await?;

    // A stream subscription: the stored event, the caught-up marker, then live.
    let mut subscription = client
        .subscribe_to_stream(
            &stream,
            &SubscribeToStreamOptions::default().include_caught_up(true),
        )
        .await?;
    println!("subscription {}", subscription.subscription_id());
    let writer = client.clone();
    let live_stream = stream.clone();
    while let Some(item) = subscription.next().await {
        match item? {
            SubscriptionItem::Event(event) => {
                println!("event #{} {}", event.stream_position, event.r#type);
                if event.r#type == "OrderShipped" {
                    break;
                }
            }
            SubscriptionItem::CaughtUp(_) => {
                println!("caught up; appending a live event");
                writer
                    .append_to_stream(
                        &live_stream,
                        0u64,
                        [NewEvent::new("OrderShipped", "{}")],
                        &AppendToStreamOptions::default(),
                    )
                    .await?;
            }
            _ => {} // checkpoints, and items of later versions
        }
    }
    subscription.stop();

    // $all, filtered by stream name, from the start (system events excluded).
    let mut all = client
        .subscribe_to_all(
            &SubscribeToAllOptions::default()
                .filter_include([stream.clone()])
                .filter_by_stream_name(true)
                .include_caught_up(true),
        )
        .await?;
    while let Some(item) = all.next().await {
        match item? {
            SubscriptionItem::Event(event) => {
                println!("$all: {} at {:?}", event.r#type, event.commit_position)
            }
            SubscriptionItem::CaughtUp(_) => break,
            SubscriptionItem::Checkpoint(c) => println!("checkpoint {}", c.commit_position),
            _ => {}
        }
    }
    all.stop();
    Ok(())
}

async fn server() -> std::io::Result<(Option<EmbeddedServer>, String)> {
    Ok(match std::env::var("KURRENTDB_URI") {
        Ok(uri) => (None, uri),
        Err(_) => {
            let server = EmbeddedServer::start().await?;
            let uri = server.connection_string();
            (Some(server), uri)
        }
    })
}
