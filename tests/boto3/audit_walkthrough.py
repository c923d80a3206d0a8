#!/usr/bin/env python3
"""The boto3 walkthrough (walkthrough.py), every call of it watched through botocore's
`after-call` event, then CloudTrail's LookupEvents: each mutating call (the model's HTTP
method is not GET) appears exactly once, by its request id, with its operation name, the
walkthrough's access key as principal, and its error code when it failed; no read does.

Environment: walkthrough.py's (APIGW_ENDPOINT, APIGW_NODES, APIGW_ACCESS_KEY_ID,
APIGW_SECRET_ACCESS_KEY).
"""

import json
import os
import runpy
import sys

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
calls = []


def after_call(http_response=None, parsed=None, model=None, **_):
    if model is None or model.service_model.service_name != "apigateway":
        return
    calls.append(
        {
            "op": model.name,
            "method": model.http.get("method", "GET"),
            "status": getattr(http_response, "status_code", 0),
            "request_id": (parsed or {}).get("ResponseMetadata", {}).get("RequestId", ""),
        }
    )


_client = boto3.client


def client(*args, **kwargs):
    c = _client(*args, **kwargs)
    c.meta.events.register("after-call", after_call)
    return c


boto3.client = client

sys.argv = [os.path.join(HERE, "walkthrough.py")]
try:
    runpy.run_path(os.path.join(HERE, "walkthrough.py"), run_name="__main__")
except SystemExit as e:
    if e.code not in (0, None):
        print(f"FAILED: the walkthrough itself failed ({e.code})", file=sys.stderr)
        sys.exit(1)

KEY = os.environ["APIGW_ACCESS_KEY_ID"]
ct = _client(
    "cloudtrail",
    endpoint_url=os.environ["APIGW_ENDPOINT"],
    region_name="us-east-1",
    aws_access_key_id=KEY,
    aws_secret_access_key=os.environ["APIGW_SECRET_ACCESS_KEY"],
)
events = []
for page in ct.get_paginator("lookup_events").paginate():
    events.extend(page["Events"])
by_request = {}
for e in events:
    rec = json.loads(e["CloudTrailEvent"])
    by_request.setdefault(rec["requestID"], []).append((e, rec))

mutating = [c for c in calls if c["method"] != "GET"]
reads = [c for c in calls if c["method"] == "GET"]
problems = []
for c in mutating:
    found = by_request.get(c["request_id"], [])
    if len(found) != 1:
        problems.append(f"{c['op']} ({c['request_id']}): {len(found)} events")
        continue
    e, rec = found[0]
    if e["EventName"] != c["op"]:
        problems.append(f"{c['op']}: recorded as {e['EventName']}")
    if e.get("AccessKeyId") != KEY or rec["userIdentity"].get("accessKeyId") != KEY:
        problems.append(f"{c['op']}: principal {e.get('AccessKeyId')} {rec['userIdentity']}")
    failed = c["status"] >= 300
    if failed != ("errorCode" in rec):
        problems.append(f"{c['op']} answered {c['status']}, event errorCode {rec.get('errorCode')}")
for c in reads:
    if c["request_id"] in by_request:
        problems.append(f"the read {c['op']} was recorded")
failed = sum(1 for c in mutating if c["status"] >= 300)
print(
    f"[audit_walkthrough.py] {len(calls)} boto3 calls: {len(mutating)} mutating ({failed} failed), "
    f"{len(reads)} reads; {len(events)} events; operations: {sorted(set(c['op'] for c in mutating))}",
    flush=True,
)
if len(events) != len(mutating):
    problems.append(f"{len(events)} events for {len(mutating)} mutating calls")
if problems:
    print("FAILED:\n  " + "\n  ".join(problems[:40]), file=sys.stderr)
    sys.exit(1)
print("[audit_walkthrough.py] every mutating call once, with its principal and result", flush=True)
