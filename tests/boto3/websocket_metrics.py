#!/usr/bin/env python3
"""WebSocket API metrics through boto3's `cloudwatch` client (tests/tests/websocket_metrics.rs).

WSM_EXPECT (JSON) names what the nodes must have shipped:
  start      Unix seconds before the traffic began
  checks     [{"metric", "dims": {name: value}, "stat", "value"}]: GetMetricStatistics
             (namespace AWS/ApiGateway, 60 s periods from `start` to now) summed over the
             datapoints must equal `value` exactly; `null` means no datapoint at all
  listed     [[metric, dims]]: ListMetrics (filtered by the ApiId) must list these
  unlisted   [[metric, dims]]: and not these
The checks are polled (the nodes ship every second) until they all hold, for at most 90 s;
then one GetMetricData query must agree with GetMetricStatistics.

Environment: CW_ENDPOINT, CW_ACCESS_KEY_ID / CW_SECRET_ACCESS_KEY, CW_REGION, WSM_EXPECT.
"""

import json
import os

from metrics_checks import await_checks, expect_listed, expect_metric_data, listed, window_start

EXPECT = json.loads(os.environ["WSM_EXPECT"])
START = window_start(EXPECT)


def main():
    await_checks(EXPECT, START)
    have = listed("ApiId", EXPECT["checks"][0]["dims"]["ApiId"])
    expect_listed(have, EXPECT["listed"], EXPECT["unlisted"])
    # GetMetricData reads the same series.
    expect_metric_data(EXPECT["checks"][1], START)
    print(json.dumps({"ok": True, "listed": len(have)}))


if __name__ == "__main__":
    main()
