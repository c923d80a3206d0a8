// Settings › Policies (admins): the IAM-style identity policies that decide what console
// users and their access keys may do (docs/access-control.md). List, create (a JSON editor
// showing the server's validation message), delete; built-ins cannot be deleted.
import { useState } from "preact/hooks";
import { del, fmtDate, get, post } from "../api";
import { Confirm, Field, FormActions, ListStatus, Modal, toast, useAction, useAsync } from "../ui";
import { TableHead } from "../shared/table";
import { JsonEditor } from "../shared/json-editor";

export type Policy = { name: string; document: unknown; builtin: boolean; createdDate: number; attachmentCount: number };

export const listPolicies = () => get<{ item: Policy[] }>("/console/api/policies").then((r) => r.item);

const STARTER = JSON.stringify(
  {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["apigateway:GET"], Resource: "*" }],
  },
  null,
  2,
);

export function Policies() {
  const policies = useAsync(listPolicies, []);
  const [creating, setCreating] = useState(false);
  const [viewing, setViewing] = useState<Policy | null>(null);
  const [removing, setRemoving] = useState<Policy | null>(null);
  return (
    <div>
      <div class="page-head">
        <h2>Policies</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create policy
        </button>
      </div>
      <p class="muted">
        IAM-style documents: <code>apigateway:GET|POST|PUT|PATCH|DELETE</code> on <code>arn:aws:apigateway:{"{region}"}::/restapis/...</code>,{" "}
        <code>logs:*</code>, <code>cloudwatch:*</code>, <code>cloudtrail:*</code> and <code>iam:*</code> actions. Default deny; an explicit Deny wins.
      </p>
      <ListStatus list={policies} loading="Loading policies" empty="No policies" />
      {policies.data && policies.data.length > 0 && (
        <table class="table" aria-label="Policies">
          <TableHead columns={["Name", "Type", "Attached to", "Created"]} />
          <tbody>
            {policies.data.map((p) => (
              <tr key={p.name}>
                <td>
                  <button type="button" class="link" onClick={() => setViewing(p)}>
                    {p.name}
                  </button>
                </td>
                <td>{p.builtin ? "Built-in" : "Custom"}</td>
                <td>{p.attachmentCount}</td>
                <td>{fmtDate(p.createdDate)}</td>
                <td class="row-actions">
                  {!p.builtin && (
                    <button type="button" class="link" aria-label={`Delete ${p.name}`} onClick={() => setRemoving(p)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && <CreatePolicy onClose={() => setCreating(false)} onCreated={policies.reload} />}
      {viewing && (
        <Modal title={`Policy ${viewing.name}`} onClose={() => setViewing(null)}>
          <pre class="code">{JSON.stringify(viewing.document, null, 2)}</pre>
          <div class="actions">
            <button type="button" class="primary" onClick={() => setViewing(null)}>
              Close
            </button>
          </div>
        </Modal>
      )}
      {removing && (
        <Confirm
          title="Delete policy"
          danger
          confirm="Delete"
          body={<p>Delete the policy {removing.name}?</p>}
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await del(`/console/api/policies/${encodeURIComponent(removing.name)}`);
            toast(`Policy ${removing.name} deleted`);
            policies.reload();
          }}
        />
      )}
    </div>
  );
}

function CreatePolicy({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [text, setText] = useState(STARTER);
  const a = useAction();
  return (
    <Modal title="Create policy" onClose={onClose}>
      <form
        aria-label="Create policy"
        onSubmit={async (e) => {
          e.preventDefault();
          let document: unknown;
          try {
            document = JSON.parse(text);
          } catch {
            // Let the server say what is wrong with it.
            document = text;
          }
          if (await a.run(() => post("/console/api/policies", { name, document }))) {
            toast(`Policy ${name} created`);
            onCreated();
            onClose();
          }
        }}
      >
        <Field label="Name" value={name} onInput={setName} required autoFocus hint="Letters, digits and +=,.@_-" />
        <JsonEditor label="Policy document" value={text} onInput={setText} rows={14} error={a.error} />
        <FormActions submit="Create policy" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
