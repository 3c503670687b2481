#!/usr/bin/env bash
# Report (not a test): server RSS under match churn. Starts a release server on loopback, then
# WAVES times creates MATCHES matches that nobody joins (they end after seat_reservation, 1 s
# here) and prints the RSS after creating them and after they ended.
#
#   scripts/match-churn.sh                     # 12 waves of 500
#   WAVES=20 MATCHES=200 scripts/match-churn.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WAVES=${WAVES:-12}
MATCHES=${MATCHES:-500}
PORT=${PORT:-18098}

cargo build --release -q -p server
. scripts/start-server.sh
start_server target/release "$PORT" --set max_matches=100000 --set seat_reservation=1s \
  --set max_created_matches_per_player=100000

PYTHONPATH=scripts/lib python3 - "$PORT" "$server" "$WAVES" "$MATCHES" <<'PY'
import sys, time
from tickwire_api import Api, rss_kib
port, pid, waves, matches = map(int, sys.argv[1:5])
api = Api(port)
token = api.guest("churn")
print(f"start: rss={rss_kib(pid)} KiB")
for wave in range(waves):
    for _ in range(matches):
        api.create_match(token)
    peak = rss_kib(pid)
    deadline = time.time() + 30
    while api.live_matches() > 0 and time.time() < deadline:
        time.sleep(0.2)
    print(f"wave {wave}: {matches} live rss={peak} KiB; all ended "
          f"({api.live_matches()} left) rss={rss_kib(pid)} KiB", flush=True)
PY
