//! The `client_certificates` table: the gateway's certificates towards backends, the
//! `ClientCertificate` document and the private key encrypted with the master key.

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::ClientCertificate;

/// AWS's error for an unknown client certificate id.
pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid client certificate identifier specified: {id}"
    ))
}

/// Loads a certificate's document (NotFound when there is none), `FOR UPDATE` when `lock`.
pub async fn load(conn: &mut PgConnection, id: &str, lock: bool) -> ApiResult<ClientCertificate> {
    let sql = if lock {
        "SELECT doc FROM client_certificates WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT doc FROM client_certificates WHERE id = $1"
    };
    let row: Option<(Json<ClientCertificate>,)> =
        sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    row.map(|r| r.0 .0).ok_or_else(|| not_found(id))
}

/// Whether a certificate exists, `FOR SHARE` (a stage naming it; a delete waits).
pub async fn exists(conn: &mut PgConnection, id: &str) -> ApiResult<bool> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM client_certificates WHERE id = $1 FOR SHARE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Every certificate, oldest first.
pub async fn list(conn: &mut PgConnection) -> ApiResult<Vec<ClientCertificate>> {
    let rows: Vec<(Json<ClientCertificate>,)> =
        sqlx::query_as("SELECT doc FROM client_certificates ORDER BY created_at, id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Every certificate with its encrypted key (for the config stream).
pub async fn all_with_keys(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(ClientCertificate, Vec<u8>)>> {
    let rows: Vec<(Json<ClientCertificate>, Vec<u8>)> =
        sqlx::query_as("SELECT doc, private_key_enc FROM client_certificates ORDER BY id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(d, k)| (d.0, k)).collect())
}

/// Inserts a certificate with its encrypted key.
pub async fn insert(
    conn: &mut PgConnection,
    c: &ClientCertificate,
    key_enc: &[u8],
) -> ApiResult<()> {
    sqlx::query("INSERT INTO client_certificates (id, doc, private_key_enc) VALUES ($1, $2, $3)")
        .bind(&c.client_certificate_id)
        .bind(Json(c))
        .bind(key_enc)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes back a certificate's document.
pub async fn save(conn: &mut PgConnection, c: &ClientCertificate) -> ApiResult<()> {
    sqlx::query("UPDATE client_certificates SET doc = $2 WHERE id = $1")
        .bind(&c.client_certificate_id)
        .bind(Json(c))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a certificate.
pub async fn delete(conn: &mut PgConnection, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM client_certificates WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The stages naming certificate `id`: `(api id, stage name)`.
pub async fn stages_using(conn: &mut PgConnection, id: &str) -> ApiResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT api_id, stage_name FROM stages WHERE doc->>'clientCertificateId' = $1 \
         ORDER BY api_id, stage_name",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}
