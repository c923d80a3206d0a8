#!/usr/bin/env python3
"""WebSocket echo through one node against nginx, following ../shared/BENCHMARKING.md (issue 19).

Contestants, each a WebSocket echo seen from the client:
  direct   the client talks to a plain Rust WebSocket echo server (`ws-load ws-echo`);
  nginx    nginx (one worker) proxies the WebSocket to that echo server;
  gateway  a node (one worker thread) serves a WebSocket API whose `$default` route has an
           HTTP_PROXY integration to a Rust HTTP echo server (`ws-load http-echo`) and a
           `$default` route response, so each message is one HTTP call and its answer goes back
           (API Gateway's model: the gateway does more per message than a frame proxy);
  mock     the same API's stage `mock`: a MOCK integration whose `$default` integration
           response answers a fixed text of the message's size (the node's own cost per message).
The system under test (nginx, the node) runs alone on CPU 1, the load generator, the echo
servers, Redis and the control plane on CPU 0.

Throughput and latency: a closed loop (`ws-load run`), each of C connections sends a message of
BENCH_WS_SIZE bytes (default 100) and waits for the answer; C in BENCH_CONNS (default
"8 32 128"), BENCH_RUNS interleaved runs of BENCH_DURATION seconds; median and range of
messages/s, median p50/p99 latency, CPU µs per message of the SUT process.

Idle connections: BENCH_WS_IDLE (default 8000) connections opened and left idle on the node
and, for comparison, on nginx; the SUT process's RSS growth per connection.

Run: bench/ws_bench.sh (builds the release binaries and bench/ws-load, installs nginx).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (BIN, KEY_ID, LOAD_CPU, PG, REDIS, ROOT, SECRET, SUT_CPU, CLK_TCK, Procs,  # noqa: E402
                   core_times, cpu_ticks, free_port, pin_redis_to_load_cpu, tree_pids, utilisation, wait_ok)

DURATION = int(os.environ.get("BENCH_DURATION", "20"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CONNS = [int(c) for c in os.environ.get("BENCH_CONNS", "8 32 128").split()]
SIZE = int(os.environ.get("BENCH_WS_SIZE", "100"))
# nginx holds two descriptors per proxied connection: 8000 stays under a 20000 hard limit.
IDLE = int(os.environ.get("BENCH_WS_IDLE", "8000"))
LOAD = Path(os.environ.get("WS_LOAD", ROOT / "bench" / "ws-load" / "target" / "release" / "ws-load"))


def nginx_ws_conf(tmp: Path, port: int, upstream: int) -> Path:
    d = tmp / "nginx"
    d.mkdir()
    conf = d / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 32768; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 3600s;
    }}
  }}
}}
""")
    return conf


def configure(cp_url: str, echo_url: str) -> str:
    """A WebSocket API: `$default` → HTTP_PROXY to the echo server with a route response,
    stage `bench`; stage `mock` of a copy whose integration is MOCK. Returns the API id."""
    import boto3

    v2 = boto3.client("apigatewayv2", endpoint_url=cp_url, region_name="us-east-1",
                      aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    api = v2.create_api(Name="ws-bench", ProtocolType="WEBSOCKET",
                        RouteSelectionExpression="$request.body.action")["ApiId"]
    http = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="POST",
                                 IntegrationUri=echo_url)["IntegrationId"]
    route = v2.create_route(ApiId=api, RouteKey="$default", Target=f"integrations/{http}",
                            RouteResponseSelectionExpression="$default")["RouteId"]
    v2.create_route_response(ApiId=api, RouteId=route, RouteResponseKey="$default")
    v2.create_stage(ApiId=api, StageName="bench", AutoDeploy=False)
    deployment = v2.create_deployment(ApiId=api)["DeploymentId"]
    v2.update_stage(ApiId=api, StageName="bench", DeploymentId=deployment)
    mock = v2.create_integration(ApiId=api, IntegrationType="MOCK",
                                 RequestTemplates={"$default": '{"statusCode": 200}'},
                                 TemplateSelectionExpression="$default")["IntegrationId"]
    v2.create_integration_response(ApiId=api, IntegrationId=mock, IntegrationResponseKey="$default",
                                   ResponseTemplates={"$default": "y" * SIZE},
                                   TemplateSelectionExpression="$default")
    v2.update_route(ApiId=api, RouteId=route, Target=f"integrations/{mock}")
    v2.create_stage(ApiId=api, StageName="mock", AutoDeploy=False)
    deployment = v2.create_deployment(ApiId=api)["DeploymentId"]
    v2.update_stage(ApiId=api, StageName="mock", DeploymentId=deployment)
    return api


def load(url: str, host: str, conns: int, seconds: int) -> dict:
    out = subprocess.run(["taskset", "-c", LOAD_CPU, str(LOAD), "run", url, host, str(conns), str(seconds),
                          str(SIZE)], capture_output=True, text=True)
    if out.returncode != 0:
        return {"messages": 0, "errors": 1, "msgs_per_s": 0.0, "p50_us": 0, "p99_us": 0, "p999_us": 0,
                "stderr": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_ws(url: str, host: str) -> None:
    deadline = time.time() + 60
    while load(url, host, 1, 1)["messages"] == 0:
        if time.time() > deadline:
            sys.exit(f"timed out waiting for {url} ({host})")
        time.sleep(0.5)


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def idle_cost(url: str, host: str, pids: list[int], n: int) -> dict:
    """Opens n idle connections; the SUT's RSS growth per connection (KB)."""
    before = rss_kb(pids)
    p = subprocess.Popen(["taskset", "-c", LOAD_CPU, str(LOAD), "idle", url, host, str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip() if p.stdout else ""
    time.sleep(2)  # let the node finish registering the last connections
    after = rss_kb(pids)
    if p.stdin:
        p.stdin.close()
    p.wait(timeout=120)
    opened = int(line.split()[1]) if line.startswith("open") else 0
    return {"opened": opened, "rss_before_kb": before, "rss_after_kb": after,
            "kb_per_conn": round((after - before) / max(1, opened), 1)}


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 262144), min(hard, 262144)))
    out = ROOT / "bench" / "results" / ("ws-" + time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="apigw-ws-bench-"))
    procs = Procs(out)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    db = f"apigw_wsbench_{int(time.time())}"
    pin_redis_to_load_cpu()
    try:
        echo, http_echo, px, gw, cp_http, cp_grpc = (free_port() for _ in range(6))
        procs.start("ws-echo", LOAD_CPU, [str(LOAD), "ws-echo", f"127.0.0.1:{echo}"])
        procs.start("http-echo", LOAD_CPU, [str(LOAD), "http-echo", f"127.0.0.1:{http_echo}"])
        nginx_proc = procs.start("nginx", SUT_CPU, [nginx, "-c", str(nginx_ws_conf(tmp, px, echo)),
                                                   "-p", str(tmp / "nginx")])
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
        procs.start("control-plane", LOAD_CPU, [str(BIN / "control-plane")], {
            "DATABASE_URL": f"{PG}/{db}", "CP_HTTP_ADDR": f"127.0.0.1:{cp_http}",
            "CP_GRPC_ADDR": f"127.0.0.1:{cp_grpc}", "RUST_LOG": "warn", "REDIS_URL": REDIS,
            "REDIS_KEY_PREFIX": f"wsbench:{db}:"})
        wait_ok(f"http://127.0.0.1:{cp_http}/healthz")
        node = procs.start("data-plane", SUT_CPU, [str(BIN / "data-plane")], {
            "CONTROL_PLANE_URL": f"http://127.0.0.1:{cp_grpc}", "DP_HTTP_ADDR": f"127.0.0.1:{gw}",
            "DP_WORKER_THREADS": "1", "RUST_LOG": "warn", "REDIS_URL": REDIS,
            "REDIS_KEY_PREFIX": f"wsbench:{db}:", "DP_STATE_DIR": "", "WS_CONNECT_RATE": "1000000"})
        api = configure(f"http://127.0.0.1:{cp_http}", f"http://127.0.0.1:{http_echo}/echo")
        host = f"{api}.execute-api.localhost"
        targets = {
            "direct": (f"ws://127.0.0.1:{echo}/", f"127.0.0.1:{echo}", []),
            "nginx": (f"ws://127.0.0.1:{px}/", f"127.0.0.1:{px}", tree_pids(nginx_proc.pid)),
            "gateway": (f"ws://127.0.0.1:{gw}/bench", host, [node.pid]),
            "mock": (f"ws://127.0.0.1:{gw}/mock", host, [node.pid]),
        }
        for url, h, _ in targets.values():
            wait_ws(url, h)
        time.sleep(1)
        nginx_pids = tree_pids(nginx_proc.pid)
        targets["nginx"] = (*targets["nginx"][:2], nginx_pids)

        results: dict[str, dict[int, list[dict]]] = {n: {c: [] for c in CONNS} for n in targets}
        for run in range(RUNS):
            for c in CONNS:
                for name, (url, h, pids) in targets.items():
                    before_cpu, before_ticks = core_times(), cpu_ticks(pids)
                    r = load(url, h, c, DURATION)
                    r["cpu"] = utilisation(before_cpu, core_times())
                    if pids and r["messages"]:
                        r["cpu_us_per_msg"] = round((cpu_ticks(pids) - before_ticks) / CLK_TCK * 1e6
                                                    / r["messages"], 1)
                    results[name][c].append(r)
                    print(f"run {run + 1}/{RUNS} c={c} {name}: {r['msgs_per_s']:,.0f} msg/s "
                          f"p50 {r['p50_us']} µs p99 {r['p99_us']} µs errors {r['errors']} cpu {r['cpu']}",
                          flush=True)
        idle = {}
        if IDLE:
            idle["gateway"] = idle_cost(targets["gateway"][0], host, [node.pid], IDLE)
            idle["nginx"] = idle_cost(targets["nginx"][0], targets["nginx"][1], nginx_pids, IDLE)
            print(f"idle: {idle}", flush=True)
        (out / "results.json").write_text(json.dumps({"throughput": results, "idle": idle}, indent=1))
        report = summary(results, idle) if RUNS else summary({}, idle)
        (out / "summary.md").write_text(report)
        print(report)
    finally:
        procs.stop()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"], capture_output=True)


def summary(results, idle) -> str:
    med = lambda rs, k: statistics.median(r.get(k, 0) for r in rs)  # noqa: E731
    lines = [f"WebSocket echo, {SIZE}-byte messages, closed loop, {RUNS} interleaved runs of {DURATION} s "
             "(median [range] messages/s; median p50 / p99 µs; SUT CPU µs per message)", "",
             "| conns | direct | nginx | gateway (HTTP_PROXY) | gateway (MOCK) | gateway/nginx | mock/nginx |",
             "|---|---|---|---|---|---|---|"]
    for c in CONNS if results else []:
        cell = {}
        for n in results:
            rs = results[n][c]
            rates = [r["msgs_per_s"] for r in rs]
            cost = f", {med(rs, 'cpu_us_per_msg'):.1f} µs CPU" if n != "direct" else ""
            cell[n] = (f"{statistics.median(rates):,.0f} [{min(rates):,.0f}–{max(rates):,.0f}]; "
                       f"{med(rs, 'p50_us'):.0f} / {med(rs, 'p99_us'):.0f} µs{cost}")
        ratio = lambda n: statistics.median(r["msgs_per_s"] for r in results[n][c]) / max(  # noqa: E731
            1, statistics.median(r["msgs_per_s"] for r in results["nginx"][c]))
        lines.append(f"| {c} | {cell['direct']} | {cell['nginx']} | {cell['gateway']} | {cell['mock']} | "
                     f"**{ratio('gateway'):.2f}** | **{ratio('mock'):.2f}** |")
    if idle:
        lines += ["", "Idle connections: SUT RSS growth per open connection", ""]
        for n, r in idle.items():
            lines.append(f"- {n}: {r['opened']} connections, {r['rss_before_kb'] / 1024:.1f} → "
                         f"{r['rss_after_kb'] / 1024:.1f} MiB, **{r['kb_per_conn']} KB per connection**")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
