// A custom domain's API mappings of HTTP API stages (apigatewayv2 GetApiMappings,
// CreateApiMapping, DeleteApiMapping): a key (empty, `orders` or `v1/orders`) → an HTTP
// API's stage. REST stages are mapped by base path mappings (the section above); keys are
// one namespace across both.
import { useState } from "preact/hooks";
import { del, post } from "../../api";
import { Link } from "../../router";
import { Confirm, Empty, ErrorText, Field, FormActions, Loading, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { TableHead } from "../../shared/table";
import { listV2, splitError, type HttpApi, type HttpStage } from "../../v2";
import { HTTP_BASE } from "../http/apis";
import { FieldError } from "./pem";
import type { V2ApiMapping } from "../../api/types";

type Mapping = V2ApiMapping & { apiMappingId: string };

const FIELDS = { apiId: ["api identifier"], stage: ["stage"], apiMappingKey: ["mapping key"] };

export function HttpApiMappings({ domain }: { domain: string }) {
  const path = `/v2/domainnames/${encodeURIComponent(domain)}/apimappings`;
  const mappings = useAsync(() => listV2<Mapping>(path), [domain]);
  const apis = useAsync(() => listV2<HttpApi>("/v2/apis").then((l) => l.filter((a) => a.protocolType === "HTTP")), []);
  const apiName = (id?: string) => apis.data?.find((x) => x.apiId === id)?.name;
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<Mapping | null>(null);
  const rows = mappings.data ?? [];
  return (
    <section class="panel" aria-labelledby="http-mappings-title">
      <div class="page-head">
        <h2 id="http-mappings-title">HTTP API mappings</h2>
        <button type="button" class="secondary" onClick={() => setAdding(true)}>
          Add HTTP API mapping
        </button>
      </div>
      <ErrorText error={mappings.error} />
      {mappings.loading && !mappings.data && <Loading what="Loading HTTP API mappings" />}
      {mappings.data && rows.length === 0 && (
        <Empty title="No HTTP API mappings">
          <p>Map an HTTP API's stage to a key of this domain; the longest key that starts a request's path wins and is stripped.</p>
        </Empty>
      )}
      {rows.length > 0 && (
        <table class="table" data-testid="http-mappings-table" aria-label="HTTP API mappings">
          <TableHead columns={["Key", "HTTP API", "Stage", "URL"]} />
          <tbody>
            {rows.map((m) => (
              <tr key={m.apiMappingId}>
                <td>{m.apiMappingKey ? <code>{m.apiMappingKey}</code> : <span class="muted">(none)</span>}</td>
                <td>
                  <Link href={`${HTTP_BASE}/${m.apiId}`}>{apiName(m.apiId) ?? m.apiId}</Link> <code class="muted small">{m.apiId}</code>
                </td>
                <td>{m.stage}</td>
                <td>
                  <code>{`https://${domain}/${m.apiMappingKey ?? ""}`}</code>
                </td>
                <td class="row-actions">
                  <button type="button" class="link" aria-label={`Delete HTTP API mapping ${m.apiMappingKey || "(none)"}`} onClick={() => setDeleting(m)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adding && (
        <AddMapping
          path={path}
          apis={apis.data ?? []}
          onClose={() => setAdding(false)}
          onAdded={() => {
            setAdding(false);
            mappings.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete HTTP API mapping"
          danger
          confirm="Delete mapping"
          body={
            <p>
              Stop serving {deleting.apiMappingKey ? <code>{deleting.apiMappingKey}</code> : "the whole domain"} from {apiName(deleting.apiId) ?? deleting.apiId}? Its requests go to the next longest key once the nodes have the change.
            </p>
          }
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`${path}/${deleting.apiMappingId}`);
            toast(`HTTP API mapping ${deleting.apiMappingKey || "(none)"} deleted`);
            mappings.reload();
          }}
        />
      )}
    </section>
  );
}

/** CreateApiMapping: an HTTP API, one of its stages, and a key (empty maps the whole domain). */
function AddMapping({ path, apis, onClose, onAdded }: { path: string; apis: HttpApi[]; onClose: () => void; onAdded: () => void }) {
  const [apiId, setApiId] = useState("");
  const chosen = apiId || apis[0]?.apiId || "";
  const stages = useAsync(async () => (chosen ? listV2<HttpStage>(`/v2/apis/${chosen}/stages`) : []), [chosen]);
  const [stage, setStage] = useState("");
  const [key, setKey] = useState("");
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  const stageNames = (stages.data ?? []).map((s) => s.stageName);
  const stageChoice = stageNames.includes(stage) ? stage : (stageNames[0] ?? "");
  if (apis.length === 0)
    return (
      <Modal title="Add HTTP API mapping" onClose={onClose}>
        <p>
          There is no HTTP API to map: <Link href={HTTP_BASE}>create one</Link> with a stage.
        </p>
        <div class="actions">
          <button type="button" class="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </Modal>
    );
  return (
    <Modal title="Add HTTP API mapping" onClose={onClose}>
      <form
        aria-label="Add HTTP API mapping"
        onSubmit={async (e) => {
          e.preventDefault();
          const apiMappingKey = key.trim();
          const ok = await a.run(() => post(path, { apiId: chosen, stage: stageChoice, ...(apiMappingKey ? { apiMappingKey } : {}) }));
          if (ok) {
            toast(`HTTP API mapping ${apiMappingKey || "(none)"} added`);
            onAdded();
          }
        }}
      >
        <div>
          <Select
            label="HTTP API"
            value={chosen}
            options={apis.map((x) => ({ value: x.apiId, label: `${x.name} (${x.apiId})` }))}
            onChange={(v) => {
              setApiId(v);
              setStage("");
            }}
          />
          <FieldError error={err.at("apiId")} />
        </div>
        <div>
          <Select label="Stage" value={stageChoice} options={stageNames} onChange={setStage} />
          <FieldError error={err.at("stage") ?? stages.error} />
        </div>
        <Field label="API mapping key" value={key} onInput={setKey} placeholder="v1/orders" error={err.at("apiMappingKey")} hint="One or more segments (orders, v1/orders); empty maps the whole domain" />
        <ErrorText error={err.rest} />
        <FormActions submit="Add mapping" disabled={a.busy || !chosen || !stageChoice} onCancel={onClose} />
      </form>
    </Modal>
  );
}
