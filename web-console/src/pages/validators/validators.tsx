// Request validators of one API: create (body and/or parameters), edit (rename, toggle),
// delete. Methods choose one in their method request.
import { useState } from "preact/hooks";
import { del, listAll, patch, post, type PatchOp } from "../../api";
import { Check, Confirm, ErrorText, Field, FormActions, ListStatus, Modal, toast, useAction, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import type { RequestValidator } from "../../api/types";
export type { RequestValidator };

export function Validators({ apiId }: { apiId: string }) {
  const validators = useAsync(() => listAll<RequestValidator>(`/restapis/${apiId}/requestvalidators`), [apiId]);
  const [editing, setEditing] = useState<RequestValidator | "new" | null>(null);
  const [deleting, setDeleting] = useState<RequestValidator | null>(null);
  const list = [...(validators.data ?? [])].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
  const yes = (b?: boolean) => (b ? "Yes" : "No");
  return (
    <div>
      <div class="page-head">
        <h2>Request validators</h2>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Create request validator
        </button>
      </div>
      <p class="muted">A method that names a validator has its body checked against its request model, and its required query strings and headers checked, before the integration is called.</p>
      <ListStatus list={validators} loading="Loading request validators" empty="No request validators yet" />
      {list.length > 0 && (
        <Table
          label="Request validators"
          rows={list}
          rowKey={(v) => v.id}
          columns={[
            { title: "Name", cell: (v) => v.name ?? "—" },
            { title: "ID", cell: (v) => <code>{v.id}</code> },
            { title: "Validates body", cell: (v) => yes(v.validateRequestBody) },
            { title: "Validates parameters", cell: (v) => yes(v.validateRequestParameters) },
            {
              title: "Actions",
              hidden: true,
              cell: (v) => <EditDeleteButtons what={`validator ${v.name ?? v.id}`} onEdit={() => setEditing(v)} onDelete={() => setDeleting(v)} />,
            },
          ]}
        />
      )}
      {editing && <ValidatorDialog apiId={apiId} validator={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={validators.reload} />}
      {deleting && (
        <Confirm
          title="Delete request validator"
          danger
          confirm="Delete request validator"
          body={
            <p>
              Delete the request validator <strong>{deleting.name ?? deleting.id}</strong>?
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`/restapis/${apiId}/requestvalidators/${deleting.id}`);
            toast(`Request validator ${deleting.name ?? deleting.id} deleted`);
            validators.reload();
          }}
        />
      )}
    </div>
  );
}

function ValidatorDialog({ apiId, validator, onClose, onSaved }: { apiId: string; validator: RequestValidator | null; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(validator?.name ?? "");
  const [body, setBody] = useState(!!validator?.validateRequestBody);
  const [params, setParams] = useState(!!validator?.validateRequestParameters);
  const a = useAction();
  return (
    <Modal title={validator ? "Edit request validator" : "Create request validator"} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await a.run(async () => {
            if (!validator) {
              await post(`/restapis/${apiId}/requestvalidators`, { name: name.trim(), validateRequestBody: body, validateRequestParameters: params });
            } else {
              const ops: PatchOp[] = [];
              if (name.trim() !== (validator.name ?? "")) ops.push({ op: "replace", path: "/name", value: name.trim() });
              if (body !== !!validator.validateRequestBody) ops.push({ op: "replace", path: "/validateRequestBody", value: String(body) });
              if (params !== !!validator.validateRequestParameters) ops.push({ op: "replace", path: "/validateRequestParameters", value: String(params) });
              if (ops.length) await patch(`/restapis/${apiId}/requestvalidators/${validator.id}`, ops);
            }
          });
          if (ok) {
            toast(`Request validator ${name.trim()} saved`);
            onSaved();
            onClose();
          }
        }}
      >
        <Field label="Validator name" name="validatorName" value={name} onInput={setName} required autoFocus />
        <Check label="Validate request body" checked={body} onChange={setBody} />
        <Check label="Validate query string parameters and headers" checked={params} onChange={setParams} />
        <ErrorText error={a.error} />
        <FormActions submit={validator ? "Save" : "Create request validator"} disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
