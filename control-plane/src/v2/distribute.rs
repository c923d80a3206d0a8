//! Deployed v2 stages into the config stream: each stage that points at a deployment,
//! with that deployment's frozen definition ([`super::stages::freeze`]), becomes a
//! `WsStageConfig` (WebSocket APIs, compiled by `apigw_gateway::compile::websocket`) or
//! an `HttpStageConfig` (HTTP APIs, `apigw_gateway::compile::http_api`) in the
//! `V2Stages` message. Members carry the wire values as stored; the engine parses them.

use std::collections::BTreeMap;

use apigw_proto::config as pb;
use serde_json::Value;

/// Reads every deployed v2 stage (inside the loader's consistent read).
pub async fn load(conn: &mut sqlx::PgConnection, region: &str) -> sqlx::Result<pb::V2Stages> {
    let rows = crate::store::v2::deployed_stages(conn).await?;
    let mut out = pb::V2Stages::default();
    for row in &rows {
        let (api_id, stage, frozen) = (&row.api_id, &row.stage, &row.frozen);
        if super::is_websocket(&frozen["api"]) {
            out.stages.push(stage_config(api_id, stage, frozen));
        } else {
            let mut config = http_stage_config(api_id, stage, frozen);
            config.region = region.to_string();
            config.authorizer_cache_reset = u64::try_from(row.authorizer_cache_epoch).unwrap_or(0);
            out.http_stages.push(config);
        }
    }
    Ok(out)
}

fn s(v: &Value, member: &str) -> String {
    v.get(member)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn string_map(v: &Value, member: &str) -> BTreeMap<String, String> {
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
        account_id: crate::store::account_id().to_string(),
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

fn route_settings<T>(stage: &Value, f: impl Fn(&Value) -> Option<T>) -> BTreeMap<String, T> {
    stage
        .get("routeSettings")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| f(v).map(|t| (k.clone(), t)))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(v: &Value, member: &str) -> Vec<String> {
    items(v, member)
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn int(v: &Value, member: &str) -> Option<i32> {
    v.get(member)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

/// The stage's `lastUpdatedDate` (RFC 3339) in epoch seconds; 0 when unreadable.
fn epoch(stage: &Value) -> i64 {
    stage
        .get("lastUpdatedDate")
        .and_then(Value::as_str)
        .and_then(|d| {
            time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or(0, |t| t.unix_timestamp())
}

/// One HTTP API stage's config: `stage`'s settings with `frozen`'s definition.
pub fn http_stage_config(api_id: &str, stage: &Value, frozen: &Value) -> pb::HttpStageConfig {
    let api = &frozen["api"];
    pb::HttpStageConfig {
        api_id: api_id.to_string(),
        stage_name: s(stage, "stageName"),
        deployment_id: s(stage, "deploymentId"),
        variables: string_map(stage, "stageVariables"),
        api_name: s(api, "name"),
        routes: items(frozen, "routes")
            .map(|r| pb::HttpRoute {
                route_key: s(r, "routeKey"),
                authorization_type: r
                    .get("authorizationType")
                    .and_then(Value::as_str)
                    .unwrap_or("NONE")
                    .to_string(),
                authorizer_id: s(r, "authorizerId"),
                authorization_scopes: strings(r, "authorizationScopes"),
                integration_id: s(r, "target")
                    .strip_prefix("integrations/")
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect(),
        integrations: items(frozen, "integrations")
            .map(|i| pb::HttpIntegration {
                id: s(i, "integrationId"),
                integration_type: s(i, "integrationType"),
                uri: s(i, "integrationUri"),
                method: s(i, "integrationMethod"),
                payload_format_version: s(i, "payloadFormatVersion"),
                timeout_in_millis: int(i, "timeoutInMillis").unwrap_or(30_000),
                request_parameters: string_map(i, "requestParameters"),
                response_parameters: i
                    .get("responseParameters")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(status, _)| {
                                let entries = string_map(&i["responseParameters"], status);
                                (status.clone(), pb::HttpParameterMap { entries })
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                server_name_to_verify: i
                    .get("tlsConfig")
                    .map(|t| s(t, "serverNameToVerify"))
                    .unwrap_or_default(),
            })
            .collect(),
        authorizers: items(frozen, "authorizers")
            .map(|a| pb::HttpAuthorizer {
                id: s(a, "authorizerId"),
                name: s(a, "name"),
                authorizer_type: s(a, "authorizerType"),
                identity_source: strings(a, "identitySource"),
                jwt_issuer: a
                    .get("jwtConfiguration")
                    .map(|j| s(j, "issuer"))
                    .unwrap_or_default(),
                jwt_audience: a
                    .get("jwtConfiguration")
                    .map(|j| strings(j, "audience"))
                    .unwrap_or_default(),
                uri: s(a, "authorizerUri"),
                payload_format_version: s(a, "authorizerPayloadFormatVersion"),
                enable_simple_responses: a.get("enableSimpleResponses") == Some(&Value::Bool(true)),
                result_ttl_in_seconds: int(a, "authorizerResultTtlInSeconds").unwrap_or(0),
            })
            .collect(),
        cors: api.get("corsConfiguration").map(|c| pb::HttpCors {
            allow_credentials: c.get("allowCredentials") == Some(&Value::Bool(true)),
            allow_headers: strings(c, "allowHeaders"),
            allow_methods: strings(c, "allowMethods"),
            allow_origins: strings(c, "allowOrigins"),
            expose_headers: strings(c, "exposeHeaders"),
            max_age: int(c, "maxAge").unwrap_or(-1),
        }),
        disable_execute_api_endpoint: api.get("disableExecuteApiEndpoint")
            == Some(&Value::Bool(true)),
        default_throttle: stage.get("defaultRouteSettings").and_then(throttle),
        route_throttle: route_settings(stage, throttle),
        detailed_metrics: stage
            .get("defaultRouteSettings")
            .and_then(detailed)
            .unwrap_or(false),
        route_detailed_metrics: route_settings(stage, detailed),
        access_log: access_log(stage),
        last_updated_date: epoch(stage),
        region: String::new(),
        account_id: crate::store::account_id().to_string(),
        authorizer_cache_reset: 0,
    }
}

/// The stage's accessLogSettings, both members or nothing: lines need a format and a log
/// group to go to.
fn access_log(stage: &Value) -> Option<pb::AccessLogSettings> {
    stage.get("accessLogSettings").and_then(|a| {
        Some(pb::AccessLogSettings {
            format: a.get("format")?.as_str()?.to_string(),
            destination_arn: a.get("destinationArn")?.as_str()?.to_string(),
        })
    })
}
