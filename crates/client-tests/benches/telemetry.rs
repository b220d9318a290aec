//! What the client's instrumentation costs (`kurrentdbclient::telemetry`), on
//! an embedded server on its own thread:
//!
//! - `no_subscriber`: the spans compiled in, and no subscriber (the default
//!   for an application that does not trace);
//! - `otel_exporter` (feature `opentelemetry`): a subscriber with the
//!   `tracing-opentelemetry` layer and a batch exporter that drops the spans,
//!   so the row is the cost of making, recording and handing them over (and of
//!   writing `$traceId`/`$spanId` into each event's metadata), not of a
//!   network.
//!
//! Groups: `telemetry_append_one` (one one-event append per iteration),
//! `telemetry_read_10k` (reading a 10,000-event stream to its end). The runs
//! without instrumentation are the same bench at the commit before it:
//! `benches/telemetry.sh` runs both and prints the table.

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::{
    AppendToStreamOptions, AsyncKurrentDBClient, NewEvent, ReadStreamOptions, StreamState,
};
use tokio::runtime::Runtime;

const READ_EVENTS: usize = 10_000;

struct Bench {
    _server: EmbeddedServer,
    /// A current-thread runtime: the client's work runs on the bench thread,
    /// under the subscriber set there.
    rt: Runtime,
    client: AsyncKurrentDBClient,
    read_stream: String,
}

impl Bench {
    fn start() -> Bench {
        let server = EmbeddedServer::start_blocking().expect("embedded server starts");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let read_stream = format!("telemetry-read-{}", uuid::Uuid::new_v4().simple());
        let client = rt.block_on(async {
            let client = AsyncKurrentDBClient::connect(&server.connection_string())
                .await
                .expect("client connects");
            for chunk in 0..READ_EVENTS / 1000 {
                let events = (0..1000)
                    .map(|i| NewEvent::new("Read", format!(r#"{{"i": {}}}"#, chunk * 1000 + i)));
                client
                    .append_to_stream(
                        &read_stream,
                        StreamState::Any,
                        events,
                        &AppendToStreamOptions::default(),
                    )
                    .await
                    .expect("seeded");
            }
            client
        });
        Bench {
            _server: server,
            rt,
            client,
            read_stream,
        }
    }

    fn append_one(&self, c: &mut Criterion, id: &str) {
        let stream = format!("telemetry-append-{}", uuid::Uuid::new_v4().simple());
        c.benchmark_group("telemetry_append_one")
            .bench_function(id, |b| {
                b.to_async(&self.rt).iter(|| async {
                    self.client
                        .append_to_stream(
                            &stream,
                            StreamState::Any,
                            [NewEvent::new("Appended", r#"{"n": 1}"#)
                                .with_metadata(r#"{"by": "bench"}"#)],
                            &AppendToStreamOptions::default(),
                        )
                        .await
                        .expect("appended")
                })
            });
    }

    fn read_10k(&self, c: &mut Criterion, id: &str) {
        let mut group = c.benchmark_group("telemetry_read_10k");
        group.sample_size(20);
        group.bench_function(id, |b| {
            b.to_async(&self.rt).iter(|| async {
                let mut events = self
                    .client
                    .read_stream(&self.read_stream, &ReadStreamOptions::default())
                    .await
                    .expect("read");
                let mut n = 0;
                while let Some(event) = events.next().await {
                    event.expect("event");
                    n += 1;
                }
                assert_eq!(n, READ_EVENTS);
            })
        });
    }
}

fn telemetry(c: &mut Criterion) {
    let bench = Bench::start();
    bench.append_one(c, "no_subscriber");
    bench.read_10k(c, "no_subscriber");
    #[cfg(feature = "opentelemetry")]
    {
        let (provider, subscriber) = otel::exporting();
        let _default = tracing::subscriber::set_default(subscriber);
        bench.append_one(c, "otel_exporter");
        bench.read_10k(c, "otel_exporter");
        let _ = provider.shutdown();
    }
}

#[cfg(feature = "opentelemetry")]
mod otel {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use tracing_subscriber::layer::SubscriberExt;

    /// Drops what it is given.
    #[derive(Debug)]
    struct Dropping;

    impl SpanExporter for Dropping {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            drop(batch);
            Ok(())
        }
    }

    pub(super) fn exporting() -> (SdkTracerProvider, impl tracing::Subscriber + Send + Sync) {
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(Dropping)
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
        (provider, tracing_subscriber::registry().with(layer))
    }
}

criterion_group!(benches, telemetry);
criterion_main!(benches);
