// A plan's usage by day (GetUsage), per key or for all its keys: a bar chart, a table with
// each key's requests and remaining quota, setting the remaining quota (UpdateUsage), and
// the billing CSV export.
import { useState } from "preact/hooks";
import { get, patch } from "../../api";
import { ErrorText, Field, Loading, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import { BarChart } from "../../shared/chart";
import type { Plan, PlanKey, Usage } from "./types";
import { daysBetween, utcDay } from "../../shared/days";

export function UsageSection({ plan, keys }: { plan: Plan; keys: PlanKey[] }) {
  const [start, setStart] = useState(utcDay(-6));
  const [end, setEnd] = useState(utcDay());
  const [keyId, setKeyId] = useState("");
  const [granting, setGranting] = useState<PlanKey | null>(null);
  const q = `startDate=${start}&endDate=${end}${keyId ? `&keyId=${encodeURIComponent(keyId)}` : ""}`;
  const usage = useAsync(() => get<Usage>(`/usageplans/${plan.id}/usage?${q}&limit=500`), [plan.id, q, keys.map((k) => k.id).join()]);
  const names = new Map(keys.map((k) => [k.id, k.name || k.id]));
  const days = usage.data ? daysBetween(usage.data.startDate, usage.data.endDate) : [];
  const rows = Object.entries(usage.data?.values ?? {}).map(([id, v]) => ({
    id,
    name: names.get(id) ?? id,
    used: v.reduce((n, d) => n + d[0], 0),
    remaining: v.length ? v[v.length - 1][1] : 0,
    inPlan: names.has(id),
  }));
  return (
    <section class="panel" aria-labelledby="usage-title">
      <div class="page-head">
        <h2 id="usage-title">Usage</h2>
        <a class="button-link" href={`/usageplans/${plan.id}/usage/export?${q}`} download>
          Download CSV
        </a>
      </div>
      <div class="row">
        <Field label="From (UTC)" type="date" value={start} onInput={(v) => v && setStart(v)} />
        <Field label="To (UTC)" type="date" value={end} onInput={(v) => v && setEnd(v)} />
        <Select
          label="API key"
          value={keyId}
          options={[{ value: "", label: "All keys" }, ...keys.map((k) => ({ value: k.id, label: `${k.name || k.id} (${k.id})` }))]}
          onChange={setKeyId}
        />
      </div>
      <ErrorText error={usage.error} />
      {usage.loading && !usage.data && <Loading what="Loading usage" />}
      {usage.data && (
        <>
          <BarChart
            title={`Requests per day${keyId ? ` of ${names.get(keyId) ?? keyId}` : ""}`}
            days={days}
            series={rows.map((r) => ({ label: r.name, values: (usage.data!.values[r.id] ?? []).map((d) => d[0]) }))}
          />
          <table class="table" data-testid="usage-table" aria-label="Usage by API key">
            <TableHead columns={["API key", <>Requests {start} to {end}</>, <>Remaining quota{end === utcDay() ? " (now)" : ` (end of ${end})`}</>]} />
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.name} <code class="muted small">{r.id}</code>
                  </td>
                  <td>{r.used}</td>
                  <td>{plan.quota ? `${r.remaining} of ${plan.quota.limit}` : "no quota"}</td>
                  <td class="row-actions">
                    {plan.quota && r.inPlan && (
                      <button
                        type="button"
                        class="secondary small"
                        aria-label={`Grant or reset quota of ${r.name}`}
                        onClick={() => setGranting({ id: r.id, name: r.name, type: "API_KEY" })}
                      >
                        Grant or reset quota
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {rows.length === 0 && (
                <tr>
                  <td colSpan={4} class="muted">
                    No usage: add API keys to the plan.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
      {granting && plan.quota && (
        <GrantDialog
          plan={plan}
          k={granting}
          current={rows.find((r) => r.id === granting.id)?.remaining ?? 0}
          onClose={() => setGranting(null)}
          onDone={usage.reload}
        />
      )}
    </section>
  );
}

/** UpdateUsage: sets how many requests the key has left in the current quota period. */
function GrantDialog({ plan, k, current, onClose, onDone }: { plan: Plan; k: PlanKey; current: number; onClose: () => void; onDone: () => void }) {
  const [value, setValue] = useState(String(current));
  const a = useAction();
  const limit = plan.quota!.limit;
  return (
    <Modal title="Grant or reset quota" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const n = Number(value);
          const ok = await a.run(async () => {
            if (!Number.isInteger(n) || n < 0) throw new Error("Remaining requests must be a whole number, 0 or more");
            await patch(`/usageplans/${plan.id}/keys/${k.id}/usage`, [{ op: "replace", path: "/remaining", value: String(n) }]);
          });
          if (ok) {
            toast(`${k.name} has ${n} requests left this ${plan.quota!.period.toLowerCase()}`);
            onDone();
            onClose();
          }
        }}
      >
        <p>
          <strong>{k.name}</strong> has {current} of {limit} requests left in the current {plan.quota!.period.toLowerCase()}. Set a higher number to grant
          requests, or the full quota to reset it.
        </p>
        <Field label="Remaining requests this period" type="number" value={value} onInput={setValue} required autoFocus />
        <ErrorText error={a.error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={() => setValue(String(limit))}>
            Reset to the full quota
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={a.busy}>
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}
