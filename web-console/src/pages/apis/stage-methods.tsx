// A stage's per-method throttling overrides: UpdateStage patch paths
// `/{resourcePath}/{METHOD}/throttling/rateLimit|burstLimit` (the resource path escaped as
// `~1`), removed with `remove /{resourcePath}/{METHOD}`. The stored keys are
// `{path without its leading /}/{METHOD}`; `*/*` is the stage default, edited elsewhere.
import { useState } from "preact/hooks";
import { listAll, patch, patchKey, type PatchOp } from "../../api";
import { ErrorText, Field, FormActions, Select, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import type { Resource } from "./resources";

type Setting = { throttlingRateLimit?: number; throttlingBurstLimit?: number };

/** "orders/GET" → ["/orders", "GET"]. */
const splitKey = (k: string): [string, string] => {
  const at = k.lastIndexOf("/");
  return [`/${k.slice(0, at)}`, k.slice(at + 1)];
};
const base = (path: string, method: string) => `/${patchKey(path)}/${method}`;

export function MethodThrottling(props: { apiId: string; spath: string; settings: Record<string, Setting>; onChanged: () => void }) {
  const resources = useAsync(() => listAll<Resource>(`/restapis/${props.apiId}/resources?embed=methods`), [props.apiId]);
  const methods = (resources.data ?? []).flatMap((r) => Object.keys(r.resourceMethods ?? {}).map((m) => `${r.path} ${m}`)).sort();
  const [target, setTarget] = useState("");
  const [rate, setRate] = useState("");
  const [burst, setBurst] = useState("");
  const a = useAction();
  const overrides = Object.entries(props.settings).filter(([k]) => k !== "*/*");
  const chosen = target || methods[0] || "";
  return (
    <form
      class="panel"
      aria-label="Method throttling"
      onSubmit={async (e) => {
        e.preventDefault();
        const sp = chosen.lastIndexOf(" ");
        const [path, method] = [chosen.slice(0, sp), chosen.slice(sp + 1)];
        const ok = await a.run(async () => {
          if (!chosen) throw new Error("The API has no method to throttle");
          const r = Number(rate);
          const b = Number(burst);
          if (rate === "" || !(r >= 0)) throw new Error("Rate must be a number of requests per second, 0 or more");
          if (burst === "" || !Number.isInteger(b) || b < 0) throw new Error("Burst must be a whole number, 0 or more");
          const ops: PatchOp[] = [
            { op: "replace", path: `${base(path, method)}/throttling/rateLimit`, value: String(r) },
            { op: "replace", path: `${base(path, method)}/throttling/burstLimit`, value: String(b) },
          ];
          await patch(props.spath, ops);
        });
        if (ok) {
          toast(`Throttling of ${chosen} saved`);
          setRate("");
          setBurst("");
          props.onChanged();
        }
      }}
    >
      <h3>Method throttling</h3>
      <p class="muted">Per-method rate and burst on this stage, overriding the stage's default.</p>
      {overrides.length === 0 ? (
        <p class="muted">No method overrides.</p>
      ) : (
        <table class="table">
          <TableHead columns={["Method", "Rate (requests/s)", "Burst"]} />
          <tbody>
            {overrides.map(([k, s]) => {
              const [path, method] = splitKey(k);
              return (
                <tr key={k}>
                  <td>
                    {path} {method}
                  </td>
                  <td>{s.throttlingRateLimit ?? "—"}</td>
                  <td>{s.throttlingBurstLimit ?? "—"}</td>
                  <td>
                    <button
                      type="button"
                      class="link"
                      aria-label={`Remove the throttling of ${path} ${method}`}
                      onClick={() =>
                        a.run(async () => {
                          await patch(props.spath, [{ op: "remove", path: base(path, method) }]);
                          toast(`Throttling of ${path} ${method} removed`);
                          props.onChanged();
                        })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div class="row">
        <Select label="Method" value={chosen} options={methods} onChange={setTarget} />
        <Field label="Method rate (requests/s)" value={rate} onInput={setRate} placeholder="e.g. 0.5" />
        <Field label="Method burst" value={burst} onInput={setBurst} type="number" />
      </div>
      <ErrorText error={a.error ?? resources.error} />
      <FormActions submit="Save method throttling" disabled={a.busy} />
    </form>
  );
}
