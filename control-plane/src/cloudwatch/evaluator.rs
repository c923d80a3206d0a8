//! The alarm evaluator: every interval (`--alarm-eval-interval`, default 60 s), one
//! control-plane replica (the one that takes a Postgres advisory lock for the round) reads
//! each alarm's last N complete periods and moves its state as CloudWatch does.
//!
//! A period is complete once its end is `SETTLE` in the past: nodes ship at least every
//! 10 s, so by then every node's share of it has arrived. Of the N periods, a period
//! without data is missing; `TreatMissingData` says what a missing period is:
//! `breaching` / `notBreaching` count it as crossing / not crossing the threshold;
//! `missing` and `ignore` leave it out. Then (CloudWatch's M out of N):
//! - at least M crossing periods: ALARM;
//! - fewer than M periods with data, all of them crossing: ALARM;
//! - no period with data: INSUFFICIENT_DATA (`missing`), the current state (`ignore`);
//! - otherwise OK.
//!
//! A change is recorded in the alarm's history (StateUpdate) in the same transaction, and
//! its actions are delivered after the commit ([`super::notify`]).

use std::time::Duration;

use sqlx::PgConnection;

use super::alarms::{alarm_arn, definition, Definition};
use super::error::CwError;
use super::metrics::{self, MetricRef};
use super::notify::Notification;
use super::protocol::iso8601;
use crate::store::alarms::{self as store, AlarmRow};
use crate::AppState;

/// How long after a period ends it counts as complete.
pub const SETTLE: i64 = 15;
/// History is kept this long (CloudWatch: two weeks).
const HISTORY_RETENTION_S: f64 = 14.0 * 86_400.0;

/// A state change to record.
#[derive(Debug, Clone)]
pub struct Change {
    /// The state before.
    pub old_state: String,
    /// The state after.
    pub new_state: String,
    /// StateReason.
    pub reason: String,
    /// StateReasonData (JSON).
    pub reason_data: Option<String>,
}

/// Records `change` (a no-op when the state does not change) and answers the
/// notifications to deliver once the transaction commits.
pub async fn apply(
    conn: &mut PgConnection,
    region: &str,
    row: &AlarmRow,
    def: &Definition,
    change: &Change,
) -> Result<Vec<Notification>, CwError> {
    if change.new_state == change.old_state {
        return Ok(Vec::new());
    }
    store::set_state(
        conn,
        &row.name,
        &change.new_state,
        &change.reason,
        change.reason_data.as_deref(),
        true,
    )
    .await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9;
    let data = serde_json::json!({
        "version": "1.0",
        "oldState": { "stateValue": change.old_state },
        "newState": {
            "stateValue": change.new_state,
            "stateReason": change.reason,
            "stateReasonData": change.reason_data.as_deref()
                .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()),
        },
    });
    store::add_history(
        conn,
        &row.name,
        "StateUpdate",
        &format!(
            "Alarm updated from {} to {}",
            change.old_state, change.new_state
        ),
        &data.to_string(),
    )
    .await?;
    if !def.actions_enabled {
        return Ok(Vec::new());
    }
    let message = sns_message(region, row, def, change, now);
    Ok(def
        .actions_for(&change.new_state)
        .iter()
        .map(|action| Notification {
            alarm_name: row.name.clone(),
            action: action.clone(),
            subject: format!("{}: \"{}\" in {region}", change.new_state, row.name),
            message: message.clone(),
            state_change_time: now,
        })
        .collect())
}

/// The alarm message CloudWatch publishes to SNS (the notification's `Message`).
fn sns_message(
    region: &str,
    row: &AlarmRow,
    def: &Definition,
    change: &Change,
    now: f64,
) -> String {
    let dims: Vec<serde_json::Value> = def
        .dimensions
        .iter()
        .map(|(k, v)| serde_json::json!({ "value": v, "name": k }))
        .collect();
    serde_json::json!({
        "AlarmName": row.name,
        "AlarmDescription": def.description,
        "AWSAccountId": crate::store::account_id(),
        "AlarmConfigurationUpdatedTimestamp": iso8601(row.config_updated_at),
        "NewStateValue": change.new_state,
        "NewStateReason": change.reason,
        "StateChangeTime": iso8601(now),
        "Region": region,
        "AlarmArn": alarm_arn(region, &row.name),
        "OldStateValue": change.old_state,
        "OKActions": def.ok_actions,
        "AlarmActions": def.alarm_actions,
        "InsufficientDataActions": def.insufficient_data_actions,
        "Trigger": {
            "MetricName": def.metric_name,
            "Namespace": def.namespace,
            "StatisticType": if def.statistic.is_some() { "Statistic" } else { "ExtendedStatistic" },
            "Statistic": def.statistic.as_deref().map(str::to_uppercase),
            "ExtendedStatistic": def.extended_statistic,
            "Unit": def.unit,
            "Dimensions": dims,
            "Period": def.period,
            "EvaluationPeriods": def.evaluation_periods,
            "DatapointsToAlarm": def.datapoints_to_alarm(),
            "ComparisonOperator": def.comparison_operator,
            "Threshold": def.threshold,
            "TreatMissingData": def.treat_missing(),
            "EvaluateLowSampleCountPercentile": def.evaluate_low_sample_count_percentile.clone().unwrap_or_default(),
        }
    })
    .to_string()
}

fn operator_words(op: &str) -> &'static str {
    match op {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        "LessThanOrEqualToThreshold" => "less than or equal to",
        _ => "compared with",
    }
}

fn fmt_value(v: f64) -> String {
    format!("{v:?}")
}

fn short_date(t: i64) -> String {
    // dd/MM/yy HH:mm:ss, as CloudWatch writes datapoint times in reasons.
    let s = iso8601(t as f64);
    format!("{}/{}/{} {}", &s[8..10], &s[5..7], &s[2..4], &s[11..19])
}

/// What M out of N periods say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state: &'static str,
    /// Periods counted as crossing the threshold.
    pub breaching: i64,
    /// Periods counted as not crossing it.
    pub ok_count: i64,
}

/// The state the N period values (oldest first, `None` for a period without data) call for
/// (see the module doc); `None` when the alarm keeps its state (`ignore`, no data).
pub fn decide(def: &Definition, values: &[Option<f64>]) -> Option<Verdict> {
    let n = values.len() as i64;
    let m = def.datapoints_to_alarm();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let mut breaching = present.iter().filter(|v| def.breaches(**v)).count() as i64;
    let mut ok_count = present.len() as i64 - breaching;
    let missing = n - present.len() as i64;
    let treat = def.treat_missing();
    match treat {
        "breaching" => breaching += missing,
        "notBreaching" => ok_count += missing,
        _ => {}
    }
    let counted = breaching + ok_count;
    let state = if counted == 0 {
        if treat == "ignore" {
            return None;
        }
        "INSUFFICIENT_DATA"
    } else if breaching >= m || (counted < m && ok_count == 0) {
        "ALARM"
    } else {
        "OK"
    };
    Some(Verdict {
        state,
        breaching,
        ok_count,
    })
}

/// What the alarm's last N complete periods before `now` (Unix seconds) say; `None` when
/// the state stays as it is (`ignore` with no data).
pub async fn evaluate(
    state: &AppState,
    def: &Definition,
    current: &str,
    now: i64,
) -> Result<Option<Change>, CwError> {
    let Some(stat) = def.stat() else {
        return Err(CwError::Internal("an alarm without a statistic".into()));
    };
    let period = def.period;
    let n = def.evaluation_periods;
    let m = def.datapoints_to_alarm();
    let end = (now - SETTLE).div_euclid(period) * period;
    let start = end - n * period;
    let metric = MetricRef {
        namespace: def.namespace.clone(),
        metric_name: def.metric_name.clone(),
        dimensions: def.dimensions.clone(),
    };
    let (name, periods) =
        metrics::read(state, &metric, def.unit.as_deref(), start, end, period, now).await?;
    // Oldest first: (period start, value if any).
    let points: Vec<(i64, Option<f64>)> = (0..n)
        .map(|k| {
            let at = start + k * period;
            let v = name.and_then(|name| periods.get(&at).and_then(|a| a.value(name, &stat)));
            (at, v)
        })
        .collect();
    let present: Vec<(i64, f64)> = points
        .iter()
        .filter_map(|(t, v)| v.map(|v| (*t, v)))
        .collect();
    let values: Vec<Option<f64>> = points.iter().map(|(_, v)| *v).collect();
    let Some(Verdict {
        state: new_state,
        breaching,
        ok_count,
    }) = decide(def, &values)
    else {
        return Ok(None);
    };
    let evaluated: Vec<serde_json::Value> = present
        .iter()
        .rev()
        .map(|(t, v)| serde_json::json!({ "timestamp": iso8601(*t as f64), "value": v }))
        .collect();
    let reason_data = serde_json::json!({
        "version": "1.0",
        "queryDate": iso8601(now as f64),
        "startDate": iso8601(start as f64),
        "statistic": stat.name(),
        "period": period,
        "recentDatapoints": present.iter().rev().map(|(_, v)| *v).collect::<Vec<_>>(),
        "threshold": def.threshold,
        "evaluatedDatapoints": evaluated,
    })
    .to_string();
    let listed = present
        .iter()
        .rev()
        .map(|(t, v)| format!("{} ({})", fmt_value(*v), short_date(*t)))
        .collect::<Vec<_>>()
        .join(", ");
    let reason = match new_state {
        "INSUFFICIENT_DATA" => format!(
            "Insufficient Data: {n} datapoint{} {} unknown.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        ),
        "ALARM" => format!(
            "Threshold Crossed: {breaching} out of the last {n} datapoints [{listed}] {} {} the threshold ({}) (minimum {m} datapoint{} for OK -> ALARM transition).",
            if breaching == 1 { "was" } else { "were" },
            operator_words(&def.comparison_operator),
            fmt_value(def.threshold),
            if m == 1 { "" } else { "s" },
        ),
        _ => format!(
            "Threshold Crossed: {ok_count} out of the last {n} datapoints [{listed}] {} not {} the threshold ({}) (minimum {m} datapoint{} for ALARM -> OK transition).",
            if ok_count == 1 { "was" } else { "were" },
            operator_words(&def.comparison_operator),
            fmt_value(def.threshold),
            if m == 1 { "" } else { "s" },
        ),
    };
    Ok(Some(Change {
        old_state: current.to_string(),
        new_state: new_state.to_string(),
        reason,
        reason_data: Some(reason_data),
    }))
}

/// One round: under the cluster-wide lock, every alarm evaluated, changes recorded,
/// then their actions sent. False when another replica held the lock.
pub async fn round(state: &AppState, now: i64) -> Result<bool, CwError> {
    let mut tx = state.db.begin().await?;
    if !store::try_lock_evaluator(&mut tx).await? {
        return Ok(false);
    }
    let mut notifications = Vec::new();
    for row in store::all_for_update(&mut tx).await? {
        let def = match definition(&row) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(alarm = %row.name, error = %e, "alarm not evaluated");
                continue;
            }
        };
        match evaluate(state, &def, &row.state_value, now).await {
            Ok(Some(change)) => {
                notifications.extend(apply(&mut tx, &state.region, &row, &def, &change).await?)
            }
            Ok(None) => {}
            Err(e) => tracing::error!(alarm = %row.name, error = %e, "alarm evaluation failed"),
        }
    }
    let cutoff = now as f64 - HISTORY_RETENTION_S;
    store::prune_history(&mut tx, cutoff).await?;
    tx.commit().await?;
    super::notify::send_all(
        state.db.clone(),
        state.alarm_webhooks.clone(),
        notifications,
    );
    Ok(true)
}

/// Runs rounds every `interval` until the process ends.
pub async fn run(state: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(e) = round(&state, now).await {
            tracing::error!(error = %e, "alarm evaluation round failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(n: i64, m: i64, treat: &str) -> Definition {
        Definition {
            description: None,
            actions_enabled: true,
            ok_actions: vec![],
            alarm_actions: vec![],
            insufficient_data_actions: vec![],
            metric_name: "5XXError".into(),
            namespace: "AWS/ApiGateway".into(),
            statistic: Some("Average".into()),
            extended_statistic: None,
            dimensions: vec![],
            period: 60,
            unit: None,
            evaluation_periods: n,
            datapoints_to_alarm: Some(m),
            threshold: 0.05,
            comparison_operator: "GreaterThanOrEqualToThreshold".into(),
            treat_missing_data: Some(treat.into()),
            evaluate_low_sample_count_percentile: None,
        }
    }

    const X: Option<f64> = Some(0.5); // crosses
    const O: Option<f64> = Some(0.0); // does not
    const M: Option<f64> = None; // missing

    fn state(def: &Definition, v: &[Option<f64>]) -> &'static str {
        decide(def, v).map_or("retain", |v| v.state)
    }

    /// The module doc's rules for 3 of 3, per TreatMissingData (missing, ignore,
    /// breaching, notBreaching).
    #[test]
    fn missing_data_treatments() {
        let cases: [([Option<f64>; 3], [&str; 4]); 5] = [
            ([O, O, X], ["OK", "OK", "OK", "OK"]),
            ([O, M, X], ["OK", "OK", "OK", "OK"]),
            ([M, M, M], ["INSUFFICIENT_DATA", "retain", "ALARM", "OK"]),
            ([O, M, M], ["OK", "OK", "OK", "OK"]),
            ([M, M, X], ["ALARM", "ALARM", "ALARM", "OK"]),
        ];
        for (values, want) in cases {
            for (treat, want) in ["missing", "ignore", "breaching", "notBreaching"]
                .iter()
                .zip(want)
            {
                assert_eq!(
                    state(&alarm(3, 3, treat), &values),
                    want,
                    "{values:?} {treat}"
                );
            }
        }
    }

    #[test]
    fn m_out_of_n() {
        let a = alarm(5, 3, "missing");
        assert_eq!(state(&a, &[X, O, X, O, X]), "ALARM");
        assert_eq!(state(&a, &[X, O, X, O, O]), "OK");
        assert_eq!(state(&alarm(1, 1, "missing"), &[X]), "ALARM");
        assert_eq!(state(&alarm(1, 1, "missing"), &[O]), "OK");
        assert_eq!(state(&alarm(1, 1, "missing"), &[M]), "INSUFFICIENT_DATA");
    }
}
