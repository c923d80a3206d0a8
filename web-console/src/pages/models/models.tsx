// Models of one API: list, create, edit (schema and description), delete. A model's schema
// is JSON Schema draft-04; the control plane validates it on save and its message is shown.
import { useState } from "preact/hooks";
import { del, listAll, patch, post, type PatchOp } from "../../api";
import { Confirm, ErrorText, Field, FormActions, ListStatus, Modal, toast, useAction, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import { JsonEditor, jsonError, pretty } from "../../shared/json-editor";
import type { Model } from "../../api/types";
export type { Model };

const STARTER = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Example",
  "type": "object",
  "properties": {}
}`;

export function Models({ apiId }: { apiId: string }) {
  const models = useAsync(() => listAll<Model>(`/restapis/${apiId}/models`), [apiId]);
  const [editing, setEditing] = useState<Model | "new" | null>(null);
  const [deleting, setDeleting] = useState<Model | null>(null);
  const list = [...(models.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div>
      <div class="page-head">
        <h2>Models</h2>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Create model
        </button>
      </div>
      <p class="muted">A model is a JSON Schema (draft-04) for a request or response body. Request validators check bodies against the model a method names for the content type.</p>
      <ListStatus list={models} loading="Loading models" empty="No models yet" />
      {list.length > 0 && (
        <Table
          label="Models"
          rows={list}
          rowKey={(m) => m.id}
          columns={[
            { title: "Name", cell: (m) => m.name },
            { title: "Content type", cell: (m) => m.contentType ?? "application/json" },
            { title: "Description", cell: (m) => m.description ?? "—" },
            {
              title: "Actions",
              hidden: true,
              cell: (m) => <EditDeleteButtons what={`model ${m.name}`} onEdit={() => setEditing(m)} onDelete={() => setDeleting(m)} />,
            },
          ]}
        />
      )}
      {editing && <ModelDialog apiId={apiId} model={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={models.reload} />}
      {deleting && (
        <Confirm
          title="Delete model"
          danger
          confirm="Delete model"
          body={
            <p>
              Delete the model <strong>{deleting.name}</strong>? Methods and models that use it must stop using it first.
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`/restapis/${apiId}/models/${encodeURIComponent(deleting.name)}`);
            toast(`Model ${deleting.name} deleted`);
            models.reload();
          }}
        />
      )}
    </div>
  );
}

function ModelDialog({ apiId, model, onClose, onSaved }: { apiId: string; model: Model | null; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(model?.name ?? "");
  const [contentType, setContentType] = useState(model?.contentType ?? "application/json");
  const [description, setDescription] = useState(model?.description ?? "");
  const [schema, setSchema] = useState(model ? pretty(model.schema) : STARTER);
  const a = useAction();
  return (
    <Modal title={model ? `Edit model ${model.name}` : "Create model"} onClose={onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await a.run(async () => {
            const syntax = jsonError(schema);
            if (syntax) throw new Error(`The schema is not valid JSON: ${syntax}`);
            if (!model) {
              await post(`/restapis/${apiId}/models`, { name: name.trim(), contentType, description: description || undefined, schema });
            } else {
              const ops: PatchOp[] = [];
              if (schema !== pretty(model.schema)) ops.push({ op: "replace", path: "/schema", value: schema });
              if (description !== (model.description ?? "")) ops.push({ op: "replace", path: "/description", value: description });
              if (ops.length) await patch(`/restapis/${apiId}/models/${encodeURIComponent(model.name)}`, ops);
            }
          });
          if (ok) {
            toast(`Model ${model?.name ?? name.trim()} saved`);
            onSaved();
            onClose();
          }
        }}
      >
        {!model && (
          <>
            <Field label="Model name" name="modelName" value={name} onInput={setName} required autoFocus hint="Letters and digits, e.g. Order" />
            <Field label="Content type" name="contentType" value={contentType} onInput={setContentType} required />
          </>
        )}
        <Field label="Description" name="description" value={description} onInput={setDescription} />
        <JsonEditor label="Schema (JSON Schema draft-04)" value={schema} onInput={setSchema} hint="Saved only if the control plane accepts it as a draft-04 schema" />
        <ErrorText error={a.error} />
        <FormActions submit={model ? "Save" : "Create model"} disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
