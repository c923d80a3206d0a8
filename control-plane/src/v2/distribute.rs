//! Deployed v2 stages into the config stream: each stage that points at a deployment,
//! with that deployment's frozen definition ([`super::stages::freeze`]), becomes a
//! `WsStageConfig` in the `V2Stages` message the nodes compile
//! (`apigw_gateway::compile::websocket`).

use apigw_proto::config as pb;
use serde_json::Value;

/// Reads every deployed v2 stage (inside the loader's consistent read).
pub async fn load(conn: &mut sqlx::PgConnection) -> sqlx::Result<pb::V2Stages> {
    let rows = crate::store::v2::deployed_stages(conn).await?;
    Ok(pb::V2Stages {
        stages: rows
            .iter()
            .map(|(api_id, stage, frozen)| stage_config(api_id, stage, frozen))
            .collect(),
        http_stages: Vec::new(),
    })
}

fn s(v: &Value, member: &str) -> String {
    v.get(member)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn string_map(v: &Value, member: &str) -> std::collections::HashMap<String, String> {
    v.get(member)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn items<'a>(v: &'a Value, member: &str) -> impl Iterator<Item = &'a Value> {
    v.get(member)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn throttle(settings: &Value) -> Option<pb::ThrottleLimit> {
    let rate = settings.get("throttlingRateLimit").and_then(Value::as_f64);
    let burst = settings.get("throttlingBurstLimit").and_then(Value::as_i64);
    (rate.is_some() || burst.is_some()).then(|| pb::ThrottleLimit {
        rate_limit: rate.unwrap_or(0.0),
        burst_limit: burst.and_then(|b| i32::try_from(b).ok()).unwrap_or(0),
    })
}

/// `detailedMetricsEnabled` of route settings, when they set it.
fn detailed(settings: &Value) -> Option<bool> {
    settings
        .get("detailedMetricsEnabled")
        .and_then(Value::as_bool)
}

/// One stage's config.
pub fn stage_config(api_id: &str, stage: &Value, frozen: &Value) -> pb::WsStageConfig {
    let api = &frozen["api"];
    pb::WsStageConfig {
        api_id: api_id.to_string(),
        stage_name: s(stage, "stageName"),
        deployment_id: s(stage, "deploymentId"),
        variables: string_map(stage, "stageVariables"),
        // Both members or nothing: lines need a format and a log group to go to.
        access_log: stage.get("accessLogSettings").and_then(|a| {
            Some(pb::AccessLogSettings {
                format: a.get("format")?.as_str()?.to_string(),
                destination_arn: a.get("destinationArn")?.as_str()?.to_string(),
            })
        }),
        route_selection_expression: s(api, "routeSelectionExpression"),
        api_key_selection_expression: s(api, "apiKeySelectionExpression"),
        routes: items(frozen, "routes")
            .map(|r| pb::WsRoute {
                route_key: s(r, "routeKey"),
                authorization_type: s(r, "authorizationType"),
                authorizer_id: s(r, "authorizerId"),
                api_key_required: r.get("apiKeyRequired") == Some(&Value::Bool(true)),
                integration_id: s(r, "target")
                    .strip_prefix("integrations/")
                    .unwrap_or_default()
                    .to_string(),
                has_route_response: items(r, "routeResponses").next().is_some(),
            })
            .collect(),
        integrations: items(frozen, "integrations")
            .map(|i| pb::WsIntegration {
                id: s(i, "integrationId"),
                integration_type: s(i, "integrationType"),
                uri: s(i, "integrationUri"),
                method: s(i, "integrationMethod"),
                timeout_in_millis: i
                    .get("timeoutInMillis")
                    .and_then(Value::as_i64)
                    .and_then(|t| i32::try_from(t).ok())
                    .unwrap_or(29_000),
                request_templates: string_map(i, "requestTemplates"),
                template_selection_expression: s(i, "templateSelectionExpression"),
                response_templates: items(i, "integrationResponses")
                    .find(|r| r["integrationResponseKey"] == "$default")
                    .map(|r| string_map(r, "responseTemplates"))
                    .unwrap_or_default(),
                passthrough_behavior: s(i, "passthroughBehavior"),
                integration_responses: items(i, "integrationResponses")
                    .map(|r| pb::WsIntegrationResponse {
                        integration_response_key: s(r, "integrationResponseKey"),
                        response_templates: string_map(r, "responseTemplates"),
                        template_selection_expression: s(r, "templateSelectionExpression"),
                        content_handling_strategy: s(r, "contentHandlingStrategy"),
                    })
                    .collect(),
                content_handling_strategy: s(i, "contentHandlingStrategy"),
                request_parameters: string_map(i, "requestParameters"),
            })
            .collect(),
        authorizers: items(frozen, "authorizers")
            .map(|a| pb::WsAuthorizer {
                id: s(a, "authorizerId"),
                name: s(a, "name"),
                uri: s(a, "authorizerUri"),
                identity_source: items(a, "identitySource")
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            })
            .collect(),
        default_throttle: stage.get("defaultRouteSettings").and_then(throttle),
        route_throttle: stage
            .get("routeSettings")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| throttle(v).map(|t| (k.clone(), t)))
                    .collect()
            })
            .unwrap_or_default(),
        detailed_metrics: stage
            .get("defaultRouteSettings")
            .and_then(detailed)
            .unwrap_or(false),
        route_detailed_metrics: stage
            .get("routeSettings")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| detailed(v).map(|d| (k.clone(), d)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
