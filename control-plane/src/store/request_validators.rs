//! The `request_validators` table: one `RequestValidator` document per (API, id).

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::RequestValidator;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid Request Validator identifier specified: {id}"
    ))
}

/// Every validator of an API, oldest first.
pub async fn all(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<RequestValidator>> {
    let rows: Vec<(Json<RequestValidator>,)> = sqlx::query_as(
        "SELECT doc FROM request_validators WHERE api_id = $1 ORDER BY created_at, id",
    )
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Loads a validator; `lock` takes a row lock.
pub async fn load(
    conn: &mut PgConnection,
    api_id: &str,
    id: &str,
    lock: bool,
) -> ApiResult<RequestValidator> {
    let sql = if lock {
        "SELECT doc FROM request_validators WHERE api_id = $1 AND id = $2 FOR UPDATE"
    } else {
        "SELECT doc FROM request_validators WHERE api_id = $1 AND id = $2"
    };
    let row: Option<(Json<RequestValidator>,)> = sqlx::query_as(sql)
        .bind(api_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.0 .0).ok_or_else(|| not_found(id))
}

/// Checks that `id` names a validator of the API (PutMethod / UpdateMethod).
pub async fn ensure_exists(conn: &mut PgConnection, api_id: &str, id: &str) -> ApiResult<()> {
    load(conn, api_id, id, false).await.map(|_| ())
}

/// Inserts a new validator.
pub async fn insert(conn: &mut PgConnection, api_id: &str, v: &RequestValidator) -> ApiResult<()> {
    sqlx::query("INSERT INTO request_validators (api_id, id, doc) VALUES ($1, $2, $3)")
        .bind(api_id)
        .bind(&v.id)
        .bind(Json(v))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes back a validator.
pub async fn save(conn: &mut PgConnection, api_id: &str, v: &RequestValidator) -> ApiResult<()> {
    sqlx::query("UPDATE request_validators SET doc = $3 WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(&v.id)
        .bind(Json(v))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a validator.
pub async fn delete(conn: &mut PgConnection, api_id: &str, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM request_validators WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Copies every validator of `src` to `dst`, with the same ids.
pub async fn copy(conn: &mut PgConnection, src: &str, dst: &str) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO request_validators (api_id, id, doc, created_at)
         SELECT $2, id, doc, created_at FROM request_validators WHERE api_id = $1",
    )
    .bind(src)
    .bind(dst)
    .execute(conn)
    .await?;
    Ok(())
}
