#!/usr/bin/env bash
# Checks the control plane's OpenAPI document (GET /openapi.json) with third-party tools,
# against a real control plane on a fresh Postgres database (check.py does the checking):
# openapi-spec-validator validates it, then a bounded schemathesis run generates requests
# for read-only operations from it and fails on any 5xx, an undocumented status or a body
# that does not conform to the documented schema. The process is stopped and the database
# dropped on exit, whatever happens.
#
#   bash tests/openapi/run.sh [BIN_DIR]   BIN_DIR (or env BIN_DIR) default target/debug;
#                                         the control plane is built there if missing.
#   TEST_PG_URL    Postgres server, default postgres://postgres@127.0.0.1:5432
#   TEST_REDIS_URL Redis, default redis://127.0.0.1:6379
#   EXAMPLES       schemathesis test cases per operation, default 25
#   KEEP_LOGS=1    keep the control plane's log (its directory is printed)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN_DIR="${1:-${BIN_DIR:-target/debug}}"
PG="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

log() { printf '[openapi] %s\n' "$*"; }

if [[ ! -x "$BIN_DIR/control-plane" ]]; then
  profile=()
  [[ "$(basename "$BIN_DIR")" == release ]] && profile=(--release)
  log "building the control plane into $BIN_DIR"
  cargo build "${profile[@]}" -p apigw-control-plane
fi
python3 -c 'import schemathesis, openapi_spec_validator' 2>/dev/null ||
  python3 -m pip install --quiet schemathesis openapi-spec-validator

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

logs="$(mktemp -d "${TMPDIR:-/tmp}/apigw-openapi.XXXXXX")"
db="apigw_openapi_$(date +%s)_$$"
pid=""
cleanup() {
  status=$?
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  psql "$PG/test" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  if [[ $status -ne 0 ]]; then
    log "--- last lines of the control plane's log"
    tail -n 30 "$logs/control-plane.log" 2>/dev/null || true
  fi
  if [[ -n "${KEEP_LOGS:-}" ]]; then log "logs kept in $logs"; else rm -rf "$logs"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "fresh database $db"
psql "$PG/test" -qc "CREATE DATABASE $db"

http=$(free_port); grpc=$(free_port)
export APIGW_ADMIN_USER=openapi APIGW_ADMIN_PASSWORD="openapi-check-password-1"
DATABASE_URL="$PG/$db" CP_HTTP_ADDR="127.0.0.1:$http" CP_GRPC_ADDR="127.0.0.1:$grpc" \
  REDIS_URL="$REDIS" REDIS_KEY_PREFIX="apigw-openapi-$$:" \
  APIGW_JWT_SECRET="openapi-check-session-signing-key-0123456789" \
  RUST_LOG="${RUST_LOG:-warn}" "$BIN_DIR/control-plane" >"$logs/control-plane.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$http/healthz" 2>/dev/null && break
  sleep 0.1
done
log "control plane on :$http"

python3 tests/openapi/check.py "http://127.0.0.1:$http" "$logs"
