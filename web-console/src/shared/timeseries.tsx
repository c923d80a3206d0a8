// A time-series chart for the metrics dashboard and the alarm page: uPlot drawing on a
// canvas, wrapped for Preact. uPlot itself is loaded on first use (its own chunk), so the
// rest of the console does not pay for it. The chart's figure carries a text summary for
// screen readers (and tests): what each series shows, how many points, its latest value.
// Why uPlot (package.json takes no comments): small (~23 KB gzipped, in its own chunk),
// canvas-fast for a week of points, made for time series (time axis, gaps, hover legend),
// no dependencies, and it styles through the CSSOM, which the console's CSP allows.
import { useEffect, useRef, useState } from "preact/hooks";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export type Unit = "count" | "percent" | "ms";
export type Line = { label: string; values: (number | null)[]; color: string; bars?: boolean; dash?: boolean };

let lib: Promise<typeof uPlot> | null = null;
const loadUplot = () => (lib ??= import("uplot").then((m) => m.default));

/** A value with its unit, short enough for a tile or a legend (counts with thousands separators). */
export function fmtValue(v: number | null | undefined, unit: Unit): string {
  if (v == null || !Number.isFinite(v)) return "—";
  if (unit === "percent") return v === 0 ? "0 %" : `${v < 1 ? v.toFixed(2) : v.toFixed(1)} %`;
  if (unit === "ms") return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  if (v >= 1_000_000) return `${(v / 1_000_000).toFixed(1)} M`;
  return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(1);
}

/** An axis tick: the "nice" number uPlot chose, without trailing zeros, and its unit. */
function fmtTick(v: number, unit: Unit): string {
  const n = +v.toFixed(3);
  if (unit === "percent") return `${n} %`;
  if (unit === "ms") return n >= 10_000 ? `${+(n / 1000).toFixed(1)} s` : `${n} ms`;
  return n >= 1_000_000 ? `${+(n / 1_000_000).toFixed(1)} M` : n >= 10_000 ? `${+(n / 1000).toFixed(1)} k` : String(n);
}

/** The indexes of values whose neighbours are both gaps. */
const isolated = (v: (number | null)[]) => v.flatMap((x, i) => (x != null && v[i - 1] == null && v[i + 1] == null ? [i] : []));

export function TimeSeriesChart(props: { title: string; unit: Unit; x: number[]; lines: Line[]; testId?: string; height?: number; threshold?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string>();
  const { x, lines, unit } = props;

  useEffect(() => {
    let plot: uPlot | undefined;
    let observer: ResizeObserver | undefined;
    let live = true;
    loadUplot().then(
      (U) => {
        const el = box.current;
        if (!live || !el) return;
        const width = Math.max(280, el.clientWidth);
        const series: uPlot.Series[] = [
          { label: "Time", value: (_u, t) => (t == null ? "—" : new Date(t * 1000).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" })) },
          ...lines.map(
            (l): uPlot.Series => ({
              label: l.label,
              stroke: l.color,
              width: 2,
              dash: l.dash ? [6, 4] : undefined,
              fill: l.bars ? `${l.color}cc` : undefined,
              paths: l.bars ? U.paths.bars!({ size: [0.7, 24], gap: 1 }) : undefined,
              // A period with data between two without would be an invisible line: mark it.
              points: l.bars ? { show: false } : { show: true, size: 6, filter: () => isolated(l.values) },
              value: (_u, v) => fmtValue(v, unit),
            }),
          ),
        ];
        if (props.threshold != null)
          series.push({ label: "Threshold", stroke: "#b3261e", width: 1, dash: [3, 3], points: { show: false }, value: (_u, v) => fmtValue(v, unit) });
        let latest = 0;
        // (a bar of 0 is a period without requests, such as the minute under way: not "latest")
        x.forEach((_, i) => lines.some((l) => l.values[i] != null && !(l.bars && l.values[i] === 0)) && (latest = i));
        const data: uPlot.AlignedData = [x, ...lines.map((l) => l.values), ...(props.threshold != null ? [x.map(() => props.threshold!)] : [])];
        plot = new U(
          {
            width,
            height: props.height ?? 200,
            series,
            scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 0) * 1.1)] } },
            axes: [{ stroke: "#545b64", grid: { stroke: "#eceeef" } }, { stroke: "#545b64", grid: { stroke: "#eceeef" }, size: 64, values: (_u, ticks) => ticks.map((t) => fmtTick(t, unit)) }],
            legend: { live: true },
            cursor: { drag: { x: false, y: false } },
            // At rest (no pointer over the chart) the legend shows the latest point's values.
            hooks: {
              ready: [(u) => u.setLegend({ idx: latest })],
              setCursor: [(u) => u.cursor.idx == null && u.setLegend({ idx: latest })],
            },
          },
          data,
          el,
        );
        observer = new ResizeObserver(() => {
          const w = Math.max(280, el.clientWidth);
          if (plot && Math.abs(plot.width - w) > 4) plot.setSize({ width: w, height: props.height ?? 200 });
        });
        observer.observe(el);
      },
      (e) => live && setError(`The chart library did not load: ${e instanceof Error ? e.message : String(e)}`),
    );
    return () => {
      live = false;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [x, lines, unit, props.threshold]);

  const points = lines.reduce((n, l) => Math.max(n, l.values.filter((v) => v != null).length), 0);
  const summary = lines
    .map((l) => {
      const last = [...l.values].reverse().find((v) => v != null);
      return `${l.label}: latest ${fmtValue(last, unit)}`;
    })
    .join("; ");
  return (
    <figure class="ts-chart" data-testid={props.testId} data-points={points}>
      <figcaption>{props.title}</figcaption>
      {error ? (
        <p class="error">{error}</p>
      ) : (
        <div ref={box} class="ts-canvas" role="img" aria-label={`${props.title}. ${points} points. ${summary}.`} />
      )}
    </figure>
  );
}
