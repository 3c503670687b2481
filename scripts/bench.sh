#!/usr/bin/env bash
# Benchmark report (not a test): starts a release server on loopback, fills it with bots
# (16 per match, the default match size) and prints the bots' report, which includes the
# server's tick duration p50/p99/max, overruns and CPU seconds over the measured window.
#
#   scripts/bench.sh                       # 256 bots, 30 s, 30 Hz
#   BOTS=64 DURATION=10 TICK_RATE=60 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BOTS=${BOTS:-256}
DURATION=${DURATION:-30}
TICK_RATE=${TICK_RATE:-30}
PORT=${PORT:-18090}

# Each bot holds a WebSocket and a pooled HTTP connection.
ulimit -n 65536 2>/dev/null || true
cargo build --release -q -p server -p client-demo
. scripts/start-server.sh
start_server target/release "$PORT" --tick-rate "$TICK_RATE"

echo "== $BOTS bots, ${DURATION}s, ${TICK_RATE} Hz, server pid $server"
./target/release/tickwire-demo bots --count "$BOTS" --duration "$DURATION" \
  --server "http://127.0.0.1:$PORT"
