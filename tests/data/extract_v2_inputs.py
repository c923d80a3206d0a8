#!/usr/bin/env python3
"""Writes apigatewayv2-inputs.json (beside this script) from botocore's apigatewayv2
service model: for each Create*/Update* operation the control plane serves, its input
body's members by wire name (`locationName`) with their type, `enum`, `required`,
`min`/`max` and nested members. The control plane's v2 handlers check request bodies
against it (`control-plane/src/v2/shape.rs`), and the custom domain name and API mapping
operations (`control-plane/src/v2/domains.rs`).

    python3 tests/data/extract_v2_inputs.py path/to/apigatewayv2/2018-11-29/service-2.json
"""
import json
import pathlib
import sys

OPERATIONS = [
    f"{verb}{what}"
    for verb in ("Create", "Update")
    for what in (
        "Api",
        "Route",
        "RouteResponse",
        "Integration",
        "IntegrationResponse",
        "Authorizer",
        "Model",
        "Stage",
        "Deployment",
    )
] + ["CreateDomainName", "UpdateDomainName", "CreateApiMapping", "UpdateApiMapping"]

model = json.load(open(sys.argv[1]))
shapes = model["shapes"]


def spec(shape_name, depth=0):
    s = shapes[shape_name]
    out = {"type": s["type"]}
    for k in ("enum", "min", "max"):
        if k in s:
            out[k] = s[k]
    if s["type"] == "structure" and depth < 4:
        out["members"] = {
            m.get("locationName", name[0].lower() + name[1:]): dict(
                spec(m["shape"], depth + 1), required=name in s.get("required", [])
            )
            for name, m in s["members"].items()
            if m.get("location") is None
        }
    elif s["type"] == "list":
        out["member"] = spec(s["member"]["shape"], depth + 1)
    elif s["type"] == "map":
        out["value"] = spec(s["value"]["shape"], depth + 1)
    return out


out = {
    "source": "botocore's apigatewayv2 service model (Apache-2.0), through "
    "tests/data/extract_v2_inputs.py",
    "apiVersion": model["metadata"]["apiVersion"],
    "operations": {
        name: spec(model["operations"][name]["input"]["shape"]) for name in OPERATIONS
    },
}
target = pathlib.Path(__file__).with_name("apigatewayv2-inputs.json")
target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
print(f"{len(out['operations'])} operations -> {target}")
