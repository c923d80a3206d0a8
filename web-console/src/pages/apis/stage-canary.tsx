// A stage's canary release (issue 17): create one from a deployment, set its share of the
// stage's traffic with a slider, its stage-variable overrides and stage-cache use, promote
// it (AWS's patch sequence in one UpdateStage call: copy the overrides into the stage's
// variables, copy its deployment into the stage's, set its share to 0 %) or delete it
// (`remove /canarySettings`). Every change is one UpdateStage call.
import { useState } from "preact/hooks";
import { fmtDateTime, listAll, patch, patchKey, type PatchOp } from "../../api";
import { Check, Confirm, ErrorText, FormActions, KeyValues, Select, entries, fromEntries, toast, useAction, useAsync } from "../../ui";
import type { Deployment, Stage } from "./api";
import type { CanarySettings } from "../../api/types";
export type { CanarySettings };

/** The patch operations that make the canary `after` out of `before` (none: a new one). */
function canaryOps(before: CanarySettings | undefined, after: Required<CanarySettings>): PatchOp[] {
  const ops: PatchOp[] = [];
  if (before?.deploymentId !== after.deploymentId) ops.push({ op: "replace", path: "/canarySettings/deploymentId", value: after.deploymentId });
  if (before?.percentTraffic !== after.percentTraffic) ops.push({ op: "replace", path: "/canarySettings/percentTraffic", value: String(after.percentTraffic) });
  if (!!before?.useStageCache !== after.useStageCache) ops.push({ op: "replace", path: "/canarySettings/useStageCache", value: String(after.useStageCache) });
  const was = before?.stageVariableOverrides ?? {};
  for (const k of Object.keys(was)) if (!(k in after.stageVariableOverrides)) ops.push({ op: "remove", path: `/canarySettings/stageVariableOverrides/${patchKey(k)}` });
  for (const [k, v] of Object.entries(after.stageVariableOverrides))
    if (was[k] !== v) ops.push({ op: "replace", path: `/canarySettings/stageVariableOverrides/${patchKey(k)}`, value: v });
  return ops;
}

export function CanaryPanel(props: { apiId: string; spath: string; stage: Stage; onChanged: () => void }) {
  const { stage } = props;
  const canary: CanarySettings | undefined = stage.canarySettings;
  const deployments = useAsync(async () => {
    const all = await listAll<Deployment>(`/restapis/${props.apiId}/deployments`);
    return all.sort((a, b) => b.createdDate - a.createdDate);
  }, [props.apiId, stage.lastUpdatedDate]);
  const others = (deployments.data ?? []).filter((d) => d.id !== stage.deploymentId);
  const [deploymentId, setDeploymentId] = useState(canary?.deploymentId ?? "");
  const [percent, setPercent] = useState(String(canary?.percentTraffic ?? 10));
  const [overrides, setOverrides] = useState(entries(canary?.stageVariableOverrides));
  const [useCache, setUseCache] = useState(!!canary?.useStageCache);
  const [promoting, setPromoting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const a = useAction();
  const chosen = deploymentId || canary?.deploymentId || others[0]?.id || stage.deploymentId;
  const label = (d: Deployment) => `${d.id} — ${d.description ?? "no description"}, ${fmtDateTime(d.createdDate)}`;
  const options = (deployments.data ?? []).map((d) => ({ value: d.id, label: label(d) }));
  return (
    <form
      class="panel"
      aria-label="Canary"
      data-testid="canary-panel"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await a.run(async () => {
          const p = Number(percent);
          if (percent.trim() === "" || !(p >= 0 && p <= 100)) throw new Error("The canary's share must be a percentage from 0.0 to 100.0");
          const ops = canaryOps(canary, {
            deploymentId: chosen,
            percentTraffic: p,
            useStageCache: useCache,
            stageVariableOverrides: fromEntries(overrides),
          });
          if (ops.length) await patch(props.spath, ops);
        });
        if (ok) {
          toast(canary ? "Canary saved" : `Canary created: ${percent} % of ${stage.stageName} goes to ${chosen}`);
          props.onChanged();
        }
      }}
    >
      <h3>Canary</h3>
      {canary ? (
        <p data-testid="canary-summary">
          <strong>{canary.percentTraffic ?? 0} %</strong> of the stage's requests go to deployment <code>{canary.deploymentId}</code>, the rest to{" "}
          <code>{stage.deploymentId}</code>.
        </p>
      ) : (
        <p class="muted">No canary. A canary sends a share of this stage's requests to another deployment, with its own stage-variable overrides, until you promote or delete it.</p>
      )}
      <Select label="Canary deployment" value={chosen} options={options} onChange={setDeploymentId} />
      <div class="row">
        <div class="field">
          <label for="canary-percent-range">Canary traffic</label>
          <input
            id="canary-percent-range"
            type="range"
            min="0"
            max="100"
            step="0.1"
            value={percent}
            aria-valuetext={`${percent} %`}
            onInput={(e) => setPercent((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="canary-percent">Canary traffic (%)</label>
          <input id="canary-percent" type="number" step="any" value={percent} onInput={(e) => setPercent((e.currentTarget as HTMLInputElement).value)} />
        </div>
      </div>
      <KeyValues label="Canary stage variable overrides" keyLabel="Name" valueLabel="Value" rows={overrides} onChange={setOverrides} addLabel="Add override" />
      <Check label="Canary uses the stage cache" checked={useCache} onChange={setUseCache} />
      <ErrorText error={a.error ?? deployments.error} />
      <FormActions submit={canary ? "Save canary" : "Create canary"} disabled={a.busy} />
      {canary && (
        <div class="actions">
          <button type="button" class="primary" onClick={() => setPromoting(true)}>
            Promote canary
          </button>
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete canary
          </button>
        </div>
      )}
      {promoting && canary && (
        <Confirm
          title="Promote canary"
          confirm="Promote canary"
          body={
            <p>
              Stage {stage.stageName} will serve deployment <code>{canary.deploymentId}</code> for every request, its overrides become stage variables, and the
              canary's share drops to 0 % (delete the canary afterwards to remove it).
            </p>
          }
          onClose={() => setPromoting(false)}
          onConfirm={async () => {
            await patch(props.spath, [
              { op: "replace", path: "/canarySettings/percentTraffic", value: "0.0" },
              { op: "copy", from: "/canarySettings/stageVariableOverrides", path: "/variables" },
              { op: "copy", from: "/canarySettings/deploymentId", path: "/deploymentId" },
            ]);
            toast(`Canary promoted: ${stage.stageName} serves ${canary.deploymentId}`);
            props.onChanged();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete canary"
          danger
          confirm="Delete canary"
          body={<p>Send every request of stage {stage.stageName} back to deployment {stage.deploymentId}?</p>}
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await patch(props.spath, [{ op: "remove", path: "/canarySettings" }]);
            toast(`Canary of ${stage.stageName} deleted`);
            props.onChanged();
          }}
        />
      )}
    </form>
  );
}
