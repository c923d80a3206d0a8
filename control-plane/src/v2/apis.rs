//! CreateApi, GetApi, GetApis, UpdateApi, DeleteApi.
//!
//! `protocolType` WEBSOCKET needs a `routeSelectionExpression`;
//! `apiKeySelectionExpression` defaults to `$request.header.x-api-key`. `apiEndpoint` is
//! the `wss://{apiId}.execute-api.localhost` form of the nodes' default domain (a node
//! serves it on its HTTPS port, and as `ws://` on its HTTP port with that Host).
//!
//! `protocolType` HTTP ([`super::http::api`]): `apiEndpoint` is
//! `https://{apiId}.execute-api.localhost`; a `target` makes it a quick create
//! ([`super::http::quick_create`]: integration, route and auto-deployed `$default` stage in
//! the same transaction).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use super::{rules, shape, Paging};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery};
use crate::ids::random_id;
use crate::store;
use crate::AppState;

/// The nodes' default execute-api domain (`--execute-api-domain`).
pub const EXECUTE_API_DOMAIN: &str = "execute-api.localhost";

/// POST /v2/apis
pub async fn create(
    State(state): State<AppState>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut doc = shape::check("CreateApi", &body, true)?;
    let quick = rules::api(&mut doc, true)?;
    crate::validate::tags(&tags_of(&doc))?;
    let id = random_id(10);
    let websocket = doc["protocolType"] == "WEBSOCKET";
    let scheme = if websocket { "wss" } else { "https" };
    doc.insert("apiId".into(), json!(id));
    doc.insert(
        "apiEndpoint".into(),
        json!(format!("{scheme}://{id}.{EXECUTE_API_DOMAIN}")),
    );
    doc.insert("createdDate".into(), json!(super::now()));
    doc.entry("disableExecuteApiEndpoint")
        .or_insert(json!(false));
    doc.entry("tags").or_insert(json!({}));
    let doc = Value::Object(doc);
    let mut tx = state.db.begin().await?;
    store::v2::insert_api(&mut tx, &id, &doc).await?;
    if !websocket {
        if let Some(quick) = quick {
            super::http::quick_create(&mut tx, &id, quick).await?;
        }
        super::http::check_definition(&mut tx, &id, None).await?;
    }
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

fn tags_of(doc: &Map<String, Value>) -> std::collections::BTreeMap<String, String> {
    doc.get("tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// GET /v2/apis
pub async fn list(
    State(state): State<AppState>,
    AwsQuery(paging): AwsQuery<Paging>,
) -> ApiResult<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(paging.page(store::v2::list_apis(&mut conn).await?)?))
}

/// GET /v2/apis/{apiId}
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(super::load_api(&state, &id).await?))
}

/// PATCH /v2/apis/{apiId}: the members given replace the API's; `protocolType` cannot
/// change.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AwsJson(body): AwsJson<Value>,
) -> ApiResult<Json<Value>> {
    if body.get("protocolType").is_some() {
        return Err(ApiError::bad_request("protocolType cannot be updated"));
    }
    let mut changes = shape::check("UpdateApi", &body, false)?;
    let mut tx = state.db.begin().await?;
    let Value::Object(mut doc) = store::v2::load_api(&mut tx, &id, true).await? else {
        return Err(ApiError::Internal(format!("API {id} is not an object")));
    };
    // HTTP APIs: the quick-create members update the quick-created route and integration
    // (WebSocket APIs refuse them in `rules::api`).
    let http = doc.get("protocolType").and_then(Value::as_str) == Some("HTTP");
    let quick = if http {
        Some(super::http::take_quick_update(&mut changes)?)
    } else {
        None
    };
    doc.extend(changes);
    rules::api(&mut doc, false)?;
    let doc = Value::Object(doc);
    store::v2::save_api(&mut tx, &id, &doc).await?;
    if let Some(quick) = quick {
        super::http::quick_update(&mut tx, &id, quick).await?;
    }
    if http {
        super::http::check_definition(&mut tx, &id, None).await?;
    }
    super::stages::auto_deploy(&mut tx, &id).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(doc))
}

/// DELETE /v2/apis/{apiId}/cors: the HTTP API's `corsConfiguration` goes (auto-deploy
/// follows).
pub async fn delete_cors(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    let Value::Object(mut doc) = store::v2::load_api(&mut tx, &id, true).await? else {
        return Err(ApiError::Internal(format!("API {id} is not an object")));
    };
    if doc.get("protocolType").and_then(Value::as_str) != Some("HTTP") {
        return Err(ApiError::bad_request(
            "corsConfiguration is supported only for HTTP APIs",
        ));
    }
    doc.remove("corsConfiguration");
    store::v2::save_api(&mut tx, &id, &Value::Object(doc)).await?;
    super::stages::auto_deploy(&mut tx, &id).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /v2/apis/{apiId}: the API, its stages and deployments.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::v2::load_api(&mut tx, &id, true).await?;
    store::v2::delete_api(&mut tx, &id).await?;
    store::config::bump(&mut tx).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
