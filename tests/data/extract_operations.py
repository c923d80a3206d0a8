#!/usr/bin/env python3
"""Writes apigateway-operations.json (beside this script) from botocore's apigateway
service model: each operation's name, http.method, http.requestUri and success status
(http.responseCode, 200 when the model gives none), nothing else.

    python3 tests/data/extract_operations.py path/to/apigateway/2015-07-09/service-2.json
"""
import json
import pathlib
import sys

model = json.load(open(sys.argv[1]))
out = {
    "source": "botocore's apigateway service model (Apache-2.0), through "
    "tests/data/extract_operations.py",
    "apiVersion": model["metadata"]["apiVersion"],
    "operations": [
        {
            "name": name,
            "method": op["http"]["method"],
            "requestUri": op["http"]["requestUri"],
            "responseCode": op["http"].get("responseCode", 200),
        }
        for name, op in sorted(model["operations"].items())
    ],
}
target = pathlib.Path(__file__).with_name("apigateway-operations.json")
target.write_text(json.dumps(out, indent=1) + "\n")
print(f"{len(out['operations'])} operations -> {target}")
