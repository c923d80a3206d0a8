//! The `deployments` table: one immutable snapshot (protobuf bytes) per deployment, with
//! its `apiSummary`; only the description can change.

use sqlx::types::Json;
use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::wire::Deployment;

type DeploymentRow = (String, Option<String>, i64, Json<serde_json::Value>);

fn deployment_of(r: DeploymentRow) -> Deployment {
    Deployment {
        id: r.0,
        description: r.1,
        created_date: r.2,
        api_summary: Some(r.3 .0),
    }
}

fn deployment_not_found() -> ApiError {
    ApiError::not_found("Invalid Deployment identifier specified")
}

/// Stores a new deployment with its encoded snapshot.
pub async fn insert(
    conn: &mut PgConnection,
    api_id: &str,
    deployment: &Deployment,
    snapshot: &[u8],
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO deployments (api_id, id, description, created_date, snapshot, api_summary)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(api_id)
    .bind(&deployment.id)
    .bind(&deployment.description)
    .bind(deployment.created_date)
    .bind(snapshot)
    .bind(Json(&deployment.api_summary))
    .execute(conn)
    .await?;
    Ok(())
}

/// The deployments of an API, newest first.
pub async fn list(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<Deployment>> {
    let rows: Vec<DeploymentRow> = sqlx::query_as(
        "SELECT id, description, created_date, api_summary FROM deployments
         WHERE api_id = $1 ORDER BY seq DESC",
    )
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(deployment_of).collect())
}

/// Loads one deployment (without its snapshot), or AWS's NotFound.
pub async fn load(conn: &mut PgConnection, api_id: &str, id: &str) -> ApiResult<Deployment> {
    let row: Option<DeploymentRow> = sqlx::query_as(
        "SELECT id, description, created_date, api_summary FROM deployments
         WHERE api_id = $1 AND id = $2",
    )
    .bind(api_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(deployment_of).ok_or_else(deployment_not_found)
}

/// Fails with AWS's NotFound unless the API has deployment `id` (a stage may point at it).
pub async fn require(conn: &mut PgConnection, api_id: &str, id: &str) -> ApiResult<()> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id FROM deployments WHERE api_id = $1 AND id = $2")
            .bind(api_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    found.map(|_| ()).ok_or_else(|| {
        ApiError::not_found(format!("Invalid deployment identifier specified: {id}"))
    })
}

/// Writes a deployment's description (the one thing that may change).
pub async fn save_description(
    conn: &mut PgConnection,
    api_id: &str,
    deployment: &Deployment,
) -> ApiResult<()> {
    sqlx::query("UPDATE deployments SET description = $3 WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(&deployment.id)
        .bind(&deployment.description)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a deployment.
pub async fn delete(conn: &mut PgConnection, api_id: &str, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM deployments WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A deployment's `createdDate` and encoded snapshot (GetExport), or AWS's NotFound.
pub async fn snapshot(
    conn: &mut PgConnection,
    api_id: &str,
    id: &str,
) -> ApiResult<(i64, Vec<u8>)> {
    let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT created_date, snapshot FROM deployments WHERE api_id = $1 AND id = $2",
    )
    .bind(api_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.ok_or_else(deployment_not_found)
}

/// Everything besides resources that a deployment copies from the API's tables.
pub async fn api_items(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
) -> crate::error::ApiResult<crate::compiler::ApiItems> {
    Ok(crate::compiler::ApiItems {
        models: super::models::all(conn, api_id).await?,
        validators: super::api_docs::all(conn, api_id).await?,
        gateway_responses: super::gateway_responses::customised(conn, api_id).await?,
        authorizers: super::api_docs::all(conn, api_id).await?,
    })
}
