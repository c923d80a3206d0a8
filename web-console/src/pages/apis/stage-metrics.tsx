// A stage's metrics dashboard: Count, 4XX and 5XX rates, Latency p50/p90/p99, and
// IntegrationLatency with the gateway's overhead (average Latency − average
// IntegrationLatency), over 1 h / 3 h / 12 h / 1 d / 1 w, for the whole stage or one method
// (the {ApiName, Stage, Resource, Method} series, which exist when the stage's detailed
// metrics are on: UpdateStage `replace /*/*/metrics/enabled`). Data: the control plane's
// CloudWatch API (GetMetricData, ListMetrics; src/cloudwatch.ts).
import { useEffect, useMemo, useState } from "preact/hooks";
import { patch } from "../../api";
import { NAMESPACE, dimensionMap, getMetricData, listMetrics, metricWindow, seriesReader, type Dimension, type MetricDataQuery } from "../../cloudwatch";
import { Empty, ErrorText, Loading, Select, toast, useAction, useAsync } from "../../ui";
import { TimeSeriesChart, fmtValue, type Line } from "../../shared/timeseries";
import type { Stage } from "./api";

/** The ranges offered, with the period of one point (CloudWatch's usual choice for each). */
export const RANGES = [
  { id: "1h", label: "1 h", seconds: 3600, period: 60 },
  { id: "3h", label: "3 h", seconds: 3 * 3600, period: 60 },
  { id: "12h", label: "12 h", seconds: 12 * 3600, period: 300 },
  { id: "1d", label: "1 d", seconds: 86400, period: 300 },
  { id: "1w", label: "1 w", seconds: 7 * 86400, period: 3600 },
] as const;
type Range = (typeof RANGES)[number];

const ALL = "";
const COLORS = { count: "#0b57d0", e4: "#c26a00", e5: "#b3261e", p50: "#0b57d0", p90: "#c26a00", p99: "#b3261e", integration: "#1d6b30", overhead: "#7b3fb0" };

/** "GET /pets/{id}" ⇄ the Resource and Method dimensions. */
const methodKey = (resource: string, method: string) => `${method} ${resource}`;
const splitMethodKey = (k: string) => {
  const sp = k.indexOf(" ");
  return { method: k.slice(0, sp), resource: k.slice(sp + 1) };
};

/** The range and method chosen, kept in the URL's query string (a reload or a shared link shows the same). */
function useQueryState(name: string, initial: string): [string, (v: string) => void] {
  const [v, setV] = useState(() => new URLSearchParams(location.search).get(name) ?? initial);
  const set = (next: string) => {
    const q = new URLSearchParams(location.search);
    if (next === initial) q.delete(name);
    else q.set(name, next);
    const s = q.toString();
    history.replaceState(history.state, "", `${location.pathname}${s ? `?${s}` : ""}`);
    setV(next);
  };
  return [v, set];
}

type Dashboard = {
  x: number[];
  count: number[];
  e4: (number | null)[];
  e5: (number | null)[];
  p50: (number | null)[];
  p90: (number | null)[];
  p99: (number | null)[];
  i50: (number | null)[];
  i99: (number | null)[];
  overhead: (number | null)[];
  total: number;
  rate4: number | null;
  rate5: number | null;
  latencyP50: number | null;
  latencyP99: number | null;
  integrationP50: number | null;
  overheadAvg: number | null;
};

/**
 * The queries of one dashboard: per-period series (`period`), and the whole range's
 * percentiles and averages (`range`), which per-period points cannot give. Totals and rates
 * come from the per-period points, laid on the dashboard's own grid.
 */
function queries(dims: Dimension[], period: number, range: number): MetricDataQuery[] {
  const q = (Id: string, MetricName: string, Stat: string, Period: number): MetricDataQuery => ({
    Id,
    MetricStat: { Metric: { Namespace: NAMESPACE, MetricName, Dimensions: dims }, Period, Stat },
    ReturnData: true,
  });
  return [
    q("count", "Count", "Sum", period),
    q("e4", "4XXError", "Average", period),
    q("e5", "5XXError", "Average", period),
    q("p50", "Latency", "p50", period),
    q("p90", "Latency", "p90", period),
    q("p99", "Latency", "p99", period),
    q("lavg", "Latency", "Average", period),
    q("i50", "IntegrationLatency", "p50", period),
    q("i99", "IntegrationLatency", "p99", period),
    q("iavg", "IntegrationLatency", "Average", period),
    q("sp50", "Latency", "p50", range),
    q("sp99", "Latency", "p99", range),
    q("si50", "IntegrationLatency", "p50", range),
    q("slavg", "Latency", "Average", range),
    q("siavg", "IntegrationLatency", "Average", range),
  ];
}

/** Loads one dashboard: the series laid on a full grid of periods (no requests = 0 / a gap). */
async function loadDashboard(dims: Dimension[], range: Range): Promise<Dashboard> {
  const { period, seconds } = range;
  const { start, end, x } = metricWindow(seconds, period);
  // The whole-range queries take the window as their one period: CloudWatch aligns periods
  // on StartTime, so each answers a single point over exactly [start, end).
  const r = await getMetricData(queries(dims, period, end - start), start, end);
  const { on, zeroed, whole } = seriesReader(r, x, period);
  const count = zeroed("count");
  const lavg = on("lavg");
  const iavg = on("iavg");
  const e4 = on("e4", 100);
  const e5 = on("e5", 100);
  const total = count.reduce((a, b) => a + b, 0);
  // Whole-range rates weighted by each period's requests (each request is one 0-or-1 sample).
  const weighted = (rates: (number | null)[]) =>
    total > 0 ? rates.reduce<number>((n, v, i) => n + (v ?? 0) * count[i], 0) / total : null;
  const slavg = whole("slavg");
  const siavg = whole("siavg");
  return {
    x,
    count,
    e4,
    e5,
    p50: on("p50"),
    p90: on("p90"),
    p99: on("p99"),
    i50: on("i50"),
    i99: on("i99"),
    overhead: x.map((_, i) => (lavg[i] != null && iavg[i] != null ? Math.max(0, lavg[i]! - iavg[i]!) : null)),
    total,
    rate4: weighted(e4),
    rate5: weighted(e5),
    latencyP50: whole("sp50"),
    latencyP99: whole("sp99"),
    integrationP50: whole("si50"),
    overheadAvg: slavg != null && siavg != null ? Math.max(0, slavg - siavg) : null,
  };
}

export function StageMetrics({ apiName, stage, spath, onChanged }: { apiName: string; stage: Stage; spath: string; onChanged: () => void }) {
  const [rangeId, setRangeId] = useQueryState("range", "1h");
  const [methodSel, setMethodSel] = useQueryState("method", ALL);
  const [tick, setTick] = useState(0);
  const range = RANGES.find((r) => r.id === rangeId) ?? RANGES[0];
  const detailed = !!stage.methodSettings?.["*/*"]?.metricsEnabled;
  const base: Dimension[] = [
    { Name: "ApiName", Value: apiName },
    { Name: "Stage", Value: stage.stageName },
  ];
  const methods = useAsync(async () => {
    const ms = await listMetrics({ Namespace: NAMESPACE, MetricName: "Count", Dimensions: base });
    const keys = new Set<string>();
    for (const m of ms) {
      const d = dimensionMap(m.Dimensions);
      if (d.Resource && d.Method) keys.add(methodKey(d.Resource, d.Method));
    }
    return [...keys].sort((a, b) => splitMethodKey(a).resource.localeCompare(splitMethodKey(b).resource) || a.localeCompare(b));
  }, [apiName, stage.stageName, tick]);
  const dims = useMemo(() => {
    if (!methodSel) return base;
    const { resource, method } = splitMethodKey(methodSel);
    return [...base, { Name: "Resource", Value: resource }, { Name: "Method", Value: method }];
  }, [apiName, stage.stageName, methodSel]);
  const data = useAsync(() => loadDashboard(dims, range), [dims, range.id, tick]);
  const [updated, setUpdated] = useState<Date>();
  useEffect(() => {
    if (data.data) setUpdated(new Date());
  }, [data.data]);
  // Fresh points every minute while the dashboard is open (nodes ship every 10 s).
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 60_000);
    return () => clearInterval(t);
  }, []);
  const a = useAction();
  const methodOptions = [{ value: ALL, label: "All methods (the stage)" }, ...(methods.data ?? []).map((m) => ({ value: m, label: m }))];
  if (methodSel && methods.data && !methods.data.includes(methodSel)) methodOptions.push({ value: methodSel, label: methodSel });
  const d = data.data;
  const scope = methodSel ? `${methodSel} on ${stage.stageName}` : `stage ${stage.stageName}`;

  const setDetailed = (on: boolean) =>
    a.run(async () => {
      await patch(spath, [{ op: "replace", path: "/*/*/metrics/enabled", value: String(on) }]);
      toast(on ? `Detailed metrics on for ${stage.stageName}` : `Detailed metrics off for ${stage.stageName}`);
      if (!on) setMethodSel(ALL);
      onChanged();
    });

  return (
    <section class="metrics" aria-label="Metrics">
      <div class="metrics-bar">
        <div class="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button key={r.id} type="button" class="secondary small" aria-pressed={r.id === range.id} onClick={() => setRangeId(r.id)}>
              {r.label}
            </button>
          ))}
        </div>
        <div class="metrics-method">
          <Select label="Method" value={methodSel} options={methodOptions} onChange={setMethodSel} />
        </div>
        <button type="button" class="secondary small" onClick={() => setTick((n) => n + 1)} disabled={data.loading}>
          Refresh
        </button>
        <span class="muted small" aria-live="polite">
          {data.loading ? "Updating…" : updated ? `Updated ${updated.toLocaleTimeString()}` : ""}
        </span>
      </div>
      {detailed ? (
        <p class="muted small" data-testid="detailed-metrics">
          Detailed metrics are on: each method has its own series{methods.data && methods.data.length === 0 ? " (they appear once the methods serve requests)" : ""}.{" "}
          <button type="button" class="link" disabled={a.busy} onClick={() => setDetailed(false)}>
            Turn off detailed metrics
          </button>
        </p>
      ) : (
        <div class="hint-box" data-testid="detailed-metrics">
          <p>
            Per-method metrics are off for this stage: only its totals are collected. Detailed metrics add a series per resource and method (CloudWatch's
            Resource and Method dimensions).
          </p>
          <button type="button" class="secondary small" disabled={a.busy} onClick={() => setDetailed(true)}>
            Enable detailed metrics
          </button>
        </div>
      )}
      <ErrorText error={a.error ?? methods.error} />
      {data.error && (
        <div class="error" role="alert">
          The metrics could not be loaded: {data.error}{" "}
          <button type="button" class="link" onClick={() => setTick((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {!d && !data.error && <Loading what="Loading metrics" />}
      {d && d.total === 0 && (
        <Empty title="No requests in this period">
          <p class="muted">
            Nothing was served for {scope} in the last {range.label}. Requests show here within a minute of being served.
          </p>
        </Empty>
      )}
      {d && d.total > 0 && <Charts d={d} scope={scope} range={range} />}
    </section>
  );
}

function Charts({ d, scope, range }: { d: Dashboard; scope: string; range: Range }) {
  const lines = useMemo(
    () => ({
      count: [{ label: "Requests", values: d.count, color: COLORS.count, bars: true }] as Line[],
      errors: [
        { label: "4XX", values: d.e4, color: COLORS.e4 },
        { label: "5XX", values: d.e5, color: COLORS.e5 },
      ] as Line[],
      latency: [
        { label: "p50", values: d.p50, color: COLORS.p50 },
        { label: "p90", values: d.p90, color: COLORS.p90 },
        { label: "p99", values: d.p99, color: COLORS.p99 },
      ] as Line[],
      integration: [
        { label: "Integration p50", values: d.i50, color: COLORS.integration },
        { label: "Integration p99", values: d.i99, color: COLORS.integration, dash: true },
        { label: "Overhead (avg)", values: d.overhead, color: COLORS.overhead },
      ] as Line[],
    }),
    [d],
  );
  const per = range.period >= 3600 ? `${range.period / 3600} h` : `${range.period / 60} min`;
  return (
    <>
      <dl class="tiles" data-testid="metrics-summary" aria-label={`Last ${range.label}, ${scope}`}>
        <div data-testid="tile-count">
          <dt>Requests</dt>
          <dd>{fmtValue(d.total, "count")}</dd>
        </div>
        <div data-testid="tile-4xx">
          <dt>4XX rate</dt>
          <dd>{fmtValue(d.rate4, "percent")}</dd>
        </div>
        <div data-testid="tile-5xx">
          <dt>5XX rate</dt>
          <dd class={d.rate5 ? "bad" : undefined}>{fmtValue(d.rate5, "percent")}</dd>
        </div>
        <div data-testid="tile-p50">
          <dt>Latency p50</dt>
          <dd>{fmtValue(d.latencyP50, "ms")}</dd>
        </div>
        <div data-testid="tile-p99">
          <dt>Latency p99</dt>
          <dd>{fmtValue(d.latencyP99, "ms")}</dd>
        </div>
        <div data-testid="tile-overhead">
          <dt>Avg overhead</dt>
          <dd>{fmtValue(d.overheadAvg, "ms")}</dd>
        </div>
      </dl>
      <div class="chart-grid">
        <TimeSeriesChart title={`Requests (count per ${per})`} unit="count" x={d.x} lines={lines.count} testId="chart-count" />
        <TimeSeriesChart title="Error rates (% of requests)" unit="percent" x={d.x} lines={lines.errors} testId="chart-errors" />
        <TimeSeriesChart title="Latency (ms)" unit="ms" x={d.x} lines={lines.latency} testId="chart-latency" />
        <TimeSeriesChart title="Integration latency and overhead (ms)" unit="ms" x={d.x} lines={lines.integration} testId="chart-integration" />
      </div>
      <p class="muted small">
        Latency: from the request's arrival to the response; integration latency: the backend's part; overhead: the gateway's own time (average
        Latency − average IntegrationLatency). Percentiles are within 1 %.
      </p>
    </>
  );
}
