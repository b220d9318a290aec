//! Quickstart, blocking: start a KurrentDB-compatible server in-process, append
//! an event, read it back, with `kurrentdbclient_blocking::KurrentDBClient` on a
//! plain `main` (no async anywhere). The blocking twin of `quickstart.rs`.
//!
//! ```text
//! cargo run --example blocking_quickstart
//! ```
//!
//! Set `KURRENTDB_URI` (for example `kurrentdb://127.0.0.1:2113?tls=false`) to
//! run it against a real KurrentDB instead.

use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient_blocking::options::{
    AppendToStreamOptions, GetCommitPositionOptions, ReadStreamOptions,
};
use kurrentdbclient_blocking::{KurrentDBClient, NewEvent, StreamState};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Use KURRENTDB_URI when it is set; otherwise start the embedded server
    // (on its own thread).
    let (_server, uri) = match std::env::var("KURRENTDB_URI") {
        Ok(uri) => (None, uri),
        Err(_) => {
            let server = EmbeddedServer::start_blocking()?;
            let uri = server.connection_string();
            (Some(server), uri)
        }
    };
    println!("connecting to {uri}");
    let client = KurrentDBClient::connect(&uri)?;

    // Test the connection: the commit position of the last recorded event.
    let commit_position = client.get_commit_position(&GetCommitPositionOptions::default())?;
    println!("commit position: {commit_position}");

    // Append the first event of a new stream.
    let stream_name = format!("order:{}", uuid::Uuid::new_v4().simple());
    let commit_position = client
        .append_to_stream(
            &stream_name,
            StreamState::NoStream,
            [NewEvent::new("OrderCreated", r#"{"name": "Greg"}"#)],
            &AppendToStreamOptions::default(),
        )?
        .commit_position;
    println!("appended to {stream_name} at commit position {commit_position}");

    // Read the stream back: an iterator of events.
    for event in client.read_stream(&stream_name, &ReadStreamOptions::default())? {
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
