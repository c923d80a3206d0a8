//! Put/Get/Update/DeleteIntegration and Put/Get/Update/DeleteIntegrationResponse.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::rules;
use crate::constraints::{self, Violations};
use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::patch::{string_of, Op, PatchRequest};
use crate::store;
use crate::validate;
use crate::wire::{Integration, IntegrationResponse};
use crate::AppState;

/// Body of PutIntegration.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegration {
    #[serde(rename = "type")]
    integration_type: Option<String>,
    /// The backend method (`integrationHttpMethod` in the SDKs, `httpMethod` on the wire).
    http_method: Option<String>,
    uri: Option<String>,
    connection_type: Option<String>,
    connection_id: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, String>,
    #[serde(default)]
    request_templates: BTreeMap<String, String>,
    passthrough_behavior: Option<String>,
    cache_namespace: Option<String>,
    #[serde(default)]
    cache_key_parameters: Vec<String>,
    #[serde(default)]
    tls_config: Option<crate::wire::TlsConfig>,
    content_handling: Option<String>,
    timeout_in_millis: Option<i32>,
}

/// PUT .../methods/{http_method}/integration
pub async fn put(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
    AwsJson(req): AwsJson<PutIntegration>,
) -> ApiResult<(StatusCode, Json<Integration>)> {
    Violations::new()
        .enum_value(
            "type",
            req.integration_type.as_deref().filter(|t| !t.is_empty()),
            constraints::INTEGRATION_TYPE,
        )
        .enum_value(
            "connectionType",
            req.connection_type.as_deref(),
            constraints::CONNECTION_TYPE,
        )
        .enum_value(
            "contentHandling",
            req.content_handling.as_deref(),
            constraints::CONTENT_HANDLING_STRATEGY,
        )
        .finish()?;
    let integration_type = req
        .integration_type
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid integration type: type is required"))?;
    let (mut tx, mut row) = store::resources::begin_edit(&state.db, &api_id, &rid).await?;
    let i = {
        let row = &mut row;
        let path = row.path.clone();
        let resource_id = row.id.clone();
        let m = row.method_mut(&http_method)?;
        let integration = Integration {
            integration_type,
            http_method: req.http_method,
            uri: req.uri,
            connection_type: req.connection_type.unwrap_or_else(|| "INTERNET".into()),
            connection_id: req.connection_id.filter(|c| !c.is_empty()),
            request_parameters: req.request_parameters,
            request_templates: req.request_templates,
            passthrough_behavior: req.passthrough_behavior.map_or_else(
                || "WHEN_NO_MATCH".into(),
                |p| validate::passthrough_behavior(&p),
            ),
            content_handling: req.content_handling,
            timeout_in_millis: req.timeout_in_millis.unwrap_or(29_000),
            cache_namespace: req.cache_namespace.unwrap_or(resource_id),
            cache_key_parameters: req.cache_key_parameters,
            tls_config: req.tls_config,
            // A re-put keeps the integration responses already defined.
            integration_responses: m
                .method_integration
                .take()
                .map(|old| old.integration_responses)
                .unwrap_or_default(),
        };
        rules::method::integration(&integration, m, &path)?;
        m.method_integration = Some(integration.clone());
        integration
    };
    rules::method::vpc_link(&mut tx, &i).await?;
    store::resources::finish_edit(tx, &api_id, &row).await?;
    Ok((StatusCode::CREATED, Json(i)))
}

fn no_integration() -> ApiError {
    ApiError::not_found("Invalid Integration identifier specified")
}

/// GET .../methods/{http_method}/integration
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
) -> ApiResult<Json<Integration>> {
    let row = store::resources::read(&state.db, &api_id, &rid).await?;
    row.method(&http_method)?
        .method_integration
        .clone()
        .map(Json)
        .ok_or_else(no_integration)
}

/// PATCH .../methods/{http_method}/integration
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<Integration>> {
    let (mut tx, mut row) = store::resources::begin_edit(&state.db, &api_id, &rid).await?;
    let i = {
        let row = &mut row;
        let path = row.path.clone();
        let m = row.method_mut(&http_method)?;
        let mut i = m.method_integration.clone().ok_or_else(no_integration)?;
        for op in &req.patch_operations {
            let segs = op.segments()?;
            match segs
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                ["uri"] => op.apply_opt_string(&mut i.uri)?,
                ["httpMethod"] => op.apply_opt_string(&mut i.http_method)?,
                ["type"] => op.apply_string(&mut i.integration_type)?,
                ["connectionType"] => op.apply_string(&mut i.connection_type)?,
                ["connectionId"] => op.apply_opt_string(&mut i.connection_id)?,
                ["passthroughBehavior"] => {
                    op.apply_string(&mut i.passthrough_behavior)?;
                    i.passthrough_behavior =
                        validate::passthrough_behavior(&i.passthrough_behavior);
                }
                ["contentHandling"] => op.apply_opt_string(&mut i.content_handling)?,
                ["cacheNamespace"] => op.apply_string(&mut i.cache_namespace)?,
                ["timeoutInMillis"] => match op.op {
                    Op::Add | Op::Replace => i.timeout_in_millis = op.i32_value()?,
                    Op::Remove => i.timeout_in_millis = 29_000,
                    _ => return Err(op.unsupported()),
                },
                ["requestParameters", key] => {
                    op.apply_map_entry(&mut i.request_parameters, key, string_of)?
                }
                ["requestTemplates", ct] => {
                    op.apply_map_entry(&mut i.request_templates, ct, string_of)?
                }
                ["cacheKeyParameters", p] => {
                    op.apply_list_element(&mut i.cache_key_parameters, p)?
                }
                // Documented by AWS, but no such feature here yet: say so.
                ["credentials"] => {
                    return Err(ApiError::bad_request(
                        "Integration credentials (an IAM role to assume) are not supported by \
                         this gateway yet",
                    ))
                }
                ["tlsConfig", "insecureSkipVerification"] => {
                    let mut skip = i
                        .tls_config
                        .as_ref()
                        .is_some_and(|t| t.insecure_skip_verification);
                    op.apply_bool(&mut skip)?;
                    i.tls_config = Some(crate::wire::TlsConfig {
                        insecure_skip_verification: skip,
                    });
                }
                _ => return Err(op.unsupported()),
            }
        }
        i.connection_id = i.connection_id.filter(|c| !c.is_empty());
        rules::method::integration(&i, m, &path)?;
        m.method_integration = Some(i.clone());
        i
    };
    rules::method::vpc_link(&mut tx, &i).await?;
    store::resources::finish_edit(tx, &api_id, &row).await?;
    Ok(Json(i))
}

/// DELETE .../methods/{http_method}/integration
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, rid, http_method)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    store::resources::edit(&state.db, &api_id, &rid, |row| {
        let m = row.method_mut(&http_method)?;
        m.method_integration
            .take()
            .map(|_| ())
            .ok_or_else(no_integration)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of PutIntegrationResponse.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationResponse {
    selection_pattern: Option<String>,
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
    content_handling: Option<String>,
}

fn integration_response_not_found() -> ApiError {
    ApiError::not_found("Invalid Response status code specified")
}

/// PUT .../integration/responses/{status_code}
pub async fn put_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
    AwsJson(req): AwsJson<PutIntegrationResponse>,
) -> ApiResult<(StatusCode, Json<IntegrationResponse>)> {
    Violations::new()
        .enum_value(
            "contentHandling",
            req.content_handling.as_deref(),
            constraints::CONTENT_HANDLING_STRATEGY,
        )
        .finish()?;
    let resp = IntegrationResponse {
        status_code: status,
        selection_pattern: req.selection_pattern.filter(|p| !p.is_empty()),
        response_parameters: req.response_parameters,
        response_templates: req.response_templates,
        content_handling: req.content_handling,
    };
    let r = store::resources::edit(&state.db, &api_id, &rid, |row| {
        let m = row.method_mut(&http_method)?;
        rules::method::integration_response(&resp, m)?;
        let i = m
            .method_integration
            .as_mut()
            .ok_or_else(|| ApiError::not_found("No integration defined for method"))?;
        i.integration_responses
            .insert(resp.status_code.clone(), resp.clone());
        Ok(resp)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// GET .../integration/responses/{status_code}
pub async fn get_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
) -> ApiResult<Json<IntegrationResponse>> {
    let row = store::resources::read(&state.db, &api_id, &rid).await?;
    row.method(&http_method)?
        .method_integration
        .as_ref()
        .ok_or_else(no_integration)?
        .integration_responses
        .get(&status)
        .cloned()
        .map(Json)
        .ok_or_else(integration_response_not_found)
}

/// PATCH .../integration/responses/{status_code}
pub async fn update_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
    AwsJson(req): AwsJson<PatchRequest>,
) -> ApiResult<Json<IntegrationResponse>> {
    let r = store::resources::edit(&state.db, &api_id, &rid, |row| {
        let m = row.method_mut(&http_method)?;
        let mut r = m
            .method_integration
            .as_ref()
            .ok_or_else(no_integration)?
            .integration_responses
            .get(&status)
            .cloned()
            .ok_or_else(integration_response_not_found)?;
        for op in &req.patch_operations {
            let segs = op.segments()?;
            match segs
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                ["selectionPattern"] => op.apply_opt_string(&mut r.selection_pattern)?,
                ["contentHandling"] => op.apply_opt_string(&mut r.content_handling)?,
                ["responseParameters", key] => {
                    op.apply_map_entry(&mut r.response_parameters, key, string_of)?
                }
                ["responseTemplates", ct] => {
                    op.apply_map_entry(&mut r.response_templates, ct, string_of)?
                }
                _ => return Err(op.unsupported()),
            }
        }
        rules::method::integration_response(&r, m)?;
        if let Some(i) = m.method_integration.as_mut() {
            i.integration_responses.insert(status.clone(), r.clone());
        }
        Ok(r)
    })
    .await?;
    Ok(Json(r))
}

/// DELETE .../integration/responses/{status_code}
pub async fn delete_response(
    State(state): State<AppState>,
    Path((api_id, rid, http_method, status)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    store::resources::edit(&state.db, &api_id, &rid, |row| {
        let m = row.method_mut(&http_method)?;
        m.method_integration
            .as_mut()
            .ok_or_else(no_integration)?
            .integration_responses
            .remove(&status)
            .map(|_| ())
            .ok_or_else(integration_response_not_found)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
