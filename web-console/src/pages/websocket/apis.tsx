// The WebSocket APIs list (apigatewayv2, protocolType WEBSOCKET): search, create with a
// name and a route selection expression, delete, open.
import { useEffect, useState } from "preact/hooks";
import { del, post } from "../../api";
import { Link, navigate } from "../../router";
import { Confirm, ErrorText, Field, FormActions, ListStatus, Modal, toast, useAction, useAsync } from "../../ui";
import { SearchBox, matches, useQuery } from "../../shared/search";
import { fmtIso, listV2, splitError, type WsApi } from "../../v2";
import type { V2CreateApiRequest } from "../../api/types";

export const WS_BASE = "/apis/websocket";

export function WsApisList() {
  // GetApis answers HTTP APIs too: they have their own list (pages/http).
  const apis = useAsync(() => listV2<WsApi>("/v2/apis").then((l) => l.filter((a) => a.protocolType === "WEBSOCKET")), []);
  const [q, setQ] = useQuery();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<WsApi>();
  useEffect(() => {
    document.title = "WebSocket APIs · API Gateway";
  }, []);
  const shown = (apis.data ?? []).filter((a) => matches(q, a.name, a.apiId, a.description, a.routeSelectionExpression));
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/apis">APIs</Link> / <span>WebSocket APIs</span>
      </nav>
      <div class="page-head">
        <h1>WebSocket APIs</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create WebSocket API
        </button>
      </div>
      <SearchBox label="Search WebSocket APIs" value={q} onInput={setQ} placeholder="Search by name, id or route selection expression" />
      <ListStatus list={apis} loading="Loading WebSocket APIs" empty="No WebSocket APIs yet">
        <p>A WebSocket API routes each message of a connection to an integration by its route key.</p>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create your first WebSocket API
        </button>
      </ListStatus>
      {apis.data && apis.data.length > 0 && (
        <table class="table" aria-label="WebSocket APIs" data-testid="ws-apis-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Route selection expression</th>
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
                  <Link href={`${WS_BASE}/${a.apiId}/routes`}>{a.name}</Link>
                </td>
                <td>
                  <code>{a.apiId}</code>
                </td>
                <td>
                  <code>{a.routeSelectionExpression}</code>
                </td>
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
                  No WebSocket API matches “{q}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {creating && <CreateWsApi onClose={() => setCreating(false)} />}
      {deleting && (
        <Confirm
          title="Delete WebSocket API"
          danger
          confirm="Delete API"
          body={
            <p>
              Delete <strong>{deleting.name}</strong>, its routes, integrations and stages? Its open connections are no longer routed. This cannot be
              undone.
            </p>
          }
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await del(`/v2/apis/${deleting.apiId}`);
            toast(`WebSocket API “${deleting.name}” deleted`);
            apis.reload();
          }}
        />
      )}
    </div>
  );
}

const API_FIELDS = { name: [], routeSelectionExpression: [], description: [] };

function CreateWsApi({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState("");
  const [rse, setRse] = useState("$request.body.action");
  const [description, setDescription] = useState("");
  const a = useAction();
  const err = splitError(a.error, API_FIELDS);
  return (
    <Modal title="Create WebSocket API" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          let api: WsApi | undefined;
          const ok = await a.run(async () => {
            api = await post<WsApi>("/v2/apis", {
              name,
              protocolType: "WEBSOCKET",
              routeSelectionExpression: rse,
              description: description || undefined,
            } satisfies V2CreateApiRequest);
          });
          if (ok && api) {
            toast(`WebSocket API “${api.name}” created`);
            onClose();
            navigate(`${WS_BASE}/${api.apiId}/routes`);
          }
        }}
      >
        <Field label="Name" name="name" value={name} onInput={setName} required autoFocus error={err.at("name")} />
        <Field
          label="Route selection expression"
          name="routeSelectionExpression"
          value={rse}
          onInput={setRse}
          required
          error={err.at("routeSelectionExpression")}
          hint="Which part of a message picks its route, e.g. $request.body.action"
        />
        <Field label="Description" name="description" value={description} onInput={setDescription} error={err.at("description")} />
        <ErrorText error={err.rest} />
        <FormActions submit="Create" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
