#!/usr/bin/env bash
# Capacity report (not a test): for each tick rate, 16 bots per match, runs scripts/bench.sh with
# more and more matches and prints one line per run: overruns, server tick p99, the slowest
# bot's snapshot rate and server CPU. A load "fits" when it has no overruns and every bot gets
# the full snapshot rate. Bots run on the same machine and take CPU from the server.
# Each run's full report is kept in bench-out/.
#
#   scripts/capacity.sh                        # default plan below
#   PLAN="30:16,24,32 60:8,12" DURATION=15 scripts/capacity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PLAN=${PLAN:-"30:16,24,32,40 60:8,12,16,20 128:2,4,6,8"}
DURATION=${DURATION:-15}
mkdir -p bench-out
printf '%-6s %-8s %-6s %-9s %-12s %-16s %s\n' "Hz" "matches" "bots" "overruns" "tick p99" "min snapshots/s" "server CPU (% of a core)"
for step in $PLAN; do
  rate=${step%%:*}
  for matches in ${step#*:}; do
    matches=${matches//,/ }
    for m in $matches; do
      bots=$((m * 16))
      report="bench-out/capacity-${rate}hz-${m}matches.txt"
      BOTS=$bots DURATION=$DURATION TICK_RATE=$rate PORT=$((18100 + rate)) scripts/bench.sh > "$report" 2>/dev/null
      out=$(tail -12 "$report")
      overruns=$(echo "$out" | awk '/server overruns/ {print $3}')
      p99=$(echo "$out" | awk '/server tick ms/ {print $5, $6}')
      minsnap=$(echo "$out" | awk '/snapshots\/s per bot/ {print $5}')
      cpu=$(echo "$out" | awk '/server CPU s/ {gsub(/\(/,"",$8); print $8}')
      printf '%-6s %-8s %-6s %-9s %-12s %-16s %s\n' "$rate" "$m" "$bots" "$overruns" "$p99" "$minsnap" "$cpu"
    done
  done
done
