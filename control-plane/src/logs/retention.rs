//! The log store's partitions over time: once at start and then every hour, one replica
//! at a time (the store's advisory lock) creates the day partitions of yesterday to two
//! days ahead, and drops the partitions whose day ended more than the retention
//! (`--log-retention-days` / `APIGW_LOG_RETENTION_DAYS`) ago: whole days go at once.

use crate::store::logs::{self as store, DAY_MS};

/// Creates the partitions around `now_ms` and drops those past `retention_days`.
pub async fn maintain(db: &sqlx::PgPool, now_ms: i64, retention_days: u32) -> sqlx::Result<()> {
    let today = now_ms.div_euclid(DAY_MS);
    let created = store::ensure_partitions(db, today - 1, today + 2).await?;
    if created > 0 {
        tracing::debug!(created, "log partitions created");
    }
    let cutoff = now_ms - i64::from(retention_days) * DAY_MS;
    let dropped = store::drop_partitions_before(db, cutoff).await?;
    if !dropped.is_empty() {
        tracing::info!(
            ?dropped,
            retention_days,
            "log partitions past retention dropped"
        );
    }
    Ok(())
}

/// Runs [`maintain`] every hour (the first run is the caller's, at start).
pub async fn run(db: sqlx::PgPool, retention_days: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(error) = maintain(&db, crate::ingest::logs::now_ms(), retention_days).await {
            tracing::warn!(%error, "log partition maintenance failed");
        }
    }
}
