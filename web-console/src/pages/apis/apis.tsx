// The APIs list: search, create, open.
import { useEffect, useLayoutEffect, useState } from "preact/hooks";
import { RawBody, fmtDate, listAll, post } from "../../api";
import { Link, navigate } from "../../router";
import { Check, ErrorText, Field, FormActions, ListStatus, Modal, Select, toast, useAction, useAsync } from "../../ui";
import type { RestApi } from "../../api/types";
export type { RestApi };

export function ApisList() {
  const apis = useAsync(() => listAll<RestApi>("/restapis"), []);
  const [q, setQ] = useState(new URLSearchParams(location.search).get("q") ?? "");
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    document.title = "APIs · API Gateway";
  }, []);
  useLayoutEffect(() => {
    // Time to interactive of this screen, read by the browser tests. A layout
    // effect runs in the same task that puts the list in the DOM, so the mark
    // exists as soon as the list can be seen.
    if (apis.data) performance.mark("apis-list-ready");
  }, [apis.data]);
  const needle = q.trim().toLowerCase();
  const shown = (apis.data ?? []).filter(
    (a) => !needle || a.name.toLowerCase().includes(needle) || a.id.includes(needle) || (a.description ?? "").toLowerCase().includes(needle),
  );
  return (
    <div class="page">
      <div class="page-head">
        <h1>APIs</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create API
        </button>
      </div>
      <div class="toolbar">
        <label class="search">
          <span class="sr-only">Search APIs</span>
          <input
            type="search"
            placeholder="Search by name, id or description"
            value={q}
            onInput={(e) => {
              const v = (e.currentTarget as HTMLInputElement).value;
              setQ(v);
              history.replaceState(null, "", v ? `/apis?q=${encodeURIComponent(v)}` : "/apis");
            }}
          />
        </label>
      </div>
      <ListStatus list={apis} loading="Loading APIs" empty="No APIs yet">
        <p>An API groups resources and methods that you deploy to stages.</p>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create your first API
        </button>
      </ListStatus>
      {apis.data && apis.data.length > 0 && (
        <table class="table" data-testid="apis-table" data-ready="true">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Description</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={a.id}>
                <td>
                  <Link href={`/apis/${a.id}/resources`}>{a.name}</Link>
                </td>
                <td>
                  <code>{a.id}</code>
                </td>
                <td>{a.description ?? ""}</td>
                <td>{fmtDate(a.createdDate)}</td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={4} class="muted">
                  No API matches “{q}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {creating && <CreateApi onClose={() => setCreating(false)} />}
    </div>
  );
}

function CreateApi({ onClose }: { onClose: () => void }) {
  const [from, setFrom] = useState("new");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [doc, setDoc] = useState("");
  const [strict, setStrict] = useState(false);
  const a = useAction();
  const importing = from === "openapi";
  return (
    <Modal title="Create API" onClose={onClose} wide={importing}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          let api: (RestApi & { warnings?: string[] }) | undefined;
          const ok = await a.run(async () => {
            api = importing
              ? await post(`/restapis?mode=import&failonwarnings=${strict}`, new RawBody(doc, doc.trim().startsWith("{") ? "application/json" : "application/yaml"))
              : await post<RestApi>("/restapis", { name, description: description || undefined });
          });
          if (ok && api) {
            const warned = api.warnings?.length ? ` (${api.warnings.length} warning${api.warnings.length === 1 ? "" : "s"}: ${api.warnings.join("; ")})` : "";
            toast(`API “${api.name}” ${importing ? "imported" : "created"}${warned}`);
            onClose();
            navigate(`/apis/${api.id}/resources`);
          }
        }}
      >
        <Select
          label="Start from"
          value={from}
          options={[
            { value: "new", label: "A new, empty API" },
            { value: "openapi", label: "An OpenAPI 3.0 or Swagger 2.0 document (ImportRestApi)" },
          ]}
          onChange={setFrom}
        />
        {importing ? (
          <>
            <div class="field">
              <label for="openapi-file">Load a file</label>
              <input
                id="openapi-file"
                type="file"
                accept=".json,.yaml,.yml,application/json,application/yaml"
                onChange={async (e) => {
                  const file = (e.currentTarget as HTMLInputElement).files?.[0];
                  if (file) setDoc(await file.text());
                }}
              />
            </div>
            <Field
              label="OpenAPI document (JSON or YAML)"
              name="openapi"
              value={doc}
              onInput={setDoc}
              multiline
              required
              hint="x-amazon-apigateway-* extensions (integrations, authorizers, validators, gateway responses) are imported; the API's name is info.title"
            />
            <Check label="Fail on warnings (refuse the document if anything in it would be ignored)" checked={strict} onChange={setStrict} />
          </>
        ) : (
          <>
            <Field label="Name" name="name" value={name} onInput={setName} required autoFocus />
            <Field label="Description" name="description" value={description} onInput={setDescription} />
          </>
        )}
        <ErrorText error={a.error} />
        <FormActions submit={importing ? "Import" : "Create"} disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
