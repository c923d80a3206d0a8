// Alarms: the list with each alarm's state, creating one (PutMetricAlarm on an API stage's
// metric, with a webhook URL as its action) and deleting one (DeleteAlarms). Each alarm's
// own page (alarm.tsx) shows its condition, its metric against the threshold and its history.
import { useEffect, useState } from "preact/hooks";
import { describeAlarms, deleteAlarms, type MetricAlarm } from "../../cloudwatch";
import { Link, navigate } from "../../router";
import { Confirm, ListStatus, toast, useAsync } from "../../ui";
import { SearchBox, matches, useQuery } from "../../shared/search";
import { StateBadge, conditionText, scopeText } from "./describe";
import { AlarmDialog } from "./form";
import { fmtDateTime } from "../../api";

export function Alarms() {
  const alarms = useAsync(() => describeAlarms(), []);
  const [q, setQ] = useQuery();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<MetricAlarm>();
  useEffect(() => {
    document.title = "Alarms · API Gateway";
  }, []);
  // States change as the control plane evaluates (every minute): keep the list fresh.
  useEffect(() => {
    const t = setInterval(alarms.reload, 30_000);
    return () => clearInterval(t);
  }, []);
  const all = alarms.data ?? [];
  const shown = all.filter((a) => matches(q, a.AlarmName, a.MetricName, scopeText(a), a.StateValue));
  const inAlarm = all.filter((a) => a.StateValue === "ALARM").length;
  return (
    <div class="page">
      <div class="page-head">
        <h1>Alarms</h1>
        <div class="head-actions">
          <button type="button" class="secondary" onClick={alarms.reload} disabled={alarms.loading}>
            Refresh
          </button>
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create alarm
          </button>
        </div>
      </div>
      <p class="muted">
        An alarm watches one metric of an API stage (CloudWatch's AWS/ApiGateway namespace), evaluated every minute by the control plane, and posts a
        notification to its webhook URLs when its state changes.
        {all.length > 0 && (
          <>
            {" "}
            <strong data-testid="alarm-count">
              {inAlarm} of {all.length} in alarm.
            </strong>
          </>
        )}
      </p>
      <SearchBox label="Search alarms" value={q} onInput={setQ} placeholder="Search by name, metric, API, stage or state" />
      <ListStatus list={alarms} loading="Loading alarms" empty="No alarms yet">
        <p>Create one, for instance on 5XXError with Average ≥ 0.05 over one minute, to be told when a stage starts failing.</p>
      </ListStatus>
      {all.length > 0 && (
        <table class="table" aria-label="Alarms" data-testid="alarms-table">
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Name</th>
              <th scope="col">Condition</th>
              <th scope="col">API · stage</th>
              <th scope="col">Since</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={a.AlarmName} data-alarm={a.AlarmName}>
                <td>
                  <StateBadge state={a.StateValue} />
                </td>
                <td>
                  <Link href={`/alarms/${encodeURIComponent(a.AlarmName)}`}>{a.AlarmName}</Link>
                </td>
                <td>{conditionText(a)}</td>
                <td>{scopeText(a)}</td>
                <td>{fmtDateTime(a.StateUpdatedTimestamp)}</td>
                <td class="row-actions">
                  <button type="button" class="link" aria-label={`Delete alarm ${a.AlarmName}`} onClick={() => setDeleting(a)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No alarm matches “{q}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {creating && (
        <AlarmDialog
          existing={all.map((a) => a.AlarmName)}
          onClose={() => setCreating(false)}
          onCreated={(name) => {
            toast(`Alarm ${name} created`);
            navigate(`/alarms/${encodeURIComponent(name)}`);
          }}
        />
      )}
      {deleting && <DeleteAlarm alarm={deleting} onClose={() => setDeleting(undefined)} onDeleted={alarms.reload} />}
    </div>
  );
}

export function DeleteAlarm({ alarm, onClose, onDeleted }: { alarm: MetricAlarm; onClose: () => void; onDeleted: () => void }) {
  return (
    <Confirm
      title="Delete alarm"
      danger
      confirm="Delete alarm"
      body={<p>Delete alarm {alarm.AlarmName}? It stops being evaluated and its history is deleted with it.</p>}
      onClose={onClose}
      onConfirm={async () => {
        await deleteAlarms([alarm.AlarmName]);
        toast(`Alarm ${alarm.AlarmName} deleted`);
        onDeleted();
      }}
    />
  );
}
