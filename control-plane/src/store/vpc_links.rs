//! The `vpc_links` table (one `VpcLink` document per link), and the integrations that
//! name a link in their `connectionId`.

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::VpcLink;

/// AWS's error for an unknown VPC link id.
pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid Vpc link identifier specified: {id}"))
}

/// How [`load`] locks the row for the rest of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// `FOR SHARE`: an integration naming the link (a delete waits for it to commit, then
    /// sees it).
    Share,
    /// `FOR UPDATE`: an update or a delete.
    Update,
}

/// Loads a link (NotFound when there is none).
pub async fn load(conn: &mut PgConnection, id: &str, lock: Lock) -> ApiResult<VpcLink> {
    let sql = match lock {
        Lock::None => "SELECT doc FROM vpc_links WHERE id = $1",
        Lock::Share => "SELECT doc FROM vpc_links WHERE id = $1 FOR SHARE",
        Lock::Update => "SELECT doc FROM vpc_links WHERE id = $1 FOR UPDATE",
    };
    let row: Option<(Json<VpcLink>,)> = sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    row.map(|r| r.0 .0).ok_or_else(|| not_found(id))
}

/// Every link, oldest first.
pub async fn list(conn: &mut PgConnection) -> ApiResult<Vec<VpcLink>> {
    let rows: Vec<(Json<VpcLink>,)> =
        sqlx::query_as("SELECT doc FROM vpc_links ORDER BY created_at, id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Inserts a new link.
pub async fn insert(conn: &mut PgConnection, link: &VpcLink) -> ApiResult<()> {
    sqlx::query("INSERT INTO vpc_links (id, doc) VALUES ($1, $2)")
        .bind(&link.id)
        .bind(Json(link))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes back a link.
pub async fn save(conn: &mut PgConnection, link: &VpcLink) -> ApiResult<()> {
    sqlx::query("UPDATE vpc_links SET doc = $2 WHERE id = $1")
        .bind(&link.id)
        .bind(Json(link))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a link.
pub async fn delete(conn: &mut PgConnection, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM vpc_links WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The methods whose current (undeployed) integration is a VPC_LINK one through `id`:
/// `(api id, HTTP method, resource id)`, in a stable order.
pub async fn integrations_using(
    conn: &mut PgConnection,
    id: &str,
) -> ApiResult<Vec<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT r.api_id, m.key, r.id
         FROM resources r, jsonb_each(r.methods) m
         WHERE m.value->'methodIntegration'->>'connectionType' = 'VPC_LINK'
           AND m.value->'methodIntegration'->>'connectionId' = $1
         ORDER BY r.api_id, r.path, m.key",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}
