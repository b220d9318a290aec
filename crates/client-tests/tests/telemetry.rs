//! The client's spans, as a `tracing` subscriber sees them (any build), and
//! as an OpenTelemetry exporter sees them (feature `opentelemetry`: run with
//! `cargo test -p client-tests --features opentelemetry --test telemetry`).
//!
//! Each test sets its own subscriber for its thread only, and runs the client
//! on a current-thread runtime on that thread, so that the tests of this file
//! can run in parallel; the server runs on its own thread, unseen.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kurrentdb_embedded::EmbeddedServer;
use kurrentdbclient::options::{AppendToStreamOptions, SubscribeToStreamOptions};
use kurrentdbclient::{AsyncKurrentDBClient, Error, NewEvent, StreamState, SubscriptionItem};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Subscriber, info_span};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the collector saw it: its name, its fields (as text) and the name
/// of its parent.
#[derive(Debug, Clone, Default)]
struct SeenSpan {
    name: &'static str,
    parent: Option<&'static str>,
    fields: BTreeMap<String, String>,
}

impl SeenSpan {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl Visit for SeenSpan {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.fields
            .insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields
            .insert(field.name().to_owned(), value.to_owned());
    }
}

/// A layer that keeps every span it sees, in the order they were made.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<(Id, SeenSpan)>>>,
}

impl Collector {
    fn named(&self, name: &str) -> Vec<SeenSpan> {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .filter(|(_, s)| s.name == name)
            .map(|(_, s)| s.clone())
            .collect()
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Collector {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut seen = SeenSpan {
            name: attrs.metadata().name(),
            parent: ctx.span(id).and_then(|s| s.parent()).map(|p| p.name()),
            fields: BTreeMap::new(),
        };
        attrs.record(&mut seen);
        self.spans.lock().unwrap().push((id.clone(), seen));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some((_, seen)) = spans.iter_mut().rev().find(|(i, _)| i == id) {
            values.record(seen);
        }
    }
}

/// Runs `f` on a current-thread runtime under `subscriber`.
fn run_with<S, F>(subscriber: S, f: impl FnOnce() -> F) -> F::Output
where
    S: Subscriber + Send + Sync + 'static,
    F: Future,
{
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f())
    })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Appends once, then again with a wrong expected version.
async fn append_twice(uri: &str, stream: &str) -> Error {
    let client = AsyncKurrentDBClient::connect(uri).await.unwrap();
    let options = AppendToStreamOptions::default();
    let event = || NewEvent::new("Tested", r#"{"n": 1}"#);
    client
        .append_to_stream(stream, StreamState::NoStream, [event()], &options)
        .await
        .unwrap();
    client
        .append_to_stream(stream, StreamState::NoStream, [event()], &options)
        .await
        .unwrap_err()
}

#[test]
fn an_append_is_a_producer_span_with_the_official_attributes_and_its_outcome() {
    let server = EmbeddedServer::start_blocking().unwrap();
    let collector = Collector::default();
    let (uri, stream) = (server.connection_string(), unique("telemetry-append"));
    let error = run_with(
        tracing_subscriber::registry().with(collector.clone()),
        || append_twice(&uri, &stream),
    );
    assert!(
        matches!(error, Error::WrongCurrentVersion { .. }),
        "{error:?}"
    );

    let appends = collector.named("streams.append");
    assert_eq!(appends.len(), 2, "{appends:#?}");
    let port = server.addr().port().to_string();
    for span in &appends {
        for (field, value) in [
            ("otel.kind", "producer"),
            ("db.system", "kurrentdb"),
            ("db.operation", "streams.append"),
            ("db.user", ""),
            ("db.kurrentdb.stream", stream.as_str()),
            ("server.address", "127.0.0.1"),
            ("server.port", port.as_str()),
        ] {
            assert_eq!(span.field(field), Some(value), "{field} of {span:#?}");
        }
    }
    assert_eq!(appends[0].field("otel.status_code"), Some("OK"));
    assert_eq!(appends[1].field("otel.status_code"), Some("ERROR"));
    let description = appends[1].field("otel.status_description").unwrap();
    assert_eq!(description, format!("WrongCurrentVersion: {error}"));
    // `connect` has its span too, named after the method as Python names the
    // calls it has no name for.
    assert_eq!(collector.named("AsyncKurrentDBClient.connect").len(), 1);
}

#[test]
fn an_event_appended_under_a_trace_gets_a_consumer_span_from_the_subscription() {
    let server = EmbeddedServer::start_blocking().unwrap();
    let collector = Collector::default();
    let stream = unique("telemetry-consume");
    // As the Python client writes them: `0x`, no leading zeros.
    let traced = NewEvent::new("Traced", "{}").with_metadata(
        r#"{"$traceId": "0xaf7651916cd43dd8448eb211c80319c", "$spanId": "0xf067aa0ba902b7"}"#,
    );
    let plain = NewEvent::new("Plain", "{}");
    let traced_id = traced.id;
    let subscription_id = run_with(
        tracing_subscriber::registry().with(collector.clone()),
        || async {
            let client = AsyncKurrentDBClient::connect(&server.connection_string())
                .await
                .unwrap();
            client
                .append_to_stream(
                    &stream,
                    StreamState::Any,
                    [plain, traced],
                    &Default::default(),
                )
                .await
                .unwrap();
            let reader = info_span!("reader");
            let _entered = reader.enter();
            let mut subscription = client
                .subscribe_to_stream(&stream, &SubscribeToStreamOptions::default())
                .await
                .unwrap();
            for _ in 0..2 {
                let item = subscription.next().await.unwrap().unwrap();
                assert!(matches!(item, SubscriptionItem::Event(_)), "{item:?}");
            }
            subscription.subscription_id().to_owned()
        },
    );

    let subscribes = collector.named("streams.subscribe");
    // The opening of the subscription, then the traced event (the plain one
    // carries no trace, so no span: as in Python and .NET).
    assert_eq!(subscribes.len(), 2, "{subscribes:#?}");
    let (opening, consumed) = (&subscribes[0], &subscribes[1]);
    assert_eq!(opening.parent, Some("reader"));
    assert_eq!(opening.field("otel.kind"), Some("consumer"));
    assert_eq!(opening.field("otel.status_code"), Some("OK"));
    assert_eq!(
        consumed.parent, None,
        "an event's span is not the reader's child"
    );
    let event_id = traced_id.to_string();
    let port = server.addr().port().to_string();
    for (field, value) in [
        ("otel.kind", "consumer"),
        ("db.system", "kurrentdb"),
        ("db.operation", "streams.subscribe"),
        ("db.user", ""),
        ("db.kurrentdb.stream", stream.as_str()),
        ("db.kurrentdb.subscription.id", subscription_id.as_str()),
        ("db.kurrentdb.event.id", event_id.as_str()),
        ("db.kurrentdb.event.type", "Traced"),
        ("server.address", "127.0.0.1"),
        ("server.port", port.as_str()),
        ("otel.status_code", "OK"),
    ] {
        assert_eq!(
            consumed.field(field),
            Some(value),
            "{field} of {consumed:#?}"
        );
    }
}

#[test]
fn a_blocking_call_runs_in_the_callers_span() {
    let server = EmbeddedServer::start_blocking().unwrap();
    let collector = Collector::default();
    let stream = unique("telemetry-blocking");
    let subscriber = tracing_subscriber::registry().with(collector.clone());
    tracing::subscriber::with_default(subscriber, || {
        let client =
            kurrentdbclient_blocking::KurrentDBClient::connect(&server.connection_string())
                .unwrap();
        let _caller = info_span!("caller").entered();
        client
            .append_to_stream(
                &stream,
                StreamState::NoStream,
                [NewEvent::new("E", "{}")],
                &AppendToStreamOptions::default(),
            )
            .unwrap();
    });
    let appends = collector.named("streams.append");
    assert_eq!(appends.len(), 1, "{appends:#?}");
    assert_eq!(appends[0].parent, Some("caller"));
}

#[cfg(feature = "opentelemetry")]
#[path = "support/in_memory_exporter.rs"]
mod in_memory_exporter;

#[cfg(feature = "opentelemetry")]
mod otel {
    //! With the `tracing-opentelemetry` layer and an in-memory exporter.

    use futures::StreamExt;
    use kurrentdb_embedded::EmbeddedServer;
    use kurrentdbclient::options::{AppendToStreamOptions, SubscribeToStreamOptions};
    use kurrentdbclient::{AsyncKurrentDBClient, NewEvent, StreamState, SubscriptionItem};
    use opentelemetry::trace::{SpanKind, Status};
    use opentelemetry::{KeyValue, Value};
    use opentelemetry_sdk::trace::SpanData;
    use tracing::{Instrument, info_span};

    use super::in_memory_exporter::exporting;
    use super::{append_twice, run_with, unique};

    fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
        spans.iter().filter(|s| s.name == name).collect()
    }

    fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn the_producer_and_the_consumer_are_parent_and_child_in_one_trace() {
        let server = EmbeddedServer::start_blocking().unwrap();
        let (exporter, subscriber) = exporting();
        let stream = unique("otel-trace");
        let metadata = run_with(subscriber, || async {
            let client = AsyncKurrentDBClient::connect(&server.connection_string())
                .await
                .unwrap();
            let event = NewEvent::new("Traced", "{}").with_metadata(r#"{"by": "test"}"#);
            async {
                client
                    .append_to_stream(
                        &stream,
                        StreamState::NoStream,
                        [event],
                        &AppendToStreamOptions::default(),
                    )
                    .await
                    .unwrap();
            }
            .instrument(info_span!("writer"))
            .await;
            let mut subscription = client
                .subscribe_to_stream(&stream, &SubscribeToStreamOptions::default())
                .await
                .unwrap();
            match subscription.next().await.unwrap().unwrap() {
                SubscriptionItem::Event(event) => event.metadata,
                other => panic!("{other:?}"),
            }
        });

        let spans = exporter.spans();
        let [producer] = named(&spans, "streams.append")[..] else {
            panic!("{spans:#?}")
        };
        let [writer] = named(&spans, "writer")[..] else {
            panic!("{spans:#?}")
        };
        let subscribes = named(&spans, "streams.subscribe");
        let consumer = subscribes
            .iter()
            .find(|s| attribute(&s.attributes, "db.kurrentdb.event.id").is_some())
            .unwrap_or_else(|| panic!("no consumer span: {spans:#?}"));

        assert_eq!(producer.span_kind, SpanKind::Producer);
        assert_eq!(producer.parent_span_id, writer.span_context.span_id());
        assert_eq!(producer.status, Status::Ok);
        assert_eq!(consumer.span_kind, SpanKind::Consumer);
        assert_eq!(
            consumer.span_context.trace_id(),
            producer.span_context.trace_id()
        );
        assert_eq!(consumer.parent_span_id, producer.span_context.span_id());
        assert!(consumer.parent_span_is_remote);

        // The metadata carries the producer's ids, in their W3C forms, after
        // the user's own key.
        let expected = format!(
            r#"{{"by": "test","$traceId":"{}","$spanId":"{}"}}"#,
            producer.span_context.trace_id(),
            producer.span_context.span_id()
        );
        assert_eq!(std::str::from_utf8(&metadata).unwrap(), expected);

        for (key, value) in [
            ("db.system", Value::from("kurrentdb")),
            ("db.operation", Value::from("streams.append")),
            ("db.user", Value::from("")),
            ("db.kurrentdb.stream", Value::from(stream.clone())),
            ("server.address", Value::from("127.0.0.1")),
            ("server.port", Value::from(i64::from(server.addr().port()))),
        ] {
            assert_eq!(attribute(&producer.attributes, key), Some(&value), "{key}");
        }
        for (key, value) in [
            ("db.system", Value::from("kurrentdb")),
            ("db.operation", Value::from("streams.subscribe")),
            ("db.kurrentdb.stream", Value::from(stream.clone())),
            ("db.kurrentdb.event.type", Value::from("Traced")),
            ("server.port", Value::from(i64::from(server.addr().port()))),
        ] {
            assert_eq!(attribute(&consumer.attributes, key), Some(&value), "{key}");
        }
        assert!(attribute(&consumer.attributes, "db.kurrentdb.subscription.id").is_some());
    }

    #[test]
    fn a_wrong_expected_version_is_an_error_span_with_an_exception_event() {
        let server = EmbeddedServer::start_blocking().unwrap();
        let (exporter, subscriber) = exporting();
        let (uri, stream) = (server.connection_string(), unique("otel-error"));
        let error = run_with(subscriber, || append_twice(&uri, &stream));
        let spans = exporter.spans();
        let appends = named(&spans, "streams.append");
        assert_eq!(appends.len(), 2, "{spans:#?}");
        let failed = appends[1];
        assert_eq!(
            failed.status,
            Status::error(format!("WrongCurrentVersion: {error}"))
        );
        // (The other events are the `tracing` events of the libraries below.)
        let events: Vec<_> = failed
            .events
            .events
            .iter()
            .filter(|e| e.name == "exception")
            .collect();
        assert_eq!(events.len(), 1, "{:#?}", failed.events);
        for (key, value) in [
            (
                "exception.type",
                Value::from("kurrentdbclient::Error::WrongCurrentVersion"),
            ),
            ("exception.message", Value::from(error.to_string())),
            ("exception.escaped", Value::from(true)),
        ] {
            assert_eq!(attribute(&events[0].attributes, key), Some(&value), "{key}");
        }
    }
}
