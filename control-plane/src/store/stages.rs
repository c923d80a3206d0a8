//! The `stages` table: one `Stage` document per (API, stage name), with the deployment it
//! serves. Every write bumps the config version, as nodes serve stages.

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::Stage;

/// AWS's message for an unknown stage of a known API.
pub fn stage_not_found() -> ApiError {
    ApiError::not_found("Invalid stage identifier specified")
}

/// Loads a stage; `lock` takes a row lock.
pub async fn load(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
    lock: bool,
) -> ApiResult<Option<Stage>> {
    let sql = if lock {
        "SELECT doc FROM stages WHERE api_id = $1 AND stage_name = $2 FOR UPDATE"
    } else {
        "SELECT doc FROM stages WHERE api_id = $1 AND stage_name = $2"
    };
    let row: Option<(Json<Stage>,)> = sqlx::query_as(sql)
        .bind(api_id)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0 .0))
}

/// Fails with NotFound unless the API exists and has the stage (usage plans, API keys).
pub async fn require(conn: &mut PgConnection, api_id: &str, stage: &str) -> ApiResult<()> {
    super::rest_apis::load(conn, api_id, false).await?;
    let found: Option<(String,)> =
        sqlx::query_as("SELECT stage_name FROM stages WHERE api_id = $1 AND stage_name = $2")
            .bind(api_id)
            .bind(stage)
            .fetch_optional(conn)
            .await?;
    found.map(|_| ()).ok_or_else(|| {
        ApiError::not_found(format!(
            "Invalid stage identifier specified: {api_id}/{stage}"
        ))
    })
}

/// Writes a stage document and bumps the config version.
pub async fn save(conn: &mut PgConnection, api_id: &str, stage: &Stage) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO stages (api_id, stage_name, deployment_id, doc, created_date, last_updated_date)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (api_id, stage_name) DO UPDATE SET
            deployment_id = EXCLUDED.deployment_id, doc = EXCLUDED.doc,
            last_updated_date = EXCLUDED.last_updated_date",
    )
    .bind(api_id)
    .bind(&stage.stage_name)
    .bind(&stage.deployment_id)
    .bind(Json(stage))
    .bind(stage.created_date)
    .bind(stage.last_updated_date)
    .execute(&mut *conn)
    .await?;
    super::config::bump(conn).await
}

/// The stages of an API by name, only those serving `deployment_id` when given.
pub async fn list(
    conn: &mut PgConnection,
    api_id: &str,
    deployment_id: Option<&str>,
) -> ApiResult<Vec<Stage>> {
    let rows: Vec<(Json<Stage>,)> = sqlx::query_as(
        "SELECT doc FROM stages WHERE api_id = $1 AND ($2::text IS NULL OR deployment_id = $2)
         ORDER BY stage_name",
    )
    .bind(api_id)
    .bind(deployment_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// The names of the stages serving a deployment, as their deployment or their canary's,
/// in no particular order.
pub async fn names_serving(
    conn: &mut PgConnection,
    api_id: &str,
    deployment_id: &str,
) -> ApiResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT stage_name FROM stages WHERE api_id = $1
           AND (deployment_id = $2 OR doc->'canarySettings'->>'deploymentId' = $2)",
    )
    .bind(api_id)
    .bind(deployment_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Deletes a stage (NotFound when there is none) and bumps the config version.
pub async fn delete(conn: &mut PgConnection, api_id: &str, name: &str) -> ApiResult<()> {
    let done = sqlx::query("DELETE FROM stages WHERE api_id = $1 AND stage_name = $2")
        .bind(api_id)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(stage_not_found());
    }
    super::config::bump(conn).await
}

/// Starts a new authorizer-cache epoch for a stage (FlushStageAuthorizersCache): nodes
/// key cached decisions by it, so every older one is unreachable once they have it.
pub async fn flush_authorizer_cache(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
) -> ApiResult<()> {
    let done = sqlx::query(
        "UPDATE stages SET authorizer_cache_epoch = authorizer_cache_epoch + 1
         WHERE api_id = $1 AND stage_name = $2",
    )
    .bind(api_id)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(stage_not_found());
    }
    super::config::bump(conn).await
}

/// Starts a new response-cache epoch for a stage (FlushStageCache): nodes make it part of
/// every cache key, so every entry cached before is unreachable once they have it.
pub async fn flush_cache(conn: &mut PgConnection, api_id: &str, name: &str) -> ApiResult<()> {
    let done = sqlx::query(
        "UPDATE stages SET cache_epoch = cache_epoch + 1 WHERE api_id = $1 AND stage_name = $2",
    )
    .bind(api_id)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(stage_not_found());
    }
    super::config::bump(conn).await
}
