// An HTTP API's Stages tab: one card per stage (`$default`, served without a stage segment,
// or a named one) with its invoke URL to copy, automatic deployment (on/off, "Deploy" when
// off, or point the stage at an earlier deployment), description and stage variables
// (UpdateStage), default route throttling and per-route settings (route-settings.tsx, shared
// with WebSocket stages) and access logs (a CloudWatch Logs group ARN and a format; removed
// with DeleteAccessLogSettings), and "Reset authorizer cache" (ResetAuthorizersCache: every
// node asks the Lambda authorizers again).
import { useState } from "preact/hooks";
import { del, post, update } from "../../api";
import { Check, Confirm, ErrorText, Field, FormActions, KeyValues, ListStatus, Modal, Select, entries, fromEntries, toast, useAction, useAsync } from "../../ui";
import { Copyable } from "../../shared/copy";
import { DeleteRow } from "../../shared/delete-row";
import { invokeEndpoint } from "../../shared/invoke";
import { fmtIso, httpUrl, listV2, splitError, type HttpApi, type HttpDeployment, type HttpStage } from "../../v2";
import type { V2CreateStageRequest, V2UpdateStageRequest } from "../../api/types";
import { WsStageRouteSettings } from "../websocket/route-settings";

export function HttpStages({ api }: { api: HttpApi }) {
  const stages = useAsync(() => listV2<HttpStage>(`/v2/apis/${api.apiId}/stages`), [api.apiId]);
  const deployments = useAsync(() => listV2<HttpDeployment>(`/v2/apis/${api.apiId}/deployments`), [api.apiId]);
  const [creating, setCreating] = useState(false);
  const endpoint = invokeEndpoint();
  const reload = () => {
    stages.reload();
    deployments.reload();
  };
  // $default first, then by name.
  const rows = [...(stages.data ?? [])].sort((a, b) => (a.stageName === "$default" ? -1 : b.stageName === "$default" ? 1 : a.stageName.localeCompare(b.stageName)));
  return (
    <section>
      <div class="page-head">
        <h2>Stages</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create stage
        </button>
      </div>
      <ListStatus list={stages} loading="Loading stages" empty="No stages yet">
        <p>
          Clients call a stage: <code>$default</code> at the root of the API's URL, a named stage under its name. With automatic deployment every change
          is deployed to it within a second.
        </p>
      </ListStatus>
      {api.disableExecuteApiEndpoint && rows.length > 0 && (
        <p class="error" role="note">
          The default endpoint is turned off (Edit API): these URLs answer 403; custom domains mapped to a stage serve it.
        </p>
      )}
      {rows.map((s) => (
        <StageCard key={s.stageName} apiId={api.apiId} stage={s} url={httpUrl(api.apiId, s.stageName, endpoint)} deployments={deployments.data ?? []} onChanged={reload} />
      ))}
      {rows.length > 0 && (
        <p class="muted small">
          The node address comes from this browser's setting (a REST API stage's “Change the data-plane address”): {endpoint.domain}.
        </p>
      )}
      {creating && (
        <CreateStage
          apiId={api.apiId}
          taken={rows.map((s) => s.stageName)}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
    </section>
  );
}

function StageCard(props: { apiId: string; stage: HttpStage; url: string; deployments: HttpDeployment[]; onChanged: () => void }) {
  const s = props.stage;
  const spath = `/v2/apis/${props.apiId}/stages/${encodeURIComponent(s.stageName)}`;
  const deploy = useAction();
  const [editing, setEditing] = useState(false);
  const [pointing, setPointing] = useState(false);
  const [resetting, setResetting] = useState(false);
  const vars = entries(s.stageVariables);
  const id = `http-stage-${s.stageName.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  return (
    <article class="panel" data-testid={`http-stage-${s.stageName}`} aria-labelledby={`${id}-title`}>
      <div class="page-head">
        <h3 id={`${id}-title`}>{s.stageName}</h3>
        <div class="head-actions">
          <button type="button" class="secondary small" onClick={() => setEditing(true)}>
            Edit stage {s.stageName}
          </button>
          <button
            type="button"
            class="secondary small"
            disabled={deploy.busy}
            onClick={async () => {
              const on = !s.autoDeploy;
              if (await deploy.run(() => update(spath, { autoDeploy: on } satisfies V2UpdateStageRequest))) {
                toast(`Automatic deployment of ${s.stageName} turned ${on ? "on" : "off"}`);
                props.onChanged();
              }
            }}
          >
            Turn automatic deployment {s.autoDeploy ? "off" : "on"}
          </button>
          {!s.autoDeploy && (
            <>
              <button
                type="button"
                class="secondary small"
                disabled={deploy.busy}
                onClick={async () => {
                  let d: HttpDeployment | undefined;
                  if (await deploy.run(async () => (d = await post<HttpDeployment>(`/v2/apis/${props.apiId}/deployments`, { stageName: s.stageName })))) {
                    toast(`Deployed ${d?.deploymentId} to ${s.stageName}`);
                    props.onChanged();
                  }
                }}
              >
                Deploy to {s.stageName}
              </button>
              {props.deployments.length > 0 && (
                <button type="button" class="secondary small" onClick={() => setPointing(true)}>
                  Choose a deployment
                </button>
              )}
            </>
          )}
          <button type="button" class="secondary small" onClick={() => setResetting(true)}>
            Reset authorizer cache
          </button>
          <DeleteRow what={`stage ${s.stageName}`} title="Delete stage" path={spath} onDone={props.onChanged} />
        </div>
      </div>
      <ErrorText error={deploy.error} />
      {resetting && (
        <Confirm
          title="Reset authorizer cache"
          confirm="Reset authorizer cache"
          body={<p>Forget the cached Lambda authorizer decisions of stage {s.stageName} on every node? Each caller's next request is authorized again.</p>}
          onClose={() => setResetting(false)}
          onConfirm={async () => {
            await del(`${spath}/cache/authorizers`);
            toast(`Authorizer cache of ${s.stageName} reset`);
          }}
        />
      )}
      <dl class="props">
        <dt>Invoke URL</dt>
        <dd>
          <Copyable text={props.url} label={`Copy the invoke URL of ${s.stageName}`} testId={`http-url-${s.stageName}`} />
        </dd>
        <dt>Automatic deployment</dt>
        <dd>{s.autoDeploy ? "On: every change is deployed" : "Off"}</dd>
        <dt>Deployment</dt>
        <dd>{s.deploymentId ? <code>{s.deploymentId}</code> : <span class="muted">Not deployed yet</span>}</dd>
        {s.lastDeploymentStatusMessage && (
          <>
            <dt>Last deployment</dt>
            <dd>{s.lastDeploymentStatusMessage}</dd>
          </>
        )}
        {s.description && (
          <>
            <dt>Description</dt>
            <dd>{s.description}</dd>
          </>
        )}
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
        <dt>Access logs</dt>
        <dd>
          {s.accessLogSettings?.destinationArn ? (
            <code>{s.accessLogSettings.destinationArn}</code>
          ) : (
            <span class="muted">Off</span>
          )}
        </dd>
        <dt>Updated</dt>
        <dd>{fmtIso(s.lastUpdatedDate ?? s.createdDate)}</dd>
      </dl>
      <WsStageRouteSettings apiId={props.apiId} stage={s} onChanged={props.onChanged} http />
      <AccessLogs spath={spath} stage={s} onChanged={props.onChanged} />
      {editing && (
        <EditStage
          spath={spath}
          stage={s}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            props.onChanged();
          }}
        />
      )}
      {pointing && (
        <PointStage
          spath={spath}
          stage={s}
          deployments={props.deployments}
          onClose={() => setPointing(false)}
          onSaved={() => {
            setPointing(false);
            props.onChanged();
          }}
        />
      )}
    </article>
  );
}

// stageVariables first: its messages also say "stage".
const STAGE_FIELDS = { stageVariables: ["stage variable", "stageVariables"], stageName: ["stage name", "stage"], description: [] };

function CreateStage(props: { apiId: string; taken: string[]; onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState(props.taken.includes("$default") ? "" : "$default");
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
        <Field
          label="Stage name"
          name="stageName"
          value={name}
          onInput={setName}
          required
          autoFocus
          hint="$default (served at the root of the URL) or letters, digits, _ and -, e.g. dev"
          error={err.at("stageName")}
        />
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

/** UpdateStage: the description and the stage variables (the whole map replaces the stage's). */
function EditStage(props: { spath: string; stage: HttpStage; onClose: () => void; onSaved: () => void }) {
  const s = props.stage;
  const [description, setDescription] = useState(s.description ?? "");
  const [vars, setVars] = useState<[string, string][]>(entries(s.stageVariables));
  const a = useAction();
  const err = splitError(a.error, STAGE_FIELDS);
  return (
    <Modal title={`Edit stage ${s.stageName}`} onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const body: V2UpdateStageRequest = {};
          if (description !== (s.description ?? "")) body.description = description;
          const variables = fromEntries(vars);
          if (JSON.stringify(variables) !== JSON.stringify(s.stageVariables ?? {})) body.stageVariables = variables;
          if (Object.keys(body).length === 0) return props.onClose();
          if (await a.run(() => update(props.spath, body))) {
            toast(`Stage ${s.stageName} saved`);
            props.onSaved();
          }
        }}
      >
        <Field label="Description" name="description" value={description} onInput={setDescription} error={err.at("description")} />
        <KeyValues label="Stage variables" rows={vars} onChange={setVars} keyLabel="Variable name" valueLabel="Value" addLabel="Add stage variable" />
        <p class="hint">
          Integrations and authorizers read them as <code>${"{stageVariables.name}"}</code>.
        </p>
        {err.at("stageVariables") && <ErrorText error={err.at("stageVariables")} />}
        <ErrorText error={err.rest} />
        <FormActions submit="Save" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

/** A stage without automatic deployment serves the deployment chosen here (UpdateStage deploymentId): a rollback. */
function PointStage(props: { spath: string; stage: HttpStage; deployments: HttpDeployment[]; onClose: () => void; onSaved: () => void }) {
  const [id, setId] = useState(props.stage.deploymentId ?? props.deployments[0]?.deploymentId ?? "");
  const a = useAction();
  return (
    <Modal title={`Choose the deployment ${props.stage.stageName} serves`} onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await a.run(() => update(props.spath, { deploymentId: id } satisfies V2UpdateStageRequest))) {
            toast(`${props.stage.stageName} serves ${id}`);
            props.onSaved();
          }
        }}
      >
        <Select
          label="Deployment"
          name="deploymentId"
          value={id}
          options={props.deployments.map((d) => ({ value: d.deploymentId, label: `${d.deploymentId} · ${fmtIso(d.createdDate)}${d.description ? ` · ${d.description}` : ""}` }))}
          onChange={setId}
        />
        <ErrorText error={a.error} />
        <FormActions submit="Use this deployment" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

const LOG_PRESETS: Record<string, string> = {
  JSON: '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength"}',
  CLF: '$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId',
};
const LOG_FIELDS = { destinationArn: ["arn", "log group"], format: ["format", "$context"] };

/** A stage's access logs: destination log group ARN and format (UpdateStage), or off (DeleteAccessLogSettings). */
function AccessLogs(props: { spath: string; stage: HttpStage; onChanged: () => void }) {
  const s = props.stage;
  const [open, setOpen] = useState(false);
  const [arn, setArn] = useState(s.accessLogSettings?.destinationArn ?? "");
  const [format, setFormat] = useState(s.accessLogSettings?.format ?? LOG_PRESETS.JSON);
  const [removing, setRemoving] = useState(false);
  const a = useAction();
  const err = splitError(a.error, LOG_FIELDS);
  const panel = `http-access-logs-${s.stageName.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  return (
    <div>
      <p>
        <button type="button" class="secondary small" aria-expanded={open} aria-controls={panel} onClick={() => setOpen(!open)}>
          Access logs
        </button>
      </p>
      {open && (
        <form
          id={panel}
          class="panel"
          aria-label={`Access logs of ${s.stageName}`}
          onSubmit={async (e) => {
            e.preventDefault();
            if (await a.run(() => update(props.spath, { accessLogSettings: { destinationArn: arn.trim(), format } } satisfies V2UpdateStageRequest))) {
              toast(`Access logs of ${s.stageName} saved`);
              props.onChanged();
            }
          }}
        >
          <Field
            label="Destination log group ARN"
            name="destinationArn"
            value={arn}
            onInput={setArn}
            required
            placeholder="arn:aws:logs:us-east-1:000000000000:log-group:http-api-access"
            hint="The Logs page and the CloudWatch Logs API read it"
            error={err.at("destinationArn")}
          />
          <div class="row">
            {Object.keys(LOG_PRESETS).map((p) => (
              <button key={p} type="button" class="secondary small" onClick={() => setFormat(LOG_PRESETS[p])}>
                Use the {p} format
              </button>
            ))}
          </div>
          <Field label="Log format" name="format" value={format} onInput={setFormat} multiline required hint="$context variables, one line per request" error={err.at("format")} />
          <ErrorText error={err.rest} />
          <div class="actions">
            {s.accessLogSettings && (
              <button type="button" class="danger secondary" onClick={() => setRemoving(true)}>
                Turn access logs off
              </button>
            )}
            <button type="submit" class="primary" disabled={a.busy}>
              Save access logs
            </button>
          </div>
        </form>
      )}
      {removing && (
        <Confirm
          title="Turn access logs off"
          danger
          confirm="Turn off"
          body={<p>Stop writing access logs of {s.stageName}? The lines written so far stay.</p>}
          onClose={() => setRemoving(false)}
          onConfirm={async () => {
            await del(`${props.spath}/accesslogsettings`);
            toast(`Access logs of ${s.stageName} turned off`);
            props.onChanged();
          }}
        />
      )}
    </div>
  );
}
