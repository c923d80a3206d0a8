// An HTTP API's Routes tab: its routes (`METHOD /path/{param}`, `ANY /{proxy+}`, `$default`),
// each with its target integration and authorization (NONE, JWT with an authorizer and
// scopes, CUSTOM with a Lambda REQUEST authorizer, AWS_IAM); create, edit (UpdateRoute with
// what changed) and delete.
import { useState } from "preact/hooks";
import { post, update } from "../../api";
import { ErrorText, Field, FormActions, ListStatus, Modal, Select, StringRows, toast, useAction, useAsync } from "../../ui";
import { DeleteRow } from "../../shared/delete-row";
import { listV2, splitError, type HttpAuthorizer, type HttpIntegration, type HttpRoute } from "../../v2";
import type { V2CreateRouteRequest, V2UpdateRouteRequest } from "../../api/types";

type AuthorizationType = NonNullable<HttpRoute["authorizationType"]>;
const METHODS = ["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const AUTHORIZATION_OPTIONS = [
  { value: "NONE", label: "None" },
  { value: "JWT", label: "JWT authorizer" },
  { value: "CUSTOM", label: "Lambda authorizer (CUSTOM)" },
  { value: "AWS_IAM", label: "IAM (SigV4)" },
];

/** How an integration reads in a select or a table. */
export const integrationLabel = (i: HttpIntegration) =>
  `${i.integrationType}${i.integrationMethod && i.integrationType === "HTTP_PROXY" ? ` ${i.integrationMethod}` : ""}${i.integrationUri ? ` ${i.integrationUri}` : ""} (${i.integrationId})`;

/** `GET /pets` → ["GET", "/pets"]; `$default` → ["$default", ""]. */
const splitKey = (k: string): [string, string] => {
  if (k === "$default") return ["$default", ""];
  const at = k.indexOf(" ");
  return at < 0 ? ["ANY", k] : [k.slice(0, at), k.slice(at + 1)];
};

export function HttpRoutes({ apiId }: { apiId: string }) {
  const routes = useAsync(() => listV2<HttpRoute>(`/v2/apis/${apiId}/routes`), [apiId]);
  const integrations = useAsync(() => listV2<HttpIntegration>(`/v2/apis/${apiId}/integrations`), [apiId]);
  const authorizers = useAsync(() => listV2<HttpAuthorizer>(`/v2/apis/${apiId}/authorizers`), [apiId]);
  const [editing, setEditing] = useState<HttpRoute | "new" | null>(null);
  const byId = new Map((integrations.data ?? []).map((i) => [i.integrationId, i]));
  const rows = [...(routes.data ?? [])].sort((a, b) => (a.routeKey === "$default" ? 1 : b.routeKey === "$default" ? -1 : splitKey(a.routeKey)[1].localeCompare(splitKey(b.routeKey)[1]) || a.routeKey.localeCompare(b.routeKey)));
  return (
    <section>
      <div class="page-head">
        <h2>Routes</h2>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Create route
        </button>
      </div>
      <ListStatus list={routes} loading="Loading routes" empty="No routes yet">
        <p>
          A route is a method and a path (<code>GET /pets/{"{id}"}</code>, <code>ANY /{"{proxy+}"}</code>); the most specific one matches, and{" "}
          <code>$default</code> takes every request no other route does.
        </p>
      </ListStatus>
      {rows.length > 0 && (
        <table class="table" aria-label="Routes" data-testid="http-routes">
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
            {rows.map((r) => {
              const target = r.target?.replace(/^integrations\//, "");
              const i = target ? byId.get(target) : undefined;
              const authorizer = authorizers.data?.find((x) => x.authorizerId === r.authorizerId);
              return (
                <tr key={r.routeId}>
                  <td>
                    <code>{r.routeKey}</code>
                  </td>
                  <td>
                    {r.authorizationType ?? "NONE"}
                    {r.authorizerId ? ` (${authorizer?.name ?? r.authorizerId})` : ""}
                    {r.authorizationScopes?.length ? ` · scopes ${r.authorizationScopes.join(", ")}` : ""}
                  </td>
                  <td>{i ? integrationLabel(i) : target ? <code>{r.target}</code> : <span class="muted">None</span>}</td>
                  <td class="row-actions">
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
      {editing && (
        <RouteDialog
          apiId={apiId}
          route={editing === "new" ? null : editing}
          integrations={integrations.data ?? []}
          authorizers={authorizers.data ?? []}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            routes.reload();
          }}
        />
      )}
    </section>
  );
}

// authorizationScopes before authorizerId and authorizationType: their messages name "authoriz…".
const ROUTE_FIELDS = {
  routeKey: ["route key", "path"],
  target: ["target", "integration"],
  authorizationScopes: ["scope", "scopes"],
  authorizerId: ["authorizer"],
  authorizationType: ["authorization type"],
};

/** Creates a route (CreateRoute) or edits one (UpdateRoute with the members that changed). */
function RouteDialog(props: {
  apiId: string;
  route: HttpRoute | null;
  integrations: HttpIntegration[];
  authorizers: HttpAuthorizer[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const r = props.route;
  const [m0, p0] = splitKey(r?.routeKey ?? "GET /");
  const [method, setMethod] = useState(m0);
  const [path, setPath] = useState(p0 || "/");
  const wasTarget = r?.target?.replace(/^integrations\//, "") ?? "";
  const [target, setTarget] = useState(r ? wasTarget : (props.integrations[0]?.integrationId ?? ""));
  const [auth, setAuth] = useState<string>(r?.authorizationType ?? "NONE");
  const [authorizerId, setAuthorizerId] = useState(r?.authorizerId ?? "");
  const [scopes, setScopes] = useState<string[]>(r?.authorizationScopes ?? []);
  const a = useAction();
  const err = splitError(a.error, ROUTE_FIELDS);
  const routeKey = method === "$default" ? "$default" : `${method} ${path.trim()}`;
  // JWT routes choose a JWT authorizer, CUSTOM routes a REQUEST (Lambda) one.
  const kind = auth === "JWT" ? "JWT" : "REQUEST";
  const usable = props.authorizers.filter((x) => x.authorizerType === kind);
  const authorizerOptions = [{ value: "", label: "Choose an authorizer" }, ...usable.map((x) => ({ value: x.authorizerId, label: `${x.name} (${x.authorizerId})` }))];
  if (authorizerId && !usable.some((x) => x.authorizerId === authorizerId) && authorizerId === r?.authorizerId)
    authorizerOptions.push({ value: authorizerId, label: authorizerId });
  const integrationOptions = [{ value: "", label: "None" }, ...props.integrations.map((i) => ({ value: i.integrationId, label: integrationLabel(i) }))];
  if (wasTarget && !props.integrations.some((i) => i.integrationId === wasTarget)) integrationOptions.push({ value: wasTarget, label: r?.target ?? wasTarget });
  const withAuthorizer = auth === "JWT" || auth === "CUSTOM";
  return (
    <Modal title={r ? `Edit route ${r.routeKey}` : "Create route"} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const cleanScopes = auth === "JWT" ? scopes.map((s) => s.trim()).filter(Boolean) : [];
          let ok: boolean;
          if (!r) {
            ok = await a.run(() =>
              post(`/v2/apis/${props.apiId}/routes`, {
                routeKey,
                target: target ? `integrations/${target}` : undefined,
                authorizationType: auth as AuthorizationType,
                authorizerId: withAuthorizer && authorizerId ? authorizerId : undefined,
                authorizationScopes: cleanScopes.length ? cleanScopes : undefined,
              } satisfies V2CreateRouteRequest),
            );
          } else {
            const body: V2UpdateRouteRequest = {};
            if (routeKey !== r.routeKey) body.routeKey = routeKey;
            if (target !== wasTarget) body.target = target ? `integrations/${target}` : "";
            if (auth !== (r.authorizationType ?? "NONE")) body.authorizationType = auth as AuthorizationType;
            if (withAuthorizer && authorizerId !== (r.authorizerId ?? "")) body.authorizerId = authorizerId;
            if (JSON.stringify(cleanScopes) !== JSON.stringify(r.authorizationScopes ?? [])) body.authorizationScopes = cleanScopes;
            if (Object.keys(body).length === 0) return props.onClose();
            ok = await a.run(() => update(`/v2/apis/${props.apiId}/routes/${r.routeId}`, body));
          }
          if (ok) {
            toast(`Route ${routeKey} ${r ? "saved" : "created"}`);
            props.onSaved();
          }
        }}
      >
        <div class="row">
          <Select label="Method" name="method" value={method} options={[...METHODS, { value: "$default", label: "$default (every other request)" }]} onChange={setMethod} />
          {method !== "$default" && (
            <Field
              label="Path"
              name="path"
              value={path}
              onInput={setPath}
              required
              placeholder="/pets/{id}"
              hint="Path parameters in braces; {name+} as the last segment takes the rest"
              error={err.at("routeKey")}
            />
          )}
        </div>
        {method === "$default" && err.at("routeKey") && <ErrorText error={err.at("routeKey")} />}
        <Select label="Target integration" name="target" value={target} options={integrationOptions} onChange={setTarget} />
        {props.integrations.length === 0 && <p class="hint">No integrations yet: create one on the Integrations tab, then choose it here.</p>}
        {err.at("target") && <ErrorText error={err.at("target")} />}
        <Select
          label="Authorization"
          name="authorizationType"
          value={auth}
          options={AUTHORIZATION_OPTIONS}
          onChange={(v) => {
            setAuth(v);
            // The authorizer chosen must be of the new kind.
            const want = v === "JWT" ? "JWT" : "REQUEST";
            if (!props.authorizers.some((x) => x.authorizerId === authorizerId && x.authorizerType === want)) setAuthorizerId("");
          }}
        />
        {err.at("authorizationType") && <ErrorText error={err.at("authorizationType")} />}
        {withAuthorizer && (
          <>
            <Select label="Authorizer" name="authorizerId" value={authorizerId} options={authorizerOptions} onChange={setAuthorizerId} />
            {usable.length === 0 && <p class="hint">No {auth === "JWT" ? "JWT" : "Lambda"} authorizers yet: create one on the Authorizers tab first.</p>}
            {err.at("authorizerId") && <ErrorText error={err.at("authorizerId")} />}
          </>
        )}
        {auth === "JWT" && (
          <>
            <StringRows label="Authorization scopes" noun="Scope" rows={scopes} onChange={setScopes} placeholder="orders:read" />
            <p class="hint">The token must carry one of them (its scope or scp claim); none: any valid token.</p>
            {err.at("authorizationScopes") && <ErrorText error={err.at("authorizationScopes")} />}
          </>
        )}
        <ErrorText error={err.rest} />
        <FormActions submit={r ? "Save" : "Create"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
