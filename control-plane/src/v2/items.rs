//! The calls of an API's items that share one shape: routes, route responses,
//! integrations, integration responses, authorizers and models (Create, Get, Get…s,
//! Update, Delete each). A [`Kind`] says where an item lives, which member is its id,
//! which model operations check its bodies and what it is called in messages; the rules
//! for each are [`super::rules::item`]'s.
//!
//! Every change takes the API's row lock first, runs the rules against the stored items,
//! writes, then lets [`super::stages::auto_deploy`] redeploy `autoDeploy` stages, all in one
//! transaction.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{rules, shape, Paging};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AwsJson, AwsQuery};
use crate::ids::random_id;
use crate::openapi::{route, Route, Verb::*};
use crate::store::v2::{self as store, kind, Key};
use crate::AppState;

/// One kind of item.
#[derive(Debug)]
pub struct Kind {
    /// `store::v2::kind::*`.
    pub kind: &'static str,
    /// The name in messages (`Route`).
    pub label: &'static str,
    /// The model operation suffix (`Route` → `CreateRoute`, `UpdateRoute`).
    pub op: &'static str,
    /// The path parameter of the item's id.
    pub id_param: &'static str,
    /// The parent's kind, label and path parameter, for route and integration responses.
    pub parent: Option<(&'static str, &'static str, &'static str)>,
}

/// Routes.
pub const ROUTE: Kind = Kind {
    kind: kind::ROUTE,
    label: "Route",
    op: "Route",
    id_param: "route_id",
    parent: None,
};
/// Route responses.
pub const ROUTE_RESPONSE: Kind = Kind {
    kind: kind::ROUTE_RESPONSE,
    label: "RouteResponse",
    op: "RouteResponse",
    id_param: "item_id",
    parent: Some((kind::ROUTE, "Route", "route_id")),
};
/// Integrations.
pub const INTEGRATION: Kind = Kind {
    kind: kind::INTEGRATION,
    label: "Integration",
    op: "Integration",
    id_param: "integration_id",
    parent: None,
};
/// Integration responses.
pub const INTEGRATION_RESPONSE: Kind = Kind {
    kind: kind::INTEGRATION_RESPONSE,
    label: "IntegrationResponse",
    op: "IntegrationResponse",
    id_param: "item_id",
    parent: Some((kind::INTEGRATION, "Integration", "integration_id")),
};
/// Authorizers.
pub const AUTHORIZER: Kind = Kind {
    kind: kind::AUTHORIZER,
    label: "Authorizer",
    op: "Authorizer",
    id_param: "item_id",
    parent: None,
};
/// Models.
pub const MODEL: Kind = Kind {
    kind: kind::MODEL,
    label: "Model",
    op: "Model",
    id_param: "item_id",
    parent: None,
};

/// The member that holds an item's id.
pub fn id_member(kind: &str) -> &'static str {
    match kind {
        kind::ROUTE => "routeId",
        kind::ROUTE_RESPONSE => "routeResponseId",
        kind::INTEGRATION => "integrationId",
        kind::INTEGRATION_RESPONSE => "integrationResponseId",
        kind::AUTHORIZER => "authorizerId",
        kind::MODEL => "modelId",
        kind::STAGE => "stageName",
        _ => "deploymentId",
    }
}

fn not_found(label: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid {label} identifier specified {id}"))
}

type Params = HashMap<String, String>;

fn param<'a>(p: &'a Params, name: &str) -> ApiResult<&'a str> {
    p.get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::Internal(format!("route without {{{name}}}")))
}

/// Checks that the parent (if the kind has one) exists; answers the item's key.
async fn key_of<'a>(conn: &mut sqlx::PgConnection, k: &Kind, p: &'a Params) -> ApiResult<Key<'a>> {
    let api = param(p, "api_id")?;
    let parent = match k.parent {
        None => "",
        Some((parent_kind, label, parent_param)) => {
            let parent = param(p, parent_param)?;
            let pkey = Key {
                api,
                kind: parent_kind,
                parent: "",
            };
            if store::load_item(conn, pkey, parent, false).await?.is_none() {
                return Err(not_found(label, parent));
            }
            parent
        }
    };
    Ok(Key {
        api,
        kind: k.kind,
        parent,
    })
}

/// Create…
pub async fn create(
    k: &'static Kind,
    state: AppState,
    p: Params,
    body: Value,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut doc = shape::check(&format!("Create{}", k.op), &body, true)?;
    let mut tx = state.db.begin().await?;
    let api = store::load_api(&mut tx, param(&p, "api_id")?, true).await?;
    let key = key_of(&mut tx, k, &p).await?;
    rules::item(&mut tx, &api, k, key, None, &mut doc).await?;
    let id = random_id(7);
    doc.insert(id_member(k.kind).into(), json!(id));
    let doc = Value::Object(doc);
    store::insert_item(&mut tx, key, &id, &doc).await?;
    check_http(&mut tx, &api, key.api).await?;
    super::stages::auto_deploy(&mut tx, key.api).await?;
    crate::audit::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// Get…s
pub async fn list(
    k: &'static Kind,
    state: AppState,
    p: Params,
    paging: Paging,
) -> ApiResult<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    store::load_api(&mut conn, param(&p, "api_id")?, false).await?;
    let key = key_of(&mut conn, k, &p).await?;
    Ok(Json(paging.page(store::list_items(&mut conn, key).await?)?))
}

/// Get…
pub async fn get(k: &'static Kind, state: AppState, p: Params) -> ApiResult<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    store::load_api(&mut conn, param(&p, "api_id")?, false).await?;
    let key = key_of(&mut conn, k, &p).await?;
    let id = param(&p, k.id_param)?;
    store::load_item(&mut conn, key, id, false)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(k.label, id))
}

/// Update…: the members given replace the item's.
pub async fn update(
    k: &'static Kind,
    state: AppState,
    p: Params,
    body: Value,
) -> ApiResult<Json<Value>> {
    let changes = shape::check(&format!("Update{}", k.op), &body, false)?;
    let mut tx = state.db.begin().await?;
    let api = store::load_api(&mut tx, param(&p, "api_id")?, true).await?;
    let key = key_of(&mut tx, k, &p).await?;
    let id = param(&p, k.id_param)?;
    let Some(Value::Object(mut doc)) = store::load_item(&mut tx, key, id, true).await? else {
        return Err(not_found(k.label, id));
    };
    for (member, value) in changes {
        // An empty string clears a member that may be absent (AWS's UpdateRoute takes
        // `authorizerId: ""`, `target: ""` and the like to detach).
        if value.as_str() == Some("") && clearable(k, &member) {
            doc.remove(&member);
        } else {
            doc.insert(member, value);
        }
    }
    rules::item(&mut tx, &api, k, key, Some(id), &mut doc).await?;
    let doc = Value::Object(doc);
    store::save_item(&mut tx, key, id, &doc).await?;
    check_http(&mut tx, &api, key.api).await?;
    super::stages::auto_deploy(&mut tx, key.api).await?;
    crate::audit::commit(tx).await?;
    Ok(Json(doc))
}

/// An HTTP API's whole definition, after the change, must compile
/// ([`super::http::check_definition`]); the transaction is dropped otherwise.
async fn check_http(conn: &mut sqlx::PgConnection, api: &Value, api_id: &str) -> ApiResult<()> {
    if super::is_websocket(api) {
        return Ok(());
    }
    super::http::check_definition(conn, api_id, None).await
}

/// Whether an update's empty string removes `member` of a `k` item instead of setting it.
fn clearable(k: &Kind, member: &str) -> bool {
    k.kind == kind::ROUTE
        && matches!(
            member,
            "target"
                | "authorizerId"
                | "operationName"
                | "modelSelectionExpression"
                | "routeResponseSelectionExpression"
        )
}

/// Delete…: refused while a route names the integration or authorizer.
pub async fn delete(k: &'static Kind, state: AppState, p: Params) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    let api = store::load_api(&mut tx, param(&p, "api_id")?, true).await?;
    let key = key_of(&mut tx, k, &p).await?;
    let id = param(&p, k.id_param)?;
    if store::load_item(&mut tx, key, id, true).await?.is_none() {
        return Err(not_found(k.label, id));
    }
    let (member, value) = match k.kind {
        kind::INTEGRATION => ("target", format!("integrations/{id}")),
        kind::AUTHORIZER => ("authorizerId", id.to_string()),
        _ => ("", String::new()),
    };
    if !member.is_empty() {
        let routes = Key {
            kind: kind::ROUTE,
            parent: "",
            ..key
        };
        let users: Vec<String> = store::list_items(&mut tx, routes)
            .await?
            .into_iter()
            .filter(|r| r.get(member).and_then(Value::as_str) == Some(value.as_str()))
            .filter_map(|r| {
                r.get("routeKey")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        if !users.is_empty() {
            return Err(ApiError::conflict(format!(
                "Cannot delete {} '{id}': it is used by the route(s) {}",
                k.label,
                users.join(", ")
            )));
        }
    }
    store::delete_item(&mut tx, key, id).await?;
    check_http(&mut tx, &api, key.api).await?;
    super::stages::auto_deploy(&mut tx, key.api).await?;
    crate::audit::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /v2/apis/{apiId}/models/{modelId}/template: a mapping template that writes the
/// model's schema back as JSON (`$input.json('$')`), the simplest template valid for it.
pub async fn model_template(
    State(state): State<AppState>,
    Path(p): Path<Params>,
) -> ApiResult<Json<Value>> {
    let _model = get(&MODEL, state, p).await?;
    Ok(Json(json!({ "value": "$input.json('$')" })))
}

/// The routers of one kind.
/// The five calls of `k`'s items: list and create on `collection`, get, update and delete
/// on `item`; `names` are the model's operation names in that order.
pub fn routes(
    k: &'static Kind,
    collection: &str,
    item: &str,
    names: [&'static str; 5],
) -> Vec<Route> {
    let [list_name, create_name, get_name, update_name, delete_name] = names;
    vec![
        route(
            Get,
            collection,
            list_name,
            200,
            move |State(s): State<AppState>,
                  Path(p): Path<Params>,
                  AwsQuery(q): AwsQuery<Paging>| { list(k, s, p, q) },
        ),
        route(
            Post,
            collection,
            create_name,
            201,
            move |State(s): State<AppState>, Path(p): Path<Params>, AwsJson(b): AwsJson<Value>| {
                create(k, s, p, b)
            },
        ),
        route(
            Get,
            item,
            get_name,
            200,
            move |State(s): State<AppState>, Path(p): Path<Params>| get(k, s, p),
        ),
        route(
            Patch,
            item,
            update_name,
            200,
            move |State(s): State<AppState>, Path(p): Path<Params>, AwsJson(b): AwsJson<Value>| {
                update(k, s, p, b)
            },
        ),
        route(
            Delete,
            item,
            delete_name,
            204,
            move |State(s): State<AppState>, Path(p): Path<Params>| delete(k, s, p),
        ),
    ]
}
