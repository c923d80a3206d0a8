// The resource tree with methods; create/delete resources (incl. {param} and {proxy+}) and
// methods. The selected resource or method is part of the URL.
import { useState } from "preact/hooks";
import { del, listAll, put } from "../../api";
import { Link, match, navigate } from "../../router";
import { Check, Confirm, Empty, ErrorText, Field, FormActions, Loading, Modal, Select, toast, useAction, useAsync } from "../../ui";
import type { RestApi } from "./apis";
import { MethodView } from "./method";
import { post } from "../../api";
import { lambdaUri } from "../../shared/lambda";
import type { Resource } from "../../api/types";
export type { Resource };

const HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"];

export function Resources({ api, path }: { api: RestApi; path: string }) {
  const resources = useAsync(() => listAll<Resource>(`/restapis/${api.id}/resources?embed=methods`), [api.id]);
  const sel =
    match("/apis/:id/resources/:rid/methods/:m", path) ?? match("/apis/:id/resources/:rid", path) ?? { rid: api.rootResourceId };
  const base = `/apis/${api.id}/resources`;
  if (resources.error) return <ErrorText error={resources.error} />;
  if (!resources.data) return <Loading what="Loading resources" />;
  const sorted = [...resources.data].sort((a, b) => a.path.localeCompare(b.path));
  const current = sorted.find((r) => r.id === sel.rid);
  return (
    <div class="split">
      <nav class="tree" aria-label="Resources">
        <ul>
          {sorted.map((r) => {
            const depth = r.path === "/" ? 0 : r.path.split("/").length - 1;
            const methods = Object.keys(r.resourceMethods ?? {}).sort();
            return (
              <li key={r.id} class={`depth-${Math.min(depth, 8)}`}>
                <Link href={`${base}/${r.id}`} class="tree-res" aria-current={r.id === sel.rid && !sel.m ? "page" : undefined}>
                  {r.path === "/" ? "/" : `/${r.pathPart}`}
                </Link>
                {methods.length > 0 && (
                  <ul class="tree-methods">
                    {methods.map((m) => (
                      <li key={m}>
                        <Link href={`${base}/${r.id}/methods/${m}`} class={`badge m-${m}`} aria-current={r.id === sel.rid && sel.m === m ? "page" : undefined}>
                          {m}
                        </Link>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ul>
      </nav>
      <section class="detail" aria-live="polite">
        {!current && <Empty title="Resource not found">It may have been deleted.</Empty>}
        {current && sel.m && (
          <MethodView apiId={api.id} resource={current} httpMethod={sel.m} onChanged={resources.reload} />
        )}
        {current && !sel.m && <ResourcePanel api={api} resource={current} all={sorted} onChanged={resources.reload} />}
      </section>
    </div>
  );
}

function ResourcePanel({ api, resource, all, onChanged }: { api: RestApi; resource: Resource; all: Resource[]; onChanged: () => void }) {
  const [dialog, setDialog] = useState<"" | "resource" | "method" | "delete" | "cors">("");
  const methods = Object.keys(resource.resourceMethods ?? {}).sort();
  const base = `/apis/${api.id}/resources`;
  const children = all.filter((r) => r.parentId === resource.id);
  return (
    <div>
      <div class="page-head">
        <h2>
          Resource <code>{resource.path}</code>
        </h2>
        <div class="head-actions">
          {resource.parentId && (
            <button type="button" class="danger secondary" onClick={() => setDialog("delete")}>
              Delete resource
            </button>
          )}
          <button type="button" class="secondary" onClick={() => setDialog("cors")}>
            Enable CORS
          </button>
          <button type="button" class="secondary" onClick={() => setDialog("resource")}>
            Create resource
          </button>
          <button type="button" class="primary" onClick={() => setDialog("method")}>
            Create method
          </button>
        </div>
      </div>
      <dl class="props">
        <dt>Resource ID</dt>
        <dd>
          <code>{resource.id}</code>
        </dd>
        <dt>Child resources</dt>
        <dd>{children.length}</dd>
      </dl>
      <h3>Methods</h3>
      {methods.length === 0 ? (
        <Empty title="No methods on this resource">
          <button type="button" class="primary" onClick={() => setDialog("method")}>
            Create method
          </button>
        </Empty>
      ) : (
        <ul class="method-list">
          {methods.map((m) => (
            <li key={m}>
              <Link href={`${base}/${resource.id}/methods/${m}`} class={`badge m-${m}`}>
                {m}
              </Link>{" "}
              {describeIntegration(resource.resourceMethods?.[m])}
            </li>
          ))}
        </ul>
      )}
      {dialog === "resource" && (
        <CreateResource
          apiId={api.id}
          parent={resource}
          onClose={() => setDialog("")}
          onCreated={(r) => {
            onChanged();
            navigate(`${base}/${r.id}`);
          }}
        />
      )}
      {dialog === "method" && (
        <CreateMethod
          apiId={api.id}
          resource={resource}
          existing={methods}
          onClose={() => setDialog("")}
          onCreated={(m) => {
            onChanged();
            navigate(`${base}/${resource.id}/methods/${m}`);
          }}
        />
      )}
      {dialog === "cors" && <EnableCors apiId={api.id} resource={resource} methods={methods} onClose={() => setDialog("")} onDone={onChanged} />}
      {dialog === "delete" && (
        <Confirm
          title="Delete resource"
          danger
          confirm="Delete"
          body={
            <p>
              Delete <code>{resource.path}</code>
              {children.length > 0 ? " and all resources under it" : ""}, with their methods? Deployed stages keep serving until you deploy again.
            </p>
          }
          onClose={() => setDialog("")}
          onConfirm={async () => {
            await del(`/restapis/${api.id}/resources/${resource.id}`);
            toast(`Deleted ${resource.path}`);
            onChanged();
            navigate(`${base}/${resource.parentId}`);
          }}
        />
      )}
    </div>
  );
}

const DEFAULT_ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token";

/**
 * The control plane's one-call "Enable CORS" (PUT .../resources/{id}/cors): an OPTIONS
 * method with a MOCK integration answering the preflight, Access-Control-Allow-Origin on
 * the resource's other methods and, optionally, on DEFAULT_4XX and DEFAULT_5XX.
 */
function EnableCors({ apiId, resource, methods, onClose, onDone }: { apiId: string; resource: Resource; methods: string[]; onClose: () => void; onDone: () => void }) {
  const [origin, setOrigin] = useState("*");
  const [headers, setHeaders] = useState(DEFAULT_ALLOW_HEADERS);
  const [chosen, setChosen] = useState<string[]>([...new Set([...methods.filter((m) => m !== "ANY"), "OPTIONS"])]);
  const [gatewayResponses, setGatewayResponses] = useState(false);
  const a = useAction();
  const toggle = (m: string, on: boolean) => setChosen(on ? [...chosen, m] : chosen.filter((x) => x !== m));
  return (
    <Modal title="Enable CORS" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await a.run(() =>
            put(`/restapis/${apiId}/resources/${resource.id}/cors`, { allowOrigin: origin, allowHeaders: headers, allowMethods: chosen, gatewayResponses }),
          );
          if (ok) {
            toast(`CORS enabled on ${resource.path}`);
            onClose();
            onDone();
          }
        }}
      >
        <p class="muted">
          Adds an OPTIONS method to <code>{resource.path}</code> that answers browsers' preflight requests, and the Access-Control-Allow-Origin header on its other
          methods. Deploy the API for callers to see it.
        </p>
        <Field label="Access-Control-Allow-Origin" name="allowOrigin" value={origin} onInput={setOrigin} required />
        <Field label="Access-Control-Allow-Headers" name="allowHeaders" value={headers} onInput={setHeaders} required />
        <fieldset class="kv">
          <legend>Access-Control-Allow-Methods</legend>
          {[...new Set([...methods, "OPTIONS"])].sort().map((m) => (
            <Check key={m} label={m} checked={chosen.includes(m)} onChange={(on) => toggle(m, on)} />
          ))}
        </fieldset>
        <Check label="Also on the DEFAULT_4XX and DEFAULT_5XX gateway responses" checked={gatewayResponses} onChange={setGatewayResponses} />
        <ErrorText error={a.error} />
        <FormActions submit="Enable CORS" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}

function describeIntegration(m: any): string {
  const i = m?.methodIntegration;
  if (!i) return "— no integration";
  return i.uri ? `→ ${i.type} ${i.httpMethod ?? ""} ${i.uri}` : `→ ${i.type}`;
}

function CreateResource({ apiId, parent, onClose, onCreated }: { apiId: string; parent: Resource; onClose: () => void; onCreated: (r: Resource) => void }) {
  const [pathPart, setPathPart] = useState("");
  const [proxy, setProxy] = useState(false);
  const a = useAction();
  const prefix = parent.path === "/" ? "/" : `${parent.path}/`;
  return (
    <Modal title="Create resource" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          let r: Resource | undefined;
          const ok = await a.run(async () => {
            r = await post<Resource>(`/restapis/${apiId}/resources/${parent.id}`, { pathPart: proxy ? "{proxy+}" : pathPart });
          });
          if (ok && r) {
            toast(`Created ${r.path}`);
            onClose();
            onCreated(r);
          }
        }}
      >
        <Check label="Proxy resource ({proxy+}: matches everything below)" checked={proxy} onChange={setProxy} />
        {!proxy && (
          <Field
            label="Resource path part"
            name="pathPart"
            value={pathPart}
            onInput={setPathPart}
            required
            autoFocus
            hint="A literal like pets, or a path parameter like {id}"
          />
        )}
        <p class="muted">
          Full path: <code>{prefix + (proxy ? "{proxy+}" : pathPart)}</code>
        </p>
        <ErrorText error={a.error} />
        <FormActions submit="Create resource" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}

function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]);
}

function CreateMethod({
  apiId,
  resource,
  existing,
  onClose,
  onCreated,
}: {
  apiId: string;
  resource: Resource;
  existing: string[];
  onClose: () => void;
  onCreated: (m: string) => void;
}) {
  const free = HTTP_METHODS.filter((m) => !existing.includes(m));
  const [method, setMethod] = useState(free[0] ?? "GET");
  const [type, setType] = useState("HTTP_PROXY");
  const [uri, setUri] = useState("");
  const [httpMethod, setHttpMethod] = useState("GET");
  const a = useAction();
  const params = pathParams(resource.path);
  return (
    <Modal title={`Create method on ${resource.path}`} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const mpath = `/restapis/${apiId}/resources/${resource.id}/methods/${method}`;
          const ok = await a.run(async () => {
            await put(mpath, {
              authorizationType: "NONE",
              requestParameters: Object.fromEntries(params.map((p) => [`method.request.path.${p}`, true])),
            });
            try {
              if (type === "MOCK") {
                await put(`${mpath}/integration`, { type, requestTemplates: { "application/json": '{"statusCode": 200}' } });
                await put(`${mpath}/responses/200`, {});
                await put(`${mpath}/integration/responses/200`, { selectionPattern: "" });
              } else if (type === "AWS_PROXY" || type === "AWS") {
                // Lambda is always invoked with POST, whatever the method.
                await put(`${mpath}/integration`, { type, uri: lambdaUri(uri.trim()), httpMethod: "POST" });
                if (type === "AWS") {
                  await put(`${mpath}/responses/200`, {});
                  await put(`${mpath}/integration/responses/200`, { selectionPattern: "" });
                }
              } else {
                await put(`${mpath}/integration`, {
                  type,
                  uri,
                  httpMethod: type === "HTTP_PROXY" && method === "ANY" ? "ANY" : httpMethod,
                  requestParameters: Object.fromEntries(params.map((p) => [`integration.request.path.${p}`, `method.request.path.${p}`])),
                });
                if (type === "HTTP") {
                  await put(`${mpath}/responses/200`, {});
                  await put(`${mpath}/integration/responses/200`, { selectionPattern: "" });
                }
              }
            } catch (err) {
              // Keep things consistent: no half-made method without an integration.
              await del(mpath).catch(() => undefined);
              throw err;
            }
          });
          if (ok) {
            toast(`Created ${method} ${resource.path}`);
            onClose();
            onCreated(method);
          }
        }}
      >
        <Select label="HTTP method" name="method" value={method} options={free} onChange={setMethod} />
        <Select
          label="Integration type"
          name="type"
          value={type}
          options={[
            "HTTP_PROXY",
            "HTTP",
            "MOCK",
            { value: "AWS_PROXY", label: "AWS_PROXY (Lambda proxy)" },
            { value: "AWS", label: "AWS (Lambda)" },
          ]}
          onChange={setType}
        />
        {(type === "AWS_PROXY" || type === "AWS") && (
          <Field
            label="Lambda function"
            name="function"
            value={uri}
            onInput={setUri}
            required
            placeholder="arn:aws:lambda:us-east-1:123456789012:function:name"
            hint="A function ARN (turned into its invocation URI) or the invocation URI itself"
          />
        )}
        {type !== "MOCK" && !type.startsWith("AWS") && (
          <>
            <Field
              label="Endpoint URL"
              name="uri"
              value={uri}
              onInput={setUri}
              required
              placeholder="http://backend.example/pets/{id}"
              hint={params.length ? `Path parameters: ${params.map((p) => `{${p}}`).join(", ")}; stage variables as \${stageVariables.name}` : "Stage variables as ${stageVariables.name}"}
            />
            <Select label="Endpoint HTTP method" name="httpMethod" value={httpMethod} options={HTTP_METHODS} onChange={setHttpMethod} />
          </>
        )}
        <ErrorText error={a.error} />
        <FormActions submit="Create method" disabled={a.busy || free.length === 0} onCancel={onClose} />
      </form>
    </Modal>
  );
}
