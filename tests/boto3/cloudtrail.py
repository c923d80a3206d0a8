#!/usr/bin/env python3
"""The audit log through boto3's `cloudtrail` client (LookupEvents), against a control
plane on which tests/tests/audit.rs made a known set of management calls.

Environment: CT_ENDPOINT, CT_ACCESS_KEY_ID / CT_SECRET_ACCESS_KEY, CT_REGION (default
us-east-1), CT_EXPECT (JSON from the Rust test: the ids it created, the API key's value,
the console user, the time before the first call).
"""

import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ["CT_ENDPOINT"]
KEY = os.environ["CT_ACCESS_KEY_ID"]
SECRET = os.environ["CT_SECRET_ACCESS_KEY"]
REGION = os.environ.get("CT_REGION", "us-east-1")
X = json.loads(os.environ["CT_EXPECT"])


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def log(msg):
    print(f"[cloudtrail.py] {msg}", flush=True)


ct = boto3.client(
    "cloudtrail",
    endpoint_url=ENDPOINT,
    region_name=REGION,
    aws_access_key_id=KEY,
    aws_secret_access_key=SECRET,
)


def lookup_all(**kw):
    """Every event of a lookup, through boto3's own paginator (NextToken)."""
    out = []
    for page in ct.get_paginator("lookup_events").paginate(**kw):
        out.extend(page["Events"])
    return out


def names(events):
    return sorted(e["EventName"] for e in events)


def expect_error(code, **kw):
    try:
        ct.lookup_events(**kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        check(got == code, f"{kw}: expected {code}, got {got}: {e}")
        check(e.response["Error"].get("Message"), f"{code} has a message")
        return
    raise Failure(f"{kw}: expected {code}, the call succeeded")


def main():
    api, resource, key_id, console_api = X["api"], X["resource"], X["key"], X["console_api"]
    admin = X["admin"]
    arn = lambda p: f"arn:aws:apigateway:{REGION}::{p}"

    events = lookup_all()
    log(f"{len(events)} events: {names(events)}")
    expected = sorted(
        [
            "ConsoleLogin",
            "CreateApiKey",
            "CreateResource",
            "CreateResource",
            "CreateRestApi",
            "CreateRestApi",
            "PutMethod",
        ]
    )
    check(names(events) == expected, f"each mutating call once: {names(events)} != {expected}")
    # Newest first.
    times = [e["EventTime"] for e in events]
    check(times == sorted(times, reverse=True), "newest first")
    # The API key's value is nowhere.
    whole = json.dumps(events, default=str)
    check(X["key_value"] not in whole, "the API key's value appears in an event")
    check(X["password"] not in whole, "the sign-in password appears in an event")

    by_name = {}
    for e in events:
        by_name.setdefault(e["EventName"], []).append(e)
    for e in events:
        rec = json.loads(e["CloudTrailEvent"])
        for member in [
            "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName",
            "awsRegion", "sourceIPAddress", "userAgent", "requestParameters",
            "responseElements", "requestID", "eventID", "readOnly", "eventType",
            "managementEvent", "recipientAccountId",
        ]:
            check(member in rec, f"{e['EventName']}: CloudTrailEvent lacks {member}: {rec}")
        check(rec["eventID"] == e["EventId"], "eventID")
        check(rec["eventName"] == e["EventName"], "eventName")
        check(rec["eventType"] == "AwsApiCall" and rec["managementEvent"] is True, "type")
        check(rec["readOnly"] is False and e["ReadOnly"] == "false", "not read-only")
        check(rec["sourceIPAddress"] == "127.0.0.1", f"source IP {rec['sourceIPAddress']}")
        check(rec["awsRegion"] == REGION, "region")
        check(len(rec["requestID"]) == 36, "request id")

    # The principals: the signed calls are the bootstrap key's (root), the console's the user's.
    signed = [e for e in events if e.get("AccessKeyId") == KEY]
    check(names(signed) == sorted(["CreateApiKey", "CreateResource", "CreateResource", "CreateRestApi", "PutMethod"]),
          f"signed calls: {names(signed)}")
    for e in signed:
        check(e["Username"] == "root", f"{e['EventName']}: Username {e['Username']}")
        rec = json.loads(e["CloudTrailEvent"])
        check(rec["userIdentity"]["type"] == "Root", "root identity")
        check(rec["userIdentity"]["accessKeyId"] == KEY, "identity's access key")
        check(rec["eventSource"] == "apigateway.amazonaws.com", "eventSource")
    console = [e for e in events if e["Username"] == admin]
    check(names(console) == ["ConsoleLogin", "CreateRestApi"], f"console calls: {names(console)}")
    for e in console:
        check("AccessKeyId" not in e, "a console call has no access key")
        rec = json.loads(e["CloudTrailEvent"])
        check(rec["userIdentity"]["userName"] == admin, "console user name")
        check(rec["userIdentity"]["type"] == "IAMUser", "console identity type")
    login = by_name["ConsoleLogin"][0]
    check(login["EventSource"] == "signin.amazonaws.com", "ConsoleLogin's source")
    check(json.loads(login["CloudTrailEvent"])["requestParameters"].get("password") == "HIDDEN_DUE_TO_SECURITY_REASONS",
          "the password is hidden")

    # The created API: its ARN (completed with the new id) and the response summary.
    creates = {json.loads(e["CloudTrailEvent"])["responseElements"]["id"]: e for e in by_name["CreateRestApi"]}
    check(set(creates) == {api, console_api}, f"created ids {set(creates)}")
    check(creates[api]["Resources"][0] == {"ResourceType": "AWS::ApiGateway::RestApi", "ResourceName": arn(f"/restapis/{api}")},
          f"CreateRestApi's resource {creates[api]['Resources']}")
    rec = json.loads(creates[api]["CloudTrailEvent"])
    check(rec["requestParameters"].get("name") == "audited", f"request parameters {rec['requestParameters']}")
    check("errorCode" not in rec, "a successful call has no errorCode")

    # The API key: value hidden, name kept.
    rec = json.loads(by_name["CreateApiKey"][0]["CloudTrailEvent"])
    check(rec["requestParameters"]["value"] == "HIDDEN_DUE_TO_SECURITY_REASONS", f"{rec['requestParameters']}")
    check(rec["requestParameters"]["name"] == "audited-key", "key name kept")
    check(rec["responseElements"] == {"id": key_id, "name": "audited-key"}, f"key summary {rec['responseElements']}")

    # The failed call: recorded with its error code and message.
    failed = [json.loads(e["CloudTrailEvent"]) for e in by_name["CreateResource"]]
    failed = [r for r in failed if "errorCode" in r]
    check(len(failed) == 1, f"one failed CreateResource: {failed}")
    check(failed[0]["errorCode"] == "NotFoundException", f"error code {failed[0]['errorCode']}")
    check(failed[0]["errorMessage"], "error message")
    check(failed[0]["responseElements"] is None, "a failed call has no responseElements")
    check(failed[0]["requestParameters"]["parent_id"] == "nosuchparent", f"{failed[0]['requestParameters']}")

    # Lookups by each attribute.
    def by(key, value):
        return lookup_all(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])

    check(names(by("EventName", "CreateRestApi")) == ["CreateRestApi", "CreateRestApi"], "EventName")
    check(names(by("Username", admin)) == ["ConsoleLogin", "CreateRestApi"], "Username")
    check(names(by("AccessKeyId", KEY)) == names(signed), "AccessKeyId")
    check(names(by("ResourceName", arn(f"/restapis/{api}"))) ==
          sorted(["CreateResource", "CreateResource", "CreateRestApi", "PutMethod"]),
          f"ResourceName of the API: {names(by('ResourceName', arn(f'/restapis/{api}')))}")
    check(names(by("ResourceName", arn(f"/restapis/{api}/resources/{resource}/methods/GET"))) == ["PutMethod"],
          "ResourceName of the method")
    check(names(by("ResourceName", arn(f"/apikeys/{key_id}"))) == ["CreateApiKey"], "ResourceName of the key")
    check(names(by("ResourceType", "AWS::ApiGateway::ApiKey")) == ["CreateApiKey"], "ResourceType")
    check(names(by("ResourceType", "AWS::ApiGateway::Resource")) == ["CreateResource", "CreateResource"],
          f"ResourceType Resource: {names(by('ResourceType', 'AWS::ApiGateway::Resource'))}")
    check(len(by("ReadOnly", "false")) == len(events), "ReadOnly false")
    check(by("ReadOnly", "true") == [], "ReadOnly true: reads are not kept")
    one = events[3]
    check([e["EventId"] for e in by("EventId", one["EventId"])] == [one["EventId"]], "EventId")
    check(names(by("EventSource", "apigateway.amazonaws.com")) == names(signed + [e for e in console if e["EventName"] != "ConsoleLogin"]),
          "EventSource")

    # Time ranges.
    oldest = min(e["EventTime"] for e in events)
    newest = max(e["EventTime"] for e in events)
    check(lookup_all(StartTime=newest + timedelta(seconds=1), EndTime=newest + timedelta(seconds=60)) == [], "nothing after the newest")
    check(lookup_all(EndTime=oldest - timedelta(seconds=1)) == [], "nothing before the oldest")
    window = lookup_all(StartTime=oldest, EndTime=newest + timedelta(seconds=1))
    check(len(window) == len(events), f"the window holds all: {len(window)}")

    # Paging by hand with NextToken.
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 2}
        if token:
            kw["NextToken"] = token
        page = ct.lookup_events(**kw)
        check(len(page["Events"]) <= 2, "page size")
        seen.extend(e["EventId"] for e in page["Events"])
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    check(pages == 4, f"7 events in pages of 2: {pages} pages")
    check(seen == [e["EventId"] for e in events], "paging gives every event once, in order")

    # The model's errors.
    two = [{"AttributeKey": "EventName", "AttributeValue": "A"}, {"AttributeKey": "Username", "AttributeValue": "B"}]
    expect_error("InvalidLookupAttributesException", LookupAttributes=two)
    expect_error("InvalidLookupAttributesException", LookupAttributes=[{"AttributeKey": "Colour", "AttributeValue": "x"}])
    expect_error("InvalidLookupAttributesException", LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}])
    expect_error("InvalidTimeRangeException", StartTime=newest, EndTime=oldest - timedelta(seconds=5))
    expect_error("InvalidMaxResultsException", MaxResults=51)
    expect_error("InvalidNextTokenException", NextToken="not-a-token")
    expect_error("InvalidEventCategoryException", EventCategory="data")
    check(ct.lookup_events(EventCategory="insight")["Events"] == [], "no Insights events")

    # No API deletes an event: the only CloudTrail operation served is LookupEvents.
    for call in [lambda: ct.delete_trail(Name="x"), lambda: ct.stop_logging(Name="x")]:
        try:
            call()
            raise Failure("a CloudTrail write succeeded")
        except ClientError as e:
            check(e.response["Error"]["Code"] == "UnsupportedOperationException", f"{e}")
    check(len(lookup_all()) == len(events), "still all there")

    # A wrong signing service is refused.
    other = boto3.client("cloudtrail", endpoint_url=ENDPOINT, region_name=REGION,
                         aws_access_key_id=KEY, aws_secret_access_key="wrong" + SECRET[5:])
    try:
        other.lookup_events()
        raise Failure("a bad signature was accepted")
    except ClientError as e:
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, f"{e}")
    log("all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Failure as f:
        print(f"FAILED: {f}", file=sys.stderr)
        sys.exit(1)
