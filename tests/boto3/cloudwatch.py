#!/usr/bin/env python3
"""The CloudWatch API of the control plane through boto3's `cloudwatch` client (and raw
query-protocol requests), against a control plane the caller started.

  cloudwatch.py reads   metric reads over seeded rows (CW_SEED: the rows the caller put in
                        metric_minutes, JSON), ListMetrics, the errors and their codes
                        (with x-amzn-query-error), the query protocol (signed form POSTs,
                        XML answers), alarm CRUD, SetAlarmState
  cloudwatch.py alarm   the seeds' alarm (5XXError, Average >= 0.05, one 60 s period): the
                        API's 5XX rate goes up (rows written with psql), the alarm goes to
                        ALARM and a webhook receives the SNS-style notification (the first
                        attempt answered 500: the retry delivers it), the rate goes down, OK
                        and its notification; an SNS topic mapped by APIGW_ALARM_SNS_WEBHOOKS
                        is delivered, an unmapped one recorded as failed; the history shows it

Environment: CW_ENDPOINT (control plane URL), CW_ACCESS_KEY_ID / CW_SECRET_ACCESS_KEY,
CW_REGION (default us-east-1), CW_DATABASE_URL (alarm: psql writes the rows),
CW_WEBHOOK_PORT (alarm: where the test's webhook listens), CW_SEED (reads).
"""

import json
import math
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ENDPOINT = os.environ["CW_ENDPOINT"]
KEY = os.environ["CW_ACCESS_KEY_ID"]
SECRET = os.environ["CW_SECRET_ACCESS_KEY"]
REGION = os.environ.get("CW_REGION", "us-east-1")
NS = "http://monitoring.amazonaws.com/doc/2010-08-01/"

_started = time.monotonic()


def log(msg):
    print(f"[cloudwatch.py {time.monotonic() - _started:7.3f}s] {msg}", flush=True)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    log(f"ok: {what}")


def close(a, b, rel=0.011):
    return abs(a - b) <= rel * abs(b) + 1e-9


def cw():
    return boto3.client(
        "cloudwatch", endpoint_url=ENDPOINT, region_name=REGION,
        aws_access_key_id=KEY, aws_secret_access_key=SECRET)


def expect_error(code, fn, status=400):
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        headers = e.response["ResponseMetadata"]["HTTPHeaders"]
        http_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(got == code, f"error code {got} == {code} ({e.response['Error']['Message']})")
        check(http_status == status, f"HTTP status {http_status} == {status}")
        check(headers.get("x-amzn-query-error", "").startswith(code + ";"),
              f"x-amzn-query-error {headers.get('x-amzn-query-error')!r} names {code}")
        check(e.response["Error"]["Message"], "the error has a message")
        return e
    raise Failure(f"expected {code}, the call succeeded")


def query(params, service="monitoring"):
    """A signed query-protocol POST; answers (status, XML root)."""
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params})
    req = AWSRequest(method="POST", url=ENDPOINT + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(KEY, SECRET), service, REGION).add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=body.encode(), method="POST",
                               headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, ET.fromstring(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


def q(name):
    return f"{{{NS}}}{name}"


def pct(values, p):
    s = sorted(values)
    return s[int(math.floor(p / 100 * (len(s) - 1)))]


# --- reads -------------------------------------------------------------------------------

def reads():
    seed = json.loads(os.environ["CW_SEED"])
    base = seed["base"]
    api, stage = seed["api_name"], seed["stage"]
    rows = seed["rows"]
    c = cw()
    t0 = datetime.fromtimestamp(base, timezone.utc)
    t_end = datetime.fromtimestamp(base + 180, timezone.utc)
    stage_dims = [{"Name": "ApiName", "Value": api}, {"Name": "Stage", "Value": stage}]

    def rows_at(minute, detailed=None):
        return [r for r in rows if r["minute"] == minute
                and (detailed is None or (r["resource"], r["method"]) == detailed)]

    def total(minute, field, detailed=None):
        return sum(r[field] for r in rows_at(minute, detailed))

    # Count: Sum = SampleCount = requests, per minute, stage rows and detailed rows together.
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="Count",
                                Dimensions=stage_dims, StartTime=t0, EndTime=t_end,
                                Period=60, Statistics=["Sum", "SampleCount"])
    dps = sorted(r["Datapoints"], key=lambda d: d["Timestamp"])
    check(r["Label"] == "Count", "Label is the metric name")
    check(len(dps) == 2, f"two minutes with data: {dps}")
    check(dps[0]["Timestamp"] == t0, "first datapoint at the first seeded minute")
    check(dps[0]["Sum"] == total(base, "count") and dps[0]["SampleCount"] == total(base, "count"),
          f"Count Sum = SampleCount = {total(base, 'count')} requests")
    check(dps[1]["Sum"] == total(base + 60, "count"), "second minute's Count")
    check(dps[0]["Unit"] == "Count", "Count's unit is Count")

    # 4XXError: Average = error rate, Sum = errors, SampleCount = requests.
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="4XXError",
                                Dimensions=stage_dims, StartTime=t0, EndTime=t_end, Period=60,
                                Statistics=["Average", "Sum", "SampleCount", "Minimum", "Maximum"])
    dp = sorted(r["Datapoints"], key=lambda d: d["Timestamp"])[0]
    n, e = total(base, "count"), total(base, "error_4xx")
    check(dp["Sum"] == e and dp["SampleCount"] == n, f"4XXError Sum {e} of SampleCount {n}")
    check(close(dp["Average"], e / n), f"4XXError Average {dp['Average']} = rate {e / n}")
    check(dp["Minimum"] == 0 and dp["Maximum"] == 1, "4XXError samples are 0 or 1")

    # 5XXError over a 120 s period: both minutes in one datapoint.
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="5XXError",
                                Dimensions=stage_dims, StartTime=t0, EndTime=t_end, Period=120,
                                Statistics=["Sum", "Average"])
    dps = sorted(r["Datapoints"], key=lambda d: d["Timestamp"])
    n = total(base, "count") + total(base + 60, "count")
    e = total(base, "error_5xx") + total(base + 60, "error_5xx")
    check(dps[0]["Timestamp"] == t0 and dps[0]["Sum"] == e, f"5XXError Sum {e} over 120 s")
    check(close(dps[0]["Average"], e / n), "5XXError Average is the rate over both minutes")

    # Latency: statistics and percentiles of the merged sketches, within 1 %.
    lat = [v for row in rows_at(base) for v in row["latencies"]]
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="Latency",
                                Dimensions=stage_dims, StartTime=t0, EndTime=t_end, Period=60,
                                Statistics=["Average", "Minimum", "Maximum", "SampleCount"],
                                ExtendedStatistics=["p50", "p90", "p99", "p99.9"])
    dp = sorted(r["Datapoints"], key=lambda d: d["Timestamp"])[0]
    check(dp["Unit"] == "Milliseconds", "Latency's unit is Milliseconds")
    check(dp["SampleCount"] == len(lat), f"Latency SampleCount {len(lat)}")
    check(close(dp["Average"], sum(lat) / len(lat), 1e-9), "Latency Average exact")
    check(dp["Minimum"] == min(lat) and dp["Maximum"] == max(lat), "Latency Min/Max exact")
    for p in ("p50", "p90", "p99", "p99.9"):
        want = pct(lat, float(p[1:]))
        got = dp["ExtendedStatistics"][p]
        check(close(got, want), f"Latency {p} {got} within 1 % of {want}")

    # The per-method dimension set reads that method's rows only; {ApiName} all stages.
    detailed = (seed["detailed"]["resource"], seed["detailed"]["method"])
    method_dims = stage_dims + [{"Name": "Resource", "Value": detailed[0]},
                                {"Name": "Method", "Value": detailed[1]}]
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="Count",
                                Dimensions=method_dims, StartTime=t0, EndTime=t_end, Period=60,
                                Statistics=["Sum"])
    check([d["Sum"] for d in r["Datapoints"]] == [total(base, "count", detailed)],
          "{ApiName, Stage, Resource, Method} reads the method's rows")
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="Count",
                                Dimensions=[{"Name": "ApiName", "Value": api}], StartTime=t0,
                                EndTime=t_end, Period=180, Statistics=["Sum"])
    check([d["Sum"] for d in r["Datapoints"]] == [sum(x["count"] for x in rows)],
          "{ApiName} adds every stage and method")
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="Count",
                                Dimensions=[{"Name": "Stage", "Value": stage}], StartTime=t0,
                                EndTime=t_end, Period=60, Statistics=["Sum"])
    check(r["Datapoints"] == [], "a dimension set API Gateway does not publish has no data")
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="Count",
                                Dimensions=stage_dims, StartTime=t0, EndTime=t_end, Period=60,
                                Statistics=["Sum"], Unit="Seconds")
    check(r["Datapoints"] == [], "a unit other than the metric's matches nothing")

    # GetMetricData: MetricStat queries, newest first by default.
    r = c.get_metric_data(StartTime=t0, EndTime=t_end, MetricDataQueries=[
        {"Id": "requests", "MetricStat": {"Metric": {"Namespace": "AWS/ApiGateway",
         "MetricName": "Count", "Dimensions": stage_dims}, "Period": 60, "Stat": "Sum"}},
        {"Id": "errors", "Label": "5XX rate", "MetricStat": {"Metric": {
         "Namespace": "AWS/ApiGateway", "MetricName": "5XXError", "Dimensions": stage_dims},
         "Period": 60, "Stat": "Average"}},
        {"Id": "p90", "MetricStat": {"Metric": {"Namespace": "AWS/ApiGateway",
         "MetricName": "Latency", "Dimensions": stage_dims}, "Period": 60, "Stat": "p90"}},
        {"Id": "hidden", "ReturnData": False, "MetricStat": {"Metric": {
         "Namespace": "AWS/ApiGateway", "MetricName": "Count", "Dimensions": stage_dims},
         "Period": 60, "Stat": "Sum"}},
    ])
    res = {x["Id"]: x for x in r["MetricDataResults"]}
    check(set(res) == {"requests", "errors", "p90"}, "ReturnData=false is left out")
    t1 = datetime.fromtimestamp(base + 60, timezone.utc)
    check(res["requests"]["Timestamps"] == [t1, t0], "TimestampDescending by default")
    check(res["requests"]["Values"] == [total(base + 60, "count"), total(base, "count")],
          "GetMetricData Count Sum per minute")
    check(res["errors"]["Label"] == "5XX rate" and res["requests"]["Label"] == "Count",
          "labels: given, else the metric name")
    check(close(res["errors"]["Values"][1], total(base, "error_5xx") / total(base, "count")),
          "GetMetricData 5XXError Average")
    check(close(res["p90"]["Values"][1], pct(lat, 90)), "GetMetricData Latency p90")
    check(all(x["StatusCode"] == "Complete" for x in res.values()), "StatusCode Complete")
    r = c.get_metric_data(StartTime=t0, EndTime=t_end, ScanBy="TimestampAscending",
                          MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {
                              "Namespace": "AWS/ApiGateway", "MetricName": "Count",
                              "Dimensions": stage_dims}, "Period": 60, "Stat": "Sum"}}])
    check(r["MetricDataResults"][0]["Timestamps"] == [t0, t1], "TimestampAscending")

    # ListMetrics.
    r = c.list_metrics(Namespace="AWS/ApiGateway")
    listed = {(m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
              for m in r["Metrics"]}
    for name in ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"):
        check((name, (("ApiName", api), ("Stage", stage))) in listed, f"ListMetrics has {name} by stage")
        check((name, (("ApiName", api),)) in listed, f"ListMetrics has {name} by API")
    check(("Count", (("ApiName", api), ("Stage", stage), ("Resource", detailed[0]),
                     ("Method", detailed[1]))) in listed, "ListMetrics has the detailed method")
    check(not any(m[0] == "CacheHitCount" for m in listed), "no cache metrics without a cache")
    r = c.list_metrics(MetricName="Latency", Dimensions=[{"Name": "Resource"}])
    check(len(r["Metrics"]) == 1 and r["Metrics"][0]["MetricName"] == "Latency",
          "ListMetrics filters by metric name and dimension name")
    check(c.list_metrics(Namespace="AWS/Lambda")["Metrics"] == [], "another namespace is empty")
    paginator = c.get_paginator("list_metrics")
    check(sum(len(p["Metrics"]) for p in paginator.paginate()) == len(listed), "the paginator")

    # Errors, with their codes and x-amzn-query-error.
    gms = dict(Namespace="AWS/ApiGateway", MetricName="Count", Dimensions=stage_dims,
               StartTime=t0, EndTime=t_end, Statistics=["Sum"])
    expect_error("InvalidParameterValue", lambda: c.get_metric_statistics(**gms, Period=30))
    expect_error("InvalidParameterValue", lambda: c.get_metric_statistics(**gms, Period=90))
    expect_error("InvalidParameterCombination", lambda: c.get_metric_statistics(
        **{k: v for k, v in gms.items() if k != "Statistics"}, Period=60))
    expect_error("InvalidParameterValue", lambda: c.get_metric_statistics(
        **{**gms, "Statistics": ["Median"]}, Period=60))
    expect_error("InvalidParameterValue", lambda: c.get_metric_statistics(
        **{k: v for k, v in gms.items() if k != "Statistics"}, ExtendedStatistics=["p101"],
        Period=60))
    expect_error("InvalidParameterValue", lambda: c.get_metric_statistics(
        **{**gms, "StartTime": t_end, "EndTime": t0}, Period=60))
    status, root = query({"Action": "GetMetricStatistics", "Namespace": "AWS/ApiGateway",
                          "MetricName": "Count", "StartTime": "-1e300", "EndTime": "1e300",
                          "Period": "9223372036854775807", "Statistics.member.1": "Sum"})
    check(status == 400 and root.find(f"{q('Error')}/{q('Code')}").text == "InvalidParameterValue",
          "absurd times and periods are InvalidParameterValue, not a crash")
    status, root = query({"Action": "GetMetricStatistics", "Namespace": "AWS/ApiGateway",
                          "MetricName": "Count", "StartTime": t0.isoformat(),
                          "EndTime": t_end.isoformat(), "Period": "9223372036854775800",
                          "Statistics.member.1": "Sum"})
    check(status == 200, "a period longer than the range is one datapoint at most")
    e = expect_error("InvalidParameterCombination", lambda: c.get_metric_statistics(
        **{**gms, "StartTime": datetime.fromtimestamp(base - 1441 * 60, timezone.utc),
           "EndTime": t0}, Period=60))
    check("1,440" in e.response["Error"]["Message"] or "1440" in e.response["Error"]["Message"],
          "the datapoint limit is named")
    expect_error("InvalidParameterValue", lambda: c.get_metric_data(
        StartTime=t0, EndTime=t_end, MetricDataQueries=[{"Id": "e1", "Expression": "m1 * 2"}]))
    expect_error("InvalidParameterValue", lambda: c.get_metric_data(
        StartTime=t0, EndTime=t_end, MetricDataQueries=[{"Id": "Upper", "MetricStat": {
            "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "Count"},
            "Period": 60, "Stat": "Sum"}}]))
    expect_error("ResourceNotFound", lambda: c.delete_alarms(AlarmNames=["no-such-alarm"]), 404)
    expect_error("ResourceNotFound", lambda: c.set_alarm_state(
        AlarmName="no-such-alarm", StateValue="OK", StateReason="test"), 404)
    expect_error("InvalidAction", lambda: c.put_metric_data(
        Namespace="Custom", MetricData=[{"MetricName": "x", "Value": 1}]))

    # The query protocol: signed form POSTs, XML in the model's namespace.
    status, root = query({"Action": "GetMetricStatistics", "Namespace": "AWS/ApiGateway",
                          "MetricName": "Count", "Dimensions.member.1.Name": "ApiName",
                          "Dimensions.member.1.Value": api, "Dimensions.member.2.Name": "Stage",
                          "Dimensions.member.2.Value": stage, "StartTime": t0.isoformat(),
                          "EndTime": t_end.isoformat(), "Period": "60",
                          "Statistics.member.1": "Sum", "ExtendedStatistics.member.1": "p99"})
    check(status == 200 and root.tag == q("GetMetricStatisticsResponse"),
          f"query GetMetricStatistics answers {status} {root.tag}")
    members = root.findall(f"{q('GetMetricStatisticsResult')}/{q('Datapoints')}/{q('member')}")
    sums = sorted(float(m.find(q("Sum")).text) for m in members)
    check(sums == sorted([float(total(base, "count")), float(total(base + 60, "count"))]),
          f"query datapoints' Sums {sums}")
    check(members[0].find(f"{q('ExtendedStatistics')}/{q('entry')}/{q('key')}").text == "p99",
          "ExtendedStatistics as <entry><key>")
    check(root.find(f"{q('ResponseMetadata')}/{q('RequestId')}").text, "query RequestId")
    status, root = query({"Action": "GetMetricStatistics", "Namespace": "AWS/ApiGateway",
                          "StartTime": t0.isoformat(), "EndTime": t_end.isoformat(),
                          "Period": "60", "Statistics.member.1": "Sum"})
    check(status == 400 and root.tag == q("ErrorResponse")
          and root.find(f"{q('Error')}/{q('Code')}").text == "MissingParameter"
          and root.find(f"{q('Error')}/{q('Type')}").text == "Sender",
          "query protocol: <ErrorResponse> MissingParameter for a missing MetricName")
    status, root = query({"Action": "DescribeAlarms"}, service="apigateway")
    check(status == 403 and root.find(f"{q('Error')}/{q('Code')}").text == "SignatureDoesNotMatch",
          "a request signed for apigateway is refused")
    status, root = query({"Action": "ListDashboards"})
    check(status == 400 and root.find(f"{q('Error')}/{q('Code')}").text == "InvalidAction",
          "query protocol: an unsupported Action is InvalidAction")

    # Alarms: create, validate, describe, set state, history, delete.
    alarm = dict(AlarmName="pets-5xx", MetricName="5XXError", Namespace="AWS/ApiGateway",
                 Statistic="Average", Dimensions=stage_dims, Period=60, EvaluationPeriods=1,
                 Threshold=0.05, ComparisonOperator="GreaterThanOrEqualToThreshold",
                 AlarmActions=["http://127.0.0.1:9/alarm"], TreatMissingData="notBreaching")
    c.put_metric_alarm(**alarm)
    p99 = {**alarm, "AlarmName": "pets-p99", "MetricName": "Latency",
           "ExtendedStatistic": "p99", "Threshold": 1000.0}
    del p99["Statistic"]
    c.put_metric_alarm(**p99)
    expect_error("InvalidParameterValue", lambda: c.put_metric_alarm(**{**alarm, "Period": 30}))
    expect_error("InvalidParameterCombination", lambda: c.put_metric_alarm(
        **{**alarm, "ExtendedStatistic": "p99"}))
    expect_error("InvalidParameterValue", lambda: c.put_metric_alarm(
        **{**alarm, "AlarmActions": ["mailto:ops@example.com"]}))
    expect_error("InvalidParameterValue", lambda: c.put_metric_alarm(
        **{**alarm, "DatapointsToAlarm": 2}))
    expect_error("InvalidParameterValue", lambda: c.put_metric_alarm(
        **{**alarm, "TreatMissingData": "sometimes"}))
    d = c.describe_alarms(AlarmNames=["pets-5xx"])["MetricAlarms"]
    check(len(d) == 1 and d[0]["StateValue"] == "INSUFFICIENT_DATA", "a new alarm: INSUFFICIENT_DATA")
    a = d[0]
    check(a["Threshold"] == 0.05 and a["Statistic"] == "Average" and a["Period"] == 60
          and a["EvaluationPeriods"] == 1 and a["Dimensions"] == stage_dims
          and a["AlarmActions"] == ["http://127.0.0.1:9/alarm"]
          and a["TreatMissingData"] == "notBreaching" and a["ActionsEnabled"] is True
          and a["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:000000000000:alarm:pets-5xx",
          "DescribeAlarms gives the configuration back")
    check([x["AlarmName"] for x in c.describe_alarms(AlarmNamePrefix="pets-")["MetricAlarms"]]
          == ["pets-5xx", "pets-p99"], "DescribeAlarms by prefix")
    p1 = c.describe_alarms(MaxRecords=1)
    check(len(p1["MetricAlarms"]) == 1 and "NextToken" in p1, "DescribeAlarms pages")
    p2 = c.describe_alarms(MaxRecords=1, NextToken=p1["NextToken"])
    check(p2["MetricAlarms"][0]["AlarmName"] == "pets-p99" and "NextToken" not in p2, "page 2")
    expect_error("InvalidParameterCombination", lambda: c.describe_alarms(
        AlarmNames=["pets-5xx"], AlarmNamePrefix="pets"))
    c.set_alarm_state(AlarmName="pets-p99", StateValue="ALARM", StateReason="testing",
                      StateReasonData='{"why": "test"}')
    d = c.describe_alarms(StateValue="ALARM")["MetricAlarms"]
    check([x["AlarmName"] for x in d] == ["pets-p99"] and d[0]["StateReason"] == "testing",
          "SetAlarmState, DescribeAlarms by state")
    expect_error("InvalidFormat", lambda: c.set_alarm_state(
        AlarmName="pets-p99", StateValue="OK", StateReason="x", StateReasonData="not json"))
    h = c.describe_alarm_history(AlarmName="pets-p99")["AlarmHistoryItems"]
    types = [x["HistoryItemType"] for x in h if x["HistoryItemType"] != "Action"]
    check(types[0] == "StateUpdate" and "ConfigurationUpdate" in types,
          f"history newest first: {types}")
    h = c.describe_alarm_history(AlarmName="pets-p99", HistoryItemType="StateUpdate")
    check(json.loads(h["AlarmHistoryItems"][0]["HistoryData"])["newState"]["stateValue"]
          == "ALARM", "history data")
    status, root = query({"Action": "PutMetricAlarm", "AlarmName": "query-alarm",
                          "Namespace": "AWS/ApiGateway", "MetricName": "Latency",
                          "ExtendedStatistic": "p99", "Period": "300", "EvaluationPeriods": "3",
                          "DatapointsToAlarm": "2", "Threshold": "250.5",
                          "ComparisonOperator": "GreaterThanThreshold",
                          "Dimensions.member.1.Name": "ApiName", "Dimensions.member.1.Value": api,
                          "OKActions.member.1": "http://127.0.0.1:9/ok",
                          "ActionsEnabled": "false"})
    check(status == 200 and root.tag == q("PutMetricAlarmResponse"), "query PutMetricAlarm")
    status, root = query({"Action": "DescribeAlarms", "AlarmNames.member.1": "query-alarm"})
    m = root.find(f"{q('DescribeAlarmsResult')}/{q('MetricAlarms')}/{q('member')}")
    check(status == 200 and m.find(q("AlarmName")).text == "query-alarm"
          and float(m.find(q("Threshold")).text) == 250.5
          and m.find(q("ExtendedStatistic")).text == "p99"
          and m.find(q("DatapointsToAlarm")).text == "2"
          and m.find(q("ActionsEnabled")).text == "false"
          and m.find(f"{q('OKActions')}/{q('member')}").text == "http://127.0.0.1:9/ok"
          and m.find(f"{q('Dimensions')}/{q('member')}/{q('Value')}").text == api
          and m.find(q("StateUpdatedTimestamp")).text.endswith("Z"),
          "query DescribeAlarms: the alarm in XML")
    b = c.describe_alarms(AlarmNames=["query-alarm"])["MetricAlarms"][0]
    check(b["Period"] == 300 and b["EvaluationPeriods"] == 3 and b["ActionsEnabled"] is False,
          "an alarm put through the query protocol reads back through JSON")
    c.delete_alarms(AlarmNames=["query-alarm"])
    c.put_metric_alarm(**{**alarm, "Threshold": 0.1})
    check(c.describe_alarms(AlarmNames=["pets-5xx"])["MetricAlarms"][0]["Threshold"] == 0.1,
          "PutMetricAlarm replaces the configuration")
    expect_error("ResourceNotFound", lambda: c.delete_alarms(AlarmNames=["pets-5xx", "nope"]), 404)
    check(len(c.describe_alarms()["MetricAlarms"]) == 2, "a failed DeleteAlarms deletes nothing")
    c.delete_alarms(AlarmNames=["pets-5xx", "pets-p99"])
    check(c.describe_alarms()["MetricAlarms"] == [], "DeleteAlarms")
    log("reads: all checks passed")


# --- alarm -------------------------------------------------------------------------------

class Hook(BaseHTTPRequestHandler):
    received = []
    fail_first = {"/hook": 1}
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Hook.lock:
            left = Hook.fail_first.get(self.path, 0)
            if left:
                Hook.fail_first[self.path] = left - 1
                status = 500
            else:
                Hook.received.append((self.path, dict(self.headers), json.loads(body)))
                status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def psql(sql):
    subprocess.run(["psql", os.environ["CW_DATABASE_URL"], "-qXc", sql], check=True,
                   stdout=subprocess.DEVNULL)


def set_rate(api, stage, count, errors):
    """The API's requests and 5XX answers in every minute around the evaluated one."""
    now = int(time.time())
    first = (now // 60) * 60 - 180
    values = ",".join(
        f"(to_timestamp({m}), 'id-{api}', '{stage}', '{api}', {count}, {errors}, '', '')"
        for m in range(first, first + 8 * 60, 60))
    psql("INSERT INTO metric_minutes (minute, api_id, stage, api_name, count, error_5xx, "
         f"latency, integration_latency) VALUES {values} ON CONFLICT (api_id, stage, resource, "
         "method, minute) DO UPDATE SET count = EXCLUDED.count, error_5xx = EXCLUDED.error_5xx")


def wait_for(what, fn, limit=90):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        v = fn()
        if v:
            log(f"ok: {what}")
            return v
        time.sleep(0.25)
    raise Failure(f"timed out waiting for {what}")


def notifications(path, state):
    with Hook.lock:
        return [b for (p, _, b) in Hook.received
                if p == path and json.loads(b["Message"])["NewStateValue"] == state]


def alarm():
    port = int(os.environ["CW_WEBHOOK_PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    c = cw()
    api, stage = "pets", "prod"
    hook = f"http://127.0.0.1:{port}/hook"
    mapped = "arn:aws:sns:us-east-1:000000000000:oncall"
    unmapped = "arn:aws:sns:us-east-1:000000000000:nobody"
    # The seeds' alarm: 5XXError Average >= 0.05 over one minute.
    c.put_metric_alarm(AlarmName="pets-5xx-rate", AlarmDescription="5XX rate of pets/prod",
                       MetricName="5XXError", Namespace="AWS/ApiGateway", Statistic="Average",
                       Dimensions=[{"Name": "ApiName", "Value": api},
                                   {"Name": "Stage", "Value": stage}],
                       Period=60, EvaluationPeriods=1, Threshold=0.05,
                       ComparisonOperator="GreaterThanOrEqualToThreshold",
                       AlarmActions=[hook, mapped, unmapped], OKActions=[hook])
    c.put_metric_alarm(AlarmName="pets-5xx-muted", MetricName="5XXError",
                       Namespace="AWS/ApiGateway", Statistic="Sum", ActionsEnabled=False,
                       Dimensions=[{"Name": "ApiName", "Value": api},
                                   {"Name": "Stage", "Value": stage}],
                       Period=60, EvaluationPeriods=1, Threshold=1,
                       ComparisonOperator="GreaterThanOrEqualToThreshold",
                       AlarmActions=[f"http://127.0.0.1:{port}/muted"])
    state = lambda: c.describe_alarms(AlarmNames=["pets-5xx-rate"])["MetricAlarms"][0]
    check(state()["StateValue"] == "INSUFFICIENT_DATA", "no data yet: INSUFFICIENT_DATA")

    log("the backend starts failing: 20 % of requests answer 5XX")
    set_rate(api, stage, 100, 20)
    a = wait_for("ALARM", lambda: (lambda s: s if s["StateValue"] == "ALARM" else None)(state()))
    check("Threshold Crossed" in a["StateReason"] and "0.2" in a["StateReason"],
          f"reason: {a['StateReason']}")
    n = wait_for("the webhook got the ALARM notification", lambda: notifications("/hook", "ALARM"))
    msg = json.loads(n[0]["Message"])
    check(n[0]["Type"] == "Notification" and n[0]["Subject"].startswith("ALARM:")
          and n[0]["TopicArn"] == hook, "SNS-style envelope")
    check(msg["AlarmName"] == "pets-5xx-rate" and msg["OldStateValue"] == "INSUFFICIENT_DATA"
          and msg["Trigger"]["MetricName"] == "5XXError" and msg["Trigger"]["Threshold"] == 0.05
          and msg["Trigger"]["Period"] == 60, "the alarm message")
    wait_for("the mapped SNS topic's webhook got it", lambda: notifications("/sns", "ALARM"))

    wait_for("the muted alarm is in ALARM too", lambda: c.describe_alarms(
        AlarmNames=["pets-5xx-muted"])["MetricAlarms"][0]["StateValue"] == "ALARM")
    log("the backend recovers: no more 5XX")
    set_rate(api, stage, 100, 0)
    wait_for("OK", lambda: state()["StateValue"] == "OK")
    n = wait_for("the webhook got the OK notification", lambda: notifications("/hook", "OK"))
    check(json.loads(n[0]["Message"])["OldStateValue"] == "ALARM", "OK after ALARM")

    def actions():
        return c.describe_alarm_history(AlarmName="pets-5xx-rate",
                                        HistoryItemType="Action")["AlarmHistoryItems"]
    items = wait_for("four delivery outcomes recorded", lambda: (
        lambda h: h if sum(1 for x in h if "Successfully" in x["HistorySummary"]) >= 3
        and any(unmapped in x["HistorySummary"] for x in h) else None)(actions()))
    data = [json.loads(x["HistoryData"]) for x in items]
    hook_attempts = [d for d in data if d["notificationResource"] == hook]
    check(any(d["actionState"] == "Failed" and d["attempt"] == 1 for d in hook_attempts)
          and any(d["actionState"] == "Succeeded" and d["attempt"] == 2 for d in hook_attempts),
          "the webhook's 500 was retried, each attempt recorded")
    check(not [p for (p, _, _) in Hook.received if p == "/muted"],
          "ActionsEnabled=false: no notification")
    check(any(d["notificationResource"] == unmapped and d["actionState"] == "Failed"
              and "APIGW_ALARM_SNS_WEBHOOKS" in d["detail"] for d in data),
          "an unmapped SNS topic is recorded as not delivered")
    updates = c.describe_alarm_history(AlarmName="pets-5xx-rate", HistoryItemType="StateUpdate",
                                       ScanBy="TimestampAscending")["AlarmHistoryItems"]
    check([x["HistorySummary"] for x in updates][-2:] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK"],
        "state history")
    server.shutdown()
    log("alarm: all checks passed")


def alarm_replicas():
    """Two control planes over one database evaluate every second: one state change, one
    history item, one notification per action."""
    port = int(os.environ["CW_WEBHOOK_PORT"])
    Hook.fail_first = {}
    server = ThreadingHTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    c = cw()
    hook = f"http://127.0.0.1:{port}/hook"
    c.put_metric_alarm(AlarmName="replicated", MetricName="5XXError", Namespace="AWS/ApiGateway",
                       Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=0.05,
                       Dimensions=[{"Name": "ApiName", "Value": "shop"},
                                   {"Name": "Stage", "Value": "prod"}],
                       ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[hook])
    set_rate("shop", "prod", 100, 50)
    wait_for("ALARM", lambda: c.describe_alarms(AlarmNames=["replicated"])["MetricAlarms"][0]
             ["StateValue"] == "ALARM")
    wait_for("the notification", lambda: notifications("/hook", "ALARM"))
    # Several more rounds of both replicas.
    time.sleep(5)
    check(len(notifications("/hook", "ALARM")) == 1, "one notification, not one per replica")
    updates = c.describe_alarm_history(AlarmName="replicated",
                                       HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    check(len(updates) == 1, f"one state change recorded: {[u['HistorySummary'] for u in updates]}")
    server.shutdown()
    log("alarm-replicas: all checks passed")


def alarm_live():
    """Real traffic: the caller's client calls pets/prod through two nodes all along."""
    port = int(os.environ["CW_WEBHOOK_PORT"])
    backend = os.environ["CW_BACKEND"]
    Hook.fail_first = {}
    server = ThreadingHTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    c = cw()
    hook = f"http://127.0.0.1:{port}/hook"
    dims = [{"Name": "ApiName", "Value": "pets"}, {"Name": "Stage", "Value": "prod"}]
    c.put_metric_alarm(AlarmName="pets-5xx-rate", MetricName="5XXError",
                       Namespace="AWS/ApiGateway", Statistic="Average", Dimensions=dims,
                       Period=60, EvaluationPeriods=1, Threshold=0.05,
                       ComparisonOperator="GreaterThanOrEqualToThreshold",
                       AlarmActions=[hook], OKActions=[hook])
    state = lambda: c.describe_alarms(AlarmNames=["pets-5xx-rate"])["MetricAlarms"][0]
    # Alarms move on complete minutes: fail at once, recover as soon as the alarm fires, so
    # the run takes about three minutes rather than five.
    log("the backend starts failing (503)")
    urllib.request.urlopen(urllib.request.Request(backend + "/control/fail", method="POST"))
    a = wait_for("ALARM", lambda: (lambda s: s if s["StateValue"] == "ALARM" else None)(state()),
                 limit=200)
    log(f"reason: {a['StateReason']}")
    n = wait_for("the webhook got the ALARM notification", lambda: notifications("/hook", "ALARM"))
    check(json.loads(n[0]["Message"])["NewStateValue"] == "ALARM", "the ALARM message")

    # What the alarm saw is what GetMetricStatistics answers.
    now = int(time.time())
    r = c.get_metric_statistics(Namespace="AWS/ApiGateway", MetricName="5XXError",
                                Dimensions=dims, Period=60, Statistics=["Sum", "SampleCount", "Average"],
                                StartTime=datetime.fromtimestamp(now - 600, timezone.utc),
                                EndTime=datetime.fromtimestamp(now, timezone.utc))
    check(any(d["Average"] >= 0.05 and d["Sum"] > 0 for d in r["Datapoints"]),
          f"GetMetricStatistics shows the failing minute: {r['Datapoints']}")
    check(all(d["Sum"] <= d["SampleCount"] for d in r["Datapoints"]), "errors <= requests")

    log("the backend recovers")
    urllib.request.urlopen(urllib.request.Request(backend + "/control/recover", method="POST"))
    wait_for("OK again", lambda: state()["StateValue"] == "OK", limit=200)
    n = wait_for("the webhook got the OK notification",
                 lambda: [b for b in notifications("/hook", "OK")
                          if json.loads(b["Message"])["OldStateValue"] == "ALARM"])
    server.shutdown()
    log("alarm-live: all checks passed")


if __name__ == "__main__":
    try:
        {"reads": reads, "alarm": alarm, "alarm-live": alarm_live,
         "alarm-replicas": alarm_replicas}[sys.argv[1]]()
    except Failure as e:
        log(f"FAILED: {e}")
        sys.exit(1)
