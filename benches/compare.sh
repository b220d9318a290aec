#!/usr/bin/env bash
# Runs the comparison benchmarks (crates/interop-tests/benches/compare.rs): our
# async client, our blocking client and the official `kurrentdb` crate against
# the same embedded server in the same run, plus the bare gRPC round trip as
# the floor. Then prints one table from criterion's estimates.
#
#   benches/compare.sh            # run the benches, then print the table
#   benches/compare.sh --table    # only print the table of the last run
#
# Environment: CARGO_TARGET_DIR (default: target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

if [[ "${1:-}" != "--table" ]]; then
    (cd "$root" && cargo bench -p interop-tests --bench compare)
fi

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


# (group, label, events per iteration, whether one iteration is one call)
rows = [
    ("append_one", "sequential appends, 1 event", 1, True),
    ("append_batch_100x1KiB", "appends of 100 x 1 KiB events", 100, True),
    ("append_concurrent_64", "64 concurrent appenders", 64, False),
    ("read_stream_10k", "read a 10,000-event stream", 10_000, False),
    ("read_all_10k", "read $all (10,000 events)", 10_000, False),
    ("subscribe_10k", "catch-up subscription, 10,000 events", 10_000, False),
    ("append_one_tls", "TLS + credentials: sequential appends, 1 event", 1, False),
    ("read_stream_10k_tls", "TLS + credentials: read a 10,000-event stream", 10_000, False),
]
floor = median_ns("floor", "server_features_unary")

header = (
    "| benchmark | ours (async) | ours (blocking) | official | ours/official "
    "| blocking vs async | floor/ours |"
)
print()
print(f"Times are criterion medians per iteration; floor = bare unary round trip, {fmt_time(floor)}.")
print("ours/official = official time / our async time (above 1x: we are faster).")
print("floor/ours = bare round trip time / our append time (1.0 = a call costs no more than the bare round trip).")
print()
print(header)
print("|" + "---|" * 7)
for group, label, events, one_call in rows:
    ours = median_ns(group, "ours_async")
    blocking = median_ns(group, "ours_blocking")
    official = median_ns(group, "official")
    blocking_delta = (
        "n/a"
        if ours is None or blocking is None
        else f"{(blocking / ours - 1) * 100:+.1f}%"
    )
    print(
        f"| {label} | {fmt_time(ours)} | {fmt_time(blocking)} | {fmt_time(official)} "
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
