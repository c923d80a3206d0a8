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

from metrics_checks import (
    NAMESPACE, cw, dims, await_checks, expect_listed, expect_metric_data, listed, window_start,
)

EXPECT = json.loads(os.environ["HAM_EXPECT"])
START = window_start(EXPECT)


def main():
    await_checks(EXPECT, START)
    first = EXPECT["checks"][0]
    have = listed("ApiId", first["dims"]["ApiId"])
    expect_listed(have, EXPECT["listed"], EXPECT["unlisted"])
    by_name = listed("ApiName", EXPECT["unlisted_api_name"])
    if by_name:
        sys.exit(f"FAILED: ListMetrics lists REST-style sets for the HTTP API: {sorted(by_name)}")
    # GetMetricData reads the same series.
    for check in [first, *EXPECT.get("metric_data", [])]:
        expect_metric_data(check, START)
    # An alarm on the route's metric reaches ALARM once its period is complete.
    alarm = EXPECT["alarm"]
    cw.put_metric_alarm(
        AlarmName=alarm["name"],
        Namespace=NAMESPACE,
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
