// An HTTP API's Metrics tab: for one stage (or one of its routes with detailed metrics, the
// {ApiId, Stage, Route} series), Count, 4xx and 5xx rates, Latency p50/p99,
// IntegrationLatency p50 and DataProcessed (request + response body bytes), over the REST
// dashboard's ranges. Data: the control plane's CloudWatch API under API Gateway's HTTP API
// names and dimensions (GetMetricData, ListMetrics; src/cloudwatch.ts), as the REST stage
// dashboard (pages/apis/stage-metrics.tsx) reads the REST ones.
import { useMemo, useState } from "preact/hooks";
import { NAMESPACE, dimensionMap, getMetricData, listMetrics, metricWindow, seriesReader, type Dimension, type MetricDataQuery } from "../../cloudwatch";
import { Empty, ErrorText, Loading, Select, useAsync } from "../../ui";
import { TimeSeriesChart, fmtValue, type Line } from "../../shared/timeseries";
import { RANGES } from "../apis/stage-metrics";
import { listV2, type HttpApi, type HttpStage } from "../../v2";

type Range = (typeof RANGES)[number];
const ALL = "";

type Dashboard = {
  x: number[];
  count: number[];
  e4: (number | null)[];
  e5: (number | null)[];
  p50: (number | null)[];
  p99: (number | null)[];
  i50: (number | null)[];
  bytes: number[];
  total: number;
  errors4: number;
  errors5: number;
  totalBytes: number;
  latencyP50: number | null;
  latencyP99: number | null;
  integrationP50: number | null;
};

/** `bytes` as B / KB / MB (1024-based). */
export function fmtBytes(v: number): string {
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KB`;
  return `${(v / 1024 / 1024).toFixed(1)} MB`;
}

async function loadDashboard(dims: Dimension[], range: Range): Promise<Dashboard> {
  const { period, seconds } = range;
  const { start, end, x } = metricWindow(seconds, period);
  const whole = end - start;
  const q = (Id: string, MetricName: string, Stat: string, Period: number): MetricDataQuery => ({
    Id,
    MetricStat: { Metric: { Namespace: NAMESPACE, MetricName, Dimensions: dims }, Period, Stat },
    ReturnData: true,
  });
  const r = await getMetricData(
    [
      q("count", "Count", "Sum", period),
      q("e4", "4xx", "Sum", period),
      q("e5", "5xx", "Sum", period),
      q("p50", "Latency", "p50", period),
      q("p99", "Latency", "p99", period),
      q("i50", "IntegrationLatency", "p50", period),
      q("bytes", "DataProcessed", "Sum", period),
      q("sp50", "Latency", "p50", whole),
      q("sp99", "Latency", "p99", whole),
      q("si50", "IntegrationLatency", "p50", whole),
    ],
    start,
    end,
  );
  const s = seriesReader(r, x, period);
  const count = s.zeroed("count");
  const e4n = s.zeroed("e4");
  const e5n = s.zeroed("e5");
  const bytes = s.zeroed("bytes");
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  const rate = (errors: number[]) => x.map((_, i) => (count[i] > 0 ? (100 * errors[i]) / count[i] : null));
  return {
    x,
    count,
    e4: rate(e4n),
    e5: rate(e5n),
    p50: s.on("p50"),
    p99: s.on("p99"),
    i50: s.on("i50"),
    bytes,
    total: sum(count),
    errors4: sum(e4n),
    errors5: sum(e5n),
    totalBytes: sum(bytes),
    latencyP50: s.whole("sp50"),
    latencyP99: s.whole("sp99"),
    integrationP50: s.whole("si50"),
  };
}

export function HttpMetrics({ api }: { api: HttpApi }) {
  const stages = useAsync(() => listV2<HttpStage>(`/v2/apis/${api.apiId}/stages`), [api.apiId]);
  const [stageSel, setStageSel] = useState<string>();
  const [routeSel, setRouteSel] = useState(ALL);
  const [rangeId, setRangeId] = useState<string>("1h");
  const [tick, setTick] = useState(0);
  const range = RANGES.find((r) => r.id === rangeId) ?? RANGES[0];
  const names = (stages.data ?? []).map((s) => s.stageName).sort((a, b) => (a === "$default" ? -1 : b === "$default" ? 1 : a.localeCompare(b)));
  const stage = stageSel ?? names[0];
  const routes = useAsync(async () => {
    if (!stage) return [];
    const ms = await listMetrics({ Namespace: NAMESPACE, MetricName: "Count", Dimensions: [{ Name: "ApiId", Value: api.apiId }] });
    const keys = new Set<string>();
    for (const m of ms) {
      const d = dimensionMap(m.Dimensions);
      if (d.Stage === stage && d.Route) keys.add(d.Route);
    }
    return [...keys].sort();
  }, [api.apiId, stage, tick]);
  const dims = useMemo<Dimension[]>(() => {
    const base = [
      { Name: "ApiId", Value: api.apiId },
      { Name: "Stage", Value: stage ?? "" },
    ];
    return routeSel ? [...base, { Name: "Route", Value: routeSel }] : base;
  }, [api.apiId, stage, routeSel]);
  const data = useAsync(async () => (stage ? loadDashboard(dims, range) : null), [dims, range.id, tick]);

  if (stages.error) return <ErrorText error={stages.error} />;
  if (!stages.data) return <Loading what="Loading stages" />;
  if (!names.length)
    return (
      <Empty title="No stages yet">
        <p class="muted">Metrics are collected per stage: create one on the Stages tab.</p>
      </Empty>
    );
  const d = data.data;
  const scope = routeSel ? `${routeSel} on ${stage}` : `stage ${stage}`;
  return (
    <section class="metrics" aria-label="Metrics" data-testid="http-metrics">
      <div class="metrics-bar">
        <div class="metrics-method">
          <Select
            label="Stage"
            value={stage ?? ""}
            options={names.map((n) => ({ value: n, label: n }))}
            onChange={(v) => {
              setStageSel(v);
              setRouteSel(ALL);
            }}
          />
        </div>
        <div class="metrics-method">
          <Select
            label="Route"
            value={routeSel}
            options={[{ value: ALL, label: "All routes (the stage)" }, ...(routes.data ?? []).map((r) => ({ value: r, label: r }))]}
            onChange={setRouteSel}
          />
        </div>
        <div class="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button key={r.id} type="button" class="secondary small" aria-pressed={r.id === range.id} onClick={() => setRangeId(r.id)}>
              {r.label}
            </button>
          ))}
        </div>
        <button type="button" class="secondary small" onClick={() => setTick((n) => n + 1)} disabled={data.loading}>
          Refresh
        </button>
      </div>
      <p class="muted small">A route has its own series when detailed metrics are on for it (the stage's route settings).</p>
      <ErrorText error={data.error ?? routes.error} />
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
      count: [{ label: "Requests", values: d.count, color: "#0b57d0", bars: true }] as Line[],
      errors: [
        { label: "4xx", values: d.e4, color: "#c26a00" },
        { label: "5xx", values: d.e5, color: "#b3261e" },
      ] as Line[],
      latency: [
        { label: "p50", values: d.p50, color: "#0b57d0" },
        { label: "p99", values: d.p99, color: "#b3261e" },
        { label: "Integration p50", values: d.i50, color: "#1d6b30", dash: true },
      ] as Line[],
      bytes: [{ label: "Bytes", values: d.bytes, color: "#7b3fb0", bars: true }] as Line[],
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
          <dt>4xx</dt>
          <dd>{fmtValue(d.errors4, "count")}</dd>
        </div>
        <div data-testid="tile-5xx">
          <dt>5xx</dt>
          <dd class={d.errors5 ? "bad" : undefined}>{fmtValue(d.errors5, "count")}</dd>
        </div>
        <div data-testid="tile-p50">
          <dt>Latency p50</dt>
          <dd>{fmtValue(d.latencyP50, "ms")}</dd>
        </div>
        <div data-testid="tile-p99">
          <dt>Latency p99</dt>
          <dd>{fmtValue(d.latencyP99, "ms")}</dd>
        </div>
        <div data-testid="tile-integration">
          <dt>Integration p50</dt>
          <dd>{fmtValue(d.integrationP50, "ms")}</dd>
        </div>
        <div data-testid="tile-data">
          <dt>Data processed</dt>
          <dd>{fmtBytes(d.totalBytes)}</dd>
        </div>
      </dl>
      <div class="chart-grid">
        <TimeSeriesChart title={`Requests (count per ${per})`} unit="count" x={d.x} lines={lines.count} testId="chart-count" />
        <TimeSeriesChart title="4xx and 5xx (% of requests)" unit="percent" x={d.x} lines={lines.errors} testId="chart-errors" />
        <TimeSeriesChart title="Latency and integration latency (ms)" unit="ms" x={d.x} lines={lines.latency} testId="chart-latency" />
        <TimeSeriesChart title={`Data processed (bytes per ${per})`} unit="count" x={d.x} lines={lines.bytes} testId="chart-data" />
      </div>
      <p class="muted small">
        Data processed: the bytes of the request and response bodies that went through the gateway. Percentiles are within 1 %.
      </p>
    </>
  );
}
