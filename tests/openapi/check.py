#!/usr/bin/env python3
"""Checks a running control plane's OpenAPI document (see run.sh, which starts one).

1. GET /openapi.json without credentials; openapi-spec-validator validates it (the
   OpenAPI 3.0 meta-schema and its rules: path parameters declared, unique operationIds,
   defaults valid for their schemas, ...).
2. Signs in to the console API for a bearer token (the document's `consoleSession`
   scheme) and creates one of each main resource through the documented operations.
3. Runs schemathesis over the read-only operations of READ_ONLY, with those resources'
   ids as path parameters, EXAMPLES generated requests each (bounded), and the checks:
   no 5xx, every status documented, every body conforming to its documented schema and
   content type.

    python3 tests/openapi/check.py http://127.0.0.1:8080 WORK_DIR
"""
import json
import os
import subprocess
import sys
import urllib.request

from openapi_spec_validator import validate

BASE, WORK = sys.argv[1], sys.argv[2]

READ_ONLY = [
    "GetRestApis", "GetRestApi", "GetResources", "GetResource", "GetMethod",
    "GetMethodResponse", "GetIntegration", "GetIntegrationResponse", "GetDeployments",
    "GetStages", "GetStage", "GetModels", "GetModel", "GetRequestValidators",
    "GetAuthorizers", "GetGatewayResponses", "GetGatewayResponse", "GetDocumentationParts",
    "GetApiKeys", "GetApiKey", "GetUsagePlans", "GetUsagePlan", "GetUsagePlanKeys",
    "GetAccount", "GetVpcLinks", "GetDomainNames", "GetClientCertificates", "GetSdkTypes",
    "GetTags",
]


def call(method, path, body=None, token=None):
    req = urllib.request.Request(BASE + path, method=method)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, data) as resp:
        text = resp.read()
        return json.loads(text) if text else None


doc = call("GET", "/openapi.json")
validate(doc)
ops = {
    op["operationId"]: (method, path)
    for path, item in doc["paths"].items()
    for method, op in item.items()
}
missing = [name for name in READ_ONLY if name not in ops]
assert not missing, f"not in the document: {missing}"
print(f"[openapi] the document is valid OpenAPI {doc['openapi']}: {len(ops)} operations, "
      f"{len(doc['components']['schemas'])} schemas")

token = call("POST", "/console/api/session", {
    "username": os.environ["APIGW_ADMIN_USER"],
    "password": os.environ["APIGW_ADMIN_PASSWORD"],
    "mode": "bearer",
})["token"]
api = call("POST", "/restapis", {"name": "openapi-check", "tags": {"team": "a"}}, token)
api_id, root = api["id"], api["rootResourceId"]
res = call("POST", f"/restapis/{api_id}/resources/{root}", {"pathPart": "pets"}, token)
method = f"/restapis/{api_id}/resources/{res['id']}/methods/GET"
call("PUT", method, {"authorizationType": "NONE"}, token)
call("PUT", f"{method}/responses/200", {}, token)
call("PUT", f"{method}/integration", {"type": "MOCK"}, token)
call("PUT", f"{method}/integration/responses/200", {}, token)
call("POST", f"/restapis/{api_id}/deployments", {"stageName": "prod"}, token)
key = call("POST", "/apikeys", {"name": "k", "enabled": True}, token)
plan = call("POST", "/usageplans", {
    "name": "p", "apiStages": [{"apiId": api_id, "stage": "prod"}],
    "throttle": {"rateLimit": 5, "burstLimit": 10},
}, token)
call("POST", f"/usageplans/{plan['id']}/keys", {"keyId": key["id"], "keyType": "API_KEY"}, token)
part = {"location": {"type": "API"}, "properties": json.dumps({"description": "d"})}
call("POST", f"/restapis/{api_id}/documentation/parts", part, token)

config = os.path.join(WORK, "schemathesis.toml")
with open(config, "w") as f:
    f.write("[parameters]\n")
    for name, value in {
        "restapi_id": api_id, "resource_id": res["id"], "http_method": "GET",
        "status_code": "200", "stage_name": "prod", "model_name": "Empty",
        "response_type": "DEFAULT_4XX", "api_Key": key["id"], "usageplanId": plan["id"],
        "resource_arn": f"arn:aws:apigateway:us-east-1::/restapis/{api_id}",
    }.items():
        f.write(f'"path.{name}" = {json.dumps(value)}\n')

args = [
    "schemathesis", "--config-file", config, "run", f"{BASE}/openapi.json",
    "--header", f"Authorization: Bearer {token}",
    "--checks", "not_a_server_error,status_code_conformance,"
    "response_schema_conformance,content_type_conformance",
    "--mode", "positive",
    "--max-examples", os.environ.get("EXAMPLES", "25"),
    "--phases", "examples,coverage,fuzzing",
    "--workers", "1",
    "--seed", "12",
    "--no-color",
    "--generation-database", "none",
    "--report", "junit", "--report-dir", os.path.join(WORK, "schemathesis"),
]
for name in READ_ONLY:
    args += ["--include-operation-id", name]
print("[openapi] " + " ".join(a if "Bearer" not in a else "Authorization: Bearer …" for a in args))
sys.exit(subprocess.call(args))
