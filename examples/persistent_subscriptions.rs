//! Persistent subscriptions: the examples of the reference page's
//! "Persistent subscriptions" section, and the operations around them.
//!
//! ```text
//! cargo run --example persistent_subscriptions
//! ```
//!
//! Runs against the embedded server, or `KURRENTDB_URI` when set.

use std::time::Duration;

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::*;
use kurrentdbclient::persistent::*;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, RecordedEvent, StreamState,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = server().await?;
    let client = AsyncKurrentDBClient::connect(&uri).await?;
    let id = Uuid::new_v4().simple().to_string();

    // Nine events in three streams, as on the reference page.
    let streams: Vec<String> = (1..=3).map(|n| format!("stream-{n}-{id}")).collect();
    let mut appended = Vec::new();
    for (s, stream) in streams.iter().enumerate() {
        let events: Vec<NewEvent> = (1..=3)
            .map(|n| NewEvent::new("OrderUpdated", format!(r#"{{"n": {}}}"#, s * 3 + n)))
            .collect();
        appended.extend(events.iter().map(|e| e.data.clone()));
        client
            .append_to_stream(
                stream,
                StreamState::NoStream,
                events,
                &AppendToStreamOptions::default(),
            )
            .await?;
    }
    let (stream3, event9) = (&streams[2], appended[8].clone());

    // Create a persistent subscription (on all streams, from the start).
    let group_name = format!("group-{}", Uuid::new_v4());
    client
        .create_subscription_to_all(&group_name, &CreateSubscriptionToAllOptions::default())
        .await?;

    // Read it: acknowledge each event; stop after the last one appended above.
    let mut subscription = client
        .read_subscription_to_all(&group_name, &ReadSubscriptionOptions::default())
        .await?;
    let mut events: Vec<RecordedEvent> = Vec::new();
    while let Some(event) = subscription.next().await {
        let event = event?;
        subscription.ack(event.ack_id())?;
        let last = event.stream_name == *stream3 && event.data == event9;
        events.push(event);
        if last {
            break;
        }
    }
    subscription.stop().await;
    let received: Vec<_> = events[events.len() - 9..]
        .iter()
        .map(|e| e.data.clone())
        .collect();
    assert_eq!(received, appended);
    println!("received the 9 events, acknowledged each");

    // The reader pattern: events handled by a callback on another task; ack
    // when it succeeds, nack (here: park) when it fails.
    let group_name = format!("group-{}", Uuid::new_v4());
    client
        .create_subscription_to_all(&group_name, &CreateSubscriptionToAllOptions::default())
        .await?;
    let handled = tokio::spawn(read_with_callback(
        client.clone(),
        group_name.clone(),
        stream3.clone(),
        event9.clone(),
    ))
    .await??;
    assert_eq!(handled.last().map(|e| e.data.clone()), Some(event9.clone()));
    println!(
        "the reader handled {} events, the last one failed",
        handled.len()
    );

    // A group on one stream, whose consumers share events round robin.
    let stream_group = "stream-group";
    client
        .create_subscription_to_stream(
            stream_group,
            &streams[0],
            &CreateSubscriptionToStreamOptions::default()
                .consumer_strategy(ConsumerStrategy::RoundRobin)
                .message_timeout(Duration::from_secs(10))
                .min_checkpoint_count(1)
                .max_checkpoint_count(1),
        )
        .await?;
    let mut consumer = client
        .read_subscription_to_stream(
            stream_group,
            &streams[0],
            &ReadSubscriptionOptions::default(),
        )
        .await?;

    // Retry an event (it comes back with a higher retry count), park another.
    let first = consumer.next().await.transpose()?.expect("an event");
    consumer.nack(&first, NackAction::Retry, "not yet")?;
    let second = consumer.next().await.transpose()?.expect("an event");
    consumer.nack(&second, NackAction::Park, "cannot be handled")?;
    let third = consumer.next().await.transpose()?.expect("an event");
    consumer.ack(third.ack_id())?;
    let retried = consumer.next().await.transpose()?.expect("an event");
    assert_eq!((retried.id, retried.retry_count), (first.id, Some(1)));
    consumer.ack(retried.ack_id())?;

    // Parked events come back when replayed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let info = client
        .get_subscription_info(
            stream_group,
            Some(&streams[0]),
            &GetSubscriptionInfoOptions::default(),
        )
        .await?;
    println!(
        "{}::{}: {} delivered, {} parked, checkpoint {:?}",
        info.event_source,
        info.group_name,
        info.total_items,
        info.parked_message_count,
        info.last_checkpointed_event_position
    );
    client
        .replay_parked_events(
            stream_group,
            Some(&streams[0]),
            &ReplayParkedEventsOptions::default(),
        )
        .await?;
    let replayed = consumer.next().await.transpose()?.expect("an event");
    assert_eq!(replayed.id, second.id);
    consumer.ack(replayed.ack_id())?;
    consumer.stop().await;

    // Update a setting (the others are kept), list, delete.
    client
        .update_subscription_to_stream(
            stream_group,
            &streams[0],
            &UpdateSubscriptionToStreamOptions::default().max_retry_count(3),
        )
        .await?;
    for info in client
        .list_subscriptions(&ListSubscriptionsOptions::default())
        .await?
    {
        println!(
            "group {}::{} ({})",
            info.event_source, info.group_name, info.status
        );
    }
    client
        .delete_subscription(
            stream_group,
            Some(&streams[0]),
            &DeleteSubscriptionOptions::default(),
        )
        .await?;
    client
        .restart_persistent_subscription_subsystem(
            &RestartPersistentSubscriptionSubsystemOptions::default(),
        )
        .await?;
    Ok(())
}

/// Reads a group, calling a handler for each event: ack on success; on failure
/// park the event and stop, returning what was handled.
async fn read_with_callback(
    client: AsyncKurrentDBClient,
    group_name: String,
    last_stream: String,
    last_data: bytes::Bytes,
) -> kurrentdbclient::Result<Vec<RecordedEvent>> {
    let mut handled = Vec::new();
    let mut handle_event = |event: &RecordedEvent| -> Result<(), String> {
        handled.push(event.clone());
        if event.stream_name == last_stream && event.data == last_data {
            return Err("cannot handle this one".into());
        }
        Ok(())
    };
    let mut subscription = client
        .read_subscription_to_all(&group_name, &ReadSubscriptionOptions::default())
        .await?;
    while let Some(event) = subscription.next().await {
        let event = event?;
        match handle_event(&event) {
            Ok(()) => subscription.ack(event.ack_id())?,
            Err(_) => {
                subscription.nack(&event, NackAction::Park, "cannot be handled")?;
                break;
            }
        }
    }
    subscription.stop().await;
    Ok(handled)
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
