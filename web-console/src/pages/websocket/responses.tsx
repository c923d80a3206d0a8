// The responses of a WebSocket route and of an integration, each a panel under its tab's
// table (opened by the row's "Responses" button): list, create, edit, delete.
//
// Route responses: the key (WebSocket APIs allow only `$default`: the control plane's
// refusal of any other is shown under the key), the model selection expression and the
// response models (selection key → model). A route answers back through them only with a
// route response selection expression (`$default`), which the panel can set.
//
// Integration responses: the key (`$default` or a `/regex/` of status codes), the template
// selection expression and the response templates (selection key → template; a template
// that does not parse is refused with its position).
import { useState } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { del, post, update } from "../../api";
import { Confirm, EditableRows, ErrorText, Field, FormActions, KeyValues, ListStatus, Modal, Options, entries, fromEntries, toast, useAction, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import type {
  V2CreateIntegrationResponseRequest,
  V2CreateRouteResponseRequest,
  V2UpdateIntegrationResponseRequest,
  V2UpdateRouteRequest,
  V2UpdateRouteResponseRequest,
} from "../../api/types";
import { listV2, splitError, type WsIntegration, type WsIntegrationResponse, type WsModel, type WsRoute, type WsRouteResponse } from "../../v2";

/** A panel's heading with its Close button. */
function PanelHead(props: { id: string; title: ComponentChildren; create: string; onCreate: () => void; onClose: () => void; closeLabel: string }) {
  return (
    <div class="page-head">
      <h3 id={props.id}>{props.title}</h3>
      <div class="head-actions">
        <button type="button" class="primary small" onClick={props.onCreate}>
          {props.create}
        </button>
        <button type="button" class="secondary small" aria-label={props.closeLabel} onClick={props.onClose}>
          Close
        </button>
      </div>
    </div>
  );
}

const mapText = (m?: Record<string, string>) =>
  Object.keys(m ?? {}).length === 0 ? (
    <span class="muted">None</span>
  ) : (
    Object.entries(m ?? {}).map(([k, v]) => (
      <span key={k}>
        <code>
          {k} → {v}
        </code>{" "}
      </span>
    ))
  );

// ---- route responses ------------------------------------------------------------------

const ROUTE_RESPONSE_FIELDS = { routeResponseKey: [], modelSelectionExpression: [], responseModels: [] };

export function RouteResponses(props: { apiId: string; route: WsRoute; onClose: () => void; onRouteChanged: () => void }) {
  const { apiId, route } = props;
  const base = `/v2/apis/${apiId}/routes/${route.routeId}/routeresponses`;
  const list = useAsync(() => listV2<WsRouteResponse>(base), [base]);
  const models = useAsync(() => listV2<WsModel>(`/v2/apis/${apiId}/models`), [apiId]);
  const [editing, setEditing] = useState<WsRouteResponse | "new" | null>(null);
  const [deleting, setDeleting] = useState<WsRouteResponse | null>(null);
  const turnOn = useAction();
  const id = `ws-route-responses-${route.routeId}`;
  return (
    <section class="panel" aria-labelledby={id} data-testid="ws-route-responses">
      <PanelHead
        id={id}
        title={
          <>
            Route responses of <code>{route.routeKey}</code>
          </>
        }
        create="Create route response"
        onCreate={() => setEditing("new")}
        onClose={props.onClose}
        closeLabel={`Close the route responses of ${route.routeKey}`}
      />
      {route.routeResponseSelectionExpression ? (
        <p class="muted">
          The integration's answer goes back to the client through the route response the route response selection expression (
          <code>{route.routeResponseSelectionExpression}</code>) selects.
        </p>
      ) : (
        <p class="muted">
          The route has no route response selection expression: the integration's answer is not sent back, whatever its route responses.{" "}
          <button
            type="button"
            class="secondary small"
            disabled={turnOn.busy}
            onClick={async () => {
              if (await turnOn.run(() => update(`/v2/apis/${apiId}/routes/${route.routeId}`, { routeResponseSelectionExpression: "$default" } satisfies V2UpdateRouteRequest))) {
                toast(`Route ${route.routeKey} now sends answers back`);
                props.onRouteChanged();
              }
            }}
          >
            Send answers back ($default)
          </button>
        </p>
      )}
      <ErrorText error={turnOn.error} />
      <ListStatus list={list} loading="Loading route responses" empty="No route responses" />
      {list.data && list.data.length > 0 && (
        <Table
          label={`Route responses of ${route.routeKey}`}
          rows={list.data}
          rowKey={(r) => r.routeResponseId}
          columns={[
            { title: "Key", cell: (r) => <code>{r.routeResponseKey}</code> },
            { title: "Model selection expression", cell: (r) => (r.modelSelectionExpression ? <code>{r.modelSelectionExpression}</code> : "—") },
            { title: "Response models", cell: (r) => mapText(r.responseModels) },
            {
              title: "Actions",
              hidden: true,
              cell: (r) => <EditDeleteButtons what={`route response ${r.routeResponseKey}`} onEdit={() => setEditing(r)} onDelete={() => setDeleting(r)} />,
            },
          ]}
        />
      )}
      {editing && (
        <RouteResponseDialog
          base={base}
          routeKey={route.routeKey}
          response={editing === "new" ? null : editing}
          models={models.data ?? []}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete route response"
          danger
          confirm="Delete"
          body={
            <p>
              Delete the route response <code>{deleting.routeResponseKey}</code> of <code>{route.routeKey}</code>?
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`${base}/${deleting.routeResponseId}`);
            toast(`Route response ${deleting.routeResponseKey} deleted`);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function RouteResponseDialog(props: {
  base: string;
  routeKey: string;
  response: WsRouteResponse | null;
  models: WsModel[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const was = props.response;
  const [key, setKey] = useState(was?.routeResponseKey ?? "$default");
  const [mse, setMse] = useState(was?.modelSelectionExpression ?? "");
  const [rows, setRows] = useState<[string, string][]>(entries(was?.responseModels));
  const a = useAction();
  const err = splitError(a.error, ROUTE_RESPONSE_FIELDS);
  const modelOptions = [{ value: "", label: "Choose a model" }, ...props.models.map((m) => ({ value: m.name, label: m.name }))];
  return (
    <Modal title={was ? `Edit route response ${was.routeResponseKey}` : `Create a route response of ${props.routeKey}`} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const responseModels = fromEntries(rows);
          const body = {
            routeResponseKey: key.trim(),
            modelSelectionExpression: mse.trim() || undefined,
            responseModels: was || Object.keys(responseModels).length ? responseModels : undefined,
          } satisfies V2CreateRouteResponseRequest & V2UpdateRouteResponseRequest;
          const ok = await a.run(() => (was ? update(`${props.base}/${was.routeResponseId}`, body) : post(props.base, body)));
          if (ok) {
            toast(`Route response ${body.routeResponseKey} ${was ? "saved" : "created"}`);
            props.onSaved();
          }
        }}
      >
        <Field
          label="Route response key"
          name="routeResponseKey"
          value={key}
          onInput={setKey}
          required
          autoFocus
          hint="WebSocket APIs allow $default only"
          error={err.at("routeResponseKey")}
        />
        <Field
          label="Model selection expression"
          name="modelSelectionExpression"
          value={mse}
          onInput={setMse}
          placeholder="$default"
          hint="Optional: selects the key of the response model"
          error={err.at("modelSelectionExpression")}
        />
        <EditableRows
          label="Response models"
          rows={rows}
          onChange={setRows}
          removeLabel={(i) => `Remove response model ${i + 1}`}
          addLabel="Add response model"
          blank={() => [rows.length ? "" : "$default", props.models[0]?.name ?? ""] as [string, string]}
          row={([k, m], i) => (
            <>
              <input
                aria-label={`Model selection key ${i + 1}`}
                placeholder="$default"
                value={k}
                onInput={(e) => setRows(rows.map((r, j) => (j === i ? [(e.currentTarget as HTMLInputElement).value, r[1]] : r)))}
              />
              <select aria-label={`Model ${i + 1}`} value={m} onChange={(e) => setRows(rows.map((r, j) => (j === i ? [r[0], (e.currentTarget as HTMLSelectElement).value] : r)))}>
                <Options options={m && !props.models.some((x) => x.name === m) ? [...modelOptions, m] : modelOptions} />
              </select>
            </>
          )}
        />
        {props.models.length === 0 && <p class="hint">No models yet: create them on the Models tab.</p>}
        <ErrorText error={err.at("responseModels")} />
        <ErrorText error={err.rest} />
        <FormActions submit={was ? "Save" : "Create"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

// ---- integration responses ------------------------------------------------------------

const INTEGRATION_RESPONSE_FIELDS = { integrationResponseKey: [], templateSelectionExpression: [], responseTemplates: ["mapping template"] };

export function IntegrationResponses(props: { apiId: string; integration: WsIntegration; onClose: () => void }) {
  const { apiId, integration } = props;
  const base = `/v2/apis/${apiId}/integrations/${integration.integrationId}/integrationresponses`;
  const list = useAsync(() => listV2<WsIntegrationResponse>(base), [base]);
  const [editing, setEditing] = useState<WsIntegrationResponse | "new" | null>(null);
  const [deleting, setDeleting] = useState<WsIntegrationResponse | null>(null);
  const id = `ws-integration-responses-${integration.integrationId}`;
  return (
    <section class="panel" aria-labelledby={id} data-testid="ws-integration-responses">
      <PanelHead
        id={id}
        title={
          <>
            Integration responses of <code>{integration.integrationId}</code> ({integration.integrationType})
          </>
        }
        create="Create integration response"
        onCreate={() => setEditing("new")}
        onClose={props.onClose}
        closeLabel={`Close the integration responses of ${integration.integrationId}`}
      />
      <p class="muted">
        An integration response maps the integration's answer (by its status code: <code>$default</code> or a <code>/regex/</code>) to what the route sends
        back; a MOCK integration answers its <code>$default</code> template.
      </p>
      <ListStatus list={list} loading="Loading integration responses" empty="No integration responses" />
      {list.data && list.data.length > 0 && (
        <Table
          label={`Integration responses of ${integration.integrationId}`}
          rows={list.data}
          rowKey={(r) => r.integrationResponseId}
          columns={[
            { title: "Key", cell: (r) => <code>{r.integrationResponseKey}</code> },
            { title: "Template selection expression", cell: (r) => (r.templateSelectionExpression ? <code>{r.templateSelectionExpression}</code> : "—") },
            { title: "Response templates", cell: (r) => mapText(r.responseTemplates) },
            {
              title: "Actions",
              hidden: true,
              cell: (r) => (
                <EditDeleteButtons what={`integration response ${r.integrationResponseKey}`} onEdit={() => setEditing(r)} onDelete={() => setDeleting(r)} />
              ),
            },
          ]}
        />
      )}
      {editing && (
        <IntegrationResponseDialog
          base={base}
          integrationId={integration.integrationId}
          response={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete integration response"
          danger
          confirm="Delete"
          body={
            <p>
              Delete the integration response <code>{deleting.integrationResponseKey}</code> of <code>{integration.integrationId}</code>?
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`${base}/${deleting.integrationResponseId}`);
            toast(`Integration response ${deleting.integrationResponseKey} deleted`);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function IntegrationResponseDialog(props: { base: string; integrationId: string; response: WsIntegrationResponse | null; onClose: () => void; onSaved: () => void }) {
  const was = props.response;
  const [key, setKey] = useState(was?.integrationResponseKey ?? "$default");
  const [tse, setTse] = useState(was?.templateSelectionExpression ?? "");
  const [rows, setRows] = useState<[string, string][]>(was ? entries(was.responseTemplates) : [["$default", ""]]);
  const a = useAction();
  const err = splitError(a.error, INTEGRATION_RESPONSE_FIELDS);
  return (
    <Modal title={was ? `Edit integration response ${was.integrationResponseKey}` : `Create an integration response of ${props.integrationId}`} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const responseTemplates = fromEntries(rows);
          const body = {
            integrationResponseKey: key.trim(),
            templateSelectionExpression: tse.trim() || undefined,
            responseTemplates: was || Object.keys(responseTemplates).length ? responseTemplates : undefined,
          } satisfies V2CreateIntegrationResponseRequest & V2UpdateIntegrationResponseRequest;
          const ok = await a.run(() => (was ? update(`${props.base}/${was.integrationResponseId}`, body) : post(props.base, body)));
          if (ok) {
            toast(`Integration response ${body.integrationResponseKey} ${was ? "saved" : "created"}`);
            props.onSaved();
          }
        }}
      >
        <Field
          label="Integration response key"
          name="integrationResponseKey"
          value={key}
          onInput={setKey}
          required
          autoFocus
          hint="$default, or a /regex/ of the integration's status codes, e.g. /4\d{2}/"
          error={err.at("integrationResponseKey")}
        />
        <Field
          label="Template selection expression"
          name="templateSelectionExpression"
          value={tse}
          onInput={setTse}
          placeholder="$default"
          hint="Optional: selects which response template applies"
          error={err.at("templateSelectionExpression")}
        />
        <KeyValues
          label="Response templates"
          rows={rows}
          onChange={setRows}
          keyLabel="Template key"
          valueLabel="Template"
          multilineValue
          addLabel="Add response template"
        />
        <ErrorText error={err.at("responseTemplates")} />
        <ErrorText error={err.rest} />
        <FormActions submit={was ? "Save" : "Create"} disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
