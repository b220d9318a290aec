//! Deleting streams: the examples of the "Deleting events" reference page.
//!
//! ```text
//! cargo run --example deleting
//! ```

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::*;
use kurrentdbclient::{AsyncKurrentDBClient, Error, NewEvent, StreamState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, uri) = server().await?;
    let client = AsyncKurrentDBClient::connect(&uri).await?;
    let stream = format!("order-123-{}", uuid::Uuid::new_v4().simple());

    client
        .append_to_stream(
            &stream,
            StreamState::NoStream,
            [
                NewEvent::new("OrderCreated", r#"{"order_id": "order-123"}"#),
                NewEvent::new("OrderUpdated", r#"{"status": "processing"}"#),
                NewEvent::new("OrderUpdated", r#"{"status": "shipped"}"#),
            ],
            &AppendToStreamOptions::default(),
        )
        .await?;

    // Soft delete with the current version: the stream can be reopened later.
    let current_version = client
        .get_current_version(&stream, &GetCurrentVersionOptions::default())
        .await?;
    client
        .delete_stream(&stream, current_version, &DeleteStreamOptions::default())
        .await?;
    println!("Deleted stream: {stream} (was at version {current_version})");
    assert!(matches!(
        client
            .get_stream(&stream, &ReadStreamOptions::default())
            .await,
        Err(Error::NotFound { .. })
    ));

    // Hard delete (tombstone): the name can never be used again.
    let current_version = client
        .get_current_version(&stream, &GetCurrentVersionOptions::default())
        .await?;
    client
        .tombstone_stream(
            &stream,
            match current_version {
                StreamState::NoStream => StreamState::Any,
                v => v,
            },
            &TombstoneStreamOptions::default(),
        )
        .await?;
    println!("Tombstoned stream: {stream}");
    let again = client
        .append_to_stream(
            &stream,
            StreamState::Any,
            [NewEvent::new("OrderCreated", "{}")],
            &AppendToStreamOptions::default(),
        )
        .await;
    assert!(matches!(again, Err(Error::StreamIsDeleted { .. })));
    println!("appending again: {}", again.unwrap_err());
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
