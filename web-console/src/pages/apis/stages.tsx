// Stages: which deployment each serves, its canary (stage-canary.tsx), its variables and
// settings (every method setting: stage-method-settings.tsx), and flushing its
// authorizer cache (FlushStageAuthorizersCache); each stage's Metrics tab is the dashboard
// of stage-metrics.tsx (`/apis/{id}/stages/{name}/metrics`).
import { useState } from "preact/hooks";
import { del, fmtDateTime, get, listAll, patch, patchKey, type PatchOp } from "../../api";
import { Link, match, navigate } from "../../router";
import { Check, Confirm, Empty, ErrorText, Field, FormActions, KeyValues, Loading, Modal, entries, fromEntries, toast, useAction, useAsync } from "../../ui";
import { Copyable } from "../../shared/copy";
import { defaultEndpoint, invokeEndpoint, invokeUrls, setInvokeEndpoint } from "../../shared/invoke";
import type { Deployment, Stage } from "./api";
import { MethodThrottling } from "./stage-methods";
import { CanaryPanel } from "./stage-canary";
import { MethodSettings } from "./stage-method-settings";
import { StageCache } from "./stage-cache";
import { Tags } from "../../shared/tags";
import { StageClientCertificate } from "../domains/stage-client-cert";
import { StageMetrics } from "./stage-metrics";

export function Stages({ apiId, apiName, path, version }: { apiId: string; apiName: string; path: string; version: number }) {
  const stages = useAsync(() => listAll<Stage>(`/restapis/${apiId}/stages`), [apiId, version]);
  const metricsView = match("/apis/:id/stages/:name/metrics", path);
  const sel = (match("/apis/:id/stages/:name", path) ?? metricsView)?.name;
  const view = metricsView ? "/metrics" : "";
  if (stages.error) return <ErrorText error={stages.error} />;
  if (!stages.data) return <Loading what="Loading stages" />;
  if (stages.data.length === 0)
    return (
      <Empty title="No stages yet">
        <p>Deploy the API to create a stage such as prod; its invoke URL then serves that deployment.</p>
      </Empty>
    );
  const current = stages.data.find((s) => s.stageName === sel);
  return (
    <div class="split">
      <nav class="tree" aria-label="Stages">
        <ul>
          {stages.data.map((s) => (
            <li key={s.stageName}>
              <Link href={`/apis/${apiId}/stages/${encodeURIComponent(s.stageName)}${view}`} aria-current={s.stageName === sel ? "page" : undefined}>
                {s.stageName}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <section class="detail">
        {!sel && <p class="muted">Select a stage.</p>}
        {sel && !current && <Empty title={`No stage named ${sel}`} />}
        {current && (
          <StageDetail
            key={`${current.stageName}:${current.lastUpdatedDate}`}
            apiId={apiId}
            apiName={apiName}
            stage={current}
            metrics={!!metricsView}
            onChanged={stages.reload}
          />
        )}
      </section>
    </div>
  );
}

function StageDetail(props: { apiId: string; apiName: string; stage: Stage; metrics: boolean; onChanged: () => void }) {
  const { apiId, stage, onChanged } = props;
  const spath = `/restapis/${apiId}/stages/${encodeURIComponent(stage.stageName)}`;
  const deployment = useAsync(() => get<Deployment>(`/restapis/${apiId}/deployments/${stage.deploymentId}`), [stage.deploymentId]);
  const [vars, setVars] = useState(entries(stage.variables));
  const [description, setDescription] = useState(stage.description ?? "");
  const [tracing, setTracing] = useState(!!stage.tracingEnabled);
  const all = stage.methodSettings?.["*/*"];
  const [rate, setRate] = useState(all ? String(all.throttlingRateLimit) : "");
  const [burst, setBurst] = useState(all ? String(all.throttlingBurstLimit) : "");
  const [deleting, setDeleting] = useState(false);
  const [flushing, setFlushing] = useState(false);
  const [endpoint, setEndpoint] = useState(invokeEndpoint());
  const [editingEndpoint, setEditingEndpoint] = useState(false);
  const urls = invokeUrls(apiId, stage.stageName, endpoint);
  const a = useAction();
  const v = useAction();
  return (
    <div>
      <div class="page-head">
        <h2>Stage {stage.stageName}</h2>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={() => setFlushing(true)}>
            Flush authorizer cache
          </button>
          <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
            Delete stage
          </button>
        </div>
      </div>
      <nav class="tabs sub" aria-label="Stage sections">
        <Link href={`/apis/${apiId}/stages/${encodeURIComponent(stage.stageName)}`} aria-current={props.metrics ? undefined : "page"}>
          Settings
        </Link>
        <Link href={`/apis/${apiId}/stages/${encodeURIComponent(stage.stageName)}/metrics`} aria-current={props.metrics ? "page" : undefined}>
          Metrics
        </Link>
      </nav>
      {props.metrics ? (
        <StageMetrics apiName={props.apiName} stage={stage} spath={spath} onChanged={onChanged} />
      ) : (
        <>
        <dl class="props">
          <dt>Invoke URL</dt>
          <dd>
            <Copyable text={urls.host} label="Copy the invoke URL" testId="invoke-url" />
          </dd>
          <dt>Invoke URL (node path)</dt>
          <dd>
            <Copyable text={urls.node} label="Copy the node invoke URL" testId="invoke-url-node" />{" "}
            <button type="button" class="link" onClick={() => setEditingEndpoint(true)}>
              Change the data-plane address
            </button>
          </dd>
          <dt>Active deployment</dt>
          <dd data-testid="active-deployment">
            <code>{stage.deploymentId}</code> {deployment.data ? `— ${deployment.data.description ?? "no description"}, ${fmtDateTime(deployment.data.createdDate)}` : ""}{" "}
            <Link href={`/apis/${apiId}/deployments`}>History and rollback</Link>
          </dd>
          <dt>Last updated</dt>
          <dd>{fmtDateTime(stage.lastUpdatedDate)}</dd>
          <dt>Export</dt>
          <dd>
            {/* GetExport of the deployed snapshot, with the API Gateway extensions (JSON). */}
            <a class="button-link" href={`${spath}/exports/oas30?extensions=apigateway`} download>
              OpenAPI 3.0
            </a>{" "}
            <a class="button-link" href={`${spath}/exports/swagger?extensions=apigateway`} download>
              Swagger 2.0
            </a>
          </dd>
        </dl>
        {editingEndpoint && <EndpointDialog onClose={() => setEditingEndpoint(false)} onSaved={() => setEndpoint(invokeEndpoint())} />}
        <form
          class="panel"
          aria-label="Stage variables"
          onSubmit={async (e) => {
            e.preventDefault();
            const after = fromEntries(vars);
            const before = stage.variables ?? {};
            const ops: PatchOp[] = [];
            for (const k of Object.keys(before)) if (!(k in after)) ops.push({ op: "remove", path: `/variables/${patchKey(k)}` });
            for (const [k, val] of Object.entries(after)) if (before[k] !== val) ops.push({ op: "replace", path: `/variables/${patchKey(k)}`, value: val });
            if (await v.run(async () => ops.length && (await patch(spath, ops)))) {
              toast("Stage variables saved");
              onChanged();
            }
          }}
        >
          <h3>Stage variables</h3>
          <KeyValues label="Variables" keyLabel="Name" valueLabel="Value" rows={vars} onChange={setVars} addLabel="Add variable" />
          <ErrorText error={v.error} />
          <FormActions submit="Save variables" disabled={v.busy} />
        </form>
        <form
          class="panel"
          aria-label="Stage settings"
          onSubmit={async (e) => {
            e.preventDefault();
            const ops: PatchOp[] = [];
            if (description !== (stage.description ?? "")) ops.push({ op: "replace", path: "/description", value: description });
            if (tracing !== !!stage.tracingEnabled) ops.push({ op: "replace", path: "/tracingEnabled", value: String(tracing) });
            if (rate !== "" && rate !== String(all?.throttlingRateLimit ?? "")) ops.push({ op: "replace", path: "/*/*/throttling/rateLimit", value: rate });
            if (burst !== "" && burst !== String(all?.throttlingBurstLimit ?? "")) ops.push({ op: "replace", path: "/*/*/throttling/burstLimit", value: burst });
            if (await a.run(async () => ops.length && (await patch(spath, ops)))) {
              toast("Stage settings saved");
              onChanged();
            }
          }}
        >
          <h3>Settings</h3>
          <Field label="Description" value={description} onInput={setDescription} />
          <Check label="Tracing enabled" checked={tracing} onChange={setTracing} />
          <div class="row">
            <Field label="Default throttling rate (requests/s)" value={rate} onInput={setRate} type="number" />
            <Field label="Default throttling burst" value={burst} onInput={setBurst} type="number" />
          </div>
          <ErrorText error={a.error} />
          <FormActions submit="Save settings" disabled={a.busy} />
        </form>
        <CanaryPanel apiId={apiId} spath={spath} stage={stage} onChanged={onChanged} />
        <MethodSettings apiId={apiId} spath={spath} settings={stage.methodSettings ?? {}} onChanged={onChanged} />
        <StageCache spath={spath} stage={stage} onChanged={onChanged} />
        <StageClientCertificate spath={spath} current={stage.clientCertificateId} onChanged={onChanged} />
        <MethodThrottling apiId={apiId} spath={spath} settings={stage.methodSettings ?? {}} onChanged={onChanged} />
        <Tags path={`/restapis/${apiId}/stages/${stage.stageName}`} label="Stage tags" />
        </>
      )}
      {flushing && (
        <Confirm
          title="Flush authorizer cache"
          confirm="Flush authorizer cache"
          body={
            <p>Forget the cached authorizer decisions and verified tokens of stage {stage.stageName} on every node? Each caller's next request is authorized again.</p>
          }
          onClose={() => setFlushing(false)}
          onConfirm={async () => {
            await del(`${spath}/cache/authorizers`);
            toast(`Authorizer cache of ${stage.stageName} flushed`);
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete stage"
          danger
          confirm="Delete stage"
          body={<p>Delete stage {stage.stageName}? Its invoke URL stops answering.</p>}
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await del(spath);
            toast(`Stage ${stage.stageName} deleted`);
            onChanged();
            navigate(`/apis/${apiId}/stages`);
          }}
        />
      )}
    </div>
  );
}

/** Where this browser reaches the data-plane nodes (kept in localStorage). */
function EndpointDialog({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const e = invokeEndpoint();
  const [node, setNode] = useState(e.node);
  const [domain, setDomain] = useState(e.domain);
  return (
    <Modal title="Data-plane address" onClose={onClose}>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          setInvokeEndpoint({ node: node.trim(), domain: domain.trim() });
          onSaved();
          onClose();
        }}
      >
        <Field label="Data-plane node URL" value={node} onInput={setNode} required hint={`Scheme, host and port of a node, e.g. ${defaultEndpoint().node}`} />
        <Field
          label="execute-api domain"
          value={domain}
          onInput={setDomain}
          required
          hint="The nodes' --execute-api-domain, with the port if not the scheme's default"
        />
        <div class="actions">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}
