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

python3 - "$PORT" "$server" "$WAVES" "$MATCHES" <<'PY'
import json, sys, time, urllib.request
port, pid, waves, matches = map(int, sys.argv[1:5])
base = f"http://127.0.0.1:{port}"
def post(path, body, token=None):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as r:
        return json.load(r)
def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
def live():
    with urllib.request.urlopen(base + "/v1/matches") as r:
        return len(json.load(r))
token = post("/v1/auth/guest", {"name": "churn"})["token"]
print(f"start: rss={rss_kib()} KiB")
for wave in range(waves):
    for _ in range(matches):
        post("/v1/matches", {}, token)
    peak = rss_kib()
    deadline = time.time() + 30
    while live() > 0 and time.time() < deadline:
        time.sleep(0.2)
    print(f"wave {wave}: {matches} live rss={peak} KiB; all ended ({live()} left) rss={rss_kib()} KiB",
          flush=True)
PY
