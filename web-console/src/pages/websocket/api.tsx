// One WebSocket API: its header (name, route selection expression, delete) and tabs for
// routes (incl. $connect / $disconnect / $default, authorization, target integration; an
// existing route's target, authorization, selection expressions and request models are
// edited through UpdateRoute; each route's responses in responses.tsx), integrations (AWS_PROXY to a function, HTTP_PROXY to
// a URL, MOCK; each one's responses in responses.tsx), authorizers (authorizers.tsx), models
// (models.tsx), stages (autoDeploy, stage variables, deploy, the ws:// URL to connect
// to; route settings in route-settings.tsx) and usage (usage.tsx).
import { useEffect, useState } from "preact/hooks";
import { del, get, post, update } from "../../api";
import { Link, match, navigate } from "../../router";
import { Check, Confirm, EditableRows, ErrorText, Field, FormActions, KeyValues, ListStatus, Loading, Modal, Options, Select, entries, fromEntries, messageOf, toast, useAction, useAsync } from "../../ui";
import { NotFound } from "../../shared/not-found";
import { Copyable } from "../../shared/copy";
import { DeleteRow } from "../../shared/delete-row";
import { invokeEndpoint } from "../../shared/invoke";
import { lambdaUri } from "../../shared/lambda";
import { fmtIso, listV2, splitError, wsUrls, type WsApi, type WsAuthorizer, type WsDeployment, type WsIntegration, type WsModel, type WsRoute, type WsStage } from "../../v2";
import type { V2CreateIntegrationRequest, V2CreateRouteRequest, V2CreateStageRequest, V2UpdateRouteRequest, V2UpdateStageRequest } from "../../api/types";
import { WS_BASE } from "./apis";
import { WsAuthorizers } from "./authorizers";
import { WsModels } from "./models";
import { IntegrationResponses, RouteResponses } from "./responses";
import { WsStageRouteSettings } from "./route-settings";
import { WsUsage } from "./usage";
import { ConnectionCount } from "./connection-count";

const TABS = [
  ["routes", "Routes"],
  ["integrations", "Integrations"],
  ["authorizers", "Authorizers"],
  ["models", "Models"],
  ["stages", "Stages"],
  ["usage", "Usage"],
] as const;
type Tab = (typeof TABS)[number][0];

export function WsApiScreen({ apiId, path }: { apiId: string; path: string }) {
  const api = useAsync(() => get<WsApi>(`/v2/apis/${apiId}`), [apiId]);
  const [deleting, setDeleting] = useState(false);
  const base = `${WS_BASE}/${apiId}`;
  const tab = match(`${WS_BASE}/:id/:tab`, path)?.tab as Tab | undefined;
  useEffect(() => {
    if (api.data) document.title = `${api.data.name} · WebSocket APIs · API Gateway`;
  }, [api.data]);
  useEffect(() => {
    if (match(`${WS_BASE}/:id`, path)) navigate(`${base}/routes`, true);
  }, [path]);

  if (api.error)
    return (
      <div class="page">
        <ErrorText error={api.error} />
        <Link href={WS_BASE}>Back to WebSocket APIs</Link>
      </div>
    );
  if (!match(`${WS_BASE}/:id`, path) && !TABS.some(([t]) => t === tab)) return <NotFound back={`${base}/routes`} backLabel="Go to the API" />;
  if (!api.data) return <Loading what="Loading the WebSocket API" />;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/apis">APIs</Link> / <Link href={WS_BASE}>WebSocket APIs</Link> / <span>{api.data.name}</span>
      </nav>
      <div class="page-head">
        <h1>
          {api.data.name} <code class="muted small">{apiId}</code>
        </h1>
        <div class="head-actions">
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete API
          </button>
        </div>
      </div>
      <p class="muted">
        Route selection expression: <code>{api.data.routeSelectionExpression}</code>
        {api.data.description ? ` · ${api.data.description}` : ""}
      </p>
      <nav class="tabs" aria-label="WebSocket API sections">
        {TABS.map(([t, label]) => (
          <Link key={t} href={`${base}/${t}`} aria-current={tab === t ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === "routes" && <Routes apiId={apiId} />}
      {tab === "integrations" && <Integrations apiId={apiId} />}
      {tab === "authorizers" && <WsAuthorizers apiId={apiId} />}
      {tab === "models" && <WsModels apiId={apiId} />}
      {tab === "stages" && <Stages apiId={apiId} />}
      {tab === "usage" && <WsUsage apiId={apiId} />}
      {deleting && (
        <Confirm
          title="Delete WebSocket API"
          danger
          confirm="Delete API"
          body={
            <p>
              Delete <strong>{api.data.name}</strong>, its routes, integrations and stages? This cannot be undone.
            </p>
          }
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await del(`/v2/apis/${apiId}`);
            toast(`WebSocket API “${api.data!.name}” deleted`);
            navigate(WS_BASE);
          }}
        />
      )}
    </div>
  );
}

// ---- routes ---------------------------------------------------------------------------

const integrationLabel = (i: WsIntegration) => `${i.integrationType}${i.integrationUri ? ` ${i.integrationUri}` : ""} (${i.integrationId})`;

function Routes({ apiId }: { apiId: string }) {
  const routes = useAsync(() => listV2<WsRoute>(`/v2/apis/${apiId}/routes`), [apiId]);
  const integrations = useAsync(() => listV2<WsIntegration>(`/v2/apis/${apiId}/integrations`), [apiId]);
  const authorizers = useAsync(() => listV2<WsAuthorizer>(`/v2/apis/${apiId}/authorizers`), [apiId]);
  const [creating, setCreating] = useState(false);
  const [responsesOf, setResponsesOf] = useState<string | null>(null);
  const [editing, setEditing] = useState<WsRoute | null>(null);
  const byId = new Map((integrations.data ?? []).map((i) => [i.integrationId, i]));
  const shown = (routes.data ?? []).find((r) => r.routeId === responsesOf);
  return (
    <section>
      <div class="page-head">
        <h2>Routes</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create route
        </button>
      </div>
      <ListStatus list={routes} loading="Loading routes" empty="No routes yet">
        <p>
          <code>$connect</code> runs when a client connects, <code>$disconnect</code> when it leaves, <code>$default</code> for messages no other route key
          matches.
        </p>
      </ListStatus>
      {routes.data && routes.data.length > 0 && (
        <table class="table" aria-label="Routes" data-testid="ws-routes">
          <thead>
            <tr>
              <th scope="col">Route key</th>
              <th scope="col">Authorization</th>
              <th scope="col">Target</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {routes.data.map((r) => {
              const target = r.target?.replace(/^integrations\//, "");
              const i = target ? byId.get(target) : undefined;
              return (
                <tr key={r.routeId}>
                  <td>
                    <code>{r.routeKey}</code>
                  </td>
                  <td>
                    {r.authorizationType ?? "NONE"}
                    {r.authorizerId ? ` (${authorizers.data?.find((x) => x.authorizerId === r.authorizerId)?.name ?? r.authorizerId})` : ""}
                    {r.apiKeyRequired ? " · API key" : ""}
                  </td>
                  <td>{i ? integrationLabel(i) : target ? <code>{r.target}</code> : <span class="muted">None</span>}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="link"
                      aria-label={`Responses of route ${r.routeKey}`}
                      aria-expanded={responsesOf === r.routeId}
                      onClick={() => setResponsesOf(responsesOf === r.routeId ? null : r.routeId)}
                    >
                      Responses
                    </button>{" "}
                    <button type="button" class="link" aria-label={`Edit route ${r.routeKey}`} onClick={() => setEditing(r)}>
                      Edit
                    </button>{" "}
                    <DeleteRow what={`route ${r.routeKey}`} title="Delete route" path={`/v2/apis/${apiId}/routes/${r.routeId}`} onDone={routes.reload} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {shown && <RouteResponses key={shown.routeId} apiId={apiId} route={shown} onClose={() => setResponsesOf(null)} onRouteChanged={routes.reload} />}
      {editing && (
        <EditRoute
          apiId={apiId}
          route={editing}
          integrations={integrations.data ?? []}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            routes.reload();
          }}
        />
      )}
      {creating && (
        <CreateRoute
          apiId={apiId}
          integrations={integrations.data ?? []}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            routes.reload();
          }}
        />
      )}
    </section>
  );
}

const ROUTE_FIELDS = {
  routeKey: ["route key"],
  authorizerId: ["authorizer"],
  authorizationType: ["authorization"],
  target: ["integration"],
  routeResponseSelectionExpression: [],
  modelSelectionExpression: [],
  requestModels: ["request model", "model"],
};
const AUTHORIZATION_OPTIONS = [
  { value: "NONE", label: "None" },
  { value: "AWS_IAM", label: "IAM (Signature Version 4)" },
  { value: "CUSTOM", label: "Lambda (REQUEST) authorizer" },
];
type AuthorizationType = NonNullable<V2UpdateRouteRequest["authorizationType"]>;
const CUSTOM_KEY = "(custom)";

function CreateRoute(props: { apiId: string; integrations: WsIntegration[]; onClose: () => void; onCreated: () => void }) {
  const [preset, setPreset] = useState("$default");
  const [custom, setCustom] = useState("");
  const [auth, setAuth] = useState("NONE");
  const [authorizerId, setAuthorizerId] = useState("");
  const [apiKey, setApiKey] = useState(false);
  const [target, setTarget] = useState(props.integrations[0]?.integrationId ?? "");
  const [respond, setRespond] = useState(false);
  const authorizers = useAsync(() => listV2<WsAuthorizer>(`/v2/apis/${props.apiId}/authorizers`), [props.apiId]);
  const a = useAction();
  const err = splitError(a.error, ROUTE_FIELDS);
  const routeKey = preset === CUSTOM_KEY ? custom : preset;
  const connect = routeKey === "$connect";
  return (
    <Modal title="Create route" onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          let warned = false;
          const ok = await a.run(async () => {
            const route = await post<WsRoute>(`/v2/apis/${props.apiId}/routes`, {
              routeKey,
              authorizationType: connect ? (auth as AuthorizationType) : undefined,
              authorizerId: connect && auth === "CUSTOM" ? authorizerId || undefined : undefined,
              apiKeyRequired: connect && apiKey ? true : undefined,
              target: target ? `integrations/${target}` : undefined,
              routeResponseSelectionExpression: respond ? "$default" : undefined,
            } satisfies V2CreateRouteRequest);
            // The route exists now: a refused route response must not leave the dialog open
            // (a retry would be refused as a duplicate route key), so it is only reported.
            if (respond)
              await post(`/v2/apis/${props.apiId}/routes/${route.routeId}/routeresponses`, { routeResponseKey: "$default" }).catch((e) => {
                warned = true;
                toast(`Route ${routeKey} created, but its route response was refused: ${messageOf(e)}`, "error");
              });
          });
          if (ok) {
            if (!warned) toast(`Route ${routeKey} created`);
            props.onCreated();
          }
        }}
      >
        <Select
          label="Route"
          name="routeKeyPreset"
          value={preset}
          options={[
            { value: "$connect", label: "$connect (a client connects)" },
            { value: "$disconnect", label: "$disconnect (a connection closes)" },
            { value: "$default", label: "$default (no other route key matches)" },
            { value: CUSTOM_KEY, label: "A route key (a value of the route selection expression)" },
          ]}
          onChange={setPreset}
        />
        {preset === CUSTOM_KEY && (
          <Field label="Route key" name="routeKey" value={custom} onInput={setCustom} required autoFocus hint="e.g. sendmessage" error={err.at("routeKey")} />
        )}
        {preset !== CUSTOM_KEY && err.at("routeKey") && <ErrorText error={err.at("routeKey")} />}
        {connect && (
          <>
            <Select
              label="Authorization"
              name="authorizationType"
              value={auth}
              options={AUTHORIZATION_OPTIONS}
              onChange={setAuth}
            />
            {auth === "CUSTOM" && (
              <Select
                label="Authorizer"
                name="authorizerId"
                value={authorizerId}
                options={[{ value: "", label: "Choose an authorizer" }, ...(authorizers.data ?? []).map((x) => ({ value: x.authorizerId, label: `${x.name} (${x.authorizerId})` }))]}
                onChange={setAuthorizerId}
              />
            )}
            {auth === "CUSTOM" && authorizers.data?.length === 0 && <p class="hint">No authorizers yet: create one on the Authorizers tab first.</p>}
            {err.at("authorizerId") && <ErrorText error={err.at("authorizerId")} />}
            {err.at("authorizationType") && <ErrorText error={err.at("authorizationType")} />}
            <Check label="API key required" checked={apiKey} onChange={setApiKey} />
          </>
        )}
        <Select
          label="Target integration"
          name="target"
          value={target}
          options={[{ value: "", label: "None" }, ...props.integrations.map((i) => ({ value: i.integrationId, label: integrationLabel(i) }))]}
          onChange={setTarget}
        />
        {err.at("target") && <ErrorText error={err.at("target")} />}
        {routeKey !== "$disconnect" && (
          <Check label="Send the integration's answer back to the client (a $default route response)" checked={respond} onChange={setRespond} />
        )}
        <ErrorText error={err.rest} />
        <FormActions submit="Create" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

/**
 * Edits a route through UpdateRoute: only the members changed are sent. The route key stays;
 * authorization and "API key required" only on `$connect` (the only route they apply to).
 */
function EditRoute(props: { apiId: string; route: WsRoute; integrations: WsIntegration[]; onClose: () => void; onSaved: () => void }) {
  const r = props.route;
  const connect = r.routeKey === "$connect";
  const wasTarget = r.target?.replace(/^integrations\//, "") ?? "";
  const [target, setTarget] = useState(wasTarget);
  const [auth, setAuth] = useState<string>(r.authorizationType ?? "NONE");
  const [authorizerId, setAuthorizerId] = useState(r.authorizerId ?? "");
  const [apiKey, setApiKey] = useState(r.apiKeyRequired ?? false);
  const [rrse, setRrse] = useState(r.routeResponseSelectionExpression ?? "");
  const [mse, setMse] = useState(r.modelSelectionExpression ?? "");
  const [models, setModels] = useState<[string, string][]>(entries(r.requestModels));
  const authorizers = useAsync(() => (connect ? listV2<WsAuthorizer>(`/v2/apis/${props.apiId}/authorizers`) : Promise.resolve([])), [props.apiId, connect]);
  const modelList = useAsync(() => listV2<WsModel>(`/v2/apis/${props.apiId}/models`), [props.apiId]);
  const a = useAction();
  const err = splitError(a.error, ROUTE_FIELDS);
  const modelOptions = [{ value: "", label: "Choose a model" }, ...(modelList.data ?? []).map((m) => ({ value: m.name, label: m.name }))];
  // The route's authorizer is an option before the list has loaded (and if it is gone).
  const authorizerOptions = [{ value: "", label: "Choose an authorizer" }, ...(authorizers.data ?? []).map((x) => ({ value: x.authorizerId, label: `${x.name} (${x.authorizerId})` }))];
  if (authorizerId && !authorizerOptions.some((o) => o.value === authorizerId)) authorizerOptions.push({ value: authorizerId, label: authorizerId });
  const integrationOptions = [{ value: "", label: "None" }, ...props.integrations.map((i) => ({ value: i.integrationId, label: integrationLabel(i) }))];
  if (wasTarget && !props.integrations.some((i) => i.integrationId === wasTarget)) integrationOptions.push({ value: wasTarget, label: r.target ?? wasTarget });
  return (
    <Modal title={`Edit route ${r.routeKey}`} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const body: V2UpdateRouteRequest = {};
          if (target !== wasTarget) body.target = target ? `integrations/${target}` : "";
          if (connect) {
            if (auth !== (r.authorizationType ?? "NONE")) body.authorizationType = auth as AuthorizationType;
            // A CUSTOM route names its authorizer; the control plane drops it for the others.
            if (auth === "CUSTOM" && authorizerId && authorizerId !== r.authorizerId) body.authorizerId = authorizerId;
            if (apiKey !== (r.apiKeyRequired ?? false)) body.apiKeyRequired = apiKey;
          }
          if (rrse.trim() !== (r.routeResponseSelectionExpression ?? "")) body.routeResponseSelectionExpression = rrse.trim();
          if (mse.trim() !== (r.modelSelectionExpression ?? "")) body.modelSelectionExpression = mse.trim();
          const requestModels = fromEntries(models);
          if (JSON.stringify(requestModels) !== JSON.stringify(r.requestModels ?? {})) body.requestModels = requestModels;
          if (Object.keys(body).length === 0) {
            props.onClose();
            return;
          }
          if (await a.run(() => update<WsRoute>(`/v2/apis/${props.apiId}/routes/${r.routeId}`, body))) {
            toast(`Route ${r.routeKey} saved`);
            props.onSaved();
          }
        }}
      >
        <Select label="Target integration" name="target" value={target} options={integrationOptions} onChange={setTarget} />
        {err.at("target") && <ErrorText error={err.at("target")} />}
        {connect && (
          <>
            <Select label="Authorization" name="authorizationType" value={auth} options={AUTHORIZATION_OPTIONS} onChange={setAuth} />
            {err.at("authorizationType") && <ErrorText error={err.at("authorizationType")} />}
            {auth === "CUSTOM" && (
              <Select
                label="Authorizer"
                name="authorizerId"
                value={authorizerId}
                options={authorizerOptions}
                onChange={setAuthorizerId}
              />
            )}
            {auth === "CUSTOM" && authorizers.data?.length === 0 && <p class="hint">No authorizers yet: create one on the Authorizers tab first.</p>}
            {err.at("authorizerId") && <ErrorText error={err.at("authorizerId")} />}
            <Check label="API key required" checked={apiKey} onChange={setApiKey} />
          </>
        )}
        <Field
          label="Route response selection expression"
          name="routeResponseSelectionExpression"
          value={rrse}
          onInput={setRrse}
          placeholder="$default"
          hint="$default sends the integration's answer back to the client (WebSocket APIs allow $default only)"
          error={err.at("routeResponseSelectionExpression")}
        />
        <Field
          label="Model selection expression"
          name="modelSelectionExpression"
          value={mse}
          onInput={setMse}
          placeholder="$request.body.action"
          hint="Selects the key of the request model a message is validated against"
          error={err.at("modelSelectionExpression")}
        />
        <EditableRows
          label="Request models"
          rows={models}
          onChange={setModels}
          removeLabel={(i) => `Remove request model ${i + 1}`}
          addLabel="Add request model"
          blank={() => [models.length ? "" : "$default", modelList.data?.[0]?.name ?? ""] as [string, string]}
          row={([k, m], i) => (
            <>
              <input
                aria-label={`Request model key ${i + 1}`}
                placeholder="$default"
                value={k}
                onInput={(e) => setModels(models.map((x, j) => (j === i ? [(e.currentTarget as HTMLInputElement).value, x[1]] : x)))}
              />
              <select
                aria-label={`Request model ${i + 1}`}
                value={m}
                onChange={(e) => setModels(models.map((x, j) => (j === i ? [x[0], (e.currentTarget as HTMLSelectElement).value] : x)))}
              >
                <Options options={m && !(modelList.data ?? []).some((x) => x.name === m) ? [...modelOptions, m] : modelOptions} />
              </select>
            </>
          )}
        />
        {modelList.data?.length === 0 && <p class="hint">No models yet: create them on the Models tab.</p>}
        <ErrorText error={err.at("requestModels")} />
        <ErrorText error={err.at("routeKey") ?? err.rest} />
        <FormActions submit="Save" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

// ---- integrations ---------------------------------------------------------------------

function Integrations({ apiId }: { apiId: string }) {
  const list = useAsync(() => listV2<WsIntegration>(`/v2/apis/${apiId}/integrations`), [apiId]);
  const [creating, setCreating] = useState(false);
  const [responsesOf, setResponsesOf] = useState<string | null>(null);
  const shown = (list.data ?? []).find((i) => i.integrationId === responsesOf);
  return (
    <section>
      <div class="page-head">
        <h2>Integrations</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create integration
        </button>
      </div>
      <ListStatus list={list} loading="Loading integrations" empty="No integrations yet">
        <p>An integration is where a route sends its messages: a function, an HTTP endpoint or a mock.</p>
      </ListStatus>
      {list.data && list.data.length > 0 && (
        <table class="table" aria-label="Integrations" data-testid="ws-integrations">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Type</th>
              <th scope="col">URI</th>
              <th scope="col">Timeout</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((i) => (
              <tr key={i.integrationId}>
                <td>
                  <code>{i.integrationId}</code>
                </td>
                <td>{i.integrationType}</td>
                <td>{i.integrationUri ? <code>{i.integrationUri}</code> : <span class="muted">—</span>}</td>
                <td>{i.timeoutInMillis ? `${i.timeoutInMillis} ms` : "—"}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    class="link"
                    aria-label={`Responses of integration ${i.integrationId}`}
                    aria-expanded={responsesOf === i.integrationId}
                    onClick={() => setResponsesOf(responsesOf === i.integrationId ? null : i.integrationId)}
                  >
                    Responses
                  </button>{" "}
                  <DeleteRow
                    what={`integration ${i.integrationId}`}
                    title="Delete integration"
                    path={`/v2/apis/${apiId}/integrations/${i.integrationId}`}
                    onDone={list.reload}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && <IntegrationResponses key={shown.integrationId} apiId={apiId} integration={shown} onClose={() => setResponsesOf(null)} />}
      {creating && (
        <CreateIntegration
          apiId={apiId}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

const INTEGRATION_FIELDS = { integrationUri: ["function", "url"], timeoutInMillis: [], integrationMethod: [], integrationType: [] };

function CreateIntegration(props: { apiId: string; onClose: () => void; onCreated: () => void }) {
  const [type, setType] = useState("AWS_PROXY");
  const [uri, setUri] = useState("");
  const [method, setMethod] = useState("POST");
  const [timeout, setTimeout_] = useState("");
  const a = useAction();
  const err = splitError(a.error, INTEGRATION_FIELDS);
  return (
    <Modal title="Create integration" onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await a.run(() =>
            post(`/v2/apis/${props.apiId}/integrations`, {
              integrationType: type as WsIntegration["integrationType"],
              integrationUri: type === "MOCK" ? undefined : type === "AWS_PROXY" ? lambdaUri(uri.trim()) : uri.trim(),
              integrationMethod: type === "HTTP_PROXY" ? method : undefined,
              timeoutInMillis: timeout.trim() ? Number(timeout) : undefined,
            } satisfies V2CreateIntegrationRequest),
          );
          if (ok) {
            toast(`${type} integration created`);
            props.onCreated();
          }
        }}
      >
        <Select
          label="Integration type"
          name="integrationType"
          value={type}
          options={[
            { value: "AWS_PROXY", label: "Lambda function (AWS_PROXY)" },
            { value: "HTTP_PROXY", label: "HTTP endpoint (HTTP_PROXY)" },
            { value: "MOCK", label: "Mock (MOCK)" },
          ]}
          onChange={setType}
        />
        {type === "AWS_PROXY" && (
          <Field
            label="Function ARN or invocation URI"
            name="integrationUri"
            value={uri}
            onInput={setUri}
            required
            placeholder="arn:aws:lambda:us-east-1:000000000000:function:websocket-chat"
            error={err.at("integrationUri")}
          />
        )}
        {type === "HTTP_PROXY" && (
          <>
            <Field label="Endpoint URL" name="integrationUri" value={uri} onInput={setUri} required placeholder="https://example.com/messages" error={err.at("integrationUri")} />
            <Select label="HTTP method" name="integrationMethod" value={method} options={["POST", "GET", "PUT", "PATCH", "DELETE", "ANY"]} onChange={setMethod} />
            {err.at("integrationMethod") && <ErrorText error={err.at("integrationMethod")} />}
          </>
        )}
        {type === "MOCK" && <p class="muted">A mock answers without calling anything: its $default integration response's template is sent back.</p>}
        {type !== "MOCK" && (
          <Field label="Timeout (ms)" name="timeoutInMillis" type="number" value={timeout} onInput={setTimeout_} hint="50 to 29000; empty: 29000" error={err.at("timeoutInMillis")} />
        )}
        <ErrorText error={err.at("integrationType") ?? err.rest} />
        <FormActions submit="Create" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

// ---- stages ---------------------------------------------------------------------------

function Stages({ apiId }: { apiId: string }) {
  const stages = useAsync(() => listV2<WsStage>(`/v2/apis/${apiId}/stages`), [apiId]);
  const [creating, setCreating] = useState(false);
  const endpoint = invokeEndpoint();
  return (
    <section>
      <div class="page-head">
        <h2>Stages</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create stage
        </button>
      </div>
      <ListStatus list={stages} loading="Loading stages" empty="No stages yet">
        <p>Clients connect to a stage; with automatic deployment every change is deployed to it at once.</p>
      </ListStatus>
      {(stages.data ?? []).map((s) => (
        <StageCard key={s.stageName} apiId={apiId} stage={s} urls={wsUrls(apiId, s.stageName, endpoint)} onChanged={stages.reload} />
      ))}
      {stages.data && stages.data.length > 0 && (
        <p class="muted small">
          The node address comes from this browser's setting (a REST API stage's “Change the data-plane address”): {endpoint.domain}.
        </p>
      )}
      {creating && (
        <CreateStage
          apiId={apiId}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            stages.reload();
          }}
        />
      )}
    </section>
  );
}

function StageCard(props: { apiId: string; stage: WsStage; urls: { connect: string; connections: string }; onChanged: () => void }) {
  const s = props.stage;
  const deploy = useAction();
  const vars = entries(s.stageVariables);
  return (
    <article class="panel" data-testid={`ws-stage-${s.stageName}`} aria-labelledby={`ws-stage-${s.stageName}-title`}>
      <div class="page-head">
        <h3 id={`ws-stage-${s.stageName}-title`}>{s.stageName}</h3>
        <div class="head-actions">
          <button
            type="button"
            class="secondary small"
            disabled={deploy.busy}
            onClick={async () => {
              const on = !s.autoDeploy;
              if (await deploy.run(() => update(`/v2/apis/${props.apiId}/stages/${encodeURIComponent(s.stageName)}`, { autoDeploy: on } satisfies V2UpdateStageRequest))) {
                toast(`Automatic deployment of ${s.stageName} turned ${on ? "on" : "off"}`);
                props.onChanged();
              }
            }}
          >
            Turn automatic deployment {s.autoDeploy ? "off" : "on"}
          </button>
          {!s.autoDeploy && (
            <button
              type="button"
              class="secondary small"
              disabled={deploy.busy}
              onClick={async () => {
                let d: WsDeployment | undefined;
                if (await deploy.run(async () => (d = await post<WsDeployment>(`/v2/apis/${props.apiId}/deployments`, { stageName: s.stageName })))) {
                  toast(`Deployed ${d?.deploymentId} to ${s.stageName}`);
                  props.onChanged();
                }
              }}
            >
              Deploy to {s.stageName}
            </button>
          )}
          <DeleteRow what={`stage ${s.stageName}`} title="Delete stage" path={`/v2/apis/${props.apiId}/stages/${encodeURIComponent(s.stageName)}`} onDone={props.onChanged} />
        </div>
      </div>
      <ErrorText error={deploy.error} />
      <dl class="props">
        <dt>Connect URL</dt>
        <dd>
          <Copyable text={props.urls.connect} label={`Copy the connect URL of ${s.stageName}`} testId={`ws-url-${s.stageName}`} />
        </dd>
        <dt>@connections URL</dt>
        <dd>
          <Copyable text={props.urls.connections} label={`Copy the @connections URL of ${s.stageName}`} />
        </dd>
        <dt>Connections</dt>
        <dd>
          <ConnectionCount apiId={props.apiId} stage={s.stageName} />
        </dd>
        <dt>Automatic deployment</dt>
        <dd>{s.autoDeploy ? "On: every change is deployed" : "Off"}</dd>
        <dt>Deployment</dt>
        <dd>{s.deploymentId ? <code>{s.deploymentId}</code> : <span class="muted">Not deployed yet</span>}</dd>
        <dt>Stage variables</dt>
        <dd>
          {vars.length === 0
            ? "None"
            : vars.map(([k, v]) => (
                <span key={k}>
                  <code>
                    {k}={v}
                  </code>{" "}
                </span>
              ))}
        </dd>
        <dt>Updated</dt>
        <dd>{fmtIso(s.lastUpdatedDate ?? s.createdDate)}</dd>
      </dl>
      <WsStageRouteSettings apiId={props.apiId} stage={s} onChanged={props.onChanged} />
    </article>
  );
}

// stageVariables first: its messages also say "stage".
const STAGE_FIELDS = { stageVariables: ["stage variable", "stageVariables"], stageName: ["stage name", "stage"], description: [] };

function CreateStage(props: { apiId: string; onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [autoDeploy, setAutoDeploy] = useState(true);
  const [description, setDescription] = useState("");
  const [vars, setVars] = useState<[string, string][]>([]);
  const a = useAction();
  const err = splitError(a.error, STAGE_FIELDS);
  return (
    <Modal title="Create stage" onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const variables = fromEntries(vars);
          const ok = await a.run(() =>
            post(`/v2/apis/${props.apiId}/stages`, {
              stageName: name.trim(),
              autoDeploy,
              description: description || undefined,
              stageVariables: Object.keys(variables).length ? variables : undefined,
            } satisfies V2CreateStageRequest),
          );
          if (ok) {
            toast(`Stage ${name.trim()} created`);
            props.onCreated();
          }
        }}
      >
        <Field label="Stage name" name="stageName" value={name} onInput={setName} required autoFocus hint="Letters, digits, _ and -, e.g. dev" error={err.at("stageName")} />
        <Check label="Deploy every change automatically (autoDeploy)" checked={autoDeploy} onChange={setAutoDeploy} />
        <Field label="Description" name="description" value={description} onInput={setDescription} error={err.at("description")} />
        <KeyValues label="Stage variables" rows={vars} onChange={setVars} keyLabel="Variable name" valueLabel="Value" addLabel="Add stage variable" />
        {err.at("stageVariables") && <ErrorText error={err.at("stageVariables")} />}
        <ErrorText error={err.rest} />
        <FormActions submit="Create" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
