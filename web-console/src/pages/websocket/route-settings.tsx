// A WebSocket stage's route settings, in its card on the Stages tab (shown by its "Route
// settings" button): the stage's `defaultRouteSettings` (throttling burst and rate, detailed
// metrics, data trace, logging level) and per-route overrides (`routeSettings` by route
// key), saved with UpdateStage (the defaults replace the stage's; an override replaces that
// route's entry, the others are kept) and removed with DeleteRouteSettings. An override's
// empty throttling field leaves that route to the stage's default limits. HTTP API stages
// use it too (`http`): throttling and detailed metrics only, as AWS's HTTP APIs have no
// execution logging level or data trace.
import { useState } from "preact/hooks";
import { del, update } from "../../api";
import { Check, Confirm, ErrorText, Field, FormActions, Modal, Select, toast, useAction, useAsync } from "../../ui";
import { EditDeleteButtons, Table } from "../../shared/table";
import { listV2, splitError, type WsRoute, type WsRouteSettings, type WsStage } from "../../v2";
import type { V2UpdateStageRequest } from "../../api/types";

type LoggingLevel = NonNullable<WsRouteSettings["loggingLevel"]>;
type Form = { burst: string; rate: string; metrics: boolean; trace: boolean; logging: LoggingLevel };

const formOf = (s?: WsRouteSettings): Form => ({
  burst: s?.throttlingBurstLimit === undefined ? "" : String(s.throttlingBurstLimit),
  rate: s?.throttlingRateLimit === undefined ? "" : String(s.throttlingRateLimit),
  metrics: s?.detailedMetricsEnabled ?? false,
  trace: s?.dataTraceEnabled ?? false,
  logging: s?.loggingLevel ?? "OFF",
});

/** The settings of a form; an empty throttling field is left out (and, for HTTP APIs, logging and data trace). */
const settingsOf = (f: Form, http?: boolean): WsRouteSettings => ({
  throttlingBurstLimit: f.burst.trim() === "" ? undefined : Number(f.burst),
  throttlingRateLimit: f.rate.trim() === "" ? undefined : Number(f.rate),
  detailedMetricsEnabled: f.metrics,
  dataTraceEnabled: http ? undefined : f.trace,
  loggingLevel: http ? undefined : f.logging,
});

const throttlingText = (s?: WsRouteSettings) =>
  [s?.throttlingBurstLimit !== undefined && `burst ${s.throttlingBurstLimit}`, s?.throttlingRateLimit !== undefined && `rate ${s.throttlingRateLimit}/s`]
    .filter(Boolean)
    .join(", ") || "—";
const onOff = (v?: boolean) => (v ? "On" : "Off");

// "Throttling limits of ... must not be negative" names no one member: the burst field shows it.
const FIELDS = {
  throttlingBurstLimit: ["throttling limits"],
  throttlingRateLimit: [],
  loggingLevel: [],
  routeKey: ["route by key"],
};

/** The fields of one set of route settings; `err` says which one a server message names. */
function SettingsFields(props: { form: Form; onChange: (f: Form) => void; err: (field: string) => string | undefined; inheritHint?: string; http?: boolean }) {
  const f = props.form;
  const unit = props.http ? "Requests" : "Messages";
  const set = (patch: Partial<Form>) => props.onChange({ ...f, ...patch });
  return (
    <>
      <div class="row">
        <Field
          label="Throttling burst limit"
          name="throttlingBurstLimit"
          type="number"
          value={f.burst}
          onInput={(v) => set({ burst: v })}
          hint={props.inheritHint ?? `${unit} at once; empty: not throttled`}
          error={props.err("throttlingBurstLimit")}
        />
        <Field
          label={`Throttling rate limit (${unit.toLowerCase()}/s)`}
          name="throttlingRateLimit"
          type="number"
          value={f.rate}
          onInput={(v) => set({ rate: v })}
          hint={props.inheritHint ?? "Steady rate; empty: not throttled"}
          error={props.err("throttlingRateLimit")}
        />
      </div>
      <div class="row">
        {!props.http && (
          <Select label="Logging level" name="loggingLevel" value={f.logging} options={["OFF", "ERROR", "INFO"]} onChange={(v) => set({ logging: v as LoggingLevel })} />
        )}
        <Check label="Detailed metrics (per route)" checked={f.metrics} onChange={(v) => set({ metrics: v })} />
        {!props.http && <Check label="Data trace (log full message data)" checked={f.trace} onChange={(v) => set({ trace: v })} />}
      </div>
      {props.err("loggingLevel") && <ErrorText error={props.err("loggingLevel")} />}
    </>
  );
}

export function WsStageRouteSettings(props: { apiId: string; stage: WsStage; onChanged: () => void; http?: boolean }) {
  const [open, setOpen] = useState(false);
  const s = props.stage;
  const overrides = Object.keys(s.routeSettings ?? {}).length;
  const panel = `${props.http ? "http" : "ws"}-route-settings-${s.stageName}`;
  return (
    <div>
      <p>
        <button type="button" class="secondary small" aria-expanded={open} aria-controls={panel} onClick={() => setOpen(!open)}>
          Route settings
        </button>{" "}
        <span class="muted small">
          Default throttling: {throttlingText(s.defaultRouteSettings)} · {overrides === 1 ? "1 route override" : `${overrides} route overrides`}
        </span>
      </p>
      {open && <RouteSettingsPanel id={panel} {...props} />}
    </div>
  );
}

function RouteSettingsPanel(props: { id: string; apiId: string; stage: WsStage; onChanged: () => void; http?: boolean }) {
  const s = props.stage;
  const spath = `/v2/apis/${props.apiId}/stages/${encodeURIComponent(s.stageName)}`;
  const routes = useAsync(() => listV2<WsRoute>(`/v2/apis/${props.apiId}/routes`), [props.apiId]);
  const [form, setForm] = useState<Form>(formOf(s.defaultRouteSettings));
  const [editing, setEditing] = useState<string | "new" | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  const overrides = Object.entries(s.routeSettings ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return (
    <section id={props.id} class="panel" aria-label={`Route settings of ${s.stageName}`}>
      <form
        aria-label={`Default route settings of ${s.stageName}`}
        onSubmit={async (e) => {
          e.preventDefault();
          if (await a.run(() => update(spath, { defaultRouteSettings: settingsOf(form, props.http) } satisfies V2UpdateStageRequest))) {
            toast(`Default route settings of ${s.stageName} saved`);
            props.onChanged();
          }
        }}
      >
        <h4>Default route settings</h4>
        <p class="muted">Every route of the stage, unless a route override below says otherwise.</p>
        <SettingsFields form={form} onChange={setForm} err={err.at} http={props.http} />
        <ErrorText error={err.rest} />
        <FormActions submit="Save default route settings" disabled={a.busy} />
      </form>
      <div class="page-head">
        <h4>Route overrides</h4>
        <button type="button" class="secondary small" onClick={() => setEditing("new")}>
          Add route override
        </button>
      </div>
      {overrides.length === 0 ? (
        <p class="muted">No route overrides: every route uses the defaults.</p>
      ) : (
        <Table
          label={`Route overrides of ${s.stageName}`}
          testId={`${props.http ? "http" : "ws"}-route-overrides-${s.stageName}`}
          rows={overrides}
          rowKey={([k]) => k}
          columns={[
            { title: "Route key", cell: ([k]) => <code>{k}</code> },
            { title: "Throttling", cell: ([, v]) => throttlingText(v) },
            { title: "Detailed metrics", cell: ([, v]) => onOff(v.detailedMetricsEnabled) },
            ...(props.http
              ? []
              : [
                  { title: "Data trace", cell: ([, v]: [string, WsRouteSettings]) => onOff(v.dataTraceEnabled) },
                  { title: "Logging", cell: ([, v]: [string, WsRouteSettings]) => v.loggingLevel ?? "OFF" },
                ]),
            {
              title: "Actions",
              hidden: true,
              cell: ([k]) => <EditDeleteButtons what={`the route override of ${k}`} onEdit={() => setEditing(k)} onDelete={() => setRemoving(k)} />,
            },
          ]}
        />
      )}
      <ErrorText error={routes.error} />
      {editing && (
        <OverrideDialog
          spath={spath}
          stage={s}
          routeKey={editing === "new" ? null : editing}
          routes={routes.data ?? []}
          http={props.http}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            props.onChanged();
          }}
        />
      )}
      {removing && (
        <Confirm
          title="Remove route override"
          danger
          confirm="Remove"
          body={
            <p>
              Remove the settings of <code>{removing}</code> on {s.stageName}? The route then uses the stage's defaults.
            </p>
          }
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await del(`${spath}/routesettings/${encodeURIComponent(removing)}`);
            toast(`Route override of ${removing} removed`);
            props.onChanged();
          }}
        />
      )}
    </section>
  );
}

function OverrideDialog(props: { spath: string; stage: WsStage; routeKey: string | null; routes: WsRoute[]; http?: boolean; onClose: () => void; onSaved: () => void }) {
  const taken = props.stage.routeSettings ?? {};
  const free = props.routes.map((r) => r.routeKey).filter((k) => !(k in taken));
  const [routeKey, setRouteKey] = useState(props.routeKey ?? free[0] ?? "");
  // A new override starts from the defaults' logging and metrics, with no throttling of its own.
  const [form, setForm] = useState<Form>(
    formOf(props.routeKey ? taken[props.routeKey] : { ...props.stage.defaultRouteSettings, throttlingBurstLimit: undefined, throttlingRateLimit: undefined }),
  );
  const a = useAction();
  const err = splitError(a.error, FIELDS);
  return (
    <Modal title={props.routeKey ? `Edit the route override of ${props.routeKey}` : `Add a route override on ${props.stage.stageName}`} onClose={props.onClose} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await a.run(async () => {
            if (!routeKey) throw new Error("Choose the route key the settings are for");
            await update(props.spath, { routeSettings: { [routeKey]: settingsOf(form, props.http) } } satisfies V2UpdateStageRequest);
          });
          if (ok) {
            toast(`Route override of ${routeKey} on ${props.stage.stageName} saved`);
            props.onSaved();
          }
        }}
      >
        {props.routeKey ? (
          <p>
            Route <code>{props.routeKey}</code>
          </p>
        ) : (
          <>
            <Select
              label="Route"
              name="routeKey"
              value={routeKey}
              options={free.length ? free : [{ value: "", label: "Every route has an override" }]}
              onChange={setRouteKey}
            />
            {err.at("routeKey") && <ErrorText error={err.at("routeKey")} />}
          </>
        )}
        <SettingsFields form={form} onChange={setForm} err={err.at} inheritHint="Empty: the stage's default" http={props.http} />
        <ErrorText error={err.rest} />
        <FormActions submit="Save route override" disabled={a.busy} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
