"""What the metrics scripts (http_api_metrics.py, websocket_metrics.py) share: boto3's
`cloudwatch` client on the control plane, and the checks of what the nodes shipped.

An expectation is a JSON object from the test: `start` (Unix seconds before the traffic
began) and `checks`, `[{"metric", "dims": {name: value}, "stat", "value"}]`, each a sum over
60 s datapoints from `start` to now that must equal `value` exactly (`null`: no datapoint).

Environment: CW_ENDPOINT, CW_ACCESS_KEY_ID / CW_SECRET_ACCESS_KEY, CW_REGION.
"""

import os
import sys
import time
from datetime import datetime, timezone

import boto3

NAMESPACE = "AWS/ApiGateway"

cw = boto3.client(
    "cloudwatch",
    endpoint_url=os.environ["CW_ENDPOINT"],
    aws_access_key_id=os.environ["CW_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["CW_SECRET_ACCESS_KEY"],
    region_name=os.environ.get("CW_REGION", "us-east-1"),
)


def window_start(expect):
    """The minute the traffic began in."""
    return datetime.fromtimestamp(expect["start"] - expect["start"] % 60, tz=timezone.utc)


def window_end():
    return datetime.fromtimestamp(time.time() + 120, tz=timezone.utc)


def dims(d):
    return [{"Name": k, "Value": v} for k, v in d.items()]


def statistics_sum(check, start):
    """GetMetricStatistics' datapoints summed, or None when there is none."""
    points = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=check["metric"],
        Dimensions=dims(check["dims"]),
        StartTime=start,
        EndTime=window_end(),
        Period=60,
        Statistics=[check["stat"]],
    )["Datapoints"]
    if not points:
        return None
    return sum(p[check["stat"]] for p in points)


def metric_data_values(check, start):
    """GetMetricData's values for the check's series."""
    return cw.get_metric_data(
        MetricDataQueries=[{
            "Id": "m1",
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": check["metric"],
                           "Dimensions": dims(check["dims"])},
                "Period": 60,
                "Stat": check["stat"],
            },
        }],
        StartTime=start,
        EndTime=window_end(),
    )["MetricDataResults"][0]["Values"]


def expect_metric_data(check, start):
    values = metric_data_values(check, start)
    if sum(values) != check["value"]:
        sys.exit(f"FAILED: GetMetricData {check['metric']} {check['dims']}: "
                 f"{values} != {check['value']}")


def await_checks(expect, start, seconds=90):
    """Polls every check (the nodes ship every second) until all hold; exits on timeout."""
    deadline = time.monotonic() + seconds
    while True:
        got = [(c, statistics_sum(c, start)) for c in expect["checks"]]
        wrong = [(c, v) for c, v in got if v != c["value"]]
        if not wrong:
            return
        if time.monotonic() > deadline:
            for c, v in wrong:
                print(f"FAILED: {c['metric']} {c['dims']} {c['stat']}: {v} != {c['value']}",
                      file=sys.stderr)
            sys.exit(1)
        time.sleep(0.5)


def listed(name, value):
    """Every (metric, sorted dimensions) ListMetrics gives for one dimension's value."""
    out, token = set(), None
    while True:
        kwargs = {"Namespace": NAMESPACE, "Dimensions": [{"Name": name, "Value": value}]}
        if token:
            kwargs["NextToken"] = token
        page = cw.list_metrics(**kwargs)
        for m in page["Metrics"]:
            d = tuple(sorted((x["Name"], x["Value"]) for x in m["Dimensions"]))
            out.add((m["MetricName"], d))
        token = page.get("NextToken")
        if not token:
            return out


def expect_listed(have, listed_pairs, unlisted_pairs):
    """`have` (from `listed`) holds every `[metric, dims]` of the first list, none of the second."""
    key = lambda metric, d: (metric, tuple(sorted(d.items())))  # noqa: E731
    for metric, d in listed_pairs:
        if key(metric, d) not in have:
            sys.exit(f"FAILED: ListMetrics lacks {metric} {d}: {sorted(have)}")
    for metric, d in unlisted_pairs:
        if key(metric, d) in have:
            sys.exit(f"FAILED: ListMetrics lists {metric} {d}")
