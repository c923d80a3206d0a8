#!/usr/bin/env python3
"""HTTP API metrics through boto3's `cloudwatch` client (tests/tests/metrics_http_api.rs).

HAM_EXPECT (JSON) names what the nodes must have shipped:
  start      Unix seconds before the traffic began
  checks     [{"metric", "dims": {name: value}, "stat", "value"}]: GetMetricStatistics
             (namespace AWS/ApiGateway, 60 s periods from `start` to now) summed over the
             datapoints must equal `value` exactly; `null` means no datapoint at all
  listed     [[metric, dims]]: ListMetrics (filtered by the ApiId) must list these
  unlisted   [[metric, dims]]: and not these
  unlisted_api_name  ListMetrics filtered by this ApiName must list nothing
  metric_data  [check]: GetMetricData's values summed must equal `value` too
  alarm      {"name", "metric", "dims", "threshold"}: a Sum >= threshold alarm over 60 s
             that must reach ALARM (polled for at most 150 s), then is deleted
The checks are polled (the nodes ship every second) until they all hold, for at most 90 s;
then one GetMetricData query must agree with GetMetricStatistics.

Environment: CW_ENDPOINT, CW_ACCESS_KEY_ID / CW_SECRET_ACCESS_KEY, CW_REGION, HAM_EXPECT.
"""

import json
import os
import sys
import time
from datetime import datetime, timezone

import boto3

cw = boto3.client(
    "cloudwatch",
    endpoint_url=os.environ["CW_ENDPOINT"],
    aws_access_key_id=os.environ["CW_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["CW_SECRET_ACCESS_KEY"],
    region_name=os.environ.get("CW_REGION", "us-east-1"),
)
EXPECT = json.loads(os.environ["HAM_EXPECT"])
START = datetime.fromtimestamp(EXPECT["start"] - EXPECT["start"] % 60, tz=timezone.utc)


def dims(d):
    return [{"Name": k, "Value": v} for k, v in d.items()]


def end():
    return datetime.fromtimestamp(time.time() + 120, tz=timezone.utc)


def observed(check):
    points = cw.get_metric_statistics(
        Namespace="AWS/ApiGateway",
        MetricName=check["metric"],
        Dimensions=dims(check["dims"]),
        StartTime=START,
        EndTime=end(),
        Period=60,
        Statistics=[check["stat"]],
    )["Datapoints"]
    if not points:
        return None
    return sum(p[check["stat"]] for p in points)


def listed(name, value):
    out, token = set(), None
    while True:
        kwargs = {"Namespace": "AWS/ApiGateway", "Dimensions": [{"Name": name, "Value": value}]}
        if token:
            kwargs["NextToken"] = token
        page = cw.list_metrics(**kwargs)
        for m in page["Metrics"]:
            d = tuple(sorted((x["Name"], x["Value"]) for x in m["Dimensions"]))
            out.add((m["MetricName"], d))
        token = page.get("NextToken")
        if not token:
            return out


def key(metric, d):
    return (metric, tuple(sorted(d.items())))


def main():
    deadline = time.monotonic() + 90
    while True:
        got = [(c, observed(c)) for c in EXPECT["checks"]]
        wrong = [(c, v) for c, v in got if v != c["value"]]
        if not wrong:
            break
        if time.monotonic() > deadline:
            for c, v in wrong:
                print(f"FAILED: {c['metric']} {c['dims']} {c['stat']}: {v} != {c['value']}",
                      file=sys.stderr)
            sys.exit(1)
        time.sleep(0.5)
    first = EXPECT["checks"][0]
    api_id = first["dims"]["ApiId"]
    have = listed("ApiId", api_id)
    for metric, d in EXPECT["listed"]:
        if key(metric, d) not in have:
            sys.exit(f"FAILED: ListMetrics lacks {metric} {d}: {sorted(have)}")
    for metric, d in EXPECT["unlisted"]:
        if key(metric, d) in have:
            sys.exit(f"FAILED: ListMetrics lists {metric} {d}")
    by_name = listed("ApiName", EXPECT["unlisted_api_name"])
    if by_name:
        sys.exit(f"FAILED: ListMetrics lists REST-style sets for the HTTP API: {sorted(by_name)}")
    # GetMetricData reads the same series.
    data = cw.get_metric_data(
        MetricDataQueries=[{
            "Id": "m1",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": first["metric"],
                           "Dimensions": dims(first["dims"])},
                "Period": 60,
                "Stat": first["stat"],
            },
        }],
        StartTime=START,
        EndTime=end(),
    )["MetricDataResults"][0]
    if sum(data["Values"]) != first["value"]:
        sys.exit(f"FAILED: GetMetricData {first['metric']}: {data['Values']} != {first['value']}")
    for check in EXPECT.get("metric_data", []):
        data = cw.get_metric_data(
            MetricDataQueries=[{
                "Id": "d1",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": check["metric"],
                               "Dimensions": dims(check["dims"])},
                    "Period": 60,
                    "Stat": check["stat"],
                },
            }],
            StartTime=START,
            EndTime=end(),
        )["MetricDataResults"][0]
        if sum(data["Values"]) != check["value"]:
            sys.exit(f"FAILED: GetMetricData {check['metric']} {check['dims']}: "
                     f"{data['Values']} != {check['value']}")
    # An alarm on the route's metric reaches ALARM once its period is complete.
    alarm = EXPECT["alarm"]
    cw.put_metric_alarm(
        AlarmName=alarm["name"],
        Namespace="AWS/ApiGateway",
        MetricName=alarm["metric"],
        Dimensions=dims(alarm["dims"]),
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=1,
        Threshold=alarm["threshold"],
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    deadline = time.monotonic() + 150
    while True:
        state = cw.describe_alarms(AlarmNames=[alarm["name"]])["MetricAlarms"][0]
        if state["StateValue"] == "ALARM":
            break
        if time.monotonic() > deadline:
            sys.exit(f"FAILED: alarm {alarm['name']} is {state['StateValue']}: {state.get('StateReason')}")
        time.sleep(1)
    cw.delete_alarms(AlarmNames=[alarm["name"]])
    print(json.dumps({"ok": True, "listed": len(have)}))


if __name__ == "__main__":
    main()
