#!/usr/bin/env python3
"""Writes apigatewayv2-operations.json (beside this script) from the apigatewayv2 service
model: for each operation the control plane serves under /v2, its HTTP method, request URI,
success status, query parameters, and its request and response bodies as shape names; and
every shape those name (type, members by wire name, enum, min/max, required, documentation's
first sentence). The control plane's OpenAPI document describes its v2 routes from it
(`control-plane/src/v2/doc.rs`), as its v2 handlers check bodies against the same model.

    python3 tests/data/extract_v2_operations.py ../shared/reference/apigatewayv2.service-2.json
"""
import json
import pathlib
import re
import sys

KINDS = ("Route", "RouteResponse", "Integration", "IntegrationResponse", "Authorizer", "Model",
         "Deployment")
OPERATIONS = sorted(
    ["GetApis", "CreateApi", "GetApi", "UpdateApi", "DeleteApi", "GetModelTemplate", "GetStages",
     "CreateStage", "GetStage", "UpdateStage", "DeleteStage", "DeleteRouteSettings",
     "DeleteAccessLogSettings", "ResetAuthorizersCache", "ImportApi", "ReimportApi", "ExportApi", "DeleteCorsConfiguration",
     "GetDomainNames", "CreateDomainName", "GetDomainName", "UpdateDomainName", "DeleteDomainName",
     "GetApiMappings", "CreateApiMapping", "GetApiMapping", "UpdateApiMapping", "DeleteApiMapping"]
    + [f"{verb}{kind}" for kind in KINDS for verb in ("Create", "Get", "Update", "Delete")]
    + [f"Get{kind}s" for kind in KINDS]
)

model = json.load(open(sys.argv[1]))
shapes = model["shapes"]
wanted: dict[str, dict] = {}


def first_sentence(doc: str) -> str:
    text = re.sub(r"<[^>]+>", "", doc or "").strip()
    m = re.match(r"(.+?\.)(\s|$)", text, re.S)
    return " ".join((m.group(1) if m else text).split())


def shape_ref(name: str) -> str:
    """Adds `name` (and what it names) to the output; answers its name."""
    if name in wanted:
        return name
    s = shapes[name]
    out: dict = {"type": s["type"]}
    wanted[name] = out
    for k in ("enum", "min", "max"):
        if k in s:
            out[k] = s[k]
    if s.get("documentation"):
        out["doc"] = first_sentence(s["documentation"])
    if s["type"] == "structure":
        out["members"] = {}
        for member, m in s["members"].items():
            if m.get("location"):
                continue
            wire = m.get("locationName", member[0].lower() + member[1:])
            entry = {"shape": shape_ref(m["shape"]), "required": member in s.get("required", [])}
            if m.get("documentation"):
                entry["doc"] = first_sentence(m["documentation"])
            out["members"][wire] = entry
    elif s["type"] == "list":
        out["member"] = shape_ref(s["member"]["shape"])
    elif s["type"] == "map":
        out["value"] = shape_ref(s["value"]["shape"])
    return name


def body_shape(name: str) -> str | None:
    """The shape's body members, or None when all of it is in the URI, query or headers."""
    s = shapes[name]
    if not any(not m.get("location") for m in s.get("members", {}).values()):
        return None
    return shape_ref(name)


operations = {}
for name in OPERATIONS:
    op = model["operations"][name]
    inp = shapes[op["input"]["shape"]] if "input" in op else {"members": {}}
    payload = "output" in op and "payload" in shapes[op["output"]["shape"]]
    operations[name] = {
        "method": op["http"]["method"],
        "uri": op["http"]["requestUri"],
        "status": op["http"].get("responseCode", 200),
        "doc": first_sentence(op.get("documentation", "")),
        "query": sorted(m["locationName"] for m in inp["members"].values() if m.get("location") == "querystring"),
        "input": body_shape(op["input"]["shape"]) if "input" in op else None,
        "output": body_shape(op["output"]["shape"]) if "output" in op and not payload else None,
    }
    if payload:
        # The body is the payload member itself (ExportApi's document), not a JSON object.
        operations[name]["rawOutput"] = True

out = {
    "source": "the apigatewayv2 service model (botocore's, Apache-2.0), through "
    "tests/data/extract_v2_operations.py",
    "apiVersion": model["metadata"]["apiVersion"],
    "operations": operations,
    "shapes": dict(sorted(wanted.items())),
}
path = pathlib.Path(__file__).with_name("apigatewayv2-operations.json")
path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
print(f"{path}: {len(operations)} operations, {len(wanted)} shapes")
