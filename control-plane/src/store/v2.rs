//! The `v2_apis` and `v2_items` tables: apigatewayv2 APIs and their routes, route
//! responses, integrations, integration responses, authorizers, models, stages and
//! deployments, each a JSONB document in its wire shape (migration 0016).
//!
//! An item is keyed by `(api, kind, parent, id)`: `parent` is the route of a route
//! response, the integration of an integration response, empty otherwise. Deleting an API
//! deletes its items (`ON DELETE CASCADE`).

use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};

/// The kinds of item, as stored in `v2_items.kind`.
pub mod kind {
    /// A route.
    pub const ROUTE: &str = "route";
    /// A route response (parent: its route).
    pub const ROUTE_RESPONSE: &str = "route_response";
    /// An integration.
    pub const INTEGRATION: &str = "integration";
    /// An integration response (parent: its integration).
    pub const INTEGRATION_RESPONSE: &str = "integration_response";
    /// An authorizer.
    pub const AUTHORIZER: &str = "authorizer";
    /// A model.
    pub const MODEL: &str = "model";
    /// A stage (id: its name).
    pub const STAGE: &str = "stage";
    /// A deployment.
    pub const DEPLOYMENT: &str = "deployment";
}

/// AWS's error for an unknown API id.
pub fn api_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid API identifier specified {}:{id}",
        super::account_id()
    ))
}

/// Loads an API; `for_update` locks its row for the transaction (every change to an
/// API's items takes that lock first, so checks across items see a stable API).
pub async fn load_api(conn: &mut PgConnection, id: &str, for_update: bool) -> ApiResult<Value> {
    let sql = if for_update {
        "SELECT doc FROM v2_apis WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT doc FROM v2_apis WHERE id = $1"
    };
    let row: Option<(Json<Value>,)> = sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    row.map(|r| r.0 .0).ok_or_else(|| api_not_found(id))
}

/// Every API, oldest first.
pub async fn list_apis(conn: &mut PgConnection) -> ApiResult<Vec<Value>> {
    let rows: Vec<(Json<Value>,)> =
        sqlx::query_as("SELECT doc FROM v2_apis ORDER BY created_at, id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Inserts a new API.
pub async fn insert_api(conn: &mut PgConnection, id: &str, doc: &Value) -> ApiResult<()> {
    sqlx::query("INSERT INTO v2_apis (id, doc) VALUES ($1, $2)")
        .bind(id)
        .bind(Json(doc))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes back an API.
pub async fn save_api(conn: &mut PgConnection, id: &str, doc: &Value) -> ApiResult<()> {
    sqlx::query("UPDATE v2_apis SET doc = $2 WHERE id = $1")
        .bind(id)
        .bind(Json(doc))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes an API and everything in it.
pub async fn delete_api(conn: &mut PgConnection, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM v2_apis WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Where an item lives.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    /// The API.
    pub api: &'a str,
    /// One of [`kind`].
    pub kind: &'static str,
    /// The parent item's id, or `""`.
    pub parent: &'a str,
}

/// Loads an item, `None` when there is none.
pub async fn load_item(
    conn: &mut PgConnection,
    key: Key<'_>,
    id: &str,
    for_update: bool,
) -> ApiResult<Option<Value>> {
    let sql = if for_update {
        "SELECT doc FROM v2_items WHERE api_id = $1 AND kind = $2 AND parent_id = $3 AND id = $4 FOR UPDATE"
    } else {
        "SELECT doc FROM v2_items WHERE api_id = $1 AND kind = $2 AND parent_id = $3 AND id = $4"
    };
    let row: Option<(Json<Value>,)> = sqlx::query_as(sql)
        .bind(key.api)
        .bind(key.kind)
        .bind(key.parent)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0 .0))
}

/// Every item of a kind under one parent, oldest first.
pub async fn list_items(conn: &mut PgConnection, key: Key<'_>) -> ApiResult<Vec<Value>> {
    let rows: Vec<(Json<Value>,)> = sqlx::query_as(
        "SELECT doc FROM v2_items WHERE api_id = $1 AND kind = $2 AND parent_id = $3
         ORDER BY created_at, id",
    )
    .bind(key.api)
    .bind(key.kind)
    .bind(key.parent)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Every item of a kind under any parent (all route responses of an API, ...), with its
/// parent id, oldest first.
pub async fn list_all(
    conn: &mut PgConnection,
    api: &str,
    kind: &str,
) -> ApiResult<Vec<(String, Value)>> {
    let rows: Vec<(String, Json<Value>)> = sqlx::query_as(
        "SELECT parent_id, doc FROM v2_items WHERE api_id = $1 AND kind = $2
         ORDER BY created_at, id",
    )
    .bind(api)
    .bind(kind)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(p, d)| (p, d.0)).collect())
}

/// Inserts an item; a duplicate id is a ConflictException.
pub async fn insert_item(
    conn: &mut PgConnection,
    key: Key<'_>,
    id: &str,
    doc: &Value,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO v2_items (api_id, kind, parent_id, id, doc) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key.api)
    .bind(key.kind)
    .bind(key.parent)
    .bind(id)
    .bind(Json(doc))
    .execute(conn)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            ApiError::conflict(format!(
                "A {} with identifier '{id}' already exists",
                key.kind
            ))
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Writes back an item.
pub async fn save_item(
    conn: &mut PgConnection,
    key: Key<'_>,
    id: &str,
    doc: &Value,
) -> ApiResult<()> {
    sqlx::query(
        "UPDATE v2_items SET doc = $5 WHERE api_id = $1 AND kind = $2 AND parent_id = $3 AND id = $4",
    )
    .bind(key.api)
    .bind(key.kind)
    .bind(key.parent)
    .bind(id)
    .bind(Json(doc))
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes an item and the items whose parent it is.
pub async fn delete_item(conn: &mut PgConnection, key: Key<'_>, id: &str) -> ApiResult<()> {
    sqlx::query(
        "DELETE FROM v2_items WHERE api_id = $1
           AND ((kind = $2 AND parent_id = $3 AND id = $4) OR (kind = $5 AND parent_id = $4))",
    )
    .bind(key.api)
    .bind(key.kind)
    .bind(key.parent)
    .bind(id)
    .bind(child_kind(key.kind))
    .execute(conn)
    .await?;
    Ok(())
}

fn child_kind(kind: &str) -> &'static str {
    match kind {
        kind::ROUTE => kind::ROUTE_RESPONSE,
        kind::INTEGRATION => kind::INTEGRATION_RESPONSE,
        _ => "",
    }
}

/// Stores the frozen definition of a deployment.
pub async fn set_frozen(
    conn: &mut PgConnection,
    api: &str,
    deployment_id: &str,
    frozen: &Value,
) -> ApiResult<()> {
    sqlx::query(
        "UPDATE v2_items SET frozen = $3 WHERE api_id = $1 AND kind = 'deployment' AND parent_id = '' AND id = $2",
    )
    .bind(api)
    .bind(deployment_id)
    .bind(Json(frozen))
    .execute(conn)
    .await?;
    Ok(())
}

/// A deployment's frozen definition, `None` when there is no such deployment.
pub async fn frozen(
    conn: &mut PgConnection,
    api: &str,
    deployment_id: &str,
) -> ApiResult<Option<Value>> {
    let row: Option<(Option<Json<Value>>,)> = sqlx::query_as(
        "SELECT frozen FROM v2_items WHERE api_id = $1 AND kind = 'deployment' AND parent_id = '' AND id = $2",
    )
    .bind(api)
    .bind(deployment_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|r| r.0.map(|j| j.0)))
}

/// A deployed stage as the distribution loader reads it: its API's id, the stage's
/// document, the deployment's frozen definition and the stage's authorizer-cache reset
/// counter ([`reset_authorizer_cache`]).
pub struct DeployedStage {
    pub api_id: String,
    pub stage: Value,
    pub frozen: Value,
    pub authorizer_cache_epoch: i64,
}

/// Every stage that points at a deployment, with its API's id and that deployment's frozen
/// definition, for the distribution loader (`sqlx::Result`: it is not a management call).
pub async fn deployed_stages(conn: &mut PgConnection) -> sqlx::Result<Vec<DeployedStage>> {
    let rows: Vec<(String, Json<Value>, Json<Value>, i64)> = sqlx::query_as(
        "SELECT s.api_id, s.doc, d.frozen, s.authorizer_cache_epoch
         FROM v2_items s
         JOIN v2_items d ON d.api_id = s.api_id AND d.kind = 'deployment' AND d.parent_id = ''
                        AND d.id = s.doc->>'deploymentId'
         WHERE s.kind = 'stage' AND d.frozen IS NOT NULL
         ORDER BY s.api_id, s.id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(api_id, s, f, epoch)| DeployedStage {
            api_id,
            stage: s.0,
            frozen: f.0,
            authorizer_cache_epoch: epoch,
        })
        .collect())
}

/// ResetAuthorizersCache: bumps the stage's authorizer-cache reset counter; false when
/// the API has no such stage. The caller bumps the config version.
pub async fn reset_authorizer_cache(
    conn: &mut PgConnection,
    api_id: &str,
    stage: &str,
) -> ApiResult<bool> {
    let done = sqlx::query(
        "UPDATE v2_items SET authorizer_cache_epoch = authorizer_cache_epoch + 1
         WHERE api_id = $1 AND kind = 'stage' AND parent_id = '' AND id = $2",
    )
    .bind(api_id)
    .bind(stage)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Adds WebSocket usage to the record of (API, stage, day).
pub async fn add_usage(
    conn: &mut PgConnection,
    api: &str,
    stage: &str,
    day: &str,
    messages: i64,
    minutes: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ws_usage_records (api_id, stage, day, messages, connection_minutes)
         VALUES ($1, $2, $3::date, $4, $5)
         ON CONFLICT (api_id, stage, day) DO UPDATE SET
           messages = ws_usage_records.messages + EXCLUDED.messages,
           connection_minutes = ws_usage_records.connection_minutes + EXCLUDED.connection_minutes",
    )
    .bind(api)
    .bind(stage)
    .bind(day)
    .bind(messages)
    .bind(minutes)
    .execute(conn)
    .await?;
    Ok(())
}

/// The WebSocket usage records of an API in `[start, end]` (`YYYY-MM-DD`):
/// (day, stage, messages, connection minutes).
pub async fn usage_records(
    conn: &mut PgConnection,
    api: &str,
    start: &str,
    end: &str,
) -> sqlx::Result<Vec<(String, String, i64, i64)>> {
    sqlx::query_as(
        "SELECT day::text, stage, messages, connection_minutes FROM ws_usage_records
         WHERE api_id = $1 AND day BETWEEN $2::date AND $3::date",
    )
    .bind(api)
    .bind(start)
    .bind(end)
    .fetch_all(conn)
    .await
}
