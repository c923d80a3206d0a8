//! Metric alarms: PutMetricAlarm, DescribeAlarms, DescribeAlarmHistory, DeleteAlarms and
//! SetAlarmState, stored through [`crate::store::alarms`]. The evaluator
//! ([`super::evaluator`]) moves their states; [`super::notify`] delivers their actions.
//!
//! Supported: single-metric alarms with `Statistic` or `ExtendedStatistic`, a `Period` of
//! at least 60 s (a multiple of 60), M out of N (`DatapointsToAlarm` of
//! `EvaluationPeriods`), `TreatMissingData` and the four static-threshold comparison
//! operators. Metric-math alarms (`Metrics`), anomaly-detection operators and PromQL
//! criteria answer `InvalidParameterValue`. Actions are `http(s)://` URLs (webhooks) or
//! `arn:aws:sns:` topic ARNs, mapped to URLs by `APIGW_ALARM_SNS_WEBHOOKS`.

use serde::{Deserialize, Serialize};

use super::error::CwError;
use super::metrics::{Stat, STATISTICS, UNITS};
use super::protocol::{Input, Out, StructOut};
use crate::store::alarms::{self as store, AlarmRow};
use crate::AppState;

/// Most alarms the control plane keeps (CloudWatch's default quota per Region is larger;
/// this bounds the evaluator's round).
pub const MAX_ALARMS: i64 = 5000;

const OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];
const ANOMALY_OPERATORS: &[&str] = &[
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];
/// TreatMissingData's values.
pub const TREAT_MISSING: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];

/// An alarm's configuration, as stored (JSONB) and as DescribeAlarms answers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Definition {
    /// AlarmDescription.
    pub description: Option<String>,
    /// ActionsEnabled (default true).
    pub actions_enabled: bool,
    /// OKActions.
    pub ok_actions: Vec<String>,
    /// AlarmActions.
    pub alarm_actions: Vec<String>,
    /// InsufficientDataActions.
    pub insufficient_data_actions: Vec<String>,
    /// MetricName.
    pub metric_name: String,
    /// Namespace.
    pub namespace: String,
    /// Statistic (or `extended_statistic`).
    pub statistic: Option<String>,
    /// ExtendedStatistic (`p99`).
    pub extended_statistic: Option<String>,
    /// Dimensions, in the order given.
    pub dimensions: Vec<(String, String)>,
    /// Period, seconds.
    pub period: i64,
    /// Unit.
    pub unit: Option<String>,
    /// EvaluationPeriods (N).
    pub evaluation_periods: i64,
    /// DatapointsToAlarm (M; N when absent).
    pub datapoints_to_alarm: Option<i64>,
    /// Threshold.
    pub threshold: f64,
    /// ComparisonOperator.
    pub comparison_operator: String,
    /// TreatMissingData (default `missing`).
    pub treat_missing_data: Option<String>,
    /// EvaluateLowSampleCountPercentile (kept, not applied).
    pub evaluate_low_sample_count_percentile: Option<String>,
}

impl Definition {
    /// The statistic the alarm evaluates.
    pub fn stat(&self) -> Option<Stat> {
        self.statistic
            .as_deref()
            .or(self.extended_statistic.as_deref())
            .and_then(Stat::parse)
    }

    /// M.
    pub fn datapoints_to_alarm(&self) -> i64 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// TreatMissingData with its default.
    pub fn treat_missing(&self) -> &str {
        self.treat_missing_data.as_deref().unwrap_or("missing")
    }

    /// Whether `value` crosses the threshold.
    pub fn breaches(&self, value: f64) -> bool {
        match self.comparison_operator.as_str() {
            "GreaterThanOrEqualToThreshold" => value >= self.threshold,
            "GreaterThanThreshold" => value > self.threshold,
            "LessThanThreshold" => value < self.threshold,
            "LessThanOrEqualToThreshold" => value <= self.threshold,
            _ => false,
        }
    }

    /// The actions of a state.
    pub fn actions_for(&self, state: &str) -> &[String] {
        match state {
            "ALARM" => &self.alarm_actions,
            "OK" => &self.ok_actions,
            _ => &self.insufficient_data_actions,
        }
    }
}

/// The alarm's ARN.
pub fn alarm_arn(region: &str, name: &str) -> String {
    format!(
        "arn:aws:cloudwatch:{region}:{}:alarm:{name}",
        crate::store::account_id()
    )
}

fn check_action(path: &str, action: &str) -> Result<(), CwError> {
    let lower = action.to_ascii_lowercase();
    let url_ok = (lower.starts_with("http://") || lower.starts_with("https://"))
        && action
            .parse::<http::Uri>()
            .is_ok_and(|u| u.host().is_some());
    let sns_ok = action.starts_with("arn:aws:sns:") && action.split(':').count() == 6;
    if url_ok || sns_ok {
        Ok(())
    } else {
        Err(CwError::InvalidParameterValue(format!(
            "Invalid action {action} in {path}: this gateway supports http(s):// webhook URLs and arn:aws:sns: topic ARNs."
        )))
    }
}

fn actions(i: &Input<'_>, member: &str) -> Result<Vec<String>, CwError> {
    let m = i.get(member);
    let list = m.strings()?;
    if list.len() > 5 {
        return Err(CwError::invalid(member, "must have at most 5 members."));
    }
    for (n, a) in list.iter().enumerate() {
        if a.is_empty() || a.len() > 1024 {
            return Err(CwError::invalid(
                &format!("{member}.member.{}", n + 1),
                "must be 1 to 1024 characters long.",
            ));
        }
        check_action(&format!("{member}.member.{}", n + 1), a)?;
    }
    Ok(list)
}

fn length(member: &str, v: &str, min: usize, max: usize) -> Result<(), CwError> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(CwError::invalid(
            member,
            format!("must be {min} to {max} characters long."),
        ));
    }
    Ok(())
}

fn parse_definition(i: &Input<'_>) -> Result<Definition, CwError> {
    for unsupported in ["Metrics", "ThresholdMetricId"] {
        if i.get(unsupported).is_present() {
            return Err(CwError::InvalidParameterValue(format!(
                "{unsupported}: metric math alarms are not supported by this gateway; use MetricName, Namespace and Dimensions."
            )));
        }
    }
    if i.get("EvaluationCriteria").is_present() {
        return Err(CwError::InvalidParameterValue(
            "EvaluationCriteria: PromQL alarms are not supported by this gateway.".into(),
        ));
    }
    let description = i.get("AlarmDescription").opt_string()?;
    if let Some(d) = &description {
        length("AlarmDescription", d, 0, 1024)?;
    }
    let metric_name = i.get("MetricName").string()?;
    length("MetricName", &metric_name, 1, 255)?;
    let namespace = i.get("Namespace").string()?;
    length("Namespace", &namespace, 1, 255)?;
    if namespace.starts_with(':') {
        return Err(CwError::invalid("Namespace", "must not start with ':'."));
    }
    let statistic = i.get("Statistic").opt_enum(STATISTICS)?;
    let extended_statistic = i.get("ExtendedStatistic").opt_string()?;
    match (&statistic, &extended_statistic) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(CwError::InvalidParameterCombination(
                "Exactly one element of Statistic and ExtendedStatistic must be specified."
                    .into(),
            ))
        }
        (None, Some(p)) if Stat::percentile(p).is_none() => {
            return Err(CwError::InvalidParameterValue(format!(
                "The value {p} for parameter ExtendedStatistic is not a valid percentile (p0 to p100, e.g. p99 or p99.9)."
            )))
        }
        _ => {}
    }
    let dims_member = i.get("Dimensions");
    let dim_items = dims_member.list()?;
    if dim_items.len() > 30 {
        return Err(CwError::invalid(
            "Dimensions",
            "must have at most 30 members.",
        ));
    }
    let mut dimensions = Vec::new();
    for (item, path) in &dim_items {
        let item = item.at(path);
        let name = item.get("Name").string()?;
        let value = item.get("Value").string()?;
        length(&format!("{path}.Name"), &name, 1, 255)?;
        length(&format!("{path}.Value"), &value, 1, 1024)?;
        dimensions.push((name, value));
    }
    let period = i
        .get("Period")
        .opt_i64()?
        .ok_or_else(|| CwError::missing("Period"))?;
    if period < 60 || period % 60 != 0 {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter Period must be at least 60 and a multiple of 60 (got {period}); this gateway keeps one-minute data."
        )));
    }
    let evaluation_periods = i
        .get("EvaluationPeriods")
        .opt_i64()?
        .ok_or_else(|| CwError::missing("EvaluationPeriods"))?;
    if evaluation_periods < 1 {
        return Err(CwError::invalid("EvaluationPeriods", "must be at least 1."));
    }
    let limit = if period >= 3600 { 7 * 86_400 } else { 86_400 };
    if period.saturating_mul(evaluation_periods) > limit {
        return Err(CwError::InvalidParameterValue(format!(
            "The product of EvaluationPeriods and Period must not exceed {limit} seconds."
        )));
    }
    let datapoints_to_alarm = i.get("DatapointsToAlarm").opt_i64()?;
    if let Some(m) = datapoints_to_alarm {
        if m < 1 || m > evaluation_periods {
            return Err(CwError::InvalidParameterValue(
                "The parameter DatapointsToAlarm must be at least 1 and at most EvaluationPeriods."
                    .into(),
            ));
        }
    }
    let comparison_operator = i
        .get("ComparisonOperator")
        .string()
        .map_err(|_| CwError::missing("ComparisonOperator"))?;
    if ANOMALY_OPERATORS.contains(&comparison_operator.as_str()) {
        return Err(CwError::InvalidParameterValue(format!(
            "ComparisonOperator {comparison_operator}: anomaly detection alarms are not supported by this gateway."
        )));
    }
    if !OPERATORS.contains(&comparison_operator.as_str()) {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {comparison_operator} for parameter ComparisonOperator is not valid; it must be one of: {}.",
            OPERATORS.join(", ")
        )));
    }
    let threshold = i
        .get("Threshold")
        .opt_f64()?
        .ok_or_else(|| CwError::missing("Threshold"))?;
    let treat_missing_data = i.get("TreatMissingData").opt_enum(TREAT_MISSING)?;
    let evaluate_low_sample_count_percentile = i
        .get("EvaluateLowSampleCountPercentile")
        .opt_enum(&["evaluate", "ignore"])?;
    if evaluate_low_sample_count_percentile.is_some() && extended_statistic.is_none() {
        return Err(CwError::InvalidParameterCombination(
            "EvaluateLowSampleCountPercentile applies only to alarms on an ExtendedStatistic."
                .into(),
        ));
    }
    Ok(Definition {
        description,
        actions_enabled: i.get("ActionsEnabled").opt_bool()?.unwrap_or(true),
        ok_actions: actions(i, "OKActions")?,
        alarm_actions: actions(i, "AlarmActions")?,
        insufficient_data_actions: actions(i, "InsufficientDataActions")?,
        metric_name,
        namespace,
        statistic,
        extended_statistic,
        dimensions,
        period,
        unit: i.get("Unit").opt_enum(UNITS)?,
        evaluation_periods,
        datapoints_to_alarm,
        threshold,
        comparison_operator,
        treat_missing_data,
        evaluate_low_sample_count_percentile,
    })
}

fn alarm_name(i: &Input<'_>) -> Result<String, CwError> {
    let name = i.get("AlarmName").string()?;
    length("AlarmName", &name, 1, 255)?;
    Ok(name)
}

/// PutMetricAlarm: creates the alarm (INSUFFICIENT_DATA until evaluated) or replaces its
/// configuration (its state is left alone, as in CloudWatch).
pub async fn put_metric_alarm(state: &AppState, i: Input<'_>) -> Result<(), CwError> {
    let name = alarm_name(&i)?;
    let def = parse_definition(&i)?;
    let json = serde_json::to_value(&def).map_err(|e| CwError::Internal(e.to_string()))?;
    let mut tx = state.db.begin().await?;
    let exists = store::get_for_update(&mut tx, &name).await?.is_some();
    if !exists && store::count(&mut tx).await? >= MAX_ALARMS {
        return Err(CwError::LimitExceeded(format!(
            "The maximum number of alarms ({MAX_ALARMS}) has been reached."
        )));
    }
    let created = store::put(&mut tx, &name, &json, "Unchecked: Initial alarm creation").await?;
    let (summary, kind) = if created {
        (format!("Alarm \"{name}\" created"), "Create")
    } else {
        (format!("Alarm \"{name}\" updated"), "Update")
    };
    let data = serde_json::json!({ "version": "1.0", "type": kind, "updatedAlarm": json });
    store::add_history(
        &mut tx,
        &name,
        "ConfigurationUpdate",
        &summary,
        &data.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn dims_out(dims: &[(String, String)]) -> Out {
    Out::List(
        dims.iter()
            .map(|(k, v)| {
                StructOut::new()
                    .with("Name", Out::s(k))
                    .with("Value", Out::s(v))
                    .done()
            })
            .collect(),
    )
}

fn strings_out(v: &[String]) -> Out {
    Out::List(v.iter().map(Out::s).collect())
}

/// A MetricAlarm, members in the model's xmlOrder.
pub fn metric_alarm_out(region: &str, row: &AlarmRow, def: &Definition) -> Out {
    StructOut::new()
        .with("AlarmName", Out::s(&row.name))
        .with("AlarmArn", Out::s(alarm_arn(region, &row.name)))
        .opt("AlarmDescription", def.description.as_deref().map(Out::s))
        .with(
            "AlarmConfigurationUpdatedTimestamp",
            Out::Time(row.config_updated_at),
        )
        .with("ActionsEnabled", Out::Bool(def.actions_enabled))
        .with("OKActions", strings_out(&def.ok_actions))
        .with("AlarmActions", strings_out(&def.alarm_actions))
        .with(
            "InsufficientDataActions",
            strings_out(&def.insufficient_data_actions),
        )
        .with("StateValue", Out::s(&row.state_value))
        .with("StateReason", Out::s(&row.state_reason))
        .opt(
            "StateReasonData",
            row.state_reason_data.as_deref().map(Out::s),
        )
        .with("StateUpdatedTimestamp", Out::Time(row.state_updated_at))
        .with("MetricName", Out::s(&def.metric_name))
        .with("Namespace", Out::s(&def.namespace))
        .opt("Statistic", def.statistic.as_deref().map(Out::s))
        .with("Dimensions", dims_out(&def.dimensions))
        .with("Period", Out::I64(def.period))
        .opt("Unit", def.unit.as_deref().map(Out::s))
        .with("EvaluationPeriods", Out::I64(def.evaluation_periods))
        .with("Threshold", Out::F64(def.threshold))
        .with("ComparisonOperator", Out::s(&def.comparison_operator))
        .opt(
            "ExtendedStatistic",
            def.extended_statistic.as_deref().map(Out::s),
        )
        .opt(
            "TreatMissingData",
            def.treat_missing_data.as_deref().map(Out::s),
        )
        .opt(
            "EvaluateLowSampleCountPercentile",
            def.evaluate_low_sample_count_percentile
                .as_deref()
                .map(Out::s),
        )
        .opt("DatapointsToAlarm", def.datapoints_to_alarm.map(Out::I64))
        .with(
            "StateTransitionedTimestamp",
            Out::Time(row.state_transitioned_at),
        )
        .done()
}

/// A stored definition, or an internal error naming the alarm.
pub fn definition(row: &AlarmRow) -> Result<Definition, CwError> {
    serde_json::from_value(row.definition.clone())
        .map_err(|e| CwError::Internal(format!("alarm {}: stored definition: {e}", row.name)))
}

/// DescribeAlarms: by names or name prefix, state, action prefix; metric alarms only (a
/// request for composite alarms only gets none). Pages of `MaxRecords` (default 50).
pub async fn describe_alarms(state: &AppState, i: Input<'_>) -> Result<Out, CwError> {
    let names = i.get("AlarmNames").strings()?;
    if names.len() > 100 {
        return Err(CwError::invalid(
            "AlarmNames",
            "must have at most 100 members.",
        ));
    }
    let prefix = i.get("AlarmNamePrefix").opt_string()?;
    if !names.is_empty() && prefix.is_some() {
        return Err(CwError::InvalidParameterCombination(
            "AlarmNames and AlarmNamePrefix cannot be used together.".into(),
        ));
    }
    let types = i.get("AlarmTypes").strings()?;
    for (n, t) in types.iter().enumerate() {
        if t != "MetricAlarm" && t != "CompositeAlarm" {
            return Err(CwError::InvalidParameterValue(format!(
                "The value {t} for parameter AlarmTypes.member.{} is not valid; it must be MetricAlarm or CompositeAlarm.",
                n + 1
            )));
        }
    }
    let state_value = i
        .get("StateValue")
        .opt_enum(&["OK", "ALARM", "INSUFFICIENT_DATA"])?;
    let action_prefix = i.get("ActionPrefix").opt_string()?;
    let max = i.get("MaxRecords").opt_i64()?.unwrap_or(50);
    if !(1..=100).contains(&max) {
        return Err(CwError::invalid("MaxRecords", "must be between 1 and 100."));
    }
    let after = i.get("NextToken").opt_string()?;
    let wants_metric = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let relational =
        i.get("ChildrenOfAlarmName").is_present() || i.get("ParentsOfAlarmName").is_present();
    let mut alarms = Vec::new();
    let mut next = None;
    if wants_metric && !relational {
        let filter = store::Filter {
            names: (!names.is_empty()).then_some(names.as_slice()),
            prefix: prefix.as_deref(),
            state: state_value.as_deref(),
            after: after.as_deref(),
            limit: 10_000,
        };
        for row in store::list(&state.db, &filter).await? {
            let def = definition(&row)?;
            if let Some(p) = &action_prefix {
                let any = def
                    .alarm_actions
                    .iter()
                    .chain(&def.ok_actions)
                    .chain(&def.insufficient_data_actions)
                    .any(|a| a.starts_with(p.as_str()));
                if !any {
                    continue;
                }
            }
            if alarms.len() as i64 == max {
                next = Some(Out::s(alarms_last_name(&alarms)));
                break;
            }
            alarms.push((
                row.name.clone(),
                metric_alarm_out(&state.region, &row, &def),
            ));
        }
    }
    Ok(StructOut::new()
        .with("CompositeAlarms", Out::List(Vec::new()))
        .with(
            "MetricAlarms",
            Out::List(alarms.into_iter().map(|(_, o)| o).collect()),
        )
        .opt("NextToken", next)
        .done())
}

fn alarms_last_name(alarms: &[(String, Out)]) -> String {
    alarms.last().map(|(n, _)| n.clone()).unwrap_or_default()
}

/// DescribeAlarmHistory: newest first unless `ScanBy=TimestampAscending`; pages of
/// `MaxRecords` (default 100).
pub async fn describe_alarm_history(state: &AppState, i: Input<'_>) -> Result<Out, CwError> {
    let alarm_name = i.get("AlarmName").opt_string()?;
    let item_type = i.get("HistoryItemType").opt_enum(&[
        "ConfigurationUpdate",
        "StateUpdate",
        "Action",
        "AlarmContributorStateUpdate",
        "AlarmContributorAction",
    ])?;
    let types = i.get("AlarmTypes").strings()?;
    let start = i.get("StartDate").opt_time()?;
    let end = i.get("EndDate").opt_time()?;
    let max = i.get("MaxRecords").opt_i64()?.unwrap_or(100);
    if !(1..=100).contains(&max) {
        return Err(CwError::invalid("MaxRecords", "must be between 1 and 100."));
    }
    let ascending = i
        .get("ScanBy")
        .opt_enum(&["TimestampDescending", "TimestampAscending"])?
        .as_deref()
        == Some("TimestampAscending");
    let after_id = match i.get("NextToken").opt_string()? {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| CwError::InvalidNextToken("The NextToken is not valid.".into()))?,
        ),
    };
    let mut items = Vec::new();
    let mut next = None;
    if types.is_empty() || types.iter().any(|t| t == "MetricAlarm") {
        let filter = store::HistoryFilter {
            alarm_name: alarm_name.as_deref(),
            item_type: item_type.as_deref(),
            start,
            end,
            ascending,
            after_id,
            limit: max + 1,
        };
        let rows = store::history(&state.db, &filter).await?;
        for (n, row) in rows.iter().enumerate() {
            if n as i64 == max {
                next = rows.get(n - 1).map(|r| Out::s(r.id.to_string()));
                break;
            }
            items.push(
                StructOut::new()
                    .with("AlarmName", Out::s(&row.alarm_name))
                    .with("AlarmType", Out::s("MetricAlarm"))
                    .with("Timestamp", Out::Time(row.at))
                    .with("HistoryItemType", Out::s(&row.item_type))
                    .with("HistorySummary", Out::s(&row.summary))
                    .with("HistoryData", Out::s(&row.data))
                    .done(),
            );
        }
    }
    Ok(StructOut::new()
        .with("AlarmHistoryItems", Out::List(items))
        .opt("NextToken", next)
        .done())
}

/// DeleteAlarms: all or nothing; a name that does not exist is `ResourceNotFound`.
pub async fn delete_alarms(state: &AppState, i: Input<'_>) -> Result<(), CwError> {
    let member = i.get("AlarmNames");
    if !member.is_present() {
        return Err(CwError::missing("AlarmNames"));
    }
    let names = member.strings()?;
    if names.len() > 100 {
        return Err(CwError::invalid(
            "AlarmNames",
            "must have at most 100 members.",
        ));
    }
    let mut tx = state.db.begin().await?;
    let missing = store::missing(&mut tx, &names).await?;
    if let Some(first) = missing.first() {
        return Err(CwError::ResourceNotFound(format!(
            "Alarm {first} does not exist (no alarm was deleted)."
        )));
    }
    store::delete(&mut tx, &names).await?;
    for name in &names {
        store::add_history(
            &mut tx,
            name,
            "ConfigurationUpdate",
            &format!("Alarm \"{name}\" deleted"),
            &serde_json::json!({ "version": "1.0", "type": "Delete" }).to_string(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// SetAlarmState: sets the state until the next evaluation; a change runs the new state's
/// actions, as in CloudWatch.
pub async fn set_alarm_state(state: &AppState, i: Input<'_>) -> Result<(), CwError> {
    let name = alarm_name(&i)?;
    let value = i
        .get("StateValue")
        .opt_enum(&["OK", "ALARM", "INSUFFICIENT_DATA"])?
        .ok_or_else(|| CwError::missing("StateValue"))?;
    let reason = i.get("StateReason").string()?;
    length("StateReason", &reason, 0, 1023)?;
    let reason_data = i.get("StateReasonData").opt_string()?;
    if let Some(d) = &reason_data {
        length("StateReasonData", d, 0, 4000)?;
        if serde_json::from_str::<serde_json::Value>(d).is_err() {
            return Err(CwError::InvalidFormat(
                "The parameter StateReasonData is not valid JSON.".into(),
            ));
        }
    }
    let mut tx = state.db.begin().await?;
    let row = store::get_for_update(&mut tx, &name)
        .await?
        .ok_or_else(|| CwError::ResourceNotFound(format!("Alarm {name} does not exist.")))?;
    let def = definition(&row)?;
    let change = super::evaluator::Change {
        old_state: row.state_value.clone(),
        new_state: value.clone(),
        reason,
        reason_data,
    };
    let notifications =
        super::evaluator::apply(&mut tx, &state.region, &row, &def, &change).await?;
    tx.commit().await?;
    super::notify::send_all(
        state.db.clone(),
        state.alarm_webhooks.clone(),
        notifications,
    );
    Ok(())
}
