#!/usr/bin/env bash
# Pins our .proto files against the PyPI kurrentdbclient package's generated
# descriptors (dump_descriptors.py, then the wire_pinning test), and runs
# interop.py (the PyPI kurrentdbclient package) against our embedded
# server, then backends_interop.py (it reads what the kurrentdb-es and
# eventually-kurrentdb examples wrote), then tracing_interop.py (trace
# propagation both ways between its OpenTelemetry instrumentation and our
# client's `opentelemetry` feature).
# Creates a virtualenv under the cargo target dir, installs the pinned client,
# builds and starts `kurrentdb-embedded` on a free port, runs the scripts,
# stops the server. Exits non-zero when anything fails.
#
#   interop/python/run.sh
#
# Environment: PYTHON (default python3), CARGO_TARGET_DIR (default target),
# KURRENTDBCLIENT_VERSION (default 1.3.5).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
version="${KURRENTDBCLIENT_VERSION:-1.3.5}"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/interop-python-venv"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import kurrentdbclient, opentelemetry.sdk, sys; sys.exit(kurrentdbclient.__version__ != '$version')" 2>/dev/null; then
    # The client with its OpenTelemetry instrumentation, and the SDK for the
    # in-memory exporter of tracing_interop.py.
    "$venv/bin/pip" install --quiet "kurrentdbclient[opentelemetry]==$version" opentelemetry-sdk
fi

# Our .proto files pinned against the descriptors generated into the Python
# package (crates/interop-tests/tests/wire_pinning.rs; the half against the
# official Rust crate's .proto files runs in `cargo test --workspace`).
descriptors="$target/python-descriptors.bin"
"$venv/bin/python" "$here/dump_descriptors.py" "$descriptors"
(cd "$root" && KURRENTDB_PYTHON_DESCRIPTORS="$descriptors" \
    cargo test --quiet --workspace --test wire_pinning)

# `--profile test`: the optimised server the tests use (see Cargo.toml), built
# into target/debug like them.
(cd "$root" && cargo build --quiet --profile test -p kurrentdb-embedded --bin kurrentdb-embedded)
server_bin="$target/debug/kurrentdb-embedded"
# The Rust side of tracing_interop.py: our client with the opentelemetry feature.
(cd "$root" && cargo build --quiet --profile test -p client-tests --features opentelemetry --example otel_interop)
driver="$target/debug/examples/otel_interop"

# A free port: bind port 0 and read what the kernel chose.
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

log="$(mktemp)"
"$server_bin" --insecure --node-port "$port" --run-projections All --start-standard-projections 2>"$log" &
server_pid=$!
cleanup() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT

# Wait until it listens (up to 10 s).
for _ in $(seq 100); do
    if grep -q "listening on" "$log"; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "embedded server exited:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
if ! grep -q "listening on" "$log"; then
    echo "embedded server did not start:" >&2
    cat "$log" >&2
    exit 1
fi

"$venv/bin/python" "$here/interop.py" "kurrentdb://127.0.0.1:$port?tls=false"
# The event-sourcing backends' examples write to the server; the Python client
# reads what they wrote.
(cd "$root" && cargo build --quiet --profile test -p kurrentdb-es --example cqrs_bank_account \
    && cargo build --quiet --profile test -p eventually-kurrentdb --example eventually_bank_account)
for example in cqrs_bank_account eventually_bank_account; do
    KURRENTDB_URI="kurrentdb://127.0.0.1:$port?tls=false" "$target/debug/examples/$example" >/dev/null
done
"$venv/bin/python" "$here/backends_interop.py" "kurrentdb://127.0.0.1:$port?tls=false"
"$venv/bin/python" "$here/tracing_interop.py" "kurrentdb://127.0.0.1:$port?tls=false" "$driver"
# The Python client against a three-node cluster (the script starts it).
"$venv/bin/python" "$here/cluster_interop.py" "$server_bin"
# Over TLS: tls_interop.py starts a --dev server of its own.
"$venv/bin/python" "$here/tls_interop.py" "$server_bin"
