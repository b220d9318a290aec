//! Blocking: Reading events: a stream forwards, backwards, from a position, with a limit;
//! `$all` with filters.
//!
//! The blocking twin of `reading.rs`: the same calls on
//! `kurrentdbclient_blocking::KurrentDBClient`, from a plain `main`.
//!
//! ```text
//! cargo run --example blocking_reading
//! ```

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient_blocking::options::*;
use kurrentdbclient_blocking::{Error, KurrentDBClient, NewEvent, StreamState};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = server()?;
    let client = KurrentDBClient::connect(&uri)?;
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
        )?
        .commit_position;

    // The whole stream, as an iterator of events.
    for event in client.read_stream(&stream, &ReadStreamOptions::default())? {
        let event = event?;
        println!(
            "{} #{} {}",
            event.stream_name, event.stream_position, event.r#type
        );
    }

    // From position 1 (included).
    let from_1 = client.get_stream(&stream, &ReadStreamOptions::default().stream_position(1))?;
    assert_eq!(from_1.len(), 2);

    // Backwards, from the end.
    let backwards = client.get_stream(&stream, &ReadStreamOptions::default().backwards(true))?;
    assert_eq!(backwards[0].r#type, "OrderDeleted");

    // The first two.
    let limited = client.get_stream(&stream, &ReadStreamOptions::default().limit(2))?;
    assert_eq!(limited.len(), 2);

    // One, backwards from position 2.
    let one = client.get_stream(
        &stream,
        &ReadStreamOptions::default()
            .stream_position(2)
            .backwards(true)
            .limit(1),
    )?;
    assert_eq!(one[0].stream_position, 2);

    // A stream that does not exist: NotFound when the read is opened.
    let missing = client.read_stream("no-such-stream-here", &ReadStreamOptions::default());
    assert!(matches!(missing, Err(Error::NotFound { .. })));

    // The current version, and $all.
    let version = client.get_current_version(&stream, &GetCurrentVersionOptions::default())?;
    assert_eq!(version, StreamState::Version(2));
    let last = client
        .read_all(&ReadAllOptions::default().backwards(true).limit(1))?
        .collect_events()?;
    assert_eq!(last[0].commit_position, Some(commit_position));
    let orders = client
        .read_all(
            &ReadAllOptions::default()
                .filter_include([stream.clone()])
                .filter_by_stream_name(true),
        )?
        .collect_events()?;
    println!("{} events of {stream} in $all", orders.len());
    Ok(())
}

fn server() -> std::io::Result<(Option<EmbeddedServer>, String)> {
    Ok(match std::env::var("KURRENTDB_URI") {
        Ok(uri) => (None, uri),
        Err(_) => {
            let server = EmbeddedServer::start_blocking()?;
            let uri = server.connection_string();
            (Some(server), uri)
        }
    })
}
