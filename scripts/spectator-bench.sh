#!/usr/bin/env bash
# Report (not a test): how many spectators one match holds without a tick overrun. 16 standard
# bots play one match (benches/WORKLOAD.md) while, one run after the other, SPECTATORS
# bots watch it (`tickwire-demo bots --spectate`); each run prints the server's overruns, tick
# p99, CPU and the slowest spectator's snapshot rate over its window.
#
#   scripts/spectator-bench.sh                 # SPECTATORS="250 500 1000"
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18161}
DURATION=${DURATION:-20}
SPECTATORS=${SPECTATORS:-250 500 1000}
cargo build --release -q -p server -p client-demo
ulimit -n 20000
export TICKWIRE_JWT_SECRET=spectator-bench-secret-0123456789abcd
. scripts/start-server.sh
start_server target/release "$PORT" --set max_spectators=1000
runs=0; for n in $SPECTATORS; do runs=$((runs + 1)); done
play=$((runs * (DURATION + 20) + 20))
target/release/tickwire-demo bots --count 16 --workload standard --threads 1 --duration "$play" \
  --server "http://127.0.0.1:$PORT" --metrics none > /dev/null 2>&1 &
players=$!
for _ in $(seq 100); do
  id=$(curl -s "http://127.0.0.1:$PORT/v1/matches" | python3 -c 'import json, sys
m = [x for x in json.load(sys.stdin) if x["players"] == 16]
print(m[0]["id"] if m else "")')
  [ -n "$id" ] && break
  sleep 0.2
done
echo "match $id: 16 players"
for n in $SPECTATORS; do
  echo "== $n spectators"
  target/release/tickwire-demo bots --spectate "$id" --count "$n" --threads 1 --ramp-per-sec 200 \
    --duration "$DURATION" --warmup 5 --server-pid "$server" --server "http://127.0.0.1:$PORT" 2>/dev/null |
    grep -E "connected at end|snapshots/s per bot|bytes/s per bot|server CPU \(/proc\)|server tick ms|server overruns"
done
kill "$players" 2>/dev/null || true
