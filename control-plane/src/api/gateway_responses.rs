//! PutGatewayResponse, GetGatewayResponse(s), UpdateGatewayResponse,
//! DeleteGatewayResponse (SPEC 5.8).
//!
//! Only customised types are stored; every other type is reported with its default
//! (`defaultResponse: true`), as AWS lists all of them. Templates are parsed when saved,
//! so a deployment never carries one that fails at request time.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::rules;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery, Page, PageQuery};
use crate::patch::{string_of, PatchRequest};
use crate::store;
use crate::wire::{GatewayResponse, GATEWAY_RESPONSE_TYPES as TYPES};
use crate::AppState;

/// Body of PutGatewayResponse.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutGatewayResponse {
    status_code: Option<String>,
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
}

/// The default status of a type, or BadRequest for an unknown one.
fn default_status(response_type: &str) -> ApiResult<Option<&'static str>> {
    GatewayResponse::default_status(response_type)
}

/// The built-in form of a type.
fn default_of(response_type: &str) -> ApiResult<GatewayResponse> {
    GatewayResponse::built_in(response_type)
}

/// PUT /restapis/{restapi_id}/gatewayresponses/{response_type}
pub async fn put(
    State(state): State<AppState>,
    Path((api_id, response_type)): Path<(String, String)>,
    AwsJson(req): AwsJson<PutGatewayResponse>,
) -> ApiResult<(StatusCode, Json<GatewayResponse>)> {
    default_status(&response_type)?;
    let r = GatewayResponse {
        response_type,
        status_code: req.status_code.filter(|s| !s.is_empty()),
        response_parameters: req.response_parameters,
        response_templates: req.response_templates,
        default_response: false,
    };
    rules::gateway_response::response(&r)?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    store::gateway_responses::save(&mut tx, &api_id, &r).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// GET /restapis/{restapi_id}/gatewayresponses/{response_type}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, response_type)): Path<(String, String)>,
) -> ApiResult<Json<GatewayResponse>> {
    default_status(&response_type)?;
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    Ok(Json(
        store::gateway_responses::current(&mut conn, &api_id, &response_type).await?,
    ))
}

/// GET /restapis/{restapi_id}/gatewayresponses: every type, customised or default.
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(page): AwsQuery<PageQuery>,
) -> ApiResult<Json<Page<GatewayResponse>>> {
    let mut conn = state.db.acquire().await?;
    store::rest_apis::load(&mut conn, &api_id, false).await?;
    let custom = store::gateway_responses::customised(&mut conn, &api_id).await?;
    let all = TYPES
        .iter()
        .map(
            |(t, _)| match custom.iter().find(|c| c.response_type == *t) {
                Some(c) => Ok(c.clone()),
                None => default_of(t),
            },
        )
        .collect::<ApiResult<Vec<_>>>()?;
    let mut page_query = page;
    if page_query.limit.is_none() {
        // AWS returns the whole collection when no limit is given.
        page_query.limit = Some(TYPES.len().to_string());
    }
    Ok(Json(page_query.page(all)?))
}

/// PATCH /restapis/{restapi_id}/gatewayresponses/{response_type}: `/statusCode`,
/// `/responseParameters/{key}`, `/responseTemplates/{contentType}`. Patching a default
/// response customises it.
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, response_type)): Path<(String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<GatewayResponse>> {
    default_status(&response_type)?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let mut r = store::gateway_responses::current(&mut tx, &api_id, &response_type).await?;
    r.default_response = false;
    for op in &req.patch_operations {
        let segs = op.segments()?;
        match segs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["statusCode"] => op.apply_opt_string(&mut r.status_code)?,
            ["responseParameters", key] => {
                op.apply_map_entry(&mut r.response_parameters, key, string_of)?
            }
            ["responseTemplates", ct] => {
                op.apply_map_entry(&mut r.response_templates, ct, string_of)?
            }
            _ => return Err(op.unsupported()),
        }
    }
    rules::gateway_response::response(&r)?;
    store::gateway_responses::save(&mut tx, &api_id, &r).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(r))
}

/// DELETE /restapis/{restapi_id}/gatewayresponses/{response_type}: back to the default.
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, response_type)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    default_status(&response_type)?;
    let mut tx = state.db.begin().await?;
    store::rest_apis::load(&mut tx, &api_id, true).await?;
    let deleted = store::gateway_responses::delete(&mut tx, &api_id, &response_type).await?;
    if !deleted {
        return Err(ApiError::not_found(format!(
            "Gateway response type not customised for this REST API: {response_type}"
        )));
    }
    crate::audit::commit(tx).await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::DEFAULT_GATEWAY_RESPONSE_TEMPLATE as DEFAULT_TEMPLATE;

    #[test]
    fn every_spec_type_is_known_with_its_default_status() {
        assert_eq!(TYPES.len(), 21);
        assert_eq!(default_status("THROTTLED").unwrap(), Some("429"));
        assert_eq!(default_status("DEFAULT_4XX").unwrap(), None);
        assert!(default_status("NOPE").is_err());
        let d = default_of("BAD_REQUEST_BODY").unwrap();
        assert!(d.default_response);
        assert_eq!(d.response_templates["application/json"], DEFAULT_TEMPLATE);
    }
}
