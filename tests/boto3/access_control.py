#!/usr/bin/env python3
"""Access control seen from boto3: with a read-only user's access key (tests/tests/
access_control.rs made it), reads of apigateway, logs, cloudtrail and cloudwatch work and
every write is refused with AccessDeniedException, AWS's message naming the user.

Environment: AC_ENDPOINT, AC_ACCESS_KEY_ID, AC_SECRET_ACCESS_KEY, AC_REGION (default
us-east-1).
"""

import os
import sys

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AC_ENDPOINT"]
REGION = os.environ.get("AC_REGION", "us-east-1")


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=os.environ["AC_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AC_SECRET_ACCESS_KEY"],
    )


def refused(what, call):
    try:
        call()
    except ClientError as e:
        err = e.response["Error"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        if status != 403 or err.get("Code") not in ("AccessDeniedException", "AccessDenied"):
            raise SystemExit(f"{what}: expected 403 AccessDeniedException, got {status} {err}")
        if "user/" not in err.get("Message", "") or "is not authorized to perform" not in err.get("Message", ""):
            raise SystemExit(f"{what}: unexpected message {err}")
        print(f"[access_control.py] {what}: refused as expected", flush=True)
        return
    raise SystemExit(f"{what}: expected a refusal, the call succeeded")


def main():
    apigw = client("apigateway")
    logs = client("logs")
    trail = client("cloudtrail")
    cw = client("cloudwatch")

    before = apigw.get_rest_apis()["items"]
    logs.describe_log_groups()
    trail.lookup_events(MaxResults=5)
    cw.describe_alarms()

    refused("CreateRestApi", lambda: apigw.create_rest_api(name="nope"))
    refused("CreateApiKey", lambda: apigw.create_api_key(name="nope"))
    refused("PutMetricAlarm", lambda: cw.put_metric_alarm(
        AlarmName="nope", MetricName="Count", Namespace="AWS/ApiGateway", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold"))
    if before:
        refused("DeleteRestApi", lambda: apigw.delete_rest_api(restApiId=before[0]["id"]))
    after = apigw.get_rest_apis()["items"]
    if after != before:
        raise SystemExit(f"the REST APIs changed: {before} -> {after}")
    if cw.describe_alarms()["MetricAlarms"]:
        raise SystemExit("an alarm was created")
    print("[access_control.py] ok", flush=True)


if __name__ == "__main__":
    sys.exit(main())
