#!/usr/bin/env python3
"""The log store through boto3's `logs` client (CloudWatch Logs), against a control plane
to which tests/tests/logs_api.rs shipped a known burst of access lines from two nodes.

It finds every line of the burst, once: FilterLogEvents with a JSON pattern on the
(quoted) status through boto3's own paginator, GetLogEvents per stream following
nextForwardToken until it comes back unchanged, the calls `aws logs tail` makes
(FilterLogEvents from a start time, interleaved, paged), then AWS CLI v2's own
`aws logs tail` and `aws logs filter-log-events` unchanged, and the model's errors.

AWS CLI v2 is required (`tail` does not exist in v1): Debian's package `awscli` is v2
(`apt-get install awscli`, which .ci/run does); AWS_CLI_V2 names another binary.

Environment: LOGS_ENDPOINT, LOGS_ACCESS_KEY_ID / LOGS_SECRET_ACCESS_KEY, LOGS_REGION
(default us-east-1), LOGS_EXPECT (JSON: group, start ms, all request ids, the 5XX ones,
the stream names).
"""

import json
import os
import shutil
import subprocess
import sys

import boto3
from botocore.exceptions import ClientError
from datetime import datetime, timezone

ENDPOINT = os.environ["LOGS_ENDPOINT"]
KEY = os.environ["LOGS_ACCESS_KEY_ID"]
SECRET = os.environ["LOGS_SECRET_ACCESS_KEY"]
REGION = os.environ.get("LOGS_REGION", "us-east-1")
X = json.loads(os.environ["LOGS_EXPECT"])
GROUP = X["group"]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def log(msg):
    print(f"[logs.py] {msg}", flush=True)


logs = boto3.client(
    "logs",
    endpoint_url=ENDPOINT,
    region_name=REGION,
    aws_access_key_id=KEY,
    aws_secret_access_key=SECRET,
)


def rid(event):
    return json.loads(event["message"])["requestId"]


def once(ids, want, what):
    check(len(ids) == len(set(ids)), f"{what}: a line found twice: {sorted(ids)}")
    check(sorted(ids) == sorted(want), f"{what}: {sorted(ids)} != {sorted(want)}")
    log(f"{what}: {len(ids)} lines, each once")


def aws_cli_v2():
    """The AWS CLI v2 binary: $AWS_CLI_V2, else the first `aws` (PATH, then Debian's
    /usr/bin/aws, which a pyenv shim of v1 may shadow) whose version is 2.x."""
    candidates = [os.environ.get("AWS_CLI_V2"), shutil.which("aws"), "/usr/bin/aws"]
    for c in candidates:
        if not c or not os.path.exists(c):
            continue
        v = subprocess.run([c, "--version"], capture_output=True, text=True)
        if (v.stdout + v.stderr).startswith("aws-cli/2."):
            return c
    raise Failure("AWS CLI v2 not found (apt-get install awscli, or set AWS_CLI_V2)")


def filter_all(**kw):
    events = []
    for page in logs.get_paginator("filter_log_events").paginate(**kw):
        events.extend(page["events"])
    return events


def main():
    groups = logs.describe_log_groups()["logGroups"]
    check([g["logGroupName"] for g in groups] == [GROUP], f"groups: {groups}")
    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    check(sorted(s["logStreamName"] for s in streams) == sorted(X["streams"]), f"streams: {streams}")

    # FilterLogEvents, a JSON pattern on the quoted status, 10 per page.
    errors = filter_all(
        logGroupName=GROUP,
        filterPattern="{ $.status = 5* }",
        startTime=X["start"],
        PaginationConfig={"PageSize": 10},
    )
    once([rid(e) for e in errors], X["errors"], "FilterLogEvents { $.status = 5* }")
    numeric = filter_all(logGroupName=GROUP, filterPattern="{ $.status >= 500 }")
    once([rid(e) for e in numeric], X["errors"], "FilterLogEvents { $.status >= 500 }")

    # GetLogEvents per stream, forward until the token comes back unchanged.
    seen = []
    for stream in X["streams"]:
        token, pages = None, 0
        while True:
            kw = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True, "limit": 20}
            if token:
                kw["nextToken"] = token
            page = logs.get_log_events(**kw)
            pages += 1
            seen.extend(rid(e) for e in page["events"])
            if page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
            check(pages < 100, "GetLogEvents never ended")
    once(seen, X["all"], "GetLogEvents over both streams")

    # What `aws logs tail GROUP --since ...` calls: FilterLogEvents from a start time,
    # interleaved, through the paginator.
    tail = filter_all(logGroupName=GROUP, startTime=X["start"], interleaved=True)
    once([rid(e) for e in tail], X["all"], "aws logs tail's FilterLogEvents")
    times = [e["timestamp"] for e in tail]
    check(times == sorted(times), "tail's events are in time order")

    # AWS CLI v2 unchanged: `aws logs tail` prints every line of the burst once, and
    # `aws logs filter-log-events` pages through the 5XX ones.
    aws = aws_cli_v2()
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="")
    since = datetime.fromtimestamp(X["start"] / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = subprocess.run(
        [aws, "--endpoint-url", ENDPOINT, "logs", "tail", GROUP, "--since", since,
         "--format", "short"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    printed = [json.loads(line.split(" ", 1)[1])["requestId"] for line in out.splitlines() if line]
    once(printed, X["all"], "aws logs tail")
    out = subprocess.run(
        [aws, "--endpoint-url", ENDPOINT, "logs", "filter-log-events",
         "--log-group-name", GROUP, "--filter-pattern", "{ $.status = 5* }",
         "--page-size", "7", "--output", "json"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    once([rid(e) for e in json.loads(out)["events"]], X["errors"], "aws logs filter-log-events")

    # The model's errors.
    for kw, code in [
        ({"logGroupName": "no-such-group"}, "ResourceNotFoundException"),
        ({"logGroupName": GROUP, "filterPattern": "{ $.status = 5* "}, "InvalidParameterException"),
    ]:
        try:
            logs.filter_log_events(**kw)
            raise Failure(f"{kw} should fail")
        except ClientError as e:
            check(e.response["Error"]["Code"] == code, f"{kw}: {e.response['Error']}")
            log(f"{code}: {e.response['Error']['Message']}")
    try:
        logs.get_log_events(logGroupName=GROUP, logStreamName="no-such-node")
        raise Failure("an unknown stream should fail")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "ResourceNotFoundException", str(e.response))
    log("ok")


if __name__ == "__main__":
    try:
        main()
    except Failure as f:
        print(f"[logs.py] FAILED: {f}", file=sys.stderr)
        sys.exit(1)
