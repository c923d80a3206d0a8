//! Per-API documents keyed by id, each in its own table of the same shape
//! (`api_id, id, doc JSONB, created_at`): request validators, authorizers, documentation
//! parts and documentation versions (keyed by their version string; their snapshot of the
//! parts is a column of its own, [`super::documentation`]). One set of functions serves
//! them all; [`ApiDoc`] names a type's table and its not-found message.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::{Authorizer, DocumentationPart, DocumentationVersion, RequestValidator};

/// A document type stored one row per (API, id).
pub trait ApiDoc: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The table (a constant, never input).
    const TABLE: &'static str;
    /// The document's id.
    fn id(&self) -> &str;
    /// AWS's error for an unknown id.
    fn not_found(id: &str) -> ApiError;
}

impl ApiDoc for RequestValidator {
    const TABLE: &'static str = "request_validators";
    fn id(&self) -> &str {
        &self.id
    }
    fn not_found(id: &str) -> ApiError {
        ApiError::not_found(format!(
            "Invalid Request Validator identifier specified: {id}"
        ))
    }
}

impl ApiDoc for Authorizer {
    const TABLE: &'static str = "authorizers";
    fn id(&self) -> &str {
        &self.id
    }
    fn not_found(id: &str) -> ApiError {
        ApiError::not_found(format!("Invalid authorizer ID specified: {id}"))
    }
}

impl ApiDoc for DocumentationPart {
    const TABLE: &'static str = "documentation_parts";
    fn id(&self) -> &str {
        &self.id
    }
    fn not_found(id: &str) -> ApiError {
        ApiError::not_found(format!(
            "Invalid Documentation part identifier specified: {id}"
        ))
    }
}

impl ApiDoc for DocumentationVersion {
    const TABLE: &'static str = "documentation_versions";
    fn id(&self) -> &str {
        &self.version
    }
    fn not_found(id: &str) -> ApiError {
        ApiError::not_found(format!(
            "Invalid Documentation version identifier specified: {id}"
        ))
    }
}

/// Every document of an API, oldest first.
pub async fn all<T: ApiDoc>(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<T>> {
    let sql = format!(
        "SELECT doc FROM {} WHERE api_id = $1 ORDER BY created_at, id",
        T::TABLE
    );
    let rows: Vec<(Json<T>,)> = sqlx::query_as(&sql).bind(api_id).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// Loads a document; `lock` takes a row lock.
pub async fn load<T: ApiDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    id: &str,
    lock: bool,
) -> ApiResult<T> {
    let sql = format!(
        "SELECT doc FROM {} WHERE api_id = $1 AND id = $2{}",
        T::TABLE,
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<(Json<T>,)> = sqlx::query_as(&sql)
        .bind(api_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.0 .0).ok_or_else(|| T::not_found(id))
}

/// Inserts a new document.
pub async fn insert<T: ApiDoc>(conn: &mut PgConnection, api_id: &str, doc: &T) -> ApiResult<()> {
    let sql = format!(
        "INSERT INTO {} (api_id, id, doc) VALUES ($1, $2, $3)",
        T::TABLE
    );
    sqlx::query(&sql)
        .bind(api_id)
        .bind(doc.id())
        .bind(Json(doc))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes back a document.
pub async fn save<T: ApiDoc>(conn: &mut PgConnection, api_id: &str, doc: &T) -> ApiResult<()> {
    let sql = format!(
        "UPDATE {} SET doc = $3 WHERE api_id = $1 AND id = $2",
        T::TABLE
    );
    sqlx::query(&sql)
        .bind(api_id)
        .bind(doc.id())
        .bind(Json(doc))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a document.
pub async fn delete<T: ApiDoc>(conn: &mut PgConnection, api_id: &str, id: &str) -> ApiResult<()> {
    let sql = format!("DELETE FROM {} WHERE api_id = $1 AND id = $2", T::TABLE);
    sqlx::query(&sql)
        .bind(api_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes every document of an API.
pub async fn delete_all<T: ApiDoc>(conn: &mut PgConnection, api_id: &str) -> ApiResult<()> {
    let sql = format!("DELETE FROM {} WHERE api_id = $1", T::TABLE);
    sqlx::query(&sql).bind(api_id).execute(conn).await?;
    Ok(())
}

/// Copies every document of `src` to `dst`, with the same ids (so cloned methods keep
/// their references).
pub async fn copy<T: ApiDoc>(conn: &mut PgConnection, src: &str, dst: &str) -> ApiResult<()> {
    let sql = format!(
        "INSERT INTO {t} (api_id, id, doc, created_at)
         SELECT $2, id, doc, created_at FROM {t} WHERE api_id = $1",
        t = T::TABLE
    );
    sqlx::query(&sql).bind(src).bind(dst).execute(conn).await?;
    Ok(())
}
