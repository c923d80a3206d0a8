// The method view in AWS's four-box layout: method request → integration request, and back
// through integration response → method response. Each box has its own form.
import { useState } from "preact/hooks";
import { del, get, listAll, patch, patchKey, put, type PatchOp } from "../../api";
import { Link, navigate } from "../../router";
import { Check, Confirm, Empty, ErrorText, Field, FormActions, KeyValues, Loading, Select, entries, fromEntries, StringRows, toast, useAction, useAsync, type Async } from "../../ui";
import { TableHead } from "../../shared/table";
import { TestPanel } from "./method-test";
import type { Resource } from "./resources";
import type { RequestValidator } from "../validators/validators";
import type { Model } from "../models/models";
import { isLambda, type Authorizer } from "../authorizers/types";
import { ChoiceList, ParamList, type Param } from "../../shared/params";
import { TemplateEditor } from "../../shared/templates";
import type { Method, MethodResponse } from "../../api/types";

type Box = "" | "method-request" | "integration-request" | "integration-response" | "method-response";

export function MethodView({ apiId, resource, httpMethod, onChanged }: { apiId: string; resource: Resource; httpMethod: string; onChanged: () => void }) {
  const mpath = `/restapis/${apiId}/resources/${resource.id}/methods/${httpMethod}`;
  const method = useAsync(() => get<Method>(mpath), [mpath]);
  const authorizers = useAsync(() => listAll<Authorizer>(`/restapis/${apiId}/authorizers`), [apiId]);
  const [open, setOpen] = useState<Box>("");
  const [deleting, setDeleting] = useState(false);
  const [testing, setTesting] = useState(false);
  if (method.error) return <ErrorText error={method.error} />;
  if (!method.data) return <Loading what="Loading the method" />;
  const m = method.data;
  const i = m.methodIntegration;
  const changed = () => {
    method.reload();
    onChanged();
  };
  const box = (id: Box, title: string, lines: string[]) => (
    <section class={`box ${open === id ? "open" : ""}`} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>{title}</h3>
      <ul>
        {lines.map((l, k) => (
          <li key={k}>{l}</li>
        ))}
      </ul>
      <button type="button" class="secondary small" aria-expanded={open === id} onClick={() => setOpen(open === id ? "" : id)}>
        {open === id ? "Close" : "Edit"}
      </button>
    </section>
  );
  return (
    <div>
      <div class="page-head">
        <h2>
          <span class={`badge m-${httpMethod}`}>{httpMethod}</span> <code>{resource.path}</code>
        </h2>
        <div class="head-actions">
          <button type="button" class="secondary" aria-expanded={testing} aria-controls="test-panel" onClick={() => setTesting(!testing)}>
            {testing ? "Close test" : "Test"}
          </button>
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete method
          </button>
        </div>
      </div>
      {testing && <TestPanel mpath={mpath} resourcePath={resource.path} />}
      <div class="four-box" data-testid="four-box">
        {box("method-request", "Method request", [
          `Authorization: ${m.authorizationType}${m.authorizerId && m.authorizationType !== "NONE" && m.authorizationType !== "AWS_IAM" ? ` (${authorizers.data?.find((a) => a.id === m.authorizerId)?.name ?? m.authorizerId})` : ""}`,
          ...(m.authorizationScopes?.length ? [`OAuth scopes: ${m.authorizationScopes.join(", ")}`] : []),
          `API key required: ${m.apiKeyRequired ? "yes" : "no"}`,
          `Parameters: ${Object.keys(m.requestParameters ?? {}).join(", ") || "none"}`,
          `Request validator: ${m.requestValidatorId ?? "none"}`,
          `Request models: ${Object.entries(m.requestModels ?? {}).map(([ct, name]) => `${ct} → ${name}`).join(", ") || "none"}`,
        ])}
        <span class="arrow" aria-hidden="true">→</span>
        {box(
          "integration-request",
          "Integration request",
          i
            ? [
                `Type: ${i.type}`,
                ...(i.uri ? [`${i.httpMethod ?? ""} ${i.uri}`] : []),
                `Timeout: ${i.timeoutInMillis ?? 29000} ms`,
                ...(i.contentHandling ? [`Content handling: ${i.contentHandling}`] : []),
                `Parameter mappings: ${Object.keys(i.requestParameters ?? {}).length || "none"}`,
                `Mapping templates: ${Object.keys(i.requestTemplates ?? {}).join(", ") || "none"}`,
              ]
            : ["No integration: the method cannot be deployed"],
        )}
        {box("method-response", "Method response", Object.keys(m.methodResponses ?? {}).map((s) => `HTTP ${s}`).concat(Object.keys(m.methodResponses ?? {}).length ? [] : ["None"]))}
        <span class="arrow" aria-hidden="true">←</span>
        {box(
          "integration-response",
          "Integration response",
          i?.type === "HTTP_PROXY"
            ? ["Proxy integration: the backend's response is passed through"]
            : Object.values(i?.integrationResponses ?? {}).map((r) => `${r.selectionPattern ? `/${r.selectionPattern}/` : "default"} → ${r.statusCode}`).concat(Object.keys(i?.integrationResponses ?? {}).length ? [] : ["None"]),
        )}
      </div>
      {open === "method-request" && <MethodRequestForm apiId={apiId} mpath={mpath} m={m} authorizers={authorizers} onSaved={changed} />}
      {open === "integration-request" && <IntegrationRequestForm mpath={mpath} m={m} onSaved={changed} />}
      {open === "integration-response" && <IntegrationResponseForm mpath={mpath} m={m} onSaved={changed} />}
      {open === "method-response" && <MethodResponseForm apiId={apiId} mpath={mpath} m={m} onSaved={changed} />}
      {deleting && (
        <Confirm
          title="Delete method"
          danger
          confirm="Delete method"
          body={
            <p>
              Delete {httpMethod} {resource.path} with its integration and responses?
            </p>
          }
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await del(mpath);
            toast(`Deleted ${httpMethod} ${resource.path}`);
            onChanged();
            navigate(`/apis/${apiId}/resources/${resource.id}`);
          }}
        />
      )}
    </div>
  );
}

/** Patch operations that turn map `before` into `after` under `prefix`. */
function mapOps(prefix: string, before: Record<string, unknown>, after: Record<string, string>): PatchOp[] {
  const ops: PatchOp[] = [];
  for (const k of Object.keys(before)) if (!(k in after)) ops.push({ op: "remove", path: `${prefix}/${patchKey(k)}` });
  for (const [k, v] of Object.entries(after))
    if (String(before[k]) !== v) ops.push({ op: k in before ? "replace" : "add", path: `${prefix}/${patchKey(k)}`, value: v });
  return ops;
}

function FormShell({ title, onSubmit, a, children }: { title: string; onSubmit: () => Promise<void>; a: ReturnType<typeof useAction>; children: any }) {
  return (
    <form
      class="panel"
      aria-label={title}
      onSubmit={async (e) => {
        e.preventDefault();
        await a.run(onSubmit);
      }}
    >
      <h3>{title}</h3>
      {children}
      <ErrorText error={a.error} />
      <FormActions submit="Save" disabled={a.busy} />
    </form>
  );
}

const QS = "method.request.querystring.";
const HDR = "method.request.header.";

/** The method's parameters of one kind (`prefix`), as name + required rows. */
const paramsOf = (m: Method, prefix: string): Param[] =>
  Object.entries(m.requestParameters ?? {})
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => ({ name: k.slice(prefix.length), required: !!v }));

const AUTH_TYPES = [
  { value: "NONE", label: "NONE" },
  { value: "AWS_IAM", label: "AWS_IAM (SigV4-signed requests)" },
  { value: "CUSTOM", label: "CUSTOM (a Lambda authorizer)" },
  { value: "COGNITO_USER_POOLS", label: "COGNITO_USER_POOLS (a Cognito authorizer)" },
];

function MethodRequestForm(props: { apiId: string; mpath: string; m: Method; authorizers: Async<Authorizer[]>; onSaved: () => void }) {
  const { apiId, mpath, m, onSaved } = props;
  const [auth, setAuth] = useState(m.authorizationType);
  const [authorizer, setAuthorizer] = useState(m.authorizerId ?? "");
  const [scopes, setScopes] = useState(m.authorizationScopes ?? []);
  const cognito = auth === "COGNITO_USER_POOLS";
  const usesAuthorizer = cognito || auth === "CUSTOM";
  // The API's authorizers of the kind the authorization type takes.
  const choices = (props.authorizers.data ?? [])
    .filter((a) => (cognito ? a.type === "COGNITO_USER_POOLS" : isLambda(a.type)))
    .sort((a, b) => a.name.localeCompare(b.name));
  const chosen = choices.some((a) => a.id === authorizer) ? authorizer : (choices[0]?.id ?? "");
  const [key, setKey] = useState(!!m.apiKeyRequired);
  const [validator, setValidator] = useState(m.requestValidatorId ?? "");
  const [query, setQuery] = useState(paramsOf(m, QS));
  const [headers, setHeaders] = useState(paramsOf(m, HDR));
  const [models, setModels] = useState(entries(m.requestModels));
  const validators = useAsync(() => listAll<RequestValidator>(`/restapis/${apiId}/requestvalidators`), [apiId]);
  const apiModels = useAsync(() => listAll<Model>(`/restapis/${apiId}/models`), [apiId]);
  const a = useAction();
  const pathParams = Object.keys(m.requestParameters ?? {}).filter((k) => k.startsWith("method.request.path."));
  return (
    <FormShell
      title="Method request"
      a={a}
      onSubmit={async () => {
        const ops: PatchOp[] = [];
        if (auth !== m.authorizationType) ops.push({ op: "replace", path: "/authorizationType", value: auth });
        const authorizerId = usesAuthorizer ? chosen : "";
        if (authorizerId !== (m.authorizerId ?? ""))
          ops.push(authorizerId ? { op: "replace", path: "/authorizerId", value: authorizerId } : { op: "remove", path: "/authorizerId" });
        const want = cognito ? [...new Set(scopes.map((x) => x.trim()).filter(Boolean))] : [];
        const had = m.authorizationScopes ?? [];
        for (const x of had) if (!want.includes(x)) ops.push({ op: "remove", path: `/authorizationScopes/${patchKey(x)}` });
        for (const x of want) if (!had.includes(x)) ops.push({ op: "add", path: `/authorizationScopes/${patchKey(x)}` });
        if (key !== !!m.apiKeyRequired) ops.push({ op: "replace", path: "/apiKeyRequired", value: String(key) });
        if (validator !== (m.requestValidatorId ?? ""))
          ops.push(validator ? { op: "replace", path: "/requestValidatorId", value: validator } : { op: "remove", path: "/requestValidatorId" });
        const params: Record<string, string> = {};
        for (const k of pathParams) params[k] = String(m.requestParameters?.[k]);
        for (const p of query) if (p.name.trim()) params[QS + p.name.trim()] = String(p.required);
        for (const p of headers) if (p.name.trim()) params[HDR + p.name.trim()] = String(p.required);
        ops.push(...mapOps("/requestParameters", m.requestParameters ?? {}, params));
        ops.push(...mapOps("/requestModels", m.requestModels ?? {}, fromEntries(models)));
        if (ops.length) await patch(mpath, ops);
        toast("Method request saved");
        onSaved();
      }}
    >
      <Select label="Authorization" value={auth} options={AUTH_TYPES} onChange={setAuth} />
      {usesAuthorizer &&
        (choices.length ? (
          <Select label="Authorizer" value={chosen} options={choices.map((a) => ({ value: a.id, label: `${a.name} (${a.type})` }))} onChange={setAuthorizer} />
        ) : (
          <p class="muted">
            {props.authorizers.data ? `This API has no ${cognito ? "Cognito" : "Lambda"} authorizer yet: ` : "Loading authorizers… "}
            <Link href={`/apis/${apiId}/authorizers`}>Authorizers</Link>
          </p>
        ))}
      {cognito && (
        <StringRows label="OAuth scopes" noun="Scope" rows={scopes} onChange={setScopes} placeholder="e.g. orders/read" />
      )}
      {cognito && <p class="hint">With scopes, a token must carry at least one of them in its scope claim; without, any valid token from the authorizer's providers is accepted.</p>}
      <Check label="API key required" checked={key} onChange={setKey} />
      <Select
        label="Request validator"
        value={validator}
        options={[{ value: "", label: "None" }, ...(validators.data ?? []).map((v) => ({ value: v.id, label: v.name ?? v.id }))]}
        onChange={setValidator}
      />
      {pathParams.length > 0 && <p class="muted">Path parameters (always required): {pathParams.map((k) => k.slice("method.request.path.".length)).join(", ")}</p>}
      <ParamList label="URL query string parameters" noun="Query string" rows={query} onChange={setQuery} />
      <ParamList label="HTTP request headers" noun="Header" rows={headers} onChange={setHeaders} />
      <ChoiceList
        label="Request body models"
        keyLabel="Content type"
        valueLabel="Model"
        rows={models}
        options={(apiModels.data ?? []).map((x) => x.name)}
        onChange={setModels}
        addLabel="Add model"
      />
      <ErrorText error={validators.error ?? apiModels.error ?? props.authorizers.error} />
    </FormShell>
  );
}

function IntegrationRequestForm({ mpath, m, onSaved }: { mpath: string; m: Method; onSaved: () => void }) {
  const i = m.methodIntegration;
  const [type, setType] = useState(i?.type ?? "HTTP_PROXY");
  const [uri, setUri] = useState(i?.uri ?? "");
  const [httpMethod, setHttpMethod] = useState(i?.httpMethod ?? "GET");
  const [timeout, setTimeoutMs] = useState(String(i?.timeoutInMillis ?? 29000));
  const [passthrough, setPassthrough] = useState(i?.passthroughBehavior ?? "WHEN_NO_MATCH");
  const [contentHandling, setContentHandling] = useState(i?.contentHandling ?? "");
  const [params, setParams] = useState(entries(i?.requestParameters));
  const [templates, setTemplates] = useState(entries(i?.requestTemplates));
  const a = useAction();
  return (
    <FormShell
      title="Integration request"
      a={a}
      onSubmit={async () => {
        const t = Number(timeout);
        if (!Number.isInteger(t) || t < 50 || t > 29000) throw new Error("Timeout must be a whole number of milliseconds from 50 to 29000");
        await put(`${mpath}/integration`, {
          type,
          uri: type === "MOCK" ? undefined : uri,
          httpMethod: type === "MOCK" ? undefined : httpMethod,
          timeoutInMillis: t,
          passthroughBehavior: passthrough,
          contentHandling: contentHandling || undefined,
          requestParameters: fromEntries(params),
          requestTemplates: fromEntries(templates),
        });
        toast("Integration request saved");
        onSaved();
      }}
    >
      <Select label="Integration type" name="integrationType" value={type} options={["HTTP_PROXY", "HTTP", "MOCK", "AWS", "AWS_PROXY"]} onChange={setType} />
      {type !== "MOCK" && (
        <>
          <Field
            label={type.startsWith("AWS") ? "AWS service or function URI" : "Endpoint URL"}
            name="integrationUri"
            value={uri}
            onInput={setUri}
            required
            hint={type.startsWith("AWS") ? "arn:aws:apigateway:{region}:{service}:path|action/{name}" : "Absolute http(s) URL; {param} and ${stageVariables.x} are substituted"}
          />
          <Select label="Endpoint HTTP method" value={httpMethod} options={["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]} onChange={setHttpMethod} />
        </>
      )}
      <Field label="Timeout (ms)" name="timeout" value={timeout} onInput={setTimeoutMs} type="number" hint="50 to 29000" />
      <Select label="Request body passthrough" value={passthrough} options={["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"]} onChange={setPassthrough} />
      <Select
        label="Content handling"
        value={contentHandling}
        options={[{ value: "", label: "Passthrough (none)" }, "CONVERT_TO_TEXT", "CONVERT_TO_BINARY"]}
        onChange={setContentHandling}
      />
      <KeyValues
        label="Request parameter mappings (integration.request.{querystring|header|path}.name ← method.request.… or 'literal')"
        keyLabel="Target"
        valueLabel="Source"
        rows={params}
        onChange={setParams}
        addLabel="Add parameter mapping"
      />
      <TemplateEditor label="Mapping templates" idPrefix="ireq" rows={templates} onChange={setTemplates} error={a.error} />
    </FormShell>
  );
}

function IntegrationResponseForm({ mpath, m, onSaved }: { mpath: string; m: Method; onSaved: () => void }) {
  const i = m.methodIntegration;
  const statuses = Object.keys(m.methodResponses ?? {});
  const [status, setStatus] = useState(statuses[0] ?? "200");
  const existing = i?.integrationResponses?.[status];
  const [pattern, setPattern] = useState(existing?.selectionPattern ?? "");
  const [templates, setTemplates] = useState(entries(existing?.responseTemplates));
  const [params, setParams] = useState(entries(existing?.responseParameters));
  const a = useAction();
  if (!i) return <Empty title="Define the integration request first" />;
  if (i.type === "HTTP_PROXY") return <Empty title="Proxy integrations pass the backend's response through" />;
  if (statuses.length === 0) return <Empty title="Add a method response first: integration responses map onto one" />;
  const pick = (s: string) => {
    setStatus(s);
    const r = i.integrationResponses?.[s];
    setPattern(r?.selectionPattern ?? "");
    setTemplates(entries(r?.responseTemplates));
    setParams(entries(r?.responseParameters));
  };
  return (
    <FormShell
      title="Integration response"
      a={a}
      onSubmit={async () => {
        await put(`${mpath}/integration/responses/${status}`, {
          selectionPattern: pattern,
          responseTemplates: fromEntries(templates),
          responseParameters: fromEntries(params),
        });
        toast(`Integration response ${status} saved`);
        onSaved();
      }}
    >
      <Select label="Method response status" value={status} options={statuses} onChange={pick} />
      <Field label="Selection pattern (regex on the backend status; empty = default)" value={pattern} onInput={setPattern} />
      <KeyValues
        label="Header mappings (method.response.header.name ← integration.response.header.… or 'literal')"
        keyLabel="Response header"
        valueLabel="Value"
        rows={params}
        onChange={setParams}
        addLabel="Add header mapping"
      />
      <TemplateEditor label="Mapping templates" idPrefix="ires" rows={templates} onChange={setTemplates} error={a.error} />
      {existing && (
        <button
          type="button"
          class="danger secondary small"
          onClick={() =>
            a.run(async () => {
              await del(`${mpath}/integration/responses/${status}`);
              toast(`Integration response ${status} deleted`);
              onSaved();
            })
          }
        >
          Delete this integration response
        </button>
      )}
    </FormShell>
  );
}

function MethodResponseForm({ apiId, mpath, m, onSaved }: { apiId: string; mpath: string; m: Method; onSaved: () => void }) {
  const [status, setStatus] = useState("");
  const [headers, setHeaders] = useState<[string, string][]>([]);
  const [models, setModels] = useState<[string, string][]>([]);
  const apiModels = useAsync(() => listAll<Model>(`/restapis/${apiId}/models`), [apiId]);
  const a = useAction();
  const edit = (r: MethodResponse) => {
    setStatus(r.statusCode);
    setHeaders(Object.entries(r.responseParameters ?? {}).map(([k, v]) => [k.replace("method.response.header.", ""), String(v)]));
    setModels(entries(r.responseModels));
  };
  const existing = Object.values(m.methodResponses ?? {});
  return (
    <FormShell
      title="Method response"
      a={a}
      onSubmit={async () => {
        const params = Object.fromEntries(headers.filter(([k]) => k.trim()).map(([k, v]) => [`method.response.header.${k.trim()}`, v.trim() === "true"]));
        const before = m.methodResponses?.[status.trim()];
        const rpath = `${mpath}/responses/${encodeURIComponent(status.trim())}`;
        if (before) {
          // PutMethodResponse refuses an existing status (409): change it with UpdateMethodResponse.
          const ops = [
            ...mapOps("/responseParameters", before.responseParameters ?? {}, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]))),
            ...mapOps("/responseModels", before.responseModels ?? {}, fromEntries(models)),
          ];
          if (ops.length) await patch(rpath, ops);
        } else await put(rpath, { responseParameters: params, responseModels: fromEntries(models) });
        toast(`Method response ${status} saved`);
        setStatus("");
        setHeaders([]);
        setModels([]);
        onSaved();
      }}
    >
      {existing.length === 0 ? (
        <p class="muted">No method responses.</p>
      ) : (
        <table class="table">
          <TableHead columns={["Status", "Headers", "Models"]} />
          <tbody>
            {existing.map((r) => (
              <tr key={r.statusCode}>
                <td>{r.statusCode}</td>
                <td>{Object.keys(r.responseParameters ?? {}).map((k) => k.replace("method.response.header.", "")).join(", ") || "—"}</td>
                <td>{Object.entries(r.responseModels ?? {}).map(([ct, n]) => `${ct} → ${n}`).join(", ") || "—"}</td>
                <td>
                  <button type="button" class="link" aria-label={`Edit method response ${r.statusCode}`} onClick={() => edit(r)}>
                    Edit
                  </button>{" "}
                  <button
                    type="button"
                    class="link"
                    onClick={() =>
                      a.run(async () => {
                        await del(`${mpath}/responses/${r.statusCode}`);
                        toast(`Method response ${r.statusCode} deleted`);
                        onSaved();
                      })
                    }
                  >
                    <span aria-hidden="true">Delete</span>
                    <span class="sr-only">Delete method response {r.statusCode}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Field label="Status code (new, or one listed to change it)" value={status} onInput={setStatus} required placeholder="200" />
      <KeyValues label="Response headers (value: true if required)" keyLabel="Header" valueLabel="Required" rows={headers} onChange={setHeaders} addLabel="Add response header" />
      <ChoiceList
        label="Response models"
        keyLabel="Response content type"
        valueLabel="Response model"
        rows={models}
        options={(apiModels.data ?? []).map((x) => x.name)}
        onChange={setModels}
        addLabel="Add response model"
      />
      <ErrorText error={apiModels.error} /> 
    </FormShell>
  );
}
