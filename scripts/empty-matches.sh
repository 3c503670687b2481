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

python3 - "$PORT" "$MATCHES" "$RATE" <<'PY'
import json, sys, urllib.request
port, matches, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
def post(path, body, token=None):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as r:
        return json.load(r)
made = 0
while made < matches:
    token = post("/v1/auth/guest", {"name": f"m{made}"})["token"]
    for _ in range(min(2, matches - made)):
        post("/v1/matches", {"tick_rate": rate}, token)
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
