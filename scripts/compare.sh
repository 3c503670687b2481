#!/usr/bin/env bash
# Tickwire against the I/O floor (a report, not a test). In one sitting, on this machine:
#  1. the floor (benches/floor/run.sh TOTAL P 120: axum moving pre-built frames, no game),
#  2. Tickwire on the standard workload (benches/WORKLOAD.md; bots --workload standard),
#  3. Tickwire on the demo game's own workload (bots --workload firing, the default),
# all with the same player count, match size, tokio workers, 5 s warm-up and 30 s window, the
# server's CPU read from /proc/PID/stat (utime+stime) at both ends of the window and its peak
# RSS from VmHWM. Prints one table with Tickwire's ratios to the floor.
#
#   scripts/compare.sh                 # 512 players, 16 per match, 2 workers
#   TOTAL=256 WORKERS=1 scripts/compare.sh
# Env: TOTAL (512), P (16), WORKERS (cores), WARMUP_S (5), MEASURE_S (30), TICK_RATE (30),
#      FLOOR_DIR (benches/floor), WORKLOADS ("standard firing"), PORT (18190),
#      BOTS_THREADS (1: Tickwire's bots on one thread, as the floor's bots run).
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${TOTAL:-512}
P=${P:-16}
WORKERS=${WORKERS:-$(nproc)}
WARMUP_S=${WARMUP_S:-5}
MEASURE_S=${MEASURE_S:-30}
TICK_RATE=${TICK_RATE:-30}
FLOOR_DIR=${FLOOR_DIR:-benches/floor}
WORKLOADS=${WORKLOADS:-"standard firing"}
PORT=${PORT:-18190}
BOTS_THREADS=${BOTS_THREADS:-1}
OUT=bench-out/compare-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

cargo build --release -q -p server -p client-demo

# Pull key=value out of a line.
kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1==k {print $2}'; }

rows=()
floor_cpu=""
floor_bytes=""
if [ -x "$FLOOR_DIR/run.sh" ]; then
  echo "== floor: $TOTAL players, $P per match, $WORKERS workers" >&2
  floor=$(WORKERS=$WORKERS WARMUP_S=$WARMUP_S MEASURE_S=$MEASURE_S QUIET_WAIT_S=${QUIET_WAIT_S:-60} \
    "$FLOOR_DIR/run.sh" "$TOTAL" "$P" 120 | tail -1)
  echo "$floor" >"$OUT/floor.txt"
  floor_cpu=$(kv cpu_s_per_1000_player_s "$floor")
  floor_bytes=$(kv bytes_per_player_s "$floor")
  rows+=("floor|$floor_cpu|$floor_bytes|$(kv min_updates_per_player_s "$floor")|$(kv updates_per_player_s "$floor") (mean)|$(kv server_rss_mb "$floor")|$(kv bots_cpu_s "$floor")|-")
else
  echo "no floor at $FLOOR_DIR (set FLOOR_DIR); Tickwire only" >&2
fi

. scripts/start-server.sh
for workload in $WORKLOADS; do
  echo "== tickwire: $TOTAL players, $workload workload, $WORKERS workers" >&2
  start_server target/release "$PORT" --tick-rate "$TICK_RATE" --max-players "$P" \
    --set worker_threads="$WORKERS"
  ./target/release/tickwire-demo bots --count "$TOTAL" --workload "$workload" --threads "$BOTS_THREADS" \
    --duration $((WARMUP_S + MEASURE_S)) --warmup "$WARMUP_S" --server-pid "$server" \
    --server "http://127.0.0.1:$PORT" >"$OUT/tickwire-$workload.txt" 2>"$OUT/tickwire-$workload.err"
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  r=$(grep '^RESULT ' "$OUT/tickwire-$workload.txt" | tail -1)
  cpu=$(kv cpu_s_per_1000_player_s "$r")
  ratio=$(awk -v a="$cpu" -v b="$floor_cpu" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}')
  rows+=("tickwire $workload|$cpu|$(kv bytes_per_player_s "$r")|$(kv snapshots_min "$r")|$(kv snapshots_p50 "$r")|$(kv server_peak_rss_mb "$r")|$(kv bots_cpu_s "$r")|$ratio")
  PORT=$((PORT + 1))
done

{
  echo "players=$TOTAL P=$P workers=$WORKERS tick_rate=$TICK_RATE window=${MEASURE_S}s after ${WARMUP_S}s (details: $OUT)"
  printf '%-18s %14s %14s %10s %14s %10s %10s %14s\n' server "cpu_s/1000ps" "bytes/player-s" "snap/s min" "snap/s p50" "rss_MB" "bots_cpu_s" "cpu vs floor"
  for row in "${rows[@]}"; do
    IFS='|' read -r name cpu bytes mn p50 rss bcpu ratio <<<"$row"
    printf '%-18s %14s %14s %10s %14s %10s %10s %14s\n' "$name" "$cpu" "$bytes" "$mn" "$p50" "$rss" "$bcpu" "$ratio"
  done
} | tee "$OUT/table.txt"
