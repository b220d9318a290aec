//! Blocking: Deleting streams: the examples of the "Deleting events" reference page.
//!
//! The blocking twin of `deleting.rs`: the same calls on
//! `kurrentdbclient_blocking::KurrentDBClient`, from a plain `main`.
//!
//! ```text
//! cargo run --example blocking_deleting
//! ```

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient_blocking::options::*;
use kurrentdbclient_blocking::{Error, KurrentDBClient, NewEvent, StreamState};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = server()?;
    let client = KurrentDBClient::connect(&uri)?;
    let stream = format!("order-123-{}", uuid::Uuid::new_v4().simple());

    client.append_to_stream(
        &stream,
        StreamState::NoStream,
        [
            NewEvent::new("OrderCreated", r#"{"order_id": "order-123"}"#),
            NewEvent::new("OrderUpdated", r#"{"status": "processing"}"#),
            NewEvent::new("OrderUpdated", r#"{"status": "shipped"}"#),
        ],
        &AppendToStreamOptions::default(),
    )?;

    // Soft delete with the current version: the stream can be reopened later.
    let current_version =
        client.get_current_version(&stream, &GetCurrentVersionOptions::default())?;
    client.delete_stream(&stream, current_version, &DeleteStreamOptions::default())?;
    println!("Deleted stream: {stream} (was at version {current_version})");
    assert!(matches!(
        client.get_stream(&stream, &ReadStreamOptions::default()),
        Err(Error::NotFound { .. })
    ));

    // Hard delete (tombstone): the name can never be used again.
    let current_version =
        client.get_current_version(&stream, &GetCurrentVersionOptions::default())?;
    client.tombstone_stream(
        &stream,
        match current_version {
            StreamState::NoStream => StreamState::Any,
            v => v,
        },
        &TombstoneStreamOptions::default(),
    )?;
    println!("Tombstoned stream: {stream}");
    let again = client.append_to_stream(
        &stream,
        StreamState::Any,
        [NewEvent::new("OrderCreated", "{}")],
        &AppendToStreamOptions::default(),
    );
    assert!(matches!(again, Err(Error::StreamIsDeleted { .. })));
    println!("appending again: {}", again.unwrap_err());
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
