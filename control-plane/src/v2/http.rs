//! API Gateway's rules for HTTP APIs (`protocolType: HTTP`), next to the WebSocket ones
//! in [`super::rules`]: the API (route selection expression, CORS, quick create's
//! members), routes (`METHOD /path` keys, JWT / CUSTOM / AWS_IAM authorization),
//! `HTTP_PROXY` and `AWS_PROXY` integrations (payload format versions, parameter
//! mappings), JWT and Lambda REQUEST authorizers, and quick create itself.
//!
//! Grammar lives in the engine (`apigw_gateway::compile::http_api`): route keys and
//! parameter mappings are checked entry by entry with its `check_*` functions, and after
//! every change the API's whole definition is built into the `HttpStageConfig` a node
//! would compile ([`check_definition`]) and run through its `check_stage`.

use apigw_gateway::compile::{check, http_api};
use serde_json::{json, Map, Value};
use sqlx::PgConnection;

use super::items::Kind;
use crate::error::{ApiError, ApiResult};
use crate::store::v2::{self as store, kind, Key};

/// The route selection expression of every HTTP API (the model's spelling; AWS's own
/// `$request.method $request.path` is accepted too).
pub const ROUTE_SELECTION: &str = "${request.method} ${request.path}";
const ROUTE_SELECTION_AWS: &str = "$request.method $request.path";

/// The one `apiKeySelectionExpression` an HTTP API has (it has no API keys; AWS still
/// answers it).
const API_KEY_SELECTION: &str = "$request.header.x-api-key";

/// The methods of route keys, integrations and CORS.
const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

fn text<'a>(doc: &'a Map<String, Value>, member: &str) -> Option<&'a str> {
    doc.get(member).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Refuses members set to anything but their neutral value (absent, null, false, an
/// empty string, list or map).
fn refuse_members(doc: &Map<String, Value>, members: &[&str], why: &str) -> ApiResult<()> {
    for m in members {
        let set = match doc.get(*m) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(o)) => !o.is_empty(),
            Some(_) => true,
        };
        if set {
            return Err(bad(format!("{m} is {why}")));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The API.

/// The quick-create members of a CreateApi body, taken out of the API's document.
#[derive(Debug, Default)]
pub struct QuickCreate {
    pub target: String,
    pub route_key: String,
    pub credentials_arn: Option<String>,
}

/// An HTTP API's rules (on create with defaults, on update over the merged document).
/// On create, answers the quick-create request when `target` was given; `routeKey` and
/// `credentialsArn` need it.
pub fn api(doc: &mut Map<String, Value>, create: bool) -> ApiResult<Option<QuickCreate>> {
    let quick = if create {
        let target = doc.remove("target");
        let route_key = doc.remove("routeKey");
        let credentials = doc.remove("credentialsArn");
        match target.as_ref().and_then(Value::as_str) {
            None => {
                if route_key.is_some() || credentials.is_some() {
                    return Err(bad(
                        "routeKey and credentialsArn are part of quick create: they need a target",
                    ));
                }
                None
            }
            Some(t) => {
                check_quick_target(t)?;
                let route_key = route_key
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or("$default")
                    .to_string();
                check_route_key(&route_key)?;
                Some(QuickCreate {
                    target: t.to_string(),
                    route_key,
                    credentials_arn: credentials
                        .as_ref()
                        .and_then(Value::as_str)
                        .map(String::from),
                })
            }
        }
    } else {
        // UpdateApi takes them off first (`take_quick_update`); never stored on the API.
        for m in ["target", "routeKey", "credentialsArn"] {
            doc.remove(m);
        }
        None
    };
    if create {
        doc.entry("routeSelectionExpression")
            .or_insert(json!(ROUTE_SELECTION));
        doc.entry("apiKeySelectionExpression")
            .or_insert(json!(API_KEY_SELECTION));
    }
    let rse = text(doc, "routeSelectionExpression").unwrap_or_default();
    if rse != ROUTE_SELECTION && rse != ROUTE_SELECTION_AWS {
        return Err(bad(format!(
            "Invalid routeSelectionExpression '{rse}': HTTP APIs support only {ROUTE_SELECTION}"
        )));
    }
    if let Some(e) = text(doc, "apiKeySelectionExpression") {
        if e != API_KEY_SELECTION {
            return Err(bad(format!(
                "Invalid apiKeySelectionExpression '{e}': HTTP APIs have no API keys"
            )));
        }
    }
    refuse_members(
        doc,
        &["disableSchemaValidation"],
        "supported only for WebSocket APIs",
    )?;
    if let Some(cors) = doc.get("corsConfiguration").and_then(Value::as_object) {
        check_cors(cors)?;
    }
    Ok(quick)
}

/// Quick create's `target`: an http(s) URL or a Lambda function ARN.
fn check_quick_target(t: &str) -> ApiResult<()> {
    if t.starts_with("http://") || t.starts_with("https://") {
        return check_url(t).map_err(|_| {
            bad(format!(
                "Invalid target '{t}': use a fully qualified http(s) URL or a Lambda function ARN"
            ))
        });
    }
    check_lambda(t).map_err(|e| {
        bad(format!(
            "Invalid target '{t}': use a fully qualified http(s) URL or a Lambda function ARN ({e})"
        ))
    })
}

/// Whether a quick-create target names a Lambda function (else it is a URL).
pub fn target_is_lambda(t: &str) -> bool {
    !(t.starts_with("http://") || t.starts_with("https://"))
}

fn check_cors(cors: &Map<String, Value>) -> ApiResult<()> {
    let origins = strings(cors.get("allowOrigins"));
    for o in &origins {
        let ok = o == "*"
            || ((o.starts_with("http://") || o.starts_with("https://"))
                && !o.contains(char::is_whitespace));
        if !ok {
            return Err(bad(format!(
                "Invalid corsConfiguration.allowOrigins entry '{o}': use *, or an origin \
                 such as https://www.example.com (https://* and http://* allowed)"
            )));
        }
    }
    if cors.get("allowCredentials") == Some(&json!(true)) && origins.iter().any(|o| o == "*") {
        return Err(bad(
            "corsConfiguration: allowCredentials cannot be true when allowOrigins contains *; \
             list the origins instead",
        ));
    }
    for m in strings(cors.get("allowMethods")) {
        if m != "*" && !METHODS.contains(&m.as_str()) {
            return Err(bad(format!(
                "Invalid corsConfiguration.allowMethods entry '{m}': use an HTTP method or *"
            )));
        }
    }
    for member in ["allowHeaders", "exposeHeaders"] {
        for h in strings(cors.get(member)) {
            let ok = h == "*"
                || (!h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)));
            if !ok {
                return Err(bad(format!(
                    "Invalid corsConfiguration.{member} entry '{h}': not a header name"
                )));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Items.

/// An HTTP API item's rules: defaults on create (`id` is `None`), references and
/// uniqueness.
pub async fn item(
    conn: &mut PgConnection,
    k: &Kind,
    key: Key<'_>,
    id: Option<&str>,
    doc: &mut Map<String, Value>,
) -> ApiResult<()> {
    let create = id.is_none();
    match k.kind {
        kind::ROUTE => route(conn, key, id, doc, create).await,
        kind::INTEGRATION => {
            integration(doc, create)?;
            Ok(())
        }
        kind::AUTHORIZER => {
            authorizer(doc, create)?;
            super::rules::unique(conn, key, id, doc, "name", "Authorizer").await?;
            if let Some(id) = id {
                authorizer_users_agree(conn, key, id, doc).await?;
            }
            Ok(())
        }
        _ => Err(bad(format!(
            "{}s are supported only for WebSocket APIs",
            k.label
        ))),
    }
}

/// Cheap structural check of a route key; the grammar is the engine's
/// ([`http_api::check_route_key`]).
fn check_route_key(route_key: &str) -> ApiResult<()> {
    if route_key.trim().is_empty() || route_key.len() > 128 {
        return Err(bad("routeKey must be 1 to 128 characters long"));
    }
    let shaped = route_key == "$default"
        || route_key.split_once(' ').is_some_and(|(method, path)| {
            METHODS.contains(&method) && path.starts_with('/') && !path.contains(' ')
        });
    if !shaped {
        return Err(bad(format!(
            "Invalid routeKey '{route_key}': HTTP APIs use $default or 'METHOD /path' \
             (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY)"
        )));
    }
    http_api::check_route_key(route_key)
        .map_err(|e| bad(format!("Invalid routeKey '{route_key}': {e}")))
}

async fn route(
    conn: &mut PgConnection,
    key: Key<'_>,
    id: Option<&str>,
    doc: &mut Map<String, Value>,
    create: bool,
) -> ApiResult<()> {
    let route_key = text(doc, "routeKey").unwrap_or_default().to_string();
    check_route_key(&route_key)?;
    refuse_members(
        doc,
        &[
            "apiKeyRequired",
            "modelSelectionExpression",
            "requestModels",
            "requestParameters",
            "routeResponseSelectionExpression",
        ],
        "supported only for WebSocket APIs",
    )?;
    if create {
        doc.entry("authorizationType").or_insert(json!("NONE"));
        doc.entry("apiKeyRequired").or_insert(json!(false));
    }
    let auth = text(doc, "authorizationType").unwrap_or("NONE").to_string();
    let scopes = strings(doc.get("authorizationScopes"));
    if !scopes.is_empty() && auth != "JWT" {
        return Err(bad(format!(
            "authorizationScopes are supported only with JWT authorization, not {auth}"
        )));
    }
    match auth.as_str() {
        "JWT" | "CUSTOM" => {
            let want = if auth == "JWT" { "JWT" } else { "REQUEST" };
            let a = text(doc, "authorizerId").ok_or_else(|| {
                bad(format!(
                    "authorizerId is required when authorizationType is {auth}"
                ))
            })?;
            let akey = Key {
                kind: kind::AUTHORIZER,
                parent: "",
                ..key
            };
            let Some(authorizer) = store::load_item(conn, akey, a, false).await? else {
                return Err(bad(format!("Invalid authorizer identifier specified: {a}")));
            };
            let ty = authorizer
                .get("authorizerType")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if ty != want {
                return Err(bad(format!(
                    "authorizationType {auth} needs a {want} authorizer; authorizer {a} is {ty}"
                )));
            }
        }
        _ => {
            // NONE and AWS_IAM use no authorizer.
            doc.remove("authorizerId");
        }
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
    super::rules::unique(conn, key, id, doc, "routeKey", "Route").await
}

/// An http(s) URL with a host (`${stageVariables.x}` allowed anywhere).
fn check_url(u: &str) -> Result<(), ()> {
    let ok = (u.starts_with("http://") || u.starts_with("https://"))
        && u.replace("${stageVariables.", "stagevar-")
            .replace('}', "")
            .parse::<http::Uri>()
            .is_ok_and(|p| p.host().is_some_and(|h| !h.is_empty()));
    if ok {
        Ok(())
    } else {
        Err(())
    }
}

/// A Lambda function ARN (`arn:aws:lambda:{region}:{account}:function:{name}`) or an
/// invocation URI (`arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/…`),
/// through the engine's function URI parser.
fn check_lambda(uri: &str) -> Result<(), String> {
    let parts: Vec<&str> = uri.splitn(5, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "lambda", region, _] if !region.is_empty() => {
            let wrapped = format!(
                "arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{uri}/invocations"
            );
            check::function_uri(&wrapped).map_err(|e| e.to_string())
        }
        _ => check::function_uri(uri).map_err(|e| e.to_string()),
    }
}

/// An integration's rules; defaults on create.
pub fn integration(doc: &mut Map<String, Value>, create: bool) -> ApiResult<()> {
    let ty = text(doc, "integrationType").unwrap_or_default().to_string();
    if ty != "HTTP_PROXY" && ty != "AWS_PROXY" {
        return Err(bad(format!(
            "integrationType {ty} is not supported for HTTP APIs: use HTTP_PROXY or AWS_PROXY"
        )));
    }
    refuse_members(
        doc,
        &[
            "requestTemplates",
            "templateSelectionExpression",
            "passthroughBehavior",
            "contentHandlingStrategy",
        ],
        "supported only for WebSocket APIs",
    )?;
    refuse_members(
        doc,
        &["integrationSubtype", "connectionId"],
        "not supported by this gateway (AWS service integrations and VPC links)",
    )?;
    if text(doc, "connectionType") == Some("VPC_LINK") {
        return Err(bad(
            "connectionType VPC_LINK is not supported by this gateway for HTTP APIs",
        ));
    }
    let uri = text(doc, "integrationUri")
        .ok_or_else(|| {
            bad(format!(
                "integrationUri is required for integrationType {ty}"
            ))
        })?
        .to_string();
    if ty == "HTTP_PROXY" {
        check_url(&uri).map_err(|_| {
            bad(format!(
                "Invalid integrationUri '{uri}': an HTTP_PROXY integration needs a fully qualified http(s) URL"
            ))
        })?;
        let method = text(doc, "integrationMethod")
            .ok_or_else(|| bad("integrationMethod is required for HTTP_PROXY integrations"))?;
        if !METHODS.contains(&method) {
            return Err(bad(format!(
                "Invalid integrationMethod '{method}': use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY"
            )));
        }
    } else {
        check_lambda(&uri).map_err(|e| {
            bad(format!(
                "Invalid integrationUri '{uri}': an AWS_PROXY integration needs a Lambda function ARN or invocation URI ({e})"
            ))
        })?;
        if let Some(m) = text(doc, "integrationMethod") {
            if !METHODS.contains(&m) {
                return Err(bad(format!("Invalid integrationMethod '{m}'")));
            }
        }
    }
    let version = text(doc, "payloadFormatVersion")
        .ok_or_else(|| bad("payloadFormatVersion is required for HTTP API integrations"))?;
    match (ty.as_str(), version) {
        ("AWS_PROXY", "1.0" | "2.0") | ("HTTP_PROXY", "1.0") => {}
        ("HTTP_PROXY", v) => {
            return Err(bad(format!(
                "Invalid payloadFormatVersion '{v}': HTTP_PROXY integrations support only 1.0"
            )))
        }
        (_, v) => {
            return Err(bad(format!(
                "Invalid payloadFormatVersion '{v}': use 1.0 or 2.0"
            )))
        }
    }
    if let Some(t) = doc.get("timeoutInMillis").and_then(Value::as_i64) {
        if !(50..=30_000).contains(&t) {
            return Err(bad(format!(
                "Invalid timeoutInMillis {t}: it must be between 50 and 30000"
            )));
        }
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
        http_api::check_request_parameter(key, value)
            .map_err(|e| bad(format!("Invalid requestParameters '{key}': {e}")))?;
    }
    for (status, map) in doc
        .get("responseParameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let ok = status.len() == 3
            && status
                .parse::<u16>()
                .is_ok_and(|s| (200..=599).contains(&s));
        if !ok {
            return Err(bad(format!(
                "Invalid responseParameters key '{status}': use a status code between 200 and 599"
            )));
        }
        for (key, value) in map.as_object().into_iter().flatten() {
            let value = value.as_str().unwrap_or_default();
            http_api::check_response_parameter(key, value).map_err(|e| {
                bad(format!(
                    "Invalid responseParameters '{status}' '{key}': {e}"
                ))
            })?;
        }
    }
    if let Some(tls) = doc.get("tlsConfig").and_then(Value::as_object) {
        if let Some(name) = tls.get("serverNameToVerify").and_then(Value::as_str) {
            let ok = !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(bad(format!(
                    "Invalid tlsConfig.serverNameToVerify '{name}': it must be a host name"
                )));
            }
        }
    }
    if create {
        doc.entry("connectionType").or_insert(json!("INTERNET"));
        doc.entry("timeoutInMillis").or_insert(json!(30_000));
    }
    Ok(())
}

/// `$request.header.X`, `$request.querystring.X`, `$context.X`, `$stageVariables.X`.
fn identity_source_ok(s: &str, jwt: bool) -> bool {
    let prefixes: &[&str] = if jwt {
        &["$request.header.", "$request.querystring."]
    } else {
        &[
            "$request.header.",
            "$request.querystring.",
            "$context.",
            "$stageVariables.",
        ]
    };
    prefixes
        .iter()
        .any(|p| s.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// An authorizer's rules; defaults on create.
pub fn authorizer(doc: &mut Map<String, Value>, create: bool) -> ApiResult<()> {
    let name = text(doc, "name").unwrap_or_default();
    if name.trim().is_empty() || name.len() > 128 {
        return Err(bad("name must be 1 to 128 characters long"));
    }
    let ty = text(doc, "authorizerType").unwrap_or_default().to_string();
    if create && ty == "JWT" {
        let empty = doc
            .get("identitySource")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if empty {
            doc.insert(
                "identitySource".into(),
                json!(["$request.header.Authorization"]),
            );
        }
    }
    let sources = strings(doc.get("identitySource"));
    let jwt = ty == "JWT";
    for s in &sources {
        if !identity_source_ok(s, jwt) {
            let allowed = if jwt {
                "$request.header.X or $request.querystring.X"
            } else {
                "$request.header.X, $request.querystring.X, $context.X or $stageVariables.X"
            };
            return Err(bad(format!("Invalid identitySource '{s}': use {allowed}")));
        }
    }
    match ty.as_str() {
        "JWT" => {
            if sources.len() != 1 {
                return Err(bad(
                    "A JWT authorizer takes exactly one identitySource, such as $request.header.Authorization",
                ));
            }
            refuse_members(
                doc,
                &[
                    "authorizerUri",
                    "authorizerCredentialsArn",
                    "authorizerPayloadFormatVersion",
                    "enableSimpleResponses",
                ],
                "supported only for REQUEST authorizers",
            )?;
            if doc
                .get("authorizerResultTtlInSeconds")
                .and_then(Value::as_i64)
                .is_some_and(|t| t != 0)
            {
                return Err(bad(
                    "authorizerResultTtlInSeconds is supported only for REQUEST authorizers",
                ));
            }
            let jwt = doc
                .get("jwtConfiguration")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("jwtConfiguration is required for a JWT authorizer"))?;
            let issuer = jwt
                .get("issuer")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if issuer.is_empty() {
                return Err(bad(
                    "jwtConfiguration.issuer is required for a JWT authorizer",
                ));
            }
            if !issuer.starts_with("https://") && !issuer.starts_with("http://") {
                return Err(bad(format!(
                    "Invalid jwtConfiguration.issuer '{issuer}': it must be the issuer's URL"
                )));
            }
            if strings(jwt.get("audience")).is_empty() {
                return Err(bad(
                    "jwtConfiguration.audience is required for a JWT authorizer: name at least one audience",
                ));
            }
        }
        "REQUEST" => {
            refuse_members(
                doc,
                &["jwtConfiguration"],
                "supported only for JWT authorizers",
            )?;
            let uri = text(doc, "authorizerUri")
                .ok_or_else(|| bad("authorizerUri is required for a REQUEST authorizer"))?;
            check::function_uri(uri).map_err(|e| bad(format!("Invalid authorizerUri: {e}")))?;
            let version = text(doc, "authorizerPayloadFormatVersion")
                .ok_or_else(|| {
                    bad("authorizerPayloadFormatVersion is required for HTTP API Lambda authorizers")
                })?
                .to_string();
            if version != "1.0" && version != "2.0" {
                return Err(bad(format!(
                    "Invalid authorizerPayloadFormatVersion '{version}': use 1.0 or 2.0"
                )));
            }
            if doc.get("enableSimpleResponses") == Some(&json!(true)) && version != "2.0" {
                return Err(bad(
                    "enableSimpleResponses is supported only with authorizerPayloadFormatVersion 2.0",
                ));
            }
            if create {
                doc.entry("authorizerResultTtlInSeconds")
                    .or_insert(json!(0));
                if version == "2.0" {
                    doc.entry("enableSimpleResponses").or_insert(json!(false));
                }
            }
            let ttl = doc
                .get("authorizerResultTtlInSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if !(0..=3600).contains(&ttl) {
                return Err(bad(format!(
                    "Invalid authorizerResultTtlInSeconds {ttl}: it must be between 0 and 3600"
                )));
            }
            if ttl > 0 && sources.is_empty() {
                return Err(bad(
                    "identitySource is required when authorizer caching is enabled (authorizerResultTtlInSeconds > 0)",
                ));
            }
        }
        other => return Err(bad(format!("Invalid authorizerType '{other}'"))),
    }
    Ok(())
}

/// An updated authorizer must still suit the routes that use it.
async fn authorizer_users_agree(
    conn: &mut PgConnection,
    key: Key<'_>,
    id: &str,
    doc: &Map<String, Value>,
) -> ApiResult<()> {
    let want = match text(doc, "authorizerType") {
        Some("JWT") => "JWT",
        _ => "CUSTOM",
    };
    let routes = Key {
        kind: kind::ROUTE,
        parent: "",
        ..key
    };
    for r in store::list_items(conn, routes).await? {
        if r.get("authorizerId").and_then(Value::as_str) == Some(id)
            && r.get("authorizationType").and_then(Value::as_str) != Some(want)
        {
            return Err(ApiError::conflict(format!(
                "Authorizer {id} is used by the route {} with authorizationType {}: its type cannot change",
                r.get("routeKey").and_then(Value::as_str).unwrap_or_default(),
                r.get("authorizationType").and_then(Value::as_str).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The whole definition.

/// Builds the API's current definition into the `HttpStageConfig` a node would compile
/// (with `stage`'s settings, or a bare `$default` stage) and runs the engine's check.
pub async fn check_definition(
    conn: &mut PgConnection,
    api_id: &str,
    stage: Option<&Value>,
) -> ApiResult<()> {
    let frozen = match super::stages::freeze(conn, api_id).await? {
        Ok(f) => f,
        Err(why) => return Err(bad(why)),
    };
    let bare = json!({"stageName": "$default"});
    let config = super::distribute::http_stage_config(api_id, stage.unwrap_or(&bare), &frozen);
    http_api::check_stage(&config).map_err(|e| bad(e.to_string()))
}

// ---------------------------------------------------------------------------------------
// Quick create.

/// The quick-create members of an UpdateApi body: each replaces its part of the
/// quick-created integration (`target`: URI and type; `credentialsArn`) or route
/// (`routeKey`).
#[derive(Debug, Default)]
pub struct QuickUpdate {
    pub target: Option<String>,
    pub route_key: Option<String>,
    pub credentials_arn: Option<String>,
}

impl QuickUpdate {
    fn is_empty(&self) -> bool {
        self.target.is_none() && self.route_key.is_none() && self.credentials_arn.is_none()
    }
}

/// Takes `target`, `routeKey` and `credentialsArn` off an UpdateApi body.
pub fn take_quick_update(changes: &mut Map<String, Value>) -> ApiResult<QuickUpdate> {
    let mut take = |m: &str| -> ApiResult<Option<String>> {
        match changes.remove(m) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) => Ok(Some(v)),
            Some(_) => Err(bad(format!("{m} must be a string"))),
        }
    };
    Ok(QuickUpdate {
        target: take("target")?,
        route_key: take("routeKey")?,
        credentials_arn: take("credentialsArn")?,
    })
}

/// UpdateApi's quick-create members (AWS: "The value provided updates the integration URI
/// and integration type"; the route key "replaces the route key of the quick create
/// route"; the credentials "replace the credentials associated with the quick create
/// integration"): applied to the route and integration quick create made
/// (`apiGatewayManaged`). A target changing kind (URL ↔ function ARN) makes the
/// integration what quick create makes for it (`HTTP_PROXY` ANY 1.0 / `AWS_PROXY` 2.0).
/// An API that was not quick-created has nothing to update: BadRequestException.
pub async fn quick_update(conn: &mut PgConnection, api_id: &str, q: QuickUpdate) -> ApiResult<()> {
    if q.is_empty() {
        return Ok(());
    }
    let key = |kind| Key {
        api: api_id,
        kind,
        parent: "",
    };
    let managed = |v: &Value| v.get("apiGatewayManaged") == Some(&Value::Bool(true));
    let not_quick = || {
        bad("target, routeKey and credentialsArn update the route and integration of a quick-created API: this API has none")
    };
    if let Some(route_key) = &q.route_key {
        let found = store::list_items(conn, key(kind::ROUTE))
            .await?
            .into_iter()
            .find(|r| managed(r));
        let Some(Value::Object(mut doc)) = found else {
            return Err(not_quick());
        };
        let id = text(&doc, "routeId").unwrap_or_default().to_string();
        doc.insert("routeKey".into(), json!(route_key));
        route(conn, key(kind::ROUTE), Some(&id), &mut doc, false).await?;
        store::save_item(conn, key(kind::ROUTE), &id, &Value::Object(doc)).await?;
    }
    if q.target.is_some() || q.credentials_arn.is_some() {
        let found = store::list_items(conn, key(kind::INTEGRATION))
            .await?
            .into_iter()
            .find(|i| managed(i));
        let Some(Value::Object(mut doc)) = found else {
            return Err(not_quick());
        };
        let id = text(&doc, "integrationId").unwrap_or_default().to_string();
        if let Some(target) = &q.target {
            check_quick_target(target)?;
            let lambda = target_is_lambda(target);
            let ty = if lambda { "AWS_PROXY" } else { "HTTP_PROXY" };
            if text(&doc, "integrationType") != Some(ty) {
                doc.insert("integrationType".into(), json!(ty));
                doc.insert(
                    "integrationMethod".into(),
                    json!(if lambda { "POST" } else { "ANY" }),
                );
                doc.insert(
                    "payloadFormatVersion".into(),
                    json!(if lambda { "2.0" } else { "1.0" }),
                );
            }
            doc.insert("integrationUri".into(), json!(target));
        }
        if let Some(c) = &q.credentials_arn {
            doc.insert("credentialsArn".into(), json!(c));
        }
        self::integration(&mut doc, false)?;
        store::save_item(conn, key(kind::INTEGRATION), &id, &Value::Object(doc)).await?;
    }
    Ok(())
}

/// Quick create (CreateApi with `target`): the integration (`HTTP_PROXY` with
/// `integrationMethod` ANY and payload format 1.0 for a URL, `AWS_PROXY` with 2.0 for a
/// Lambda function ARN), the route (`routeKey`, default `$default`) targeting it and the
/// `$default` stage with `autoDeploy`, deployed at once; all `apiGatewayManaged`.
pub async fn quick_create(conn: &mut PgConnection, api_id: &str, q: QuickCreate) -> ApiResult<()> {
    let lambda = target_is_lambda(&q.target);
    let mut integration = Map::new();
    integration.insert(
        "integrationType".into(),
        json!(if lambda { "AWS_PROXY" } else { "HTTP_PROXY" }),
    );
    integration.insert("integrationUri".into(), json!(q.target));
    integration.insert(
        "integrationMethod".into(),
        json!(if lambda { "POST" } else { "ANY" }),
    );
    integration.insert(
        "payloadFormatVersion".into(),
        json!(if lambda { "2.0" } else { "1.0" }),
    );
    if let Some(c) = q.credentials_arn {
        integration.insert("credentialsArn".into(), json!(c));
    }
    self::integration(&mut integration, true)?;
    let integration_id = crate::ids::random_id(7);
    integration.insert("integrationId".into(), json!(integration_id));
    integration.insert("apiGatewayManaged".into(), json!(true));
    let key = |kind| Key {
        api: api_id,
        kind,
        parent: "",
    };
    store::insert_item(
        conn,
        key(kind::INTEGRATION),
        &integration_id,
        &Value::Object(integration),
    )
    .await?;
    let route_id = crate::ids::random_id(7);
    let route = json!({
        "routeId": route_id,
        "routeKey": q.route_key,
        "target": format!("integrations/{integration_id}"),
        "authorizationType": "NONE",
        "apiKeyRequired": false,
        "apiGatewayManaged": true,
    });
    store::insert_item(conn, key(kind::ROUTE), &route_id, &route).await?;
    let mut stage = Map::new();
    stage.insert("stageName".into(), json!("$default"));
    stage.insert("autoDeploy".into(), json!(true));
    stage.insert("apiGatewayManaged".into(), json!(true));
    super::stages::insert_new(conn, api_id, stage, true).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn message(e: ApiError) -> String {
        e.to_string()
    }

    #[test]
    fn quick_create_takes_its_members_off_the_api() {
        let mut doc = map(json!({"name": "a", "protocolType": "HTTP",
                                 "target": "arn:aws:lambda:us-east-1:1:function:f",
                                 "routeKey": "GET /x"}));
        let quick = api(&mut doc, true).ok().flatten().expect("a quick create");
        assert_eq!(quick.route_key, "GET /x");
        assert!(target_is_lambda(&quick.target));
        assert!(!doc.contains_key("target") && !doc.contains_key("routeKey"));
        assert_eq!(doc["routeSelectionExpression"], json!(ROUTE_SELECTION));
        let mut doc = map(json!({"name": "a", "protocolType": "HTTP", "target": "https://h/"}));
        let quick = api(&mut doc, true).ok().flatten().expect("a quick create");
        assert_eq!(quick.route_key, "$default");
        assert!(!target_is_lambda(&quick.target));
        let mut doc = map(json!({"name": "a", "protocolType": "HTTP", "target": "mailto:x"}));
        assert!(message(api(&mut doc, true).unwrap_err()).contains("Invalid target"));
    }

    #[test]
    fn cors_credentials_need_named_origins() {
        let mut doc = map(json!({"name": "a", "protocolType": "HTTP",
            "corsConfiguration": {"allowOrigins": ["*"], "allowCredentials": true}}));
        assert!(message(api(&mut doc, true).unwrap_err()).contains("allowCredentials"));
        let mut doc = map(json!({"name": "a", "protocolType": "HTTP",
            "corsConfiguration": {"allowOrigins": ["https://a.example"], "allowCredentials": true,
                                  "allowMethods": ["GET", "*"], "allowHeaders": ["x-a"]}}));
        assert!(api(&mut doc, true).is_ok());
    }

    #[test]
    fn integrations_by_type_and_version() {
        let mut ok = map(json!({"integrationType": "AWS_PROXY",
            "integrationUri": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "payloadFormatVersion": "2.0"}));
        assert!(integration(&mut ok, true).is_ok());
        assert_eq!(ok["timeoutInMillis"], json!(30_000));
        let mut v2_proxy = map(json!({"integrationType": "HTTP_PROXY",
            "integrationUri": "http://b/", "integrationMethod": "GET",
            "payloadFormatVersion": "2.0"}));
        assert!(message(integration(&mut v2_proxy, true).unwrap_err()).contains("only 1.0"));
        let mut mock = map(json!({"integrationType": "MOCK", "payloadFormatVersion": "1.0"}));
        assert!(
            message(integration(&mut mock, true).unwrap_err()).contains("HTTP_PROXY or AWS_PROXY")
        );
        let mut status = map(json!({"integrationType": "HTTP_PROXY",
            "integrationUri": "http://b/", "integrationMethod": "GET",
            "payloadFormatVersion": "1.0", "responseParameters": {"199": {}}}));
        assert!(message(integration(&mut status, true).unwrap_err()).contains("'199'"));
    }

    #[test]
    fn authorizers_jwt_and_request() {
        let mut jwt = map(json!({"name": "j", "authorizerType": "JWT",
            "jwtConfiguration": {"issuer": "https://i", "audience": ["a"]}}));
        assert!(authorizer(&mut jwt, true).is_ok());
        assert_eq!(
            jwt["identitySource"],
            json!(["$request.header.Authorization"])
        );
        let mut simple = map(json!({"name": "r", "authorizerType": "REQUEST",
            "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f/invocations",
            "authorizerPayloadFormatVersion": "1.0", "enableSimpleResponses": true,
            "identitySource": ["$request.header.x"]}));
        assert!(message(authorizer(&mut simple, true).unwrap_err()).contains("2.0"));
        simple.insert("authorizerPayloadFormatVersion".into(), json!("2.0"));
        assert!(authorizer(&mut simple, true).is_ok());
        simple.insert("identitySource".into(), json!([]));
        simple.insert("authorizerResultTtlInSeconds".into(), json!(300));
        assert!(message(authorizer(&mut simple, false).unwrap_err()).contains("identitySource"));
    }
}
