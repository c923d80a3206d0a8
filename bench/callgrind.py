#!/usr/bin/env python3
"""Instructions per request of the data plane, for A/B comparisons on a noisy machine.

Wall-clock throughput on this VM drifts between boots and with other load; instruction
counts do not (much). This starts an nginx upstream, a control plane and one data-plane
node (single-threaded runtime) under `valgrind --tool=callgrind`, configures the bench API
of bench.py (HTTP_PROXY on /{proxy+}, an HTTP integration with request and response
templates on /tmpl, the proxy behind a TOKEN authorizer on /token and behind a JWT one on
/jwt), warms each case up, then for each case zeroes the counters, sends N
keep-alive requests from one connection, and dumps: instructions per request = Ir / N.

    python3 bench/callgrind.py                    # binaries in target/release
    BIN_DIR=/other/target/release python3 bench/callgrind.py
    CALLGRIND_REQUESTS=2000 python3 bench/callgrind.py
    CALLGRIND_KEEP=/tmp/cg python3 bench/callgrind.py   # keep the dumps for callgrind_annotate
    CALLGRIND_METRICS=off python3 bench/callgrind.py    # request metrics off (DP_METRICS=false)
    CALLGRIND_METRICS=detailed python3 bench/callgrind.py  # per-method series (*/*/metrics/enabled)
    CALLGRIND_METRICS=settings python3 bench/callgrind.py  # `*/*` method settings, metrics not detailed
    CALLGRIND_CASES=HTTP_PROXY python3 bench/callgrind.py  # only these cases (comma-separated)
    CALLGRIND_CASES=HTTP_PROXY,cache-hit,cache-miss python3 bench/callgrind.py  # the stage cache:
                                                        # a hit, and a miss that refreshes the
                                                        # entry (Cache-Control: max-age=0)
    CALLGRIND_CASES=HTTP_PROXY,http-api python3 bench/callgrind.py  # the same proxy call through an
                                                        # HTTP API (apigatewayv2) route
    CALLGRIND_CASES=cache-hit-sealed,cache-miss-sealed python3 bench/callgrind.py  # the same with
                                                        # caching/dataEncrypted (entries sealed)
    CALLGRIND_TRACING=0.01 python3 bench/callgrind.py   # the stage with tracingEnabled, sampled
                                                        # at 1 %, spans sent by OTLP/HTTP to a sink
    CALLGRIND_ACCESS_LOG=1 python3 bench/callgrind.py   # each case twice in one run: access logging
                                                        # off, then on (AWS's JSON preset, to a file)

CALLGRIND_METRICS is `on` (the default: stage-level series), `off`, `detailed`, or `settings`
(`*/*` method settings with metrics not detailed: they bring the stage's default method
throttle, so compare `detailed` with `settings`); run it once per mode to compare what request
metrics cost.

With CALLGRIND_ACCESS_LOG=1 the node writes its log lines to a file (`ACCESS_LOG_FILE`, not
shipped: `LOGS_SHIP=false`), every case is measured with the stage's access logging off, the
stage then gets `accessLogSettings` (the JSON preset), and every case is measured again as
`{case}+access-log`: the writer thread's instructions are counted with the request's.

Only the node's user-space instructions are counted, so other load on the machine does
not change the figure; compare two binaries by running this once for each.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (bench.py's helpers: ports, nginx, the bench API)

REQUESTS = int(os.environ.get("CALLGRIND_REQUESTS", "1000"))
KEEP = os.environ.get("CALLGRIND_KEEP")  # a folder to keep each case's dump in
METRICS = os.environ.get("CALLGRIND_METRICS", "on")
CASES = [c for c in os.environ.get("CALLGRIND_CASES", "").split(",") if c]
WARMUP = 200
TRACING = os.environ.get("CALLGRIND_TRACING")  # a sampling ratio: trace the bench stage
ACCESS_LOG = os.environ.get("CALLGRIND_ACCESS_LOG") == "1"
JSON_PRESET = ('{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId",'
               '"ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", '
               '"user":"$context.identity.user", "requestTime":"$context.requestTime", '
               '"httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", '
               '"status":"$context.status", "protocol":"$context.protocol", '
               '"responseLength":"$context.responseLength" }')


def otlp_sink() -> int:
    """An OTLP/HTTP receiver that accepts and discards spans; returns its port."""
    import http.server
    import threading

    class Sink(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def send(port: int, host: str, path: str, n: int, extra: dict | None = None) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(n):
        conn.request("GET", path, headers={"Host": host, **(extra or {})})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            sys.exit(f"{path}: status {r.status}")
    conn.close()


def metrics_text(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    return text


def config_version(port: int) -> float:
    m = re.search(r"^apigw_config_version (\S+)$", metrics_text(port), re.M)
    return float(m.group(1)) if m else 0.0


def instructions(out: Path, pid: int, case: str) -> int:
    """Dumps the node's counters and returns the instructions since the last zeroing."""
    before = set(out.parent.glob(out.name + "*"))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    deadline = time.time() + 60
    while True:
        new = set(out.parent.glob(out.name + "*")) - before
        for f in new:
            text = f.read_text(errors="replace")
            m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
            if m:
                if KEEP:
                    Path(KEEP).mkdir(parents=True, exist_ok=True)
                    shutil.copy(f, Path(KEEP) / f"callgrind.{case}.out")
                return int(m.group(1))
        if time.time() > deadline:
            sys.exit("callgrind dump did not appear")
        time.sleep(0.2)


def settle(path: Path) -> None:
    """Waits until the file stops growing (the log writer has caught up)."""
    size = -1
    while path.exists() and path.stat().st_size != size:
        size = path.stat().st_size
        time.sleep(0.3)


def main() -> None:
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("needs valgrind (apt-get install valgrind)")
    tmp = Path(tempfile.mkdtemp(prefix="apigw-callgrind-"))
    procs = bench.Procs(tmp)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    db = f"apigw_callgrind_{int(time.time())}"
    try:
        up, gw, cp_http, cp_grpc = (bench.free_port() for _ in range(4))
        conf = bench.nginx_conf(tmp, "upstream",
                                f'listen 127.0.0.1:{up} reuseport; location / {{ return 200 "{bench.BODY}"; }}')
        procs.start("upstream", bench.LOAD_CPU, [nginx, "-c", str(conf), "-p", str(tmp / "upstream")])
        functions = bench.start_functions(procs)
        issuer = bench.Issuer(tmp, procs)
        subprocess.run(["psql", f"{bench.PG}/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
        procs.start("control-plane", bench.LOAD_CPU, [str(bench.BIN / "control-plane")], {
            "DATABASE_URL": f"{bench.PG}/{db}", "CP_HTTP_ADDR": f"127.0.0.1:{cp_http}",
            "CP_GRPC_ADDR": f"127.0.0.1:{cp_grpc}", "RUST_LOG": "warn", "REDIS_URL": bench.REDIS,
            "REDIS_KEY_PREFIX": f"callgrind:{db}:"})
        bench.wait_ok(f"http://127.0.0.1:{cp_http}/healthz")
        out = tmp / "callgrind.out"
        tracing_env = {}
        if TRACING:
            tracing_env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_sink()}",
                           "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                           "OTEL_TRACES_SAMPLER_ARG": TRACING, "OTEL_BSP_SCHEDULE_DELAY": "1000"}
        log_env = {}
        if ACCESS_LOG:
            log_env = {"ACCESS_LOG_FILE": str(tmp / "access.jsonl"), "LOGS_SHIP": "false"}
        node = procs.start("data-plane", bench.SUT_CPU, [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--collect-atstart=yes",
            str(bench.BIN / "data-plane")], {
            "CONTROL_PLANE_URL": f"http://127.0.0.1:{cp_grpc}", "DP_HTTP_ADDR": f"127.0.0.1:{gw}",
            "DP_WORKER_THREADS": "1", "RUST_LOG": "warn", "REDIS_URL": bench.REDIS,
            "REDIS_KEY_PREFIX": f"callgrind:{db}:", "FUNCTIONS_URL": functions, "DP_STATE_DIR": "",
            "DP_METRICS": "false" if METRICS == "off" else "true", **tracing_env, **log_env})
        api = bench.configure_gateway(f"http://127.0.0.1:{cp_http}", f"http://127.0.0.1:{up}", issuer.url)
        host = f"{api}.execute-api.localhost"
        if TRACING:
            import boto3

            boto3.client("apigateway", endpoint_url=f"http://127.0.0.1:{cp_http}", region_name="us-east-1",
                         aws_access_key_id=bench.KEY_ID, aws_secret_access_key=bench.SECRET).update_stage(
                restApiId=api, stageName="prod",
                patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "true"}])
        bench.wait_ok(f"http://127.0.0.1:{gw}/prod/bench", host, limit=180)
        if not CASES or {"cache-hit", "cache-miss"} & set(CASES):
            bench.add_cached_stage(f"http://127.0.0.1:{cp_http}", api)
            bench.wait_ok(f"http://127.0.0.1:{gw}/cached/bench", host, limit=180)
        http_api_host = None
        if not CASES or "http-api" in CASES:
            # The HTTP API (apigatewayv2) route doing the proxy call of HTTP_PROXY (issue 20).
            http_api = bench.add_http_api(f"http://127.0.0.1:{cp_http}", f"http://127.0.0.1:{up}")
            http_api_host = f"{http_api}.execute-api.localhost"
            bench.wait_ok(f"http://127.0.0.1:{gw}/bench", http_api_host, limit=180)
        if not CASES or {"cache-hit-sealed", "cache-miss-sealed"} & set(CASES):
            bench.add_cached_stage(f"http://127.0.0.1:{cp_http}", api, "sealed", encrypted=True)
            bench.wait_ok(f"http://127.0.0.1:{gw}/sealed/bench", host, limit=180)
        if METRICS in ("detailed", "settings"):
            # `*/*` method settings also bring the stage's default method throttle (AWS's
            # 10,000 / 5,000): `settings` has them with metrics at stage level, so
            # `detailed` minus `settings` is what per-method series cost.
            version = config_version(gw)
            bench.enable_detailed_metrics(f"http://127.0.0.1:{cp_http}", api, METRICS == "detailed")
            deadline = time.time() + 120
            while config_version(gw) <= version:
                if time.time() > deadline:
                    sys.exit("the method settings did not reach the node")
                time.sleep(0.5)
        if TRACING:
            time.sleep(5)  # the stage update reaches the node (the warm-up follows anyway)
        results = {}
        # The authorizer cases against the same proxy call carrying the same header without
        # an authorizer, so the header's own cost (parsed, forwarded) is not counted as theirs.
        cases = (("HTTP_PROXY", "/prod/bench", None), ("templates", "/prod/tmpl", None),
                 ("proxy+token-header", "/prod/bench", {"Authorization": "allow-all"}),
                 ("TOKEN", "/prod/token/bench", {"Authorization": "allow-all"}),
                 ("proxy+JWT-header", "/prod/bench", {"Authorization": issuer.token}),
                 ("JWT", "/prod/jwt/bench", {"Authorization": issuer.token}),
                 # The stage cache (stage `cached`, bench.add_cached_stage): every request a
                 # hit, and every request a miss that refreshes its entry.
                 ("cache-hit", "/cached/bench", None),
                 ("cache-miss", "/cached/bench", {"Cache-Control": "max-age=0"}),
                 # The same with `caching/dataEncrypted` (stage `sealed`): a hit is served by
                 # the node-local front (clear), with a sealed read from Redis about once a
                 # second; every miss seals its entry.
                 ("cache-hit-sealed", "/sealed/bench", None),
                 ("cache-miss-sealed", "/sealed/bench", {"Cache-Control": "max-age=0"}),
                 # The same call through an HTTP API's `ANY /{proxy+}` route on `$default`.
                 ("http-api", "/bench", {"Host": http_api_host}))
        rounds = [""]
        if ACCESS_LOG:
            rounds.append("+access-log")
        for suffix in rounds:
            if suffix:
                version = config_version(gw)
                import boto3

                boto3.client("apigateway", endpoint_url=f"http://127.0.0.1:{cp_http}",
                             region_name="us-east-1", aws_access_key_id=bench.KEY_ID,
                             aws_secret_access_key=bench.SECRET).update_stage(
                    restApiId=api, stageName="prod", patchOperations=[
                        {"op": "replace", "path": "/accessLogSettings/destinationArn",
                         "value": "arn:aws:logs:us-east-1:123456789012:log-group:bench-access"},
                        {"op": "replace", "path": "/accessLogSettings/format", "value": JSON_PRESET}])
                deadline = time.time() + 120
                while config_version(gw) <= version:
                    if time.time() > deadline:
                        sys.exit("the access log settings did not reach the node")
                    time.sleep(0.5)
            for name, path, extra in cases:
                if CASES and name not in CASES:
                    continue
                send(gw, host, path, WARMUP, extra)
                subprocess.run(["callgrind_control", "-z", str(node.pid)], check=True, capture_output=True)
                send(gw, host, path, REQUESTS, extra)
                if suffix:
                    settle(tmp / "access.jsonl")  # the writer's share is counted too
                results[name + suffix] = instructions(out, node.pid, name + suffix) / REQUESTS
        if ACCESS_LOG:
            lines = (tmp / "access.jsonl").read_text().count("\n")
            print(f"access log file: {lines} lines")
        print(f"binaries: {bench.BIN}, metrics {METRICS}"
              + (f", tracing at ratio {TRACING}" if TRACING else ""))
        for name, ir in results.items():
            print(f"{name:<20} {ir:>10,.0f} instructions/request ({REQUESTS} requests)")
    finally:
        procs.stop()
        subprocess.run(["psql", f"{bench.PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
