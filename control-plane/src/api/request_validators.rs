//! CreateRequestValidator, GetRequestValidator(s), UpdateRequestValidator,
//! DeleteRequestValidator.
//!
//! A validator says which checks (required parameters, body against the model) the data
//! plane runs for the methods that name it in `requestValidatorId`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use sqlx::types::Json as SqlJson;
use sqlx::PgConnection;

use super::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::error::{ApiError, ApiResult};
use crate::ids::random_id;
use crate::patch::PatchRequest;
use crate::store;
use crate::wire::RequestValidator;
use crate::AppState;

/// Body of CreateRequestValidator.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequestValidator {
    name: Option<String>,
    #[serde(default)]
    validate_request_body: bool,
    #[serde(default)]
    validate_request_parameters: bool,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid Request Validator identifier specified: {id}"
    ))
}

/// Every validator of an API, oldest first.
pub async fn all(conn: &mut PgConnection, api_id: &str) -> ApiResult<Vec<RequestValidator>> {
    let rows: Vec<(SqlJson<RequestValidator>,)> = sqlx::query_as(
        "SELECT doc FROM request_validators WHERE api_id = $1 ORDER BY created_at, id",
    )
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

async fn load(
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
    let row: Option<(SqlJson<RequestValidator>,)> = sqlx::query_as(sql)
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

/// POST /restapis/{restapi_id}/requestvalidators
pub async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateRequestValidator>,
) -> ApiResult<(StatusCode, Json<RequestValidator>)> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    if let Some(name) = &req.name {
        if all(&mut tx, &api_id)
            .await?
            .iter()
            .any(|v| v.name.as_deref() == Some(name))
        {
            return Err(ApiError::conflict(format!(
                "Validator with name '{name}' already exists for this REST API"
            )));
        }
    }
    let v = RequestValidator {
        id: random_id(6),
        name: req.name,
        validate_request_body: req.validate_request_body,
        validate_request_parameters: req.validate_request_parameters,
    };
    sqlx::query("INSERT INTO request_validators (api_id, id, doc) VALUES ($1, $2, $3)")
        .bind(&api_id)
        .bind(&v.id)
        .bind(SqlJson(&v))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// GET /restapis/{restapi_id}/requestvalidators
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<RequestValidator>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(page.page(all(&mut conn, &api_id).await?)?))
}

/// GET /restapis/{restapi_id}/requestvalidators/{requestvalidator_id}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<RequestValidator>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(load(&mut conn, &api_id, &id, false).await?))
}

/// PATCH /restapis/{restapi_id}/requestvalidators/{requestvalidator_id}
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<RequestValidator>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut v = load(&mut tx, &api_id, &id, true).await?;
    for op in &req.patch_operations {
        match op.path()? {
            "/name" => op.apply_opt_string(&mut v.name)?,
            "/validateRequestBody" => op.apply_bool(&mut v.validate_request_body)?,
            "/validateRequestParameters" => op.apply_bool(&mut v.validate_request_parameters)?,
            _ => return Err(op.unsupported()),
        }
    }
    sqlx::query("UPDATE request_validators SET doc = $3 WHERE api_id = $1 AND id = $2")
        .bind(&api_id)
        .bind(&id)
        .bind(SqlJson(&v))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(v))
}

/// DELETE /restapis/{restapi_id}/requestvalidators/{requestvalidator_id}: refused while a
/// method uses it.
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    load(&mut tx, &api_id, &id, true).await?;
    for r in store::resources::all(&mut tx, &api_id).await? {
        if let Some(m) = r
            .methods
            .iter()
            .find(|(_, m)| m.request_validator_id.as_deref() == Some(id.as_str()))
        {
            return Err(ApiError::conflict(format!(
                "Cannot delete request validator '{id}', is referenced in method: {}/{}",
                r.path, m.0
            )));
        }
    }
    sqlx::query("DELETE FROM request_validators WHERE api_id = $1 AND id = $2")
        .bind(&api_id)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
