//! Put/Get/Update/DeleteIntegration and Put/Get/Update/DeleteIntegrationResponse.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::rules::path_params;
use crate::constraints::{self, Violations};
use crate::error::{ApiError, ApiResult};
use crate::extract::AwsJson;
use crate::patch::{string_of, Op, PatchRequest};
use crate::store;
use crate::validate;
use crate::wire::{Integration, IntegrationResponse, Method};
use crate::AppState;

/// Body of PutIntegration.
#[derive(Debug, Deserialize)]
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
    content_handling: Option<String>,
    timeout_in_millis: Option<i32>,
}

/// Checks an integration against its method and resource path.
fn validate_integration(i: &Integration, method: &Method, resource_path: &str) -> ApiResult<()> {
    let needs_method = |i: &Integration| {
        if i.http_method.as_deref().unwrap_or_default().is_empty() {
            Err(ApiError::bad_request(
                "Enumeration value for HttpMethod must be non-empty",
            ))
        } else {
            Ok(())
        }
    };
    let uri = i.uri.as_deref().unwrap_or_default();
    match i.integration_type.as_str() {
        "MOCK" => {}
        "HTTP" | "HTTP_PROXY" => {
            needs_method(i)?;
            validate::http_uri(uri)?;
        }
        "AWS" => {
            needs_method(i)?;
            validate::aws_uri(uri)?;
        }
        "AWS_PROXY" => {
            needs_method(i)?;
            validate::aws_proxy_uri(uri)?;
        }
        other => {
            return Err(ApiError::bad_request(format!(
            "Invalid integration type '{other}': must be MOCK, HTTP, HTTP_PROXY, AWS or AWS_PROXY"
        )))
        }
    }
    if let Some(m) = &i.http_method {
        if !m.is_empty() {
            validate::http_method(m)?;
        }
    }
    if !(50..=29_000).contains(&i.timeout_in_millis) {
        return Err(ApiError::bad_request(
            "Timeout should be between 50 ms and 29000 ms",
        ));
    }
    if !matches!(
        i.passthrough_behavior.as_str(),
        "WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES" | "NEVER"
    ) {
        return Err(ApiError::bad_request(format!(
            "Invalid passthrough behavior '{}': must be WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER",
            i.passthrough_behavior
        )));
    }
    match i.connection_type.as_str() {
        "INTERNET" => {
            if i.connection_id.is_some() {
                return Err(ApiError::bad_request(
                    "connectionId is only valid when connectionType is VPC_LINK",
                ));
            }
        }
        "VPC_LINK" => {
            if !matches!(i.integration_type.as_str(), "HTTP" | "HTTP_PROXY") {
                return Err(ApiError::bad_request(format!(
                    "Invalid connection type VPC_LINK for an integration of type {}: private \
                     integrations are HTTP or HTTP_PROXY",
                    i.integration_type
                )));
            }
            if i.connection_id.is_none() {
                return Err(ApiError::bad_request(
                    "connectionId is required when connectionType is VPC_LINK: the id of a VPC \
                     link (GetVpcLinks), or a stage variable naming one",
                ));
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid connection type '{other}': must be INTERNET or VPC_LINK"
            )))
        }
    }
    if let Some(ch) = &i.content_handling {
        validate::content_handling(ch)?;
    }
    let declared = |loc: &str, name: &str| {
        method
            .request_parameters
            .contains_key(&format!("method.request.{loc}.{name}"))
            || (loc == "path" && path_params(resource_path).any(|p| p == name))
    };
    for (target, source) in &i.request_parameters {
        validate::integration_request_target(target)?;
        validate::integration_request_source(source, declared)?;
    }
    for ct in i.request_templates.keys() {
        validate::content_type(ct)?;
    }
    check_templates(&i.request_templates)?;
    Ok(())
}

/// A `connectionId` that names its VPC link through a stage variable
/// (`${stageVariables.vpcLinkId}`): resolved per stage, so not checked when saved.
fn is_stage_variable(id: &str) -> bool {
    id.strip_prefix("${stageVariables.")
        .and_then(|rest| rest.strip_suffix('}'))
        .is_some_and(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// A VPC_LINK integration must name an existing VPC link; the link's row is share-locked
/// until the integration is saved, so a concurrent DeleteVpcLink waits and then sees it.
async fn check_vpc_link(conn: &mut sqlx::PgConnection, i: &Integration) -> ApiResult<()> {
    let Some(id) = i.connection_id.as_deref() else {
        return Ok(());
    };
    if i.connection_type != "VPC_LINK" || is_stage_variable(id) {
        return Ok(());
    }
    match store::vpc_links::load(conn, id, store::vpc_links::Lock::Share).await {
        Err(ApiError::NotFound(_)) => Err(ApiError::bad_request(format!(
            "Invalid connectionId '{id}': there is no VPC link with this id"
        ))),
        other => other.map(|_| ()),
    }
}

/// Parses mapping templates so a broken one is refused when saved, naming where it breaks
/// (the data plane would otherwise refuse the whole deployment).
fn check_templates(templates: &BTreeMap<String, String>) -> ApiResult<()> {
    for (content_type, text) in templates {
        if let Err(e) = apigw_gateway::compile::check::template(text) {
            return Err(ApiError::bad_request(format!(
                "Invalid mapping template specified for content type '{content_type}': \
                 line {}, column {}: {}",
                e.line, e.column, e.message
            )));
        }
    }
    Ok(())
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
            // A re-put keeps the integration responses already defined.
            integration_responses: m
                .method_integration
                .take()
                .map(|old| old.integration_responses)
                .unwrap_or_default(),
        };
        validate_integration(&integration, m, &path)?;
        m.method_integration = Some(integration.clone());
        integration
    };
    check_vpc_link(&mut tx, &i).await?;
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
                ["tlsConfig", ..] => {
                    return Err(ApiError::bad_request(
                        "tlsConfig is not supported by this gateway yet",
                    ))
                }
                _ => return Err(op.unsupported()),
            }
        }
        i.connection_id = i.connection_id.filter(|c| !c.is_empty());
        validate_integration(&i, m, &path)?;
        m.method_integration = Some(i.clone());
        i
    };
    check_vpc_link(&mut tx, &i).await?;
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
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationResponse {
    selection_pattern: Option<String>,
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
    content_handling: Option<String>,
}

/// Checks an integration response against the method's declared method responses.
fn validate_integration_response(r: &IntegrationResponse, method: &Method) -> ApiResult<()> {
    validate::status_code(&r.status_code)?;
    let method_response = method
        .method_responses
        .get(&r.status_code)
        .ok_or_else(|| ApiError::not_found("Invalid Response status code specified"))?;
    if let Some(p) = &r.selection_pattern {
        apigw_gateway::compile::check::selection_pattern(p)
            .map_err(|e| ApiError::bad_request(format!("Invalid selection pattern '{p}': {e}")))?;
    }
    for (target, source) in &r.response_parameters {
        validate::method_response_parameter(target)?;
        if !method_response.response_parameters.contains_key(target) {
            return Err(ApiError::bad_request(format!(
                "Invalid mapping expression specified: Validation Result: warnings : [], \
                 errors : [Invalid mapping expression specified: {target}] (declare it in the \
                 method response {} first)",
                r.status_code
            )));
        }
        validate::integration_response_source(source)?;
    }
    for ct in r.response_templates.keys() {
        validate::content_type(ct)?;
    }
    check_templates(&r.response_templates)?;
    if let Some(ch) = &r.content_handling {
        validate::content_handling(ch)?;
    }
    Ok(())
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
        validate_integration_response(&resp, m)?;
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
        validate_integration_response(&r, m)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn http_integration(uri: &str) -> Integration {
        Integration {
            integration_type: "HTTP_PROXY".into(),
            http_method: Some("GET".into()),
            uri: Some(uri.into()),
            connection_type: "INTERNET".into(),
            passthrough_behavior: "WHEN_NO_MATCH".into(),
            timeout_in_millis: 29_000,
            ..Default::default()
        }
    }

    #[test]
    fn integration_validation() {
        let m = Method::default();
        assert!(validate_integration(&http_integration("http://h/{id}"), &m, "/p/{id}").is_ok());
        assert!(validate_integration(&http_integration("h/x"), &m, "/").is_err());
        let mut i = http_integration("http://h");
        i.timeout_in_millis = 49;
        assert!(validate_integration(&i, &m, "/").is_err());
        i.timeout_in_millis = 29_001;
        assert!(validate_integration(&i, &m, "/").is_err());
        let mut i = http_integration("http://h");
        i.http_method = None;
        assert!(validate_integration(&i, &m, "/").is_err());
        let mut i = http_integration("http://h");
        i.request_parameters.insert(
            "integration.request.path.id".into(),
            "method.request.path.id".into(),
        );
        assert!(validate_integration(&i, &m, "/p/{id}").is_ok());
        assert!(validate_integration(&i, &m, "/p").is_err());
    }

    #[test]
    fn integration_response_validation() {
        let mut m = Method::default();
        let mut r = IntegrationResponse {
            status_code: "200".into(),
            ..Default::default()
        };
        assert!(
            validate_integration_response(&r, &m).is_err(),
            "no method response"
        );
        m.method_responses.insert("200".into(), Default::default());
        assert!(validate_integration_response(&r, &m).is_ok());
        r.selection_pattern = Some("(".into());
        assert!(validate_integration_response(&r, &m).is_err());
        // Java patterns with lookaround are accepted, as API Gateway accepts them.
        r.selection_pattern = Some(r"(?!2)\d{3}".into());
        assert!(validate_integration_response(&r, &m).is_ok());
    }

    #[test]
    fn templates_are_parsed_when_saved() {
        let m = Method::default();
        let mut i = http_integration("http://h");
        i.request_templates.insert(
            "application/json".into(),
            r#"{"age" : $input.json('$.personData.age')}"#.into(),
        );
        assert!(validate_integration(&i, &m, "/").is_ok());
        i.request_templates
            .insert("text/plain".into(), "ok\n#foreach($x in [1..2]".into());
        let err = validate_integration(&i, &m, "/").unwrap_err().to_string();
        assert!(
            err.contains("'text/plain'") && err.contains("line 2, column"),
            "{err}"
        );

        let mut m = Method::default();
        m.method_responses.insert("200".into(), Default::default());
        let mut r = IntegrationResponse {
            status_code: "200".into(),
            ..Default::default()
        };
        r.response_templates.insert(
            "application/json".into(),
            r#"{"your-age": $input.json('$')}"#.into(),
        );
        assert!(validate_integration_response(&r, &m).is_ok());
        r.response_templates
            .insert("application/json".into(), "#if($a)".into());
        let err = validate_integration_response(&r, &m)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1, column"), "{err}");
    }
}
