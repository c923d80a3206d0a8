// One API: its header (name, deploy, delete) and tabs for resources, stages, deployments,
// models, request validators, authorizers, gateway responses and the API's own settings
// (with its resource policy).
import { useEffect, useState } from "preact/hooks";
import { del, get, listAll, post } from "../../api";
import { Link, match, navigate } from "../../router";
import { Confirm, ErrorText, Field, FormActions, Loading, Modal, Select, toast, useAction, useAsync } from "../../ui";
import type { RestApi } from "./apis";
import { Resources } from "./resources";
import { Stages } from "./stages";
import { Deployments } from "./deployments";
import { NotFound } from "../../shared/not-found";
import { Models } from "../models/models";
import { Validators } from "../validators/validators";
import { GatewayResponses } from "../gateway-responses/gateway-responses";
import { ApiSettings } from "../api-settings/api-settings";
import { ResourcePolicy } from "../api-settings/policy";
import { Authorizers } from "../authorizers/authorizers";
import { Tags } from "../../shared/tags";
import type { Deployment, Stage } from "../../api/types";
export type { Stage, Deployment };

const TABS = [
  ["resources", "Resources"],
  ["stages", "Stages"],
  ["deployments", "Deployments"],
  ["models", "Models"],
  ["validators", "Request validators"],
  ["authorizers", "Authorizers"],
  ["gateway-responses", "Gateway responses"],
  ["settings", "API settings"],
] as const;

export function ApiScreen({ apiId, path }: { apiId: string; path: string }) {
  const api = useAsync(() => get<RestApi>(`/restapis/${apiId}`), [apiId]);
  const [deploying, setDeploying] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (api.data) document.title = `${api.data.name} · API Gateway`;
  }, [api.data]);
  useEffect(() => {
    if (match("/apis/:id", path)) navigate(`/apis/${apiId}/resources`, true);
  }, [path]);

  if (api.error)
    return (
      <div class="page">
        <ErrorText error={api.error} />
        <Link href="/apis">Back to APIs</Link>
      </div>
    );
  if (!known(path)) return <NotFound back={`/apis/${apiId}/resources`} backLabel="Go to the API" />;
  if (!api.data) return <Loading what="Loading the API" />;
  const base = `/apis/${apiId}`;
  const tab = path.split("/")[3] ?? "resources";
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/apis">APIs</Link> / <span>{api.data.name}</span>
      </nav>
      <div class="page-head">
        <h1>
          {api.data.name} <code class="muted small">{apiId}</code>
        </h1>
        <div class="head-actions">
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete API
          </button>
          <button type="button" class="primary" onClick={() => setDeploying(true)}>
            Deploy API
          </button>
        </div>
      </div>
      {api.data.description && <p class="muted">{api.data.description}</p>}
      <nav class="tabs" aria-label="API sections">
        {TABS.map(([t, label]) => (
          <Link key={t} href={`${base}/${t}`} aria-current={tab === t ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === "resources" && <Resources api={api.data} path={path} />}
      {tab === "stages" && <Stages apiId={apiId} apiName={api.data.name} path={path} version={version} />}
      {tab === "deployments" && <Deployments apiId={apiId} version={version} />}
      {tab === "models" && <Models apiId={apiId} />}
      {tab === "validators" && <Validators apiId={apiId} />}
      {tab === "authorizers" && <Authorizers apiId={apiId} path={path} />}
      {tab === "gateway-responses" && <GatewayResponses apiId={apiId} />}
      {tab === "settings" && (
        <>
          <ApiSettings key={JSON.stringify(api.data)} api={api.data} onSaved={api.reload} />
          <ResourcePolicy key={api.data.policy ?? ""} api={api.data} onSaved={api.reload} />
          <Tags path={`/restapis/${api.data.id}`} label="API tags" />
        </>
      )}
      {deploying && (
        <DeployDialog
          apiId={apiId}
          onClose={() => setDeploying(false)}
          onDeployed={(stage) => {
            setVersion((v) => v + 1);
            navigate(`${base}/stages/${encodeURIComponent(stage)}`);
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete API"
          danger
          confirm="Delete API"
          body={
            <p>
              Delete <strong>{api.data.name}</strong>, its resources, deployments and stages? Calls to its stages stop working. This cannot be
              undone.
            </p>
          }
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await del(`/restapis/${apiId}`);
            toast(`API “${api.data!.name}” deleted`);
            navigate("/apis");
          }}
        />
      )}
    </div>
  );
}

/** The screens of one API; any other path under `/apis/{id}/` is "Page not found". */
const SCREENS = [
  "/apis/:id",
  "/apis/:id/resources",
  "/apis/:id/resources/:rid",
  "/apis/:id/resources/:rid/methods/:method",
  "/apis/:id/stages",
  "/apis/:id/stages/:name",
  "/apis/:id/stages/:name/metrics",
  "/apis/:id/deployments",
  "/apis/:id/models",
  "/apis/:id/validators",
  "/apis/:id/authorizers",
  "/apis/:id/authorizers/:aid",
  "/apis/:id/gateway-responses",
  "/apis/:id/settings",
];
const known = (path: string) => SCREENS.some((p) => match(p, path));

const NEW_STAGE = "[New stage]";

/** Deploys the API to a new or existing stage, with a description. */
export function DeployDialog({ apiId, onClose, onDeployed }: { apiId: string; onClose: () => void; onDeployed: (stage: string) => void }) {
  const stages = useAsync(() => listAll<Stage>(`/restapis/${apiId}/stages`), [apiId]);
  const [choice, setChoice] = useState<string>("");
  const [newName, setNewName] = useState("");
  const [description, setDescription] = useState("");
  const a = useAction();
  const options = [...(stages.data ?? []).map((s) => s.stageName), NEW_STAGE];
  const selected = choice || options[0];
  const isNew = selected === NEW_STAGE;
  return (
    <Modal title="Deploy API" onClose={onClose}>
      {stages.loading && !stages.data ? (
        <Loading what="Loading stages" />
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const stageName = isNew ? newName.trim() : selected;
            const ok = await a.run(async () => {
              const d = await post<Deployment>(`/restapis/${apiId}/deployments`, {
                stageName,
                description: description || undefined,
              });
              toast(`Deployed ${d.id} to ${stageName}`);
            });
            if (ok) {
              onClose();
              onDeployed(stageName);
            }
          }}
        >
          <Select label="Deployment stage" name="stage" value={selected} options={options} onChange={setChoice} />
          {isNew && (
            <Field label="Stage name" name="stageName" value={newName} onInput={setNewName} required autoFocus hint="Letters, digits, _ and -, e.g. prod" />
          )}
          <Field label="Deployment description" name="description" value={description} onInput={setDescription} />
          <ErrorText error={a.error ?? stages.error} />
          <FormActions submit="Deploy" disabled={a.busy} onCancel={onClose} />
        </form>
      )}
    </Modal>
  );
}
