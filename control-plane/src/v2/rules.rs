//! API Gateway's rules for v2 entities, beyond the model's shapes ([`super::shape`]):
//! what a WebSocket API allows, references between items (a route's `target` and
//! `authorizerId`), uniqueness of keys and names, and the grammar of expressions,
//! templates and function URIs (through the engine's `compile::check`, so what is saved
//! is what a node compiles). Each check names the member it refuses; all are
//! `BadRequestException`s but duplicates (`ConflictException`).

use apigw_gateway::compile::check;
use apigw_gateway::compile::selection_expression::SelectionExpression;
use apigw_gateway::compile::websocket::check_request_parameter;
use serde_json::{json, Map, Value};
use sqlx::PgConnection;

use super::items::Kind;
use crate::error::{ApiError, ApiResult};
use crate::store::v2::{self as store, kind, Key};

/// The two `apiKeySelectionExpression`s API Gateway accepts.
pub const API_KEY_SELECTION: &[&str] = &[
    "$request.header.x-api-key",
    "$context.authorizer.usageIdentifierKey",
];

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

fn text<'a>(doc: &'a Map<String, Value>, member: &str) -> Option<&'a str> {
    doc.get(member).and_then(Value::as_str)
}

/// An API's rules (on create, with defaults; on update, over the merged document); HTTP
/// APIs' are [`super::http::api`], which answers a quick-create request.
pub fn api(
    doc: &mut Map<String, Value>,
    create: bool,
) -> ApiResult<Option<super::http::QuickCreate>> {
    let name = text(doc, "name").unwrap_or_default();
    if name.trim().is_empty() || name.len() > 128 {
        return Err(bad("name must be 1 to 128 characters long"));
    }
    if text(doc, "protocolType") == Some("HTTP") {
        return super::http::api(doc, create);
    }
    for m in ["target", "routeKey", "corsConfiguration", "credentialsArn"] {
        if doc.contains_key(m) {
            return Err(bad(format!("{m} is supported only for HTTP APIs")));
        }
    }
    let rse = text(doc, "routeSelectionExpression")
        .ok_or_else(|| bad("routeSelectionExpression is required for WEBSOCKET APIs"))?;
    SelectionExpression::parse(rse).map_err(|e| bad(format!("routeSelectionExpression: {e}")))?;
    if create {
        doc.entry("apiKeySelectionExpression")
            .or_insert(json!(API_KEY_SELECTION[0]));
    }
    if let Some(e) = text(doc, "apiKeySelectionExpression") {
        if !API_KEY_SELECTION.contains(&e) {
            return Err(bad(format!(
                "Invalid apiKeySelectionExpression '{e}': must be one of {}",
                API_KEY_SELECTION.join(", ")
            )));
        }
    }
    Ok(None)
}

/// The item's rules: defaults on create (`id` is `None`), references and uniqueness.
pub async fn item(
    conn: &mut PgConnection,
    api: &Value,
    k: &Kind,
    key: Key<'_>,
    id: Option<&str>,
    doc: &mut Map<String, Value>,
) -> ApiResult<()> {
    if !super::is_websocket(api) {
        return super::http::item(conn, k, key, id, doc).await;
    }
    let create = id.is_none();
    match k.kind {
        kind::ROUTE => route(conn, key, id, doc, create).await,
        kind::ROUTE_RESPONSE => {
            let rk = text(doc, "routeResponseKey").unwrap_or_default();
            if rk != "$default" {
                return Err(bad(format!(
                    "Invalid routeResponseKey '{rk}': WebSocket APIs support only $default"
                )));
            }
            unique(conn, key, id, doc, "routeResponseKey", "RouteResponse").await
        }
        kind::INTEGRATION => integration(doc, create),
        kind::INTEGRATION_RESPONSE => {
            let rk = text(doc, "integrationResponseKey").unwrap_or_default();
            let ok = rk == "$default"
                || (rk.len() > 2
                    && rk.starts_with('/')
                    && rk.ends_with('/')
                    && check::selection_pattern(&rk[1..rk.len() - 1]).is_ok());
            if !ok {
                return Err(bad(format!(
                    "Invalid integrationResponseKey '{rk}': use $default or a /regex/ of status codes"
                )));
            }
            templates(doc, "responseTemplates")?;
            if let Some(e) = text(doc, "templateSelectionExpression") {
                SelectionExpression::parse_response(e)
                    .map_err(|e| bad(format!("templateSelectionExpression: {e}")))?;
            }
            unique(
                conn,
                key,
                id,
                doc,
                "integrationResponseKey",
                "IntegrationResponse",
            )
            .await
        }
        kind::AUTHORIZER => {
            authorizer(doc)?;
            unique(conn, key, id, doc, "name", "Authorizer").await
        }
        kind::MODEL => {
            let name = text(doc, "name").unwrap_or_default();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(format!(
                    "Invalid model name '{name}': it must be alphanumeric"
                )));
            }
            let schema = text(doc, "schema").unwrap_or_default();
            let parsed: Value = serde_json::from_str(schema)
                .map_err(|e| bad(format!("Invalid model schema: not JSON: {e}")))?;
            if !parsed.is_object() {
                return Err(bad("Invalid model schema: it must be a JSON object"));
            }
            if create {
                doc.entry("contentType")
                    .or_insert(json!("application/json"));
            }
            unique(conn, key, id, doc, "name", "Model").await
        }
        _ => Ok(()),
    }
}

/// Refuses a second item with the same `member` value under the same parent.
pub(super) async fn unique(
    conn: &mut PgConnection,
    key: Key<'_>,
    id: Option<&str>,
    doc: &Map<String, Value>,
    member: &str,
    label: &str,
) -> ApiResult<()> {
    let value = doc.get(member);
    let id_member = super::items::id_member(key.kind);
    for other in store::list_items(conn, key).await? {
        let same = other.get(member) == value;
        let itself = id.is_some() && other.get(id_member).and_then(Value::as_str) == id;
        if same && !itself {
            return Err(ApiError::conflict(format!(
                "{label} with {member} '{}' already exists",
                value.and_then(Value::as_str).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

async fn route(
    conn: &mut PgConnection,
    key: Key<'_>,
    id: Option<&str>,
    doc: &mut Map<String, Value>,
    create: bool,
) -> ApiResult<()> {
    let route_key = text(doc, "routeKey").unwrap_or_default().to_string();
    if route_key.trim().is_empty() || route_key.len() > 128 {
        return Err(bad("routeKey must be 1 to 128 characters long"));
    }
    if route_key.starts_with('$')
        && !["$connect", "$disconnect", "$default"].contains(&route_key.as_str())
    {
        return Err(bad(format!(
            "Invalid routeKey '{route_key}': the reserved keys are $connect, $disconnect and $default"
        )));
    }
    if create {
        doc.entry("authorizationType").or_insert(json!("NONE"));
        doc.entry("apiKeyRequired").or_insert(json!(false));
    }
    let auth = text(doc, "authorizationType").unwrap_or("NONE").to_string();
    let is_connect = route_key == "$connect";
    match auth.as_str() {
        "JWT" => return Err(bad("JWT authorization is supported only for HTTP APIs")),
        "CUSTOM" | "AWS_IAM" if !is_connect => {
            return Err(bad(format!(
                "authorizationType {auth} is supported only on the $connect route"
            )))
        }
        _ => {}
    }
    if doc.get("apiKeyRequired") == Some(&json!(true)) && !is_connect {
        return Err(bad(
            "apiKeyRequired is supported only on the $connect route",
        ));
    }
    match (auth.as_str(), text(doc, "authorizerId")) {
        ("CUSTOM", None) => {
            return Err(bad(
                "authorizerId is required when authorizationType is CUSTOM",
            ))
        }
        ("CUSTOM", Some(a)) => {
            let akey = Key {
                kind: kind::AUTHORIZER,
                parent: "",
                ..key
            };
            if store::load_item(conn, akey, a, false).await?.is_none() {
                return Err(bad(format!("Invalid authorizer identifier specified: {a}")));
            }
        }
        (_, Some(_)) => {
            doc.remove("authorizerId");
        }
        _ => {}
    }
    if let Some(t) = text(doc, "target") {
        let integration = t.strip_prefix("integrations/").ok_or_else(|| {
            bad(format!(
                "Invalid target '{t}': it must be integrations/{{integrationId}}"
            ))
        })?;
        let ikey = Key {
            kind: kind::INTEGRATION,
            parent: "",
            ..key
        };
        if store::load_item(conn, ikey, integration, false)
            .await?
            .is_none()
        {
            return Err(bad(format!(
                "Invalid integration identifier specified in target: {integration}"
            )));
        }
    }
    if let Some(e) = text(doc, "routeResponseSelectionExpression") {
        if e != "$default" {
            return Err(bad(format!(
                "Invalid routeResponseSelectionExpression '{e}': WebSocket APIs support only $default"
            )));
        }
    }
    if let Some(e) = text(doc, "modelSelectionExpression") {
        SelectionExpression::parse(e).map_err(|e| bad(format!("modelSelectionExpression: {e}")))?;
    }
    unique(conn, key, id, doc, "routeKey", "Route").await
}

fn selection(doc: &Map<String, Value>, member: &str) -> ApiResult<()> {
    if let Some(e) = text(doc, member) {
        SelectionExpression::parse(e).map_err(|e| bad(format!("{member}: {e}")))?;
    }
    Ok(())
}

fn templates(doc: &Map<String, Value>, member: &str) -> ApiResult<()> {
    for (key, t) in doc
        .get(member)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let t = t.as_str().unwrap_or_default();
        check::template(t)
            .map_err(|e| bad(format!("{member}.{key}: Invalid mapping template: {e}")))?;
    }
    Ok(())
}

fn integration(doc: &mut Map<String, Value>, create: bool) -> ApiResult<()> {
    let ty = text(doc, "integrationType").unwrap_or_default().to_string();
    let uri = text(doc, "integrationUri").map(str::to_string);
    match (ty.as_str(), uri.as_deref()) {
        ("MOCK", _) => {}
        (_, None) => {
            return Err(bad(format!(
                "integrationUri is required for integrationType {ty}"
            )))
        }
        ("AWS" | "AWS_PROXY", Some(u)) => {
            check::function_uri(u).map_err(|e| bad(format!("Invalid integrationUri: {e}")))?;
        }
        (_, Some(u)) => {
            let ok = (u.starts_with("http://") || u.starts_with("https://"))
                && u.replace("${stageVariables.", "stagevar-")
                    .replace('}', "")
                    .parse::<http::Uri>()
                    .is_ok_and(|p| p.host().is_some());
            if !ok {
                return Err(bad(format!(
                    "Invalid integrationUri '{u}': an HTTP integration needs an http(s) URL"
                )));
            }
        }
    }
    if create
        && matches!(ty.as_str(), "HTTP" | "HTTP_PROXY")
        && text(doc, "integrationMethod").is_none()
    {
        doc.insert("integrationMethod".into(), json!("POST"));
    }
    if let Some(m) = text(doc, "integrationMethod") {
        const METHODS: &[&str] = &[
            "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
        ];
        if !METHODS.contains(&m) {
            return Err(bad(format!("Invalid integrationMethod '{m}'")));
        }
    }
    if let Some(t) = doc.get("timeoutInMillis").and_then(Value::as_i64) {
        if !(50..=29_000).contains(&t) {
            return Err(bad(format!(
                "Invalid timeoutInMillis {t}: it must be between 50 and 29000"
            )));
        }
    }
    if let Some(v) = text(doc, "payloadFormatVersion") {
        if v != "1.0" {
            return Err(bad(format!(
                "Invalid payloadFormatVersion '{v}': WebSocket APIs support only 1.0"
            )));
        }
    }
    if text(doc, "connectionType") == Some("VPC_LINK") {
        return Err(bad(
            "connectionType VPC_LINK is not supported for WebSocket APIs",
        ));
    }
    for (key, value) in doc
        .get("requestParameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = value.as_str().ok_or_else(|| {
            bad(format!(
                "requestParameters: the value of '{key}' must be a string"
            ))
        })?;
        check_request_parameter(key, value)
            .map_err(|e| bad(format!("requestParameters '{key}': {e}")))?;
    }
    templates(doc, "requestTemplates")?;
    selection(doc, "templateSelectionExpression")?;
    if create {
        doc.entry("connectionType").or_insert(json!("INTERNET"));
        doc.entry("timeoutInMillis").or_insert(json!(29_000));
        if ty != "AWS_PROXY" && ty != "HTTP_PROXY" {
            doc.entry("passthroughBehavior")
                .or_insert(json!("WHEN_NO_MATCH"));
        }
        if ty == "AWS_PROXY" || ty == "HTTP_PROXY" {
            doc.entry("payloadFormatVersion").or_insert(json!("1.0"));
        }
    }
    Ok(())
}

/// The identity sources a WebSocket REQUEST authorizer may read.
fn identity_source_ok(s: &str) -> bool {
    [
        "route.request.header.",
        "route.request.querystring.",
        "stageVariables.",
        "context.",
    ]
    .iter()
    .any(|p| s.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

fn authorizer(doc: &mut Map<String, Value>) -> ApiResult<()> {
    let name = text(doc, "name").unwrap_or_default();
    if name.trim().is_empty() || name.len() > 128 {
        return Err(bad("name must be 1 to 128 characters long"));
    }
    if text(doc, "authorizerType") != Some("REQUEST") {
        return Err(bad(
            "WebSocket APIs support only REQUEST authorizers (JWT is for HTTP APIs)",
        ));
    }
    let uri = text(doc, "authorizerUri")
        .ok_or_else(|| bad("authorizerUri is required for a REQUEST authorizer"))?;
    check::function_uri(uri).map_err(|e| bad(format!("Invalid authorizerUri: {e}")))?;
    let sources = doc
        .get("identitySource")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for s in &sources {
        let s = s.as_str().unwrap_or_default();
        if !identity_source_ok(s) {
            return Err(bad(format!(
                "Invalid identitySource '{s}': use route.request.header.X, \
                 route.request.querystring.X, stageVariables.X or context.X"
            )));
        }
    }
    if let Some(ttl) = doc
        .get("authorizerResultTtlInSeconds")
        .and_then(Value::as_i64)
    {
        if !(0..=3600).contains(&ttl) {
            return Err(bad(format!(
                "Invalid authorizerResultTtlInSeconds {ttl}: it must be between 0 and 3600"
            )));
        }
    }
    for m in [
        "jwtConfiguration",
        "enableSimpleResponses",
        "authorizerPayloadFormatVersion",
    ] {
        if doc.contains_key(m) {
            return Err(bad(format!("{m} is supported only for HTTP APIs")));
        }
    }
    Ok(())
}
