"""Unit tests of the functions host: `python3 -m unittest discover -s functions`.

They run real handler processes (Python always; Node when `node` is installed) through the
host's HTTP server on a free port, as the gateway calls it.
"""

import json
import os
import shutil
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

import host


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class HostTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        write(os.path.join(cls.dir, "py", "handler.py"),
              "import os\n"
              "def handler(event, context):\n"
              "    print('to the log, not the result')\n"
              "    return {'event': event, 'version': context.function_version,\n"
              "            'mode': os.environ.get('MODE'), 'left': context.get_remaining_time_in_millis() > 0}\n")
        write(os.path.join(cls.dir, "py", "function.json"), json.dumps({
            "environment": {"MODE": "base"},
            "aliases": {"beta": {"environment": {"MODE": "beta"}}}}))
        write(os.path.join(cls.dir, "fails", "lambda_function.py"),
              "def lambda_handler(event, context):\n    raise ValueError('Bad Request: nope')\n")
        write(os.path.join(cls.dir, "sleepy", "handler.py"),
              "import time\ndef handler(event, context):\n    time.sleep(5)\n")
        write(os.path.join(cls.dir, "sleepy", "function.json"), json.dumps({"timeout": 0.5}))
        write(os.path.join(cls.dir, "js", "index.js"),
              "exports.handler = (event, context, callback) => {\n"
              "  console.log('log line');\n"
              "  if (event.fail) { callback(new Error('Not Found: ' + event.fail)); return; }\n"
              "  callback(null, {got: event, name: context.functionName});\n"
              "};\n")
        write(os.path.join(cls.dir, "jsasync", "index.js"),
              "exports.handler = async (event) => event.n * 2;\n")
        cls.server = host.FunctionsServer(("127.0.0.1", 0), host.load_functions(cls.dir))
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        shutil.rmtree(cls.dir)

    def invoke(self, name, payload, qualifier=None):
        url = f"{self.base}/2015-03-31/functions/{name}/invocations"
        if qualifier:
            url += "?Qualifier=" + qualifier
        request = urllib.request.Request(url, data=payload, method="POST")
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def test_python_result_and_alias_environment(self):
        status, headers, body = self.invoke("py", b'{"a": 1}')
        self.assertEqual(status, 200)
        self.assertNotIn("X-Amz-Function-Error", headers)
        self.assertEqual(json.loads(body),
                         {"event": {"a": 1}, "version": "$LATEST", "mode": "base", "left": True})
        status, _, body = self.invoke("py", b"", qualifier="beta")
        self.assertEqual(json.loads(body)["mode"], "beta")
        self.assertEqual(json.loads(body)["event"], {})
        status, headers, _ = self.invoke("py", b"{}", qualifier="gamma")
        self.assertEqual(status, 404)
        self.assertEqual(headers["x-amzn-ErrorType"], "ResourceNotFoundException")

    def test_function_names_as_arns(self):
        arn = "arn:aws:lambda:eu-central-1:123456789012:function:py:beta"
        status, _, body = self.invoke(arn.replace(":", "%3A"), b"{}")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["mode"], "beta")
        self.assertEqual(host.parse_function_name("123:function:f:prod"), ("f", "prod"))
        self.assertEqual(host.parse_function_name("f"), ("f", None))
        self.assertEqual(host.parse_function_name("a:b:c:d:e"), (None, None))

    def test_errors_and_timeouts_are_function_errors(self):
        status, headers, body = self.invoke("fails", b"{}")
        self.assertEqual(status, 200)
        self.assertEqual(headers["X-Amz-Function-Error"], "Unhandled")
        error = json.loads(body)
        self.assertEqual((error["errorMessage"], error["errorType"]), ("Bad Request: nope", "ValueError"))
        status, headers, body = self.invoke("sleepy", b"{}")
        self.assertEqual(headers["X-Amz-Function-Error"], "Unhandled")
        self.assertIn("Task timed out after 0.50 seconds", json.loads(body)["errorMessage"])

    def test_bad_requests(self):
        self.assertEqual(self.invoke("nope", b"{}")[0], 404)
        self.assertEqual(self.invoke("py", b"{not json")[0], 400)
        self.assertEqual(self.invoke("bad%20name", b"{}")[0], 400)

    def test_invocations_are_counted(self):
        def count():
            with urllib.request.urlopen(self.base + "/invocations") as r:
                return json.loads(r.read()).get("jsasync", 0)

        before = count()
        self.invoke("jsasync", b'{"n": 2}')
        self.invoke("nope", b"{}")  # an unknown function is no invocation
        self.assertEqual(count(), before + 1)

    @unittest.skipUnless(shutil.which("node"), "node not installed")
    def test_node_callback_and_async_handlers(self):
        status, headers, body = self.invoke("js", b'{"x": 1}')
        self.assertEqual(json.loads(body), {"got": {"x": 1}, "name": "js"})
        status, headers, body = self.invoke("js", b'{"fail": "item 7"}')
        self.assertEqual(headers["X-Amz-Function-Error"], "Unhandled")
        self.assertEqual(json.loads(body)["errorMessage"], "Not Found: item 7")
        status, headers, body = self.invoke("jsasync", b'{"n": 21}')
        self.assertEqual(json.loads(body), 42)


if __name__ == "__main__":
    unittest.main()
