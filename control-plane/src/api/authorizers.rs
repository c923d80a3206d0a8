//! CreateAuthorizer, GetAuthorizer(s), UpdateAuthorizer, DeleteAuthorizer.
//!
//! An authorizer is checked when saved by [`rules::authorizer::check`] (the engine's own
//! compiler), so what is accepted here is what a node runs. Deleting one is refused while a
//! method uses it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::rules;
use crate::constraints::{Violations, AUTHORIZER_TYPE};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::ids::random_id;
use crate::patch::PatchRequest;
use crate::store;
use crate::wire::Authorizer;
use crate::AppState;

/// Body of CreateAuthorizer.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthorizer {
    name: Option<String>,
    #[serde(rename = "type")]
    authorizer_type: Option<String>,
    authorizer_uri: Option<String>,
    authorizer_credentials: Option<String>,
    identity_source: Option<String>,
    identity_validation_expression: Option<String>,
    authorizer_result_ttl_in_seconds: Option<i32>,
    #[serde(default, rename = "providerARNs")]
    provider_arns: Vec<String>,
    auth_type: Option<String>,
}

async fn ensure_unique_name(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
    a: &Authorizer,
) -> ApiResult<()> {
    let taken = store::api_docs::all::<Authorizer>(conn, api_id)
        .await?
        .iter()
        .any(|other| other.id != a.id && other.name == a.name);
    if taken {
        return Err(ApiError::conflict(format!(
            "Authorizer with name '{}' already exists for this REST API",
            a.name
        )));
    }
    Ok(())
}

/// POST /restapis/{restapi_id}/authorizers
pub async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateAuthorizer>,
) -> ApiResult<(StatusCode, Json<Authorizer>)> {
    Violations::new()
        .enum_value("type", req.authorizer_type.as_deref(), AUTHORIZER_TYPE)
        .finish()?;
    let name = req
        .name
        .ok_or_else(|| ApiError::bad_request("Authorizer name is required"))?;
    let authorizer_type = req
        .authorizer_type
        .ok_or_else(|| ApiError::bad_request("Authorizer type is required"))?;
    let a = Authorizer {
        id: random_id(6),
        name,
        authorizer_type,
        authorizer_uri: req.authorizer_uri,
        authorizer_credentials: req.authorizer_credentials,
        identity_source: req.identity_source,
        identity_validation_expression: req.identity_validation_expression,
        authorizer_result_ttl_in_seconds: Some(
            req.authorizer_result_ttl_in_seconds
                .unwrap_or(rules::authorizer::DEFAULT_TTL_SECONDS),
        ),
        provider_arns: req.provider_arns,
        auth_type: req.auth_type,
    };
    rules::authorizer::check(&a)?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    ensure_unique_name(&mut tx, &api_id, &a).await?;
    store::api_docs::insert(&mut tx, &api_id, &a).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// GET /restapis/{restapi_id}/authorizers
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<Authorizer>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(page.page(
        store::api_docs::all::<Authorizer>(&mut conn, &api_id).await?,
    )?))
}

/// GET /restapis/{restapi_id}/authorizers/{authorizer_id}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Authorizer>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(
        store::api_docs::load(&mut conn, &api_id, &id, false).await?,
    ))
}

/// PATCH /restapis/{restapi_id}/authorizers/{authorizer_id}
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Authorizer>> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut a: Authorizer = store::api_docs::load(&mut tx, &api_id, &id, true).await?;
    let was = a.authorizer_type.clone();
    for op in &req.patch_operations {
        let segs = op.segments()?;
        match segs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["name"] => op.apply_string(&mut a.name)?,
            ["type"] => {
                op.apply_string(&mut a.authorizer_type)?;
                Violations::new()
                    .enum_value("type", Some(&a.authorizer_type), AUTHORIZER_TYPE)
                    .finish()?;
            }
            ["authorizerUri"] => op.apply_opt_string(&mut a.authorizer_uri)?,
            ["authorizerCredentials"] => op.apply_opt_string(&mut a.authorizer_credentials)?,
            ["identitySource"] => op.apply_opt_string(&mut a.identity_source)?,
            ["identityValidationExpression"] => {
                op.apply_opt_string(&mut a.identity_validation_expression)?
            }
            ["authorizerResultTtlInSeconds"] => {
                a.authorizer_result_ttl_in_seconds = match op.op {
                    crate::patch::Op::Remove => Some(rules::authorizer::DEFAULT_TTL_SECONDS),
                    _ => Some(op.i32_value()?),
                }
            }
            ["authType"] => op.apply_opt_string(&mut a.auth_type)?,
            ["providerARNs", arn] => op.apply_list_element(&mut a.provider_arns, arn)?,
            _ => return Err(op.unsupported()),
        }
    }
    rules::authorizer::check(&a)?;
    if a.authorizer_type != was {
        if let Some(used) = user_of(&mut tx, &api_id, &id).await? {
            return Err(ApiError::bad_request(format!(
                "Cannot change the type of authorizer '{id}' while it is used by method {used}"
            )));
        }
    }
    ensure_unique_name(&mut tx, &api_id, &a).await?;
    store::api_docs::save(&mut tx, &api_id, &a).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(a))
}

/// The first method (`GET /pets`) that uses authorizer `id`, if any.
async fn user_of(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
    id: &str,
) -> ApiResult<Option<String>> {
    Ok(store::resources::all(conn, api_id)
        .await?
        .iter()
        .find_map(|r| {
            r.methods
                .iter()
                .find(|(_, m)| {
                    m.authorizer_id.as_deref() == Some(id)
                        && matches!(
                            m.authorization_type.as_str(),
                            "CUSTOM" | "COGNITO_USER_POOLS"
                        )
                })
                .map(|(name, _)| format!("{name} {}", r.path))
        }))
}

/// DELETE /restapis/{restapi_id}/authorizers/{authorizer_id}: refused while a method
/// uses it.
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::api_docs::load::<Authorizer>(&mut tx, &api_id, &id, true).await?;
    if let Some(used) = user_of(&mut tx, &api_id, &id).await? {
        return Err(ApiError::conflict(format!(
            "Cannot delete authorizer '{id}', is referenced in method: {used}"
        )));
    }
    store::api_docs::delete::<Authorizer>(&mut tx, &api_id, &id).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}
