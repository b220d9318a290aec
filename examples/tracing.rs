//! The client's spans on the console: every call runs in a span named as the
//! official clients name it (`streams.append`, `streams.subscribe`,
//! `AsyncKurrentDBClient.get_stream`, ...), with the attributes
//! `db.system`, `db.operation`, `db.kurrentdb.stream`, `server.address`, ...,
//! and its outcome (`otel.status_code`, `otel.status_description`). The
//! embedded server's log lines (one per call, with its gRPC status) are shown
//! too.
//!
//! ```sh
//! cargo run --example tracing
//! RUST_LOG=kurrentdbclient=info cargo run --example tracing   # only the client
//! ```
//!
//! To send the spans to an OpenTelemetry collector instead, see the README's
//! "Observability" section.

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::{
    AppendToStreamOptions, ReadStreamOptions, SubscribeToStreamOptions,
};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState, SubscriptionItem};
use tracing::Instrument;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Print each span when it closes, with its fields; filter with RUST_LOG.
    let filter: Targets = std::env::var("RUST_LOG")
        .unwrap_or_else(|_| "tracing=info,kurrentdbclient=info,kurrentdb_embedded=debug".into())
        .parse()?;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_span_events(FmtSpan::CLOSE))
        .with(filter)
        .init();

    let server = EmbeddedServer::start().await?;
    let client = AsyncKurrentDBClient::connect(&server.connection_string()).await?;

    // The client's spans nest under the application's.
    async {
        client
            .append_to_stream(
                "order-1",
                StreamState::NoStream,
                [NewEvent::new("OrderPlaced", r#"{"id": 1}"#)],
                &AppendToStreamOptions::default(),
            )
            .await?;
        client
            .get_stream("order-1", &ReadStreamOptions::default())
            .await
    }
    .instrument(tracing::info_span!("place order"))
    .await?;

    let mut subscription = client
        .subscribe_to_stream("order-1", &SubscribeToStreamOptions::default())
        .await?;
    if let Some(SubscriptionItem::Event(event)) = subscription.next().await.transpose()? {
        println!("received {} from {}", event.r#type, event.stream_name);
    }
    subscription.stop();

    // A failed call: its span records the error.
    let again = client
        .append_to_stream(
            "order-1",
            StreamState::NoStream,
            [NewEvent::new("OrderPlaced", r#"{"id": 1}"#)],
            &AppendToStreamOptions::default(),
        )
        .await;
    println!("appending again with NoStream: {}", again.unwrap_err());

    server.shutdown().await;
    Ok(())
}
