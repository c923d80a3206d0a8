//! Metric reads: GetMetricStatistics, GetMetricData (`MetricStat` queries) and ListMetrics
//! over the cluster's series, namespace `AWS/ApiGateway`.
//!
//! What each metric's statistics mean, as CloudWatch documents them for API Gateway:
//! - `Count` (Count): one sample of 1 per request, so Sum = SampleCount = requests.
//! - `4XXError`, `5XXError` (Count): one sample per request, 1 if it answered 4XX (5XX)
//!   and 0 otherwise, so Sum = errors, SampleCount = requests, Average = the error rate.
//! - `CacheHitCount`, `CacheMissCount` (Count): one 0-or-1 sample per request that
//!   consulted the stage's cache, so Sum = hits (misses); no data for a stage without one.
//! - `Latency`, `IntegrationLatency` (Milliseconds): the merged sketches; percentiles are
//!   within the sketch's 1 % relative error.
//!
//! Dimension sets are CloudWatch's for REST APIs: {ApiName}, {ApiName, Stage} and
//! {ApiName, Stage, Resource, Method} (detailed metrics). A query with another set (or
//! namespace, or metric name) matches no series and gets no datapoints, as in CloudWatch.
//! A period has a datapoint only when it has data.
//!
//! WebSocket APIs have their own metrics, as API Gateway publishes them, under {ApiId},
//! {ApiId, Stage} and {ApiId, Stage, Route} (the stage's detailedMetricsEnabled):
//! `ConnectCount`, `MessageCount`, `IntegrationError`, `ClientError`, `ExecutionError`
//! (Count: one sample of 1 per event, so Sum = SampleCount = events; no datapoint in a
//! period without one) and `IntegrationLatency` (Milliseconds). Their rows are the ones whose
//! `method` is `WEBSOCKET` (the counters' meaning is in `metrics.proto`).
//!
//! HTTP APIs' metrics are `Count`, `4xx`, `5xx` (the REST ones' statistics under API
//! Gateway's HTTP API names), `Latency`, `IntegrationLatency` and `DataProcessed` (Bytes:
//! request and response bodies; Sum / SampleCount / Average only), under {ApiId},
//! {ApiId, Stage} and {ApiId, Stage, Route} (the route key, `GET /pets`; the stage's
//! detailedMetricsEnabled, or its routeSettings entry). A route's series is also read as
//! {ApiId, Stage, Resource, Method} (`Method` + ` ` + `Resource` = the route key), the set
//! some editions of AWS's documentation name; ListMetrics lists `Route`. Their rows are the
//! ones whose `method` is `HTTPAPI`.

use std::collections::BTreeMap;

use apigw_sketch::Sketch;

use super::error::CwError;
use super::protocol::{Input, Member, Out, StructOut};
use crate::store::metric_reads;
use crate::store::metrics::{self as store_metrics, Bucket, SeriesQuery, StoreError};
use crate::AppState;

/// The namespace of the gateway's metrics.
pub const NAMESPACE: &str = "AWS/ApiGateway";
/// Most datapoints GetMetricStatistics answers.
const MAX_DATAPOINTS: i64 = 1440;
/// One-minute data is kept this long (then hourly data answers).
const MINUTE_RETENTION_S: i64 = 15 * 86_400;
/// The units of the model's StandardUnit enum.
pub const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
/// The Statistic enum.
pub const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// The metrics the gateway publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricName {
    /// `Count`.
    Count,
    /// `4XXError`.
    Error4xx,
    /// `5XXError`.
    Error5xx,
    /// `CacheHitCount`.
    CacheHit,
    /// `CacheMissCount`.
    CacheMiss,
    /// `Latency`.
    Latency,
    /// `IntegrationLatency` (REST and WebSocket).
    IntegrationLatency,
    /// `ConnectCount` (WebSocket).
    ConnectCount,
    /// `MessageCount` (WebSocket).
    MessageCount,
    /// `IntegrationError` (WebSocket).
    IntegrationError,
    /// `ClientError` (WebSocket).
    ClientError,
    /// `ExecutionError` (WebSocket).
    ExecutionError,
    /// `4xx` (HTTP API).
    Http4xx,
    /// `5xx` (HTTP API).
    Http5xx,
    /// `DataProcessed` (HTTP API): request and response body bytes.
    DataProcessed,
}

impl MetricName {
    /// A WebSocket API's metrics, in ListMetrics' order.
    pub const WEBSOCKET: [MetricName; 6] = [
        Self::ConnectCount,
        Self::MessageCount,
        Self::IntegrationError,
        Self::ClientError,
        Self::ExecutionError,
        Self::IntegrationLatency,
    ];

    /// An HTTP API's metrics, in ListMetrics' order.
    pub const HTTP_API: [MetricName; 6] = [
        Self::Count,
        Self::Http4xx,
        Self::Http5xx,
        Self::Latency,
        Self::IntegrationLatency,
        Self::DataProcessed,
    ];

    /// Every REST API metric, in ListMetrics' order.
    pub const ALL: [MetricName; 7] = [
        Self::Count,
        Self::Error4xx,
        Self::Error5xx,
        Self::CacheHit,
        Self::CacheMiss,
        Self::Latency,
        Self::IntegrationLatency,
    ];

    /// By its CloudWatch name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain(Self::WEBSOCKET)
            .chain(Self::HTTP_API)
            .find(|m| m.name() == s)
    }

    /// Its CloudWatch name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Error4xx => "4XXError",
            Self::Error5xx => "5XXError",
            Self::CacheHit => "CacheHitCount",
            Self::CacheMiss => "CacheMissCount",
            Self::Latency => "Latency",
            Self::IntegrationLatency => "IntegrationLatency",
            Self::ConnectCount => "ConnectCount",
            Self::MessageCount => "MessageCount",
            Self::IntegrationError => "IntegrationError",
            Self::ClientError => "ClientError",
            Self::ExecutionError => "ExecutionError",
            Self::Http4xx => "4xx",
            Self::Http5xx => "5xx",
            Self::DataProcessed => "DataProcessed",
        }
    }

    /// Its unit.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Latency | Self::IntegrationLatency => "Milliseconds",
            Self::DataProcessed => "Bytes",
            _ => "Count",
        }
    }
}

/// A statistic: one of the five, or a percentile.
#[derive(Debug, Clone, PartialEq)]
pub enum Stat {
    /// SampleCount.
    SampleCount,
    /// Average.
    Average,
    /// Sum.
    Sum,
    /// Minimum.
    Minimum,
    /// Maximum.
    Maximum,
    /// `pNN.N`: the percentile (0..=100) and its name as given.
    Percentile(f64, String),
}

impl Stat {
    /// A Statistic or an extended statistic (`p99`, `p99.9`); `None` if neither.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "SampleCount" => Self::SampleCount,
            "Average" => Self::Average,
            "Sum" => Self::Sum,
            "Minimum" => Self::Minimum,
            "Maximum" => Self::Maximum,
            _ => return Self::percentile(s),
        })
    }

    /// `pNN` or `pNN.N…` with 0 ≤ NN ≤ 100.
    pub fn percentile(s: &str) -> Option<Self> {
        let digits = s.strip_prefix('p')?;
        let valid = !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.matches('.').count() <= 1
            && !digits.starts_with('.')
            && !digits.ends_with('.');
        let p: f64 = digits.parse().ok().filter(|_| valid)?;
        (0.0..=100.0)
            .contains(&p)
            .then(|| Self::Percentile(p, s.to_string()))
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Self::SampleCount => "SampleCount",
            Self::Average => "Average",
            Self::Sum => "Sum",
            Self::Minimum => "Minimum",
            Self::Maximum => "Maximum",
            Self::Percentile(_, s) => s,
        }
    }
}

/// One period's data of one series (the ingest side's [`Bucket`]s, added up).
#[derive(Debug, Default, Clone)]
pub struct Aggregate {
    count: u64,
    error_4xx: u64,
    error_5xx: u64,
    cache_hit: u64,
    cache_miss: u64,
    latency: Sketch,
    integration_latency: Sketch,
    data_processed: u64,
}

impl Aggregate {
    fn add(&mut self, b: &Bucket) {
        self.data_processed += b.data_processed;
        self.count += b.count;
        self.error_4xx += b.error_4xx;
        self.error_5xx += b.error_5xx;
        self.cache_hit += b.cache_hit;
        self.cache_miss += b.cache_miss;
        self.latency.merge(&b.latency);
        self.integration_latency.merge(&b.integration_latency);
    }

    /// The value of `stat` for `metric` in this period; `None` when the period has no
    /// sample of that metric.
    pub fn value(&self, metric: MetricName, stat: &Stat) -> Option<f64> {
        match metric {
            MetricName::Latency => sketch_value(&self.latency, stat),
            MetricName::IntegrationLatency => sketch_value(&self.integration_latency, stat),
            MetricName::Count => binary_value(self.count, self.count, stat),
            MetricName::Error4xx | MetricName::Http4xx => {
                binary_value(self.count, self.error_4xx, stat)
            }
            MetricName::Error5xx | MetricName::Http5xx => {
                binary_value(self.count, self.error_5xx, stat)
            }
            MetricName::CacheHit => {
                binary_value(self.cache_hit + self.cache_miss, self.cache_hit, stat)
            }
            MetricName::CacheMiss => {
                binary_value(self.cache_hit + self.cache_miss, self.cache_miss, stat)
            }
            // A WebSocket series' counters (metrics.proto): events, one sample of 1 each.
            MetricName::MessageCount => binary_value(self.count, self.count, stat),
            MetricName::ConnectCount => binary_value(self.cache_hit, self.cache_hit, stat),
            MetricName::IntegrationError => binary_value(self.cache_miss, self.cache_miss, stat),
            MetricName::ClientError => binary_value(self.error_4xx, self.error_4xx, stat),
            MetricName::ExecutionError => binary_value(self.error_5xx, self.error_5xx, stat),
            MetricName::DataProcessed => bytes_value(self.count, self.data_processed, stat),
        }
    }
}

fn sketch_value(s: &Sketch, stat: &Stat) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    match stat {
        Stat::SampleCount => Some(s.count() as f64),
        Stat::Average => s.average(),
        Stat::Sum => Some(s.sum()),
        Stat::Minimum => s.min(),
        Stat::Maximum => s.max(),
        Stat::Percentile(p, _) => s.quantile(p / 100.0),
    }
}

/// DataProcessed: one sample per request of its body bytes, of which only the total is
/// kept. Sum and SampleCount are exact, Average is their ratio; Minimum, Maximum and
/// percentiles are not known, so those reads answer no datapoint.
fn bytes_value(requests: u64, bytes: u64, stat: &Stat) -> Option<f64> {
    if requests == 0 {
        return None;
    }
    match stat {
        Stat::SampleCount => Some(requests as f64),
        Stat::Sum => Some(bytes as f64),
        Stat::Average => Some(bytes as f64 / requests as f64),
        Stat::Minimum | Stat::Maximum | Stat::Percentile(..) => None,
    }
}

/// Statistics of `n` samples of which `ones` are 1 and the rest 0.
fn binary_value(n: u64, ones: u64, stat: &Stat) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let ones = ones.min(n);
    Some(match stat {
        Stat::SampleCount => n as f64,
        Stat::Sum => ones as f64,
        Stat::Average => ones as f64 / n as f64,
        Stat::Minimum => f64::from(u8::from(ones == n)),
        Stat::Maximum => f64::from(u8::from(ones > 0)),
        Stat::Percentile(p, _) => {
            let rank = ((p / 100.0) * (n - 1) as f64).floor() as u64;
            f64::from(u8::from(rank >= n - ones))
        }
    })
}

/// Which metric and series a read is about.
#[derive(Debug, Clone)]
pub struct MetricRef {
    /// Namespace.
    pub namespace: String,
    /// MetricName.
    pub metric_name: String,
    /// Dimensions (name, value), as given.
    pub dimensions: Vec<(String, String)>,
}

impl MetricRef {
    /// The gateway metric and the series query (without its time range) it names;
    /// `None` when it names nothing we publish.
    fn resolve(&self) -> Option<(MetricName, SeriesQuery)> {
        if self.namespace != NAMESPACE {
            return None;
        }
        let metric = MetricName::parse(&self.metric_name)?;
        let mut dims: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in &self.dimensions {
            if dims.insert(k.as_str(), v.as_str()).is_some() {
                return None;
            }
        }
        let get = |k: &str| dims.get(k).map(|v| v.to_string());
        if dims.contains_key("ApiId") {
            // A WebSocket or HTTP API: {ApiId}, {ApiId, Stage}, {ApiId, Stage, Route}
            // (an HTTP API's route also as {ApiId, Stage, Resource, Method}). A name both
            // kinds publish (IntegrationLatency) reads either kind's rows: an API id is of
            // one kind only.
            let websocket = MetricName::WEBSOCKET.contains(&metric);
            let http_api = MetricName::HTTP_API.contains(&metric);
            if !websocket && !http_api {
                return None;
            }
            let mut q = SeriesQuery {
                api_id: Some(get("ApiId")?),
                websocket,
                http_api,
                ..SeriesQuery::default()
            };
            match dims.len() {
                1 => {}
                2 => q.stage = Some(get("Stage")?),
                3 => {
                    q.stage = Some(get("Stage")?);
                    q.resource = Some(get("Route")?);
                }
                4 if http_api => {
                    q.stage = Some(get("Stage")?);
                    q.resource = Some(format!("{} {}", get("Method")?, get("Resource")?));
                    q.websocket = false;
                }
                _ => return None,
            }
            return Some((metric, q));
        }
        if !MetricName::ALL.contains(&metric) {
            return None;
        }
        let mut q = SeriesQuery {
            api_name: Some(get("ApiName")?),
            ..SeriesQuery::default()
        };
        match dims.len() {
            1 => {}
            2 => q.stage = Some(get("Stage")?),
            4 => {
                q.stage = Some(get("Stage")?);
                q.resource = Some(get("Resource")?);
                q.method = Some(get("Method")?);
            }
            _ => return None,
        }
        Some((metric, q))
    }
}

/// The data of `metric` per period `[start + k·period, …)` within `[start, end)` (`start`
/// a multiple of 60, or of 3600 for ranges starting over 15 days ago), only periods with
/// data; `unit`, when given, must be the metric's unit or nothing matches.
pub async fn read(
    state: &AppState,
    metric: &MetricRef,
    unit: Option<&str>,
    start: i64,
    end: i64,
    period: i64,
    now: i64,
) -> Result<(Option<MetricName>, BTreeMap<i64, Aggregate>), CwError> {
    let mut out = BTreeMap::new();
    let Some((name, mut q)) = metric.resolve() else {
        return Ok((None, out));
    };
    if unit.is_some_and(|u| u != name.unit()) || period <= 0 {
        return Ok((Some(name), out));
    }
    // Read at the stored resolution, then add the buckets up into periods aligned on `start`.
    q.start = start;
    q.end = end;
    // Hourly periods on hour boundaries: hour buckets (the store reads the hour rows for
    // whole-hour ranges); otherwise minutes while they are kept.
    q.period_seconds =
        if (period % 3600 == 0 && start % 3600 == 0) || start < now - MINUTE_RETENTION_S {
            3600
        } else {
            60
        };
    let buckets = store_metrics::series_at(&state.db, &q, now)
        .await
        .map_err(|e| match e {
            StoreError::BadQuery(m) => CwError::InvalidParameterValue(m),
            other => CwError::Internal(other.to_string()),
        })?;
    for b in &buckets {
        let at = start + (b.start - start).div_euclid(period) * period;
        out.entry(at).or_insert_with(Aggregate::default).add(b);
    }
    Ok((Some(name), out))
}

fn dimensions(m: &Member<'_>) -> Result<Vec<(String, String)>, CwError> {
    let items = m.list()?;
    if items.len() > 30 {
        return Err(CwError::invalid(m.path(), "must have at most 30 members."));
    }
    items
        .into_iter()
        .map(|(item, path)| {
            let item = item.at(&path);
            Ok((item.get("Name").string()?, item.get("Value").string()?))
        })
        .collect()
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// CloudWatch's period and start-time rules: a period of at least 60 s and a multiple of
/// 60, the start rounded down to the minute; for a start over 15 days ago, an hour (the
/// control plane keeps hourly data only by then, where CloudWatch also has 5-minute data
/// until 63 days).
fn check_period(period_member: &str, period: i64, start: f64, now: i64) -> Result<i64, CwError> {
    let age = now as f64 - start;
    let step = if age > MINUTE_RETENTION_S as f64 {
        3600
    } else {
        60
    };
    if period < 60 || period % step != 0 {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {period_member} must be a multiple of {step} and at least 60 for data this old (got {period})."
        )));
    }
    Ok(step)
}

fn time_range(i: &Input<'_>) -> Result<(f64, f64), CwError> {
    let start = i.get("StartTime").time()?;
    let end = i.get("EndTime").time()?;
    if start >= end {
        return Err(CwError::InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.".into(),
        ));
    }
    Ok((start, end))
}

/// GetMetricStatistics.
pub async fn get_metric_statistics(state: &AppState, i: Input<'_>) -> Result<Out, CwError> {
    let namespace = i.get("Namespace").string()?;
    let metric_name = i.get("MetricName").string()?;
    let dims = dimensions(&i.get("Dimensions"))?;
    let (start, end) = time_range(&i)?;
    let period = i
        .get("Period")
        .opt_i64()?
        .ok_or_else(|| CwError::missing("Period"))?;
    let stats_member = i.get("Statistics");
    let statistics: Vec<String> = stats_member.strings()?;
    let extended: Vec<String> = i.get("ExtendedStatistics").strings()?;
    let unit = i.get("Unit").opt_enum(UNITS)?;
    if statistics.is_empty() && extended.is_empty() {
        return Err(CwError::InvalidParameterCombination(
            "Must specify either Statistics or ExtendedStatistics".into(),
        ));
    }
    if statistics.len() > 5 {
        return Err(CwError::invalid(
            "Statistics",
            "must have at most 5 members.",
        ));
    }
    if extended.len() > 10 {
        return Err(CwError::invalid(
            "ExtendedStatistics",
            "must have at most 10 members.",
        ));
    }
    let mut stats = Vec::new();
    for (n, s) in statistics.iter().enumerate() {
        if !STATISTICS.contains(&s.as_str()) {
            return Err(CwError::InvalidParameterValue(format!(
                "The value {s} for parameter Statistics.member.{} is not a valid statistic; it must be one of: {}.",
                n + 1,
                STATISTICS.join(", ")
            )));
        }
        stats.extend(Stat::parse(s));
    }
    let mut ext = Vec::new();
    for (n, s) in extended.iter().enumerate() {
        ext.push(Stat::percentile(s).ok_or_else(|| {
            CwError::InvalidParameterValue(format!(
                "The value {s} for parameter ExtendedStatistics.member.{} is not a valid percentile (p0 to p100, e.g. p99 or p99.9).",
                n + 1
            ))
        })?);
    }
    let now = now_s();
    let step = check_period("Period", period, start, now)?;
    let start = (start / step as f64).floor() as i64 * step;
    let end = end.ceil() as i64;
    let wanted = (end - start).saturating_add(period - 1) / period;
    if wanted > MAX_DATAPOINTS {
        return Err(CwError::InvalidParameterCombination(format!(
            "You have requested up to {wanted} datapoints, which exceeds the limit of {MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let metric = MetricRef {
        namespace,
        metric_name: metric_name.clone(),
        dimensions: dims,
    };
    let (name, periods) = read(state, &metric, unit.as_deref(), start, end, period, now).await?;
    let mut datapoints = Vec::new();
    if let Some(name) = name {
        for (at, agg) in &periods {
            if agg.value(name, &Stat::SampleCount).is_none() {
                continue;
            }
            let mut dp = StructOut::new().with("Timestamp", Out::Time(*at as f64));
            for stat in &stats {
                let member = match stat {
                    Stat::SampleCount => "SampleCount",
                    Stat::Average => "Average",
                    Stat::Sum => "Sum",
                    Stat::Minimum => "Minimum",
                    Stat::Maximum => "Maximum",
                    Stat::Percentile(..) => continue,
                };
                dp = dp.opt(member, agg.value(name, stat).map(Out::F64));
            }
            dp = dp.with("Unit", Out::s(name.unit()));
            if !ext.is_empty() {
                let entries = ext
                    .iter()
                    .filter_map(|s| {
                        agg.value(name, s)
                            .map(|v| (s.name().to_string(), Out::F64(v)))
                    })
                    .collect();
                dp = dp.with("ExtendedStatistics", Out::Map(entries));
            }
            datapoints.push(reorder_datapoint(dp.done()));
        }
    }
    Ok(StructOut::new()
        .with("Label", Out::s(metric_name))
        .with("Datapoints", Out::List(datapoints))
        .done())
}

/// Puts a Datapoint's members in the model's xmlOrder (Timestamp, SampleCount, Average,
/// Sum, Minimum, Maximum, Unit, ExtendedStatistics).
fn reorder_datapoint(dp: Out) -> Out {
    const ORDER: [&str; 8] = [
        "Timestamp",
        "SampleCount",
        "Average",
        "Sum",
        "Minimum",
        "Maximum",
        "Unit",
        "ExtendedStatistics",
    ];
    match dp {
        Out::Struct(mut members) => {
            members.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
            Out::Struct(members)
        }
        other => other,
    }
}

/// One MetricDataQuery, checked.
struct Query {
    id: String,
    label: Option<String>,
    return_data: bool,
    metric: MetricRef,
    period: i64,
    stat: Stat,
    unit: Option<String>,
}

fn parse_query(item: Input<'_>, path: &str) -> Result<Query, CwError> {
    let id = item.get("Id").string()?;
    let id_ok = id.len() <= 255
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !id_ok {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {id} for parameter {path}.Id is not valid: it must start with a lowercase letter and contain only letters, digits and underscores."
        )));
    }
    if item.get("Expression").is_present() {
        return Err(CwError::InvalidParameterValue(format!(
            "{path}.Expression: metric math expressions are not supported by this gateway; use MetricStat."
        )));
    }
    let ms_member = item.get("MetricStat");
    let ms = ms_member
        .structure()?
        .ok_or_else(|| CwError::missing(&format!("{path}.MetricStat")))?;
    let m_member = ms.get("Metric");
    let metric = m_member
        .structure()?
        .ok_or_else(|| CwError::missing(&format!("{path}.MetricStat.Metric")))?;
    let metric = MetricRef {
        namespace: metric.get("Namespace").string()?,
        metric_name: metric.get("MetricName").string()?,
        dimensions: dimensions(&metric.get("Dimensions"))?,
    };
    let period_member = ms.get("Period");
    let period = period_member
        .opt_i64()?
        .ok_or_else(|| CwError::missing(period_member.path()))?;
    let stat_member = ms.get("Stat");
    let stat_name = stat_member.string()?;
    let stat = Stat::parse(&stat_name).ok_or_else(|| {
        CwError::InvalidParameterValue(format!(
            "The value {stat_name} for parameter {} is not a supported statistic (SampleCount, Average, Sum, Minimum, Maximum or pNN.N).",
            stat_member.path()
        ))
    })?;
    Ok(Query {
        id,
        label: item.get("Label").opt_string()?,
        return_data: item.get("ReturnData").opt_bool()?.unwrap_or(true),
        metric,
        period,
        stat,
        unit: ms.get("Unit").opt_enum(UNITS)?,
    })
}

/// GetMetricData: `MetricStat` queries only (an `Expression` is refused), every datapoint
/// in one page.
pub async fn get_metric_data(state: &AppState, i: Input<'_>) -> Result<Out, CwError> {
    let queries_member = i.get("MetricDataQueries");
    if !queries_member.is_present() {
        return Err(CwError::missing("MetricDataQueries"));
    }
    let items = queries_member.list()?;
    if items.is_empty() || items.len() > 500 {
        return Err(CwError::invalid(
            "MetricDataQueries",
            "must have between 1 and 500 members.",
        ));
    }
    let (start, end) = time_range(&i)?;
    let descending = i
        .get("ScanBy")
        .opt_enum(&["TimestampDescending", "TimestampAscending"])?
        .as_deref()
        != Some("TimestampAscending");
    if i.get("NextToken").opt_string()?.is_some() {
        return Err(CwError::InvalidNextToken(
            "The NextToken is not valid: this API answers every datapoint in one page.".into(),
        ));
    }
    let max_datapoints = i.get("MaxDatapoints").opt_i64()?.unwrap_or(100_800);
    let now = now_s();
    let mut queries = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (item, path) in &items {
        let q = parse_query(item.at(path), path)?;
        if !ids.insert(q.id.clone()) {
            return Err(CwError::InvalidParameterValue(format!(
                "The value {} for parameter {path}.Id is used by another query.",
                q.id
            )));
        }
        check_period(&format!("{path}.MetricStat.Period"), q.period, start, now)?;
        queries.push(q);
    }
    let mut total = 0i64;
    for q in &queries {
        total += ((end - start) / q.period as f64).ceil() as i64;
    }
    if total > max_datapoints {
        return Err(CwError::InvalidParameterCombination(format!(
            "The queries ask for up to {total} datapoints, more than MaxDatapoints ({max_datapoints}); increase the periods or shorten the time range."
        )));
    }
    let mut results = Vec::new();
    for q in queries.iter().filter(|q| q.return_data) {
        let step = check_period("Period", q.period, start, now)?;
        let s = (start / step as f64).floor() as i64 * step;
        let e = end.ceil() as i64;
        let (name, periods) =
            read(state, &q.metric, q.unit.as_deref(), s, e, q.period, now).await?;
        let mut points: Vec<(i64, f64)> = match name {
            Some(name) => periods
                .iter()
                .filter_map(|(at, agg)| agg.value(name, &q.stat).map(|v| (*at, v)))
                .collect(),
            None => Vec::new(),
        };
        if descending {
            points.reverse();
        }
        results.push(
            StructOut::new()
                .with("Id", Out::s(&q.id))
                .with(
                    "Label",
                    Out::s(
                        q.label
                            .clone()
                            .unwrap_or_else(|| q.metric.metric_name.clone()),
                    ),
                )
                .with(
                    "Timestamps",
                    Out::List(points.iter().map(|(t, _)| Out::Time(*t as f64)).collect()),
                )
                .with(
                    "Values",
                    Out::List(points.iter().map(|(_, v)| Out::F64(*v)).collect()),
                )
                .with("StatusCode", Out::s("Complete"))
                .done(),
        );
    }
    Ok(StructOut::new()
        .with("MetricDataResults", Out::List(results))
        .with("Messages", Out::List(Vec::new()))
        .done())
}

/// One dimension set of a listed metric: (name, value) in CloudWatch's order.
type DimensionSet = Vec<(&'static str, String)>;

/// ListMetrics' page size (CloudWatch's).
const LIST_PAGE: usize = 500;

/// ListMetrics: the metrics of every series with data in the last two weeks (three hours
/// with `RecentlyActive=PT3H`), in each of the dimension sets that series contributes to.
pub async fn list_metrics(state: &AppState, i: Input<'_>) -> Result<Out, CwError> {
    let namespace = i.get("Namespace").opt_string()?;
    let metric_name = i.get("MetricName").opt_string()?;
    let filters_member = i.get("Dimensions");
    let filter_items = filters_member.list()?;
    if filter_items.len() > 10 {
        return Err(CwError::invalid(
            "Dimensions",
            "must have at most 10 members.",
        ));
    }
    let mut filters = Vec::new();
    for (item, path) in &filter_items {
        let item = item.at(path);
        filters.push((item.get("Name").string()?, item.get("Value").opt_string()?));
    }
    let recent = i.get("RecentlyActive").opt_enum(&["PT3H"])?.is_some();
    let offset = match i.get("NextToken").opt_string()? {
        None => 0,
        Some(t) => t.parse::<usize>().map_err(|_| {
            CwError::InvalidParameterValue("The parameter NextToken is not valid.".into())
        })?,
    };
    let now = now_s();
    let since = now - if recent { 3 * 3600 } else { 14 * 86_400 };
    // Dimension sets: a WebSocket or HTTP API's start with ApiId, a REST API's with
    // ApiName; each with the metric names of its kind.
    let mut metrics: Vec<(DimensionSet, &[MetricName])> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut cached: BTreeMap<Vec<(&'static str, String)>, bool> = BTreeMap::new();
    if namespace.as_deref().is_none_or(|n| n == NAMESPACE) {
        for s in metric_reads::series_since(&state.db, since).await? {
            let v2_names: Option<&[MetricName]> = match s.method.as_str() {
                apigw_proto::metrics::WEBSOCKET_METHOD => Some(&MetricName::WEBSOCKET),
                apigw_proto::metrics::HTTP_API_METHOD => Some(&MetricName::HTTP_API),
                _ => None,
            };
            if let Some(names) = v2_names {
                let mut sets = vec![
                    vec![("ApiId", s.api_id.clone())],
                    vec![("ApiId", s.api_id.clone()), ("Stage", s.stage.clone())],
                ];
                if !s.resource.is_empty() {
                    sets.push(vec![
                        ("ApiId", s.api_id.clone()),
                        ("Stage", s.stage.clone()),
                        ("Route", s.resource.clone()),
                    ]);
                }
                for set in sets {
                    if seen.insert(set.clone()) {
                        metrics.push((set, names));
                    }
                }
                continue;
            }
            let mut sets = vec![
                vec![("ApiName", s.api_name.clone())],
                vec![("ApiName", s.api_name.clone()), ("Stage", s.stage.clone())],
            ];
            if !s.resource.is_empty() || !s.method.is_empty() {
                sets.push(vec![
                    ("ApiName", s.api_name.clone()),
                    ("Stage", s.stage.clone()),
                    ("Resource", s.resource.clone()),
                    ("Method", s.method.clone()),
                ]);
            }
            for set in sets {
                *cached.entry(set.clone()).or_default() |= s.cached;
                if seen.insert(set.clone()) {
                    metrics.push((set, &MetricName::ALL));
                }
            }
        }
    }
    let mut all = Vec::new();
    for (set, names) in &metrics {
        let matches = filters.iter().all(|(name, value)| {
            set.iter()
                .any(|(k, v)| k == name && value.as_ref().is_none_or(|want| want == v))
        });
        if !matches {
            continue;
        }
        for &m in names.iter() {
            if matches!(m, MetricName::CacheHit | MetricName::CacheMiss)
                && !cached.get(set).copied().unwrap_or(false)
            {
                continue;
            }
            if metric_name.as_deref().is_some_and(|n| n != m.name()) {
                continue;
            }
            all.push(
                StructOut::new()
                    .with("Namespace", Out::s(NAMESPACE))
                    .with("MetricName", Out::s(m.name()))
                    .with(
                        "Dimensions",
                        Out::List(
                            set.iter()
                                .map(|(k, v)| {
                                    StructOut::new()
                                        .with("Name", Out::s(*k))
                                        .with("Value", Out::s(v))
                                        .done()
                                })
                                .collect(),
                        ),
                    )
                    .done(),
            );
        }
    }
    let page: Vec<Out> = all.iter().skip(offset).take(LIST_PAGE).cloned().collect();
    let next = (offset + LIST_PAGE < all.len()).then(|| Out::s((offset + LIST_PAGE).to_string()));
    Ok(StructOut::new()
        .with("Metrics", Out::List(page))
        .opt("NextToken", next)
        .done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rates_are_averages_of_zero_or_one_samples() {
        assert_eq!(binary_value(20, 2, &Stat::Average), Some(0.1));
        assert_eq!(binary_value(20, 2, &Stat::Sum), Some(2.0));
        assert_eq!(binary_value(20, 2, &Stat::SampleCount), Some(20.0));
        assert_eq!(binary_value(20, 2, &Stat::Minimum), Some(0.0));
        assert_eq!(binary_value(20, 2, &Stat::Maximum), Some(1.0));
        assert_eq!(binary_value(20, 2, &Stat::parse("p90").unwrap()), Some(0.0));
        assert_eq!(binary_value(20, 2, &Stat::parse("p99").unwrap()), Some(1.0));
        assert_eq!(binary_value(0, 0, &Stat::Sum), None);
    }

    fn metric(name: &str, dims: &[(&str, &str)]) -> MetricRef {
        MetricRef {
            namespace: NAMESPACE.into(),
            metric_name: name.into(),
            dimensions: dims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn websocket_metrics_resolve_by_api_id_stage_and_route() {
        let (name, q) = metric("MessageCount", &[("ApiId", "a1"), ("Stage", "dev")])
            .resolve()
            .expect("a WebSocket stage metric");
        assert_eq!(name, MetricName::MessageCount);
        assert!(q.websocket);
        assert_eq!(
            (q.api_id.as_deref(), q.stage.as_deref()),
            (Some("a1"), Some("dev"))
        );
        let (_, q) = metric(
            "IntegrationLatency",
            &[("ApiId", "a1"), ("Stage", "dev"), ("Route", "$connect")],
        )
        .resolve()
        .expect("a route metric");
        assert_eq!(q.resource.as_deref(), Some("$connect"));
        // Both kinds publish IntegrationLatency: an API id reads its own kind's rows.
        assert!(q.websocket && q.http_api);
        // REST-only names under ApiId, WebSocket names under ApiName: nothing.
        assert!(metric("4XXError", &[("ApiId", "a1")]).resolve().is_none());
        assert!(metric("CacheHitCount", &[("ApiId", "a1")])
            .resolve()
            .is_none());
        assert!(metric("ConnectCount", &[("ApiName", "x")])
            .resolve()
            .is_none());
        let (_, q) = metric("IntegrationLatency", &[("ApiName", "x")])
            .resolve()
            .expect("REST");
        assert!(!q.websocket);
        // The counts are events: Sum = SampleCount, nothing for none.
        let agg = Aggregate {
            cache_hit: 3,
            ..Aggregate::default()
        };
        assert_eq!(agg.value(MetricName::ConnectCount, &Stat::Sum), Some(3.0));
        assert_eq!(
            agg.value(MetricName::ConnectCount, &Stat::SampleCount),
            Some(3.0)
        );
        assert_eq!(agg.value(MetricName::ClientError, &Stat::Sum), None);
    }

    #[test]
    fn http_api_metrics_resolve_by_api_id_stage_and_route() {
        let (name, q) = metric(
            "Count",
            &[
                ("ApiId", "h1"),
                ("Stage", "$default"),
                ("Route", "GET /pets"),
            ],
        )
        .resolve()
        .expect("an HTTP API route metric");
        assert_eq!(name, MetricName::Count);
        assert!(q.http_api && !q.websocket);
        assert_eq!(
            (
                q.api_id.as_deref(),
                q.stage.as_deref(),
                q.resource.as_deref()
            ),
            (Some("h1"), Some("$default"), Some("GET /pets"))
        );
        // The same route as {ApiId, Stage, Resource, Method}.
        let (_, by_parts) = metric(
            "Count",
            &[
                ("ApiId", "h1"),
                ("Stage", "$default"),
                ("Resource", "/pets"),
                ("Method", "GET"),
            ],
        )
        .resolve()
        .expect("an HTTP API route metric by resource and method");
        assert_eq!(by_parts, q);
        let (name, q) = metric("4xx", &[("ApiId", "h1")]).resolve().expect("4xx");
        assert_eq!(name, MetricName::Http4xx);
        assert!(q.http_api && q.stage.is_none());
        // HTTP API names are not REST ones, and need ApiId.
        assert!(metric("4xx", &[("ApiName", "x")]).resolve().is_none());
        assert!(metric(
            "MessageCount",
            &[
                ("ApiId", "h1"),
                ("Stage", "s"),
                ("Resource", "/"),
                ("Method", "GET")
            ]
        )
        .resolve()
        .is_none());
        let agg = Aggregate {
            count: 4,
            error_5xx: 1,
            ..Aggregate::default()
        };
        assert_eq!(agg.value(MetricName::Http5xx, &Stat::Average), Some(0.25));
    }

    #[test]
    fn percentiles_parse_as_cloudwatch_names_them() {
        assert!(Stat::percentile("p99").is_some());
        assert!(Stat::percentile("p99.9").is_some());
        assert!(Stat::percentile("p100").is_some());
        for bad in ["p", "p101", "p.5", "p5.", "99", "p9x", "tm99"] {
            assert!(Stat::percentile(bad).is_none(), "{bad}");
        }
    }
}
