#!/usr/bin/env bash
# Runs the whole test suite RUNS times (default 5) while every core is kept busy by a
# competing load, and reports each test that failed even once. This is how we prove the
# suite does not depend on the machine's speed: a test that passes only on an idle machine
# will fail on CI some day.
#
#   scripts/test-under-load.sh            # 5 runs, load = one busy process per core
#   RUNS=10 LOAD=4 scripts/test-under-load.sh
#   NEXTEST_ARGS='-E binary(usage_plans)' scripts/test-under-load.sh   # one suite
#
# The load is stress-ng's CPU stressor when stress-ng is installed (Debian: stress-ng),
# otherwise shell busy loops; both at the same priority as the tests. The suite is
# `cargo nextest run --workspace` (the README's test command), built once before the load
# starts. Logs of every run go to target/test-under-load/.
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-5}"
load="${LOAD:-$(nproc)}"
out="target/test-under-load"
mkdir -p "$out"
rm -f "$out"/run-*.log

echo "== building the tests and the binaries (before the load starts)"
cargo nextest run --workspace --locked --no-run || exit 1
cargo build --locked -p apigw-control-plane -p apigw-data-plane || exit 1

load_pids=()
stop_load() {
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap stop_load EXIT
if command -v stress-ng >/dev/null; then
  echo "== load: stress-ng --cpu $load"
  stress-ng --cpu "$load" --quiet &
  load_pids+=($!)
else
  echo "== load: $load shell busy loops (install stress-ng for a standard stressor)"
  for _ in $(seq "$load"); do
    bash -c 'while :; do :; done' &
    load_pids+=($!)
  done
fi

failed_runs=0
for i in $(seq "$runs"); do
  started=$SECONDS
  # shellcheck disable=SC2086
  cargo nextest run --workspace --locked --no-fail-fast ${NEXTEST_ARGS:-} >"$out/run-$i.log" 2>&1
  status=$?
  summary=$(grep -E '^ *Summary ' "$out/run-$i.log" | tail -n1 | sed -E 's/^ +//')
  echo "run $i/$runs: exit $status in $((SECONDS - started)) s: ${summary:-no summary}"
  [ "$status" -ne 0 ] && failed_runs=$((failed_runs + 1))
done

echo
echo "== tests that failed at least once (count, name)"
grep -hE '^ +(FAIL|TIMEOUT|SIGSEGV|SIGABRT|ABORT|LEAK-FAIL) \[' "$out"/run-*.log |
  sed -E 's/^ +[A-Z-]+ \[[^]]*\] (\([^)]*\) )?//' | sort | uniq -c | sort -rn
if [ "$failed_runs" -eq 0 ]; then
  echo "none: $runs runs under load passed"
  exit 0
fi
echo "$failed_runs of $runs runs failed; their logs are in $out/"
exit 1
