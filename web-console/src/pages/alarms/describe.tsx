// How an alarm reads on screen: its state badge, its condition in words, what it watches.
import type { MetricAlarm, StateValue } from "../../cloudwatch";
import { dimensionMap } from "../../cloudwatch";

export const STATE_LABEL: Record<StateValue, string> = { OK: "OK", ALARM: "In alarm", INSUFFICIENT_DATA: "Insufficient data" };

export function StateBadge({ state }: { state?: string }) {
  const s = (state ?? "INSUFFICIENT_DATA") as StateValue;
  return (
    <span class={`state state-${s}`} data-state={s} title={s}>
      {STATE_LABEL[s] ?? s}
    </span>
  );
}

export const COMPARISONS = [
  { value: "GreaterThanOrEqualToThreshold", label: "≥ (greater than or equal)", sign: "≥" },
  { value: "GreaterThanThreshold", label: "> (greater than)", sign: ">" },
  { value: "LessThanThreshold", label: "< (less than)", sign: "<" },
  { value: "LessThanOrEqualToThreshold", label: "≤ (less than or equal)", sign: "≤" },
];

export const MISSING_DATA = [
  { value: "missing", label: "Missing: judge by the periods with data (INSUFFICIENT_DATA when none)" },
  { value: "notBreaching", label: "Not breaching: treat as good" },
  { value: "breaching", label: "Breaching: treat as bad" },
  { value: "ignore", label: "Ignore: keep the current state" },
];

/** The metrics of the AWS/ApiGateway namespace, with what their values are. */
export const METRICS = [
  { value: "5XXError", label: "5XXError (server errors)", kind: "rate" },
  { value: "4XXError", label: "4XXError (client errors)", kind: "rate" },
  { value: "Count", label: "Count (requests)", kind: "count" },
  { value: "Latency", label: "Latency (ms)", kind: "ms" },
  { value: "IntegrationLatency", label: "IntegrationLatency (ms)", kind: "ms" },
  { value: "CacheHitCount", label: "CacheHitCount (requests)", kind: "count" },
  { value: "CacheMissCount", label: "CacheMissCount (requests)", kind: "count" },
] as const;

export const STATISTICS = ["Average", "Sum", "SampleCount", "Minimum", "Maximum", "p50", "p90", "p95", "p99"];

export const periodText = (s?: number) => (s == null ? "—" : s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`);

/** "5XXError Average ≥ 0.05 for 1 of 1 periods of 1 min". */
export function conditionText(a: MetricAlarm) {
  const sign = COMPARISONS.find((c) => c.value === a.ComparisonOperator)?.sign ?? a.ComparisonOperator;
  const stat = a.ExtendedStatistic ?? a.Statistic ?? "";
  const n = a.EvaluationPeriods ?? 1;
  const m = a.DatapointsToAlarm ?? n;
  return `${a.MetricName ?? "?"} ${stat} ${sign} ${a.Threshold} for ${m} of ${n} period${n === 1 ? "" : "s"} of ${periodText(a.Period)}`;
}

/** "pets · prod" or "pets · prod · GET /pets/{id}". */
export function scopeText(a: MetricAlarm) {
  const d = dimensionMap(a.Dimensions);
  return [d.ApiName, d.Stage, d.Method && d.Resource ? `${d.Method} ${d.Resource}` : undefined].filter(Boolean).join(" · ") || "—";
}
