#!/usr/bin/env bash
# Runs the gateway against a local Postgres and Redis: builds the release binaries, then
# starts the control plane (:8080 management API, :9090 config stream) and two data-plane
# nodes (:8081, :8082), and builds the web console first when npm is there. Unless
# FUNCTIONS_URL names a Lambda-compatible endpoint, it also starts the development function
# host with the example handlers (:9001). Ctrl-C stops them all.
#
#   DATABASE_URL   default postgres://postgres@127.0.0.1:5432/apigw (created if missing)
#   REDIS_URL      default redis://127.0.0.1:6379
#   FUNCTIONS_URL  default: functions/host.py on http://127.0.0.1:9001
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/apigw}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

if command -v psql >/dev/null && [[ "$DATABASE_URL" =~ ^(postgres(ql)?://[^/]+)/([A-Za-z0-9_]+)$ ]]; then
  server="${BASH_REMATCH[1]}"; db="${BASH_REMATCH[3]}"
  if ! psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql "$server/postgres" -qc "CREATE DATABASE $db"
  fi
fi

cargo build --release -p apigw-control-plane -p apigw-data-plane
if [ ! -f web-console/dist/index.html ] && command -v npm >/dev/null; then
  (cd web-console && npm install --no-audit --no-fund && npm run build)
fi

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
if [ -z "${FUNCTIONS_URL:-}" ] && command -v python3 >/dev/null; then
  python3 functions/host.py --dir functions/examples --port 9001 & pids+=($!)
  export FUNCTIONS_URL=http://127.0.0.1:9001
fi
target/release/control-plane & pids+=($!)
# Each node keeps its last applied config in a state directory of its own (docs/node-state.md).
DP_HTTP_ADDR=127.0.0.1:8081 DP_NODE_ID=node-1 DP_STATE_DIR=target/state/node-1 target/release/data-plane & pids+=($!)
DP_HTTP_ADDR=127.0.0.1:8082 DP_NODE_ID=node-2 DP_STATE_DIR=target/state/node-2 target/release/data-plane & pids+=($!)
echo "management API: http://127.0.0.1:8080   nodes: http://127.0.0.1:8081 http://127.0.0.1:8082   functions: ${FUNCTIONS_URL:-none}"
wait -n
