// The usage plan form (create and edit): throttle, quota, API stages with per-method
// throttles. Editing sends only what changed, as UpdateUsagePlan patch operations.
import { useState } from "preact/hooks";
import { listAll, patchKey, type PatchOp } from "../../api";
import { Check, ErrorText, Field, FormActions, Loading, Modal, Select, useAction, useAsync } from "../../ui";
import type { RestApi } from "../apis/apis";
import type { Resource } from "../apis/resources";
import type { Stage } from "../apis/api";
import type { Plan, Throttle } from "./types";

type MethodRow = { key: string; rate: string; burst: string };
type StageRow = { apiId: string; stage: string; methods: MethodRow[] };
export type Draft = {
  name: string;
  description: string;
  throttleOn: boolean;
  rate: string;
  burst: string;
  quotaOn: boolean;
  limit: string;
  period: string;
  offset: string;
  stages: StageRow[];
};

const str = (n?: number) => (n === undefined ? "" : String(n));

export function draftOf(p?: Plan): Draft {
  return {
    name: p?.name ?? "",
    description: p?.description ?? "",
    throttleOn: !!p?.throttle,
    rate: str(p?.throttle?.rateLimit),
    burst: str(p?.throttle?.burstLimit),
    quotaOn: !!p?.quota,
    limit: str(p?.quota?.limit),
    period: p?.quota?.period ?? "DAY",
    offset: str(p?.quota?.offset ?? 0),
    stages: (p?.apiStages ?? []).map((s) => ({
      apiId: s.apiId,
      stage: s.stage,
      methods: Object.entries(s.throttle ?? {}).map(([key, t]) => ({ key, rate: str(t.rateLimit), burst: str(t.burstLimit) })),
    })),
  };
}

function num(what: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`${what} must be ${integer ? "a whole number" : "a number"}`);
  return n;
}

const throttleOf = (what: string, rate: string, burst: string): Throttle => ({
  rateLimit: num(`${what} rate`, rate, false),
  burstLimit: num(`${what} burst`, burst, true),
});

/** The CreateUsagePlan body of a draft. */
export function bodyOf(d: Draft) {
  return {
    name: d.name,
    description: d.description || undefined,
    throttle: d.throttleOn ? throttleOf("Throttle", d.rate, d.burst) : undefined,
    quota: d.quotaOn ? { limit: num("Quota limit", d.limit, true), period: d.period, offset: num("Quota offset", d.offset || "0", true) } : undefined,
    apiStages: d.stages.map((s) => {
      if (!s.apiId || !s.stage) throw new Error("Choose an API and a stage for every API stage");
      return {
        apiId: s.apiId,
        stage: s.stage,
        throttle: Object.fromEntries(s.methods.filter((m) => m.key).map((m) => [m.key, throttleOf(`Throttle of ${m.key}`, m.rate, m.burst)])),
      };
    }),
  };
}

/** `/pets/{id}/GET` → its patch path under an API stage's throttle. */
function methodPath(stageKey: string, methodKey: string) {
  const i = methodKey.lastIndexOf("/");
  return `/apiStages/${patchKey(stageKey)}/throttle/${patchKey(methodKey.slice(0, i))}/${methodKey.slice(i + 1)}`;
}

/** The UpdateUsagePlan operations turning `p` into `d`. */
export function opsOf(p: Plan, d: Draft): PatchOp[] {
  const b = bodyOf(d);
  const ops: PatchOp[] = [];
  if (b.name !== p.name) ops.push({ op: "replace", path: "/name", value: b.name });
  if ((b.description ?? "") !== (p.description ?? "")) ops.push({ op: "replace", path: "/description", value: b.description ?? "" });
  if (!b.throttle && p.throttle) ops.push({ op: "remove", path: "/throttle" });
  if (b.throttle && (b.throttle.rateLimit !== p.throttle?.rateLimit || b.throttle.burstLimit !== p.throttle?.burstLimit)) {
    ops.push({ op: "replace", path: "/throttle/rateLimit", value: String(b.throttle.rateLimit) });
    ops.push({ op: "replace", path: "/throttle/burstLimit", value: String(b.throttle.burstLimit) });
  }
  if (!b.quota && p.quota) ops.push({ op: "remove", path: "/quota" });
  if (b.quota && (b.quota.limit !== p.quota?.limit || b.quota.period !== p.quota?.period || b.quota.offset !== p.quota?.offset)) {
    ops.push({ op: "replace", path: "/quota/limit", value: String(b.quota.limit) });
    ops.push({ op: "replace", path: "/quota/period", value: b.quota.period });
    ops.push({ op: "replace", path: "/quota/offset", value: String(b.quota.offset) });
  }
  const key = (s: { apiId: string; stage: string }) => `${s.apiId}:${s.stage}`;
  const before = new Map((p.apiStages ?? []).map((s) => [key(s), s]));
  const after = new Map(b.apiStages.map((s) => [key(s), s]));
  for (const k of before.keys()) if (!after.has(k)) ops.push({ op: "remove", path: "/apiStages", value: k });
  for (const [k, s] of after) {
    if (!before.has(k)) ops.push({ op: "add", path: "/apiStages", value: k });
    const was = before.get(k)?.throttle ?? {};
    for (const m of Object.keys(was)) if (!(m in s.throttle)) ops.push({ op: "remove", path: methodPath(k, m) });
    for (const [m, t] of Object.entries(s.throttle)) {
      if (was[m]?.rateLimit === t.rateLimit && was[m]?.burstLimit === t.burstLimit) continue;
      ops.push({ op: "replace", path: `${methodPath(k, m)}/rateLimit`, value: String(t.rateLimit) });
      ops.push({ op: "replace", path: `${methodPath(k, m)}/burstLimit`, value: String(t.burstLimit) });
    }
  }
  return ops;
}

/** The form in a dialog; `onSubmit` gets the draft and may throw the API's error. */
export function PlanDialog(props: { title: string; submit: string; plan?: Plan; onClose: () => void; onSubmit: (d: Draft) => Promise<void> }) {
  const [d, setD] = useState<Draft>(draftOf(props.plan));
  const apis = useAsync(() => listAll<RestApi>("/restapis"), []);
  const a = useAction();
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const setStage = (i: number, s: StageRow | null) =>
    setD((x) => ({ ...x, stages: s ? x.stages.map((r, k) => (k === i ? s : r)) : x.stages.filter((_, k) => k !== i) }));
  return (
    <Modal title={props.title} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await a.run(() => props.onSubmit(d))) props.onClose();
        }}
      >
        <Field label="Name" value={d.name} onInput={(v) => set({ name: v })} required autoFocus />
        <Field label="Description" value={d.description} onInput={(v) => set({ description: v })} />
        <fieldset class="group">
          <legend>Throttling (per API key)</legend>
          <Check label="Enable throttling" checked={d.throttleOn} onChange={(v) => set({ throttleOn: v })} />
          {d.throttleOn && (
            <div class="row">
              <Field label="Rate (requests per second)" type="number" value={d.rate} onInput={(v) => set({ rate: v })} required />
              <Field label="Burst (requests)" type="number" value={d.burst} onInput={(v) => set({ burst: v })} required />
            </div>
          )}
        </fieldset>
        <fieldset class="group">
          <legend>Quota (per API key)</legend>
          <Check label="Enable quota" checked={d.quotaOn} onChange={(v) => set({ quotaOn: v })} />
          {d.quotaOn && (
            <div class="row">
              <Field label="Requests per period" type="number" value={d.limit} onInput={(v) => set({ limit: v })} required />
              <Select label="Period" value={d.period} options={["DAY", "WEEK", "MONTH"]} onChange={(v) => set({ period: v })} />
              <Field label="Offset (first period)" type="number" value={d.offset} onInput={(v) => set({ offset: v })} />
            </div>
          )}
        </fieldset>
        <fieldset class="group">
          <legend>API stages</legend>
          {d.stages.length === 0 && <p class="muted">None: keys of this plan can call no stage yet.</p>}
          {apis.loading && !apis.data && <Loading what="Loading APIs" />}
          {apis.data &&
            d.stages.map((s, i) => <StageEditor key={i} n={i + 1} row={s} apis={apis.data!} onChange={(r) => setStage(i, r)} />)}
          <button type="button" class="secondary small" onClick={() => set({ stages: [...d.stages, { apiId: "", stage: "", methods: [] }] })}>
            Add API stage
          </button>
        </fieldset>
        <ErrorText error={a.error ?? apis.error} />
        <FormActions submit={props.submit} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

/** One API stage: which API and stage, and its per-method throttles. */
function StageEditor({ n, row, apis, onChange }: { n: number; row: StageRow; apis: RestApi[]; onChange: (r: StageRow | null) => void }) {
  const stages = useAsync<Stage[]>(() => (row.apiId ? listAll<Stage>(`/restapis/${row.apiId}/stages`) : Promise.resolve([])), [row.apiId]);
  const resources = useAsync<Resource[]>(() => (row.apiId ? listAll<Resource>(`/restapis/${row.apiId}/resources`) : Promise.resolve([])), [row.apiId]);
  const methods = (resources.data ?? []).flatMap((r) => Object.keys(r.resourceMethods ?? {}).map((m) => `${r.path === "/" ? "" : r.path}/${m}`));
  const setMethod = (i: number, m: MethodRow | null) =>
    onChange({ ...row, methods: m ? row.methods.map((x, k) => (k === i ? m : x)) : row.methods.filter((_, k) => k !== i) });
  return (
    <fieldset class="group stage-row">
      <legend>API stage {n}</legend>
      <div class="row">
        <Select
          label="API"
          value={row.apiId}
          options={[{ value: "", label: "Choose an API" }, ...apis.map((a) => ({ value: a.id, label: `${a.name} (${a.id})` }))]}
          onChange={(v) => onChange({ apiId: v, stage: "", methods: [] })}
        />
        <Select
          label="Stage"
          value={row.stage}
          options={[{ value: "", label: stages.loading ? "Loading…" : "Choose a stage" }, ...(stages.data ?? []).map((s) => s.stageName)]}
          onChange={(v) => onChange({ ...row, stage: v })}
        />
      </div>
      {row.methods.map((m, i) => (
        <div class="throttle-row" key={i}>
          <Select
            label={`Method ${i + 1}`}
            value={m.key}
            options={[{ value: "", label: "Choose a method" }, ...[...new Set([...methods, ...(m.key ? [m.key] : [])])].map((k) => ({ value: k, label: k.replace(/\/([^/]+)$/, " $1") || k }))]}
            onChange={(v) => setMethod(i, { ...m, key: v })}
          />
          <Field label={`Rate of method ${i + 1}`} type="number" value={m.rate} onInput={(v) => setMethod(i, { ...m, rate: v })} required />
          <Field label={`Burst of method ${i + 1}`} type="number" value={m.burst} onInput={(v) => setMethod(i, { ...m, burst: v })} required />
          <button type="button" class="link" onClick={() => setMethod(i, null)}>
            Remove method {i + 1}
          </button>
        </div>
      ))}
      <div class="row-actions">
        <button type="button" class="secondary small" disabled={!row.apiId} onClick={() => onChange({ ...row, methods: [...row.methods, { key: "", rate: "", burst: "" }] })}>
          Add method throttle
        </button>
        <button type="button" class="link" onClick={() => onChange(null)}>
          Remove API stage {n}
        </button>
      </div>
    </fieldset>
  );
}
