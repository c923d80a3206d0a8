// One usage plan: its limits and API stages (edit), its API keys (add, remove), and usage.
import { useEffect, useState } from "preact/hooks";
import { del, get, listAll, patch, post } from "../../api";
import { Link, navigate } from "../../router";
import { Confirm, Empty, ErrorText, FormActions, Loading, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import type { ApiKey } from "../keys/types";
import { PlanDialog, opsOf } from "./form";
import { quotaText, throttleText } from "./plans";
import { UsageSection } from "./usage";
import type { Plan, PlanKey } from "./types";
import { Tags } from "../../shared/tags";

export function UsagePlan({ planId }: { planId: string }) {
  const plan = useAsync(() => get<Plan>(`/usageplans/${planId}`), [planId]);
  const keys = useAsync(() => listAll<PlanKey>(`/usageplans/${planId}/keys`), [planId]);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<PlanKey | null>(null);
  useEffect(() => {
    if (plan.data) document.title = `${plan.data.name} · Usage plans · API Gateway`;
  }, [plan.data]);
  if (plan.error)
    return (
      <div class="page">
        <ErrorText error={plan.error} />
        <Link href="/usage-plans">Back to usage plans</Link>
      </div>
    );
  if (!plan.data) return <Loading what="Loading the usage plan" />;
  const p = plan.data;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/usage-plans">Usage plans</Link> / <span>{p.name}</span>
      </nav>
      <div class="page-head">
        <h1>
          {p.name} <code class="muted small">{p.id}</code>
        </h1>
        <div class="head-actions">
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete usage plan
          </button>
          <button type="button" class="primary" onClick={() => setEditing(true)}>
            Edit usage plan
          </button>
        </div>
      </div>
      {p.description && <p class="muted">{p.description}</p>}
      <section class="panel" aria-labelledby="limits-title">
        <h2 id="limits-title">Limits and API stages</h2>
        <dl class="props">
          <dt>Throttling</dt>
          <dd data-testid="plan-throttle">{throttleText(p)}</dd>
          <dt>Quota</dt>
          <dd data-testid="plan-quota">{quotaText(p)}</dd>
          <dt>API stages</dt>
          <dd>
            {(p.apiStages ?? []).length === 0 && "none"}
            <ul class="method-list">
              {(p.apiStages ?? []).map((s) => (
                <li key={`${s.apiId}:${s.stage}`}>
                  <Link href={`/apis/${s.apiId}/stages/${encodeURIComponent(s.stage)}`}>
                    {s.apiId}:{s.stage}
                  </Link>
                  {Object.entries(s.throttle ?? {}).map(([m, t]) => (
                    <span key={m} class="muted">
                      {" "}
                      · {m.replace(/\/([^/]+)$/, " $1")}: {t.rateLimit}/s, burst {t.burstLimit}
                    </span>
                  ))}
                </li>
              ))}
            </ul>
          </dd>
        </dl>
      </section>
      <Tags path={`/usageplans/${planId}`} label="Usage plan tags" />
      <section class="panel" aria-labelledby="keys-title">
        <div class="page-head">
          <h2 id="keys-title">API keys</h2>
          <button type="button" class="secondary" onClick={() => setAdding(true)}>
            Add API key
          </button>
        </div>
        <ErrorText error={keys.error} />
        {keys.data && keys.data.length === 0 && <Empty title="No API keys in this plan" />}
        {keys.data && keys.data.length > 0 && (
          <table class="table" data-testid="plan-keys-table">
            <TableHead columns={["Name", "ID"]} />
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.id}</code>
                  </td>
                  <td class="row-actions">
                    <button type="button" class="link" aria-label={`Remove API key ${k.name || k.id} from the plan`} onClick={() => setRemoving(k)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {keys.data && <UsageSection plan={p} keys={keys.data} />}
      {editing && (
        <PlanDialog
          title="Edit usage plan"
          submit="Save"
          plan={p}
          onClose={() => setEditing(false)}
          onSubmit={async (d) => {
            const ops = opsOf(p, d);
            if (ops.length) await patch(`/usageplans/${p.id}`, ops);
            toast(`Usage plan ${d.name} saved`);
            plan.reload();
          }}
        />
      )}
      {adding && (
        <AddKey
          plan={p}
          inPlan={keys.data ?? []}
          onClose={() => setAdding(false)}
          onAdded={() => {
            keys.reload();
          }}
        />
      )}
      {removing && (
        <Confirm
          title="Remove API key"
          danger
          confirm="Remove API key"
          body={
            <p>
              Remove <strong>{removing.name || removing.id}</strong> from {p.name}? Its calls to the plan's stages are refused within a second.
            </p>
          }
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await del(`/usageplans/${p.id}/keys/${removing.id}`);
            toast(`API key ${removing.name || removing.id} removed from ${p.name}`);
            keys.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete usage plan"
          danger
          confirm="Delete usage plan"
          body={<p>Delete usage plan {p.name}? Its keys can no longer call its stages. Usage records stay for billing.</p>}
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await del(`/usageplans/${p.id}`);
            toast(`Usage plan ${p.name} deleted`);
            navigate("/usage-plans");
          }}
        />
      )}
    </div>
  );
}

function AddKey({ plan, inPlan, onClose, onAdded }: { plan: Plan; inPlan: PlanKey[]; onClose: () => void; onAdded: () => void }) {
  const all = useAsync(() => listAll<ApiKey>("/apikeys"), []);
  const [choice, setChoice] = useState("");
  const a = useAction();
  const candidates = (all.data ?? []).filter((k) => !inPlan.some((p) => p.id === k.id));
  return (
    <Modal title="Add API key" onClose={onClose}>
      {all.loading && !all.data ? (
        <Loading what="Loading API keys" />
      ) : candidates.length === 0 ? (
        <>
          <p>
            Every API key is already in this plan, or there is none: <Link href="/api-keys">create one</Link>.
          </p>
          <div class="actions">
            <button type="button" class="secondary" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const keyId = choice || candidates[0].id;
            const ok = await a.run(() => post(`/usageplans/${plan.id}/keys`, { keyId, keyType: "API_KEY" }));
            if (ok) {
              const k = candidates.find((c) => c.id === keyId);
              toast(`API key ${k?.name || keyId} added to ${plan.name}`);
              onAdded();
              onClose();
            }
          }}
        >
          <Select
            label="API key"
            value={choice || candidates[0].id}
            options={candidates.map((k) => ({ value: k.id, label: `${k.name || "(no name)"} (${k.id})${k.enabled ? "" : ", disabled"}` }))}
            onChange={setChoice}
          />
          <ErrorText error={a.error ?? all.error} />
          <FormActions submit="Add" disabled={a.busy} onCancel={onClose} />
        </form>
      )}
    </Modal>
  );
}
