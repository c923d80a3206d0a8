// A WebSocket API's metered usage (our `GET /v2/apis/{apiId}/usage`): messages in 32 KB
// units and connection minutes by UTC day and stage for a chosen range, with the billing
// CSV (`/v2/apis/{apiId}/usage/export`) of the same range.
import { useState } from "preact/hooks";
import { get } from "../../api";
import { ErrorText, Field, Loading, useAsync } from "../../ui";
import { utcDay } from "../../shared/days";

type WsUsageItem = { date: string; stage: string; messages: number; connectionMinutes: number };

export function WsUsage({ apiId }: { apiId: string }) {
  const [start, setStart] = useState(utcDay(-6));
  const [end, setEnd] = useState(utcDay());
  const q = `startDate=${start}&endDate=${end}`;
  const usage = useAsync(() => get<{ items?: WsUsageItem[] }>(`/v2/apis/${apiId}/usage?${q}`), [apiId, q]);
  const items = usage.data?.items ?? [];
  const total = (f: (i: WsUsageItem) => number) => items.reduce((n, i) => n + f(i), 0);
  return (
    <section class="panel" aria-labelledby="ws-usage-title">
      <div class="page-head">
        <h2 id="ws-usage-title">Usage</h2>
        <a class="button-link" href={`/v2/apis/${apiId}/usage/export?${q}`} download>
          Download CSV
        </a>
      </div>
      <div class="row">
        <Field label="From (UTC)" type="date" value={start} onInput={(v) => v && setStart(v)} />
        <Field label="To (UTC)" type="date" value={end} onInput={(v) => v && setEnd(v)} />
      </div>
      <ErrorText error={usage.error} />
      {usage.loading && !usage.data && <Loading what="Loading usage" />}
      {usage.data && (
        <table class="table" data-testid="ws-usage" aria-label="WebSocket usage by day and stage">
          <thead>
            <tr>
              {["Day (UTC)", "Stage", "Messages (32 KB units)", "Connection minutes"].map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={`${i.date}|${i.stage}`}>
                <td>{i.date}</td>
                <td>{i.stage}</td>
                <td>{i.messages}</td>
                <td>{i.connectionMinutes}</td>
              </tr>
            ))}
            {items.length === 0 ? (
              <tr>
                <td colSpan={4} class="muted">
                  No usage from {start} to {end}.
                </td>
              </tr>
            ) : (
              <tr>
                <th scope="row" colSpan={2}>
                  Total
                </th>
                <td>{total((i) => i.messages)}</td>
                <td>{total((i) => i.connectionMinutes)}</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}
