#!/usr/bin/env bash
# Runs the comparison benchmarks (crates/interop-tests/benches/compare.rs): our
# async client, our blocking client and the official `kurrentdb` crate against
# the same embedded server in the same run, plus the bare gRPC round trip as
# the floor. Then times the Python `kurrentdbclient` package on the same
# operations (benches/python_bench.py, against an embedded server of its own)
# and prints one table from criterion's estimates and the Python figures.
#
#   benches/compare.sh            # run the benches and the Python figures, then print the table
#   benches/compare.sh --python   # only the Python figures, then print the table
#   benches/compare.sh --table    # only print the table of the last run
#
# The Python step makes a virtualenv under the target directory (as
# interop/python/run.sh does) and installs the pinned client from PyPI; when
# that fails, the table is printed without the Python column's figures.
#
# Environment: CARGO_TARGET_DIR (default: target); PYTHON (default python3);
# KURRENTDBCLIENT_VERSION (default 1.3.5).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
mode="${1:-all}"

# The Python client's figures, written to $target/criterion/python/estimates.json.
python_figures() {
    local python="${PYTHON:-python3}"
    local version="${KURRENTDBCLIENT_VERSION:-1.3.5}"
    local venv="$target/interop-python-venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c "import kurrentdbclient, sys; sys.exit(kurrentdbclient.__version__ != '$version')" 2>/dev/null; then
        "$venv/bin/pip" install --quiet "kurrentdbclient==$version"
    fi
    # The bench profile, as the criterion benches: an optimised server.
    (cd "$root" && cargo build --quiet --profile bench -p kurrentdb-embedded --bin kurrentdb-embedded)
    "$venv/bin/python" "$root/benches/python_bench.py" \
        "$target/release/kurrentdb-embedded" "$target/criterion/python/estimates.json"
}

# The machine's load before and after a run: the benches share its cores with
# whatever else runs, so quote it beside the figures.
case "$mode" in
all)
    echo "before: $(uptime)"
    (cd "$root" && cargo bench -p interop-tests --bench compare)
    python_figures || echo "compare.sh: the Python figures failed; the table has none" >&2
    echo "after: $(uptime)"
    ;;
--python)
    echo "before: $(uptime)"
    python_figures
    echo "after: $(uptime)"
    ;;
--table) ;;
*)
    echo "usage: benches/compare.sh [--python | --table]" >&2
    exit 2
    ;;
esac

python3 - "$target/criterion" <<'PY'
import json
import os
import sys

base = sys.argv[1]


def median_ns(group, bench_id):
    path = os.path.join(base, group, bench_id, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


try:
    with open(os.path.join(base, "python", "estimates.json")) as f:
        python = json.load(f)
except FileNotFoundError:
    python = {"median_ns": {}}


def fmt_time(ns):
    if ns is None:
        return "n/a"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def ratio(num, den, fmt="{:.2f}x"):
    if num is None or den is None or den == 0:
        return "n/a"
    return fmt.format(num / den)


# (group, label, whether one iteration is one call)
rows = [
    ("append_one", "sequential appends, 1 event", True),
    ("append_batch_100x1KiB", "appends of 100 x 1 KiB events", True),
    ("append_concurrent_64", "64 concurrent appenders", False),
    ("read_stream_10k", "read a 10,000-event stream", False),
    ("read_all_10k", "read $all (10,000 events)", False),
    ("subscribe_10k", "catch-up subscription, 10,000 events", False),
    ("append_one_tls", "TLS + credentials: sequential appends, 1 event", False),
    ("read_stream_10k_tls", "TLS + credentials: read a 10,000-event stream", False),
]
floor = median_ns("floor", "server_features_unary")

print()
print(f"Times are medians per iteration; floor = bare unary round trip, {fmt_time(floor)}.")
print("ours/official = official time / our async time (above 1x: we are faster).")
print("floor/ours = bare round trip time / our append time (1.0 = a call costs no more than the bare round trip).")
if python["median_ns"]:
    print(f"Python: {python['client']} on Python {python['python']}, against an embedded server of its own.")
print()
print(
    "| benchmark | ours (async) | ours (blocking) | official `kurrentdb` | Python `kurrentdbclient` "
    "| ours/official | blocking vs async | floor/ours |"
)
print("|" + "---|" * 8)
for group, label, one_call in rows:
    ours = median_ns(group, "ours_async")
    blocking = median_ns(group, "ours_blocking")
    official = median_ns(group, "official")
    py = python["median_ns"].get(group)
    blocking_delta = (
        "n/a"
        if ours is None or blocking is None
        else f"{(blocking / ours - 1) * 100:+.1f}%"
    )
    print(
        f"| {label} | {fmt_time(ours)} | {fmt_time(blocking)} | {fmt_time(official)} "
        f"| {fmt_time(py) if py is not None else '-'} "
        f"| {ratio(official, ours)} | {blocking_delta} "
        f"| {ratio(floor, ours, '{:.2f}') if one_call else '-'} |"
    )
raw = median_ns("append_one", "raw_stub")
if raw is not None:
    print()
    print(
        f"Bare generated-stub append of one event (no client logic): {fmt_time(raw)}; "
        f"floor/raw = {ratio(floor, raw, '{:.2f}')}."
    )
PY
