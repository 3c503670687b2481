#!/usr/bin/env bash
# Report (not a test): interest management on the large map (8000 x 8000) with the standard bots
# (../shared/bench/WORKLOAD.md). Runs 64 players in one match, then 512 players in 8 matches of
# 64, each with interest management off and with RADIUS, one after the other in this sitting,
# and prints the bots' figures: bytes per player-second, server CPU per 1000 player-seconds,
# server tick p99, and the snapshot bodies encoded per snapshot tick (distinct views).
#
#   scripts/interest-bench.sh            # RADIUS=1000
set -euo pipefail
cd "$(dirname "$0")/.."
RADIUS=${RADIUS:-1000}
PORT=${PORT:-18131}
DURATION=${DURATION:-35}
cargo build --release -q -p server -p client-demo
ulimit -n 20000
. scripts/start-server.sh
for players in 64 512; do
  for radius in 0 "$RADIUS"; do
    start_server target/release "$PORT" --max-players 64 --set map=large --set interest_radius="$radius"
    encodes() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^tickwire_snapshot_encodes_total/ {print $2}'; }
    echo "== $players players, interest_radius=$radius"
    target/release/tickwire-demo bots --count "$players" --workload standard --threads 1 \
      --duration "$DURATION" --warmup 5 --server-pid "$server" --server "http://127.0.0.1:$PORT" |
      grep -E "bytes|CPU|server tick|snapshots/s|peak"
    matches=$((players / 64))
    echo "snapshot bodies encoded per match per snapshot: $(awk -v e="$(encodes)" -v m="$matches" -v t="$DURATION" \
      'BEGIN { printf "%.1f", e / (m * 30 * (t + 5)) }') (approximate: over the whole run)"
    kill "$server"; wait "$server" 2>/dev/null || true
    trap - EXIT
  done
done
