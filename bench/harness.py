"""What every benchmark script here shares: the machine's layout (the system under test alone
on CPU 1, the load generator and helpers on CPU 0), free ports, processes started and stopped
together, nginx configs, /proc CPU accounting, Redis command counts, wrk and oha runs."""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("BIN_DIR", ROOT / "target" / "release"))

LOAD_CPU, SUT_CPU = "0", "1"
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
KEY_ID, SECRET = "AKIAAPIGWLOCALDEV000", "apigw-local-development-secret-key-change-me"
BODY = "x" * 1024  # a 1 KB static answer from the upstream
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ok(url: str, host: str | None = None, limit: float = 60, extra: dict | None = None) -> None:
    import ssl

    deadline = time.time() + limit
    # The TLS cases' certificate is self-signed: checked by the handshake, not trusted here.
    insecure = ssl._create_unverified_context()  # noqa: SLF001
    while True:
        try:
            headers = {**({"Host": host} if host else {}), **(extra or {})}
            req = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(req, timeout=2, context=insecure) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - anything means "not yet"
            pass
        if time.time() > deadline:
            sys.exit(f"timed out waiting for {url}")
        time.sleep(0.2)


class Procs:
    """Processes started by the benchmark, stopped in reverse order on exit."""

    def __init__(self, out: Path):
        self.out = out
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, cpu: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.out / f"{name}.log", "w")
        p = subprocess.Popen(["taskset", "-c", cpu, *argv], stdout=log, stderr=subprocess.STDOUT,
                             env={**os.environ, **(env or {})})
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def nginx_conf(tmp: Path, name: str, server_block: str, http_extra: str = "") -> Path:
    d = tmp / name
    d.mkdir()
    conf = d / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  {http_extra}
  server {{ {server_block} }}
}}
""")
    return conf


def tree_pids(pid: int) -> list[int]:
    """`pid` and its descendants (nginx's worker is a child of the taskset'd master)."""
    pids, frontier = [pid], [pid]
    while frontier:
        out = subprocess.run(["pgrep", "-P", str(frontier.pop())], capture_output=True, text=True).stdout
        kids = [int(x) for x in out.split()]
        pids += kids
        frontier += kids
    return pids


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def core_times() -> dict[str, tuple[int, int]]:
    """(busy, total) jiffies per CPU from /proc/stat."""
    res = {}
    for line in Path("/proc/stat").read_text().splitlines():
        m = re.match(r"cpu(\d+) (.*)", line)
        if m:
            v = [int(x) for x in m.group(2).split()]
            idle = v[3] + v[4]
            res[m.group(1)] = (sum(v) - idle, sum(v))
    return res


def utilisation(before, after) -> dict[str, float]:
    return {c: round(100 * (after[c][0] - before[c][0]) / max(1, after[c][1] - before[c][1]), 1)
            for c in after if c in before}


def redis_counts(url: str | None = None) -> tuple[int, int]:
    """Commands Redis has executed (INFO commandstats) of `url`, else of the Redis the run uses
    (`use_redis`): (all, scripts). `all` includes the commands a script runs (commandstats
    counts them too); `scripts` counts EVALSHA/EVAL/FCALL only: the round trips that run one."""
    m = re.match(r"redis://([^:/]+):?(\d+)?", url or _redis["url"])
    host, port = (m.group(1), m.group(2) or "6379") if m else ("127.0.0.1", "6379")
    out = subprocess.run(["redis-cli", "-h", host, "-p", port, "info", "commandstats"],
                         capture_output=True, text=True).stdout
    total = sum(int(x) for x in re.findall(r"calls=(\d+)", out))
    scripts = sum(int(x) for x in re.findall(r"cmdstat_(?:evalsha|eval|fcall)(?:_ro)?:calls=(\d+)", out))
    return total, scripts


def redis_calls(url: str | None = None) -> int:
    """All commands Redis has executed (see `redis_counts`), to count calls per request."""
    return redis_counts(url)[0]


_redis = {"url": REDIS}


def use_redis(url: str) -> None:
    """The Redis whose commands `run_wrk` counts from now on."""
    _redis["url"] = url


def start_redis(procs: "Procs", tmp: Path) -> str:
    """A Redis of the run's own (no persistence) on the load CPU, so its command counts are
    this run's alone and nothing is left behind; its URL."""
    port = free_port()
    d = tmp / "redis"
    d.mkdir()
    procs.start("redis", LOAD_CPU, ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", str(d)])
    deadline = time.time() + 30
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                         text=True).stdout.strip() != "PONG":
        if time.time() > deadline:
            sys.exit("the bench's Redis did not start")
        time.sleep(0.1)
    return f"redis://127.0.0.1:{port}"


def pin_redis_to_load_cpu() -> None:
    """Redis shares CPU 0 with the load generator, never the system under test's CPU."""
    pids = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
    for pid in pids:
        subprocess.run(["taskset", "-a", "-cp", LOAD_CPU, pid], capture_output=True)


def parse_wrk(text: str) -> dict:
    """req/s, requests, `errors` (socket errors and non-2xx/3xx answers, as before), and each
    apart: `socket_errors`, `non2xx`; `p99` (ms) when wrk ran with --latency."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    socket_errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(m.group(1)) if m else 0
    res = {"rps": rps, "requests": total, "errors": socket_errors + non2xx, "socket_errors": socket_errors,
           "non2xx": non2xx}
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if m:
        res["p99"] = round(float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)], 3)
    return res


class Target:
    """One thing to load: a URL (with a Host header and extra headers), the pids of the process
    whose CPU is charged to it, and optionally a wrk Lua script with its arguments."""

    def __init__(self, name: str, url: str, host: str | None, pids: list[int],
                 extra: dict[str, str] | None = None, script: Path | None = None,
                 script_args: list[str] | None = None):
        self.name, self.url, self.host, self.pids = name, url, host, pids
        self.extra = extra or {}
        self.script, self.script_args = script, script_args or []

    def headers(self) -> list[str]:
        out = ["-H", f"Host: {self.host}"] if self.host else []
        for k, v in self.extra.items():
            out += ["-H", f"{k}: {v}"]
        return out

    def wrk_args(self) -> list[str]:
        """Everything after wrk's own options: headers, script, URL, script arguments."""
        script = ["-s", str(self.script)] if self.script else []
        tail = ["--", *self.script_args] if self.script_args else []
        return [*self.headers(), *script, self.url, *tail]


def run_wrk(t: Target, conns: int, seconds: int, latency: bool = False) -> dict:
    before_cpu, before_ticks, before_redis = core_times(), cpu_ticks(t.pids), redis_counts()
    lat = ["--latency"] if latency else []
    out = subprocess.run(["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", *lat,
                          *t.wrk_args()], capture_output=True, text=True, check=True).stdout
    res = parse_wrk(out)
    res["cpu"] = utilisation(before_cpu, core_times())
    after_redis = redis_counts()
    res["redis_calls_per_req"] = round((after_redis[0] - before_redis[0]) / max(1, res["requests"]), 2)
    res["redis_scripts_per_req"] = round((after_redis[1] - before_redis[1]) / max(1, res["requests"]), 3)
    if t.pids and res["requests"]:
        res["cpu_us_per_req"] = round((cpu_ticks(t.pids) - before_ticks) / CLK_TCK * 1e6 / res["requests"], 1)
    # BENCHMARKING.md: the harness, not the proxy, was the bottleneck.
    res["harness_bound"] = bool(t.pids) and res["cpu"].get(LOAD_CPU, 0) > 95 and res["cpu"].get(SUT_CPU, 0) < 90
    return res


def run_oha(t: Target, rate: int, seconds: int) -> dict:
    argv = ["taskset", "-c", LOAD_CPU, "oha", "--no-tui", "--output-format", "json", "-q", str(rate),
            "--latency-correction", "-z", f"{seconds}s", "-c", "64", *t.headers(), t.url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    pct = data["latencyPercentiles"]
    ms = lambda k: round(1000 * (pct.get(k) or 0), 3)  # noqa: E731
    codes = data.get("statusCodeDistribution", {})
    # Requests still in flight when the run's time is up are cut by oha ("aborted due to
    # deadline"): the harness's doing, not failures.
    errors = sum(v for k, v in (data.get("errorDistribution") or {}).items() if "deadline" not in k)
    return {"rate": rate, "rps": round(data["summary"]["requestsPerSec"], 1), "p50": ms("p50"),
            "p99": ms("p99"), "p99.9": ms("p99.9"), "non200": sum(v for k, v in codes.items() if k != "200"),
            "errors": errors}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} [{min(values):,.0f}–{max(values):,.0f}]"
