#!/usr/bin/env python3
"""A Lambda-compatible Invoke API for local development and tests.

Serves ``POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=alias]`` (the API AWS
Lambda, its runtime interface emulator and local emulators serve) and runs each invocation as
a fresh local process: Python handlers (``def handler(event, context)``) or Node handlers
(``exports.handler = (event, context, callback) => ...`` or ``async (event, context) => ...``).

Functions are the sub-directories of ``--dir``; each one is a function named after the
directory. An optional ``function.json`` there configures it::

    {
      "runtime": "nodejs" | "python",          # default: guessed from the files
      "handler": "index.handler",              # file.function, as Lambda's handler setting
      "timeout": 3,                            # seconds (Lambda's default), from the
                                               # handler's call: starting the process and
                                               # importing the handler have their own 10 s
      "environment": {"KEY": "value"},
      "aliases": {"beta": {"handler": "beta.handler", "environment": {"STAGE": "beta"}}}
    }

Without ``function.json`` the handler is ``index.handler`` (``index.js``/``index.mjs``),
``handler.handler`` (``handler.py``) or ``lambda_function.lambda_handler``
(``lambda_function.py``), whichever exists.

Answers as Lambda does: 200 with the handler's JSON result; 200 with ``X-Amz-Function-Error:
Unhandled`` and ``{"errorMessage", "errorType", "stackTrace"}`` when the handler throws, calls
back with an error or runs past its timeout; 404 ``ResourceNotFoundException`` for an unknown
function or alias; 400 ``InvalidRequestContentException`` for a payload that is not JSON.

Python standard library only, so it runs anywhere Python 3.8+ is (no build step, no packages);
Node is needed only for Node handlers.

Usage: ``python3 functions/host.py --dir functions/examples --port 9001`` then start data-plane
nodes with ``--functions-url http://127.0.0.1:9001``. With ``--port 0`` a free port is chosen;
the first line on stdout is always ``listening on http://HOST:PORT``.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
QUALIFIER = re.compile(r"^[A-Za-z0-9$_-]{1,128}$")
REGION = "local-1"
ACCOUNT = "000000000000"
MAX_PAYLOAD = 6 * 1024 * 1024

# Runs one Python invocation: event on stdin, the envelope on stdout; the handler's own
# prints go to stderr (the host's log), as Lambda sends them to its log stream.
PY_RUNNER = r"""
import importlib, json, os, signal, sys, time, traceback
real_stdout = sys.stdout
sys.stdout = sys.stderr
sys.path.insert(0, os.environ["FN_DIR"])
timeout = float(os.environ["FN_TIMEOUT"])
deadline = time.time() + timeout
class Context:
    function_name = os.environ["FN_NAME"]
    function_version = os.environ["FN_VERSION"]
    invoked_function_arn = os.environ["FN_ARN"]
    memory_limit_in_mb = "128"
    aws_request_id = os.environ["FN_REQUEST_ID"]
    log_group_name = "/aws/lambda/" + os.environ["FN_NAME"]
    log_stream_name = "local"
    def get_remaining_time_in_millis(self):
        return max(0, int((deadline - time.time()) * 1000))
def emit(envelope):
    real_stdout.write(json.dumps(envelope))
    real_stdout.flush()
def timed_out(signum, frame):
    emit({"ok": False, "timedOut": True})
    os._exit(0)
try:
    module_name, function_name = os.environ["FN_HANDLER"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    event = json.loads(sys.stdin.read())
    # The timeout counts from here, as Lambda's does: starting the runtime and importing
    # the handler are the init phase, which has its own limit (the host's).
    deadline = time.time() + timeout
    signal.signal(signal.SIGALRM, timed_out)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    emit({"ok": True, "result": handler(event, Context())})
except Exception as error:
    emit({"ok": False, "errorMessage": str(error), "errorType": type(error).__name__,
          "stackTrace": traceback.format_exc().splitlines()})
"""

# Runs one Node invocation: callback style, promise style, or context.succeed/fail.
NODE_RUNNER = r"""
const path = require('path');
const fs = require('fs');
const out = (envelope) => { fs.writeSync(1, JSON.stringify(envelope)); process.exit(0); };
console.log = console.info = console.warn = console.error;
const fail = (err) => out({ ok: false,
  errorMessage: err instanceof Error ? err.message : String(err),
  errorType: err instanceof Error ? err.name : typeof err,
  stackTrace: err instanceof Error && err.stack ? err.stack.split('\n') : [] });
const succeed = (result) => out({ ok: true, result: result === undefined ? null : result });
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
(async () => {
  const [file, name] = [process.env.FN_HANDLER.slice(0, process.env.FN_HANDLER.lastIndexOf('.')),
                        process.env.FN_HANDLER.slice(process.env.FN_HANDLER.lastIndexOf('.') + 1)];
  const base = path.join(process.env.FN_DIR, file);
  let mod;
  if (fs.existsSync(base + '.mjs')) { mod = await import('file://' + base + '.mjs'); }
  else { mod = require(base); }
  const handler = mod[name] || (mod.default && mod.default[name]);
  if (typeof handler !== 'function') { throw new Error(`${process.env.FN_HANDLER} is undefined or not exported`); }
  const timeout = Number(process.env.FN_TIMEOUT) * 1000;
  // The timeout counts from here, as Lambda's does (see the Python runner).
  const deadline = Date.now() + timeout;
  setTimeout(() => out({ ok: false, timedOut: true }), timeout);
  const context = {
    functionName: process.env.FN_NAME, functionVersion: process.env.FN_VERSION,
    invokedFunctionArn: process.env.FN_ARN, memoryLimitInMB: '128',
    awsRequestId: process.env.FN_REQUEST_ID, logGroupName: '/aws/lambda/' + process.env.FN_NAME,
    logStreamName: 'local', callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed, fail, done: (err, result) => (err ? fail(err) : succeed(result)),
  };
  const event = JSON.parse(fs.readFileSync(0, 'utf8'));
  const callback = (err, result) => (err ? fail(err) : succeed(result));
  const returned = handler(event, context, callback);
  if (returned && typeof returned.then === 'function') { succeed(await returned); }
})().catch(fail);
"""


# Lambda's init phase (starting the runtime, importing the handler) has its own limit, apart
# from the function's timeout; a fresh process per invocation pays it every time, and on a
# loaded machine that alone can take seconds.
INIT_LIMIT_SECONDS = 10


class FunctionNotFound(Exception):
    """The function or alias does not exist (Lambda's ResourceNotFoundException)."""


class Function:
    """One function directory and its configuration (base and per alias)."""

    def __init__(self, name, directory):
        self.name = name
        self.directory = os.path.abspath(directory)
        manifest_path = os.path.join(directory, "function.json")
        manifest = {}
        if os.path.exists(manifest_path):
            with open(manifest_path, encoding="utf-8") as f:
                manifest = json.load(f)
        self.runtime = manifest.get("runtime") or self._guess_runtime()
        self.handler = manifest.get("handler") or self._guess_handler()
        self.timeout = float(manifest.get("timeout", 3))
        self.environment = dict(manifest.get("environment", {}))
        self.aliases = dict(manifest.get("aliases", {}))
        if self.runtime not in ("python", "nodejs"):
            raise ValueError(f"{name}: runtime must be python or nodejs, not {self.runtime!r}")
        if not self.handler or "." not in self.handler:
            raise ValueError(f"{name}: no handler (set \"handler\": \"file.function\")")

    def _exists(self, *files):
        return any(os.path.exists(os.path.join(self.directory, f)) for f in files)

    def _guess_runtime(self):
        return "nodejs" if self._exists("index.js", "index.mjs") else "python"

    def _guess_handler(self):
        if self._exists("index.js", "index.mjs"):
            return "index.handler"
        if self._exists("handler.py"):
            return "handler.handler"
        if self._exists("lambda_function.py"):
            return "lambda_function.lambda_handler"
        return None

    def resolve(self, qualifier):
        """The (handler, environment, version label) of `qualifier` (None/$LATEST: base)."""
        if qualifier in (None, "", "$LATEST"):
            return self.handler, self.environment, "$LATEST"
        alias = self.aliases.get(qualifier)
        if alias is None:
            raise FunctionNotFound(f"Function not found: {self.arn(qualifier)}")
        environment = dict(self.environment)
        environment.update(alias.get("environment", {}))
        return alias.get("handler", self.handler), environment, qualifier

    def timed_out(self, request_id):
        """Lambda's answer for an invocation that ran past its timeout."""
        return error_payload(
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} "
            f"Task timed out after {self.timeout:.2f} seconds", "TimeoutError")

    def arn(self, qualifier=None):
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}"
        return f"{arn}:{qualifier}" if qualifier else arn

    def invoke(self, event_bytes, qualifier):
        """Runs the handler once; returns (function_error, payload bytes)."""
        handler, environment, version = self.resolve(qualifier)
        request_id = str(uuid.uuid4())
        env = dict(os.environ)
        env.update(environment)
        env.update({
            "FN_DIR": self.directory, "FN_HANDLER": handler, "FN_NAME": self.name,
            "FN_VERSION": version, "FN_ARN": self.arn(qualifier), "FN_REQUEST_ID": request_id,
            "FN_TIMEOUT": str(self.timeout), "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": version, "AWS_REGION": REGION,
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        if self.runtime == "python":
            command = [sys.executable, "-c", PY_RUNNER]
        else:
            command = ["node", "-e", NODE_RUNNER]
        try:
            done = subprocess.run(command, input=event_bytes, stdout=subprocess.PIPE,
                                  env=env, cwd=self.directory,
                                  timeout=INIT_LIMIT_SECONDS + self.timeout)
        except subprocess.TimeoutExpired:
            return "Unhandled", self.timed_out(request_id)
        except FileNotFoundError as error:
            return "Unhandled", error_payload(f"runtime not available: {error}", "Runtime.Unavailable")
        try:
            envelope = json.loads(done.stdout.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return "Unhandled", error_payload(
                f"RequestId: {request_id} Error: Runtime exited with status {done.returncode}",
                "Runtime.ExitError")
        if envelope.get("timedOut"):
            return "Unhandled", self.timed_out(request_id)
        if envelope.get("ok"):
            return None, json.dumps(envelope.get("result")).encode("utf-8")
        return "Unhandled", json.dumps({
            "errorMessage": envelope.get("errorMessage", ""),
            "errorType": envelope.get("errorType", "Error"),
            "stackTrace": envelope.get("stackTrace", []),
        }).encode("utf-8")


def error_payload(message, error_type):
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode("utf-8")


def load_functions(directory):
    functions = {}
    for entry in sorted(os.listdir(directory)):
        path = os.path.join(directory, entry)
        if os.path.isdir(path) and NAME.match(entry):
            functions[entry] = Function(entry, path)
    return functions


def parse_function_name(raw):
    """Splits a FunctionName as Lambda accepts it: name, partial ARN or ARN, maybe qualified."""
    parts = raw.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function":
        return parts[6], (parts[7] if len(parts) == 8 else None)
    if len(parts) in (3, 4) and parts[1] == "function":
        return parts[2], (parts[3] if len(parts) == 4 else None)
    if len(parts) in (1, 2):
        return parts[0], (parts[1] if len(parts) == 2 else None)
    return None, None


class FunctionsServer(ThreadingHTTPServer):
    """The host's server: the functions it serves and how many times each ran."""

    daemon_threads = True

    def __init__(self, address, functions):
        super().__init__(address, InvokeHandler)
        self.functions = functions
        self.counts = {}
        self.counts_lock = threading.Lock()


class InvokeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apigw-functions/1"

    def log_message(self, fmt, *args):
        sys.stderr.write("functions: " + (fmt % args) + "\n")

    def answer(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, error_type, message):
        body = json.dumps({"Type": "User", "message": message}).encode("utf-8")
        self.answer(status, body, {"x-amzn-ErrorType": error_type})

    def do_GET(self):
        if self.path in ("/healthz", "/"):
            names = sorted(self.server.functions)
            return self.answer(200, json.dumps({"functions": names}).encode("utf-8"))
        if self.path == "/invocations":
            # How many times each function ran (Lambda's Invocations metric; tests read it).
            with self.server.counts_lock:
                counts = dict(self.server.counts)
            return self.answer(200, json.dumps(counts).encode("utf-8"))
        self.error(404, "UnknownOperationException", "Unknown operation")

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD:
            return self.error(413, "RequestTooLargeException",
                              f"Request must be smaller than {MAX_PAYLOAD} bytes")
        payload = self.rfile.read(length) if length else b""
        match = INVOKE_PATH.match(url.path)
        if not match:
            return self.error(404, "UnknownOperationException", "Unknown operation")
        name, qualifier = parse_function_name(unquote(match.group(1)))
        query_qualifier = parse_qs(url.query).get("Qualifier", [None])[0]
        if query_qualifier is not None:
            if qualifier is not None and qualifier != query_qualifier:
                return self.error(400, "InvalidParameterValueException",
                                  "The derived qualifier from the function name does not match "
                                  "the specified qualifier.")
            qualifier = query_qualifier
        if name is None or not NAME.match(name) or (qualifier and not QUALIFIER.match(qualifier)):
            return self.error(400, "ValidationException",
                              f"1 validation error detected: Value '{match.group(1)}' at "
                              "'functionName' failed to satisfy constraint")
        function = self.server.functions.get(name)
        if function is None:
            return self.error(404, "ResourceNotFoundException",
                              f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
        try:
            event = payload if payload.strip() else b"{}"
            json.loads(event)
        except ValueError:
            return self.error(400, "InvalidRequestContentException",
                              "Could not parse request body into json")
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        try:
            function.resolve(qualifier)
        except FunctionNotFound as error:
            return self.error(404, "ResourceNotFoundException", str(error))
        if invocation_type == "DryRun":
            return self.answer(204, b"")
        if invocation_type == "Event":
            threading.Thread(target=function.invoke, args=(event, qualifier), daemon=True).start()
            return self.answer(202, b"")
        if invocation_type != "RequestResponse":
            return self.error(400, "InvalidParameterValueException",
                              f"Invalid invocation type {invocation_type!r}")
        with self.server.counts_lock:
            self.server.counts[name] = self.server.counts.get(name, 0) + 1
        function_error, result = function.invoke(event, qualifier)
        headers = {"X-Amz-Executed-Version": function.resolve(qualifier)[2]}
        if function_error:
            headers["X-Amz-Function-Error"] = function_error
        self.answer(200, result, headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "examples"),
                        help="directory of function directories (default: examples)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001, help="0 picks a free port")
    args = parser.parse_args()
    server = FunctionsServer((args.host, args.port), load_functions(args.dir))
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    sys.stderr.write(f"functions: serving {', '.join(sorted(server.functions)) or 'nothing'} "
                     f"from {os.path.abspath(args.dir)}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
