//! The management API in the `apigatewayv2` service model's wire shape (paths under
//! `/v2/`, SigV4 service `apigateway`, authenticated like the v1 API by the same
//! middleware): APIs, routes and route responses, integrations and integration
//! responses, authorizers, models, stages and deployments; custom domain names and API
//! mappings ([`domains`], sharing the REST API's domain store).
//!
//! Every entity is a JSON document in its wire shape (`store::v2`). A request body is
//! first checked against the model's input shape ([`shape`]: types, enums, required
//! members), then against API Gateway's rules for the API's protocol type ([`rules`]);
//! errors are `BadRequestException`, `NotFoundException` and `ConflictException` with a
//! lower-case `message`, as the v2 service answers. Both protocol types are served:
//! WebSocket APIs' rules are [`rules`]', HTTP APIs' are [`http`]'s (which also checks
//! the whole definition through the engine after every change).
//!
//! Every change to an API's definition runs [`stages::auto_deploy`] in the same
//! transaction: each stage with `autoDeploy` gets a fresh deployment.

pub mod apis;
pub mod connections;
pub mod distribute;
pub mod domains;
pub mod http;
pub mod items;
pub mod openapi3;
pub mod rules;
pub mod shape;
pub mod stages;
pub mod usage;

use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::openapi::{route, Route, Verb::*};
use crate::AppState;

/// The v2 route table: every `apigatewayv2` operation served, with its method, path
/// template, the model's operation name and success status, and its handler. The router
/// is built from it ([`router`]) and so is the OpenAPI document ([`crate::openapi`]),
/// which describes the model's operations from the model's shapes.
pub fn routes() -> Vec<Route> {
    use items::{AUTHORIZER, INTEGRATION, INTEGRATION_RESPONSE, MODEL, ROUTE, ROUTE_RESPONSE};
    const API: &str = "/v2/apis/{api_id}";
    const STAGE: &str = "/v2/apis/{api_id}/stages/{stage_name}";
    const DOMAINS: &str = "/v2/domainnames";
    const DOMAIN: &str = "/v2/domainnames/{domain_name}";
    const MAPPINGS: &str = "/v2/domainnames/{domain_name}/apimappings";
    const MAPPING: &str = "/v2/domainnames/{domain_name}/apimappings/{api_mapping_id}";
    let api = |p: &str| format!("{API}{p}");
    let stage = |p: &str| format!("{STAGE}{p}");
    let mut table = vec![
        route(Get, "/v2/apis", "GetApis", 200, apis::list),
        route(Post, "/v2/apis", "CreateApi", 201, apis::create),
        route(Get, API, "GetApi", 200, apis::get),
        route(Patch, API, "UpdateApi", 200, apis::update),
        route(Delete, API, "DeleteApi", 204, apis::delete),
        route(Put, "/v2/apis", "ImportApi", 201, openapi3::import_api),
        route(Put, API, "ReimportApi", 201, openapi3::reimport_api),
        route(
            Get,
            api("/exports/{specification}"),
            "ExportApi",
            200,
            openapi3::export_api,
        ),
        route(
            Delete,
            format!("{API}/cors"),
            "DeleteCorsConfiguration",
            204,
            apis::delete_cors,
        ),
    ];
    let kinds = [
        (
            &ROUTE,
            "/routes",
            "{route_id}",
            [
                "GetRoutes",
                "CreateRoute",
                "GetRoute",
                "UpdateRoute",
                "DeleteRoute",
            ],
        ),
        (
            &ROUTE_RESPONSE,
            "/routes/{route_id}/routeresponses",
            "{item_id}",
            [
                "GetRouteResponses",
                "CreateRouteResponse",
                "GetRouteResponse",
                "UpdateRouteResponse",
                "DeleteRouteResponse",
            ],
        ),
        (
            &INTEGRATION,
            "/integrations",
            "{integration_id}",
            [
                "GetIntegrations",
                "CreateIntegration",
                "GetIntegration",
                "UpdateIntegration",
                "DeleteIntegration",
            ],
        ),
        (
            &INTEGRATION_RESPONSE,
            "/integrations/{integration_id}/integrationresponses",
            "{item_id}",
            [
                "GetIntegrationResponses",
                "CreateIntegrationResponse",
                "GetIntegrationResponse",
                "UpdateIntegrationResponse",
                "DeleteIntegrationResponse",
            ],
        ),
        (
            &AUTHORIZER,
            "/authorizers",
            "{item_id}",
            [
                "GetAuthorizers",
                "CreateAuthorizer",
                "GetAuthorizer",
                "UpdateAuthorizer",
                "DeleteAuthorizer",
            ],
        ),
        (
            &MODEL,
            "/models",
            "{item_id}",
            [
                "GetModels",
                "CreateModel",
                "GetModel",
                "UpdateModel",
                "DeleteModel",
            ],
        ),
    ];
    for (kind, collection, id, names) in kinds {
        table.extend(items::routes(
            kind,
            &api(collection),
            &api(&format!("{collection}/{id}")),
            names,
        ));
    }
    table.extend([
        route(
            Get,
            api("/models/{item_id}/template"),
            "GetModelTemplate",
            200,
            items::model_template,
        ),
        route(Get, api("/stages"), "GetStages", 200, stages::list),
        route(Post, api("/stages"), "CreateStage", 201, stages::create),
        route(Get, STAGE, "GetStage", 200, stages::get),
        route(Patch, STAGE, "UpdateStage", 200, stages::update),
        route(Delete, STAGE, "DeleteStage", 204, stages::delete),
        // Our extension (not in the model): the stage's live connection count.
        route(
            Get,
            stage("/connections"),
            "GetConnectionCount",
            200,
            connections::count,
        ),
        route(
            Delete,
            stage("/cache/authorizers"),
            "ResetAuthorizersCache",
            204,
            stages::reset_authorizers_cache,
        ),
        route(
            Delete,
            stage("/routesettings/{route_key}"),
            "DeleteRouteSettings",
            204,
            stages::delete_route_settings,
        ),
        route(
            Delete,
            stage("/accesslogsettings"),
            "DeleteAccessLogSettings",
            204,
            stages::delete_access_log_settings,
        ),
        route(
            Get,
            api("/deployments"),
            "GetDeployments",
            200,
            stages::list_deployments,
        ),
        route(
            Post,
            api("/deployments"),
            "CreateDeployment",
            201,
            stages::create_deployment,
        ),
        route(
            Get,
            api("/deployments/{deployment_id}"),
            "GetDeployment",
            200,
            stages::get_deployment,
        ),
        route(
            Patch,
            api("/deployments/{deployment_id}"),
            "UpdateDeployment",
            200,
            stages::update_deployment,
        ),
        route(
            Delete,
            api("/deployments/{deployment_id}"),
            "DeleteDeployment",
            204,
            stages::delete_deployment,
        ),
        route(Get, DOMAINS, "GetDomainNames", 200, domains::list),
        route(Post, DOMAINS, "CreateDomainName", 201, domains::create),
        route(Get, DOMAIN, "GetDomainName", 200, domains::get),
        route(Patch, DOMAIN, "UpdateDomainName", 200, domains::update),
        route(Delete, DOMAIN, "DeleteDomainName", 204, domains::delete),
        route(Get, MAPPINGS, "GetApiMappings", 200, domains::list_mappings),
        route(
            Post,
            MAPPINGS,
            "CreateApiMapping",
            201,
            domains::create_mapping,
        ),
        route(Get, MAPPING, "GetApiMapping", 200, domains::get_mapping),
        route(
            Patch,
            MAPPING,
            "UpdateApiMapping",
            200,
            domains::update_mapping,
        ),
        route(
            Delete,
            MAPPING,
            "DeleteApiMapping",
            204,
            domains::delete_mapping,
        ),
        // Our extension (not in the model): metered WebSocket usage.
        route(Get, api("/usage"), "GetApiUsage", 200, usage::get),
        route(
            Get,
            api("/usage/export"),
            "ExportWebSocketUsage",
            200,
            usage::export,
        ),
    ]);
    table
}

/// The v2 routes (authentication is layered on by the caller), from [`routes`].
pub fn router() -> Router<AppState> {
    routes().iter().fold(Router::new(), |router, r| {
        router.route(&r.path, r.method_router())
    })
}

/// Now, as the v2 model's timestamps are written (ISO 8601, UTC, seconds).
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `maxResults` and `nextToken` of every v2 list call.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    max_results: Option<String>,
    next_token: Option<String>,
}

impl Paging {
    /// `{"items": [...], "nextToken": ...}` for one page of `items` (in a stable order);
    /// `nextToken` is the offset of the next page.
    pub fn page(&self, items: Vec<Value>) -> ApiResult<Value> {
        let limit = match self.max_results.as_deref() {
            None | Some("") => 100,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=500).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_request(
                        "maxResults must be a number between 1 and 500",
                    ))
                }
            },
        };
        let start = match self.next_token.as_deref() {
            None | Some("") => 0,
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request("Invalid nextToken"))?,
        };
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
        let end = start + page.len();
        let mut out = json!({ "items": page });
        if end < total {
            out["nextToken"] = json!(end.to_string());
        }
        Ok(out)
    }
}

/// Loads an API for a read (NotFound when there is none).
pub async fn load_api(state: &AppState, api_id: &str) -> ApiResult<Value> {
    let mut conn = state.db.acquire().await?;
    crate::store::v2::load_api(&mut conn, api_id, false).await
}

/// The API's protocol type (`WEBSOCKET` or `HTTP`).
pub fn protocol(api: &Value) -> &str {
    api.get("protocolType")
        .and_then(Value::as_str)
        .unwrap_or("WEBSOCKET")
}

/// Whether the API is a WebSocket API.
pub fn is_websocket(api: &Value) -> bool {
    protocol(api) == "WEBSOCKET"
}
