// A WebSocket API's Models tab: list, create, edit (name, content type, description, JSON
// schema) and delete. The schema is checked as you type (JSON syntax); the control plane has
// the last word (a JSON object, an alphanumeric unique name) and its message is shown under
// the field it names. Route responses name models in their response models (Routes tab).
import { useState } from "preact/hooks";
import { del, post, update } from "../../api";
import { Confirm, ErrorText, Field, FormActions, ListStatus, Modal, toast, useAction, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import { JsonEditor, pretty } from "../../shared/json-editor";
import { listV2, splitError, type WsModel } from "../../v2";
import type { V2CreateModelRequest, V2UpdateModelRequest } from "../../api/types";

const STARTER = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Message",
  "type": "object",
  "properties": {
    "action": { "type": "string" }
  }
}`;

// schema first: "Invalid model schema: ..." also says "model".
const FIELDS = { schema: [], contentType: ["content type"], name: ["model name"] };

export function WsModels({ apiId }: { apiId: string }) {
  const list = useAsync(() => listV2<WsModel>(`/v2/apis/${apiId}/models`), [apiId]);
  const [editing, setEditing] = useState<WsModel | "new" | null>(null);
  const [deleting, setDeleting] = useState<WsModel | null>(null);
  const rows = [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section>
      <div class="page-head">
        <h2>Models</h2>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Create model
        </button>
      </div>
      <ListStatus list={list} loading="Loading models" empty="No models yet">
        <p>A model is a JSON Schema (draft-04) of a message. Route responses name the models of their answers.</p>
      </ListStatus>
      {rows.length > 0 && (
        <Table
          label="Models"
          testId="ws-models"
          rows={rows}
          rowKey={(m) => m.modelId}
          columns={[
            { title: "Name", cell: (m) => m.name },
            { title: "ID", cell: (m) => <code>{m.modelId}</code> },
            { title: "Content type", cell: (m) => m.contentType ?? "application/json" },
            { title: "Description", cell: (m) => m.description || "—" },
            {
              title: "Actions",
              hidden: true,
              cell: (m) => <EditDeleteButtons what={`model ${m.name}`} onEdit={() => setEditing(m)} onDelete={() => setDeleting(m)} />,
            },
          ]}
        />
      )}
      {editing && (
        <ModelDialog
          apiId={apiId}
          model={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete model"
          danger
          confirm="Delete model"
          body={
            <p>
              Delete the model <strong>{deleting.name}</strong>?
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`/v2/apis/${apiId}/models/${deleting.modelId}`);
            toast(`Model ${deleting.name} deleted`);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function ModelDialog(props: { apiId: string; model: WsModel | null; onClose: () => void; onSaved: () => void }) {
  const was = props.model;
  const [name, setName] = useState(was?.name ?? "");
  const [contentType, setContentType] = useState(was?.contentType ?? "application/json");
  const [description, setDescription] = useState(was?.description ?? "");
  const [schema, setSchema] = useState(was ? pretty(was.schema) : STARTER);
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  return (
    <Modal title={was ? `Edit model ${was.name}` : "Create model"} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          // The schema goes as typed: the control plane says what is wrong with it.
          const body = { name: name.trim(), contentType: contentType.trim(), description, schema } satisfies V2UpdateModelRequest;
          const ok = await a.run(() =>
            was
              ? update(`/v2/apis/${props.apiId}/models/${was.modelId}`, body)
              : post(`/v2/apis/${props.apiId}/models`, { ...body, description: description || undefined } satisfies V2CreateModelRequest),
          );
          if (ok) {
            toast(`Model ${body.name} ${was ? "saved" : "created"}`);
            props.onSaved();
          }
        }}
      >
        <Field label="Model name" name="modelName" value={name} onInput={setName} required autoFocus hint="Letters and digits, e.g. Message" error={err.at("name")} />
        <Field label="Content type" name="contentType" value={contentType} onInput={setContentType} required error={err.at("contentType")} />
        <Field label="Description" name="description" value={description} onInput={setDescription} />
        <JsonEditor label="Schema (JSON Schema draft-04)" value={schema} onInput={setSchema} hint="A JSON object" error={err.at("schema")} />
        <ErrorText error={err.rest} />
        <FormActions submit={was ? "Save" : "Create"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
