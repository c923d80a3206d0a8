// One API key: its settings, the usage plans it is in, its requests per day in each of
// them (GetUsage with `keyId`, one bar series per plan), and its tags.
import { useEffect, useState } from "preact/hooks";
import { fmtDate, get, listAll } from "../../api";
import { Link } from "../../router";
import { ErrorText, Field, Loading, useAsync } from "../../ui";
import { BarChart } from "../../shared/chart";
import { TableHead } from "../../shared/table";
import { Tags } from "../../shared/tags";
import type { Plan, Usage } from "../usage-plans/types";
import type { ApiKey } from "./types";
import { daysBetween, utcDay } from "../../shared/days";

export function ApiKeyPage({ keyId }: { keyId: string }) {
  const key = useAsync(() => get<ApiKey>(`/apikeys/${encodeURIComponent(keyId)}`), [keyId]);
  const plans = useAsync(() => listAll<Plan>(`/usageplans?keyId=${encodeURIComponent(keyId)}`), [keyId]);
  useEffect(() => {
    document.title = `API key ${key.data?.name ?? keyId} · API Gateway`;
  }, [key.data]);
  if (key.error) return <ErrorText error={key.error} />;
  if (!key.data) return <Loading what="Loading the API key" />;
  const k = key.data;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/api-keys">API keys</Link> / {k.name || k.id}
      </nav>
      <h1>API key {k.name || k.id}</h1>
      <dl class="props" data-testid="api-key-props">
        <dt>ID</dt>
        <dd>
          <code>{k.id}</code>
        </dd>
        <dt>Status</dt>
        <dd class={k.enabled ? "status-on" : "status-off"}>{k.enabled ? "Enabled" : "Disabled"}</dd>
        <dt>Customer</dt>
        <dd>{k.customerId || "—"}</dd>
        <dt>Description</dt>
        <dd>{k.description || "—"}</dd>
        <dt>Created</dt>
        <dd>{fmtDate(k.createdDate)}</dd>
      </dl>
      <KeyUsage keyId={k.id} plans={plans.data ?? []} error={plans.error} loading={plans.loading && !plans.data} />
      <Tags path={`/apikeys/${k.id}`} label="API key tags" />
    </div>
  );
}

function KeyUsage({ keyId, plans, error, loading }: { keyId: string; plans: Plan[]; error?: string; loading: boolean }) {
  const [start, setStart] = useState(utcDay(-6));
  const [end, setEnd] = useState(utcDay());
  const usage = useAsync(
    () =>
      Promise.all(
        plans.map((p) => get<Usage>(`/usageplans/${p.id}/usage?startDate=${start}&endDate=${end}&keyId=${encodeURIComponent(keyId)}`)),
      ),
    [keyId, start, end, plans.map((p) => p.id).join()],
  );
  const days = daysBetween(start, end);
  const perPlan = plans.map((p, i) => ({ plan: p, values: (usage.data?.[i]?.values[keyId] ?? []).map((d) => d[0]), last: usage.data?.[i]?.values[keyId]?.at(-1) }));
  return (
    <section class="panel" aria-labelledby="key-usage-title">
      <h2 id="key-usage-title">Usage plans and usage</h2>
      <ErrorText error={error ?? usage.error} />
      {loading && <Loading what="Loading usage plans" />}
      {!loading && plans.length === 0 && <p class="muted">This key is in no usage plan: it cannot call any method that requires a key.</p>}
      {plans.length > 0 && (
        <>
          <div class="row">
            <Field label="From (UTC)" type="date" value={start} onInput={(v) => v && setStart(v)} />
            <Field label="To (UTC)" type="date" value={end} onInput={(v) => v && setEnd(v)} />
          </div>
          {usage.data && <BarChart title="Requests per day of this key" days={days} series={perPlan.map((r) => ({ label: r.plan.name, values: r.values }))} />}
          <table class="table" aria-label="Usage by plan" data-testid="key-usage-table">
            <TableHead columns={["Usage plan", <>Requests {start} to {end}</>, "Remaining quota"]} />
            <tbody>
              {perPlan.map((r) => (
                <tr key={r.plan.id}>
                  <td>
                    <Link href={`/usage-plans/${r.plan.id}`}>{r.plan.name}</Link>
                  </td>
                  <td>{r.values.reduce((n, v) => n + v, 0)}</td>
                  <td>{r.plan.quota ? `${r.last?.[1] ?? r.plan.quota.limit} of ${r.plan.quota.limit}` : "no quota"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
