//! The management API in the `apigatewayv2` service model's wire shape (paths under
//! `/v2/`, SigV4 service `apigateway`, authenticated like the v1 API by the same
//! middleware): APIs, routes and route responses, integrations and integration
//! responses, authorizers, models, stages and deployments.
//!
//! Every entity is a JSON document in its wire shape (`store::v2`). A request body is
//! first checked against the model's input shape ([`shape`]: types, enums, required
//! members), then against API Gateway's rules for the API's protocol type ([`rules`]);
//! errors are `BadRequestException`, `NotFoundException` and `ConflictException` with a
//! lower-case `message`, as the v2 service answers. Only `protocolType: WEBSOCKET` is
//! accepted today; the store, the shapes and the deployment freeze are protocol-neutral so
//! HTTP APIs can follow on them.
//!
//! Every change to an API's definition runs [`stages::auto_deploy`] in the same
//! transaction: each stage with `autoDeploy` gets a fresh deployment.

pub mod apis;
pub mod connections;
pub mod distribute;
pub mod items;
pub mod rules;
pub mod shape;
pub mod stages;
pub mod usage;

use axum::routing::{delete, get};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The v2 routes (authentication is layered on by the caller).
pub fn router() -> Router<AppState> {
    use items::{ops, AUTHORIZER, INTEGRATION, INTEGRATION_RESPONSE, MODEL, ROUTE, ROUTE_RESPONSE};
    const API: &str = "/v2/apis/{api_id}";
    Router::new()
        .route("/v2/apis", get(apis::list).post(apis::create))
        .route(API, get(apis::get).patch(apis::update).delete(apis::delete))
        .route(&format!("{API}/routes"), ops::collection(&ROUTE))
        .route(&format!("{API}/routes/{{route_id}}"), ops::single(&ROUTE))
        .route(
            &format!("{API}/routes/{{route_id}}/routeresponses"),
            ops::collection(&ROUTE_RESPONSE),
        )
        .route(
            &format!("{API}/routes/{{route_id}}/routeresponses/{{item_id}}"),
            ops::single(&ROUTE_RESPONSE),
        )
        .route(
            &format!("{API}/integrations"),
            ops::collection(&INTEGRATION),
        )
        .route(
            &format!("{API}/integrations/{{integration_id}}"),
            ops::single(&INTEGRATION),
        )
        .route(
            &format!("{API}/integrations/{{integration_id}}/integrationresponses"),
            ops::collection(&INTEGRATION_RESPONSE),
        )
        .route(
            &format!("{API}/integrations/{{integration_id}}/integrationresponses/{{item_id}}"),
            ops::single(&INTEGRATION_RESPONSE),
        )
        .route(&format!("{API}/authorizers"), ops::collection(&AUTHORIZER))
        .route(
            &format!("{API}/authorizers/{{item_id}}"),
            ops::single(&AUTHORIZER),
        )
        .route(&format!("{API}/models"), ops::collection(&MODEL))
        .route(&format!("{API}/models/{{item_id}}"), ops::single(&MODEL))
        .route(
            &format!("{API}/models/{{item_id}}/template"),
            get(items::model_template),
        )
        .route(
            &format!("{API}/stages"),
            get(stages::list).post(stages::create),
        )
        .route(
            &format!("{API}/stages/{{stage_name}}"),
            get(stages::get)
                .patch(stages::update)
                .delete(stages::delete),
        )
        .route(
            &format!("{API}/stages/{{stage_name}}/routesettings/{{route_key}}"),
            delete(stages::delete_route_settings),
        )
        .route(
            &format!("{API}/stages/{{stage_name}}/accesslogsettings"),
            delete(stages::delete_access_log_settings),
        )
        .route(&format!("{API}/usage"), get(usage::get))
        .route(
            &format!("{API}/deployments"),
            get(stages::list_deployments).post(stages::create_deployment),
        )
        .route(
            &format!("{API}/deployments/{{deployment_id}}"),
            get(stages::get_deployment)
                .patch(stages::update_deployment)
                .delete(stages::delete_deployment),
        )
}

/// Now, as the v2 model's timestamps are written (ISO 8601, UTC, seconds).
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `maxResults` and `nextToken` of every v2 list call.
#[derive(Debug, Default, Deserialize)]
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
