#!/usr/bin/env bash
# Report (not a test): what recording costs. Runs PLAYERS standard bots (benches/
# WORKLOAD.md; matches of 16) ROUNDS times without recording and with it, alternating in this
# sitting, and prints the bots' figures (server CPU per 1000 player-seconds, peak RSS, tick
# p99). Each recorded run's server is then stopped (its matches end and their recordings are
# finished), and the script prints the recordings' size per player-minute, re-simulates one
# (`replay --verify`: ticks per second) and verifies them all.
#
#   scripts/record-bench.sh              # PLAYERS=512 ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYERS=${PLAYERS:-512}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-18141}
DURATION=${DURATION:-35}
cargo build --release -q -p server -p client-demo
ulimit -n 20000
export TICKWIRE_JWT_SECRET=record-bench-secret-0123456789abcdef
. scripts/start-server.sh
dir=$(mktemp -d /tmp/tickwire-record-bench.XXXXXX)
for round in $(seq "$ROUNDS"); do
  for mode in off on; do
    args=()
    if [ "$mode" = on ]; then rm -rf "$dir"; args=(--set record_dir="$dir"); fi
    start_server target/release "$PORT" "${args[@]}"
    echo "== round $round, recording $mode, $PLAYERS players"
    target/release/tickwire-demo bots --count "$PLAYERS" --workload standard --threads 1 \
      --duration "$DURATION" --warmup 5 --server-pid "$server" --server "http://127.0.0.1:$PORT" |
      grep -E "CPU \(/proc\)|peak RSS|server tick ms|overruns"
    # SIGTERM with --drain-timeout 0s: every match ends (Shutdown) and its recording is
    # finished before the process exits.
    kill "$server"; wait "$server" 2>/dev/null || true
    trap - EXIT
    if [ "$mode" = on ]; then
      files=("$dir"/*.twrec)
      bytes=0; minutes=0
      for f in "${files[@]}"; do
        line=$(target/release/tickwire-server replay "$f" | grep "player-minutes")
        minutes=$(awk -v a="$minutes" -v b="$(echo "$line" | awk '{print $1}')" 'BEGIN { print a + b }')
        bytes=$((bytes + $(stat -c %s "$f")))
      done
      echo "recordings: ${#files[@]} files, $bytes bytes, $minutes player-minutes: $(awk -v b="$bytes" -v m="$minutes" 'BEGIN { printf "%.0f", b / m }') bytes per player-minute"
      target/release/tickwire-server replay "${files[0]}" --verify
      for f in "${files[@]}"; do target/release/tickwire-server replay "$f" --verify > /dev/null; done
      echo "all ${#files[@]} recordings verified"
    fi
  done
done
rm -rf "$dir"
