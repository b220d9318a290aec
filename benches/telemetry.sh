#!/usr/bin/env bash
# Runs the instrumentation-cost bench (crates/client-tests/benches/telemetry.rs) three ways and
# prints one table from criterion's estimates:
#
#   without  the same bench on the commit before the instrumentation (the parent
#            of the commit that added src/telemetry/), exported to
#            $CARGO_TARGET_DIR/telemetry-base: no spans compiled in;
#   with     this tree, default features: spans compiled in, no subscriber;
#   otel     this tree with the `opentelemetry` feature: the `no_subscriber` rows
#            again (feature compiled in), and the `otel_exporter` rows (the
#            tracing-opentelemetry layer and an exporter that drops the spans).
#
#   benches/telemetry.sh            # run all three, then print the table
#   benches/telemetry.sh --table    # only print the table of the last run
#
# Environment: CARGO_TARGET_DIR (default: target); TELEMETRY_BASE (a commit to
# measure as `without` instead of the default).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
target="$CARGO_TARGET_DIR"
bench_args=(--warm-up-time 2 --measurement-time 5)

if [[ "${1:-}" != "--table" ]]; then
    first="$(git -C "$root" log --diff-filter=A --format=%H -- src/telemetry/mod.rs | tail -n 1)"
    base="${TELEMETRY_BASE:-$first^}"
    base_dir="$target/telemetry-base"
    rm -rf "$base_dir"
    mkdir -p "$base_dir"
    git -C "$root" archive "$base" | tar -x -C "$base_dir"
    # The bench itself, the lock file (same dependency versions), and criterion.
    mkdir -p "$base_dir/benches"
    cp "$root/crates/client-tests/benches/telemetry.rs" "$base_dir/benches/"
    cp "$root/Cargo.lock" "$base_dir/"
    criterion="$(grep '^criterion = ' "$root/crates/client-tests/Cargo.toml")"
    sed -i "/^\[dev-dependencies\]/a $criterion" "$base_dir/Cargo.toml"
    printf '\n[[bench]]\nname = "telemetry"\nharness = false\n' >>"$base_dir/Cargo.toml"

    (cd "$base_dir" && cargo bench -p kurrentdbclient --bench telemetry -- "${bench_args[@]}" --save-baseline without)
    (cd "$root" && cargo bench -p client-tests --bench telemetry -- "${bench_args[@]}" --save-baseline with)
    (cd "$root" && cargo bench -p client-tests --features opentelemetry --bench telemetry -- "${bench_args[@]}" --save-baseline otel)
fi

python3 - "$target/criterion" <<'PY'
import json
import os
import sys

base = sys.argv[1]


def median_ns(group, bench_id, baseline):
    path = os.path.join(base, group, bench_id, baseline, "estimates.json")
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


def delta(ns, reference):
    if ns is None or reference is None or reference == 0:
        return "n/a"
    return f"{(ns / reference - 1) * 100:+.1f}%"


rows = [
    ("telemetry_append_one", "sequential appends, 1 event"),
    ("telemetry_read_10k", "read a 10,000-event stream"),
]
print()
print("Criterion medians per iteration; deltas against `without` (no spans compiled in).")
print()
print("| benchmark | without | spans, no subscriber | delta | feature on, no subscriber | delta | OpenTelemetry exporter | delta |")
print("|" + "---|" * 8)
for group, label in rows:
    without = median_ns(group, "no_subscriber", "without")
    cells = [fmt_time(without)]
    for bench_id, baseline in (("no_subscriber", "with"), ("no_subscriber", "otel"), ("otel_exporter", "otel")):
        ns = median_ns(group, bench_id, baseline)
        cells += [fmt_time(ns), delta(ns, without)]
    print(f"| {label} | " + " | ".join(cells) + " |")
PY
