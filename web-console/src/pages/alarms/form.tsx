// The create-alarm dialog: which API stage (and, with detailed metrics, which method) and
// metric, the statistic, comparison, threshold, period, evaluation periods, datapoints to
// alarm, the missing-data treatment and a webhook URL. Each field is checked before the
// call and its message shown under it; the control plane's own message (CloudWatch's
// InvalidParameterValue, ...) is shown under the form.
import { useState } from "preact/hooks";
import { listAll } from "../../api";
import { NAMESPACE, putMetricAlarm, type Dimension, type PutMetricAlarmInput } from "../../cloudwatch";
import { Check, ErrorText, Field, FormActions, Loading, Modal, Select, messageOf, useAction, useAsync } from "../../ui";
import type { RestApi } from "../apis/apis";
import type { Resource } from "../apis/resources";
import type { Stage } from "../apis/api";
import { COMPARISONS, METRICS, MISSING_DATA, STATISTICS } from "./describe";

type Draft = {
  name: string;
  description: string;
  apiId: string;
  stage: string;
  method: string;
  metric: string;
  statistic: string;
  comparison: string;
  threshold: string;
  period: string;
  evaluationPeriods: string;
  datapoints: string;
  missing: string;
  webhook: string;
  notifyOk: boolean;
};
type Errors = Partial<Record<keyof Draft, string>>;

const BLANK: Draft = {
  name: "",
  description: "",
  apiId: "",
  stage: "",
  method: "",
  metric: "5XXError",
  statistic: "Average",
  comparison: "GreaterThanOrEqualToThreshold",
  threshold: "",
  period: "60",
  evaluationPeriods: "1",
  datapoints: "1",
  missing: "missing",
  webhook: "",
  notifyOk: true,
};

const wholeAtLeast = (v: string, min: number) => /^\s*\d+\s*$/.test(v) && Number(v) >= min;

/** Every field's problem, if any (names are the draft's). */
export function check(d: Draft, existing: string[]): Errors {
  const e: Errors = {};
  const name = d.name.trim();
  if (!name) e.name = "Give the alarm a name";
  else if (name.length > 255) e.name = "At most 255 characters";
  else if (existing.includes(name)) e.name = `An alarm named ${name} already exists`;
  if (!d.apiId) e.apiId = "Choose an API";
  if (!d.stage) e.stage = "Choose a stage";
  if (d.threshold.trim() === "" || !Number.isFinite(Number(d.threshold))) e.threshold = "The threshold must be a number, e.g. 0.05";
  else if (METRICS.find((m) => m.value === d.metric)?.kind === "rate" && d.statistic === "Average" && (Number(d.threshold) < 0 || Number(d.threshold) > 1))
    e.threshold = "The Average of an error metric is a rate from 0 to 1 (0.05 is 5 %)";
  if (!wholeAtLeast(d.period, 60) || Number(d.period) % 60 !== 0) e.period = "The period is in seconds: 60 or a multiple of 60";
  if (!wholeAtLeast(d.evaluationPeriods, 1)) e.evaluationPeriods = "A whole number, 1 or more";
  if (!wholeAtLeast(d.datapoints, 1)) e.datapoints = "A whole number, 1 or more";
  else if (!e.evaluationPeriods && Number(d.datapoints) > Number(d.evaluationPeriods))
    e.datapoints = `At most the number of evaluation periods (${Number(d.evaluationPeriods)})`;
  const url = d.webhook.trim();
  if (url) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = (u.protocol === "http:" || u.protocol === "https:") && !!u.host;
    } catch {
      ok = false;
    }
    if (!ok) e.webhook = "A webhook URL starts with http:// or https://";
  }
  return e;
}

/** The field a control-plane message is about (CloudWatch names the member), if any. */
function fieldOf(message: string): keyof Draft | undefined {
  const members: [string, keyof Draft][] = [
    ["AlarmName", "name"],
    ["EvaluationPeriods", "evaluationPeriods"],
    ["DatapointsToAlarm", "datapoints"],
    ["Period", "period"],
    ["Threshold", "threshold"],
    ["AlarmActions", "webhook"],
    ["OKActions", "webhook"],
  ];
  return members.find(([m]) => new RegExp(`\\b${m}\\b`).test(message))?.[1];
}

/** The PutMetricAlarm input of a checked draft. */
function inputOf(d: Draft, apiName: string): PutMetricAlarmInput {
  const dims: Dimension[] = [
    { Name: "ApiName", Value: apiName },
    { Name: "Stage", Value: d.stage },
  ];
  if (d.method) {
    const sp = d.method.indexOf(" ");
    dims.push({ Name: "Resource", Value: d.method.slice(sp + 1) }, { Name: "Method", Value: d.method.slice(0, sp) });
  }
  const extended = /^p\d/.test(d.statistic);
  const url = d.webhook.trim();
  return {
    AlarmName: d.name.trim(),
    AlarmDescription: d.description.trim() || undefined,
    Namespace: NAMESPACE,
    MetricName: d.metric,
    Dimensions: dims,
    Statistic: extended ? undefined : d.statistic,
    ExtendedStatistic: extended ? d.statistic : undefined,
    ComparisonOperator: d.comparison,
    Threshold: Number(d.threshold),
    Period: Number(d.period),
    EvaluationPeriods: Number(d.evaluationPeriods),
    DatapointsToAlarm: Number(d.datapoints),
    TreatMissingData: d.missing,
    ActionsEnabled: true,
    AlarmActions: url ? [url] : [],
    OKActions: url && d.notifyOk ? [url] : [],
  };
}

export function AlarmDialog(props: { existing: string[]; onClose: () => void; onCreated: (name: string) => void }) {
  const [d, setD] = useState<Draft>(BLANK);
  const [errors, setErrors] = useState<Errors>({});
  const set = <K extends keyof Draft>(k: K) => (v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const apis = useAsync(() => listAll<RestApi>("/restapis"), []);
  const apiId = d.apiId || apis.data?.[0]?.id || "";
  const stages = useAsync(async () => (apiId ? listAll<Stage>(`/restapis/${apiId}/stages`) : []), [apiId]);
  const stage = d.stage || stages.data?.[0]?.stageName || "";
  const resources = useAsync(async () => (apiId ? listAll<Resource>(`/restapis/${apiId}/resources?embed=methods`) : []), [apiId]);
  const methods = (resources.data ?? []).flatMap((r) => Object.keys(r.resourceMethods ?? {}).map((m) => `${m} ${r.path}`)).sort();
  const detailed = !!stages.data?.find((s) => s.stageName === stage)?.methodSettings?.["*/*"]?.metricsEnabled;
  const kind = METRICS.find((m) => m.value === d.metric)?.kind;
  const a = useAction();
  const n = Object.keys(errors).length;
  return (
    <Modal title="Create alarm" onClose={props.onClose} wide>
      {apis.loading && !apis.data ? (
        <Loading what="Loading APIs" />
      ) : apis.data && apis.data.length === 0 ? (
        <>
          <p>An alarm watches a metric of an API stage: create and deploy an API first.</p>
          <div class="actions">
            <button type="button" class="secondary" onClick={props.onClose}>
              Close
            </button>
          </div>
        </>
      ) : (
        <form
          noValidate
          onSubmit={async (e) => {
            e.preventDefault();
            const full = { ...d, apiId, stage };
            const found = check(full, props.existing);
            setErrors(found);
            if (Object.keys(found).length) {
              // Take the keyboard (and the eye) to the first field to fix.
              const form = e.currentTarget as HTMLFormElement;
              requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
              return;
            }
            const api = apis.data!.find((x) => x.id === apiId)!;
            const input = inputOf(full, api.name);
            // A refusal that names a member is shown at its field; any other under the form.
            let refused = false;
            const form = e.currentTarget as HTMLFormElement;
            const ok = await a.run(async () => {
              try {
                await putMetricAlarm(input);
              } catch (err) {
                const field = fieldOf(messageOf(err));
                if (!field) throw err;
                refused = true;
                setErrors({ [field]: messageOf(err) });
                requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
              }
            });
            if (ok && !refused) {
              props.onClose();
              props.onCreated(input.AlarmName);
            }
          }}
        >
          {n > 0 && (
            <p class="error" role="alert">
              {n === 1 ? "One field needs" : `${n} fields need`} a change: see the messages below.
            </p>
          )}
          <Field label="Alarm name" value={d.name} onInput={set("name")} required autoFocus error={errors.name} />
          <Field label="Description" value={d.description} onInput={set("description")} />
          <fieldset class="group">
            <legend>What to watch</legend>
            <div class="row">
              <Select
                label="API"
                value={apiId}
                options={(apis.data ?? []).map((x) => ({ value: x.id, label: x.name }))}
                onChange={(v) => setD((x) => ({ ...x, apiId: v, stage: "", method: "" }))}
              />
              <Select
                label="Stage"
                value={stage}
                options={(stages.data ?? []).map((s) => s.stageName)}
                onChange={(v) => setD((x) => ({ ...x, stage: v, method: "" }))}
              />
              <Select
                label="Method"
                value={d.method}
                options={[{ value: "", label: "All methods (the stage)" }, ...(detailed ? methods : []).map((m) => ({ value: m, label: m }))]}
                onChange={set("method")}
              />
            </div>
            {(errors.apiId || errors.stage) && <ErrorText error={errors.apiId ?? errors.stage} />}
            {stages.data && stages.data.length === 0 && <p class="muted small">This API has no stage yet: deploy it first.</p>}
            {!detailed && stage && <p class="muted small">Per-method alarms need the stage's detailed metrics (Stage → Metrics → Enable detailed metrics).</p>}
            <div class="row">
              <Select label="Metric" value={d.metric} options={METRICS.map((m) => ({ value: m.value, label: m.label }))} onChange={set("metric")} />
              <Select label="Statistic" value={d.statistic} options={STATISTICS} onChange={set("statistic")} />
            </div>
          </fieldset>
          <fieldset class="group">
            <legend>Condition</legend>
            <div class="row">
              <Select label="Comparison" value={d.comparison} options={COMPARISONS} onChange={set("comparison")} />
              <Field
                label="Threshold"
                value={d.threshold}
                onInput={set("threshold")}
                error={errors.threshold}
                hint={kind === "rate" ? "With Average, a rate from 0 to 1: 0.05 is 5 %" : kind === "ms" ? "Milliseconds" : "Requests per period"}
              />
            </div>
            <div class="row">
              <Field label="Period (seconds)" value={d.period} onInput={set("period")} type="number" error={errors.period} hint="60 or a multiple of 60" />
              <Field label="Evaluation periods" value={d.evaluationPeriods} onInput={set("evaluationPeriods")} type="number" error={errors.evaluationPeriods} />
              <Field
                label="Datapoints to alarm"
                value={d.datapoints}
                onInput={set("datapoints")}
                type="number"
                error={errors.datapoints}
                hint="Of the evaluation periods, how many must breach"
              />
            </div>
            <Select label="Missing data" value={d.missing} options={MISSING_DATA} onChange={set("missing")} />
          </fieldset>
          <fieldset class="group">
            <legend>Notification</legend>
            <Field
              label="Webhook URL"
              value={d.webhook}
              onInput={set("webhook")}
              error={errors.webhook}
              placeholder="https://hooks.example.com/alarms"
              hint="Receives a POST with an SNS-style notification when the alarm goes to ALARM"
            />
            <Check label="Also notify when the alarm returns to OK" checked={d.notifyOk} onChange={set("notifyOk")} />
          </fieldset>
          <ErrorText error={a.error ?? apis.error ?? stages.error} />
          <FormActions submit="Create alarm" disabled={a.busy} onCancel={props.onClose} />
        </form>
      )}
    </Modal>
  );
}
