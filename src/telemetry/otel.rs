//! The `opentelemetry` feature: the trace context of `tracing` spans, read and
//! set through the `tracing-opentelemetry` bridge.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{TraceParent, extract};
use crate::error::Error;
use crate::types::RecordedEvent;

/// The trace context of the current span, when the subscriber has the
/// bridge's layer and the span is in a valid trace.
pub(super) fn current_parent() -> Option<TraceParent> {
    let span = Span::current();
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    let otel_span = context.span();
    let span_context = otel_span.span_context();
    span_context.is_valid().then(|| TraceParent {
        trace_id: u128::from_be_bytes(span_context.trace_id().to_bytes()),
        span_id: u64::from_be_bytes(span_context.span_id().to_bytes()),
    })
}

/// The OpenTelemetry context of a span appended elsewhere (remote, sampled, as
/// both official clients build it).
fn remote_context(parent: TraceParent) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(parent.trace_id),
        SpanId::from(parent.span_id),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ))
}

/// Makes `span` (not yet entered) a child of the producer's span.
pub(super) fn set_remote_parent(span: &Span, parent: TraceParent) {
    // Fails only without the bridge's layer, where there is no trace to join.
    let _ = span.set_parent(remote_context(parent));
}

/// The `exception` event of a failed call, with the attributes the Python
/// client gives it (no `exception.stacktrace`: a Rust error has none).
pub(super) fn exception_event(span: &Span, variant: &str, error: &Error) {
    span.add_event(
        "exception",
        vec![
            KeyValue::new(
                "exception.type",
                format!("kurrentdbclient::Error::{variant}"),
            ),
            KeyValue::new("exception.message", error.to_string()),
            KeyValue::new("exception.escaped", true),
        ],
    );
}

/// The OpenTelemetry context of the span `event` was appended under, when its
/// metadata carries one (`$traceId` and `$spanId`, as written by this client
/// or the official Python and .NET clients): parent your own processing span
/// with it to continue the producer's trace.
///
/// ```no_run
/// # fn handle(event: kurrentdbclient::RecordedEvent) {
/// use tracing_opentelemetry::OpenTelemetrySpanExt;
///
/// let span = tracing::info_span!("handle event");
/// if let Some(context) = kurrentdbclient::telemetry::producer_context(&event) {
///     let _ = span.set_parent(context);
/// }
/// let _entered = span.enter();
/// // ...
/// # }
/// ```
pub fn producer_context(event: &RecordedEvent) -> Option<Context> {
    extract(&event.metadata).map(remote_context)
}
