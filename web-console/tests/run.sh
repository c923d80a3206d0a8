#!/usr/bin/env bash
# Browser tests of the web console, against the real binaries: builds what is missing
# (Rust binaries, the console), creates a fresh database, starts the development functions
# host (functions/host.py with the examples, for Lambda authorizers), a control plane
# (serving web-console/dist) and one data-plane node, then runs tests/console.test.mjs,
# tests/monitoring.test.mjs, tests/audit.test.mjs, tests/logs.test.mjs, tests/canary.test.mjs,
# tests/stage-cache.test.mjs, tests/domains.test.mjs, tests/websocket.test.mjs,
# tests/websocket-settings.test.mjs, tests/http-api.test.mjs, tests/http-api-import.test.mjs, tests/http-api-metrics.test.mjs and tests/policies.test.mjs, in that order, with node's test runner, driving Debian's
# Chromium through
# playwright-core. Screenshots go to web-console/test-results/.
#
#   bash web-console/tests/run.sh            # from the repository root, or `npm test` in web-console/
#   TARGET_DIR=target/release bash web-console/tests/run.sh   # use release binaries
#   CONSOLE_TESTS=monitoring bash web-console/tests/run.sh    # only tests/monitoring.test.mjs
#   CONSOLE_TESTS=audit bash web-console/tests/run.sh         # only tests/audit.test.mjs (the audit log)
#   CONSOLE_TESTS=logs bash web-console/tests/run.sh          # only tests/logs.test.mjs (the Logs page)
#   CONSOLE_TESTS=canary bash web-console/tests/run.sh        # only tests/canary.test.mjs (canary, method settings)
#   CONSOLE_TESTS=stage-cache bash web-console/tests/run.sh   # only tests/stage-cache.test.mjs
#   CONSOLE_TESTS=domains bash web-console/tests/run.sh       # only tests/domains.test.mjs (custom domains, client certificates)
#   CONSOLE_TESTS=websocket bash web-console/tests/run.sh     # only tests/websocket.test.mjs (WebSocket APIs)
#   CONSOLE_TESTS=websocket-settings bash web-console/tests/run.sh  # only tests/websocket-settings.test.mjs
#     (WebSocket authorizers, models, integration and route responses, route settings)
#   CONSOLE_TESTS=http-api bash web-console/tests/run.sh      # only tests/http-api.test.mjs (HTTP APIs)
#   CONSOLE_TESTS=http-api-import bash web-console/tests/run.sh  # only tests/http-api-import.test.mjs
#     (HTTP API OpenAPI import, reimport, export)
#   CONSOLE_TESTS=http-api-metrics bash web-console/tests/run.sh  # only tests/http-api-metrics.test.mjs
#     (an HTTP API's Metrics tab, Reset authorizer cache)
#   CONSOLE_TESTS=policies bash web-console/tests/run.sh      # only tests/policies.test.mjs (access policies)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
console="$(dirname "$here")"
root="$(dirname "$console")"
cd "$root"

PG_URL="${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
TARGET_DIR="${TARGET_DIR:-target/debug}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium not found at $CHROMIUM: install it (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi

echo "== building the binaries"
if [ "$TARGET_DIR" = "target/release" ]; then
  cargo build --release -p apigw-control-plane -p apigw-data-plane
else
  cargo build -p apigw-control-plane -p apigw-data-plane
fi

echo "== building the console"
(cd "$console" && { [ -d node_modules ] || npm install --no-audit --no-fund; } && npm run build)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
CP_PORT=$(free_port); GRPC_PORT=$(free_port); DP_PORT=$(free_port); FN_PORT=$(free_port)
DB="apigw_console_e2e_$$_$RANDOM"
# Usage metering (GetUsage, quota grants) needs Redis on the control plane too; a prefix of
# this run's own keeps its counters apart from anything else on the same Redis.
export REDIS_KEY_PREFIX="apigw-console-e2e-$$-$RANDOM:"
logs="$console/test-results/logs"
mkdir -p "$logs"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$PG_URL/test" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  # This run's counters, buckets and heartbeats (nothing else shares its prefix).
  if command -v redis-cli >/dev/null; then
    redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_KEY_PREFIX}*" 2>/dev/null |
      xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

psql "$PG_URL/test" -qc "CREATE DATABASE $DB" >/dev/null

# The example functions (token-authorizer, ...), called by the node and by the control
# plane's test invocations; GET /invocations counts the calls per function.
python3 functions/host.py --dir functions/examples --port "$FN_PORT" >"$logs/functions.log" 2>&1 &
pids+=($!)
FUNCTIONS_URL="http://127.0.0.1:$FN_PORT"
export FUNCTIONS_URL

# The alarm evaluator runs every 5 s here (default 60 s), so the alarms test sees a state
# change without waiting minutes.
export APIGW_ADMIN_USER=admin
export APIGW_ADMIN_PASSWORD="console-e2e-password-1"
DATABASE_URL="$PG_URL/$DB" CP_HTTP_ADDR="127.0.0.1:$CP_PORT" CP_GRPC_ADDR="127.0.0.1:$GRPC_PORT" \
  CONSOLE_DIR="$console/dist" APIGW_JWT_SECRET="console-e2e-session-signing-key-0123456789" REDIS_URL="$REDIS_URL" \
  APIGW_ALARM_EVAL_INTERVAL=5 RUST_LOG="${E2E_LOG:-warn}" "$TARGET_DIR/control-plane" >"$logs/control-plane.log" 2>&1 &
pids+=($!)
wait_ok() {
  for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2; cat "$logs"/*.log >&2; exit 1
}
wait_ok "$FUNCTIONS_URL/invocations"
wait_ok "http://127.0.0.1:$CP_PORT/healthz"
CONTROL_PLANE_URL="http://127.0.0.1:$GRPC_PORT" DP_HTTP_ADDR="127.0.0.1:$DP_PORT" DP_NODE_ID=console-e2e \
  REDIS_URL="$REDIS_URL" RUST_LOG="${E2E_LOG:-warn}" "$TARGET_DIR/data-plane" >"$logs/data-plane.log" 2>&1 &
pids+=($!)
wait_ok "http://127.0.0.1:$DP_PORT/healthz"

# The test files, in order (console.test.mjs expects an empty console): all by default, or
# some of them, e.g. CONSOLE_TESTS=monitoring.
# One `node --test` per file: given several files, node orders them itself (by name), and
# audit.test.mjs would then run before console.test.mjs and fill the console it expects empty.
failed=0
for t in ${CONSOLE_TESTS:-console monitoring audit logs canary stage-cache domains websocket websocket-settings http-api http-api-import http-api-metrics policies}; do
  echo "== browser tests: $t"
  CONSOLE_URL="http://127.0.0.1:$CP_PORT" DATA_PLANE_URL="http://127.0.0.1:$DP_PORT" CHROMIUM="$CHROMIUM" \
    TEST_DATABASE_URL="$PG_URL/$DB" node --test --test-concurrency=1 "$here/$t.test.mjs" || failed=1
done

js_gz=$(cat "$console"/dist/assets/*.js | gzip -9 | wc -c)
echo "console JavaScript: $(cat "$console"/dist/assets/*.js | wc -c) bytes, $js_gz bytes gzipped"
exit "$failed"
