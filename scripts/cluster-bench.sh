#!/usr/bin/env bash
# Report (not a test): matchmaking across a 2-node cluster on one Redis. Starts redis-server (no
# persistence) and two release nodes on loopback, runs `tickwire-demo matchmake` through both
# nodes in turn (PLAYERS players, CONCURRENCY at once), then counts the Redis round trips of
# matchmaking with MONITOR on a second, smaller run (the nodes' refreshes are left out).
#
#   scripts/cluster-bench.sh                          # 2000 players, 64 at once
#   PLAYERS=5000 CONCURRENCY=128 scripts/cluster-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYERS=${PLAYERS:-2000}
CONCURRENCY=${CONCURRENCY:-64}
COUNTED=${COUNTED:-320}
RPORT=${RPORT:-16390}
A=${A:-18111}
B=${B:-18112}

cargo build --release -q -p server -p client-demo
export TICKWIRE_JWT_SECRET=cluster-bench-secret-0123456789abcdef
pids=()
# Nodes first (they leave the cluster cleanly), Redis last.
stop_all() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
}
trap stop_all EXIT
redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no >/dev/null &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
for node in "a $A" "b $B"; do
  set -- $node
  target/release/tickwire-server --bind "127.0.0.1:$2" --node-id "$1" \
    --redis-url "redis://127.0.0.1:$RPORT" --log-level warn --set results_log= \
    --set http_rate_limit=0 --set max_connections_per_ip=1000000 --set max_sockets_per_ip=1000000 --set max_matches=100000 &
  pids+=($!)
done
for port in $A $B; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
sleep 1.5 # both nodes refreshed: each sees the other

echo "== throughput and latency"
target/release/tickwire-demo matchmake --servers "http://127.0.0.1:$A,http://127.0.0.1:$B" \
  --players "$PLAYERS" --concurrency "$CONCURRENCY"

echo "== Redis round trips per matchmake ($COUNTED more players, counted with MONITOR)"
monitor=$(mktemp)
redis-cli -p "$RPORT" monitor >"$monitor" &
mon=$!
sleep 0.3
target/release/tickwire-demo matchmake --servers "http://127.0.0.1:$A,http://127.0.0.1:$B" \
  --players "$COUNTED" --concurrency 8 | grep -E "^matchmakes|^errors"
sleep 0.3
kill "$mon" 2>/dev/null || true
wait "$mon" 2>/dev/null || true
# A round trip is a command a node sent (not one a script ran: those show as "[0 lua]"); a
# node's refresh carries its own entry (JSON with "http") and is left out.
python3 - "$monitor" "$COUNTED" <<'PY'
import sys, collections
path, players = sys.argv[1], int(sys.argv[2])
top = collections.Counter()
for line in open(path, errors="replace"):
    if " lua]" in line or '\\"http\\"' in line or line.startswith("OK"):
        continue
    parts = line.split('"')
    if len(parts) > 1:
        top[parts[1].lower()] += 1
total = sum(top.values())
print(f"round trips          {total} for {players} matchmakes = {total / players:.2f} each  {dict(top)}")
PY
rm -f "$monitor"
