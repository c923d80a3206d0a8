// The HTTP APIs list (apigatewayv2, protocolType HTTP): search, create (an empty API, or
// AWS's quick create: a target URL or Lambda function ARN, and optionally a route key, make
// the route, its integration and the `$default` stage with automatic deployment), import an
// OpenAPI 3.0 document (openapi.tsx), delete, open.
import { useEffect, useState } from "preact/hooks";
import { del, post } from "../../api";
import { Link, navigate } from "../../router";
import { Check, Confirm, ErrorText, Field, FormActions, ListStatus, Modal, toast, useAction, useAsync } from "../../ui";
import { SearchBox, matches, useQuery } from "../../shared/search";
import { fmtIso, listV2, splitError, type HttpApi } from "../../v2";
import type { V2CreateApiRequest } from "../../api/types";
import { ImportHttpApi } from "./openapi";

/** HTTP APIs live under /apis/http (a REST API id is never "http"), like WebSocket APIs. */
export const HTTP_BASE = "/apis/http";

export function HttpApisList() {
  // GetApis answers WebSocket APIs too: they have their own list.
  const apis = useAsync(() => listV2<HttpApi>("/v2/apis").then((l) => l.filter((a) => a.protocolType === "HTTP")), []);
  const [q, setQ] = useQuery();
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [deleting, setDeleting] = useState<HttpApi>();
  useEffect(() => {
    document.title = "HTTP APIs · API Gateway";
  }, []);
  const shown = (apis.data ?? []).filter((a) => matches(q, a.name, a.apiId, a.description));
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/apis">APIs</Link> / <span>HTTP APIs</span>
      </nav>
      <div class="page-head">
        <h1>HTTP APIs</h1>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={() => setImporting(true)}>
            Import
          </button>
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create HTTP API
          </button>
        </div>
      </div>
      <SearchBox label="Search HTTP APIs" value={q} onInput={setQ} placeholder="Search by name, id or description" />
      <ListStatus list={apis} loading="Loading HTTP APIs" empty="No HTTP APIs yet">
        <p>
          An HTTP API sends each request to an integration by its route (<code>GET /pets/{"{id}"}</code>, <code>ANY /{"{proxy+}"}</code>,{" "}
          <code>$default</code>), with JWT or Lambda authorizers and CORS handled by the gateway.
        </p>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create your first HTTP API
        </button>
      </ListStatus>
      {apis.data && apis.data.length > 0 && (
        <table class="table" aria-label="HTTP APIs" data-testid="http-apis-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Description</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={a.apiId}>
                <td>
                  <Link href={`${HTTP_BASE}/${a.apiId}/routes`}>{a.name}</Link>
                </td>
                <td>
                  <code>{a.apiId}</code>
                </td>
                <td>{a.description || <span class="muted">—</span>}</td>
                <td>{fmtIso(a.createdDate)}</td>
                <td class="row-actions">
                  <button type="button" class="link" aria-label={`Delete ${a.name}`} onClick={() => setDeleting(a)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  No HTTP API matches “{q}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {creating && <CreateHttpApi onClose={() => setCreating(false)} />}
      {importing && <ImportHttpApi onClose={() => setImporting(false)} />}
      {deleting && (
        <Confirm
          title="Delete HTTP API"
          danger
          confirm="Delete API"
          body={
            <p>
              Delete <strong>{deleting.name}</strong>, its routes, integrations, authorizers and stages? Its invoke URLs stop answering. This cannot be
              undone.
            </p>
          }
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await del(`/v2/apis/${deleting.apiId}`);
            toast(`HTTP API “${deleting.name}” deleted`);
            apis.reload();
          }}
        />
      )}
    </div>
  );
}

// target first: its messages may also say "route".
const API_FIELDS = { target: ["target"], routeKey: ["route key"], name: [], description: [] };

function CreateHttpApi({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [quick, setQuick] = useState(true);
  const [target, setTarget] = useState("");
  const [routeKey, setRouteKey] = useState("");
  const a = useAction();
  const err = splitError(a.error, API_FIELDS);
  return (
    <Modal title="Create HTTP API" onClose={onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          let api: HttpApi | undefined;
          const ok = await a.run(async () => {
            api = await post<HttpApi>("/v2/apis", {
              name: name.trim(),
              protocolType: "HTTP",
              description: description || undefined,
              target: quick ? target.trim() : undefined,
              routeKey: quick && routeKey.trim() ? routeKey.trim() : undefined,
            } satisfies V2CreateApiRequest);
          });
          if (ok && api) {
            toast(`HTTP API “${api.name}” created`);
            onClose();
            navigate(`${HTTP_BASE}/${api.apiId}/${quick ? "stages" : "routes"}`);
          }
        }}
      >
        <Field label="Name" name="name" value={name} onInput={setName} required autoFocus error={err.at("name")} />
        <Field label="Description" name="description" value={description} onInput={setDescription} error={err.at("description")} />
        <Check label="Quick create: a route, its integration and the $default stage" checked={quick} onChange={setQuick} />
        {quick && (
          <>
            <Field
              label="Target"
              name="target"
              value={target}
              onInput={setTarget}
              required
              placeholder="https://backend.example.com or arn:aws:lambda:us-east-1:000000000000:function:orders"
              hint="An HTTP URL (HTTP_PROXY integration) or a Lambda function ARN (AWS_PROXY, payload format 2.0)"
              error={err.at("target")}
            />
            <Field
              label="Route key (optional)"
              name="routeKey"
              value={routeKey}
              onInput={setRouteKey}
              placeholder="$default"
              hint="e.g. GET /orders/{id} or ANY /{proxy+}; empty: $default, every request"
              error={err.at("routeKey")}
            />
          </>
        )}
        <ErrorText error={err.rest} />
        <FormActions submit="Create" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
