#!/usr/bin/env python3
"""The walking skeleton's user journey (issue 2, steps 2-3) through the real AWS SDK.

boto3, pointed at the control plane with the README's development key, builds the pets
API (resources /pets, /pets/{id}, /files/{proxy+}; GET, POST and ANY methods; MOCK, HTTP
and HTTP_PROXY integrations with method and integration responses), deploys it to `prod`,
calls it through both data-plane nodes, redeploys a change and rolls it back by
re-pointing the stage, and checks that boto3 raises AWS's exception classes with a
message for bad calls, exports the stage (get_export: oas30 JSON with the API Gateway
extensions, swagger YAML; the rolled-back deployment, not the later edit), imports that
export as a new API (import_rest_api, JSON and YAML, failOnWarnings) that both nodes serve
and that exports the same document, applies documents with put_rest_api (merge, then
overwrite), then tags the API, its stage, an API key and a usage plan by
ARN (tag_resource, get_tags, untag_resource), documents the API (documentation parts and
a version, exported and imported with the API), and finds its traffic in CloudWatch
(get_metric_statistics, list_metrics, get_metric_data; an alarm put, described, deleted).
Every step is logged; any failure exits
non-zero.

Environment (run.sh sets it):
  APIGW_ENDPOINT  management API, e.g. http://127.0.0.1:8080
  APIGW_NODES     comma-separated node base URLs, e.g. http://127.0.0.1:8081,http://127.0.0.1:8082
  APIGW_ACCESS_KEY_ID / APIGW_SECRET_ACCESS_KEY  the key the control plane was started
                  with; default: the README's development key (the control plane's default)
  PROPAGATION_BUDGET_S  how long a change may take to reach every node (default 1.0)
"""

import datetime
import json
import os
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

DEV_KEY_ID = "AKIAAPIGWLOCALDEV000"
DEV_SECRET = "apigw-local-development-secret-key-change-me"
STAGE = "prod"

ENDPOINT = os.environ.get("APIGW_ENDPOINT", "http://127.0.0.1:8080")
NODES = [n.rstrip("/") for n in os.environ.get(
    "APIGW_NODES", "http://127.0.0.1:8081,http://127.0.0.1:8082").split(",") if n]
BUDGET = float(os.environ.get("PROPAGATION_BUDGET_S", "1.0"))

_started = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - _started:7.3f}s] {msg}", flush=True)


class Failure(Exception):
    """A check of the walkthrough did not hold."""


def check(cond, what):
    if not cond:
        raise Failure(what)


# --- a tiny backend ------------------------------------------------------------------

class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON, and an X-Backend header."""

    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without TCP_NODELAY every keep-alive reply
    # waits for the gateway's delayed ACK (~40 ms).
    disable_nagle_algorithm = True

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = urlsplit(self.path)
        payload = json.dumps({
            "backend": "python-echo",
            "method": self.command,
            "path": parts.path,
            "query": parts.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Backend", "python-echo")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _echo

    def log_message(self, fmt, *args):  # keep the step log readable
        pass


def start_backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- calling the nodes ---------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.text = body.decode("utf-8", "replace")
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"{self.status} {self.text[:200]!r}"


def invoke(node, api_id, method, path, body=None, headers=None, host_form=False):
    """Calls `path` of `api_id`/prod on `node`, by the /restapis/... form or the Host form."""
    headers = dict(headers or {})
    if host_form:
        url = f"{node}/{STAGE}{path}"
        headers["Host"] = f"{api_id}.execute-api.localhost:{urlsplit(node).port}"
    else:
        url = f"{node}/restapis/{api_id}/{STAGE}/_user_request_{path}"
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.headers, e.read())


def wait_for_version(api_id, want, budget):
    """Polls `GET /` on every node until each answers version `want`; returns the time taken."""
    start = time.monotonic()
    pending = set(NODES)
    last = {}
    while pending:
        for node in sorted(pending):
            r = invoke(node, api_id, "GET", "/")
            last[node] = r
            if r.status == 200 and r.json == {"version": want}:
                pending.discard(node)
        if not pending:
            break
        if time.monotonic() - start > budget:
            raise Failure(f"nodes {sorted(pending)} did not serve {want} within {budget}s: {last}")
        time.sleep(0.02)
    return time.monotonic() - start


# --- the walkthrough -----------------------------------------------------------------

def mock_method(api, api_id, resource_id, verb, status, template, method_headers=None,
                header_values=None):
    """A MOCK method answering `status` with `template`."""
    api.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=verb,
                   authorizationType="NONE")
    api.put_method_response(
        restApiId=api_id, resourceId=resource_id, httpMethod=verb, statusCode=status,
        responseParameters={f"method.response.header.{h}": False for h in method_headers or []})
    api.put_integration(
        restApiId=api_id, resourceId=resource_id, httpMethod=verb, type="MOCK",
        requestTemplates={"application/json": json.dumps({"statusCode": int(status)})})
    api.put_integration_response(
        restApiId=api_id, resourceId=resource_id, httpMethod=verb, statusCode=status,
        selectionPattern="",
        responseParameters={f"method.response.header.{h}": v
                            for h, v in (header_values or {}).items()},
        responseTemplates={"application/json": template})


def build_api(api):
    log("create REST API 'pets'")
    created = api.create_rest_api(name="pets", description="boto3 walkthrough")
    api_id = created["id"]
    resources = api.get_resources(restApiId=api_id)["items"]
    root = next(r["id"] for r in resources if r["path"] == "/")
    check(root == created["rootResourceId"], "GetResources lists the root resource")

    log("create resources /pets, /pets/{id}, /files, /files/{proxy+}")
    pets = api.create_resource(restApiId=api_id, parentId=root, pathPart="pets")["id"]
    pet = api.create_resource(restApiId=api_id, parentId=pets, pathPart="{id}")["id"]
    files = api.create_resource(restApiId=api_id, parentId=root, pathPart="files")["id"]
    greedy = api.create_resource(restApiId=api_id, parentId=files, pathPart="{proxy+}")
    check(greedy["path"] == "/files/{proxy+}", f"greedy resource path: {greedy}")
    greedy = greedy["id"]

    log("GET / : MOCK answering the API version, with a static header")
    mock_method(api, api_id, root, "GET", "200", json.dumps({"version": "v1"}),
                method_headers=["X-Api"], header_values={"X-Api": "'pets'"})

    log("GET /pets : HTTP integration through the `backend` stage variable")
    api.put_method(restApiId=api_id, resourceId=pets, httpMethod="GET",
                   authorizationType="NONE",
                   requestParameters={"method.request.querystring.kind": False})
    api.put_method_response(restApiId=api_id, resourceId=pets, httpMethod="GET",
                            statusCode="200",
                            responseParameters={"method.response.header.X-Backend": False})
    api.put_integration(
        restApiId=api_id, resourceId=pets, httpMethod="GET", type="HTTP",
        integrationHttpMethod="GET", uri="http://${stageVariables.backend}/pets",
        requestParameters={"integration.request.querystring.kind": "method.request.querystring.kind",
                           "integration.request.header.X-From-Gateway": "'yes'"},
        timeoutInMillis=5000)
    api.put_integration_response(
        restApiId=api_id, resourceId=pets, httpMethod="GET", statusCode="200",
        selectionPattern="",
        responseParameters={"method.response.header.X-Backend": "integration.response.header.X-Backend"})

    log("POST /pets : MOCK answering 201")
    mock_method(api, api_id, pets, "POST", "201", json.dumps({"created": True}))

    log("GET /pets/{id} : HTTP_PROXY with the path parameter mapped")
    api.put_method(restApiId=api_id, resourceId=pet, httpMethod="GET", authorizationType="NONE",
                   requestParameters={"method.request.path.id": True})
    api.put_integration(
        restApiId=api_id, resourceId=pet, httpMethod="GET", type="HTTP_PROXY",
        integrationHttpMethod="GET", uri="http://${stageVariables.backend}/pets/{id}",
        requestParameters={"integration.request.path.id": "method.request.path.id"})

    log("ANY /files/{proxy+} : HTTP_PROXY, greedy path")
    api.put_method(restApiId=api_id, resourceId=greedy, httpMethod="ANY",
                   authorizationType="NONE",
                   requestParameters={"method.request.path.proxy": True})
    api.put_integration(
        restApiId=api_id, resourceId=greedy, httpMethod="ANY", type="HTTP_PROXY",
        integrationHttpMethod="ANY", uri="http://${stageVariables.backend}/files/{proxy}",
        requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})

    got = api.get_method(restApiId=api_id, resourceId=pets, httpMethod="GET")
    check(got["methodIntegration"]["type"] == "HTTP", f"GetMethod embeds the integration: {got}")
    return api_id, root, pets


def call_everything(api_id, version):
    for node in NODES:
        log(f"  calling {node}")
        r = invoke(node, api_id, "GET", "/")
        check(r.status == 200 and r.json == {"version": version}, f"GET / on {node}: {r}")
        check(r.headers.get("X-Api") == "pets", f"mapped static header on {node}: {r.headers}")
        check(r.headers.get("x-amzn-RequestId"), "x-amzn-RequestId is set")

        r = invoke(node, api_id, "GET", "/pets?kind=cat&ignored=1")
        check(r.status == 200, f"GET /pets on {node}: {r}")
        check(r.json["path"] == "/pets" and r.json["query"] == "kind=cat",
              f"HTTP forwards only mapped query parameters: {r.json}")
        check(r.json["headers"].get("x-from-gateway") == "yes", f"static header: {r.json}")
        check(r.headers.get("X-Backend") == "python-echo", f"mapped backend header: {r.headers}")

        r = invoke(node, api_id, "POST", "/pets", body="{}",
                   headers={"Content-Type": "application/json"})
        check(r.status == 201 and r.json == {"created": True}, f"POST /pets on {node}: {r}")

        r = invoke(node, api_id, "GET", "/pets/42?x=1", headers={"X-Client": "boto3-walkthrough"})
        check(r.status == 200 and r.json["path"] == "/pets/42" and r.json["query"] == "x=1",
              f"GET /pets/42 on {node}: {r}")
        check(r.json["headers"].get("x-client") == "boto3-walkthrough", "HTTP_PROXY passes headers")

        r = invoke(node, api_id, "PUT", "/files/a/b/c.txt", body="file contents",
                   headers={"Content-Type": "text/plain"})
        check(r.status == 200 and r.json["method"] == "PUT"
              and r.json["path"] == "/files/a/b/c.txt" and r.json["body"] == "file contents",
              f"PUT /files/a/b/c.txt on {node}: {r}")

        r = invoke(node, api_id, "GET", "/pets/7", host_form=True)
        check(r.status == 200 and r.json["path"] == "/pets/7", f"Host-form invoke on {node}: {r}")

        r = invoke(node, api_id, "GET", "/nope")
        check(r.status == 403 and r.json == {"message": "Missing Authentication Token"},
              f"no route on {node}: {r}")


def expect_error(api, exception_name, call, needle):
    """Runs `call`, which must raise boto3's `exception_name` with `needle` in the message."""
    exception = getattr(api.exceptions, exception_name)
    try:
        call()
    except exception as e:
        message = e.response["Error"]["Message"]
        check(needle.lower() in message.lower(),
              f"{exception_name} message {message!r} should mention {needle!r}")
        log(f"  {exception_name}: {message}")
        return
    except Exception as e:  # the wrong class is a failure too
        raise Failure(f"expected {exception_name}, got {type(e).__name__}: {e}") from e
    raise Failure(f"expected {exception_name}, the call succeeded")


def aws_conventions(api, api_id, root, d1):
    """Issue 12: what SDKs and tools rely on beyond the shapes."""
    log("every answer carries x-amzn-RequestId, read by boto3 as ResponseMetadata.RequestId")
    meta = api.get_rest_api(restApiId=api_id)["ResponseMetadata"]
    check(meta.get("RequestId"), f"ResponseMetadata.RequestId is set: {meta}")
    check(meta["RequestId"] == meta["HTTPHeaders"].get("x-amzn-requestid"),
          f"RequestId is the header's value: {meta}")
    other = api.get_account()["ResponseMetadata"]["RequestId"]
    check(other != meta["RequestId"], "every answer has its own request id")
    try:
        api.get_rest_api(restApiId="nosuchapi")
        raise Failure("GetRestApi of an unknown id succeeded")
    except api.exceptions.NotFoundException as e:
        check(e.response["ResponseMetadata"].get("RequestId"),
              f"an error carries a RequestId too: {e.response}")

    log("put_method(authorizationType='none'), as Zappa sends it")
    zappa = api.create_resource(restApiId=api_id, parentId=root, pathPart="zappa")["id"]
    m = api.put_method(restApiId=api_id, resourceId=zappa, httpMethod="GET",
                       authorizationType="none")
    check(m["authorizationType"] == "NONE", f"stored as AWS spells it: {m}")

    log("a value outside a model enum is a ValidationException")
    try:
        api.create_rest_api(name="bogus", apiKeySource="BOGUS")
        raise Failure("CreateRestApi with apiKeySource BOGUS succeeded")
    except ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == "ValidationException", f"error code: {e.response}")
        check("Member must satisfy enum value set: [HEADER, AUTHORIZER]" in err["Message"],
              f"AWS's wording: {err}")
        log(f"  ValidationException: {err['Message']}")

    log("get_deployments without apiSummary; get_deployment(embed=['apisummary']) with it")
    items = api.get_deployments(restApiId=api_id)["items"]
    check(all("apiSummary" not in d for d in items), f"no summaries in the list: {items}")
    d = api.get_deployment(restApiId=api_id, deploymentId=d1, embed=["apisummary"])
    check(d["apiSummary"]["/"]["GET"]["authorizationType"] == "NONE", f"embedded: {d}")
    check("apiSummary" not in api.get_deployment(restApiId=api_id, deploymentId=d1),
          "no summary unless embedded")

    log("update_stage access log settings")
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:pets-access"
    stage = api.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn},
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"}])
    check(stage["accessLogSettings"] == {"destinationArn": arn, "format": "$context.requestId"},
          f"access log settings: {stage}")
    stage = api.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
        {"op": "remove", "path": "/accessLogSettings"}])
    check("accessLogSettings" not in stage, f"removed: {stage}")

    log("update_account cannot turn usage plans off")
    expect_error(api, "BadRequestException",
                 lambda: api.update_account(patchOperations=[
                     {"op": "remove", "path": "/features", "value": "UsagePlans"}]),
                 "Usage Plans cannot be disabled once enabled")


def tags(api, api_id):
    """Issue 12: tags by ARN on every taggable resource, as boto3 sends and parses them."""
    log("create_api_key and create_usage_plan with tags; get_* answer them")
    key = api.create_api_key(name="tagged", tags={"team": "key"})
    check(api.get_api_key(apiKey=key["id"])["tags"] == {"team": "key"}, f"GetApiKey: {key}")
    plan = api.create_usage_plan(name="tagged", tags={"team": "plan"})
    check(api.get_usage_plan(usagePlanId=plan["id"])["tags"] == {"team": "plan"},
          f"GetUsagePlan: {plan}")
    arns = [f"arn:aws:apigateway:us-east-1::/restapis/{api_id}",
            f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/{STAGE}",
            f"arn:aws:apigateway:us-east-1::/apikeys/{key['id']}",
            f"arn:aws:apigateway:us-east-1::/usageplans/{plan['id']}"]
    for arn in arns:
        log(f"tag_resource / get_tags / untag_resource {arn}")
        before = api.get_tags(resourceArn=arn).get("tags", {})
        api.tag_resource(resourceArn=arn, tags={"env": "dev", "owner": "walkthrough"})
        got = api.get_tags(resourceArn=arn)["tags"]
        check(got == {**before, "env": "dev", "owner": "walkthrough"}, f"GetTags: {got}")
        api.untag_resource(resourceArn=arn, tagKeys=["env", "owner"])
        got = api.get_tags(resourceArn=arn).get("tags", {})
        check(got == before, f"GetTags after untag: {got}")
    check(api.get_stage(restApiId=api_id, stageName=STAGE).get("tags") is None,
          "GetStage: no tags left")
    api.tag_resource(resourceArn=arns[1], tags={"env": "prod"})
    check(api.get_stage(restApiId=api_id, stageName=STAGE)["tags"] == {"env": "prod"},
          "GetStage shows the stage's tags")

    log("tag errors raise AWS's exceptions")
    expect_error(api, "BadRequestException",
                 lambda: api.tag_resource(resourceArn=arns[0], tags={"aws:owner": "x"}),
                 "reserved")
    expect_error(api, "BadRequestException",
                 lambda: api.get_tags(
                     resourceArn=f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/resources/x"),
                 "Invalid resource ARN")
    expect_error(api, "NotFoundException",
                 lambda: api.get_tags(resourceArn="arn:aws:apigateway:us-east-1::/apikeys/nosuch"),
                 "Invalid API Key identifier")
    api.delete_usage_plan(usagePlanId=plan["id"])
    api.delete_api_key(apiKey=key["id"])
    expect_error(api, "NotFoundException",
                 lambda: api.get_tags(resourceArn=arns[2]), "Invalid API Key identifier")


def stage_cache(api, api_id):
    """Issue 17: the stage cache's stage fields and FlushStageCache, as boto3 sends them."""
    log("update_stage: cacheClusterEnabled, cacheClusterSize and caching method settings")
    stage = api.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
        {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
        {"op": "replace", "path": "/cacheClusterSize", "value": "6.1"},
        {"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "60"},
        {"op": "replace", "path": "/*/*/caching/requireAuthorizationForCacheControl",
         "value": "true"},
        {"op": "replace", "path": "/*/*/caching/unauthorizedCacheControlHeaderStrategy",
         "value": "FAIL_WITH_403"},
        {"op": "replace", "path": "/~1pets/POST/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/~1pets/POST/caching/dataEncrypted", "value": "true"}])
    check(stage["cacheClusterEnabled"] and stage["cacheClusterSize"] == "6.1"
          and stage["cacheClusterStatus"] == "AVAILABLE", f"cache fields: {stage}")
    got = api.get_stage(restApiId=api_id, stageName=STAGE)
    check(got["cacheClusterStatus"] == "AVAILABLE", f"GetStage: {got}")
    every, post = got["methodSettings"]["*/*"], got["methodSettings"]["pets/POST"]
    check(every["cacheTtlInSeconds"] == 60 and every["requireAuthorizationForCacheControl"]
          and every["unauthorizedCacheControlHeaderStrategy"] == "FAIL_WITH_403",
          f"*/* caching settings: {every}")
    check(post["cachingEnabled"] and post["cacheDataEncrypted"], f"POST caching: {post}")

    log("flush_stage_cache; an unknown stage is a NotFoundException")
    answer = api.flush_stage_cache(restApiId=api_id, stageName=STAGE)
    check(answer["ResponseMetadata"]["HTTPStatusCode"] == 202, f"FlushStageCache: {answer}")
    expect_error(api, "NotFoundException",
                 lambda: api.flush_stage_cache(restApiId=api_id, stageName="nosuch"),
                 "stage")

    log("update_stage: the cache off again")
    stage = api.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
        {"op": "replace", "path": "/cacheClusterEnabled", "value": "false"}])
    check(not stage["cacheClusterEnabled"] and stage["cacheClusterStatus"] == "NOT_AVAILABLE",
          f"cache off: {stage}")


def export(api, api_id, d1):
    """GetExport of the stage (rolled back to d1): the deployed snapshot, JSON and YAML."""
    log("get_export oas30 (JSON, extensions=apigateway) and swagger (YAML)")
    created = api.get_deployment(restApiId=api_id, deploymentId=d1)["createdDate"]
    version = created.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    got = api.get_export(restApiId=api_id, stageName=STAGE, exportType="oas30",
                         parameters={"extensions": "apigateway"}, accepts="application/json")
    check(got["contentType"] == "application/octet-stream", f"contentType: {got['contentType']}")
    check(got["contentDisposition"] == f'attachment; filename="oas30_{version}.json"',
          f"contentDisposition: {got['contentDisposition']}")
    doc = json.loads(got["body"].read())
    check(doc["openapi"] == "3.0.1" and doc["info"]["version"] == version, f"info: {doc['info']}")
    check("x-amazon-apigateway-any-method" in doc["paths"]["/files/{proxy+}"],
          f"ANY /files/{{proxy+}}: {doc['paths'].get('/files/{proxy+}')}")
    root_get = doc["paths"]["/"]["get"]["x-amazon-apigateway-integration"]
    check(json.loads(root_get["responses"]["default"]["responseTemplates"]["application/json"])
          == {"version": "v1"}, f"the export is the deployed d1, not the v2 edit: {root_get}")
    pets_get = doc["paths"]["/pets"]["get"]
    check(pets_get["x-amazon-apigateway-integration"]["type"] == "http"
          and pets_get["parameters"] == [{"name": "kind", "in": "query",
                                          "schema": {"type": "string"}}],
          f"GET /pets: {pets_get}")

    got = api.get_export(restApiId=api_id, stageName=STAGE, exportType="swagger",
                         accepts="application/yaml")
    check(got["contentDisposition"] == f'attachment; filename="swagger_{version}.yaml"',
          f"contentDisposition: {got['contentDisposition']}")
    text = got["body"].read().decode()
    check("swagger: '2.0'" in text and f"basePath: /{STAGE}" in text
          and "x-amazon-apigateway-integration" not in text, f"swagger YAML:\n{text}")
    expect_error(api, "BadRequestException",
                 lambda: api.get_export(restApiId=api_id, stageName=STAGE, exportType="oas30",
                                        parameters={"extensions": "postman"}),
                 "postman")
    expect_error(api, "NotFoundException",
                 lambda: api.get_export(restApiId=api_id, stageName="nosuch",
                                        exportType="oas30"),
                 "stage")


def without_deployment(doc):
    """An export without what names its API and deployment: the invoke host, the date."""
    doc = dict(doc)
    doc.pop("servers", None)
    doc["info"] = {k: v for k, v in doc["info"].items() if k != "version"}
    return doc


def openapi_in(api, api_id, backend_addr):
    """Issue 12, OpenAPI in: the stage's export imported as new APIs, put_rest_api."""
    log("import_rest_api(body=<the oas30 export>, failOnWarnings=True): a new API")
    exported = api.get_export(restApiId=api_id, stageName=STAGE, exportType="oas30",
                              parameters={"extensions": "apigateway"},
                              accepts="application/json")["body"].read()
    created = api.import_rest_api(body=exported, failOnWarnings=True)
    copy = created["id"]
    check(copy != api_id and created["name"] == "pets" and not created.get("warnings"),
          f"ImportRestApi: {created}")
    api.create_deployment(restApiId=copy, stageName=STAGE, variables={"backend": backend_addr})
    took = wait_for_version(copy, "v1", max(BUDGET, 10.0))
    log(f"the imported API is served by both nodes after {took:.3f}s")
    call_everything(copy, "v1")
    again = json.loads(api.get_export(restApiId=copy, stageName=STAGE, exportType="oas30",
                                      parameters={"extensions": "apigateway"},
                                      accepts="application/json")["body"].read())
    check(without_deployment(again) == without_deployment(json.loads(exported)),
          f"the import exports the same document:\n{json.dumps(again, indent=1)}")

    log("import_rest_api(body=<the oas30 export as YAML>)")
    yaml_doc = api.get_export(restApiId=api_id, stageName=STAGE, exportType="oas30",
                              parameters={"extensions": "apigateway"},
                              accepts="application/yaml")["body"].read()
    from_yaml = api.import_rest_api(body=yaml_doc)
    resources = api.get_resources(restApiId=from_yaml["id"], limit=100)["items"]
    check(sorted(r["path"] for r in resources)
          == ["/", "/files", "/files/{proxy+}", "/pets", "/pets/{id}"],
          f"the YAML import's resources: {resources}")

    log("an unknown extension: a warning, or BadRequestException with failOnWarnings")
    small = {
        "openapi": "3.0.1", "info": {"title": "small", "version": "1"},
        "x-amazon-apigateway-foo": True,
        "paths": {"/extra": {"get": {
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
                "responses": {"default": {"statusCode": "200"}}}}}}}
    body = json.dumps(small).encode()
    expect_error(api, "BadRequestException",
                 lambda: api.import_rest_api(body=body, failOnWarnings=True),
                 "x-amazon-apigateway-foo")
    warned = api.import_rest_api(body=body)
    check(any("x-amazon-apigateway-foo" in w for w in warned.get("warnings", [])),
          f"warnings: {warned}")
    expect_error(api, "BadRequestException",
                 lambda: api.import_rest_api(body=b'{"openapi": '), "invalid JSON")

    log("put_rest_api(mode='merge') adds /extra and keeps /pets")
    merged = api.put_rest_api(restApiId=copy, mode="merge", body=body)
    check(merged["id"] == copy and merged["name"] == "small", f"PutRestApi: {merged}")
    paths = sorted(r["path"] for r in api.get_resources(restApiId=copy, limit=100)["items"])
    check("/extra" in paths and "/pets" in paths, f"after merge: {paths}")
    log("put_rest_api(mode='overwrite') leaves /extra only; the stage stays")
    api.put_rest_api(restApiId=copy, mode="overwrite", body=body)
    paths = sorted(r["path"] for r in api.get_resources(restApiId=copy, limit=100)["items"])
    check(paths == ["/", "/extra"], f"after overwrite: {paths}")
    check(api.get_stage(restApiId=copy, stageName=STAGE)["deploymentId"],
          "the stage survives an overwrite")
    for other in (copy, from_yaml["id"], warned["id"]):
        api.delete_rest_api(restApiId=other)


def documentation(api, api_id):
    """Issue 12, documentation: parts, a version published by the stage, exported with
    extensions=documentation and imported with the API into a new one."""
    log("create_documentation_part x2, import_documentation_parts, a version on the stage")
    api_part = api.create_documentation_part(
        restApiId=api_id, location={"type": "API"},
        properties=json.dumps({"description": "The pet store"}))
    api.create_documentation_part(
        restApiId=api_id, location={"type": "METHOD", "path": "/pets", "method": "GET"},
        properties=json.dumps({"summary": "List pets"}))
    expect_error(api, "ConflictException",
                 lambda: api.create_documentation_part(
                     restApiId=api_id, location={"type": "API"}, properties="{}"),
                 "Documentation part already exists")
    imported = api.import_documentation_parts(
        restApiId=api_id, mode="merge",
        body=json.dumps({"documentationParts": [
            {"location": {"type": "MODEL", "name": "Empty"},
             "properties": {"description": "nothing"}}]}).encode())
    check(len(imported["ids"]) == 1, f"ImportDocumentationParts: {imported}")
    parts = api.get_documentation_parts(restApiId=api_id, limit=100)["items"]
    check(len(parts) == 3 and api_part["id"] in [p["id"] for p in parts], f"parts: {parts}")
    api.create_documentation_version(restApiId=api_id, documentationVersion="1.0",
                                     stageName=STAGE, description="first")
    check(api.get_stage(restApiId=api_id, stageName=STAGE)["documentationVersion"] == "1.0",
          "the stage publishes documentation version 1.0")

    log("get_export(extensions=documentation) -> import_rest_api: the parts come along")
    exported = api.get_export(restApiId=api_id, stageName=STAGE, exportType="oas30",
                              parameters={"extensions": "documentation"},
                              accepts="application/json")["body"].read()
    published = json.loads(exported)["x-amazon-apigateway-documentation"]
    check(published["version"] == "1.0" and len(published["documentationParts"]) == 3,
          f"x-amazon-apigateway-documentation: {published}")
    copy = api.import_rest_api(body=exported, failOnWarnings=True)
    copied = api.get_documentation_parts(restApiId=copy["id"], limit=100)["items"]
    def comparable(ps):
        return sorted(json.dumps([p["location"], json.loads(p["properties"])], sort_keys=True)
                      for p in ps)
    check(comparable(copied) == comparable(parts), f"imported parts: {copied}")
    api.delete_rest_api(restApiId=copy["id"])


def monitoring(key_id, secret):
    """The calls above, seen through boto3's cloudwatch client on the same endpoint."""
    log("cloudwatch: the pets API's requests reach AWS/ApiGateway (nodes ship every 10 s)")
    cw = boto3.client(
        "cloudwatch", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}))
    dims = [{"Name": "ApiName", "Value": "pets"}, {"Name": "Stage", "Value": STAGE}]
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    start = end - datetime.timedelta(minutes=30)
    deadline = time.monotonic() + 60
    while True:
        r = cw.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="Count",
                                     Dimensions=dims, StartTime=start, EndTime=end, Period=60,
                                     Statistics=["Sum"])
        total = sum(d["Sum"] for d in r["Datapoints"])
        if total > 0:
            break
        check(time.monotonic() < deadline, "the pets API's Count shows up within 60 s")
        time.sleep(1)
    log(f"cloudwatch: Count Sum {total:.0f} over {len(r['Datapoints'])} minute(s)")
    metrics = cw.list_metrics(Namespace="AWS/ApiGateway", MetricName="Latency",
                              Dimensions=[{"Name": "ApiName", "Value": "pets"}])["Metrics"]
    check(any(m["Dimensions"] == dims for m in metrics), f"ListMetrics: {metrics}")
    r = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
        {"Id": "p99", "MetricStat": {"Metric": {"Namespace": "AWS/ApiGateway",
         "MetricName": "Latency", "Dimensions": dims}, "Period": 300, "Stat": "p99"}}])
    check(r["MetricDataResults"][0]["Values"], f"GetMetricData Latency p99: {r}")
    cw.put_metric_alarm(AlarmName="pets-5xx", MetricName="5XXError", Namespace="AWS/ApiGateway",
                        Statistic="Average", Dimensions=dims, Period=60, EvaluationPeriods=1,
                        Threshold=0.05, ComparisonOperator="GreaterThanOrEqualToThreshold")
    alarms = cw.describe_alarms(AlarmNamePrefix="pets-")["MetricAlarms"]
    check([a["AlarmName"] for a in alarms] == ["pets-5xx"], f"DescribeAlarms: {alarms}")
    cw.delete_alarms(AlarmNames=["pets-5xx"])
    try:
        cw.delete_alarms(AlarmNames=["pets-5xx"])
        raise Failure("deleting a deleted alarm succeeded")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "ResourceNotFound", f"ResourceNotFound: {e}")


def main():
    key_id = os.environ.get("APIGW_ACCESS_KEY_ID", DEV_KEY_ID)
    secret = os.environ.get("APIGW_SECRET_ACCESS_KEY", DEV_SECRET)
    api = boto3.client(
        "apigateway", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}))
    backend = start_backend()
    backend_addr = f"127.0.0.1:{backend.server_address[1]}"
    log(f"control plane {ENDPOINT}, nodes {NODES}, backend http://{backend_addr}")

    api_id, root, pets = build_api(api)

    log("deploy to stage 'prod' (first)")
    d1 = api.create_deployment(restApiId=api_id, stageName=STAGE, description="first",
                               variables={"backend": backend_addr})["id"]
    stage = api.get_stage(restApiId=api_id, stageName=STAGE)
    check(stage["deploymentId"] == d1 and stage["variables"] == {"backend": backend_addr},
          f"GetStage: {stage}")
    took = wait_for_version(api_id, "v1", max(BUDGET, 10.0))
    log(f"first deployment served by both nodes after {took:.3f}s")

    log("call every method through both nodes")
    call_everything(api_id, "v1")

    log("change the API: GET / answers v2; not served until deployed")
    api.update_integration_response(
        restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200",
        patchOperations=[{"op": "replace", "path": "/responseTemplates/application~1json",
                          "value": json.dumps({"version": "v2"})}])
    time.sleep(0.3)
    for node in NODES:
        r = invoke(node, api_id, "GET", "/")
        check(r.json == {"version": "v1"}, f"undeployed edit served by {node}: {r}")

    log("redeploy (second)")
    d2 = api.create_deployment(restApiId=api_id, stageName=STAGE, description="second")["id"]
    took = wait_for_version(api_id, "v2", BUDGET)
    log(f"both nodes serve v2 after {took:.3f}s (budget {BUDGET}s)")
    call_everything(api_id, "v2")

    history = api.get_deployments(restApiId=api_id)["items"]
    log("deployment history: " + ", ".join(
        f"{d['id']} {d.get('description', '')!r} {d['createdDate'].isoformat()}" for d in history))
    check([d["id"] for d in history] == [d2, d1], f"history newest first: {history}")

    log(f"roll back: update_stage /deploymentId -> {d1}")
    api.update_stage(restApiId=api_id, stageName=STAGE,
                     patchOperations=[{"op": "replace", "path": "/deploymentId", "value": d1}])
    took = wait_for_version(api_id, "v1", BUDGET)
    log(f"both nodes serve v1 again after {took:.3f}s (budget {BUDGET}s)")
    call_everything(api_id, "v1")

    log("bad calls raise AWS's exceptions")
    expect_error(api, "NotFoundException",
                 lambda: api.get_rest_api(restApiId="nosuchapi"), "Invalid API identifier")
    expect_error(api, "BadRequestException",
                 lambda: api.put_integration(
                     restApiId=api_id, resourceId=pets, httpMethod="GET", type="HTTP",
                     integrationHttpMethod="GET", uri="http://${stageVariables.backend}/pets",
                     timeoutInMillis=49),
                 "between 50 ms and 29000 ms")
    expect_error(api, "ConflictException",
                 lambda: api.create_resource(restApiId=api_id, parentId=root, pathPart="pets"),
                 "pets")
    expect_error(api, "BadRequestException",
                 lambda: api.delete_deployment(restApiId=api_id, deploymentId=d1),
                 "Active stages")
    expect_error(api, "NotFoundException",
                 lambda: api.update_stage(
                     restApiId=api_id, stageName=STAGE,
                     patchOperations=[{"op": "replace", "path": "/deploymentId",
                                       "value": "nosuch"}]),
                 "deployment identifier")

    export(api, api_id, d1)
    openapi_in(api, api_id, backend_addr)
    documentation(api, api_id)
    aws_conventions(api, api_id, root, d1)
    tags(api, api_id)
    stage_cache(api, api_id)
    monitoring(key_id, secret)

    backend.shutdown()
    log("walkthrough passed")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        log(f"FAILED: {e}")
        sys.exit(1)
    except Exception:  # an SDK error or a crash is a failure with its trace
        log("FAILED with an unexpected error:")
        traceback.print_exc()
        sys.exit(1)
