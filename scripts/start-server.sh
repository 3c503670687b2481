# Sourced by scripts/bench.sh and scripts/soak.sh: start_server BIN_DIR PORT [ARGS...] starts
# tickwire-server on 127.0.0.1:PORT with load-test settings plus ARGS, stops it when the script
# exits, and waits (bounded) for the port. Every bot comes from 127.0.0.1, so the per-address
# limits (seats, request budget, created matches) are lifted; --drain-timeout 0s ends matches at
# once when the script stops the server.
start_server() {
  local bin=$1 port=$2
  shift 2
  "$bin/tickwire-server" --bind "127.0.0.1:$port" --log-level warn --drain-timeout 0s \
    --set results_log= --set max_connections_per_ip=100000 --set max_sockets_per_ip=100000 --set http_rate_limit=0 \
    --set max_created_matches_per_ip=100000 "$@" &
  server=$!
  trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "tickwire-server did not open port $port" >&2
  return 1
}
