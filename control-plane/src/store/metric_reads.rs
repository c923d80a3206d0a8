//! Reads of the cluster's metric series (`metric_minutes`, `metric_hours`, migration 0009)
//! for the CloudWatch API and the alarm evaluator: the rows of one dimension set over a
//! time range, and the distinct series that had data recently (ListMetrics). Times travel
//! as Unix seconds. The ingestion side (merging node shipments, roll-up, retention) is not
//! here.

use sqlx::PgPool;

/// Which table a read uses: per-minute rows (kept 15 days) or per-hour rows (15 months).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `metric_minutes`.
    Minute,
    /// `metric_hours`.
    Hour,
}

/// The rows of which series to read: CloudWatch's dimension sets {ApiName}, {ApiName,
/// Stage} and {ApiName, Stage, Resource, Method}. A coarser set adds up every finer row
/// (a stage's requests are counted once, in its stage row or in one method's row).
#[derive(Debug, Clone, Copy)]
pub struct SeriesKey<'a> {
    /// The `ApiName` dimension.
    pub api_name: &'a str,
    /// The `Stage` dimension, if in the set.
    pub stage: Option<&'a str>,
    /// The `Resource` and `Method` dimensions, if in the set.
    pub method: Option<(&'a str, &'a str)>,
}

/// One row: a minute (or hour) of one series.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    /// Start of the minute or hour, Unix seconds.
    pub at: i64,
    /// Requests.
    pub count: i64,
    /// Requests answered 4XX.
    pub error_4xx: i64,
    /// Requests answered 5XX.
    pub error_5xx: i64,
    /// Cache hits.
    pub cache_hit: i64,
    /// Cache misses.
    pub cache_miss: i64,
    /// Latency sketch (apigw.metrics.v1.Sketch, encoded).
    pub latency: Vec<u8>,
    /// Integration latency sketch (encoded).
    pub integration_latency: Vec<u8>,
}

/// The rows of `key` with `start <= at < end`, oldest first.
pub async fn rows(
    db: &PgPool,
    resolution: Resolution,
    key: SeriesKey<'_>,
    start: i64,
    end: i64,
) -> sqlx::Result<Vec<Row>> {
    let (table, column) = match resolution {
        Resolution::Minute => ("metric_minutes", "minute"),
        Resolution::Hour => ("metric_hours", "hour"),
    };
    let sql = format!(
        "SELECT EXTRACT(EPOCH FROM {column})::bigint AS at, count, error_4xx, error_5xx,
                cache_hit, cache_miss, latency, integration_latency
         FROM {table}
         WHERE api_name = $1
           AND ($2::text IS NULL OR stage = $2)
           AND ($3::text IS NULL OR (resource = $3 AND method = $4))
           AND {column} >= to_timestamp($5) AND {column} < to_timestamp($6)
         ORDER BY {column}"
    );
    let (resource, method) = match key.method {
        Some((r, m)) => (Some(r), Some(m)),
        None => (None, None),
    };
    sqlx::query_as(&sql)
        .bind(key.api_name)
        .bind(key.stage)
        .bind(resource)
        .bind(method)
        .bind(start as f64)
        .bind(end as f64)
        .fetch_all(db)
        .await
}

/// A series that had data: its dimensions and whether any request consulted a cache.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeriesSeen {
    /// `ApiName`.
    pub api_name: String,
    /// `Stage`.
    pub stage: String,
    /// `Resource` ('' for a stage row).
    pub resource: String,
    /// `Method` ('' for a stage row).
    pub method: String,
    /// Whether cache hits or misses were counted.
    pub cached: bool,
}

/// Every (ApiName, Stage, Resource, Method) with a row since `since` (Unix seconds),
/// ordered by those names.
pub async fn series_since(db: &PgPool, since: i64) -> sqlx::Result<Vec<SeriesSeen>> {
    sqlx::query_as(
        "SELECT api_name, stage, resource, method,
                bool_or(cache_hit + cache_miss > 0) AS cached
         FROM metric_minutes
         WHERE minute >= to_timestamp($1)
         GROUP BY api_name, stage, resource, method
         ORDER BY api_name, stage, resource, method",
    )
    .bind(since as f64)
    .fetch_all(db)
    .await
}
