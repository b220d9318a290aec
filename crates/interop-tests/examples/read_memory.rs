//! Memory of large reads and of a stalled subscriber: stores 1,000,000 events in
//! one stream (on an in-process embedded server), then reports how much the
//! process's peak resident memory (VmHWM) grows while our client reads the whole
//! stream, reads `$all`, and while a catch-up subscription's consumer stops
//! reading. Bounded memory shows as growth far below the stream's size; a client
//! that buffered a whole read would grow by hundreds of MiB here.
//!
//! Run by hand (Linux): `cargo run --release -p interop-tests --example read_memory`

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::{
    AppendToStreamOptions, ReadAllOptions, ReadStreamOptions, SubscribeToAllOptions,
};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState};

const EVENTS: u64 = 1_000_000;
const BATCH: u64 = 1_000;
const PAYLOAD: &str = r#"{"order":"order-123","amount":42,"note":"a small event"}"#;

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak (VmHWM) to the current resident size.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = EmbeddedServer::start().await?;
    let client = AsyncKurrentDBClient::connect(&server.connection_string()).await?;
    let stream = "memory-probe";
    for i in 0..EVENTS / BATCH {
        let events = (0..BATCH).map(|_| NewEvent::new("OrderPlaced", PAYLOAD));
        let expected = if i == 0 {
            StreamState::NoStream
        } else {
            StreamState::Version(i * BATCH - 1)
        };
        client
            .append_to_stream(stream, expected, events, &AppendToStreamOptions::default())
            .await?;
    }
    let stored_bytes = EVENTS * PAYLOAD.len() as u64;
    println!(
        "stored {EVENTS} events ({} MiB of payload); VmRSS {} MiB",
        stored_bytes >> 20,
        status_kib("VmRSS:") >> 10
    );

    reset_peak();
    let base = status_kib("VmRSS:");
    let mut read = client
        .read_stream(stream, &ReadStreamOptions::default())
        .await?;
    let mut count = 0u64;
    while let Some(event) = read.next().await {
        event?;
        count += 1;
    }
    let peak = status_kib("VmHWM:");
    println!(
        "read_stream: {count} events, peak RSS growth {} KiB",
        peak.saturating_sub(base)
    );

    reset_peak();
    let base = status_kib("VmRSS:");
    let mut read = client.read_all(&ReadAllOptions::default()).await?;
    let mut count = 0u64;
    while let Some(event) = read.next().await {
        event?;
        count += 1;
    }
    let peak = status_kib("VmHWM:");
    println!(
        "read_all: {count} events, peak RSS growth {} KiB",
        peak.saturating_sub(base)
    );

    // A consumer that stops reading: take one event, then stall for 3 s while
    // the server could push the remaining ~1,000,000.
    reset_peak();
    let base = status_kib("VmRSS:");
    let mut subscription = client
        .subscribe_to_all(&SubscribeToAllOptions::default())
        .await?;
    let first = subscription.next().await;
    assert!(matches!(first, Some(Ok(_))));
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let stalled_peak = status_kib("VmHWM:");
    let mut delivered = 1u64;
    while delivered < EVENTS {
        match subscription.next().await {
            Some(Ok(_)) => delivered += 1,
            other => return Err(format!("subscription ended early: {other:?}").into()),
        }
    }
    subscription.stop();
    println!(
        "stalled subscriber: peak RSS growth {} KiB while stalled, then {delivered} events delivered",
        stalled_peak.saturating_sub(base)
    );
    Ok(())
}
