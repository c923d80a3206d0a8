//! What documentation needs beyond [`super::api_docs`]: a documentation version's copy of
//! the parts (the `parts` column of `documentation_versions`), and removing every part of
//! an API at once (ImportDocumentationParts' `overwrite`).

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::ApiResult;
use crate::wire::{DocumentationPart, DocumentationVersion};

/// Inserts a documentation version with its copy of the parts.
pub async fn insert_version(
    conn: &mut PgConnection,
    api_id: &str,
    version: &DocumentationVersion,
    parts: &[DocumentationPart],
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO documentation_versions (api_id, id, doc, parts) VALUES ($1, $2, $3, $4)",
    )
    .bind(api_id)
    .bind(&version.version)
    .bind(Json(version))
    .bind(Json(parts))
    .execute(conn)
    .await?;
    Ok(())
}

/// The parts as they were when `version` was created, or `None` when there is no such
/// version.
pub async fn version_parts(
    conn: &mut PgConnection,
    api_id: &str,
    version: &str,
) -> ApiResult<Option<Vec<DocumentationPart>>> {
    let row: Option<(Json<Vec<DocumentationPart>>,)> =
        sqlx::query_as("SELECT parts FROM documentation_versions WHERE api_id = $1 AND id = $2")
            .bind(api_id)
            .bind(version)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|r| r.0 .0))
}

/// Whether the API has documentation version `version`.
pub async fn version_exists(
    conn: &mut PgConnection,
    api_id: &str,
    version: &str,
) -> ApiResult<bool> {
    let row: Option<(i32,)> =
        sqlx::query_as("SELECT 1 FROM documentation_versions WHERE api_id = $1 AND id = $2")
            .bind(api_id)
            .bind(version)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Deletes every documentation part of an API (its versions keep their copies).
pub async fn delete_all_parts(conn: &mut PgConnection, api_id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM documentation_parts WHERE api_id = $1")
        .bind(api_id)
        .execute(conn)
        .await?;
    Ok(())
}
