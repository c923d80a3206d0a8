#!/usr/bin/env bash
# Runs the boto3 walkthrough (walkthrough.py), then canary.py, against real processes: a fresh Postgres
# database, the control plane with its default (README) development key, and two
# data-plane nodes, all on free local ports. Everything is stopped and the database
# dropped on exit, whatever happens.
#
#   bash tests/boto3/run.sh [BIN_DIR]     BIN_DIR (or env BIN_DIR) default target/debug;
#                                         the binaries are built there if missing.
#   TEST_PG_URL   Postgres server, default postgres://postgres@127.0.0.1:5432
#   TEST_REDIS_URL Redis for the nodes, default redis://127.0.0.1:6379
#   KEEP_LOGS=1   keep the process logs (their directory is printed)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN_DIR="${1:-${BIN_DIR:-target/debug}}"
PG="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

log() { printf '[run.sh] %s\n' "$*"; }

if [[ ! -x "$BIN_DIR/control-plane" || ! -x "$BIN_DIR/data-plane" ]]; then
  profile=()
  [[ "$(basename "$BIN_DIR")" == release ]] && profile=(--release)
  log "building the binaries into $BIN_DIR"
  cargo build "${profile[@]}" -p apigw-control-plane -p apigw-data-plane
fi
python3 -c 'import boto3' 2>/dev/null || python3 -m pip install --quiet boto3

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

logs="$(mktemp -d "${TMPDIR:-/tmp}/apigw-boto3.XXXXXX")"
db="apigw_boto3_$(date +%s)_$$"
pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do # SIGTERM drains; give it 10 s, then SIGKILL
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  psql "$PG/test" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  if [[ $status -ne 0 ]]; then
    for f in "$logs"/*.log; do
      [[ -e "$f" ]] || continue
      log "--- last lines of $(basename "$f")"
      tail -n 30 "$f"
    done
  fi
  if [[ -n "${KEEP_LOGS:-}" ]]; then log "logs kept in $logs"; else rm -rf "$logs"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "fresh database $db"
psql "$PG/test" -qc "CREATE DATABASE $db"

wait_ok() { # url, what
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  log "$2 did not answer $1"
  return 1
}

cp_http=$(free_port); cp_grpc=$(free_port)
log "control plane on :$cp_http (config stream :$cp_grpc) from $BIN_DIR"
env -u APIGW_ACCESS_KEY_ID -u APIGW_SECRET_ACCESS_KEY \
  DATABASE_URL="$PG/$db" CP_HTTP_ADDR="127.0.0.1:$cp_http" CP_GRPC_ADDR="127.0.0.1:$cp_grpc" \
  RUST_LOG="${RUST_LOG:-info}" "$BIN_DIR/control-plane" >"$logs/control-plane.log" 2>&1 &
pids+=($!)
wait_ok "http://127.0.0.1:$cp_http/healthz" "the control plane"

nodes=()
for i in 1 2; do
  port=$(free_port)
  CONTROL_PLANE_URL="http://127.0.0.1:$cp_grpc" DP_HTTP_ADDR="127.0.0.1:$port" \
    DP_NODE_ID="boto3-node-$i" REDIS_URL="$REDIS" REDIS_KEY_PREFIX="boto3:$db:" \
    RUST_LOG="${RUST_LOG:-info}" \
    "$BIN_DIR/data-plane" >"$logs/data-plane-$i.log" 2>&1 &
  pids+=($!)
  nodes+=("http://127.0.0.1:$port")
done
for n in "${nodes[@]}"; do wait_ok "$n/readyz" "node $n"; done
log "nodes ready: ${nodes[*]}"

env -u APIGW_ACCESS_KEY_ID -u APIGW_SECRET_ACCESS_KEY \
  APIGW_ENDPOINT="http://127.0.0.1:$cp_http" APIGW_NODES="$(IFS=,; echo "${nodes[*]}")" \
  python3 tests/boto3/walkthrough.py
# Canary settings and every stage method setting (issue 17), on the same control plane.
env -u APIGW_ACCESS_KEY_ID -u APIGW_SECRET_ACCESS_KEY \
  APIGW_ENDPOINT="http://127.0.0.1:$cp_http" python3 tests/boto3/canary.py
