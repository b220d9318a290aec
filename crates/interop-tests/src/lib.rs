//! Interoperability tests and comparative benchmarks for `kurrentdbclient`.
//!
//! No real KurrentDB node runs in this project's CI, so two kinds of evidence
//! stand in for one:
//!
//! - **Interop** (`tests/`): the official Rust client, the `kurrentdb` crate from
//!   crates.io, runs against the embedded server (`kurrentdb-embedded`) beside
//!   our own client. Events written by one are read back by the other, and the
//!   official client's error paths (wrong expected version, missing stream,
//!   deleted and tombstoned streams), stream metadata, catch-up subscriptions,
//!   batch appends and persistent subscriptions must behave as its
//!   documentation says they do against KurrentDB. A client nobody here wrote
//!   agreeing with our server is the proof that our protos and our server speak
//!   KurrentDB's protocol. The Python client's check lives in `interop/python/`.
//! - **Benchmarks** (`benches/compare.rs`): criterion benchmarks that measure
//!   our async client, our blocking client and the official crate against the
//!   same embedded server in the same run, plus a bare tonic round trip as the
//!   floor. `benches/compare.sh` at the repository root runs them and prints
//!   the comparison table.
//!
//! Run the interop tests with `cargo test -p interop-tests`, the comparison
//! with `benches/compare.sh`.
//!
//! The library itself is empty: everything lives in the test and bench
//! targets, which is also what keeps the official crate (and its TLS stack)
//! out of the root crate's dependency graph.
