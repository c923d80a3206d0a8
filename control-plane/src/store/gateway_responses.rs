//! The `gateway_responses` table: only customised gateway responses are stored, one
//! `GatewayResponse` document per (API, response type); every other type is its built-in
//! default ([`GatewayResponse::built_in`]).

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::ApiResult;
use crate::wire::GatewayResponse;

/// Every customised gateway response of an API.
pub async fn customised(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<GatewayResponse>> {
    let rows: Vec<(Json<GatewayResponse>,)> = sqlx::query_as(
        "SELECT doc FROM gateway_responses WHERE api_id = $1 ORDER BY response_type",
    )
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// The customisation of a type, locked, if there is one.
async fn load(
    conn: &mut PgConnection,
    api_id: &str,
    response_type: &str,
) -> ApiResult<Option<GatewayResponse>> {
    let row: Option<(Json<GatewayResponse>,)> = sqlx::query_as(
        "SELECT doc FROM gateway_responses WHERE api_id = $1 AND response_type = $2 FOR UPDATE",
    )
    .bind(api_id)
    .bind(response_type)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.0 .0))
}

/// The current form of a type: its customisation, else its default.
pub async fn current(
    conn: &mut PgConnection,
    api_id: &str,
    response_type: &str,
) -> ApiResult<GatewayResponse> {
    match load(conn, api_id, response_type).await? {
        Some(r) => Ok(r),
        None => GatewayResponse::built_in(response_type),
    }
}

/// Stores a customised response (insert or replace).
pub async fn save(conn: &mut PgConnection, api_id: &str, r: &GatewayResponse) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO gateway_responses (api_id, response_type, doc) VALUES ($1, $2, $3)
         ON CONFLICT (api_id, response_type) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(api_id)
    .bind(&r.response_type)
    .bind(Json(r))
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the customisation of a type; false when there was none.
pub async fn delete(conn: &mut PgConnection, api_id: &str, response_type: &str) -> ApiResult<bool> {
    let deleted =
        sqlx::query("DELETE FROM gateway_responses WHERE api_id = $1 AND response_type = $2")
            .bind(api_id)
            .bind(response_type)
            .execute(conn)
            .await?
            .rows_affected();
    Ok(deleted > 0)
}

/// Deletes every customisation of an API.
pub async fn delete_all(conn: &mut PgConnection, api_id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM gateway_responses WHERE api_id = $1")
        .bind(api_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Copies every customisation of `src` to `dst`.
pub async fn copy(conn: &mut PgConnection, src: &str, dst: &str) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO gateway_responses (api_id, response_type, doc)
         SELECT $2, response_type, doc FROM gateway_responses WHERE api_id = $1",
    )
    .bind(src)
    .bind(dst)
    .execute(conn)
    .await?;
    Ok(())
}
