//! Reading events: a stream forwards, backwards, from a position, with a limit;
//! `$all` with filters.
//!
//! ```text
//! cargo run --example reading
//! ```

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::*;
use kurrentdbclient::{AsyncKurrentDBClient, Error, NewEvent, StreamState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = server().await?;
    let client = AsyncKurrentDBClient::connect(&uri).await?;
    let stream = format!("order-{}", uuid::Uuid::new_v4().simple());
    let commit_position = client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            [
                NewEvent::new("OrderCreated", "1"),
                NewEvent::new("OrderUpdated", "2"),
                NewEvent::new("OrderDeleted", "3"),
            ],
            &AppendToStreamOptions::default(),
        )
        .await?
        .commit_position;

    // The whole stream, as a Stream of events.
    let mut events = client
        .read_stream(&stream, &ReadStreamOptions::default())
        .await?;
    while let Some(event) = events.next().await {
        let event = event?;
        println!(
            "{} #{} {}",
            event.stream_name, event.stream_position, event.r#type
        );
    }

    // From position 1 (included).
    let from_1 = client
        .get_stream(&stream, &ReadStreamOptions::default().stream_position(1))
        .await?;
    assert_eq!(from_1.len(), 2);

    // Backwards, from the end.
    let backwards = client
        .get_stream(&stream, &ReadStreamOptions::default().backwards(true))
        .await?;
    assert_eq!(backwards[0].r#type, "OrderDeleted");

    // The first two.
    let limited = client
        .get_stream(&stream, &ReadStreamOptions::default().limit(2))
        .await?;
    assert_eq!(limited.len(), 2);

    // One, backwards from position 2.
    let one = client
        .get_stream(
            &stream,
            &ReadStreamOptions::default()
                .stream_position(2)
                .backwards(true)
                .limit(1),
        )
        .await?;
    assert_eq!(one[0].stream_position, 2);

    // A stream that does not exist: NotFound when the read is opened.
    let missing = client
        .read_stream("no-such-stream-here", &ReadStreamOptions::default())
        .await;
    assert!(matches!(missing, Err(Error::NotFound { .. })));

    // The current version, and $all.
    let version = client
        .get_current_version(&stream, &GetCurrentVersionOptions::default())
        .await?;
    assert_eq!(version, StreamState::Version(2));
    let last = client
        .read_all(&ReadAllOptions::default().backwards(true).limit(1))
        .await?
        .collect_events()
        .await?;
    assert_eq!(last[0].commit_position, Some(commit_position));
    let orders = client
        .read_all(
            &ReadAllOptions::default()
                .filter_include([stream.clone()])
                .filter_by_stream_name(true),
        )
        .await?
        .collect_events()
        .await?;
    println!("{} events of {stream} in $all", orders.len());
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
