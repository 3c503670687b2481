#!/usr/bin/env bash
# Soak (a report, and a check): starts a server with short match timers, runs
# `tickwire-demo soak` against it, prints server RSS every 10 s and the totals, and exits
# non-zero unless sessions, players and matches are back to zero at the end.
#
#   scripts/soak.sh                          # 10 minutes, 48 bots, release build
#   DURATION=20 BOTS=16 PROFILE=debug scripts/soak.sh   # the short version CI runs
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-600}
BOTS=${BOTS:-48}
PROFILE=${PROFILE:-release}
PORT=${PORT:-18095}
ulimit -n 65536 2>/dev/null || true
if [ "$PROFILE" = release ]; then
  cargo build --release -q -p server -p client-demo
else
  cargo build -q -p server -p client-demo
fi
bin="target/$PROFILE"
. scripts/start-server.sh
# Short timers so matches come and go and dropped players leave quickly.
start_server "$bin" "$PORT" --set empty_match_timeout=3s --set reconnect_grace=2s
echo "== soak: $BOTS bots, ${DURATION}s, server pid $server"
"$bin/tickwire-demo" soak --bots "$BOTS" --duration "$DURATION" --server "http://127.0.0.1:$PORT"
