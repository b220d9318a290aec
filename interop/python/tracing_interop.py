"""Trace propagation across languages: the Python client's OpenTelemetry
instrumentation (PyPI `kurrentdbclient[opentelemetry]`) and ours, through event
metadata (`$traceId`, `$spanId`), against our embedded server.

1. Python appends under its instrumentation; our subscription's consumer span
   for that event must be a child of Python's `streams.append` span.
2. We append under ours; the Python client's instrumented subscription's
   consumer span for that event must be a child of our `streams.append` span.

Usage: python tracing_interop.py kurrentdb://127.0.0.1:PORT?tls=false RUST_DRIVER

RUST_DRIVER is the built `otel_interop` example (crates/client-tests/examples/otel_interop.rs).
Prints one line per check and a last line `N passed, M failed`; exits non-zero
when any check failed.
"""

from __future__ import annotations

import subprocess
import sys
import traceback
import uuid

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.instrumentation.opentelemetry import KurrentDBClientInstrumentor


def rust(driver: str, mode: str, uri: str, stream: str) -> tuple[int, int]:
    """Runs the Rust driver; its "TRACE SPAN" answer as integers."""
    out = subprocess.run(
        [driver, mode, uri, stream], check=True, capture_output=True, text=True, timeout=60
    ).stdout.split()
    if out == ["none"]:
        raise AssertionError(f"the Rust side found no span ({mode})")
    return int(out[0], 16), int(out[1], 16)


def python_to_rust(client: KurrentDBClient, exporter: InMemorySpanExporter, uri: str, driver: str) -> None:
    stream = f"py-traced-{uuid.uuid4().hex}"
    exporter.clear()
    client.append_to_stream(
        stream,
        current_version=StreamState.NO_STREAM,
        events=[NewEvent(type="FromPython", data=b'{"from": "python"}')],
    )
    [producer] = [s for s in exporter.get_finished_spans() if s.name == "streams.append"]
    assert producer.kind == SpanKind.PRODUCER, producer.kind
    parent = rust(driver, "consume", uri, stream)
    expected = (producer.context.trace_id, producer.context.span_id)
    if parent != expected:
        raise AssertionError(f"our consumer span's parent {parent} is not Python's producer {expected}")


def rust_to_python(client: KurrentDBClient, exporter: InMemorySpanExporter, uri: str, driver: str) -> None:
    stream = f"rust-traced-{uuid.uuid4().hex}"
    producer = rust(driver, "append", uri, stream)
    exporter.clear()
    subscription = client.subscribe_to_stream(stream)
    try:
        event = next(subscription)
    finally:
        subscription.stop()
    consumers = [
        s
        for s in exporter.get_finished_spans()
        if s.name == "streams.subscribe" and s.attributes.get("db.kurrentdb.event.id") == str(event.id)
    ]
    if len(consumers) != 1:
        raise AssertionError(f"Python made {len(consumers)} consumer spans for our event: {event.metadata!r}")
    consumer = consumers[0]
    assert consumer.kind == SpanKind.CONSUMER, consumer.kind
    parent = (consumer.parent.trace_id, consumer.parent.span_id)
    if parent != producer or consumer.context.trace_id != producer[0]:
        raise AssertionError(f"Python's consumer span's parent {parent} is not our producer {producer}")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    uri, driver = sys.argv[1], sys.argv[2]
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    KurrentDBClientInstrumentor().instrument(tracer_provider=provider)
    client = KurrentDBClient(uri)
    passed = failed = 0
    try:
        for check in (python_to_rust, rust_to_python):
            try:
                check(client, exporter, uri, driver)
            except Exception:  # noqa: BLE001 - every failure is reported
                failed += 1
                print(f"FAIL {check.__name__}")
                traceback.print_exc()
            else:
                passed += 1
                print(f"ok   {check.__name__}")
    finally:
        client.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
