#!/usr/bin/env bash
# Capacity report (not a test): for each tick rate, 16 players per match, starts a release server
# and fills it with bots (on the same machine, taking CPU from the server), one run per player
# count, and prints one line per run from the bots' RESULT line: overruns, the slowest bot's
# snapshot rate, server and bots CPU. A load "fits" when it has no overruns and every bot gets at
# least 29.5 of 30 snapshots a second (tick rate minus 1.7 % at other rates). Each run: ramp,
# 5 s warm-up, 30 s window. Full reports are kept in bench-out/capacity-*/.
#
#   scripts/capacity.sh                                  # default plan below
#   PLAN="30:1200,1504 60:640" WORKLOAD=firing scripts/capacity.sh
# Env: PLAN ("RATE:PLAYERS,PLAYERS ..."), WORKLOAD (standard), BOTS_THREADS (1: the bots on one
#      thread, as the floor's bots run), WARMUP_S (5), MEASURE_S (30), PORT (18100).
set -euo pipefail
cd "$(dirname "$0")/.."
PLAN=${PLAN:-"30:1200,1504 60:640,752 128:320,384"}
WORKLOAD=${WORKLOAD:-standard}
BOTS_THREADS=${BOTS_THREADS:-1}
WARMUP_S=${WARMUP_S:-5}
MEASURE_S=${MEASURE_S:-30}
PORT=${PORT:-18100}
OUT=bench-out/capacity-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

cargo build --release -q -p server -p client-demo
. scripts/start-server.sh

kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1==k {print $2}'; }

{
printf '%-5s %-8s %-9s %-14s %-12s %-14s %-12s %s\n' Hz players overruns "snap/s min" "tick p99" "server cores" "bots cores" fits
for step in $PLAN; do
  rate=${step%%:*}
  for players in ${step#*:}; do
    players=${players//,/ }
    for n in $players; do
      report="$OUT/${rate}hz-${n}.txt"
      start_server target/release "$PORT" --tick-rate "$rate" --max-players 16 2>>"$OUT/server.err"
      ./target/release/tickwire-demo bots --count "$n" --workload "$WORKLOAD" \
        --threads "$BOTS_THREADS" --duration $((WARMUP_S + MEASURE_S)) --warmup "$WARMUP_S" \
        --server-pid "$server" --server "http://127.0.0.1:$PORT" >"$report" 2>"$report.err"
      kill "$server" 2>/dev/null || true
      wait "$server" 2>/dev/null || true
      PORT=$((PORT + 1))
      r=$(grep '^RESULT ' "$report" | tail -1)
      window=$(kv window_s "$r")
      overruns=$(kv overruns "$r")
      minsnap=$(kv snapshots_min "$r")
      p99=$(awk '/server tick ms/ {print $8, $9}' "$report")
      cores() { awk -v s="$1" -v w="$window" 'BEGIN {if (w > 0) printf "%.2f", s / w; else print "-"}'; }
      fits=$(awk -v o="$overruns" -v m="$minsnap" -v r="$rate" \
        'BEGIN {print (o == 0 && m >= r * 29.5 / 30) ? "yes" : "no"}')
      printf '%-5s %-8s %-9s %-14s %-12s %-14s %-12s %s\n' "$rate" "$n" "$overruns" "$minsnap" "$p99" \
        "$(cores "$(kv server_cpu_s "$r")")" "$(cores "$(kv bots_cpu_s "$r")")" "$fits"
    done
  done
done
} | tee "$OUT/table.txt"
