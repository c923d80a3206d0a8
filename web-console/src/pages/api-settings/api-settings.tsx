// One API's own settings: name, description, API key source and binary media types
// (UpdateRestApi with only what changed).
import { useState } from "preact/hooks";
import { patch, patchKey, type PatchOp } from "../../api";
import { ErrorText, Field, FormActions, Select, toast, useAction } from "../../ui";
import type { RestApi } from "../apis/apis";

export function ApiSettings({ api, onSaved }: { api: RestApi; onSaved: () => void }) {
  const [name, setName] = useState(api.name);
  const [description, setDescription] = useState(api.description ?? "");
  const [keySource, setKeySource] = useState(api.apiKeySource ?? "HEADER");
  const [types, setTypes] = useState<string[]>(api.binaryMediaTypes ?? []);
  const [adding, setAdding] = useState("");
  const a = useAction();
  return (
    <form
      class="panel"
      aria-label="API settings"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await a.run(async () => {
          const ops: PatchOp[] = [];
          if (name.trim() !== api.name) ops.push({ op: "replace", path: "/name", value: name.trim() });
          if (description !== (api.description ?? "")) ops.push({ op: "replace", path: "/description", value: description });
          if (keySource !== (api.apiKeySource ?? "HEADER")) ops.push({ op: "replace", path: "/apiKeySource", value: keySource });
          const before = api.binaryMediaTypes ?? [];
          for (const t of before) if (!types.includes(t)) ops.push({ op: "remove", path: `/binaryMediaTypes/${patchKey(t)}` });
          for (const t of types) if (!before.includes(t)) ops.push({ op: "add", path: `/binaryMediaTypes/${patchKey(t)}` });
          if (ops.length) await patch(`/restapis/${api.id}`, ops);
        });
        if (ok) {
          toast("API settings saved");
          onSaved();
        }
      }}
    >
      <h2>API settings</h2>
      <Field label="API name" name="apiName" value={name} onInput={setName} required />
      <Field label="Description" name="description" value={description} onInput={setDescription} />
      <Select
        label="API key source"
        value={keySource}
        options={[
          { value: "HEADER", label: "HEADER (the x-api-key header)" },
          { value: "AUTHORIZER", label: "AUTHORIZER (the authorizer's usageIdentifierKey)" },
        ]}
        onChange={setKeySource}
      />
      <fieldset class="kv">
        <legend>Binary media types</legend>
        <p class="hint">Bodies of these content types (e.g. image/png, */*) pass through as binary.</p>
        {types.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul class="chips">
            {types.map((t) => (
              <li key={t}>
                <code>{t}</code>{" "}
                <button type="button" class="link" aria-label={`Remove binary media type ${t}`} onClick={() => setTypes(types.filter((x) => x !== t))}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <div class="inline-add">
          <Field label="Binary media type" name="binaryMediaType" value={adding} onInput={setAdding} placeholder="image/png" />
          <button
            type="button"
            class="secondary small"
            disabled={!adding.trim() || types.includes(adding.trim())}
            onClick={() => {
              setTypes([...types, adding.trim()]);
              setAdding("");
            }}
          >
            Add binary media type
          </button>
        </div>
      </fieldset>
      <ErrorText error={a.error} />
      <FormActions submit="Save settings" disabled={a.busy} />
    </form>
  );
}
