#!/usr/bin/env bash
# Report (not a test): what empty matches cost. Starts a release server on loopback, creates
# MATCHES matches at RATE Hz that nobody joins (500 guests, 2 matches each: the per-player
# cap), then samples the server's CPU over WINDOW seconds and prints one line.
#
#   scripts/empty-matches.sh                   # 1000 matches at 240 Hz, 10 s
#   MATCHES=200 RATE=30 scripts/empty-matches.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MATCHES=${MATCHES:-1000}
RATE=${RATE:-240}
WINDOW=${WINDOW:-10}
PORT=${PORT:-18097}

cargo build --release -q -p server
. scripts/start-server.sh
# Reservations (and so unjoined matches) last 10 minutes: the matches outlive the window.
start_server target/release "$PORT" --set max_matches=100000 --set seat_reservation=600s

PYTHONPATH=scripts/lib python3 - "$PORT" "$MATCHES" "$RATE" <<'PY'
import sys
from tickwire_api import Api
api, matches, rate = Api(int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
made = 0
while made < matches:
    token = api.guest(f"m{made}")
    for _ in range(min(2, matches - made)):
        api.create_match(token, tick_rate=rate)
        made += 1
PY

cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
c0=$(cpu)
sleep "$WINDOW"
c1=$(cpu)
awk -v m="$MATCHES" -v r="$RATE" -v w="$WINDOW" -v c="$((c1 - c0))" -v k="$(rss)" 'BEGIN {
  printf "RESULT matches=%d tick_rate=%d window_s=%d cpu_s=%.2f cpu_percent=%.1f rss_mib=%.1f\n",
    m, r, w, c / 100, c / w, k / 1024 }'
