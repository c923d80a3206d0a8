//! The `usage_plans` table (one `UsagePlan` document per plan) and `usage_plan_keys`
//! (which keys a plan holds). A key may be in at most one plan per API stage.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::{ApiKey, UsagePlan, UsagePlanKey};

/// AWS's message for an unknown plan id.
pub fn plan_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid Usage Plan ID specified: {id}"))
}

/// Loads a plan; `lock` takes a row lock.
pub async fn load(conn: &mut PgConnection, id: &str, lock: bool) -> ApiResult<UsagePlan> {
    let sql = if lock {
        "SELECT doc FROM usage_plans WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT doc FROM usage_plans WHERE id = $1"
    };
    let row: Option<(Json<UsagePlan>,)> = sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    row.map(|r| r.0 .0).ok_or_else(|| plan_not_found(id))
}

/// Inserts or replaces a plan and bumps the config version.
pub async fn save(conn: &mut PgConnection, plan: &UsagePlan) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO usage_plans (id, doc) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(&plan.id)
    .bind(Json(plan))
    .execute(&mut *conn)
    .await?;
    super::config::bump(conn).await
}

/// Every plan, oldest first; only those holding `key_id` when given.
pub async fn list(conn: &mut PgConnection, key_id: Option<&str>) -> ApiResult<Vec<UsagePlan>> {
    let rows: Vec<(Json<UsagePlan>,)> = sqlx::query_as(
        "SELECT doc FROM usage_plans p
         WHERE $1::text IS NULL
            OR EXISTS (SELECT 1 FROM usage_plan_keys k WHERE k.plan_id = p.id AND k.key_id = $1)
         ORDER BY created_at, id",
    )
    .bind(key_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// When a plan was created, epoch seconds (0 when it is gone); its quota `offset`
/// applies to that first period.
pub async fn created_epoch(conn: &mut PgConnection, plan_id: &str) -> ApiResult<i64> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT extract(epoch FROM created_at)::bigint FROM usage_plans WHERE id = $1",
    )
    .bind(plan_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.0).unwrap_or(0))
}

/// Deletes a plan (NotFound when there is none); its key bindings go, usage records stay.
pub async fn delete(conn: &mut PgConnection, id: &str) -> ApiResult<()> {
    let done = sqlx::query("DELETE FROM usage_plans WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(plan_not_found(id));
    }
    Ok(())
}

/// ConflictException when a key of `plan` (only `only_key`, when given) is also in
/// another plan covering one of its stages.
pub async fn check_key_conflicts(
    conn: &mut PgConnection,
    plan: &UsagePlan,
    only_key: Option<&str>,
) -> ApiResult<()> {
    let stages: Vec<String> = plan
        .api_stages
        .iter()
        .map(|s| format!("{}:{}", s.api_id, s.stage))
        .collect();
    if stages.is_empty() {
        return Ok(());
    }
    let clash: Option<(String, String, String)> = sqlx::query_as(
        "SELECT mine.key_id, other.plan_id, s.\"apiId\" || ':' || s.stage
         FROM usage_plan_keys mine
         JOIN usage_plan_keys other ON other.key_id = mine.key_id AND other.plan_id <> $1
         JOIN usage_plans p ON p.id = other.plan_id
         CROSS JOIN LATERAL jsonb_to_recordset(p.doc->'apiStages') AS s(\"apiId\" text, stage text)
         WHERE mine.plan_id = $1 AND ($3::text IS NULL OR mine.key_id = $3)
           AND (s.\"apiId\" || ':' || s.stage) = ANY($2)
         LIMIT 1",
    )
    .bind(&plan.id)
    .bind(&stages)
    .bind(only_key)
    .fetch_optional(&mut *conn)
    .await?;
    match clash {
        Some((key, other, stage)) => Err(ApiError::conflict(format!(
            "API key {key} is already in usage plan {other} for API stage {stage}; \
             a key can be in at most one usage plan per API stage"
        ))),
        None => Ok(()),
    }
}

/// Adds a key to a plan (CreateUsagePlanKey, ImportApiKeys); the caller bumps the config.
pub async fn bind_key(
    conn: &mut PgConnection,
    plan_id: &str,
    key_id: &str,
) -> ApiResult<UsagePlanKey> {
    let plan = load(conn, plan_id, true).await?;
    let (key, _) = super::api_keys::load(conn, key_id, false).await?;
    let done = sqlx::query(
        "INSERT INTO usage_plan_keys (plan_id, key_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(plan_id)
    .bind(key_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::conflict(format!(
            "Usage plan {plan_id} already contains API key {key_id}"
        )));
    }
    check_key_conflicts(conn, &plan, Some(key_id)).await?;
    Ok(UsagePlanKey {
        id: key.id,
        key_type: "API_KEY".into(),
        name: key.name,
        value: None,
    })
}

/// Removes a key from a plan (NotFound when it is not in it); the caller bumps the config.
pub async fn unbind_key(conn: &mut PgConnection, plan_id: &str, key_id: &str) -> ApiResult<()> {
    let done = sqlx::query("DELETE FROM usage_plan_keys WHERE plan_id = $1 AND key_id = $2")
        .bind(plan_id)
        .bind(key_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(super::api_keys::key_not_found());
    }
    Ok(())
}

/// Whether the plan holds the key.
pub async fn holds_key(conn: &mut PgConnection, plan_id: &str, key_id: &str) -> ApiResult<bool> {
    let bound: Option<(String,)> =
        sqlx::query_as("SELECT key_id FROM usage_plan_keys WHERE plan_id = $1 AND key_id = $2")
            .bind(plan_id)
            .bind(key_id)
            .fetch_optional(conn)
            .await?;
    Ok(bound.is_some())
}

/// A key of a plan: id, document and sealed value.
pub type PlanKeyRow = (String, ApiKey, Vec<u8>);

/// The keys of an existing plan (only `key_id`, when given), in the order they were added.
pub async fn keys(
    conn: &mut PgConnection,
    plan_id: &str,
    key_id: Option<&str>,
) -> ApiResult<Vec<PlanKeyRow>> {
    load(conn, plan_id, false).await?;
    let rows: Vec<(String, Json<ApiKey>, Vec<u8>)> = sqlx::query_as(
        "SELECT k.id, k.doc, k.value_enc FROM usage_plan_keys pk JOIN api_keys k ON k.id = pk.key_id
         WHERE pk.plan_id = $1 AND ($2::text IS NULL OR k.id = $2)
         ORDER BY pk.created_at, k.id",
    )
    .bind(plan_id)
    .bind(key_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id, d, v)| (id, d.0, v)).collect())
}

/// The documents of a plan's keys, by id.
pub async fn key_docs(
    conn: &mut PgConnection,
    plan_id: &str,
) -> ApiResult<BTreeMap<String, ApiKey>> {
    let rows: Vec<(String, Json<ApiKey>)> = sqlx::query_as(
        "SELECT k.id, k.doc FROM usage_plan_keys pk JOIN api_keys k ON k.id = pk.key_id
         WHERE pk.plan_id = $1",
    )
    .bind(plan_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id, d)| (id, d.0)).collect())
}
