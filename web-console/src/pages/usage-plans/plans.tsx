// Usage plans: the list, and creating one (then its own screen opens).
import { useEffect, useState } from "preact/hooks";
import { listAll, post } from "../../api";
import { Link, navigate } from "../../router";
import { ListStatus, toast, useAsync } from "../../ui";
import { SearchBox, matches, useQuery } from "../../shared/search";
import { PlanDialog, bodyOf } from "./form";
import type { Plan } from "./types";

export const throttleText = (p: Plan) => (p.throttle ? `${p.throttle.rateLimit}/s, burst ${p.throttle.burstLimit}` : "none");
export const quotaText = (p: Plan) =>
  p.quota ? `${p.quota.limit} per ${p.quota.period.toLowerCase()}${p.quota.offset ? ` (offset ${p.quota.offset})` : ""}` : "none";

export function UsagePlans() {
  const plans = useAsync(() => listAll<Plan>("/usageplans"), []);
  const [q, setQ] = useQuery();
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    document.title = "Usage plans · API Gateway";
  }, []);
  const shown = (plans.data ?? []).filter((p) => matches(q, p.name, p.id, p.description));
  return (
    <div class="page">
      <div class="page-head">
        <h1>Usage plans</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create usage plan
        </button>
      </div>
      <p class="muted">A usage plan lets its API keys call some API stages, at a throttled rate and up to a quota per day, week or month.</p>
      <SearchBox label="Search usage plans" value={q} onInput={setQ} placeholder="Search by name, id or description" />
      <ListStatus list={plans} loading="Loading usage plans" empty="No usage plans yet">
        <p>Create a plan, add API stages and keys to it, and follow each key's usage.</p>
      </ListStatus>
      {plans.data && plans.data.length > 0 && (
        <table class="table" data-testid="usage-plans-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Throttling</th>
              <th scope="col">Quota</th>
              <th scope="col">API stages</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link href={`/usage-plans/${p.id}`}>{p.name}</Link>
                </td>
                <td>
                  <code>{p.id}</code>
                </td>
                <td>{throttleText(p)}</td>
                <td>{quotaText(p)}</td>
                <td>{(p.apiStages ?? []).map((s) => `${s.apiId}:${s.stage}`).join(", ") || "—"}</td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  No usage plan matches “{q}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {creating && (
        <PlanDialog
          title="Create usage plan"
          submit="Create"
          onClose={() => setCreating(false)}
          onSubmit={async (d) => {
            const p = await post<Plan>("/usageplans", bodyOf(d));
            toast(`Usage plan ${p.name} created`);
            navigate(`/usage-plans/${p.id}`);
          }}
        />
      )}
    </div>
  );
}
