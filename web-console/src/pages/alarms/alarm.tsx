// One alarm's page: its state and why, its condition, its metric over the last hours
// against the threshold (GetMetricData with the alarm's statistic and period), its actions,
// and its history (DescribeAlarmHistory: configuration updates, state changes, webhook
// deliveries), newest first.
import { useEffect, useMemo, useState } from "preact/hooks";
import { fmtDateTime } from "../../api";
import { describeAlarmHistory, describeAlarms, getMetricData, metricWindow, NAMESPACE, seriesReader, type MetricAlarm } from "../../cloudwatch";
import { Link, navigate } from "../../router";
import { Empty, ErrorText, Loading, useAsync } from "../../ui";
import { TimeSeriesChart, type Unit } from "../../shared/timeseries";
import { DeleteAlarm } from "./alarms";
import { COMPARISONS, METRICS, MISSING_DATA, StateBadge, conditionText, periodText, scopeText } from "./describe";

export function AlarmPage({ name }: { name: string }) {
  const alarm = useAsync(async () => (await describeAlarms({ AlarmNames: [name] })).find((a) => a.AlarmName === name) ?? null, [name]);
  const history = useAsync(() => describeAlarmHistory(name), [name]);
  const [deleting, setDeleting] = useState(false);
  const [tick, setTick] = useState(0);
  const refresh = () => {
    alarm.reload();
    history.reload();
    setTick((n) => n + 1);
  };
  useEffect(() => {
    document.title = `${name} · Alarms · API Gateway`;
    const t = setInterval(refresh, 30_000);
    return () => clearInterval(t);
  }, [name]);
  const a = alarm.data;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/alarms">Alarms</Link> / <span>{name}</span>
      </nav>
      <ErrorText error={alarm.error} />
      {alarm.loading && alarm.data === undefined && <Loading what="Loading the alarm" />}
      {a === null && (
        <Empty title={`No alarm named ${name}`}>
          <p>
            <Link href="/alarms">Go to the alarms</Link>
          </p>
        </Empty>
      )}
      {a && (
        <>
          <div class="page-head">
            <h1>
              {a.AlarmName} <StateBadge state={a.StateValue} />
            </h1>
            <div class="head-actions">
              <button
                type="button"
                class="secondary"
                onClick={refresh}
              >
                Refresh
              </button>
              <button type="button" class="danger secondary" onClick={() => setDeleting(true)}>
                Delete alarm
              </button>
            </div>
          </div>
          {a.AlarmDescription && <p class="muted">{a.AlarmDescription}</p>}
          {a.StateReason && (
            <p data-testid="state-reason">
              <strong>Why:</strong> {a.StateReason} <span class="muted small">(since {fmtDateTime(a.StateUpdatedTimestamp)})</span>
            </p>
          )}
          <dl class="props">
            <dt>Condition</dt>
            <dd data-testid="alarm-condition">{conditionText(a)}</dd>
            <dt>Watches</dt>
            <dd>
              {a.Namespace ?? NAMESPACE} · {scopeText(a)}
            </dd>
            <dt>Missing data</dt>
            <dd>{MISSING_DATA.find((m) => m.value === (a.TreatMissingData ?? "missing"))?.label ?? a.TreatMissingData}</dd>
            <dt>In ALARM, notify</dt>
            <dd>{(a.AlarmActions ?? []).join(", ") || "—"}</dd>
            <dt>Back to OK, notify</dt>
            <dd>{(a.OKActions ?? []).join(", ") || "—"}</dd>
            <dt>Configured</dt>
            <dd>{fmtDateTime(a.AlarmConfigurationUpdatedTimestamp)}</dd>
          </dl>
          <AlarmChart alarm={a} tick={tick} />
          <section class="panel" aria-label="History">
            <h2>History</h2>
            <ErrorText error={history.error} />
            {history.loading && !history.data && <Loading what="Loading the history" />}
            {history.data && history.data.length === 0 && <p class="muted">Nothing yet.</p>}
            {history.data && history.data.length > 0 && (
              <table class="table" aria-label="Alarm history" data-testid="alarm-history">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Type</th>
                    <th scope="col">Summary</th>
                  </tr>
                </thead>
                <tbody>
                  {history.data.map((h, i) => (
                    <tr key={i}>
                      <td>{fmtDateTime(h.Timestamp)}</td>
                      <td>{h.HistoryItemType === "StateUpdate" ? "State update" : h.HistoryItemType === "ConfigurationUpdate" ? "Configuration" : h.HistoryItemType}</td>
                      <td>{h.HistorySummary}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          {deleting && <DeleteAlarm alarm={a} onClose={() => setDeleting(false)} onDeleted={() => navigate("/alarms")} />}
        </>
      )}
    </div>
  );
}

/** The alarm's metric over the last hour (or 24 periods, if longer), with the threshold. */
function AlarmChart({ alarm, tick }: { alarm: MetricAlarm; tick: number }) {
  const period = alarm.Period ?? 60;
  const stat = alarm.ExtendedStatistic ?? alarm.Statistic ?? "Average";
  const data = useAsync(async () => {
    const { start, end, x } = metricWindow(Math.max(3600, 24 * period), period);
    const r = await getMetricData(
      [{ Id: "m", MetricStat: { Metric: { Namespace: alarm.Namespace ?? NAMESPACE, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions }, Period: period, Stat: stat } }],
      start,
      end,
    );
    const values = seriesReader(r, x, period).on("m");
    return { x, values, points: values.filter((v) => v != null).length };
  }, [alarm.AlarmName, alarm.AlarmConfigurationUpdatedTimestamp, tick]);
  const kind = METRICS.find((m) => m.value === alarm.MetricName)?.kind;
  const unit: Unit = kind === "ms" && stat !== "SampleCount" ? "ms" : "count";
  const lines = useMemo(() => [{ label: `${alarm.MetricName} ${stat}`, values: data.data?.values ?? [], color: "#0b57d0" }], [data.data]);
  const sign = COMPARISONS.find((c) => c.value === alarm.ComparisonOperator)?.sign ?? "";
  return (
    <section class="panel" aria-label="Metric">
      <h2>
        {alarm.MetricName} {stat}, per {periodText(period)}
      </h2>
      <ErrorText error={data.error} />
      {!data.data && !data.error && <Loading what="Loading the metric" />}
      {data.data && data.data.points === 0 && <p class="muted">No data in the last hours: the metric has no datapoint yet.</p>}
      {data.data && data.data.points > 0 && (
        <TimeSeriesChart
          title={`${alarm.MetricName} ${stat} (threshold ${sign} ${alarm.Threshold})`}
          unit={unit}
          x={data.data.x}
          lines={lines}
          threshold={alarm.Threshold}
          testId="alarm-chart"
        />
      )}
    </section>
  );
}
