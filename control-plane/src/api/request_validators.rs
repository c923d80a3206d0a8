//! CreateRequestValidator, GetRequestValidator(s), UpdateRequestValidator,
//! DeleteRequestValidator.
//!
//! A validator says which checks (required parameters, body against the model) the data
//! plane runs for the methods that name it in `requestValidatorId`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::random_id;
use crate::patch::PatchRequest;
use crate::store;
use crate::wire::RequestValidator;
use crate::AppState;

/// Body of CreateRequestValidator.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequestValidator {
    name: Option<String>,
    #[serde(default)]
    validate_request_body: bool,
    #[serde(default)]
    validate_request_parameters: bool,
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
        if store::api_docs::all::<RequestValidator>(&mut tx, &api_id)
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
    store::api_docs::insert(&mut tx, &api_id, &v).await?;
    crate::audit::commit(tx).await?;
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
    Ok(Json(page.page(
        store::api_docs::all::<RequestValidator>(&mut conn, &api_id).await?,
    )?))
}

/// GET /restapis/{restapi_id}/requestvalidators/{requestvalidator_id}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<RequestValidator>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(
        store::api_docs::load(&mut conn, &api_id, &id, false).await?,
    ))
}

/// PATCH /restapis/{restapi_id}/requestvalidators/{requestvalidator_id}
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<RequestValidator>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut v: RequestValidator = store::api_docs::load(&mut tx, &api_id, &id, true).await?;
    for op in &req.patch_operations {
        match op.path()? {
            "/name" => op.apply_opt_string(&mut v.name)?,
            "/validateRequestBody" => op.apply_bool(&mut v.validate_request_body)?,
            "/validateRequestParameters" => op.apply_bool(&mut v.validate_request_parameters)?,
            _ => return Err(op.unsupported()),
        }
    }
    store::api_docs::save(&mut tx, &api_id, &v).await?;
    crate::audit::commit(tx).await?;
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
    store::api_docs::load::<RequestValidator>(&mut tx, &api_id, &id, true).await?;
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
    store::api_docs::delete::<RequestValidator>(&mut tx, &api_id, &id).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}
