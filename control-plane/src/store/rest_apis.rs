//! The `rest_apis` table: one JSONB document per REST API.

use sqlx::types::Json;
use sqlx::PgConnection;

use super::account_id;
use crate::error::{ApiError, ApiResult};
use crate::wire::RestApi;

fn api_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid API identifier specified {}:{id}",
        account_id()
    ))
}

/// Loads a REST API; `lock` takes a row lock for the rest of the transaction.
pub async fn load(conn: &mut PgConnection, id: &str, lock: bool) -> ApiResult<RestApi> {
    let sql = if lock {
        "SELECT doc FROM rest_apis WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT doc FROM rest_apis WHERE id = $1"
    };
    let row: Option<(Json<RestApi>,)> = sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    row.map(|r| r.0 .0).ok_or_else(|| api_not_found(id))
}

/// Inserts or replaces a REST API document.
pub async fn save(conn: &mut PgConnection, api: &RestApi) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO rest_apis (id, doc) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(&api.id)
    .bind(Json(api))
    .execute(conn)
    .await?;
    Ok(())
}

/// All REST APIs, oldest first.
pub async fn list(conn: &mut PgConnection) -> ApiResult<Vec<RestApi>> {
    let rows: Vec<(Json<RestApi>,)> =
        sqlx::query_as("SELECT doc FROM rest_apis ORDER BY created_at, id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Deletes a REST API with its stages (everything else of it goes by cascade).
pub async fn delete(conn: &mut PgConnection, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM stages WHERE api_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM rest_apis WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
