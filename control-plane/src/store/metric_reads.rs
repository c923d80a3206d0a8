//! ListMetrics' read of the cluster's metric series (`metric_minutes`, migration 0009):
//! the distinct series with data since a time, and whether any of their requests consulted
//! a cache (CloudWatch lists `CacheHitCount` / `CacheMissCount` only for cached stages).
//! WebSocket APIs' rows (`method` = `WEBSOCKET`) come with their API id, their dimension.
//! Series reads over time ranges are `store::metrics::series`.

use sqlx::PgPool;

/// A series that had data: its dimensions and whether any request consulted a cache.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeriesSeen {
    /// `ApiName`.
    pub api_name: String,
    /// The API id (`ApiId`, a WebSocket API's dimension).
    pub api_id: String,
    /// `Stage`.
    pub stage: String,
    /// `Resource` ('' for a stage row).
    pub resource: String,
    /// `Method` ('' for a stage row).
    pub method: String,
    /// Whether cache hits or misses were counted.
    pub cached: bool,
}

/// Every (ApiName, ApiId, Stage, Resource, Method) with a row since `since` (Unix
/// seconds), ordered by those names.
pub async fn series_since(db: &PgPool, since: i64) -> sqlx::Result<Vec<SeriesSeen>> {
    sqlx::query_as(
        "SELECT api_name, api_id, stage, resource, method,
                bool_or(cache_hit + cache_miss > 0) AS cached
         FROM metric_minutes
         WHERE minute >= to_timestamp($1)
         GROUP BY api_name, api_id, stage, resource, method
         ORDER BY api_name, api_id, stage, resource, method",
    )
    .bind(since as f64)
    .fetch_all(db)
    .await
}
