#!/usr/bin/env bash
# Report (not a test): interest management on the large map (8000 x 8000) with the standard bots
# (benches/WORKLOAD.md). Runs 64 players in one match, then 512 players in 8 matches of
# 64, each with interest management off and with RADIUS, one after the other in this sitting,
# and prints the bots' figures: bytes per player-second, server CPU per 1000 player-seconds,
# the server's tick p99 (the admin API's exact 10 s window, read near the end of the run: the
# median and the worst match), and the snapshot bodies encoded per snapshot (distinct views).
#
#   scripts/interest-bench.sh            # RADIUS=1000, PLAYERS="64 512"
set -euo pipefail
cd "$(dirname "$0")/.."
RADIUS=${RADIUS:-1000}
PORT=${PORT:-18131}
DURATION=${DURATION:-35}
cargo build --release -q -p server -p client-demo
ulimit -n 20000
export TICKWIRE_JWT_SECRET=interest-bench-secret-0123456789abcdef
token=$(target/release/tickwire-server admin-token --name bench)
. scripts/start-server.sh
for players in ${PLAYERS:-64 512}; do
  for radius in 0 "$RADIUS"; do
    start_server target/release "$PORT" --max-players 64 --set map=large --set interest_radius="$radius"
    echo "== $players players, interest_radius=$radius"
    # Read while the bots play: the encode counter over 20 s of the window, and the admin
    # report's tick times (they cover the last 10 s).
    (
      encodes() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^tickwire_snapshot_encodes_total/ {print $2}'; }
      sleep 10; e0=$(encodes); sleep 20; e1=$(encodes)
      echo "snapshot bodies encoded per match per snapshot: $(awk -v a="$e0" -v b="$e1" -v m="$((players / 64))" \
        'BEGIN { printf "%.1f", (b - a) / (m * 30 * 20) }') (of 64 players)"
      curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/v1/admin/matches" |
        python3 -c 'import json, statistics, sys
t = [m["tick_time"] for m in json.load(sys.stdin)]
mean, p50, p99 = (statistics.median(x[k] for x in t) for k in ("mean_ms", "p50_ms", "p99_ms"))
worst = max(x["p99_ms"] for x in t)
print(f"tick ms (admin, last 10 s, median over {len(t)} matches): mean {mean:.3f}  p50 {p50:.3f}  p99 {p99:.3f}  (worst match p99 {worst:.3f})")'
    ) &
    reader=$!
    target/release/tickwire-demo bots --count "$players" --workload standard --threads 1 \
      --duration "$DURATION" --warmup 5 --server-pid "$server" --server "http://127.0.0.1:$PORT" |
      grep -E "bytes|CPU|snapshots/s|peak"
    wait "$reader"
    kill "$server"; wait "$server" 2>/dev/null || true
    trap - EXIT
  done
done
