#!/usr/bin/env bash
# Lints the workspace against freshly resolved dependencies: the newest
# versions our requirements allow (what a user's new project gets), not the
# versions in Cargo.lock. A deprecation or a break in a new release of a
# dependency shows here before a user meets it.
#
#   .ci/fresh.sh
#
# Works on a copy of the tree (the lockfile is left alone), in its own target
# dir. Environment: CARGO_TARGET_DIR (default target; the copy builds into
# $CARGO_TARGET_DIR/fresh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT

# The tracked files only (no target dir, no local lockfile edits).
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$copy")
rm -f "$copy/Cargo.lock"

cd "$copy"
cargo generate-lockfile
echo "-- resolved versions that differ from Cargo.lock:"
versions() { grep -A1 '^name = ' "$1" | grep -v '^--$' | paste - - | sort; }
changed="$(diff <(versions "$root/Cargo.lock") <(versions Cargo.lock) | grep '^>' || true)"
echo "${changed:-(none)}"
CARGO_TARGET_DIR="$target/fresh" cargo clippy --workspace --all-targets -- -D warnings
