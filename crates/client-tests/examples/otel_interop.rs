//! The Rust side of the trace-propagation interop check (`tracing_interop.py`
//! drives it): our client with the `opentelemetry` feature, exporting to memory.
//!
//! ```text
//! otel_interop consume URI STREAM   subscribes to STREAM, takes its first event,
//!                                   prints the parent of that event's consumer
//!                                   span: "TRACE_ID SPAN_ID" (hex), or "none"
//! otel_interop append URI STREAM    appends one JSON event to STREAM inside a
//!                                   span, prints the ids of the append's
//!                                   producer span: "TRACE_ID SPAN_ID" (hex)
//! ```
//!
//! Run with `cargo run -p client-tests --features opentelemetry --example otel_interop -- ...`.

use std::process::ExitCode;

use futures::StreamExt;
use kurrentdbclient::options::{AppendToStreamOptions, SubscribeToStreamOptions};
use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState, SubscriptionItem};
use opentelemetry_sdk::trace::SpanData;
use tracing::Instrument;

#[path = "../tests/support/in_memory_exporter.rs"]
mod in_memory_exporter;

fn ids(span: &SpanData, parent: bool) -> String {
    let span_id = if parent {
        span.parent_span_id
    } else {
        span.span_context.span_id()
    };
    format!("{} {}", span.span_context.trace_id(), span_id)
}

async fn run(mode: &str, uri: &str, stream: &str) -> kurrentdbclient::Result<Option<String>> {
    let (exporter, subscriber) = in_memory_exporter::exporting();
    let _default = tracing::subscriber::set_default(subscriber);
    let client = AsyncKurrentDBClient::connect(uri).await?;
    match mode {
        "consume" => {
            let mut subscription = client
                .subscribe_to_stream(stream, &SubscribeToStreamOptions::default())
                .await?;
            let Some(SubscriptionItem::Event(event)) = subscription.next().await.transpose()?
            else {
                return Ok(Some("none".into()));
            };
            let spans = exporter.spans();
            let consumer = spans.iter().find(|s| {
                s.attributes.iter().any(|kv| {
                    kv.key.as_str() == "db.kurrentdb.event.id"
                        && kv.value.as_str() == event.id.to_string()
                })
            });
            Ok(Some(consumer.map_or("none".into(), |s| ids(s, true))))
        }
        "append" => {
            client
                .append_to_stream(
                    stream,
                    StreamState::NoStream,
                    [NewEvent::new("FromRust", r#"{"from": "rust"}"#)],
                    &AppendToStreamOptions::default(),
                )
                .instrument(tracing::info_span!("rust writer"))
                .await?;
            let spans = exporter.spans();
            let producer = spans.iter().find(|s| s.name == "streams.append");
            Ok(Some(producer.map_or("none".into(), |s| ids(s, false))))
        }
        _ => Ok(None),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, uri, stream] = &args[..] else {
        eprintln!("usage: otel_interop consume|append URI STREAM");
        return ExitCode::from(2);
    };
    match run(mode, uri, stream).await {
        Ok(Some(line)) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("unknown mode {mode:?}: consume or append");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("otel_interop: {e}");
            ExitCode::FAILURE
        }
    }
}
