// Every `methodSettings` key of a stage (issue 17), for all methods (`*/*`) or one method:
// throttling, CloudWatch logging level and data trace, detailed metrics, and the caching
// fields (enabled, TTL 0–3600 s, encryption, authorization for `Cache-Control`, and the
// strategy for unauthorized `Cache-Control: max-age=0`). Saved with UpdateStage's patch
// paths `/{resource path, / as ~1}/{METHOD}/{group}/{setting}` (`/*/*/...` for all).
import { useState } from "preact/hooks";
import { listAll, patch, patchKey, type PatchOp } from "../../api";
import { Check, ErrorText, Field, FormActions, Select, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import type { Resource } from "./resources";
import type { MethodSetting } from "../../api/types";
export type { MethodSetting };

/** AWS's defaults, for a target without settings yet. */
const DEFAULTS: MethodSetting = {
  metricsEnabled: false,
  loggingLevel: "OFF",
  dataTraceEnabled: false,
  throttlingBurstLimit: 5000,
  throttlingRateLimit: 10000,
  cachingEnabled: false,
  cacheTtlInSeconds: 300,
  cacheDataEncrypted: false,
  requireAuthorizationForCacheControl: true,
  unauthorizedCacheControlHeaderStrategy: "SUCCEED_WITH_RESPONSE_HEADER",
};
const ALL = "*/*";
const STRATEGIES = ["FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER"];

/** "orders/GET" → "/orders GET"; "*\/*" → "All methods". */
const keyLabel = (k: string) => {
  if (k === ALL) return "All methods (*/*)";
  const at = k.lastIndexOf("/");
  return `/${k.slice(0, at)} ${k.slice(at + 1)}`;
};
/** The patch path prefix of a settings key: "*\/*" → "/*\/*", "orders/GET" → "/~1orders/GET". */
const base = (k: string) => {
  if (k === ALL) return "/*/*";
  const at = k.lastIndexOf("/");
  return `/${patchKey(`/${k.slice(0, at)}`)}/${k.slice(at + 1)}`;
};

export function MethodSettings(props: { apiId: string; spath: string; settings: Record<string, MethodSetting>; onChanged: () => void }) {
  const resources = useAsync(() => listAll<Resource>(`/restapis/${props.apiId}/resources?embed=methods`), [props.apiId]);
  const keys = [ALL, ...(resources.data ?? []).flatMap((r) => Object.keys(r.resourceMethods ?? {}).map((m) => `${r.path.replace(/^\//, "")}/${m}`)).sort()];
  const [target, setTarget] = useState(ALL);
  const current = props.settings[target] ?? props.settings[ALL] ?? DEFAULTS;
  const [form, setForm] = useState<MethodSetting>(current);
  const a = useAction();
  const set = <K extends keyof MethodSetting>(k: K, v: MethodSetting[K]) => setForm({ ...form, [k]: v });
  const text = (k: keyof MethodSetting) => String(form[k]);
  return (
    <form
      class="panel"
      aria-label="Method settings"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await a.run(async () => {
          const ttl = Number(form.cacheTtlInSeconds);
          if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw new Error("The cache TTL must be a whole number of seconds from 0 to 3600");
          const p = base(target);
          const ops: PatchOp[] = [
            { op: "replace", path: `${p}/throttling/rateLimit`, value: text("throttlingRateLimit") },
            { op: "replace", path: `${p}/throttling/burstLimit`, value: text("throttlingBurstLimit") },
            { op: "replace", path: `${p}/logging/loglevel`, value: form.loggingLevel },
            { op: "replace", path: `${p}/logging/dataTrace`, value: text("dataTraceEnabled") },
            { op: "replace", path: `${p}/metrics/enabled`, value: text("metricsEnabled") },
            { op: "replace", path: `${p}/caching/enabled`, value: text("cachingEnabled") },
            { op: "replace", path: `${p}/caching/ttlInSeconds`, value: String(ttl) },
            { op: "replace", path: `${p}/caching/dataEncrypted`, value: text("cacheDataEncrypted") },
            { op: "replace", path: `${p}/caching/requireAuthorizationForCacheControl`, value: text("requireAuthorizationForCacheControl") },
            { op: "replace", path: `${p}/caching/unauthorizedCacheControlHeaderStrategy`, value: form.unauthorizedCacheControlHeaderStrategy },
          ];
          await patch(props.spath, ops);
        });
        if (ok) {
          toast(`Method settings of ${keyLabel(target)} saved`);
          props.onChanged();
        }
      }}
    >
      <h3>Method settings</h3>
      <p class="muted">Logging, detailed metrics, throttling and caching, for every method of the stage or overridden for one.</p>
      {Object.keys(props.settings).length === 0 && <p class="muted">No method settings: API Gateway's defaults apply.</p>}
      <table class="table" data-testid="method-settings-table" hidden={Object.keys(props.settings).length === 0}>
        <TableHead columns={["Methods", "Log level", "Data trace", "Detailed metrics", "Rate / burst", "Caching (TTL)"]} />
        <tbody>
          {Object.entries(props.settings).map(([k, s]) => (
            <tr key={k}>
              <td>{keyLabel(k)}</td>
              <td>{s.loggingLevel}</td>
              <td>{s.dataTraceEnabled ? "on" : "off"}</td>
              <td>{s.metricsEnabled ? "on" : "off"}</td>
              <td>
                {s.throttlingRateLimit} / {s.throttlingBurstLimit}
              </td>
              <td>{s.cachingEnabled ? `on (${s.cacheTtlInSeconds} s)` : "off"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Select
        label="Settings for"
        value={target}
        options={keys.map((k) => ({ value: k, label: keyLabel(k) }))}
        onChange={(k) => {
          setTarget(k);
          setForm(props.settings[k] ?? props.settings[ALL] ?? DEFAULTS);
        }}
      />
      <div class="row">
        <Field label="Throttling rate (requests/s)" value={text("throttlingRateLimit")} onInput={(v) => set("throttlingRateLimit", v as unknown as number)} />
        <Field label="Throttling burst" value={text("throttlingBurstLimit")} onInput={(v) => set("throttlingBurstLimit", v as unknown as number)} type="number" />
      </div>
      <div class="row">
        <Select label="Logging level" value={form.loggingLevel} options={["OFF", "ERROR", "INFO"]} onChange={(v) => set("loggingLevel", v)} />
        <Check label="Data trace (full request and response logs)" checked={form.dataTraceEnabled} onChange={(v) => set("dataTraceEnabled", v)} />
        <Check label="Detailed metrics" checked={form.metricsEnabled} onChange={(v) => set("metricsEnabled", v)} />
      </div>
      <div class="row">
        <Check label="Caching enabled" checked={form.cachingEnabled} onChange={(v) => set("cachingEnabled", v)} />
        <Field label="Cache TTL (seconds)" value={text("cacheTtlInSeconds")} onInput={(v) => set("cacheTtlInSeconds", v as unknown as number)} type="number" />
        <Check label="Encrypt cache data" checked={form.cacheDataEncrypted} onChange={(v) => set("cacheDataEncrypted", v)} />
      </div>
      <div class="row">
        <Check
          label="Require authorization to invalidate the cache"
          checked={form.requireAuthorizationForCacheControl}
          onChange={(v) => set("requireAuthorizationForCacheControl", v)}
        />
        <Select
          label="Unauthorized Cache-Control header"
          value={form.unauthorizedCacheControlHeaderStrategy}
          options={STRATEGIES}
          onChange={(v) => set("unauthorizedCacheControlHeaderStrategy", v)}
        />
      </div>
      <ErrorText error={a.error ?? resources.error} />
      <FormActions submit="Save method settings" disabled={a.busy} />
    </form>
  );
}
