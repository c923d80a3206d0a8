//! Stages and deployments of a v2 API, and auto-deploy.
//!
//! A deployment freezes the API's definition ([`freeze`]: the API, its routes with their
//! route responses, integrations with their integration responses, authorizers and
//! models) into its row; a stage points at one deployment, and what the nodes serve is
//! that frozen copy with the stage's settings. A stage with `autoDeploy` gets a new
//! deployment (`autoDeployed: true`) in the transaction of every change to the API
//! ([`auto_deploy`]), and at once when it is created or switched on. Every change to a
//! stage or to what one serves bumps the config version.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use sqlx::PgConnection;

use super::{shape, Paging};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery};
use crate::ids::random_id;
use crate::store::v2::{self as store, kind, Key};
use crate::AppState;

fn stage_key(api: &str) -> Key<'_> {
    Key {
        api,
        kind: kind::STAGE,
        parent: "",
    }
}

fn deployment_key(api: &str) -> Key<'_> {
    Key {
        api,
        kind: kind::DEPLOYMENT,
        parent: "",
    }
}

fn stage_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid stage identifier specified {name}"))
}

fn deployment_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid Deployment identifier specified {id}"))
}

/// A page of the API's stages or deployments (`key`), once the API is known to exist.
async fn list_of(
    state: &AppState,
    api_id: &str,
    key: Key<'_>,
    paging: Paging,
) -> ApiResult<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    store::load_api(&mut conn, api_id, false).await?;
    Ok(Json(paging.page(store::list_items(&mut conn, key).await?)?))
}

/// One of the API's stages or deployments (`key`), once the API is known to exist.
async fn get_of(
    state: &AppState,
    api_id: &str,
    key: Key<'_>,
    id: &str,
) -> ApiResult<Option<Json<Value>>> {
    let mut conn = state.db.acquire().await?;
    store::load_api(&mut conn, api_id, false).await?;
    Ok(store::load_item(&mut conn, key, id, false).await?.map(Json))
}

/// The API's definition as a deployment freezes it, or why it cannot be deployed.
pub async fn freeze(conn: &mut PgConnection, api_id: &str) -> ApiResult<Result<Value, String>> {
    let api = store::load_api(conn, api_id, false).await?;
    let websocket = super::is_websocket(&api);
    let key = |kind| Key {
        api: api_id,
        kind,
        parent: "",
    };
    let mut route_responses = store::list_all(conn, api_id, kind::ROUTE_RESPONSE).await?;
    let mut integration_responses =
        store::list_all(conn, api_id, kind::INTEGRATION_RESPONSE).await?;
    let mut routes = store::list_items(conn, key(kind::ROUTE)).await?;
    if routes.is_empty() && websocket {
        return Ok(Err(
            "At least one route is required before deploying the Api.".into(),
        ));
    }
    for r in &mut routes {
        let route_key = r
            .get("routeKey")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if websocket && r.get("target").is_none() {
            return Ok(Err(format!(
                "Route with key {route_key} does not have an integration defined."
            )));
        }
        let id = r.get("routeId").cloned().unwrap_or_default();
        let mine: Vec<Value> = take_children(&mut route_responses, &id);
        r["routeResponses"] = Value::Array(mine);
    }
    let mut integrations = store::list_items(conn, key(kind::INTEGRATION)).await?;
    for i in &mut integrations {
        let id = i.get("integrationId").cloned().unwrap_or_default();
        let mine = take_children(&mut integration_responses, &id);
        i["integrationResponses"] = Value::Array(mine);
    }
    Ok(Ok(json!({
        "api": api,
        "routes": routes,
        "integrations": integrations,
        "authorizers": store::list_items(conn, key(kind::AUTHORIZER)).await?,
        "models": store::list_items(conn, key(kind::MODEL)).await?,
    })))
}

fn take_children(all: &mut Vec<(String, Value)>, parent: &Value) -> Vec<Value> {
    let parent = parent.as_str().unwrap_or_default();
    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(all)
        .into_iter()
        .partition(|(p, _)| p == parent);
    *all = rest;
    mine.into_iter().map(|(_, d)| d).collect()
}

/// Stores a new deployment of the API's current definition.
async fn deploy(
    conn: &mut PgConnection,
    api_id: &str,
    description: Option<Value>,
    auto: bool,
) -> ApiResult<Result<Value, String>> {
    let frozen = match freeze(conn, api_id).await? {
        Ok(f) => f,
        Err(why) => return Ok(Err(why)),
    };
    let id = random_id(6);
    let mut doc = json!({
        "deploymentId": id,
        "deploymentStatus": "DEPLOYED",
        "createdDate": super::now(),
        "autoDeployed": auto,
    });
    if let Some(d) = description {
        doc["description"] = d;
    }
    store::insert_item(conn, deployment_key(api_id), &id, &doc).await?;
    store::set_frozen(conn, api_id, &id, &frozen).await?;
    Ok(Ok(doc))
}

/// Redeploys every `autoDeploy` stage of the API (after a change, in its transaction).
pub async fn auto_deploy(conn: &mut PgConnection, api_id: &str) -> ApiResult<()> {
    let stages: Vec<Value> = store::list_items(conn, stage_key(api_id))
        .await?
        .into_iter()
        .filter(|s| s.get("autoDeploy") == Some(&json!(true)))
        .collect();
    if stages.is_empty() {
        return Ok(());
    }
    let outcome = deploy(
        conn,
        api_id,
        Some(json!(
            "Automatic deployment triggered by changes to the Api configuration"
        )),
        true,
    )
    .await?;
    for mut stage in stages {
        let name = stage["stageName"].as_str().unwrap_or_default().to_string();
        match &outcome {
            Ok(d) => {
                stage["deploymentId"] = d["deploymentId"].clone();
                stage["lastUpdatedDate"] = json!(super::now());
                stage["lastDeploymentStatusMessage"] = json!(format!(
                    "Successfully deployed stage with deployment ID '{}'",
                    d["deploymentId"].as_str().unwrap_or_default()
                ));
            }
            Err(why) => {
                stage["lastDeploymentStatusMessage"] =
                    json!(format!("Deployment attempt failed: {why}"));
            }
        }
        store::save_item(conn, stage_key(api_id), &name, &stage).await?;
    }
    crate::store::config::bump(conn).await
}

fn string_map(doc: &Map<String, Value>, member: &str) -> BTreeMap<String, String> {
    doc.get(member)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn check_route_settings(name: &str, s: &Value) -> ApiResult<()> {
    let burst = s.get("throttlingBurstLimit").and_then(Value::as_i64);
    let rate = s.get("throttlingRateLimit").and_then(Value::as_f64);
    if burst.is_some_and(|b| b < 0) || rate.is_some_and(|r| r < 0.0) {
        return Err(ApiError::bad_request(format!(
            "Throttling limits of {name} must not be negative"
        )));
    }
    Ok(())
}

/// HTTP APIs' route settings: throttling and detailed metrics (data traces and execution
/// logging levels are WebSocket APIs').
fn check_http_route_settings(name: &str, s: &Value) -> ApiResult<()> {
    if s.get("dataTraceEnabled") == Some(&json!(true)) {
        return Err(ApiError::bad_request(format!(
            "{name}.dataTraceEnabled is supported only for WebSocket APIs"
        )));
    }
    if s.get("loggingLevel")
        .and_then(Value::as_str)
        .is_some_and(|l| l != "OFF")
    {
        return Err(ApiError::bad_request(format!(
            "{name}.loggingLevel is supported only for WebSocket APIs"
        )));
    }
    Ok(())
}

/// A stage's rules over its merged document (`api` is the API's document).
async fn check_stage(
    conn: &mut PgConnection,
    api: &Value,
    api_id: &str,
    doc: &Map<String, Value>,
) -> ApiResult<()> {
    let http = !super::is_websocket(api);
    let name = doc
        .get("stageName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name == "$default" {
        if !http {
            return Err(ApiError::bad_request(
                "The $default stage is supported only for HTTP APIs",
            ));
        }
    } else {
        crate::api::rules::validate_stage_name(name)?;
    }
    if http {
        if doc
            .get("clientCertificateId")
            .and_then(Value::as_str)
            .is_some_and(|c| !c.is_empty())
        {
            return Err(ApiError::bad_request(
                "clientCertificateId is supported only for WebSocket APIs",
            ));
        }
        if let Some(d) = doc.get("defaultRouteSettings") {
            check_http_route_settings("defaultRouteSettings", d)?;
        }
        for (route_key, s) in doc
            .get("routeSettings")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            check_http_route_settings(&format!("routeSettings.{route_key}"), s)?;
        }
    }
    crate::api::rules::validate_variables(&string_map(doc, "stageVariables"), "Stage variable")?;
    crate::validate::tags(&string_map(doc, "tags"))?;
    if let Some(logs) = doc.get("accessLogSettings") {
        let logs: crate::wire::AccessLogSettings = serde_json::from_value(logs.clone())
            .map_err(|e| ApiError::bad_request(format!("Invalid accessLogSettings: {e}")))?;
        crate::api::rules::validate_access_log_settings(&logs)?;
    }
    if let Some(d) = doc.get("defaultRouteSettings") {
        check_route_settings("defaultRouteSettings", d)?;
    }
    if let Some(settings) = doc.get("routeSettings").and_then(Value::as_object) {
        let routes = store::list_items(
            conn,
            Key {
                api: api_id,
                kind: kind::ROUTE,
                parent: "",
            },
        )
        .await?;
        for (route_key, s) in settings {
            if !routes.iter().any(|r| r["routeKey"] == json!(route_key)) {
                return Err(ApiError::bad_request(format!(
                    "Unable to find Route by key {route_key} within the provided RouteSettings"
                )));
            }
            check_route_settings(&format!("routeSettings.{route_key}"), s)?;
        }
    }
    if let Some(d) = doc.get("deploymentId").and_then(Value::as_str) {
        if store::load_item(conn, deployment_key(api_id), d, false)
            .await?
            .is_none()
        {
            return Err(ApiError::bad_request(format!(
                "Invalid deployment identifier specified: {d}"
            )));
        }
    }
    if http {
        super::http::check_definition(conn, api_id, Some(&Value::Object(doc.clone()))).await?;
    }
    Ok(())
}

/// Deploys a stage switched to `autoDeploy` at once.
async fn deploy_now(
    conn: &mut PgConnection,
    api_id: &str,
    doc: &mut Map<String, Value>,
) -> ApiResult<()> {
    match deploy(conn, api_id, None, true).await? {
        Ok(d) => {
            doc.insert("deploymentId".into(), d["deploymentId"].clone());
        }
        Err(why) => {
            doc.insert(
                "lastDeploymentStatusMessage".into(),
                json!(format!("Deployment attempt failed: {why}")),
            );
        }
    }
    Ok(())
}

/// POST /v2/apis/{apiId}/stages
pub async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let doc = shape::check("CreateStage", &body, true)?;
    let mut tx = state.db.begin().await?;
    let api = store::load_api(&mut tx, &api_id, true).await?;
    check_stage(&mut tx, &api, &api_id, &doc).await?;
    let doc = insert_new(&mut tx, &api_id, doc, !super::is_websocket(&api)).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// Stores a new stage (checked by the caller) with its defaults, deployed at once when
/// it has `autoDeploy`; ConflictException when the name is taken.
pub async fn insert_new(
    conn: &mut PgConnection,
    api_id: &str,
    mut doc: Map<String, Value>,
    http: bool,
) -> ApiResult<Value> {
    let name = doc["stageName"].as_str().unwrap_or_default().to_string();
    if store::load_item(conn, stage_key(api_id), &name, false)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!("Stage already exists: {name}")));
    }
    let now = super::now();
    doc.insert("createdDate".into(), json!(now));
    doc.insert("lastUpdatedDate".into(), json!(now));
    doc.entry("autoDeploy").or_insert(json!(false));
    doc.entry("routeSettings").or_insert(json!({}));
    doc.entry("stageVariables").or_insert(json!({}));
    doc.entry("tags").or_insert(json!({}));
    if http {
        doc.entry("defaultRouteSettings")
            .or_insert(json!({ "detailedMetricsEnabled": false }));
    } else {
        doc.entry("defaultRouteSettings").or_insert(json!({
            "dataTraceEnabled": false,
            "detailedMetricsEnabled": false,
            "loggingLevel": "OFF",
        }));
    }
    if doc["autoDeploy"] == json!(true) && !doc.contains_key("deploymentId") {
        deploy_now(conn, api_id, &mut doc).await?;
    }
    let doc = Value::Object(doc);
    store::insert_item(conn, stage_key(api_id), &name, &doc).await?;
    crate::store::config::bump(conn).await?;
    Ok(doc)
}

/// GET /v2/apis/{apiId}/stages
pub async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(paging): AwsQuery<Paging>,
) -> ApiResult<Json<Value>> {
    list_of(&state, &api_id, stage_key(&api_id), paging).await
}

/// GET /v2/apis/{apiId}/stages/{stageName}
pub async fn get(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    get_of(&state, &api_id, stage_key(&api_id), &name)
        .await?
        .ok_or_else(|| stage_not_found(&name))
}

/// DELETE /v2/apis/{apiId}/stages/{stageName}/cache/authorizers (ResetAuthorizersCache):
/// every node forgets the stage's cached Lambda-authorizer decisions, its own and the
/// shared store's, once it has the new config (the stage's reset counter is part of the
/// authorizer-cache epoch). Supported only for HTTP APIs, as in AWS.
pub async fn reset_authorizers_cache(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    let api = store::load_api(&mut tx, &api_id, true).await?;
    if super::is_websocket(&api) {
        return Err(ApiError::bad_request(
            "ResetAuthorizersCache is supported only for HTTP APIs",
        ));
    }
    if !store::reset_authorizer_cache(&mut tx, &api_id, &name).await? {
        return Err(stage_not_found(&name));
    }
    crate::store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn load_stage_for_update(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
) -> ApiResult<Map<String, Value>> {
    store::load_api(conn, api_id, true).await?;
    match store::load_item(conn, stage_key(api_id), name, true).await? {
        Some(Value::Object(m)) => Ok(m),
        _ => Err(stage_not_found(name)),
    }
}

async fn save_stage(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
    mut doc: Map<String, Value>,
) -> ApiResult<Value> {
    doc.insert("lastUpdatedDate".into(), json!(super::now()));
    let doc = Value::Object(doc);
    store::save_item(conn, stage_key(api_id), name, &doc).await?;
    crate::store::config::bump(conn).await?;
    Ok(doc)
}

/// PATCH /v2/apis/{apiId}/stages/{stageName}: the members given replace the stage's
/// (`routeSettings` entries are merged by route key, as AWS does).
pub async fn update(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<Json<Value>> {
    let mut changes = shape::check("UpdateStage", &body, false)?;
    let mut tx = state.db.begin().await?;
    let api = store::load_api(&mut tx, &api_id, true).await?;
    let mut doc = load_stage_for_update(&mut tx, &api_id, &name).await?;
    let was_auto = doc.get("autoDeploy") == Some(&json!(true));
    if let Some(Value::Object(new)) = changes.remove("routeSettings") {
        let settings = doc.entry("routeSettings").or_insert(json!({}));
        if let Some(m) = settings.as_object_mut() {
            m.extend(new);
        }
    }
    changes.remove("stageName");
    doc.extend(changes);
    check_stage(&mut tx, &api, &api_id, &doc).await?;
    if !was_auto && doc.get("autoDeploy") == Some(&json!(true)) {
        deploy_now(&mut tx, &api_id, &mut doc).await?;
    }
    let doc = save_stage(&mut tx, &api_id, &name, doc).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(doc))
}

/// DELETE /v2/apis/{apiId}/stages/{stageName}
pub async fn delete(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    load_stage_for_update(&mut tx, &api_id, &name).await?;
    store::delete_item(&mut tx, stage_key(&api_id), &name).await?;
    crate::store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}
pub async fn delete_route_settings(
    State(state): State<AppState>,
    Path((api_id, name, route_key)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    let mut doc = load_stage_for_update(&mut tx, &api_id, &name).await?;
    let removed = doc
        .get_mut("routeSettings")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove(&route_key));
    if removed.is_none() {
        return Err(ApiError::not_found(format!(
            "Unable to find route settings for route key {route_key} in stage {name}"
        )));
    }
    save_stage(&mut tx, &api_id, &name, doc).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /v2/apis/{apiId}/stages/{stageName}/accesslogsettings
pub async fn delete_access_log_settings(
    State(state): State<AppState>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    let mut doc = load_stage_for_update(&mut tx, &api_id, &name).await?;
    doc.remove("accessLogSettings");
    save_stage(&mut tx, &api_id, &name, doc).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// POST /v2/apis/{apiId}/deployments: freezes the API; with `stageName`, points that
/// stage at the new deployment.
pub async fn create_deployment(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let req = shape::check("CreateDeployment", &body, true)?;
    let mut tx = state.db.begin().await?;
    store::load_api(&mut tx, &api_id, true).await?;
    let stage_name = req.get("stageName").and_then(Value::as_str);
    let stage = match stage_name {
        Some(name) => Some(load_stage_for_update(&mut tx, &api_id, name).await?),
        None => None,
    };
    if stage
        .as_ref()
        .is_some_and(|s| s.get("autoDeploy") == Some(&json!(true)))
    {
        return Err(ApiError::bad_request(format!(
            "Stage {} has autoDeploy enabled: it is deployed on every change",
            stage_name.unwrap_or_default()
        )));
    }
    let doc = deploy(&mut tx, &api_id, req.get("description").cloned(), false)
        .await?
        .map_err(ApiError::bad_request)?;
    if let (Some(name), Some(mut stage)) = (stage_name, stage) {
        stage.insert("deploymentId".into(), doc["deploymentId"].clone());
        save_stage(&mut tx, &api_id, name, stage).await?;
    }
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// GET /v2/apis/{apiId}/deployments
pub async fn list_deployments(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    AwsQuery(paging): AwsQuery<Paging>,
) -> ApiResult<Json<Value>> {
    list_of(&state, &api_id, deployment_key(&api_id), paging).await
}

/// GET /v2/apis/{apiId}/deployments/{deploymentId}
pub async fn get_deployment(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    get_of(&state, &api_id, deployment_key(&api_id), &id)
        .await?
        .ok_or_else(|| deployment_not_found(&id))
}

/// PATCH /v2/apis/{apiId}/deployments/{deploymentId}: the description only.
pub async fn update_deployment(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<Json<Value>> {
    let changes = shape::check("UpdateDeployment", &body, false)?;
    let mut tx = state.db.begin().await?;
    store::load_api(&mut tx, &api_id, true).await?;
    let Some(Value::Object(mut doc)) =
        store::load_item(&mut tx, deployment_key(&api_id), &id, true).await?
    else {
        return Err(deployment_not_found(&id));
    };
    if let Some(d) = changes.get("description") {
        doc.insert("description".into(), d.clone());
    }
    let doc = Value::Object(doc);
    store::save_item(&mut tx, deployment_key(&api_id), &id, &doc).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(doc))
}

/// DELETE /v2/apis/{apiId}/deployments/{deploymentId}: refused while a stage serves it.
pub async fn delete_deployment(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::load_api(&mut tx, &api_id, true).await?;
    if store::load_item(&mut tx, deployment_key(&api_id), &id, true)
        .await?
        .is_none()
    {
        return Err(deployment_not_found(&id));
    }
    let serving = store::list_items(&mut tx, stage_key(&api_id))
        .await?
        .iter()
        .any(|s| s.get("deploymentId") == Some(&json!(id)));
    if serving {
        return Err(ApiError::bad_request(
            "Active stages pointing to this deployment must be moved or deleted",
        ));
    }
    store::delete_item(&mut tx, deployment_key(&api_id), &id).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
