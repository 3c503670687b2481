#!/usr/bin/env bash
# The test command. Installs what the tests need when it is missing (scripts/test-deps.sh:
# Debian's prometheus, redis-server, protobuf-compiler, libprotobuf-dev and chromium; playwright-core from npm for
# the browser tests), then runs every Rust test, the JS tests against the Rust fixtures, the
# browser tests, and a short soak. Before the Rust tests it checks the import layering
# (scripts/check-layers.py); after the JS tests, the JS SDK's declarations (tsc --noEmit).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/test-deps.sh

echo "== import layering (no cycle between files; module-level cycles only as listed)"
scripts/check-layers.py

echo "== cargo test --workspace"
cargo test --workspace

# Its own step: the agones feature compiles the Agones SDK's protos, which needs protoc and the
# well-known .proto files (installed above); a bare `cargo test --workspace` needs neither.
echo "== dedicated --agones against a stand-in SDK server"
cargo test -p server --features agones --test agones

echo "== JS codec, mirror and movement rule against the Rust fixtures"
(cd client-demo/web && node --test test/)

echo "== JS SDK: its TypeScript declarations against a typed example (tsc --noEmit)"
(cd client-demo/web/sdk && { [ -d node_modules/typescript ] || npm install --no-audit --no-fund --silent; } && npx tsc --noEmit -p .)

if [ -f tests/browser/package.json ]; then
  echo "== browser tests"
  # The browser tests run the real server and bots binaries.
  cargo build -q -p server -p client-demo
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm install --no-audit --no-fund --silent)
  fi
  (cd tests/browser && node --test)
fi

echo "== short soak (bots joining, leaving, misbehaving; everything back to zero)"
DURATION=20 BOTS=16 PROFILE=debug PORT=18096 scripts/soak.sh
