// One HTTP API: its header (name, description, the default endpoint, edit, delete) and tabs
// for routes (routes.tsx), integrations (integrations.tsx), authorizers (authorizers.tsx),
// CORS (cors.tsx), stages with their invoke URLs, route settings and access logs
// (stages.tsx), deployments (deployments.tsx) and metrics (metrics.tsx); Reimport and Export of its OpenAPI 3.0
// document (openapi.tsx).
import { useEffect, useState } from "preact/hooks";
import { del, get, update } from "../../api";
import { Link, match, navigate } from "../../router";
import { Check, Confirm, ErrorText, Field, FormActions, Loading, Modal, toast, useAction, useAsync } from "../../ui";
import { NotFound } from "../../shared/not-found";
import { splitError, type HttpApi } from "../../v2";
import type { V2UpdateApiRequest } from "../../api/types";
import { HTTP_BASE } from "./apis";
import { HttpRoutes } from "./routes";
import { HttpIntegrations } from "./integrations";
import { HttpAuthorizers } from "./authorizers";
import { HttpCorsTab } from "./cors";
import { HttpStages } from "./stages";
import { HttpDeployments } from "./deployments";
import { HttpMetrics } from "./metrics";
import { ExportHttpApi, ReimportHttpApi } from "./openapi";

const TABS = [
  ["routes", "Routes"],
  ["integrations", "Integrations"],
  ["authorizers", "Authorizers"],
  ["cors", "CORS"],
  ["stages", "Stages"],
  ["deployments", "Deployments"],
  ["metrics", "Metrics"],
] as const;
type Tab = (typeof TABS)[number][0];

export function HttpApiScreen({ apiId, path }: { apiId: string; path: string }) {
  const api = useAsync(() => get<HttpApi>(`/v2/apis/${apiId}`), [apiId]);
  const [deleting, setDeleting] = useState(false);
  const [editing, setEditing] = useState(false);
  const [reimporting, setReimporting] = useState(false);
  const [exporting, setExporting] = useState(false);
  // Bumped by a reimport: the tabs load the new definition.
  const [version, setVersion] = useState(0);
  const base = `${HTTP_BASE}/${apiId}`;
  const tab = match(`${HTTP_BASE}/:id/:tab`, path)?.tab as Tab | undefined;
  useEffect(() => {
    if (api.data) document.title = `${api.data.name} · HTTP APIs · API Gateway`;
  }, [api.data]);
  useEffect(() => {
    if (match(`${HTTP_BASE}/:id`, path)) navigate(`${base}/routes`, true);
  }, [path]);

  if (api.error)
    return (
      <div class="page">
        <ErrorText error={api.error} />
        <Link href={HTTP_BASE}>Back to HTTP APIs</Link>
      </div>
    );
  if (!match(`${HTTP_BASE}/:id`, path) && !TABS.some(([t]) => t === tab)) return <NotFound back={`${base}/routes`} backLabel="Go to the API" />;
  if (!api.data) return <Loading what="Loading the HTTP API" />;
  const a = api.data;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/apis">APIs</Link> / <Link href={HTTP_BASE}>HTTP APIs</Link> / <span>{a.name}</span>
      </nav>
      <div class="page-head">
        <h1>
          {a.name} <code class="muted small">{apiId}</code>
        </h1>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={() => setEditing(true)}>
            Edit API
          </button>
          <button type="button" class="secondary" onClick={() => setReimporting(true)}>
            Reimport
          </button>
          <button type="button" class="secondary" onClick={() => setExporting(true)}>
            Export
          </button>
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete API
          </button>
        </div>
      </div>
      <p class="muted">
        {a.description ? `${a.description} · ` : ""}
        {a.disableExecuteApiEndpoint ? "Default endpoint turned off: only custom domains serve it" : "Default endpoint on"}
        {a.corsConfiguration ? " · CORS configured" : ""}
      </p>
      <nav class="tabs" aria-label="HTTP API sections">
        {TABS.map(([t, label]) => (
          <Link key={t} href={`${base}/${t}`} aria-current={tab === t ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      <div key={version}>
        {tab === "routes" && <HttpRoutes apiId={apiId} />}
        {tab === "integrations" && <HttpIntegrations apiId={apiId} />}
        {tab === "authorizers" && <HttpAuthorizers apiId={apiId} />}
        {tab === "cors" && <HttpCorsTab api={a} onChanged={api.reload} />}
        {tab === "stages" && <HttpStages api={a} />}
        {tab === "deployments" && <HttpDeployments apiId={apiId} />}
        {tab === "metrics" && <HttpMetrics api={a} />}
      </div>
      {reimporting && (
        <ReimportHttpApi
          api={a}
          onClose={() => setReimporting(false)}
          onDone={() => {
            setReimporting(false);
            setVersion((v) => v + 1);
            api.reload();
          }}
        />
      )}
      {exporting && <ExportHttpApi api={a} onClose={() => setExporting(false)} />}
      {editing && (
        <EditApi
          api={a}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            api.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete HTTP API"
          danger
          confirm="Delete API"
          body={
            <p>
              Delete <strong>{a.name}</strong>, its routes, integrations, authorizers and stages? This cannot be undone.
            </p>
          }
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await del(`/v2/apis/${apiId}`);
            toast(`HTTP API “${a.name}” deleted`);
            navigate(HTTP_BASE);
          }}
        />
      )}
    </div>
  );
}

const API_FIELDS = { name: [], description: [], disableExecuteApiEndpoint: [] };

/** UpdateApi with what changed: name, description, the default (execute-api) endpoint. */
function EditApi(props: { api: HttpApi; onClose: () => void; onSaved: () => void }) {
  const was = props.api;
  const [name, setName] = useState(was.name);
  const [description, setDescription] = useState(was.description ?? "");
  const [disabled, setDisabled] = useState(was.disableExecuteApiEndpoint ?? false);
  const a = useAction();
  const err = splitError(a.error, API_FIELDS);
  return (
    <Modal title={`Edit ${was.name}`} onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const body: V2UpdateApiRequest = {};
          if (name.trim() !== was.name) body.name = name.trim();
          if (description !== (was.description ?? "")) body.description = description;
          if (disabled !== (was.disableExecuteApiEndpoint ?? false)) body.disableExecuteApiEndpoint = disabled;
          if (Object.keys(body).length === 0) return props.onClose();
          if (await a.run(() => update(`/v2/apis/${was.apiId}`, body))) {
            toast(`HTTP API “${body.name ?? was.name}” saved`);
            props.onSaved();
          }
        }}
      >
        <Field label="Name" name="name" value={name} onInput={setName} required autoFocus error={err.at("name")} />
        <Field label="Description" name="description" value={description} onInput={setDescription} error={err.at("description")} />
        <Check label="Turn off the default endpoint ({apiId}.execute-api…): only custom domains serve the API" checked={disabled} onChange={setDisabled} />
        <ErrorText error={err.at("disableExecuteApiEndpoint") ?? err.rest} />
        <FormActions submit="Save" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
