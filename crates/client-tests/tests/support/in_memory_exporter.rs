//! An OpenTelemetry span exporter that keeps the spans in memory, for the
//! telemetry tests and the Python interop driver (included by `#[path]`).

use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt;

/// Keeps the exported spans.
#[derive(Debug, Clone, Default)]
pub struct InMemory(Arc<Mutex<Vec<SpanData>>>);

impl InMemory {
    /// The spans exported so far.
    pub fn spans(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().clone()
    }
}

impl SpanExporter for InMemory {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// A subscriber with the `tracing-opentelemetry` layer, exporting each span to
/// a fresh in-memory exporter as it ends.
pub fn exporting() -> (InMemory, impl tracing::Subscriber + Send + Sync) {
    let exporter = InMemory::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer =
        tracing_opentelemetry::layer().with_tracer(provider.tracer("kurrentdbclient-tests"));
    (exporter, tracing_subscriber::registry().with(layer))
}
