// Gateway responses of one API: every response type with its status, customised or
// default; edit status code, response headers and templates per content type (PutGatewayResponse),
// and reset to the default (DeleteGatewayResponse).
import { useState } from "preact/hooks";
import { del, listAll, put } from "../../api";
import { Confirm, ErrorText, Field, FormActions, KeyValues, Loading, Modal, entries, fromEntries, toast, useAction, useAsync } from "../../ui";
import { Table } from "../../shared/table";
import type { GatewayResponse } from "../../api/types";
export type { GatewayResponse };

const HEADER = "gatewayresponse.header.";

export function GatewayResponses({ apiId }: { apiId: string }) {
  const responses = useAsync(() => listAll<GatewayResponse>(`/restapis/${apiId}/gatewayresponses`), [apiId]);
  const [editing, setEditing] = useState<GatewayResponse | null>(null);
  const [resetting, setResetting] = useState<GatewayResponse | null>(null);
  const list = [...(responses.data ?? [])].sort((a, b) => a.responseType.localeCompare(b.responseType));
  return (
    <div>
      <div class="page-head">
        <h2>Gateway responses</h2>
      </div>
      <p class="muted">
        What the gateway answers when a request fails before or outside the integration (missing token, access denied, throttled, invalid body…). Changes reach
        callers after the next deployment.
      </p>
      <ErrorText error={responses.error} />
      {responses.loading && !responses.data && <Loading what="Loading gateway responses" />}
      {list.length > 0 && (
        <Table
          label="Gateway responses"
          rows={list}
          rowKey={(r) => r.responseType}
          columns={[
            { title: "Response type", cell: (r) => <code>{r.responseType}</code> },
            { title: "Status", cell: (r) => r.statusCode ?? "—" },
            { title: "Headers", cell: (r) => Object.keys(r.responseParameters ?? {}).map((k) => k.replace(HEADER, "")).join(", ") || "—" },
            { title: "Customised", cell: (r) => (r.defaultResponse === false ? "Yes" : "No (default)") },
            {
              title: "Actions",
              hidden: true,
              cell: (r) => (
                <>
                  <button type="button" class="link" aria-label={`Edit ${r.responseType}`} onClick={() => setEditing(r)}>
                    Edit
                  </button>
                  {r.defaultResponse === false && (
                    <>
                      {" "}
                      <button type="button" class="link" aria-label={`Reset to default: ${r.responseType}`} onClick={() => setResetting(r)}>
                        Reset to default
                      </button>
                    </>
                  )}
                </>
              ),
            },
          ]}
        />
      )}
      {editing && <GatewayResponseDialog apiId={apiId} response={editing} onClose={() => setEditing(null)} onSaved={responses.reload} />}
      {resetting && (
        <Confirm
          title="Reset gateway response"
          confirm="Reset to default"
          body={
            <p>
              Reset <code>{resetting.responseType}</code> to its default status, headers and body?
            </p>
          }
          onClose={() => setResetting(null)}
          onConfirm={async () => {
            await del(`/restapis/${apiId}/gatewayresponses/${resetting.responseType}`);
            toast(`${resetting.responseType} reset to default`);
            responses.reload();
          }}
        />
      )}
    </div>
  );
}

function GatewayResponseDialog({ apiId, response, onClose, onSaved }: { apiId: string; response: GatewayResponse; onClose: () => void; onSaved: () => void }) {
  const [status, setStatus] = useState(response.statusCode ?? "");
  const [headers, setHeaders] = useState(entries(response.responseParameters).map(([k, v]) => [k.replace(HEADER, ""), v] as [string, string]));
  const [templates, setTemplates] = useState(entries(response.responseTemplates));
  const a = useAction();
  return (
    <Modal title={`Edit ${response.responseType}`} onClose={onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await a.run(() =>
            put(`/restapis/${apiId}/gatewayresponses/${response.responseType}`, {
              statusCode: status.trim() || undefined,
              responseParameters: Object.fromEntries(Object.entries(fromEntries(headers)).map(([k, v]) => [HEADER + k, v])),
              responseTemplates: fromEntries(templates),
            }),
          );
          if (ok) {
            toast(`${response.responseType} saved`);
            onSaved();
            onClose();
          }
        }}
      >
        <Field label="Status code" name="statusCode" value={status} onInput={setStatus} hint="Empty: the status of the error (e.g. 403)" />
        <KeyValues
          label="Response headers"
          keyLabel="Header name"
          valueLabel="Header value"
          rows={headers}
          onChange={setHeaders}
          addLabel="Add header"
        />
        <p class="hint">Values are mapping expressions: a static value in single quotes ('*'), or method.request.header.name, stageVariables.name, context.requestId…</p>
        <KeyValues label="Response templates" keyLabel="Content type" valueLabel="Template" rows={templates} onChange={setTemplates} multilineValue addLabel="Add template" />
        <ErrorText error={a.error} />
        <FormActions submit="Save" disabled={a.busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
