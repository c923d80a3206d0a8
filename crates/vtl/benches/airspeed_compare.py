#!/usr/bin/env python3
"""Renders the developer guide's photos transformation over 100 items with
`airspeed` (the Python Velocity engine LocalStack uses; `pip install airspeed`)
and with this crate (`vtl-render --time=N`, release build), parse once /
render many in both, and prints the speed ratio. Run from anywhere:

    cargo build --release -p apigw-vtl --bin vtl-render
    python3 crates/vtl/benches/airspeed_compare.py [N]
"""
import json
import os
import subprocess
import sys
import time

import airspeed

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "vtl-render")

TEMPLATE = """#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$util.escapeJavaScript($elem.title)",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end
#end
  ]
}"""

photos = [{"id": "%011d" % (12345678901 + i), "owner": "23456789@A12",
           "photographer_first_name": "Saanvi", "photographer_last_name": "Sarkar",
           "secret": "abc123d456", "server": "1234", "farm": i % 5,
           "title": "Sample photo %d" % i, "ispublic": True, "isfriend": False,
           "isfamily": i % 2 == 0} for i in range(100)]
BODY = json.dumps({"photos": {"page": 1, "pages": "1234", "perpage": 100,
                              "total": "123398", "photo": photos}})


class Input:
    """$input as LocalStack provides it: the body parsed per request."""

    def __init__(self, body):
        self.body = body

    def path(self, p):
        assert p == "$"
        return json.loads(self.body)


class Util:
    def escapeJavaScript(self, s):
        return json.dumps(str(s))[1:-1].replace("'", "\\'")


def render_airspeed(template):
    return template.merge({"input": Input(BODY), "util": Util()})


tpl = airspeed.Template(TEMPLATE)
out = render_airspeed(tpl)
assert "Sample photo 99" in out
n_py = max(1, N // 10)
start = time.perf_counter()
for _ in range(n_py):
    render_airspeed(tpl)
py_ns = (time.perf_counter() - start) * 1e9 / n_py

case = json.dumps({"template": TEMPLATE, "body": BODY})
ours = subprocess.run([BIN, "--time=%d" % N], input=case, capture_output=True, text=True, check=True)
rs_ns = json.loads(ours.stdout)["ns_per_render"]
print("airspeed: %.1f us/render (%d renders)" % (py_ns / 1000, n_py))
print("vtl:      %.1f us/render (%d renders)" % (rs_ns / 1000, N))
print("ratio:    %.1fx" % (py_ns / rs_ns))
