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
# --drain-timeout 0s: when the script stops the server, matches end at once. Every bot comes
# from 127.0.0.1, so the per-address connection cap is lifted.
./target/release/tickwire-server --bind "127.0.0.1:$PORT" --tick-rate "$TICK_RATE" --log-level warn \
  --drain-timeout 0s --set results_log= \
  --set max_connections_per_ip=100000 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

# Wait (bounded) for the port to accept connections.
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done

echo "== $BOTS bots, ${DURATION}s, ${TICK_RATE} Hz, server pid $server"
./target/release/tickwire-demo bots --count "$BOTS" --duration "$DURATION" \
  --server "http://127.0.0.1:$PORT"
