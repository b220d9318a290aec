//! Observability: the [`tracing`] spans of the client's calls, named and
//! attributed as the official clients' OpenTelemetry instrumentation names
//! them, so that traces cross languages.
//!
//! # Spans
//!
//! Every public operation of [`AsyncKurrentDBClient`](crate::AsyncKurrentDBClient)
//! (and so of the blocking client, which runs them) runs inside one span at
//! level `INFO`, named as the Python client names its spans
//! (`kurrentdbclient` 1.3.5, `instrumentation/opentelemetry/spanners.py`):
//!
//! | operation | span name | kind |
//! |---|---|---|
//! | `append_to_stream` | [`STREAMS_APPEND`] (`streams.append`) | producer |
//! | `multi_append_to_stream`, `append_records` | [`STREAMS_MULTI_APPEND`] (`streams.multi-append`) | producer |
//! | `subscribe_to_all`, `subscribe_to_stream`, `read_subscription_to_all`, `read_subscription_to_stream` | [`STREAMS_SUBSCRIBE`] (`streams.subscribe`) | consumer |
//! | every other operation | `AsyncKurrentDBClient.<method>`, e.g. `AsyncKurrentDBClient.get_stream` | client |
//!
//! (The Python client names the calls it has no name for after the method,
//! `AsyncKurrentDBClient.get_stream`; the .NET client also names
//! `AppendRecords` `streams.multi-append`.) The kind is the `otel.kind` field,
//! which the `tracing-opentelemetry` bridge turns into the span kind.
//!
//! A span has the attributes ([fields](tracing::field)) of the Python client:
//! `db.system` = `kurrentdb`, `db.operation` = the span name, `db.user` (the
//! connection string's user, `""` when none: per-call credentials are not
//! reported, as in Python), `server.address` and `server.port` (the node
//! called; with `+discover` and a single host, that host, so that the address
//! stays the same across the cluster's nodes), `db.kurrentdb.stream` for a
//! call on one stream. The outcome is `otel.status_code` `OK` or `ERROR`, with
//! `otel.status_description` `<Variant>: <message>` on error (with the
//! `opentelemetry` feature, also an `exception` event with `exception.type`,
//! `exception.message` and `exception.escaped`). A retry or a reconnection is
//! an event inside the span.
//!
//! A read or subscription's span covers its opening (up to the first event or
//! the server's confirmation), not the events that follow. Subscriptions then
//! give each received event that carries a trace context (see below) a
//! consumer span of its own, named `streams.subscribe`, with
//! `db.kurrentdb.stream`, `db.kurrentdb.subscription.id`,
//! `db.kurrentdb.event.id` and `db.kurrentdb.event.type`; it starts and ends
//! as the event is handed over, as in Python and .NET. An error that ends a
//! subscription gets a `streams.subscribe` span with the error.
//!
//! With no subscriber, or one that does not want these spans, a span costs a
//! check of a cached flag, and nothing is formatted or parsed.
//!
//! # Context through event metadata (feature `opentelemetry`)
//!
//! With the `opentelemetry` feature, and a subscriber that has the
//! `tracing-opentelemetry` layer, appends write the current span's trace id and
//! span id into each event's metadata, under [`TRACE_ID_KEY`] (`$traceId`) and
//! [`SPAN_ID_KEY`] (`$spanId`), and a subscription's consumer span for an event
//! that has them is a child of that span: one trace runs from the writer to
//! every reader, whichever official client wrote or reads. Which metadata takes
//! the keys, in which form, and what happens to keys already there, is in the
//! `metadata` module's docs (it follows the .NET client where the two official
//! clients differ). [`producer_context`] hands the context of an event to code
//! that wants its own spans under the producer's trace.
//!
//! Why the bridge rather than the OpenTelemetry API directly: the client emits
//! `tracing` spans, the Rust ecosystem's standard, so that one instrumentation
//! serves every subscriber (console logs, `tokio-console`, OpenTelemetry);
//! OpenTelemetry users add the bridge's layer to their subscriber, and the
//! client's spans nest under their own `tracing` spans. Calling the
//! OpenTelemetry API directly would give a second, separate set of spans that a
//! `tracing` user never sees and that does not nest under their spans. The
//! feature adds only the OpenTelemetry API (`opentelemetry`) and the bridge
//! (`tracing-opentelemetry`), never an SDK: the application picks its exporter.
//! Their versions must match the application's (`opentelemetry` 0.33,
//! `tracing-opentelemetry` 0.34).

mod metadata;
#[cfg(feature = "opentelemetry")]
mod otel;

use futures::FutureExt;
use std::future::Future;

use tracing::{Instrument, Span};

pub use self::metadata::{SPAN_ID_KEY, TRACE_ID_KEY};
pub(crate) use self::metadata::{TraceParent, extract, inject};
#[cfg(feature = "opentelemetry")]
pub use self::otel::producer_context;
use crate::connection::settings::{ConnectionSettings, Endpoint};
use crate::error::{Error, Result};
use crate::types::RecordedEvent;

/// The name of the span of `append_to_stream`.
pub const STREAMS_APPEND: &str = "streams.append";
/// The name of the span of `multi_append_to_stream` and `append_records`.
pub const STREAMS_MULTI_APPEND: &str = "streams.multi-append";
/// The name of the spans of subscriptions: their opening, and each event
/// received with a trace context.
pub const STREAMS_SUBSCRIBE: &str = "streams.subscribe";
/// The value of `db.system`.
pub const DB_SYSTEM: &str = "kurrentdb";

/// The span of one client operation: `$name` (a literal: it is also
/// `db.operation`), of kind `$kind` (`"producer"`, `"consumer"` or
/// `"client"`), on the stream `$stream` when given, child of `$parent` when
/// given (else of the current span). Every field a span of the client may
/// carry is declared here: a `tracing` span records only the fields it was
/// made with.
macro_rules! client_span {
    ($(parent: $parent:expr,)? $name:literal, $kind:literal $(, $stream:expr)?) => {
        ::tracing::info_span!(
            $(parent: $parent,)?
            $name,
            otel.kind = $kind,
            db.system = $crate::telemetry::DB_SYSTEM,
            db.operation = $name,
            db.user = ::tracing::field::Empty,
            server.address = ::tracing::field::Empty,
            server.port = ::tracing::field::Empty,
            db.kurrentdb.stream = $crate::telemetry::client_span!(@stream $($stream)?),
            db.kurrentdb.subscription.id = ::tracing::field::Empty,
            db.kurrentdb.event.id = ::tracing::field::Empty,
            db.kurrentdb.event.type = ::tracing::field::Empty,
            otel.status_code = ::tracing::field::Empty,
            otel.status_description = ::tracing::field::Empty,
        )
    };
    (@stream) => {
        ::tracing::field::Empty
    };
    (@stream $stream:expr) => {
        $stream
    };
}
pub(crate) use client_span;

/// Runs `body` inside `span`, and records its outcome on the span.
///
/// Every public operation is `traced(client_span!(..), async { .. }).await`
/// (`tests/twin_check.rs` fails when one is not).
///
/// A plain combinator rather than an `async fn`: an `async fn` taking `body`
/// kept both the argument and its instrumented copy in its state, doubling
/// the size of every operation's future, and each move of it (into
/// `block_on`, into a spawned task) cost a memcpy of that size: about 35,000
/// more instructions per one-event append (measured with callgrind).
pub(crate) fn traced<T>(
    span: Span,
    body: impl Future<Output = Result<T>>,
) -> impl Future<Output = Result<T>> {
    let outcome = span.clone();
    body.instrument(span)
        .inspect(move |result| record_outcome(&outcome, result))
}

/// Records `result` on `span`: status `OK`, or the error.
fn record_outcome<T>(span: &Span, result: &Result<T>) {
    if span.is_disabled() {
        return;
    }
    match result {
        Ok(_) => {
            span.record("otel.status_code", "OK");
        }
        Err(error) => record_error(span, error),
    }
}

/// Records `error` on `span`: status `ERROR`, described as the Python client
/// describes it (`<type>: <message>`), and with the `opentelemetry` feature an
/// `exception` event.
fn record_error(span: &Span, error: &Error) {
    let variant = error_variant(error);
    span.record("otel.status_code", "ERROR");
    span.record(
        "otel.status_description",
        tracing::field::display(format_args!("{variant}: {error}")),
    );
    #[cfg(feature = "opentelemetry")]
    otel::exception_event(span, &variant, error);
}

/// The name of `error`'s variant, e.g. `WrongCurrentVersion` (the start of its
/// `Debug` form, which names the variant first).
fn error_variant(error: &Error) -> String {
    let debug = format!("{error:?}");
    let end = debug
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(debug.len());
    debug[..end].to_owned()
}

/// The server a call's spans report: the node called, except with `+discover`
/// and one host, where that host is reported (as the Python and .NET clients
/// do, so that the address stays the same whichever node serves).
pub(crate) fn reported_server<'a>(
    settings: &'a ConnectionSettings,
    node: &'a Endpoint,
) -> &'a Endpoint {
    match settings.endpoints() {
        [seed] if settings.discover() => seed,
        _ => node,
    }
}

/// Records the user and the server of a call on the current span (the
/// operation's: every call runs inside one).
pub(crate) fn record_call(settings: &ConnectionSettings, node: &Endpoint) {
    let span = Span::current();
    if span.is_disabled() {
        return;
    }
    let server = reported_server(settings, node);
    span.record("db.user", settings.username().unwrap_or(""));
    span.record("server.address", server.host.as_str());
    span.record("server.port", i64::from(server.port));
}

/// What the consumer spans of a subscription's events report: who subscribed,
/// to which server, under which subscription id. Made when the subscription is
/// confirmed.
#[derive(Debug, Clone)]
pub(crate) struct ConsumerTags {
    user: String,
    server: Endpoint,
    subscription_id: String,
}

impl ConsumerTags {
    pub(crate) fn new(
        settings: &ConnectionSettings,
        node: &Endpoint,
        subscription_id: &str,
    ) -> ConsumerTags {
        ConsumerTags {
            user: settings.username().unwrap_or("").to_owned(),
            server: reported_server(settings, node).clone(),
            subscription_id: subscription_id.to_owned(),
        }
    }

    /// Records the tags on `span`.
    fn record_on(&self, span: &Span) {
        span.record("db.user", self.user.as_str());
        span.record("server.address", self.server.host.as_str());
        span.record("server.port", i64::from(self.server.port));
        span.record(
            "db.kurrentdb.subscription.id",
            self.subscription_id.as_str(),
        );
    }

    /// The consumer span of a received event, when the event carries the
    /// trace it was appended under: started and ended at once, as the Python
    /// and .NET clients do. Nothing is parsed when no subscriber wants the span.
    pub(crate) fn consumed(&self, event: &RecordedEvent) {
        if !tracing::span_enabled!(tracing::Level::INFO) {
            return;
        }
        let Some(parent) = extract(&event.metadata) else {
            return;
        };
        // The span belongs to the producer's trace, not to whatever span the
        // consumer happens to poll in.
        let span = client_span!(
            parent: None,
            "streams.subscribe",
            "consumer",
            event.stream_name.as_str()
        );
        if span.is_disabled() {
            return;
        }
        self.record_on(&span);
        span.record("db.kurrentdb.event.id", tracing::field::display(event.id));
        span.record("db.kurrentdb.event.type", event.r#type.as_str());
        span.record("otel.status_code", "OK");
        link_to_producer(&span, parent);
    }

    /// The span of an error that ends the subscription (a child of the
    /// current span, as in Python).
    pub(crate) fn failed(&self, error: &Error) {
        let span = client_span!("streams.subscribe", "consumer");
        if !span.is_disabled() {
            self.record_on(&span);
            record_error(&span, error);
        }
    }
}

/// Makes `span` a child of the span an event was appended under.
#[cfg(feature = "opentelemetry")]
fn link_to_producer(span: &Span, parent: TraceParent) {
    otel::set_remote_parent(span, parent);
}

/// Without the `opentelemetry` feature a `tracing` span has no trace to join.
#[cfg(not(feature = "opentelemetry"))]
fn link_to_producer(_span: &Span, _parent: TraceParent) {}

/// Writes the current span's trace context into the metadata of `events`
/// (each given as its metadata and content type), when there is one: with
/// the `opentelemetry` feature and a subscriber with the bridge's layer.
pub(crate) fn propagate<'a>(events: impl IntoIterator<Item = (&'a mut bytes::Bytes, &'a str)>) {
    let Some(parent) = current_parent() else {
        return;
    };
    for (metadata, content_type) in events {
        if let Some(injected) = inject(metadata, content_type, parent) {
            *metadata = injected;
        }
    }
}

/// The trace context of the current span.
#[cfg(feature = "opentelemetry")]
fn current_parent() -> Option<TraceParent> {
    otel::current_parent()
}

/// Without the `opentelemetry` feature a `tracing` span has no trace context.
#[cfg(not(feature = "opentelemetry"))]
fn current_parent() -> Option<TraceParent> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StreamState;

    #[test]
    fn errors_are_named_by_their_variant() {
        let error = Error::WrongCurrentVersion {
            stream: "s".into(),
            expected: StreamState::NoStream,
            actual: StreamState::Version(3),
        };
        assert_eq!(error_variant(&error), "WrongCurrentVersion");
        assert_eq!(error_variant(&Error::ClientClosed), "ClientClosed");
        assert_eq!(
            error_variant(&Error::Programming("x".into())),
            "Programming"
        );
    }

    #[test]
    fn a_single_discovery_host_is_the_reported_server() {
        let node = Endpoint::new("10.0.0.7", 2113);
        let discover: ConnectionSettings = "kurrentdb+discover://cluster.example.com:2113"
            .parse()
            .unwrap();
        assert_eq!(
            reported_server(&discover, &node).host,
            "cluster.example.com"
        );
        let direct: ConnectionSettings = "kurrentdb://a:2113,b:2113".parse().unwrap();
        assert_eq!(reported_server(&direct, &node), &node);
        // (`+discover` with several hosts is refused when parsed: one seed is
        // the only discovery form.)
    }
}
