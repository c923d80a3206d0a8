// Deployment history with "make active" (rollback = re-pointing a stage) and a confirmation.
import { useState } from "preact/hooks";
import { del, fmtDateTime, listAll, patch } from "../../api";
import { Confirm, Empty, ErrorText, Loading, Select, toast, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import type { Deployment, Stage } from "./api";

export function Deployments({ apiId, version }: { apiId: string; version: number }) {
  const data = useAsync(
    async () => {
      const [deployments, stages] = await Promise.all([
        listAll<Deployment>(`/restapis/${apiId}/deployments`),
        listAll<Stage>(`/restapis/${apiId}/stages`),
      ]);
      deployments.sort((a, b) => b.createdDate - a.createdDate);
      return { deployments, stages };
    },
    [apiId, version],
  );
  const [activate, setActivate] = useState<Deployment | null>(null);
  const [remove, setRemove] = useState<Deployment | null>(null);
  const [stage, setStage] = useState("");
  if (data.error) return <ErrorText error={data.error} />;
  if (!data.data) return <Loading what="Loading deployments" />;
  const { deployments, stages } = data.data;
  if (deployments.length === 0) return <Empty title="No deployments yet">Use “Deploy API” to create the first one.</Empty>;
  const activeOn = (d: Deployment) => [
    ...stages.filter((s) => s.deploymentId === d.id).map((s) => s.stageName),
    ...stages.filter((s) => s.canarySettings?.deploymentId === d.id && s.deploymentId !== d.id).map((s) => `${s.stageName} (canary)`),
  ];
  // The stages a deployment could be made active on: those not already serving it.
  const elsewhere = (d: Deployment) => stages.filter((s) => s.deploymentId !== d.id);
  const choices = activate ? elsewhere(activate) : [];
  const target = choices.find((s) => s.stageName === stage) ?? choices[0];
  return (
    <div>
      <h2>Deployment history</h2>
      <table class="table" data-testid="deployments-table">
        <TableHead columns={["Deployment", "Description", "Created", "Active on"]} />
        <tbody>
          {deployments.map((d) => (
            <tr key={d.id} data-deployment={d.id}>
              <td>
                <code>{d.id}</code>
              </td>
              <td>{d.description ?? ""}</td>
              <td>{fmtDateTime(d.createdDate)}</td>
              <td>{activeOn(d).join(", ") || "—"}</td>
              <td class="row-actions">
                {elsewhere(d).length > 0 && (
                  <button
                    type="button"
                    class="secondary small"
                    onClick={() => {
                      setStage("");
                      setActivate(d);
                    }}
                    aria-label={`Make active: deployment ${d.id}`}
                  >
                    Make active
                  </button>
                )}
                {activeOn(d).length === 0 && (
                  <button type="button" class="link" onClick={() => setRemove(d)} aria-label={`Delete deployment ${d.id}`}>
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {activate && target && (
        <Confirm
          title="Make deployment active"
          confirm={`Make ${activate.id} active`}
          body={
            <>
              <Select label="Stage" value={target.stageName} options={choices.map((s) => s.stageName)} onChange={setStage} />
              <p>
                Stage <strong>{target.stageName}</strong> will serve deployment <code>{activate.id}</code>
                {activate.description ? ` (“${activate.description}”)` : ""} instead of <code>{target.deploymentId}</code>. Every data-plane node switches within a
                second.
              </p>
            </>
          }
          onClose={() => setActivate(null)}
          onConfirm={async () => {
            await patch(`/restapis/${apiId}/stages/${encodeURIComponent(target.stageName)}`, [
              { op: "replace", path: "/deploymentId", value: activate.id },
            ]);
            toast(`Stage ${target.stageName} now serves ${activate.id}`);
            data.reload();
          }}
        />
      )}
      {remove && (
        <Confirm
          title="Delete deployment"
          danger
          confirm="Delete deployment"
          body={<p>Delete deployment {remove.id}? It can no longer be rolled back to.</p>}
          onClose={() => setRemove(null)}
          onConfirm={async () => {
            await del(`/restapis/${apiId}/deployments/${remove.id}`);
            toast(`Deployment ${remove.id} deleted`);
            data.reload();
          }}
        />
      )}
    </div>
  );
}
