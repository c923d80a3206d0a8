//! Put/Get/Update/DeleteMethod and Put/Get/Update/DeleteMethodResponse.
//!
//! A method lives inside its resource row; every change is a read-modify-write of that
//! row under a lock, done by [`store::resources::edit`], so the handlers are only the edit itself.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::rules;
use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::patch::{bool_of, string_of, PatchRequest};
use crate::store;
use crate::validate;
use crate::wire::{Method, MethodResponse};
use crate::AppState;

/// Body of PutMethod.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutMethod {
    authorization_type: Option<String>,
    authorizer_id: Option<String>,
    #[serde(default)]
    api_key_required: bool,
    operation_name: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    request_models: BTreeMap<String, String>,
    request_validator_id: Option<String>,
    #[serde(default)]
    authorization_scopes: Vec<String>,
}

/// Checks that a method's `requestValidatorId` and `requestModels` name entities of the
/// API (they live in their own tables, so this runs before the row edit).
///
/// Answers the API's authorizers (id → type) for [`rules::method::method`].
async fn check_references(
    state: &AppState,
    api_id: &str,
    validator_id: Option<&str>,
    model_names: impl Iterator<Item = &str>,
) -> ApiResult<BTreeMap<String, String>> {
    let mut conn = state.db.acquire().await?;
    if let Some(v) = validator_id.filter(|v| !v.is_empty()) {
        store::api_docs::load::<crate::wire::RequestValidator>(&mut conn, api_id, v, false).await?;
    }
    for name in model_names {
        if !store::models::exists(&mut conn, api_id, name).await? {
            return Err(ApiError::bad_request(format!(
                "Invalid model identifier specified: {name}"
            )));
        }
    }
    Ok(
        store::api_docs::all::<crate::wire::Authorizer>(&mut conn, api_id)
            .await?
            .into_iter()
            .map(|a| (a.id, a.authorizer_type))
            .collect(),
    )
}

/// PUT .../methods/{http_method}
pub async fn put(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
    AwsJson(req): AwsJson<PutMethod>,
) -> ApiResult<(StatusCode, Json<Method>)> {
    validate::http_method(&http_method)?;
    let authorization_type = req
        .authorization_type
        .filter(|a| !a.is_empty())
        .map(|a| validate::authorization_type(&a))
        .ok_or_else(|| {
            ApiError::bad_request("Invalid authorization type: authorizationType is required")
        })?;
    let authorizers = check_references(
        &state,
        &api_id,
        req.request_validator_id.as_deref(),
        req.request_models.values().map(String::as_str),
    )
    .await?;
    let method = Method {
        http_method: http_method.clone(),
        authorization_type,
        authorizer_id: req.authorizer_id,
        api_key_required: req.api_key_required,
        request_validator_id: req.request_validator_id,
        operation_name: req.operation_name,
        request_parameters: req.request_parameters,
        request_models: req.request_models,
        method_responses: BTreeMap::new(),
        method_integration: None,
        authorization_scopes: req.authorization_scopes,
    };
    let m = store::resources::edit(&state.db, &api_id, &rid, |row| {
        if row.methods.contains_key(&http_method) {
            return Err(ApiError::conflict(
                "Method already exists for this resource",
            ));
        }
        rules::method::method(&method, &row.path, &authorizers)?;
        row.methods.insert(http_method.clone(), method.clone());
        Ok(method)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// GET .../methods/{http_method}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
) -> ApiResult<Json<Method>> {
    let row = store::resources::read(&state.db, &api_id, &rid).await?;
    Ok(Json(row.method(&http_method)?.clone()))
}

/// The values that `add`/`replace` operations under `prefix` set.
fn patched_values<'a>(req: &'a PatchRequest, prefix: &'a str) -> impl Iterator<Item = &'a str> {
    req.patch_operations
        .iter()
        .filter(|op| op.op != crate::patch::Op::Remove)
        .filter(move |op| op.path.as_deref().is_some_and(|p| p.starts_with(prefix)))
        .filter_map(|op| op.value.as_deref())
}

/// PATCH .../methods/{http_method}
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Method>> {
    let authorizers = check_references(
        &state,
        &api_id,
        patched_values(&req, "/requestValidatorId").last(),
        patched_values(&req, "/requestModels/"),
    )
    .await?;
    let m = store::resources::edit(&state.db, &api_id, &rid, |row| {
        let path = row.path.clone();
        let m = row.method_mut(&http_method)?;
        for op in &req.patch_operations {
            let segs = op.segments()?;
            match segs
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                ["authorizationType"] => {
                    op.apply_string(&mut m.authorization_type)?;
                    m.authorization_type = validate::authorization_type(&m.authorization_type);
                }
                ["authorizerId"] => op.apply_opt_string(&mut m.authorizer_id)?,
                ["apiKeyRequired"] => op.apply_bool(&mut m.api_key_required)?,
                ["operationName"] => op.apply_opt_string(&mut m.operation_name)?,
                ["requestValidatorId"] => op.apply_opt_string(&mut m.request_validator_id)?,
                ["requestParameters", key] => {
                    op.apply_map_entry(&mut m.request_parameters, key, bool_of)?
                }
                ["requestModels", ct] => {
                    op.apply_map_entry(&mut m.request_models, ct, string_of)?
                }
                ["authorizationScopes", scope] => {
                    op.apply_list_element(&mut m.authorization_scopes, scope)?
                }
                _ => return Err(op.unsupported()),
            }
        }
        rules::method::method(m, &path, &authorizers)?;
        Ok(m.clone())
    })
    .await?;
    Ok(Json(m))
}

/// DELETE .../methods/{http_method}
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    store::resources::edit(&state.db, &api_id, &rid, |row| {
        row.methods
            .remove(&http_method)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found("Invalid Method identifier specified"))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of PutMethodResponse.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutMethodResponse {
    #[serde(default)]
    response_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    response_models: BTreeMap<String, String>,
}

fn response_not_found() -> ApiError {
    ApiError::not_found("Invalid Response status code specified")
}

/// PUT .../methods/{http_method}/responses/{status_code}
pub async fn put_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
    AwsJson(req): AwsJson<PutMethodResponse>,
) -> ApiResult<(StatusCode, Json<MethodResponse>)> {
    let resp = MethodResponse {
        status_code: status.clone(),
        response_parameters: req.response_parameters,
        response_models: req.response_models,
    };
    rules::method::method_response(&resp)?;
    let r = store::resources::edit(&state.db, &api_id, &rid, |row| {
        let m = row.method_mut(&http_method)?;
        if m.method_responses.contains_key(&status) {
            return Err(ApiError::conflict(
                "Response already exists for this resource",
            ));
        }
        m.method_responses.insert(status.clone(), resp.clone());
        Ok(resp)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// GET .../methods/{http_method}/responses/{status_code}
pub async fn get_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
) -> ApiResult<Json<MethodResponse>> {
    let row = store::resources::read(&state.db, &api_id, &rid).await?;
    let m = row.method(&http_method)?;
    m.method_responses
        .get(&status)
        .cloned()
        .map(Json)
        .ok_or_else(response_not_found)
}

/// PATCH .../methods/{http_method}/responses/{status_code}
pub async fn update_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<(StatusCode, Json<MethodResponse>)> {
    let r = store::resources::edit(&state.db, &api_id, &rid, |row| {
        let m = row.method_mut(&http_method)?;
        let r = m
            .method_responses
            .get_mut(&status)
            .ok_or_else(response_not_found)?;
        for op in &req.patch_operations {
            let segs = op.segments()?;
            match segs
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                ["responseParameters", key] => {
                    op.apply_map_entry(&mut r.response_parameters, key, bool_of)?
                }
                ["responseModels", ct] => {
                    op.apply_map_entry(&mut r.response_models, ct, string_of)?
                }
                _ => return Err(op.unsupported()),
            }
        }
        rules::method::method_response(r)?;
        Ok(r.clone())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// DELETE .../methods/{http_method}/responses/{status_code}
pub async fn delete_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    store::resources::edit(&state.db, &api_id, &rid, |row| {
        let m = row.method_mut(&http_method)?;
        m.method_responses
            .remove(&status)
            .map(|_| ())
            .ok_or_else(response_not_found)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_param_names() {
        let v: Vec<_> = rules::path_params("/pets/{id}/files/{proxy+}").collect();
        assert_eq!(v, vec!["id", "proxy"]);
    }
}
