/** UTC days as GetUsage names them (YYYY-MM-DD). */

/** A UTC day `n` days from today. */
export const utcDay = (n = 0) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

/** Every day from `start` to `end`, both included (at most 400). */
export function daysBetween(start: string, end: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`) && out.length < 400; t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
