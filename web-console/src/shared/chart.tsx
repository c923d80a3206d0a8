// A small SVG bar chart (no chart library): one bar per day, stacked by series, with the
// numbers also in a table for screen readers and tests.
export type Series = { label: string; values: number[] };

const COLORS = ["#0b57d0", "#e07b00", "#1d6b30", "#8e44ad", "#b3261e", "#00838f"];

export function BarChart({ title, days, series }: { title: string; days: string[]; series: Series[] }) {
  const totals = days.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const W = 640;
  const H = 180;
  const pad = { l: 36, r: 8, t: 8, b: 28 };
  const bw = (W - pad.l - pad.r) / Math.max(1, days.length);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const label = `${title}: ${days.map((d, i) => `${d} ${totals[i]}`).join(", ")}`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} data-testid="usage-chart">
        <line x1={pad.l} x2={W - pad.r} y1={y(0)} y2={y(0)} stroke="#8d99a8" />
        <text x={pad.l - 4} y={y(max) + 4} text-anchor="end" class="axis">
          {max}
        </text>
        <text x={pad.l - 4} y={y(0)} text-anchor="end" class="axis">
          0
        </text>
        {days.map((d, i) => {
          let base = 0;
          return (
            <g key={d}>
              {series.map((s, k) => {
                const v = s.values[i] ?? 0;
                const top = y(base + v);
                const h = y(base) - top;
                base += v;
                return v > 0 ? (
                  <rect key={s.label} x={pad.l + i * bw + bw * 0.15} width={bw * 0.7} y={top} height={h} fill={COLORS[k % COLORS.length]}>
                    <title>{`${s.label}, ${d}: ${v}`}</title>
                  </rect>
                ) : null;
              })}
              {(days.length <= 16 || i % Math.ceil(days.length / 16) === 0) && (
                <text x={pad.l + i * bw + bw / 2} y={H - 10} text-anchor="middle" class="axis">
                  {d.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {series.length > 1 && (
        <figcaption class="legend">
          {series.map((s, k) => (
            <span key={s.label}>
              <svg width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" fill={COLORS[k % COLORS.length]} />
              </svg>{" "}
              {s.label}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
