//! The deployment compiler: a REST API definition in, an immutable snapshot out.
//!
//! This is where "changes take effect only when deployed" is made true: the snapshot
//! holds copies of everything the data plane needs, so later edits never reach it.
//! Checks that only make sense for a whole API (every method has an integration) live
//! here, because AWS reports them at deployment time.

use apigw_proto::config as pb;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::store::resources::ResourceRow;
use crate::wire::{Authorizer, GatewayResponse, Method, Model, RequestValidator, RestApi};

/// Compiles `api` with its `resources` into a snapshot and the deployment's `apiSummary`.
pub fn compile(
    api: &RestApi,
    resources: &[ResourceRow],
    deployment_id: &str,
    created_date: i64,
) -> ApiResult<(pb::DeploymentSnapshot, serde_json::Value)> {
    if resources.iter().all(|r| r.methods.is_empty()) {
        return Err(ApiError::bad_request(
            "The REST API doesn't contain any methods",
        ));
    }
    let mut summary = serde_json::Map::new();
    let mut out = Vec::with_capacity(resources.len());
    for r in resources {
        let mut methods = Vec::with_capacity(r.methods.len());
        let mut method_summary = serde_json::Map::new();
        for (name, m) in &r.methods {
            methods.push(compile_method(m).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "No integration defined for method {name} {}",
                    r.path
                ))
            })?);
            method_summary.insert(
                name.clone(),
                json!({
                    "authorizationType": m.authorization_type,
                    "apiKeyRequired": m.api_key_required,
                }),
            );
        }
        if !method_summary.is_empty() {
            summary.insert(r.path.clone(), serde_json::Value::Object(method_summary));
        }
        out.push(pb::Resource {
            id: r.id.clone(),
            parent_id: r.parent_id.clone().unwrap_or_default(),
            path_part: r.path_part.clone().unwrap_or_default(),
            path: r.path.clone(),
            methods,
        });
    }
    let snapshot = pb::DeploymentSnapshot {
        api_id: api.id.clone(),
        deployment_id: deployment_id.to_string(),
        api_name: api.name.clone(),
        created_date,
        api_key_source: api.api_key_source.clone(),
        binary_media_types: api.binary_media_types.clone(),
        resources: out,
        format_version: apigw_proto::SNAPSHOT_FORMAT_VERSION,
        minimum_compression_size: api.minimum_compression_size.unwrap_or(-1),
        disable_execute_api_endpoint: api.disable_execute_api_endpoint,
        policy: api.policy.clone().unwrap_or_default(),
        ..Default::default()
    };
    Ok((snapshot, serde_json::Value::Object(summary)))
}

/// What an API keeps in its own tables besides resources, copied into every snapshot.
#[derive(Debug, Default)]
pub struct ApiItems {
    /// Models (JSON Schemas).
    pub models: Vec<Model>,
    /// Request validators.
    pub validators: Vec<RequestValidator>,
    /// Customised gateway responses.
    pub gateway_responses: Vec<GatewayResponse>,
    /// Authorizers.
    pub authorizers: Vec<Authorizer>,
}

/// Adds the API's models, request validators, customised gateway responses and
/// authorizers to a compiled snapshot.
pub fn attach_api_items(snapshot: &mut pb::DeploymentSnapshot, items: &ApiItems) {
    snapshot.models = items
        .models
        .iter()
        .map(|m| pb::Model {
            id: m.id.clone(),
            name: m.name.clone(),
            content_type: m.content_type.clone(),
            schema: m.schema.clone().unwrap_or_default(),
        })
        .collect();
    snapshot.request_validators = items
        .validators
        .iter()
        .map(|v| pb::RequestValidator {
            id: v.id.clone(),
            name: v.name.clone().unwrap_or_default(),
            validate_request_body: v.validate_request_body,
            validate_request_parameters: v.validate_request_parameters,
        })
        .collect();
    snapshot.gateway_responses = items
        .gateway_responses
        .iter()
        .map(|g| pb::GatewayResponse {
            response_type: g.response_type.clone(),
            status_code: g.status_code.clone().unwrap_or_default(),
            response_parameters: g.response_parameters.clone().into_iter().collect(),
            response_templates: g.response_templates.clone().into_iter().collect(),
        })
        .collect();
    snapshot.authorizers = items
        .authorizers
        .iter()
        .map(crate::api::rules::authorizer::to_snapshot)
        .collect();
}

/// Copies one method; `None` when it has no integration.
fn compile_method(m: &Method) -> Option<pb::Method> {
    let i = m.method_integration.as_ref()?;
    Some(pb::Method {
        http_method: m.http_method.clone(),
        authorization_type: m.authorization_type.clone(),
        authorizer_id: m.authorizer_id.clone().unwrap_or_default(),
        api_key_required: m.api_key_required,
        request_parameters: m.request_parameters.clone().into_iter().collect(),
        request_models: m.request_models.clone().into_iter().collect(),
        request_validator_id: m.request_validator_id.clone().unwrap_or_default(),
        authorization_scopes: m.authorization_scopes.clone(),
        operation_name: m.operation_name.clone().unwrap_or_default(),
        method_responses: m
            .method_responses
            .values()
            .map(|r| pb::MethodResponse {
                status_code: r.status_code.clone(),
                response_parameters: r.response_parameters.clone().into_iter().collect(),
                response_models: r.response_models.clone().into_iter().collect(),
            })
            .collect(),
        integration: Some(pb::Integration {
            r#type: i.integration_type.clone(),
            http_method: i.http_method.clone().unwrap_or_default(),
            uri: i.uri.clone().unwrap_or_default(),
            connection_type: i.connection_type.clone(),
            connection_id: i.connection_id.clone().unwrap_or_default(),
            insecure_skip_verification: i
                .tls_config
                .as_ref()
                .is_some_and(|t| t.insecure_skip_verification),
            request_parameters: i.request_parameters.clone().into_iter().collect(),
            request_templates: i.request_templates.clone().into_iter().collect(),
            passthrough_behavior: i.passthrough_behavior.clone(),
            content_handling: i.content_handling.clone().unwrap_or_default(),
            timeout_in_millis: i.timeout_in_millis,
            cache_key_parameters: i.cache_key_parameters.clone(),
            cache_namespace: i.cache_namespace.clone(),
            integration_responses: i
                .integration_responses
                .values()
                .map(|r| pb::IntegrationResponse {
                    status_code: r.status_code.clone(),
                    selection_pattern: r.selection_pattern.clone().unwrap_or_default(),
                    response_parameters: r.response_parameters.clone().into_iter().collect(),
                    response_templates: r.response_templates.clone().into_iter().collect(),
                    content_handling: r.content_handling.clone().unwrap_or_default(),
                })
                .collect(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::wire::Integration;

    fn row(path: &str, methods: BTreeMap<String, Method>) -> ResourceRow {
        ResourceRow {
            id: path.into(),
            parent_id: None,
            path_part: None,
            path: path.into(),
            methods,
        }
    }

    #[test]
    fn refuses_empty_apis_and_methods_without_integration() {
        let api = RestApi::default();
        let err = compile(&api, &[row("/", BTreeMap::new())], "d", 0).unwrap_err();
        assert!(err.to_string().contains("doesn't contain any methods"));
        let mut methods = BTreeMap::new();
        methods.insert(
            "GET".to_string(),
            Method {
                http_method: "GET".into(),
                ..Default::default()
            },
        );
        let err = compile(&api, &[row("/pets", methods.clone())], "d", 0).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("No integration defined for method"));
        if let Some(m) = methods.get_mut("GET") {
            m.method_integration = Some(Integration {
                integration_type: "MOCK".into(),
                ..Default::default()
            });
        }
        let (snap, summary) = compile(&api, &[row("/pets", methods)], "d", 0).unwrap();
        assert_eq!(snap.resources[0].methods[0].http_method, "GET");
        assert_eq!(summary["/pets"]["GET"]["authorizationType"], "");
    }
}
