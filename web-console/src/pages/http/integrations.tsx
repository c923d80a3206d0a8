// An HTTP API's Integrations tab: HTTP_PROXY (URL + method) and AWS_PROXY (a Lambda
// function ARN, payload format 1.0 or 2.0) integrations with their timeout and parameter
// mappings: request parameters (`overwrite:header.x`, `append:querystring.y`,
// `remove:header.z`, `overwrite:path` → a value mixing text and `$request.…` /
// `${request.path.id}`) and response parameters by status code (`overwrite:header.x`,
// `overwrite:statuscode`, …). Create, edit (UpdateIntegration) and delete (refused while a
// route targets it: the message stays in the dialog).
import { useState } from "preact/hooks";
import { post, update } from "../../api";
import { EditableRows, ErrorText, Field, FormActions, ListStatus, Modal, Options, Select, toast, useAction, useAsync } from "../../ui";
import { DeleteRow } from "../../shared/delete-row";
import { listV2, splitError, type HttpIntegration, type HttpRoute } from "../../v2";
import type { V2CreateIntegrationRequest, V2UpdateIntegrationRequest } from "../../api/types";

/** What a request parameter mapping changes: `{action}:{location}.` + a name, or `overwrite:path`. */
const REQUEST_TARGETS = [
  "overwrite:header.",
  "append:header.",
  "remove:header.",
  "overwrite:querystring.",
  "append:querystring.",
  "remove:querystring.",
  "overwrite:path",
];
/** What a response parameter mapping changes. */
const RESPONSE_TARGETS = ["overwrite:header.", "append:header.", "remove:header.", "overwrite:statuscode"];
const named = (t: string) => t.endsWith(".");

type Mapping = [target: string, name: string, value: string];
type ResponseMapping = [status: string, target: string, name: string, value: string];

const splitTarget = (key: string, targets: string[]): [string, string] => {
  const t = targets.find((x) => (named(x) ? key.startsWith(x) : key === x));
  return t ? [t, named(t) ? key.slice(t.length) : ""] : [key, ""];
};
const keyOf = (target: string, name: string) => (named(target) ? target + name.trim() : target);

export function HttpIntegrations({ apiId }: { apiId: string }) {
  const list = useAsync(() => listV2<HttpIntegration>(`/v2/apis/${apiId}/integrations`), [apiId]);
  const routes = useAsync(() => listV2<HttpRoute>(`/v2/apis/${apiId}/routes`), [apiId]);
  const [editing, setEditing] = useState<HttpIntegration | "new" | null>(null);
  const usedBy = (i: HttpIntegration) =>
    (routes.data ?? [])
      .filter((r) => r.target === `integrations/${i.integrationId}`)
      .map((r) => r.routeKey)
      .join(", ");
  return (
    <section>
      <div class="page-head">
        <h2>Integrations</h2>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Create integration
        </button>
      </div>
      <ListStatus list={list} loading="Loading integrations" empty="No integrations yet">
        <p>An integration is where a route sends its requests: an HTTP endpoint (HTTP_PROXY) or a Lambda function (AWS_PROXY).</p>
      </ListStatus>
      {list.data && list.data.length > 0 && (
        <table class="table" aria-label="Integrations" data-testid="http-integrations">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Type</th>
              <th scope="col">Target</th>
              <th scope="col">Payload</th>
              <th scope="col">Timeout</th>
              <th scope="col">Mappings</th>
              <th scope="col">Routes</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((i) => {
              const req = Object.keys(i.requestParameters ?? {}).length;
              const res = Object.keys(i.responseParameters ?? {}).length;
              return (
                <tr key={i.integrationId}>
                  <td>
                    <code>{i.integrationId}</code>
                  </td>
                  <td>{i.integrationType}</td>
                  <td>
                    {i.integrationType === "HTTP_PROXY" && i.integrationMethod ? `${i.integrationMethod} ` : ""}
                    {i.integrationUri ? <code>{i.integrationUri}</code> : <span class="muted">—</span>}
                  </td>
                  <td>{i.payloadFormatVersion ?? "—"}</td>
                  <td>{i.timeoutInMillis ? `${i.timeoutInMillis} ms` : "30000 ms"}</td>
                  <td>{req || res ? `${req} request, ${res} response status${res === 1 ? "" : "es"}` : <span class="muted">None</span>}</td>
                  <td>{usedBy(i) || <span class="muted">No route</span>}</td>
                  <td class="row-actions">
                    <button type="button" class="link" aria-label={`Edit integration ${i.integrationId}`} onClick={() => setEditing(i)}>
                      Edit
                    </button>{" "}
                    <DeleteRow what={`integration ${i.integrationId}`} title="Delete integration" path={`/v2/apis/${apiId}/integrations/${i.integrationId}`} onDone={list.reload} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editing && (
        <IntegrationDialog
          apiId={apiId}
          integration={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

// responseParameters / requestParameters first: their messages may also name a header or the URI.
const FIELDS = {
  responseParameters: ["response parameter", "responseParameters"],
  requestParameters: ["request parameter", "requestParameters"],
  integrationUri: ["function", "url", "uri"],
  payloadFormatVersion: ["payload format", "payload format version"],
  timeoutInMillis: ["timeout"],
  integrationMethod: ["method"],
  integrationType: [],
};

function IntegrationDialog(props: { apiId: string; integration: HttpIntegration | null; onClose: () => void; onSaved: () => void }) {
  const was = props.integration;
  const [type, setType] = useState<string>(was?.integrationType ?? "HTTP_PROXY");
  const [uri, setUri] = useState(was?.integrationUri ?? "");
  const [method, setMethod] = useState(was?.integrationMethod ?? "ANY");
  const [payload, setPayload] = useState(was?.payloadFormatVersion ?? "2.0");
  const [timeout, setTimeout_] = useState(was?.timeoutInMillis ? String(was.timeoutInMillis) : "");
  const [request, setRequest] = useState<Mapping[]>(Object.entries(was?.requestParameters ?? {}).map(([k, v]) => [...splitTarget(k, REQUEST_TARGETS), v] as Mapping));
  const [response, setResponse] = useState<ResponseMapping[]>(
    Object.entries(was?.responseParameters ?? {}).flatMap(([status, m]) => Object.entries(m).map(([k, v]) => [status, ...splitTarget(k, RESPONSE_TARGETS), v] as ResponseMapping)),
  );
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  const http = type === "HTTP_PROXY";
  return (
    <Modal title={was ? `Edit integration ${was.integrationId}` : "Create integration"} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const requestParameters = Object.fromEntries(request.filter(([t, n]) => !named(t) || n.trim()).map(([t, n, v]) => [keyOf(t, n), v]));
          const responseParameters: Record<string, Record<string, string>> = {};
          for (const [status, t, n, v] of response) {
            if (!status.trim() || (named(t) && !n.trim())) continue;
            (responseParameters[status.trim()] ??= {})[keyOf(t, n)] = v;
          }
          const body = {
            integrationType: type as HttpIntegration["integrationType"],
            integrationUri: uri.trim(),
            integrationMethod: http ? method : undefined,
            payloadFormatVersion: http ? "1.0" : payload,
            timeoutInMillis: timeout.trim() ? Number(timeout) : undefined,
            requestParameters,
            responseParameters,
          };
          const ok = await a.run(() =>
            was
              ? update(`/v2/apis/${props.apiId}/integrations/${was.integrationId}`, {
                  ...body,
                  // Clearing the timeout puts the default (30000) back.
                  timeoutInMillis: body.timeoutInMillis ?? (was.timeoutInMillis ? 30000 : undefined),
                } satisfies V2UpdateIntegrationRequest)
              : post(`/v2/apis/${props.apiId}/integrations`, {
                  ...body,
                  requestParameters: Object.keys(requestParameters).length ? requestParameters : undefined,
                  responseParameters: Object.keys(responseParameters).length ? responseParameters : undefined,
                } satisfies V2CreateIntegrationRequest),
          );
          if (ok) {
            toast(was ? `Integration ${was.integrationId} saved` : `${type} integration created`);
            props.onSaved();
          }
        }}
      >
        <Select
          label="Integration type"
          name="integrationType"
          value={type}
          options={[
            { value: "HTTP_PROXY", label: "HTTP endpoint (HTTP_PROXY)" },
            { value: "AWS_PROXY", label: "Lambda function (AWS_PROXY)" },
          ]}
          onChange={setType}
        />
        {http ? (
          <div class="row">
            <Field
              label="Endpoint URL"
              name="integrationUri"
              value={uri}
              onInput={setUri}
              required
              placeholder="https://backend.example.com/{proxy}"
              hint="May use ${stageVariables.name}"
              error={err.at("integrationUri")}
            />
            <Select label="HTTP method" name="integrationMethod" value={method} options={["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]} onChange={setMethod} />
          </div>
        ) : (
          <div class="row">
            <Field
              label="Lambda function ARN"
              name="integrationUri"
              value={uri}
              onInput={setUri}
              required
              placeholder="arn:aws:lambda:us-east-1:000000000000:function:orders"
              hint="A function ARN or its invocation URI"
              error={err.at("integrationUri")}
            />
            <Select
              label="Payload format version"
              name="payloadFormatVersion"
              value={payload}
              options={[
                { value: "2.0", label: "2.0 (HTTP API event)" },
                { value: "1.0", label: "1.0 (REST API proxy event)" },
              ]}
              onChange={setPayload}
            />
          </div>
        )}
        {err.at("integrationMethod") && <ErrorText error={err.at("integrationMethod")} />}
        {err.at("payloadFormatVersion") && <ErrorText error={err.at("payloadFormatVersion")} />}
        <Field label="Timeout (ms)" name="timeoutInMillis" type="number" value={timeout} onInput={setTimeout_} hint="50 to 30000; empty: 30000" error={err.at("timeoutInMillis")} />
        <EditableRows
          label="Request parameter mappings"
          rows={request}
          onChange={setRequest}
          removeLabel={(i) => `Remove request mapping ${i + 1}`}
          addLabel="Add request mapping"
          blank={() => ["overwrite:header.", "", ""] as Mapping}
          row={([t, n, v], i) => (
            <>
              <span class="pair">
                <select aria-label={`Request mapping ${i + 1} change`} value={t} onChange={(e) => setRequest(request.map((x, j) => (j === i ? [(e.currentTarget as HTMLSelectElement).value, x[1], x[2]] : x)))}>
                  <Options options={REQUEST_TARGETS.includes(t) ? REQUEST_TARGETS : [...REQUEST_TARGETS, t]} />
                </select>
                {named(t) && (
                  <input
                    aria-label={`Request mapping ${i + 1} name`}
                    placeholder="x-request-id"
                    value={n}
                    onInput={(e) => setRequest(request.map((x, j) => (j === i ? [x[0], (e.currentTarget as HTMLInputElement).value, x[2]] : x)))}
                  />
                )}
              </span>
              <input
                aria-label={`Request mapping ${i + 1} value`}
                placeholder={t.startsWith("remove:") ? "(empty)" : "$request.header.x or /items/${request.path.id}"}
                value={v}
                aria-invalid={err.at("requestParameters") ? true : undefined}
                onInput={(e) => setRequest(request.map((x, j) => (j === i ? [x[0], x[1], (e.currentTarget as HTMLInputElement).value] : x)))}
              />
            </>
          )}
        />
        <ErrorText error={err.at("requestParameters")} />
        <EditableRows
          label="Response parameter mappings (by status code)"
          rows={response}
          onChange={setResponse}
          removeLabel={(i) => `Remove response mapping ${i + 1}`}
          addLabel="Add response mapping"
          blank={() => ["200", "overwrite:header.", "", ""] as ResponseMapping}
          row={([s, t, n, v], i) => (
            <>
              <span class="pair">
                <input
                  class="status"
                  aria-label={`Response mapping ${i + 1} status code`}
                  placeholder="200"
                  value={s}
                  onInput={(e) => setResponse(response.map((x, j) => (j === i ? [(e.currentTarget as HTMLInputElement).value, x[1], x[2], x[3]] : x)))}
                />
                <select
                  aria-label={`Response mapping ${i + 1} change`}
                  value={t}
                  onChange={(e) => setResponse(response.map((x, j) => (j === i ? [x[0], (e.currentTarget as HTMLSelectElement).value, x[2], x[3]] : x)))}
                >
                  <Options options={RESPONSE_TARGETS.includes(t) ? RESPONSE_TARGETS : [...RESPONSE_TARGETS, t]} />
                </select>
                {named(t) && (
                  <input
                    aria-label={`Response mapping ${i + 1} name`}
                    placeholder="x-backend"
                    value={n}
                    onInput={(e) => setResponse(response.map((x, j) => (j === i ? [x[0], x[1], (e.currentTarget as HTMLInputElement).value, x[3]] : x)))}
                  />
                )}
              </span>
              <input
                aria-label={`Response mapping ${i + 1} value`}
                placeholder={t === "overwrite:statuscode" ? "204" : "$response.header.x or fixed text"}
                value={v}
                aria-invalid={err.at("responseParameters") ? true : undefined}
                onInput={(e) => setResponse(response.map((x, j) => (j === i ? [x[0], x[1], x[2], (e.currentTarget as HTMLInputElement).value] : x)))}
              />
            </>
          )}
        />
        <ErrorText error={err.at("responseParameters")} />
        <ErrorText error={err.at("integrationType") ?? err.rest} />
        <FormActions submit={was ? "Save" : "Create"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
