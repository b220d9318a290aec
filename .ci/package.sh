#!/usr/bin/env bash
# Checks that the publishable crates package: `cargo package -p ...`
# builds each .crate in dependency order (kurrentdbclient, kurrentdb-embedded,
# kurrentdbclient-blocking, kurrentdb-event-store, kurrentdb-es, eventually-kurrentdb),
# the later ones against the
# earlier ones' packages, and verifies that each builds from its package alone
# (so the root crate's package must carry proto/ for its build script). Then
# checks that each package holds what a user needs and none of the repository's
# tests, benches or scripts.
#
#   .ci/package.sh                    # with verification, before a release
#   PACKAGE_VERIFY=0 .ci/package.sh   # packaging and contents only (CI)
#
# Environment: CARGO_TARGET_DIR (default target). The verification builds share
# it, so dependencies the tests already built are not built again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
# Verification builds each package as a workspace of its own, whose default
# target dir would be cold: point it at the shared one.
export CARGO_TARGET_DIR="$target"

crates=(kurrentdbclient kurrentdb-embedded kurrentdbclient-blocking kurrentdb-event-store kurrentdb-es eventually-kurrentdb)

# CI runs on a clean clone, where --allow-dirty is a no-op; locally it allows the
# uncommitted work (the .crate files are only checked, never published).
# Verification (a build of each crate from its package alone) takes many minutes
# cold: more than CI's budget. CI packages without it (PACKAGE_VERIFY=0) and
# checks what each package holds; run it with verification before a release.
verify=()
if [[ "${PACKAGE_VERIFY:-1}" == 0 ]]; then
    verify=(--no-verify)
fi
cargo package --allow-dirty "${verify[@]}" $(printf -- '-p %s ' "${crates[@]}")
version="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "kurrentdbclient"))')"

fail=0
for crate in "${crates[@]}"; do
    file="$target/package/$crate-$version.crate"
    listing="$(tar -tzf "$file")"
    for needed in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE src/lib.rs; do
        if ! grep -qx "$crate-$version/$needed" <<<"$listing"; then
            echo "package $crate: missing $needed" >&2
            fail=1
        fi
    done
    # Every file git tracks under the crate's src/ is in the package (a source
    # file the include list misses, say an `include_str!`'d script, breaks the
    # build of the published crate, which CI does not verify).
    if [[ "$crate" == kurrentdbclient ]]; then dir=.; else dir="crates/$crate"; fi
    while IFS= read -r tracked; do
        if ! grep -qxF "$crate-$version/${tracked#"$dir"/}" <<<"$listing"; then
            echo "package $crate: missing ${tracked#"$dir"/} (tracked under src/)" >&2
            fail=1
        fi
    done < <(git ls-files "$dir/src")
    if grep -E "^$crate-$version/(tests|benches|examples|interop|\.ci)/" <<<"$listing" >&2; then
        echo "package $crate: carries files only the repository needs (above)" >&2
        fail=1
    fi
    echo "package $crate: $(wc -l <<<"$listing") files, $(du -k "$file" | cut -f1) KiB"
done
# The listing is read whole first: `tar | grep -q` fails under pipefail when grep
# stops reading before tar has written everything (tar dies of SIGPIPE).
root_listing="$(tar -tzf "$target/package/kurrentdbclient-$version.crate")"
if ! grep -qx "kurrentdbclient-$version/proto/kurrentdb/protocols/v1/streams.proto" <<<"$root_listing"; then
    echo "package kurrentdbclient: missing proto/ (its build script compiles it)" >&2
    fail=1
fi
exit "$fail"
