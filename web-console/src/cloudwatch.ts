// A small typed client of the control plane's CloudWatch API (the `AWS/ApiGateway`
// metrics and the alarms), spoken as boto3 speaks it: JSON 1.0, `POST /` with
// `X-Amz-Target: GraniteServiceVersion20100801.<Operation>` and
// `Content-Type: application/x-amz-json-1.0`, shapes as in the official model
// (monitoring.service-2.json), timestamps as epoch seconds. It goes through `call` in
// api.ts, so the session cookie, the CSRF token and the refresh-after-401 apply as for the
// management API; errors become an `ApiError` with CloudWatch's code (InvalidParameterValue,
// MissingParameter, ResourceNotFound, ...) and message.
import { call, RawBody } from "./api";

export const NAMESPACE = "AWS/ApiGateway";
const TARGET = "GraniteServiceVersion20100801";

export type Dimension = { Name: string; Value: string };
export type Metric = { Namespace?: string; MetricName?: string; Dimensions?: Dimension[] };
export type MetricStat = { Metric: Metric; Period: number; Stat: string; Unit?: string };
export type MetricDataQuery = { Id: string; MetricStat?: MetricStat; Expression?: string; Label?: string; ReturnData?: boolean; Period?: number };
export type MetricDataResult = {
  Id?: string;
  Label?: string;
  Timestamps?: number[];
  Values?: number[];
  StatusCode?: "Complete" | "InternalError" | "PartialData" | "Forbidden";
  Messages?: { Code?: string; Value?: string }[];
};
export type StateValue = "OK" | "ALARM" | "INSUFFICIENT_DATA";
export type ComparisonOperator = "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold";
export type MetricAlarm = {
  AlarmName: string;
  AlarmArn?: string;
  AlarmDescription?: string;
  AlarmConfigurationUpdatedTimestamp?: number;
  ActionsEnabled?: boolean;
  OKActions?: string[];
  AlarmActions?: string[];
  InsufficientDataActions?: string[];
  StateValue?: StateValue;
  StateReason?: string;
  StateReasonData?: string;
  StateUpdatedTimestamp?: number;
  StateTransitionedTimestamp?: number;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Dimensions?: Dimension[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator?: ComparisonOperator | string;
  TreatMissingData?: string;
};
export type PutMetricAlarmInput = Omit<MetricAlarm, "AlarmArn" | "StateValue" | "StateReason" | "StateReasonData" | "StateUpdatedTimestamp" | "StateTransitionedTimestamp" | "AlarmConfigurationUpdatedTimestamp">;
export type AlarmHistoryItem = {
  AlarmName?: string;
  AlarmType?: string;
  Timestamp?: number;
  HistoryItemType?: "ConfigurationUpdate" | "StateUpdate" | "Action" | string;
  HistorySummary?: string;
  HistoryData?: string;
};

/** One CloudWatch operation. */
export function cloudwatch<T = any>(operation: string, input: object): Promise<T> {
  return call<T>("POST", "/", new RawBody(JSON.stringify(input), "application/x-amz-json-1.0"), {
    "x-amz-target": `${TARGET}.${operation}`,
  });
}

/** Every page of an operation answering `NextToken`, the pages' `key` lists joined. */
async function allPages<T>(operation: string, input: object, key: string): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const r = await cloudwatch<Record<string, unknown> & { NextToken?: string }>(operation, token ? { ...input, NextToken: token } : input);
    out.push(...(((r[key] as T[] | undefined) ?? []) as T[]));
    token = r.NextToken || undefined;
    if (!token) break;
  }
  return out;
}

/**
 * GetMetricData over [start, end) (epoch seconds), every page; a query's points from
 * several pages are joined, oldest first.
 */
export async function getMetricData(queries: MetricDataQuery[], start: number, end: number): Promise<Map<string, MetricDataResult>> {
  const results = await allPages<MetricDataResult>("GetMetricData", { MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: "TimestampAscending" }, "MetricDataResults");
  const byId = new Map<string, MetricDataResult>();
  for (const r of results) {
    const id = r.Id ?? "";
    const seen = byId.get(id);
    if (!seen) byId.set(id, { ...r, Timestamps: [...(r.Timestamps ?? [])], Values: [...(r.Values ?? [])] });
    else {
      seen.Timestamps!.push(...(r.Timestamps ?? []));
      seen.Values!.push(...(r.Values ?? []));
    }
  }
  for (const r of byId.values()) {
    const pts = r.Timestamps!.map((t, i) => [t, r.Values![i]] as const).sort((a, b) => a[0] - b[0]);
    r.Timestamps = pts.map((p) => p[0]);
    r.Values = pts.map((p) => p[1]);
  }
  return byId;
}

/**
 * The last `seconds` up to the next whole minute, from a `period` boundary: the window a
 * chart reads (`start`, `end`, epoch seconds) and each period's start (`x`).
 */
export function metricWindow(seconds: number, period: number): { start: number; end: number; x: number[] } {
  const end = Math.ceil(Date.now() / 1000 / 60) * 60;
  const start = Math.floor((end - seconds) / period) * period;
  const x: number[] = [];
  for (let t = start; t < end; t += period) x.push(t);
  return { start, end, x };
}

/** A GetMetricData answer read onto a window's periods (`metricWindow`'s `x`). */
export function seriesReader(r: Map<string, MetricDataResult>, x: number[], period: number) {
  const byTime = (id: string) => {
    const res = r.get(id);
    const m = new Map<number, number>();
    (res?.Timestamps ?? []).forEach((t, i) => m.set(Math.floor(t / period) * period, res!.Values![i]));
    return m;
  };
  return {
    /** Each period's value times `scale`, `null` where the series has no point. */
    on(id: string, scale = 1): (number | null)[] {
      const m = byTime(id);
      return x.map((t) => (m.has(t) ? m.get(t)! * scale : null));
    },
    /** Each period's value, 0 where the series has no point (counts, sums). */
    zeroed(id: string): number[] {
      const m = byTime(id);
      return x.map((t) => m.get(t) ?? 0);
    },
    /** A whole-window statistic (queried with the window as its period): its one point, the worst should a server split the window. */
    whole(id: string): number | null {
      const v = r.get(id)?.Values ?? [];
      return v.length ? Math.max(...v) : null;
    },
  };
}

export const listMetrics = (input: { Namespace?: string; MetricName?: string; Dimensions?: { Name: string; Value?: string }[] }) =>
  allPages<Metric>("ListMetrics", input, "Metrics");

export const describeAlarms = (input: { AlarmNames?: string[]; AlarmNamePrefix?: string; StateValue?: StateValue } = {}) =>
  allPages<MetricAlarm>("DescribeAlarms", { ...input, AlarmTypes: ["MetricAlarm"] }, "MetricAlarms");

export const putMetricAlarm = (input: PutMetricAlarmInput) => cloudwatch("PutMetricAlarm", input);

export const deleteAlarms = (names: string[]) => cloudwatch("DeleteAlarms", { AlarmNames: names });

export const describeAlarmHistory = (name: string) =>
  allPages<AlarmHistoryItem>("DescribeAlarmHistory", { AlarmName: name, ScanBy: "TimestampDescending" }, "AlarmHistoryItems");

/** A metric's dimensions as a name → value map. */
export const dimensionMap = (d?: Dimension[]) => Object.fromEntries((d ?? []).map((x) => [x.Name, x.Value]));
