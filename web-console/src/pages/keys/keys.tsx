// API keys: list with search, create (generated or given value, shown once), enable or
// disable, delete, and ImportApiKeys from a CSV file.
import { useEffect, useState } from "preact/hooks";
import { RawBody, del, fmtDate, listAll, patch, post } from "../../api";
import { Check, Confirm, ErrorText, Field, FormActions, ListStatus, Modal, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import { Copyable } from "../../shared/copy";
import { SearchBox, matches, useQuery } from "../../shared/search";
import type { ApiKey } from "./types";
import { Link } from "../../router";

export function ApiKeys() {
  const keys = useAsync(() => listAll<ApiKey>("/apikeys"), []);
  const [q, setQ] = useQuery();
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [created, setCreated] = useState<ApiKey | null>(null);
  const [deleting, setDeleting] = useState<ApiKey | null>(null);
  const toggle = useAction();
  useEffect(() => {
    document.title = "API keys · API Gateway";
  }, []);
  const list = [...(keys.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const shown = list.filter((k) => matches(q, k.name, k.id, k.customerId, k.description));
  return (
    <div class="page">
      <div class="page-head">
        <h1>API keys</h1>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={() => setImporting(true)}>
            Import API keys
          </button>
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create API key
          </button>
        </div>
      </div>
      <p class="muted">Callers send a key in the x-api-key header; a usage plan says which stages it may call, how fast and how often.</p>
      <SearchBox label="Search API keys" value={q} onInput={setQ} placeholder="Search by name, id, customer or description" />
      <ListStatus list={keys} loading="Loading API keys" empty="No API keys yet" error={keys.error ?? toggle.error}>
        <p>Create a key for each client or partner, or import a CSV file of keys.</p>
      </ListStatus>
      {keys.data && keys.data.length > 0 && (
        <table class="table" data-testid="api-keys-table">
          <TableHead columns={["Name", "ID", "Status", "Customer", "Description", "Created"]} />
          <tbody>
            {shown.map((k) => (
              <tr key={k.id}>
                <td>
                  <Link href={`/api-keys/${k.id}`}>{k.name || "(no name)"}</Link>
                </td>
                <td>
                  <code>{k.id}</code>
                </td>
                <td class={k.enabled ? "status-on" : "status-off"}>{k.enabled ? "Enabled" : "Disabled"}</td>
                <td>{k.customerId ?? ""}</td>
                <td>{k.description ?? ""}</td>
                <td>{fmtDate(k.createdDate)}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    class="secondary small"
                    disabled={toggle.busy}
                    aria-label={`${k.enabled ? "Disable" : "Enable"} API key ${k.name || k.id}`}
                    onClick={async () => {
                      const ok = await toggle.run(() => patch(`/apikeys/${k.id}`, [{ op: "replace", path: "/enabled", value: String(!k.enabled) }]));
                      if (ok) {
                        toast(`API key ${k.name || k.id} ${k.enabled ? "disabled" : "enabled"}`);
                        keys.reload();
                      }
                    }}
                  >
                    {k.enabled ? "Disable" : "Enable"}
                  </button>
                  <button type="button" class="link" aria-label={`Delete API key ${k.name || k.id}`} onClick={() => setDeleting(k)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No API key matches “{q}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateKey
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setCreated(k);
            keys.reload();
          }}
        />
      )}
      {created && <ShowValueOnce k={created} onClose={() => setCreated(null)} />}
      {importing && (
        <ImportKeys
          onClose={() => setImporting(false)}
          onImported={() => keys.reload()}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete API key"
          danger
          confirm="Delete API key"
          body={
            <p>
              Delete API key <strong>{deleting.name || deleting.id}</strong>? Calls with it are refused within a second. Its usage records stay for
              billing.
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`/apikeys/${deleting.id}`);
            toast(`API key ${deleting.name || deleting.id} deleted`);
            keys.reload();
          }}
        />
      )}
    </div>
  );
}

function CreateKey({ onClose, onCreated }: { onClose: () => void; onCreated: (k: ApiKey) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [customerId, setCustomerId] = useState("");
  const [generate, setGenerate] = useState(true);
  const [value, setValue] = useState("");
  const [enabled, setEnabled] = useState(true);
  const a = useAction();
  return (
    <Modal title="Create API key" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          let k: ApiKey | undefined;
          const ok = await a.run(async () => {
            k = await post<ApiKey>("/apikeys", {
              name,
              description: description || undefined,
              customerId: customerId || undefined,
              enabled,
              value: generate ? undefined : value,
            });
          });
          if (ok && k) {
            toast(`API key ${k.name || k.id} created`);
            onCreated(k);
          }
        }}
      >
        <Field label="Name" name="name" value={name} onInput={setName} required autoFocus />
        <Field label="Description" name="description" value={description} onInput={setDescription} />
        <Field label="Customer ID" name="customerId" value={customerId} onInput={setCustomerId} hint="Carried into the billing export" />
        <fieldset class="group">
          <legend>API key value</legend>
          <div class="radio">
            <label>
              <input type="radio" name="value-kind" checked={generate} onChange={() => setGenerate(true)} /> Generate automatically
            </label>
            <label>
              <input type="radio" name="value-kind" checked={!generate} onChange={() => setGenerate(false)} /> Enter a value
            </label>
          </div>
          {!generate && (
            <Field label="Value" name="value" value={value} onInput={setValue} required hint="20 to 128 printable characters, no commas or spaces" />
          )}
        </fieldset>
        <Check label="Enabled" checked={enabled} onChange={setEnabled} />
        <ErrorText error={a.error} />
        <FormActions submit="Create" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}

/** The new key's value, shown this once. */
function ShowValueOnce({ k, onClose }: { k: ApiKey; onClose: () => void }) {
  return (
    <Modal title="API key created" onClose={onClose}>
      <p>
        Copy the value of <strong>{k.name || k.id}</strong> (ID <code>{k.id}</code>) now and give it to its client: it is not shown again.
      </p>
      <p class="secret">
        <Copyable text={k.value ?? ""} label="Copy the API key value" testId="new-api-key-value" />
      </p>
      <div class="actions">
        <button type="button" class="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}

/** ImportApiKeys (format=csv): a file or pasted text with Name and Key columns. */
function ImportKeys({ onClose, onImported }: { onClose: () => void; onImported: () => void }) {
  const [text, setText] = useState("");
  const [failOnWarnings, setFailOnWarnings] = useState(false);
  const [result, setResult] = useState<{ ids: string[]; warnings?: string[] } | null>(null);
  const a = useAction();
  return (
    <Modal title="Import API keys" onClose={onClose} wide>
      {result ? (
        <>
          <p role="status">
            Imported {result.ids.length} API key{result.ids.length === 1 ? "" : "s"}.
          </p>
          {result.warnings && (
            <ul class="error">
              {result.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          <div class="actions">
            <button type="button" class="primary" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            await a.run(async () => {
              const r = await post<{ ids: string[]; warnings?: string[] }>(
                `/apikeys?mode=import&format=csv${failOnWarnings ? "&failonwarnings=true" : ""}`,
                new RawBody(text, "text/csv"),
              );
              setResult(r);
              toast(`Imported ${r.ids.length} API key${r.ids.length === 1 ? "" : "s"}`);
              onImported();
            });
          }}
        >
          <p class="muted">
            A header row naming the <code>Name</code> and <code>Key</code> columns (<code>Description</code>, <code>Enabled</code> and{" "}
            <code>UsagePlanIds</code> optional), then one key per row. A key whose value already exists is updated.
          </p>
          <div class="field">
            <label for="import-file">CSV file</label>
            <input
              id="import-file"
              type="file"
              accept=".csv,text/csv,text/plain"
              onChange={async (e) => {
                const f = (e.currentTarget as HTMLInputElement).files?.[0];
                if (f) setText(await f.text());
              }}
            />
          </div>
          <Field label="CSV content" value={text} onInput={setText} multiline required placeholder={"Name,Key,Enabled\npartner-a,0123456789abcdefghij0123,true"} />
          <Check label="Fail on warnings (unknown usage plans)" checked={failOnWarnings} onChange={setFailOnWarnings} />
          <ErrorText error={a.error} />
          <FormActions submit="Import" disabled={a.busy || !text.trim()} onCancel={onClose} />
        </form>
      )}
    </Modal>
  );
}
