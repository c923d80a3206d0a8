//! ImportApi / ReimportApi / ExportApi of HTTP APIs: an OpenAPI 3.0 document with API
//! Gateway's HTTP API extensions, to and from the v2 wire shape.
//!
//! Pure: [`import`] turns a parsed document (JSON or YAML, read by
//! [`crate::import::source::parse`], the reader of the v1 import) into an
//! [`HttpApiDefinition`]: the CreateApi, CreateIntegration, CreateAuthorizer and CreateRoute
//! members it defines, with references between them by position and name (ids are the
//! store's), and the warnings AWS reports for what it ignores. [`export`] writes a
//! definition as the store or a deployment holds it (`{api, routes, integrations,
//! authorizers}`, the shape [`super::stages::freeze`] freezes) back as a document.
//! `handlers.rs` runs every item through the rules the individual Create calls use and
//! writes them in one transaction.
//!
//! The mapping (AWS's "Working with OpenAPI definitions for HTTP APIs"):
//! - `info.title` / `info.description` / `info.version` → the API's name, description,
//!   version; `x-amazon-apigateway-cors` → `corsConfiguration`; `servers[].
//!   x-amazon-apigateway-endpoint-configuration.disableExecuteApiEndpoint`.
//! - `paths.{path}.{method}` → route `METHOD {path}`; `x-amazon-apigateway-any-method` →
//!   `ANY {path}`, or `$default` with `isDefaultRoute: true` (or under the path
//!   `$default` / `/$default`); `operationId` → `operationName`.
//! - `x-amazon-apigateway-integration` (inline, or a `$ref` to
//!   `components.x-amazon-apigateway-integrations.{name}`, shared by every route naming it)
//!   → the route's integration: `type` `aws_proxy` / `http_proxy`, `uri`, `httpMethod`,
//!   `payloadFormatVersion`, `connectionType`, `connectionId`, `timeoutInMillis`,
//!   `requestParameters`, `responseParameters`, `tlsConfig`, `credentials`.
//! - `components.securitySchemes.{name}.x-amazon-apigateway-authorizer` → an authorizer
//!   named `{name}`: `type: jwt` (`jwtConfiguration`, `identitySource`; the issuer may come
//!   from an `openIdConnect` scheme's `openIdConnectUrl`) or `type: request` (Lambda:
//!   `authorizerUri`, `authorizerPayloadFormatVersion`, `enableSimpleResponses`,
//!   `authorizerResultTtlInSeconds`, `identitySource`, `authorizerCredentials`); a scheme
//!   with `x-amazon-apigateway-authtype: awsSigv4` is IAM authorization.
//! - An operation's `security` (else the document's) names the scheme: the route's
//!   `authorizationType` (JWT, CUSTOM, AWS_IAM) and `authorizerId`; a JWT requirement's
//!   scopes are the route's `authorizationScopes`.
//!
//! Warnings (the import goes on; `failOnWarnings=true` refuses it instead): integration
//! types other than the two proxies (AWS, HTTP, MOCK: the route is created without an
//! integration, as AWS does), AWS service integrations (`integrationSubtype`), REST-only
//! extensions, TRACE operations, security requirements naming more than one scheme.
//! Errors: what is not an OpenAPI 3.0 document, a member of the wrong type, a `$ref` or a
//! security scheme that does not exist, a route defined twice.

mod handlers;
#[cfg(test)]
mod tests;

pub use handlers::{export_api, import_api, reimport_api};

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::export::Dialect;
use crate::import::source::{
    self, array, invalid, join, object, opt_bool, opt_i32, opt_string, scalar, string_list,
    string_map,
};
use crate::import::{BasePath, ImportError};

/// The extension prefix of API Gateway.
const EXT: &str = "x-amazon-apigateway-";
/// The version of the import/export algorithm (`x-amazon-apigateway-importexport-version`,
/// `exportVersion`): AWS's only one.
pub const IMPORT_EXPORT_VERSION: &str = "1.0";
/// Where shared integrations live in the document.
const INTEGRATIONS_REF: &str = "#/components/x-amazon-apigateway-integrations/";

/// A route of a definition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteDef {
    /// CreateRoute members: `routeKey`, `authorizationType`, `authorizationScopes`,
    /// `operationName`.
    pub route: Map<String, Value>,
    /// The integration (an index into [`HttpApiDefinition::integrations`]).
    pub integration: Option<usize>,
    /// The authorizer, by name (an [`HttpApiDefinition::authorizers`] `name`).
    pub authorizer: Option<String>,
}

/// What a document defines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpApiDefinition {
    /// CreateApi members: `name`, `description`, `version`, `corsConfiguration`,
    /// `disableExecuteApiEndpoint` (`protocolType` is HTTP).
    pub api: Map<String, Value>,
    /// CreateAuthorizer members, sorted by `name` (the security scheme's).
    pub authorizers: Vec<Map<String, Value>>,
    /// CreateIntegration members, in the order of the routes that first use them.
    pub integrations: Vec<Map<String, Value>>,
    /// The routes, sorted by route key.
    pub routes: Vec<RouteDef>,
    /// What was ignored, and where.
    pub warnings: Vec<String>,
}

impl HttpApiDefinition {
    /// The definition without its warnings (what round trips compare).
    pub fn without_warnings(&self) -> Self {
        Self {
            warnings: Vec::new(),
            ..self.clone()
        }
    }
}

/// The HTTP methods of an OpenAPI path item a route can have.
const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];
/// The any-method extension.
const ANY_METHOD: &str = "x-amazon-apigateway-any-method";

/// Reads a parsed OpenAPI 3.0 document (see the module's documentation).
pub fn import(doc: &Value, base_path: BasePath) -> Result<HttpApiDefinition, ImportError> {
    let root = object(doc, "")?;
    match source::dialect(doc)? {
        Dialect::Oas30 => {}
        Dialect::Swagger => {
            return Err(invalid(
                "swagger",
                "HTTP APIs import OpenAPI 3.0 definitions only (openapi: 3.0.x), not Swagger 2.0",
            ))
        }
    }
    let mut out = HttpApiDefinition::default();
    if let Some(v) = opt_string(root, "x-amazon-apigateway-importexport-version", "")? {
        if v != IMPORT_EXPORT_VERSION {
            return Err(invalid(
                "x-amazon-apigateway-importexport-version",
                format!("unsupported version '{v}': the only version is {IMPORT_EXPORT_VERSION}"),
            ));
        }
    }
    out.api = api_members(root)?;
    for key in root.keys().filter(|k| k.starts_with(EXT)) {
        if !matches!(
            key.as_str(),
            "x-amazon-apigateway-cors" | "x-amazon-apigateway-importexport-version"
        ) {
            out.warnings
                .push(format!("{key}: not supported for HTTP APIs; ignored"));
        }
    }
    let components = match root.get("components") {
        Some(c) => Some(object(c, "components")?),
        None => None,
    };
    let schemes = schemes(components, &mut out)?;
    let prefix = prefix(doc, base_path)?;
    let shared = components
        .and_then(|c| c.get("x-amazon-apigateway-integrations"))
        .map(|v| object(v, "components.x-amazon-apigateway-integrations"))
        .transpose()?;
    let default_security = root.get("security");

    // Route key → (route, integration source).
    let mut routes: BTreeMap<String, (RouteDef, Option<IntegrationSource>)> = BTreeMap::new();
    let paths = match root.get("paths") {
        Some(p) => object(p, "paths")?,
        None => return Err(invalid("paths", "the document defines no paths")),
    };
    for (path, item) in paths {
        let at = join("paths", path);
        let item = object(item, &at)?;
        let is_default_path = path == "$default" || path == "/$default";
        if !is_default_path && !path.starts_with('/') {
            return Err(invalid(&at, "a path must start with /"));
        }
        for (key, op) in item {
            let op_at = join(&at, key);
            let method = if key == ANY_METHOD {
                "ANY".to_string()
            } else if METHODS.contains(&key.as_str()) {
                key.to_ascii_uppercase()
            } else if key == "trace" {
                out.warnings.push(format!(
                    "{op_at}: HTTP API routes have no TRACE method; ignored"
                ));
                continue;
            } else if key.starts_with(EXT) {
                out.warnings
                    .push(format!("{op_at}: not supported for HTTP APIs; ignored"));
                continue;
            } else {
                // parameters, summary, description, servers, other x- members.
                continue;
            };
            let op = object(op, &op_at)?;
            let default_route = is_default_path
                || (method == "ANY" && opt_bool(op, "isDefaultRoute", &op_at)? == Some(true));
            if is_default_path && method != "ANY" {
                return Err(invalid(
                    &op_at,
                    "the $default route is defined with x-amazon-apigateway-any-method",
                ));
            }
            let route_key = if default_route {
                "$default".to_string()
            } else {
                format!("{method} {}", with_prefix(&prefix, path))
            };
            let (route, integration) = operation(
                op,
                &op_at,
                &route_key,
                default_security,
                &schemes,
                shared,
                &mut out.warnings,
            )?;
            if routes
                .insert(route_key.clone(), (route, integration))
                .is_some()
            {
                return Err(invalid(
                    &op_at,
                    format!("the route {route_key} is defined more than once"),
                ));
            }
        }
    }

    // Integrations in the order of the (sorted) routes that use them; a shared one once.
    let mut by_ref: BTreeMap<String, usize> = BTreeMap::new();
    for (_, (mut route, source)) in routes {
        route.integration = match source {
            None => None,
            Some(IntegrationSource::Inline(i)) => {
                out.integrations.push(i);
                Some(out.integrations.len() - 1)
            }
            Some(IntegrationSource::Shared(name, i)) => {
                Some(*by_ref.entry(name).or_insert_with(|| {
                    out.integrations.push(i);
                    out.integrations.len() - 1
                }))
            }
        };
        out.routes.push(route);
    }
    out.authorizers = schemes
        .into_values()
        .filter_map(|s| match s {
            Scheme::Authorizer(a) => Some(a),
            _ => None,
        })
        .collect();
    Ok(out)
}

/// The API's members of the document.
fn api_members(root: &Map<String, Value>) -> Result<Map<String, Value>, ImportError> {
    let mut api = Map::new();
    api.insert("protocolType".into(), json!("HTTP"));
    let info = match root.get("info") {
        Some(i) => object(i, "info")?,
        None => return Err(invalid("info", "info.title (the API's name) is required")),
    };
    let title = opt_string(info, "title", "info")?.unwrap_or_default();
    if title.trim().is_empty() {
        return Err(invalid("info.title", "the API's name is required"));
    }
    api.insert("name".into(), json!(title));
    if let Some(d) = opt_string(info, "description", "info")? {
        api.insert("description".into(), json!(d));
    }
    if let Some(v) = opt_string(info, "version", "info")? {
        api.insert("version".into(), json!(v));
    }
    if let Some(c) = root.get("x-amazon-apigateway-cors") {
        api.insert("corsConfiguration".into(), cors(c)?);
    }
    if let Some(servers) = root.get("servers") {
        for (i, s) in array(servers, "servers")?.iter().enumerate() {
            let at = format!("servers.{i}.x-amazon-apigateway-endpoint-configuration");
            if let Some(e) = s.get("x-amazon-apigateway-endpoint-configuration") {
                if let Some(d) = opt_bool(object(e, &at)?, "disableExecuteApiEndpoint", &at)? {
                    api.insert("disableExecuteApiEndpoint".into(), json!(d));
                }
            }
        }
    }
    Ok(api)
}

/// `x-amazon-apigateway-cors` as a `corsConfiguration`.
fn cors(v: &Value) -> Result<Value, ImportError> {
    const AT: &str = "x-amazon-apigateway-cors";
    let o = object(v, AT)?;
    let mut out = Map::new();
    for list in [
        "allowOrigins",
        "allowMethods",
        "allowHeaders",
        "exposeHeaders",
    ] {
        if o.contains_key(list) {
            out.insert(list.into(), json!(string_list(o, list, AT)?));
        }
    }
    if let Some(m) = opt_i32(o, "maxAge", AT)? {
        out.insert("maxAge".into(), json!(m));
    }
    if let Some(c) = opt_bool(o, "allowCredentials", AT)? {
        out.insert("allowCredentials".into(), json!(c));
    }
    Ok(Value::Object(out))
}

/// The prefix the `basepath` mode puts before every path.
fn prefix(doc: &Value, mode: BasePath) -> Result<String, ImportError> {
    let segments = source::base_path(doc, Dialect::Oas30)?;
    let kept: &[String] = match mode {
        BasePath::Ignore => &[],
        BasePath::Prepend => &segments,
        BasePath::Split => segments.get(1..).unwrap_or_default(),
    };
    Ok(kept.iter().map(|s| format!("/{s}")).collect())
}

fn with_prefix(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path) {
        (true, _) => path.to_string(),
        (false, "/") => prefix.to_string(),
        (false, _) => format!("{prefix}{path}"),
    }
}

/// A security scheme of the document.
#[derive(Debug, Clone)]
enum Scheme {
    /// An authorizer (CreateAuthorizer members); JWT or REQUEST.
    Authorizer(Map<String, Value>),
    /// IAM authorization (`x-amazon-apigateway-authtype: awsSigv4`).
    Iam,
    /// A scheme API Gateway does not act on.
    Other,
}

fn schemes(
    components: Option<&Map<String, Value>>,
    out: &mut HttpApiDefinition,
) -> Result<BTreeMap<String, Scheme>, ImportError> {
    let mut schemes = BTreeMap::new();
    let Some(all) = components.and_then(|c| c.get("securitySchemes")) else {
        return Ok(schemes);
    };
    for (name, s) in object(all, "components.securitySchemes")? {
        let at = join("components.securitySchemes", name);
        let s = object(s, &at)?;
        let scheme = if let Some(a) = s.get("x-amazon-apigateway-authorizer") {
            Scheme::Authorizer(authorizer(
                name,
                s,
                a,
                &join(&at, "x-amazon-apigateway-authorizer"),
            )?)
        } else if opt_string(s, "x-amazon-apigateway-authtype", &at)?
            .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"))
        {
            Scheme::Iam
        } else {
            out.warnings.push(format!(
                "{at}: no x-amazon-apigateway-authorizer; routes naming it are not authorized by API Gateway"
            ));
            Scheme::Other
        };
        schemes.insert(name.clone(), scheme);
    }
    Ok(schemes)
}

/// An `identitySource`: a comma-separated string (as AWS documents it) or a list.
fn identity_source(o: &Map<String, Value>, at: &str) -> Result<Option<Vec<String>>, ImportError> {
    match o.get("identitySource") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(_)) => Ok(Some(string_list(o, "identitySource", at)?)),
        Some(v) => Ok(Some(
            scalar(v, &join(at, "identitySource"))?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )),
    }
}

fn authorizer(
    name: &str,
    scheme: &Map<String, Value>,
    v: &Value,
    at: &str,
) -> Result<Map<String, Value>, ImportError> {
    let a = object(v, at)?;
    let ty = opt_string(a, "type", at)?
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    match ty.as_str() {
        "jwt" => {
            out.insert("authorizerType".into(), json!("JWT"));
            let sources = identity_source(a, at)?
                .unwrap_or_else(|| vec!["$request.header.Authorization".to_string()]);
            out.insert("identitySource".into(), json!(sources));
            let jat = join(at, "jwtConfiguration");
            let jwt = match a.get("jwtConfiguration") {
                Some(j) => object(j, &jat)?.clone(),
                None => Map::new(),
            };
            let mut conf = Map::new();
            let issuer = match opt_string(&jwt, "issuer", &jat)? {
                Some(i) => Some(i),
                // An openIdConnect scheme names the issuer's discovery document.
                None => opt_string(scheme, "openIdConnectUrl", at)?.map(|u| {
                    u.trim_end_matches("/.well-known/openid-configuration")
                        .to_string()
                }),
            };
            let issuer = issuer.ok_or_else(|| {
                invalid(&jat, "a JWT authorizer needs jwtConfiguration.issuer (or an openIdConnect scheme's openIdConnectUrl)")
            })?;
            conf.insert("issuer".into(), json!(issuer));
            let audience = match jwt.get("audience") {
                Some(Value::Array(_)) => string_list(&jwt, "audience", &jat)?,
                Some(v) => vec![scalar(v, &join(&jat, "audience"))?],
                None => Vec::new(),
            };
            conf.insert("audience".into(), json!(audience));
            out.insert("jwtConfiguration".into(), Value::Object(conf));
        }
        "request" => {
            out.insert("authorizerType".into(), json!("REQUEST"));
            let uri = opt_string(a, "authorizerUri", at)?
                .ok_or_else(|| invalid(at, "a request authorizer needs authorizerUri"))?;
            out.insert("authorizerUri".into(), json!(uri));
            if let Some(s) = identity_source(a, at)? {
                out.insert("identitySource".into(), json!(s));
            }
            if let Some(v) = opt_string(a, "authorizerPayloadFormatVersion", at)? {
                out.insert("authorizerPayloadFormatVersion".into(), json!(v));
            }
            if let Some(v) = opt_bool(a, "enableSimpleResponses", at)? {
                out.insert("enableSimpleResponses".into(), json!(v));
            }
            if let Some(v) = opt_i32(a, "authorizerResultTtlInSeconds", at)? {
                out.insert("authorizerResultTtlInSeconds".into(), json!(v));
            }
            if let Some(v) = opt_string(a, "authorizerCredentials", at)? {
                out.insert("authorizerCredentialsArn".into(), json!(v));
            }
        }
        "" => {
            return Err(invalid(
                &join(at, "type"),
                "the authorizer's type is required (jwt or request)",
            ))
        }
        other => {
            return Err(invalid(
                &join(at, "type"),
                format!("unsupported authorizer type '{other}' for HTTP APIs: use jwt or request"),
            ))
        }
    }
    Ok(out)
}

/// Where a route's integration comes from.
enum IntegrationSource {
    Inline(Map<String, Value>),
    /// A `$ref` to a shared integration: its name and members.
    Shared(String, Map<String, Value>),
}

#[allow(clippy::too_many_arguments)]
fn operation(
    op: &Map<String, Value>,
    at: &str,
    route_key: &str,
    default_security: Option<&Value>,
    schemes: &BTreeMap<String, Scheme>,
    shared: Option<&Map<String, Value>>,
    warnings: &mut Vec<String>,
) -> Result<(RouteDef, Option<IntegrationSource>), ImportError> {
    let mut route = RouteDef::default();
    route.route.insert("routeKey".into(), json!(route_key));
    if let Some(id) = opt_string(op, "operationId", at)? {
        route.route.insert("operationName".into(), json!(id));
    }
    for key in op.keys().filter(|k| k.starts_with(EXT)) {
        if key != "x-amazon-apigateway-integration" {
            warnings.push(format!(
                "{}: not supported for HTTP APIs; ignored",
                join(at, key)
            ));
        }
    }
    // Security: the operation's, else the document's.
    let (security, sat) = match op.get("security") {
        Some(s) => (Some(s), join(at, "security")),
        None => (default_security, "security".to_string()),
    };
    let mut auth_type = "NONE";
    if let Some(security) = security {
        let requirements = array(security, &sat)?;
        let named: Vec<(String, &Value, String)> = requirements
            .iter()
            .enumerate()
            .map(|(i, r)| Ok((i, object(r, &join(&sat, &i.to_string()))?)))
            .collect::<Result<Vec<_>, ImportError>>()?
            .into_iter()
            .flat_map(|(i, r)| {
                let sat = &sat;
                r.iter()
                    .map(move |(k, v)| (k.clone(), v, format!("{sat}.{i}.{k}")))
            })
            .collect();
        if named.len() > 1 {
            warnings.push(format!(
                "{sat}: a route is authorized by one scheme; only {} is used",
                named[0].0
            ));
        }
        if let Some((name, scopes, sat)) = named.into_iter().next() {
            let scheme = schemes.get(&name).ok_or_else(|| {
                invalid(
                    &sat,
                    format!("no security scheme named {name} in components.securitySchemes"),
                )
            })?;
            let scopes: Vec<String> = array(scopes, &sat)?
                .iter()
                .enumerate()
                .map(|(i, s)| scalar(s, &join(&sat, &i.to_string())))
                .collect::<Result<_, _>>()?;
            match scheme {
                Scheme::Authorizer(a) => {
                    let jwt = a.get("authorizerType") == Some(&json!("JWT"));
                    auth_type = if jwt { "JWT" } else { "CUSTOM" };
                    route.authorizer = Some(name.clone());
                    if !scopes.is_empty() {
                        if jwt {
                            route
                                .route
                                .insert("authorizationScopes".into(), json!(scopes));
                        } else {
                            warnings.push(format!(
                                "{sat}: scopes apply to JWT authorizers only; ignored"
                            ));
                        }
                    }
                }
                Scheme::Iam => auth_type = "AWS_IAM",
                Scheme::Other => {}
            }
        }
    }
    route
        .route
        .insert("authorizationType".into(), json!(auth_type));

    let iat = join(at, "x-amazon-apigateway-integration");
    let source = match op.get("x-amazon-apigateway-integration") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let o = object(v, &iat)?;
            match o.get("$ref") {
                Some(r) => {
                    let r = scalar(r, &join(&iat, "$ref"))?;
                    let name = r.strip_prefix(INTEGRATIONS_REF).ok_or_else(|| {
                        invalid(
                            &iat,
                            format!("$ref '{r}' must name {INTEGRATIONS_REF}{{name}}"),
                        )
                    })?;
                    let target = shared
                        .and_then(|s| s.get(name))
                        .ok_or_else(|| invalid(&iat, format!("$ref '{r}': no such integration")))?;
                    let sat = format!("components.x-amazon-apigateway-integrations.{name}");
                    integration(object(target, &sat)?, &sat, warnings)?
                        .map(|i| IntegrationSource::Shared(name.to_string(), i))
                }
                None => integration(o, &iat, warnings)?.map(IntegrationSource::Inline),
            }
        }
    };
    Ok((route, source))
}

/// An `x-amazon-apigateway-integration` as CreateIntegration members; `None` (with a
/// warning) for what HTTP APIs here do not integrate with.
fn integration(
    o: &Map<String, Value>,
    at: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Map<String, Value>>, ImportError> {
    let ty = opt_string(o, "type", at)?
        .ok_or_else(|| invalid(&join(at, "type"), "the integration's type is required"))?
        .to_ascii_uppercase();
    match ty.as_str() {
        "AWS_PROXY" | "HTTP_PROXY" => {}
        "AWS" | "HTTP" | "MOCK" => {
            warnings.push(format!(
                "{at}: integration type {ty} is not supported for HTTP APIs (only AWS_PROXY and HTTP_PROXY); the route has no integration"
            ));
            return Ok(None);
        }
        other => {
            return Err(invalid(
                &join(at, "type"),
                format!("unknown integration type '{other}'"),
            ))
        }
    }
    if o.contains_key("integrationSubtype") {
        warnings.push(format!(
            "{at}: AWS service integrations (integrationSubtype) are not supported by this gateway; the route has no integration"
        ));
        return Ok(None);
    }
    let mut out = Map::new();
    out.insert("integrationType".into(), json!(ty));
    let uri = opt_string(o, "uri", at)?
        .ok_or_else(|| invalid(&join(at, "uri"), "the integration's uri is required"))?;
    out.insert("integrationUri".into(), json!(uri));
    let method = opt_string(o, "httpMethod", at)?
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| if ty == "AWS_PROXY" { "POST" } else { "ANY" }.to_string());
    out.insert("integrationMethod".into(), json!(method));
    let version = match opt_string(o, "payloadFormatVersion", at)? {
        Some(v) => v,
        None => {
            if ty == "AWS_PROXY" {
                warnings.push(format!("{at}: no payloadFormatVersion; 1.0 is used"));
            }
            "1.0".to_string()
        }
    };
    out.insert("payloadFormatVersion".into(), json!(version));
    for key in ["connectionType", "connectionId", "description"] {
        if let Some(v) = opt_string(o, key, at)? {
            out.insert(key.into(), json!(v));
        }
    }
    if let Some(c) = opt_string(o, "credentials", at)? {
        out.insert("credentialsArn".into(), json!(c));
    }
    if let Some(t) = opt_i32(o, "timeoutInMillis", at)? {
        out.insert("timeoutInMillis".into(), json!(t));
    }
    if o.contains_key("requestParameters") {
        out.insert(
            "requestParameters".into(),
            json!(string_map(o, "requestParameters", at)?),
        );
    }
    if let Some(r) = o.get("responseParameters").filter(|v| !v.is_null()) {
        let rat = join(at, "responseParameters");
        let mut by_status = Map::new();
        for (status, _) in object(r, &rat)? {
            by_status.insert(
                status.clone(),
                json!(string_map(object(r, &rat)?, status, &rat)?),
            );
        }
        out.insert("responseParameters".into(), Value::Object(by_status));
    }
    if let Some(t) = o.get("tlsConfig").filter(|v| !v.is_null()) {
        let tat = join(at, "tlsConfig");
        let t = object(t, &tat)?;
        let mut tls = Map::new();
        if let Some(s) = opt_string(t, "serverNameToVerify", &tat)? {
            tls.insert("serverNameToVerify".into(), json!(s));
        }
        out.insert("tlsConfig".into(), Value::Object(tls));
    }
    for key in o.keys() {
        let known = [
            "type",
            "uri",
            "httpMethod",
            "payloadFormatVersion",
            "connectionType",
            "connectionId",
            "description",
            "credentials",
            "timeoutInMillis",
            "requestParameters",
            "responseParameters",
            "tlsConfig",
        ];
        if !known.contains(&key.as_str()) {
            warnings.push(format!(
                "{}: not supported for HTTP API integrations; ignored",
                join(at, key)
            ));
        }
    }
    Ok(Some(out))
}

/// How to export.
#[derive(Debug, Clone, Copy)]
pub struct ExportOptions<'a> {
    /// `includeExtensions` (default true): API Gateway's extensions in the document.
    pub include_extensions: bool,
    /// The stage exported (its name is the `servers` base path), `None` for the latest
    /// configuration.
    pub stage: Option<&'a str>,
    /// The invoke host, `{apiId}.{execute-api domain}`.
    pub host: &'a str,
}

/// The document of a definition as stored or deployed: `{api, routes, integrations,
/// authorizers}` in the v2 wire shape (routes name their integration by `target` and
/// authorizer by `authorizerId`).
pub fn export(def: &Value, opts: ExportOptions<'_>) -> Value {
    let list = |k: &str| {
        def.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let api = def.get("api").cloned().unwrap_or(Value::Null);
    let (routes, integrations, authorizers) =
        (list("routes"), list("integrations"), list("authorizers"));
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let ext = opts.include_extensions;

    let mut doc = Map::new();
    doc.insert("openapi".into(), json!("3.0.1"));
    let mut info = Map::new();
    info.insert(
        "title".into(),
        json!(text(&api, "name").unwrap_or_default()),
    );
    if let Some(d) = text(&api, "description") {
        info.insert("description".into(), json!(d));
    }
    let version = text(&api, "version")
        .or_else(|| text(&api, "createdDate"))
        .unwrap_or_else(|| "1.0".to_string());
    info.insert("version".into(), json!(version));
    doc.insert("info".into(), Value::Object(info));

    let base = match opts.stage {
        Some(s) if s != "$default" => s,
        _ => "",
    };
    let mut server = json!({
        "url": format!("https://{}/{{basePath}}", opts.host),
        "variables": {"basePath": {"default": base}},
    });
    if ext && api.get("disableExecuteApiEndpoint") == Some(&json!(true)) {
        server["x-amazon-apigateway-endpoint-configuration"] =
            json!({"disableExecuteApiEndpoint": true});
    }
    doc.insert("servers".into(), json!([server]));

    // Authorizers by id: their scheme names (unique).
    let mut scheme_names: BTreeMap<String, String> = BTreeMap::new();
    let mut schemes = Map::new();
    for a in &authorizers {
        let id = text(a, "authorizerId").unwrap_or_default();
        let mut name = text(a, "name").unwrap_or_else(|| id.clone());
        if schemes.contains_key(&name) {
            name = format!("{name}-{id}");
        }
        schemes.insert(name.clone(), security_scheme(a, ext));
        scheme_names.insert(id, name);
    }
    let mut uses_iam = false;

    // Integrations used by several routes are shared through components.
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for r in &routes {
        if let Some(t) =
            text(r, "target").and_then(|t| t.strip_prefix("integrations/").map(str::to_string))
        {
            *uses.entry(t).or_default() += 1;
        }
    }
    let by_id: BTreeMap<String, &Value> = integrations
        .iter()
        .filter_map(|i| text(i, "integrationId").map(|id| (id, i)))
        .collect();
    let mut shared = Map::new();

    let mut sorted = routes.clone();
    sorted.sort_by_key(|r| text(r, "routeKey").unwrap_or_default());
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for r in &sorted {
        let key = text(r, "routeKey").unwrap_or_default();
        let (path, method_key) = match key.split_once(' ') {
            _ if key == "$default" => ("/$default".to_string(), ANY_METHOD.to_string()),
            Some(("ANY", p)) => (p.to_string(), ANY_METHOD.to_string()),
            Some((m, p)) => (p.to_string(), m.to_ascii_lowercase()),
            None => continue,
        };
        let mut op = Map::new();
        if key == "$default" {
            op.insert("isDefaultRoute".into(), json!(true));
        }
        if let Some(name) = text(r, "operationName") {
            op.insert("operationId".into(), json!(name));
        }
        let params = path_parameters(&path);
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        op.insert(
            "responses".into(),
            json!({"default": {"description": format!("Default response for {key}")}}),
        );
        match text(r, "authorizationType").as_deref() {
            Some("JWT") | Some("CUSTOM") => {
                if let Some(name) = text(r, "authorizerId").and_then(|id| scheme_names.get(&id)) {
                    let scopes = r
                        .get("authorizationScopes")
                        .cloned()
                        .filter(|_| text(r, "authorizationType").as_deref() == Some("JWT"))
                        .unwrap_or(json!([]));
                    op.insert("security".into(), json!([{ name.clone(): scopes }]));
                }
            }
            Some("AWS_IAM") => {
                uses_iam = true;
                op.insert("security".into(), json!([{ "sigv4": [] }]));
            }
            _ => {}
        }
        if ext {
            if let Some((id, i)) = text(r, "target")
                .and_then(|t| t.strip_prefix("integrations/").map(str::to_string))
                .and_then(|id| by_id.get(&id).map(|i| (id, *i)))
            {
                let value = if uses.get(&id).copied().unwrap_or(0) > 1 {
                    let name = format!("integration-{id}");
                    shared.insert(name.clone(), integration_extension(i));
                    json!({"$ref": format!("{INTEGRATIONS_REF}{name}")})
                } else {
                    integration_extension(i)
                };
                op.insert("x-amazon-apigateway-integration".into(), value);
            }
        }
        paths
            .entry(path)
            .or_default()
            .insert(method_key, Value::Object(op));
    }
    doc.insert(
        "paths".into(),
        Value::Object(
            paths
                .into_iter()
                .map(|(k, v)| (k, Value::Object(v)))
                .collect(),
        ),
    );
    if uses_iam {
        schemes.insert(
            "sigv4".into(),
            json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}),
        );
    }
    let mut components = Map::new();
    if !schemes.is_empty() {
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    if !shared.is_empty() {
        components.insert(
            "x-amazon-apigateway-integrations".into(),
            Value::Object(shared),
        );
    }
    if !components.is_empty() {
        doc.insert("components".into(), Value::Object(components));
    }
    if ext {
        if let Some(c) = api
            .get("corsConfiguration")
            .filter(|c| c.as_object().is_some_and(|o| !o.is_empty()))
        {
            doc.insert("x-amazon-apigateway-cors".into(), c.clone());
        }
        doc.insert(
            "x-amazon-apigateway-importexport-version".into(),
            json!(IMPORT_EXPORT_VERSION),
        );
    }
    Value::Object(doc)
}

/// The path parameters of a path template (`{id}`, greedy `{proxy+}`), as OpenAPI wants them
/// declared.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

/// An integration as its `x-amazon-apigateway-integration`.
fn integration_extension(i: &Value) -> Value {
    let mut out = Map::new();
    let pairs = [
        ("integrationType", "type"),
        ("integrationUri", "uri"),
        ("integrationMethod", "httpMethod"),
        ("payloadFormatVersion", "payloadFormatVersion"),
        ("connectionType", "connectionType"),
        ("connectionId", "connectionId"),
        ("description", "description"),
        ("credentialsArn", "credentials"),
        ("timeoutInMillis", "timeoutInMillis"),
        ("requestParameters", "requestParameters"),
        ("responseParameters", "responseParameters"),
        ("tlsConfig", "tlsConfig"),
    ];
    for (wire, ext) in pairs {
        if let Some(v) = i.get(wire).filter(|v| !v.is_null()) {
            let v = match (wire, v.as_str()) {
                ("integrationType", Some(t)) => json!(t.to_ascii_lowercase()),
                _ => v.clone(),
            };
            out.insert(ext.into(), v);
        }
    }
    Value::Object(out)
}

/// An authorizer as its security scheme.
fn security_scheme(a: &Value, ext: bool) -> Value {
    let sources: Vec<String> = a
        .get("identitySource")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let mut auth = Map::new();
    let mut scheme = if a.get("authorizerType") == Some(&json!("JWT")) {
        auth.insert("type".into(), json!("jwt"));
        if let Some(j) = a.get("jwtConfiguration") {
            auth.insert("jwtConfiguration".into(), j.clone());
        }
        json!({"type": "oauth2", "flows": {}})
    } else {
        auth.insert("type".into(), json!("request"));
        for (wire, key) in [
            ("authorizerUri", "authorizerUri"),
            (
                "authorizerPayloadFormatVersion",
                "authorizerPayloadFormatVersion",
            ),
            ("enableSimpleResponses", "enableSimpleResponses"),
            (
                "authorizerResultTtlInSeconds",
                "authorizerResultTtlInSeconds",
            ),
            ("authorizerCredentialsArn", "authorizerCredentials"),
        ] {
            if let Some(v) = a.get(wire).filter(|v| !v.is_null()) {
                auth.insert(key.into(), v.clone());
            }
        }
        // OpenAPI wants an apiKey scheme to name one header or query parameter.
        let (name, place) = sources
            .iter()
            .find_map(|s| {
                s.strip_prefix("$request.header.")
                    .map(|h| (h.to_string(), "header"))
                    .or_else(|| {
                        s.strip_prefix("$request.querystring.")
                            .map(|q| (q.to_string(), "query"))
                    })
            })
            .unwrap_or_else(|| ("Unused".to_string(), "header"));
        json!({"type": "apiKey", "name": name, "in": place})
    };
    if !sources.is_empty() {
        auth.insert("identitySource".into(), json!(sources.join(", ")));
    }
    if ext {
        scheme["x-amazon-apigateway-authorizer"] = Value::Object(auth);
    }
    scheme
}

/// The stored shape of a definition: `{api, routes, integrations, authorizers}` with ids
/// from `new_id` (routes name their integration by `target`, their authorizer by
/// `authorizerId`), as the handlers write it and [`export`] reads it.
pub fn materialize(def: &HttpApiDefinition, mut new_id: impl FnMut() -> String) -> Value {
    let authorizers: Vec<(String, Map<String, Value>)> = def
        .authorizers
        .iter()
        .map(|a| {
            let mut a = a.clone();
            let id = new_id();
            a.insert("authorizerId".into(), json!(id));
            (id, a)
        })
        .collect();
    let integrations: Vec<(String, Map<String, Value>)> = def
        .integrations
        .iter()
        .map(|i| {
            let mut i = i.clone();
            let id = new_id();
            i.insert("integrationId".into(), json!(id));
            (id, i)
        })
        .collect();
    let routes: Vec<Value> = def
        .routes
        .iter()
        .map(|r| {
            let mut route = r.route.clone();
            route.insert("routeId".into(), json!(new_id()));
            if let Some((id, _)) = r.integration.and_then(|i| integrations.get(i)) {
                route.insert("target".into(), json!(format!("integrations/{id}")));
            }
            if let Some((id, _)) = r.authorizer.as_ref().and_then(|n| {
                authorizers
                    .iter()
                    .find(|(_, a)| a.get("name") == Some(&json!(n)))
            }) {
                route.insert("authorizerId".into(), json!(id));
            }
            Value::Object(route)
        })
        .collect();
    json!({
        "api": def.api,
        "routes": routes,
        "integrations": integrations.into_iter().map(|(_, i)| Value::Object(i)).collect::<Vec<_>>(),
        "authorizers": authorizers.into_iter().map(|(_, a)| Value::Object(a)).collect::<Vec<_>>(),
    })
}
