#!/usr/bin/env python3
"""Canary settings and every stage method setting through boto3 (issue 17).

Against a control plane (tests/tests/canary.rs starts one; tests/boto3/run.sh runs this
after the walkthrough), boto3's `apigateway` client builds an API with a MOCK GET /who,
deploys it to `prod`, then checks that every patch path round-trips through GetStage:

- CreateDeployment with `canarySettings` (the stage keeps its deployment, the new one is
  the canary); each `/canarySettings/...` path of UpdateStage; AWS's promotion sequence
  (`copy` from `/canarySettings/stageVariableOverrides` to `/variables`, from
  `/canarySettings/deploymentId` to `/deploymentId`, `percentTraffic` 0) and
  `remove /canarySettings`;
- every `methodSettings` key, for `*/*` and for `/~1who/GET`, and `remove /~1who/GET`;
- `cacheClusterEnabled` and `cacheClusterSize`;
- and AWS's exception classes for what is refused (a share over 100 %, an unknown
  deployment, a canary for a stage that does not exist, a bad log level, TTL or strategy).

Environment: APIGW_ENDPOINT, APIGW_ACCESS_KEY_ID / APIGW_SECRET_ACCESS_KEY (default: the
README's development key), APIGW_REGION (default us-east-1).
"""

import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("APIGW_ENDPOINT", "http://127.0.0.1:8080")
KEY = os.environ.get("APIGW_ACCESS_KEY_ID", "AKIAAPIGWLOCALDEV000")
SECRET = os.environ.get("APIGW_SECRET_ACCESS_KEY", "apigw-local-development-secret-key-change-me")
REGION = os.environ.get("APIGW_REGION", "us-east-1")


class Failure(Exception):
    pass


_started = time.monotonic()


def log(msg):
    print(f"[canary.py {time.monotonic() - _started:7.3f}s] {msg}", flush=True)


def check(cond, what):
    if not cond:
        raise Failure(what)


ag = boto3.client(
    "apigateway",
    endpoint_url=ENDPOINT,
    region_name=REGION,
    aws_access_key_id=KEY,
    aws_secret_access_key=SECRET,
    config=Config(retries={"max_attempts": 1}),
)


def refused(code, f, *args, **kwargs):
    try:
        f(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        check(got == code, f"expected {code}, got {got}: {e}")
        check(e.response["Error"].get("Message"), f"{code} without a message")
        return e.response["Error"]["Message"]
    raise Failure(f"expected {code}, the call succeeded")


def build():
    api = ag.create_rest_api(name="canary-boto3")["id"]
    root = next(r["id"] for r in ag.get_resources(restApiId=api)["items"] if r["path"] == "/")
    who = ag.create_resource(restApiId=api, parentId=root, pathPart="who")["id"]
    ag.put_method(restApiId=api, resourceId=who, httpMethod="GET", authorizationType="NONE")
    ag.put_method_response(restApiId=api, resourceId=who, httpMethod="GET", statusCode="200")
    ag.put_integration(
        restApiId=api,
        resourceId=who,
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    ag.put_integration_response(
        restApiId=api,
        resourceId=who,
        httpMethod="GET",
        statusCode="200",
        selectionPattern="",
        responseTemplates={"application/json": '{"color": "$stageVariables.color"}'},
    )
    return api


def update(api, *ops):
    patch = []
    for op in ops:
        o = {"op": op[0], "path": op[1]}
        if len(op) > 2 and op[2] is not None:
            if op[0] in ("copy", "move"):
                o["from"] = op[2]
            else:
                o["value"] = op[2]
        patch.append(o)
    answer = ag.update_stage(restApiId=api, stageName="prod", patchOperations=patch)
    got = ag.get_stage(restApiId=api, stageName="prod")
    for k in ("deploymentId", "variables", "canarySettings", "methodSettings", "cacheClusterEnabled", "cacheClusterSize"):
        check(answer.get(k) == got.get(k), f"UpdateStage and GetStage disagree on {k}: {answer.get(k)} / {got.get(k)}")
    return got


def canary(api):
    d1 = ag.create_deployment(restApiId=api, stageName="prod", variables={"color": "blue", "keep": "yes"})["id"]
    msg = refused(
        "BadRequestException",
        ag.create_deployment,
        restApiId=api,
        stageName="nosuch",
        canarySettings={"percentTraffic": 10.0},
    )
    log(f"a canary for a missing stage: {msg}")
    refused(
        "BadRequestException",
        ag.create_deployment,
        restApiId=api,
        stageName="prod",
        canarySettings={"percentTraffic": 100.5},
    )
    d2 = ag.create_deployment(
        restApiId=api,
        stageName="prod",
        canarySettings={"percentTraffic": 12.5, "stageVariableOverrides": {"color": "green"}, "useStageCache": False},
    )["id"]
    s = ag.get_stage(restApiId=api, stageName="prod")
    check(s["deploymentId"] == d1, f"the stage keeps d1: {s}")
    check(
        s["canarySettings"]
        == {"percentTraffic": 12.5, "deploymentId": d2, "stageVariableOverrides": {"color": "green"}, "useStageCache": False},
        f"GetStage canarySettings: {s.get('canarySettings')}",
    )
    log("CreateDeployment with canarySettings: ok")

    s = update(api, ("replace", "/canarySettings/percentTraffic", "0.5"))
    check(s["canarySettings"]["percentTraffic"] == 0.5, s)
    s = update(api, ("replace", "/canarySettings/useStageCache", "true"))
    check(s["canarySettings"]["useStageCache"] is True, s)
    s = update(api, ("replace", "/canarySettings/stageVariableOverrides/extra", "x1"))
    check(s["canarySettings"]["stageVariableOverrides"] == {"color": "green", "extra": "x1"}, s)
    s = update(api, ("remove", "/canarySettings/stageVariableOverrides/extra"))
    check(s["canarySettings"]["stageVariableOverrides"] == {"color": "green"}, s)
    s = update(api, ("replace", "/canarySettings/deploymentId", d1))
    check(s["canarySettings"]["deploymentId"] == d1, s)
    s = update(api, ("replace", "/canarySettings/deploymentId", d2))
    refused("BadRequestException", update, api, ("replace", "/canarySettings/percentTraffic", "101"))
    refused("BadRequestException", update, api, ("replace", "/canarySettings/percentTraffic", "-1"))
    refused("NotFoundException", update, api, ("replace", "/canarySettings/deploymentId", "nosuch"))
    refused("BadRequestException", update, api, ("replace", "/canarySettings/stageVariableOverrides/bad key", "v"))
    refused("BadRequestException", update, api, ("replace", "/canarySettings/nope", "v"))
    refused("BadRequestException", ag.delete_deployment, restApiId=api, deploymentId=d2)
    log("every /canarySettings path: ok")

    s = update(
        api,
        ("replace", "/canarySettings/percentTraffic", "0.0"),
        ("copy", "/variables", "/canarySettings/stageVariableOverrides"),
        ("copy", "/deploymentId", "/canarySettings/deploymentId"),
    )
    check(s["deploymentId"] == d2, f"promoted: {s}")
    check(s["variables"] == {"color": "green", "keep": "yes"}, f"overrides merged: {s}")
    check(s["canarySettings"]["percentTraffic"] == 0.0, s)
    s = update(api, ("remove", "/canarySettings"))
    check("canarySettings" not in s, s)
    refused("BadRequestException", update, api, ("copy", "/deploymentId", "/canarySettings/deploymentId"))
    ag.delete_deployment(restApiId=api, deploymentId=d1)
    log("promotion and removal: ok")

    # A canary added by UpdateStage serves the stage's deployment until told otherwise.
    s = update(api, ("replace", "/canarySettings/percentTraffic", "25"))
    check(s["canarySettings"] == {"percentTraffic": 25.0, "deploymentId": d2, "useStageCache": False}, s)
    update(api, ("remove", "/canarySettings"))


SETTINGS = [
    # (patch suffix, value, MethodSetting member, expected)
    ("metrics/enabled", "true", "metricsEnabled", True),
    ("logging/loglevel", "INFO", "loggingLevel", "INFO"),
    ("logging/loglevel", "ERROR", "loggingLevel", "ERROR"),
    ("logging/dataTrace", "true", "dataTraceEnabled", True),
    ("throttling/burstLimit", "100", "throttlingBurstLimit", 100),
    ("throttling/rateLimit", "50.5", "throttlingRateLimit", 50.5),
    ("caching/enabled", "true", "cachingEnabled", True),
    ("caching/ttlInSeconds", "3600", "cacheTtlInSeconds", 3600),
    ("caching/ttlInSeconds", "0", "cacheTtlInSeconds", 0),
    ("caching/dataEncrypted", "true", "cacheDataEncrypted", True),
    ("caching/requireAuthorizationForCacheControl", "false", "requireAuthorizationForCacheControl", False),
    ("caching/unauthorizedCacheControlHeaderStrategy", "FAIL_WITH_403", "unauthorizedCacheControlHeaderStrategy", "FAIL_WITH_403"),
    (
        "caching/unauthorizedCacheControlHeaderStrategy",
        "SUCCEED_WITHOUT_RESPONSE_HEADER",
        "unauthorizedCacheControlHeaderStrategy",
        "SUCCEED_WITHOUT_RESPONSE_HEADER",
    ),
]


def method_settings(api):
    for prefix, key in (("/*/*", "*/*"), ("/~1who/GET", "who/GET")):
        for suffix, value, member, expected in SETTINGS:
            s = update(api, ("replace", f"{prefix}/{suffix}", value))
            got = s["methodSettings"][key][member]
            check(got == expected, f"{prefix}/{suffix}={value}: {member} is {got!r}, not {expected!r}")
    s = ag.get_stage(restApiId=api, stageName="prod")
    check(set(s["methodSettings"]) == {"*/*", "who/GET"}, s["methodSettings"])
    for path, value in (
        ("/*/*/logging/loglevel", "DEBUG"),
        ("/*/*/caching/ttlInSeconds", "3601"),
        ("/*/*/caching/ttlInSeconds", "-1"),
        ("/*/*/caching/unauthorizedCacheControlHeaderStrategy", "SOMETIMES"),
        ("/*/*/throttling/rateLimit", "-5"),
        ("/*/*/metrics/enabled", "maybe"),
        ("/*/*/caching/nope", "1"),
        ("/~1who/FETCH/caching/enabled", "true"),
    ):
        refused("BadRequestException", update, api, ("replace", path, value))
    s = update(api, ("remove", "/~1who/GET"))
    check(set(s["methodSettings"]) == {"*/*"}, s["methodSettings"])
    log("every methodSettings path: ok")

    s = update(api, ("replace", "/cacheClusterEnabled", "true"), ("replace", "/cacheClusterSize", "6.1"))
    check(s["cacheClusterEnabled"] is True and s["cacheClusterSize"] == "6.1", s)
    refused("BadRequestException", update, api, ("replace", "/cacheClusterSize", "7"))
    s = update(api, ("replace", "/cacheClusterEnabled", "false"))
    check(s["cacheClusterEnabled"] is False, s)
    log("cacheClusterEnabled / cacheClusterSize: ok")


def main():
    log("building the API")
    api = build()
    try:
        canary(api)
        method_settings(api)
    finally:
        ag.delete_rest_api(restApiId=api)
    log("all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        log(f"FAILED: {e}")
        sys.exit(1)
