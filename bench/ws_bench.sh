#!/usr/bin/env bash
# WebSocket echo through one node against nginx (bench/ws_bench.py's docstring says what is
# measured): installs nginx if missing, builds the release binaries and the load generator
# (bench/ws-load, its own workspace), then runs bench/ws_bench.py.
#
#   bench/ws_bench.sh                                  # 3 runs of 20 s, 8/32/128 connections
#   BENCH_RUNS=1 BENCH_DURATION=5 BENCH_WS_IDLE=1000 bench/ws_bench.sh   # a quick pass
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { apt-get update -qq && apt-get install -y -qq nginx-light; }
python3 -c 'import boto3' 2>/dev/null || python3 -m pip install --quiet boto3
[ -n "${BIN_DIR:-}" ] || cargo build --release -p apigw-control-plane -p apigw-data-plane
[ -n "${WS_LOAD:-}" ] || cargo build --release --manifest-path bench/ws-load/Cargo.toml
exec python3 bench/ws_bench.py "$@"
