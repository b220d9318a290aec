//! Quickstart: start a KurrentDB-compatible server in-process, append an event,
//! read it back.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Set `KURRENTDB_URI` (for example `kurrentdb://127.0.0.1:2113?tls=false`) to
//! run it against a real KurrentDB instead.

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::{
    AppendToStreamOptions, GetCommitPositionOptions, ReadStreamOptions,
};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Use KURRENTDB_URI when it is set; otherwise start the embedded server.
    let (_server, uri) = match std::env::var("KURRENTDB_URI") {
        Ok(uri) => (None, uri),
        Err(_) => {
            let server = EmbeddedServer::start().await?;
            let uri = server.connection_string();
            (Some(server), uri)
        }
    };
    println!("connecting to {uri}");
    let client = AsyncKurrentDBClient::connect(&uri).await?;

    // Test the connection: the commit position of the last recorded event.
    let commit_position = client
        .get_commit_position(&GetCommitPositionOptions::default())
        .await?;
    println!("commit position: {commit_position}");

    // Append the first event of a new stream.
    let stream_name = format!("order:{}", uuid::Uuid::new_v4().simple());
    let commit_position = client
        .append_to_stream(
            &stream_name,
            StreamState::NoStream,
            [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
            &AppendToStreamOptions::default(),
        )
        .await?
        .commit_position;
    println!("appended to {stream_name} at commit position {commit_position}");

    // Read the stream back.
    let mut events = client
        .read_stream(&stream_name, &ReadStreamOptions::default())
        .await?;
    while let Some(event) = events.next().await {
        let event = event?;
        println!(
            "{}#{} {} {}",
            event.stream_name,
            event.stream_position,
            event.r#type,
            String::from_utf8_lossy(&event.data)
        );
    }
    client.close();
    Ok(())
}
