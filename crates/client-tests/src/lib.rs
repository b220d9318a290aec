//! Tests and benches of `kurrentdbclient` whose dependencies the root package
//! should not carry: a root dev-dependency is built for every example, so
//! `cargo run --example quickstart` on a fresh clone would compile criterion,
//! proptest and the OpenTelemetry SDK before printing anything.
//!
//! - `tests/properties.rs`: the connection-string parser never panics, and
//!   what it accepts round-trips (proptest, fixed case counts).
//! - `tests/telemetry.rs`: the client's spans as a `tracing` subscriber sees
//!   them, and with the `opentelemetry` feature as an exporter sees them:
//!   `cargo test -p client-tests --features opentelemetry --test telemetry`.
//! - `benches/telemetry.rs`: what the instrumentation costs; the repository's
//!   `benches/telemetry.sh` runs it with and without spans and prints a table.
//! - `examples/otel_interop.rs`: the Rust side of `interop/python`'s
//!   trace-propagation check.
