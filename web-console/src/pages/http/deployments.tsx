// An HTTP API's Deployments tab: its deployments (automatic ones too) with the stages that
// serve each; "Create deployment" freezes the API's routes, integrations, authorizers and
// CORS, optionally onto a stage (CreateDeployment); delete (refused while a stage serves it).
import { useState } from "preact/hooks";
import { post } from "../../api";
import { ErrorText, Field, FormActions, ListStatus, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { DeleteRow } from "../../shared/delete-row";
import { Table } from "../../shared/table";
import { fmtIso, listV2, splitError, type HttpDeployment, type HttpStage } from "../../v2";
import type { V2CreateDeploymentRequest } from "../../api/types";

export function HttpDeployments({ apiId }: { apiId: string }) {
  const list = useAsync(() => listV2<HttpDeployment>(`/v2/apis/${apiId}/deployments`), [apiId]);
  const stages = useAsync(() => listV2<HttpStage>(`/v2/apis/${apiId}/stages`), [apiId]);
  const [creating, setCreating] = useState(false);
  const rows = [...(list.data ?? [])].sort((a, b) => (b.createdDate ?? "").localeCompare(a.createdDate ?? ""));
  const servedBy = (d: HttpDeployment) =>
    (stages.data ?? [])
      .filter((s) => s.deploymentId === d.deploymentId)
      .map((s) => s.stageName)
      .join(", ");
  const reload = () => {
    list.reload();
    stages.reload();
  };
  return (
    <section>
      <div class="page-head">
        <h2>Deployments</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create deployment
        </button>
      </div>
      <ListStatus list={list} loading="Loading deployments" empty="No deployments yet">
        <p>A deployment is a frozen copy of the API that stages serve; a stage with automatic deployment gets a new one at every change.</p>
      </ListStatus>
      {rows.length > 0 && (
        <Table
          label="Deployments"
          testId="http-deployments"
          rows={rows}
          rowKey={(d) => d.deploymentId}
          columns={[
            { title: "ID", cell: (d) => <code>{d.deploymentId}</code> },
            { title: "Created", cell: (d) => fmtIso(d.createdDate) },
            { title: "Status", cell: (d) => d.deploymentStatus ?? "—" },
            { title: "Automatic", cell: (d) => (d.autoDeployed ? "Yes" : "No") },
            { title: "Description", cell: (d) => d.description || <span class="muted">—</span> },
            { title: "Served by", cell: (d) => servedBy(d) || <span class="muted">No stage</span> },
            {
              title: "Actions",
              hidden: true,
              cell: (d) => <DeleteRow what={`deployment ${d.deploymentId}`} title="Delete deployment" path={`/v2/apis/${apiId}/deployments/${d.deploymentId}`} onDone={reload} />,
            },
          ]}
        />
      )}
      {creating && (
        <CreateDeployment
          apiId={apiId}
          stages={stages.data ?? []}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
    </section>
  );
}

const FIELDS = { stageName: ["stage"], description: [] };

function CreateDeployment(props: { apiId: string; stages: HttpStage[]; onClose: () => void; onCreated: () => void }) {
  // Stages with automatic deployment get theirs by themselves.
  const manual = props.stages.filter((s) => !s.autoDeploy);
  const [stage, setStage] = useState(manual[0]?.stageName ?? "");
  const [description, setDescription] = useState("");
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  return (
    <Modal title="Create deployment" onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          let d: HttpDeployment | undefined;
          const ok = await a.run(async () => {
            d = await post<HttpDeployment>(`/v2/apis/${props.apiId}/deployments`, {
              stageName: stage || undefined,
              description: description || undefined,
            } satisfies V2CreateDeploymentRequest);
          });
          if (ok) {
            toast(`Deployment ${d?.deploymentId} created${stage ? ` on ${stage}` : ""}`);
            props.onCreated();
          }
        }}
      >
        <Select
          label="Stage"
          name="stageName"
          value={stage}
          options={[{ value: "", label: "No stage (deploy later)" }, ...manual.map((s) => s.stageName)]}
          onChange={setStage}
        />
        {props.stages.length > manual.length && <p class="hint">Stages with automatic deployment are not listed: every change deploys to them.</p>}
        {err.at("stageName") && <ErrorText error={err.at("stageName")} />}
        <Field label="Description" name="description" value={description} onInput={setDescription} error={err.at("description")} />
        <ErrorText error={err.rest} />
        <FormActions submit="Deploy" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
