//! The `api_keys` table: the `ApiKey` document (never with its value), the value sealed
//! with the master key, and the value's SHA-256 lookup hash (unique).

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::keys::{lookup_hash, KeyVault};
use crate::wire::ApiKey;

/// AWS's message for an unknown key id.
pub fn key_not_found() -> ApiError {
    ApiError::not_found("Invalid API Key identifier specified")
}

/// Decrypts a stored value, as an internal error when the master key does not fit.
pub fn decrypt(vault: &KeyVault, stored: &[u8]) -> ApiResult<String> {
    vault
        .decrypt(stored)
        .map_err(|e| ApiError::Internal(format!("api key value: {e}")))
}

/// Loads a key document (without value) and its encrypted value.
pub async fn load(conn: &mut PgConnection, id: &str, lock: bool) -> ApiResult<(ApiKey, Vec<u8>)> {
    let sql = if lock {
        "SELECT doc, value_enc FROM api_keys WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT doc, value_enc FROM api_keys WHERE id = $1"
    };
    let row: Option<(Json<ApiKey>, Vec<u8>)> =
        sqlx::query_as(sql).bind(id).fetch_optional(conn).await?;
    row.map(|(d, v)| (d.0, v)).ok_or_else(key_not_found)
}

/// The id of the key whose value is `value`, locked, if there is one.
pub async fn find_by_value(conn: &mut PgConnection, value: &str) -> ApiResult<Option<String>> {
    let existing: Option<(String,)> =
        sqlx::query_as("SELECT id FROM api_keys WHERE value_hash = $1 FOR UPDATE")
            .bind(lookup_hash(value).as_slice())
            .fetch_optional(conn)
            .await?;
    Ok(existing.map(|r| r.0))
}

/// Inserts a key with its value (sealed, and hashed for lookups); a value that another
/// key already has is AWS's ConflictException.
pub async fn insert(
    conn: &mut PgConnection,
    vault: &KeyVault,
    key: &ApiKey,
    value: &str,
) -> ApiResult<()> {
    let mut doc = key.clone();
    doc.value = None;
    let done = sqlx::query(
        "INSERT INTO api_keys (id, value_hash, value_enc, doc) VALUES ($1, $2, $3, $4)",
    )
    .bind(&key.id)
    .bind(lookup_hash(value).as_slice())
    .bind(vault.encrypt(value))
    .bind(Json(&doc))
    .execute(&mut *conn)
    .await;
    match done {
        Err(e) if super::is_unique_violation(&e) => {
            Err(ApiError::conflict("API Key with this value already exists"))
        }
        other => other.map(|_| ()).map_err(Into::into),
    }
}

/// Writes back a key's document (its value is never stored in it).
pub async fn save_doc(conn: &mut PgConnection, key: &ApiKey) -> ApiResult<()> {
    let mut doc = key.clone();
    doc.value = None;
    sqlx::query("UPDATE api_keys SET doc = $2 WHERE id = $1")
        .bind(&key.id)
        .bind(Json(&doc))
        .execute(conn)
        .await?;
    Ok(())
}

/// Every key (document and sealed value), oldest first; `name` is a prefix of the key
/// name, `customer_id` an exact match.
pub async fn list(
    conn: &mut PgConnection,
    name: Option<&str>,
    customer_id: Option<&str>,
) -> ApiResult<Vec<(ApiKey, Vec<u8>)>> {
    let rows: Vec<(Json<ApiKey>, Vec<u8>)> = sqlx::query_as(
        "SELECT doc, value_enc FROM api_keys
         WHERE ($1::text IS NULL OR starts_with(doc->>'name', $1))
           AND ($2::text IS NULL OR doc->>'customerId' = $2)
         ORDER BY created_at, id",
    )
    .bind(name)
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(d, v)| (d.0, v)).collect())
}

/// The documents of the keys among `ids` that exist, by id.
pub async fn docs(
    conn: &mut PgConnection,
    ids: &[String],
) -> ApiResult<std::collections::BTreeMap<String, ApiKey>> {
    let rows: Vec<(String, Json<ApiKey>)> =
        sqlx::query_as("SELECT id, doc FROM api_keys WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(id, d)| (id, d.0)).collect())
}

/// Deletes a key (NotFound when there is none); its plan bindings go with it.
pub async fn delete(conn: &mut PgConnection, id: &str) -> ApiResult<()> {
    let done = sqlx::query("DELETE FROM api_keys WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(key_not_found());
    }
    Ok(())
}
