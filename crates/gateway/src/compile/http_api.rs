//! HTTP APIs (`apigatewayv2`, `protocolType: HTTP`): a deployed stage
//! ([`HttpStageConfig`]) compiled into the same [`super::CompiledStage`] the REST pipeline
//! runs, and the checks the control plane runs on management input (one grammar, one
//! parser: it calls these functions).
//!
//! Interface shared by the control plane and the engine:
//! - [`check_route_key`]: `$default`, `METHOD /path` (GET, POST, PUT, PATCH, DELETE, HEAD,
//!   OPTIONS or ANY; `{name}` segments, a greedy `{name+}` last).
//! - [`check_request_parameter`] / [`check_response_parameter`]: one `requestParameters`
//!   / `responseParameters` entry (key and value).
//! - [`check_stage`]: the whole stage compiles (routes, integrations, authorizers, CORS).
//!
//! What differs from a REST stage is carried by [`HttpApiStage`] (the flavour marker on
//! [`super::CompiledStage::http`]): the `$default` route, CORS, and the phases' HTTP API
//! rules (error bodies, route precedence with the method, no gateway responses). Parameter
//! mappings (`overwrite:header.x` → `${request.path.id}`) compile into [`ValueTemplate`]s:
//! a request only concatenates pieces.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config::{self as pb, HttpStageConfig};
use http::header::{HeaderName, HeaderValue};
use http::{Method, StatusCode};

use super::authorizer::{Authorization, AuthorizerKind, CompiledAuthorizer};
use super::function::{self, FunctionIntegration, FunctionTarget};
use super::mapping::{SourceScope, ValueSource};
use super::route_trie::{param_names, RouteTrie};
use super::template::{self, BodyPath, TemplateScope};
use super::uri_template::{substitute_stage_variables, UriTemplate};
use super::{
    CompileError, CompileErrorKind, CompiledMethod, CompiledStage, HookSlot, Integration,
    MethodLogging, ResourceMethods, StageLogging,
};
use crate::limits::{Limit, NamedLimit};

/// Why an HTTP API's definition is unusable; the message is shown to the management
/// API's caller as is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpApiError(pub String);

fn bad(message: impl Into<String>) -> HttpApiError {
    HttpApiError(message.into())
}

/// The methods a route key may name.
pub const ROUTE_METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// The default integration timeout of HTTP APIs (and their maximum), 30 s.
pub const HTTP_API_TIMEOUT: Duration = Duration::from_millis(30_000);

/// A parsed route key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKey<'a> {
    /// `$default`: requests no other route matches.
    Default,
    /// `METHOD /path`.
    Route {
        /// `GET`, ..., or `ANY`.
        method: &'a str,
        /// `/pets/{id}`.
        path: &'a str,
    },
}

/// Parses a route key (see [`check_route_key`]).
pub fn parse_route_key(key: &str) -> Result<RouteKey<'_>, HttpApiError> {
    if key == "$default" {
        return Ok(RouteKey::Default);
    }
    let invalid = || {
        bad(format!(
            "Invalid route key {key:?}: expected $default or METHOD /path, METHOD one of \
             GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY"
        ))
    };
    let (method, path) = key.split_once(' ').ok_or_else(invalid)?;
    if !ROUTE_METHODS.contains(&method) {
        return Err(invalid());
    }
    check_route_path(path).map_err(|why| bad(format!("Invalid route key {key:?}: {why}")))?;
    Ok(RouteKey::Route { method, path })
}

fn check_route_path(path: &str) -> Result<(), String> {
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| "the path must start with /".to_string())?;
    if rest.is_empty() {
        return Ok(());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let mut names: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            return Err("empty path segment".into());
        }
        if let Some(inner) = segment.strip_prefix('{') {
            let inner = inner
                .strip_suffix('}')
                .ok_or_else(|| format!("malformed path parameter {segment:?}"))?;
            let (name, greedy) = match inner.strip_suffix('+') {
                Some(name) => (name, true),
                None => (inner, false),
            };
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if !name_ok {
                return Err(format!("invalid path parameter name {name:?}"));
            }
            if greedy && i + 1 != segments.len() {
                return Err(format!("greedy path parameter {{{name}+}} must be last"));
            }
            if names.contains(&name) {
                return Err(format!("duplicate path parameter {name:?}"));
            }
            names.push(name);
            continue;
        }
        let literal_ok = segment.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b':'
                        | b'@'
                        | b'%'
                )
        });
        if !literal_ok {
            return Err(format!("invalid path segment {segment:?}"));
        }
    }
    Ok(())
}

/// Checks a route key (`$default`, `GET /pets/{id}`, `ANY /{proxy+}`).
pub fn check_route_key(key: &str) -> Result<(), HttpApiError> {
    parse_route_key(key).map(|_| ())
}

// ---------------------------------------------------------------------------------------
// Parameter mapping values: fixed text mixed with `$request.header.x`, `${request.path.id}`,
// `$context.x`, `$stageVariables.x` (request side) or `$response.header.x`,
// `$response.body.x` (response side).

/// One piece of a mapping value.
#[derive(Debug, Clone)]
pub enum Piece {
    /// Fixed text (and stage variables / fixed context values, resolved when compiled).
    Text(Box<str>),
    /// `$request.header.x` (request side) or `$response.header.x` (response side): every
    /// value, joined with commas.
    Header(HeaderName),
    /// `$request.querystring.x`: every value, joined with commas.
    Query(Box<str>),
    /// `$request.path`: the request's path without the stage.
    Path,
    /// `$request.path.x`: the capture of the route's path parameter (`None`: the route has
    /// no such parameter, the value is empty).
    PathParam(Option<usize>),
    /// `$request.body` / `$response.body` (`None`) or a JSONPath into it.
    Body(Option<BodyPath>),
    /// A per-request context value.
    Context(ValueSource),
}

/// A compiled mapping value.
#[derive(Debug, Clone, Default)]
pub struct ValueTemplate {
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
}

impl ValueTemplate {
    /// Whether some piece reads the body.
    pub fn reads_body(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Body(_)))
    }

    /// The value when it is only fixed text.
    pub fn constant(&self) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                _ => return None,
            }
        }
        Some(out)
    }
}

/// Which side a value is read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

/// What values are compiled against: `None` scope = checking (names unknown).
struct ValueScope<'a> {
    source: Option<&'a SourceScope<'a>>,
    route_key: &'a str,
}

fn parse_value(text: &str, side: Side, scope: &ValueScope<'_>) -> Result<ValueTemplate, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (expr, consumed) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
            (&braced[..end], end + 2)
        } else {
            // Header names may hold `-`; other names are `[A-Za-z0-9._]`.
            let dash =
                after.starts_with("request.header.") || after.starts_with("response.header.");
            let end = after
                .find(|c: char| {
                    !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || (dash && c == '-'))
                })
                .unwrap_or(after.len());
            (
                after[..end].trim_end_matches('.'),
                after[..end].trim_end_matches('.').len(),
            )
        };
        match parse_source(expr, side, scope)? {
            Some(piece) => {
                if let Piece::Text(t) = &piece {
                    literal.push_str(t);
                } else {
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal).into()));
                    }
                    pieces.push(piece);
                }
                rest = &after[consumed..];
            }
            None => {
                // Not a variable: a literal `$`.
                literal.push('$');
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal.into()));
    }
    Ok(ValueTemplate { pieces })
}

/// One `$...` expression; `Ok(None)` when it is not a variable at all (a literal `$`).
fn parse_source(expr: &str, side: Side, scope: &ValueScope<'_>) -> Result<Option<Piece>, String> {
    let header = |name: &str| {
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))
    };
    let body = |path: Option<&str>| match path {
        None => Ok(Piece::Body(None)),
        Some(p) if p.is_empty() || p.starts_with('.') || p.contains("?(") => {
            Err(format!("unsupported JSONPath {p:?}"))
        }
        Some(p) => BodyPath::compile(p)
            .map(|b| Piece::Body(Some(b)))
            .map_err(|e| format!("invalid JSONPath {p:?}: {e}")),
    };
    if let Some(name) = expr.strip_prefix("stageVariables.") {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("invalid stage variable {expr:?}"));
        }
        let value = scope
            .source
            .and_then(|s| s.stage_variables.get(name))
            .map_or("", String::as_str);
        return Ok(Some(Piece::Text(value.into())));
    }
    if let Some(var) = expr.strip_prefix("context.") {
        if var.is_empty()
            || !var
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'))
        {
            return Err(format!("invalid context variable {expr:?}"));
        }
        let Some(source) = scope.source else {
            return Ok(Some(Piece::Text("".into())));
        };
        return Ok(Some(match var {
            "routeKey" => Piece::Text(scope.route_key.into()),
            "domainName" | "domainPrefix" | "path" | "requestTime" | "requestTimeEpoch"
            | "protocol" => Piece::Context(ValueSource::Absent),
            _ => match ValueSource::parse(expr, source).map_err(|e| e.to_string())? {
                ValueSource::Constant(c) => Piece::Text(c),
                other => Piece::Context(other),
            },
        }));
    }
    match side {
        Side::Request => {
            if let Some(name) = expr.strip_prefix("request.header.") {
                return header(name).map(|h| Some(Piece::Header(h)));
            }
            if let Some(name) = expr.strip_prefix("request.querystring.") {
                if name.is_empty() {
                    return Err("empty query string name".into());
                }
                return Ok(Some(Piece::Query(name.into())));
            }
            if expr == "request.path" {
                return Ok(Some(Piece::Path));
            }
            if let Some(name) = expr.strip_prefix("request.path.") {
                let index = scope
                    .source
                    .and_then(|s| s.param_names.iter().position(|p| **p == *name));
                return Ok(Some(Piece::PathParam(index)));
            }
            if expr == "request.body" {
                return body(None).map(Some);
            }
            if let Some(path) = expr.strip_prefix("request.body.") {
                return body(Some(path)).map(Some);
            }
            if expr.starts_with("request.") || expr.starts_with("response.") {
                return Err(format!("unsupported mapping source ${expr}"));
            }
        }
        Side::Response => {
            if let Some(name) = expr.strip_prefix("response.header.") {
                return header(name).map(|h| Some(Piece::Header(h)));
            }
            if expr == "response.body" {
                return body(None).map(Some);
            }
            if let Some(path) = expr.strip_prefix("response.body.") {
                return body(Some(path)).map(Some);
            }
            if expr.starts_with("request.") || expr.starts_with("response.") {
                return Err(format!("unsupported mapping source ${expr}"));
            }
        }
    }
    Ok(None)
}

/// What a mapping does to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMode {
    /// `append:`.
    Append,
    /// `overwrite:`.
    Overwrite,
    /// `remove:`.
    Remove,
}

/// One compiled `requestParameters` entry.
#[derive(Debug, Clone)]
pub enum RequestOp {
    /// `…:header.x`.
    Header(MapMode, HeaderName, ValueTemplate),
    /// `…:querystring.x` (the decoded name).
    Query(MapMode, Box<str>, ValueTemplate),
    /// `overwrite:path`.
    Path(ValueTemplate),
}

/// One compiled `responseParameters` entry.
#[derive(Debug, Clone)]
pub enum ResponseOp {
    /// `…:header.x`.
    Header(MapMode, HeaderName, ValueTemplate),
    /// `overwrite:statuscode`.
    Status(ValueTemplate),
}

/// The headers no mapping may touch (AWS's reserved headers for HTTP APIs).
pub fn is_reserved_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("access-control-")
        || name.starts_with("apigw-")
        || name.starts_with("x-amz-")
        || name.starts_with("x-amzn-")
        || matches!(
            name.as_str(),
            "authorization"
                | "connection"
                | "content-encoding"
                | "content-length"
                | "content-location"
                | "forwarded"
                | "keep-alive"
                | "origin"
                | "proxy-authenticate"
                | "proxy-authorization"
                | "te"
                | "trailers"
                | "transfer-encoding"
                | "upgrade"
                | "x-forwarded-for"
                | "x-forwarded-host"
                | "x-forwarded-proto"
                | "via"
        )
}

fn parse_mode(key: &str) -> Option<(MapMode, &str)> {
    let (mode, target) = key.split_once(':')?;
    let mode = match mode {
        "append" => MapMode::Append,
        "overwrite" => MapMode::Overwrite,
        "remove" => MapMode::Remove,
        _ => return None,
    };
    Some((mode, target))
}

fn target_header(key: &str, name: &str) -> Result<HeaderName, HttpApiError> {
    if is_reserved_header(name) {
        return Err(bad(format!(
            "Invalid mapping key {key:?}: header {name:?} is reserved"
        )));
    }
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| bad(format!("Invalid mapping key {key:?}: invalid header name")))
}

fn compile_request_op(
    key: &str,
    value: &str,
    scope: &ValueScope<'_>,
) -> Result<RequestOp, HttpApiError> {
    let invalid_key = || {
        bad(format!(
            "Invalid mapping key {key:?}: expected append|overwrite|remove:header.name, \
             append|overwrite|remove:querystring.name or overwrite:path"
        ))
    };
    let (mode, target) = parse_mode(key).ok_or_else(invalid_key)?;
    let value = || {
        parse_value(value, Side::Request, scope)
            .map_err(|why| bad(format!("Invalid mapping value for {key:?}: {why}")))
    };
    if let Some(name) = target.strip_prefix("header.") {
        let name = target_header(key, name)?;
        let value = if mode == MapMode::Remove {
            ValueTemplate::default()
        } else {
            value()?
        };
        return Ok(RequestOp::Header(mode, name, value));
    }
    if let Some(name) = target.strip_prefix("querystring.") {
        if name.is_empty() {
            return Err(invalid_key());
        }
        let value = if mode == MapMode::Remove {
            ValueTemplate::default()
        } else {
            value()?
        };
        return Ok(RequestOp::Query(mode, name.into(), value));
    }
    if target == "path" && mode == MapMode::Overwrite {
        return Ok(RequestOp::Path(value()?));
    }
    Err(invalid_key())
}

fn compile_response_op(
    key: &str,
    value: &str,
    scope: &ValueScope<'_>,
) -> Result<ResponseOp, HttpApiError> {
    let invalid_key = || {
        bad(format!(
            "Invalid mapping key {key:?}: expected append|overwrite|remove:header.name or \
             overwrite:statuscode"
        ))
    };
    let (mode, target) = parse_mode(key).ok_or_else(invalid_key)?;
    let parsed = || {
        parse_value(value, Side::Response, scope)
            .map_err(|why| bad(format!("Invalid mapping value for {key:?}: {why}")))
    };
    if let Some(name) = target.strip_prefix("header.") {
        let name = target_header(key, name)?;
        let value = if mode == MapMode::Remove {
            ValueTemplate::default()
        } else {
            parsed()?
        };
        return Ok(ResponseOp::Header(mode, name, value));
    }
    if target == "statuscode" && mode == MapMode::Overwrite {
        let value = parsed()?;
        if let Some(fixed) = value.constant() {
            if !fixed
                .trim()
                .parse::<u16>()
                .is_ok_and(|s| (100..=599).contains(&s))
            {
                return Err(bad(format!(
                    "Invalid mapping value for {key:?}: {fixed:?} is not a status code"
                )));
            }
        }
        return Ok(ResponseOp::Status(value));
    }
    Err(invalid_key())
}

const CHECKING: ValueScope<'static> = ValueScope {
    source: None,
    route_key: "",
};

/// Checks one `requestParameters` entry of an HTTP API integration
/// (`overwrite:header.x` → `$request.header.y`, ...).
pub fn check_request_parameter(key: &str, value: &str) -> Result<(), HttpApiError> {
    compile_request_op(key, value, &CHECKING).map(|_| ())
}

/// Checks one `responseParameters` entry (`overwrite:statuscode` → `204`, ...) of the
/// map for one status code.
pub fn check_response_parameter(key: &str, value: &str) -> Result<(), HttpApiError> {
    compile_response_op(key, value, &CHECKING).map(|_| ())
}

/// Checks a `responseParameters` map key (a status code, 200–599).
pub fn check_response_status_key(key: &str) -> Result<u16, HttpApiError> {
    key.trim()
        .parse::<u16>()
        .ok()
        .filter(|s| (200..=599).contains(s))
        .ok_or_else(|| {
            bad(format!(
                "Invalid responseParameters key {key:?}: must be a status code between 200 and 599"
            ))
        })
}

/// Checks that a whole stage compiles.
pub fn check_stage(stage: &HttpStageConfig) -> Result<(), HttpApiError> {
    compile_http_stage(stage)
        .map(|_| ())
        .map_err(|e| bad(format!("{}: {}", e.at, e.kind)))
}

// ---------------------------------------------------------------------------------------
// The compiled stage.

/// What an HTTP API stage has besides the REST model: the flavour marker of
/// [`CompiledStage::http`].
#[derive(Debug, Default)]
pub struct HttpApiStage {
    /// The `$default` route, if the API has one.
    pub default_route: Option<Arc<CompiledMethod>>,
    /// The API's `corsConfiguration`, compiled.
    pub cors: Option<Cors>,
}

/// A compiled `corsConfiguration`: the header values are built once.
#[derive(Debug)]
pub struct Cors {
    any_origin: bool,
    origins: Box<[Box<str>]>,
    allow_methods: Option<HeaderValue>,
    allow_headers: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
    credentials: bool,
}

/// `Access-Control-*` header names.
pub mod cors_headers {
    use http::header::HeaderName;
    /// `access-control-allow-origin`.
    pub static ALLOW_ORIGIN: HeaderName = HeaderName::from_static("access-control-allow-origin");
    /// `access-control-allow-methods`.
    pub static ALLOW_METHODS: HeaderName = HeaderName::from_static("access-control-allow-methods");
    /// `access-control-allow-headers`.
    pub static ALLOW_HEADERS: HeaderName = HeaderName::from_static("access-control-allow-headers");
    /// `access-control-expose-headers`.
    pub static EXPOSE_HEADERS: HeaderName =
        HeaderName::from_static("access-control-expose-headers");
    /// `access-control-max-age`.
    pub static MAX_AGE: HeaderName = HeaderName::from_static("access-control-max-age");
    /// `access-control-allow-credentials`.
    pub static ALLOW_CREDENTIALS: HeaderName =
        HeaderName::from_static("access-control-allow-credentials");
    /// `access-control-request-method`.
    pub static REQUEST_METHOD: HeaderName =
        HeaderName::from_static("access-control-request-method");
}

impl Cors {
    /// Compiles a `corsConfiguration`.
    pub fn compile(cors: &pb::HttpCors) -> Result<Cors, HttpApiError> {
        let list = |values: &[String], what: &str| -> Result<Option<HeaderValue>, HttpApiError> {
            let joined = values
                .iter()
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(",");
            if joined.is_empty() {
                return Ok(None);
            }
            HeaderValue::from_str(&joined)
                .map(Some)
                .map_err(|_| bad(format!("Invalid CORS {what}: {joined:?}")))
        };
        for method in &cors.allow_methods {
            let m = method.trim();
            if m != "*" && Method::from_bytes(m.as_bytes()).is_err() {
                return Err(bad(format!("Invalid CORS allowMethods entry {m:?}")));
            }
        }
        let any_origin = cors.allow_origins.iter().any(|o| o.trim() == "*");
        if any_origin && cors.allow_credentials {
            return Err(bad(
                "allowCredentials is not supported with allowOrigins \"*\"".to_string(),
            ));
        }
        if cors.max_age > 86_400 {
            return Err(bad(format!(
                "Invalid CORS maxAge {}: must be at most 86400",
                cors.max_age
            )));
        }
        Ok(Cors {
            any_origin,
            origins: cors
                .allow_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').into())
                .collect(),
            allow_methods: list(&cors.allow_methods, "allowMethods")?,
            allow_headers: list(&cors.allow_headers, "allowHeaders")?,
            expose_headers: list(&cors.expose_headers, "exposeHeaders")?,
            max_age: (cors.max_age >= 0).then(|| HeaderValue::from(cors.max_age)),
            credentials: cors.allow_credentials,
        })
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, when allowed.
    pub fn allow_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        if self.any_origin {
            return Some(HeaderValue::from_static("*"));
        }
        let text = origin.to_str().ok()?;
        self.origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(text))
            .then(|| origin.clone())
    }

    /// Adds the CORS headers of an ordinary response (the backend's own are replaced).
    pub fn decorate(&self, allow_origin: HeaderValue, headers: &mut http::HeaderMap) {
        use cors_headers::*;
        headers.remove(&ALLOW_METHODS);
        headers.remove(&ALLOW_HEADERS);
        headers.remove(&MAX_AGE);
        headers.insert(ALLOW_ORIGIN.clone(), allow_origin);
        match &self.expose_headers {
            Some(v) => {
                headers.insert(EXPOSE_HEADERS.clone(), v.clone());
            }
            None => {
                headers.remove(&EXPOSE_HEADERS);
            }
        }
        if self.credentials {
            headers.insert(ALLOW_CREDENTIALS.clone(), HeaderValue::from_static("true"));
        } else {
            headers.remove(&ALLOW_CREDENTIALS);
        }
    }

    /// Removes every CORS header an integration sent (AWS ignores them when the API has a
    /// CORS configuration): the answer to a request whose Origin is absent or not allowed.
    pub fn strip(&self, headers: &mut http::HeaderMap) {
        use cors_headers::*;
        for name in [
            &ALLOW_ORIGIN,
            &ALLOW_METHODS,
            &ALLOW_HEADERS,
            &MAX_AGE,
            &EXPOSE_HEADERS,
            &ALLOW_CREDENTIALS,
        ] {
            headers.remove(name);
        }
    }

    /// The answer to a preflight request: 204 with the allowed methods, headers and max
    /// age when the origin is allowed, a bare 204 otherwise.
    pub fn preflight(
        &self,
        allow_origin: Option<HeaderValue>,
    ) -> http::Response<crate::body::Body> {
        use cors_headers::*;
        let mut response = http::Response::new(crate::body::Body::Empty);
        *response.status_mut() = StatusCode::NO_CONTENT;
        let Some(origin) = allow_origin else {
            return response;
        };
        let headers = response.headers_mut();
        headers.insert(ALLOW_ORIGIN.clone(), origin);
        for (name, value) in [
            (&ALLOW_METHODS, &self.allow_methods),
            (&ALLOW_HEADERS, &self.allow_headers),
            (&EXPOSE_HEADERS, &self.expose_headers),
            (&MAX_AGE, &self.max_age),
        ] {
            if let Some(v) = value {
                headers.insert(name.clone(), v.clone());
            }
        }
        if self.credentials {
            headers.insert(ALLOW_CREDENTIALS.clone(), HeaderValue::from_static("true"));
        }
        response
    }
}

/// Whether a request is a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`).
pub fn is_preflight(parts: &http::request::Parts) -> bool {
    parts.method == Method::OPTIONS
        && parts.headers.contains_key(http::header::ORIGIN)
        && parts.headers.contains_key(&cors_headers::REQUEST_METHOD)
}

/// `responseParameters`, by the integration's status code.
#[derive(Debug, Default)]
pub struct ResponseParameters {
    by_status: Vec<(u16, ResponseMapping)>,
}

/// The response mappings for one status code.
#[derive(Debug)]
pub struct ResponseMapping {
    /// The entries (headers first in key order, then the status).
    pub ops: Vec<ResponseOp>,
    /// Whether a value reads the integration's body (which must then be buffered).
    pub reads_body: bool,
}

impl ResponseParameters {
    /// The mappings for `status`, if any.
    pub fn get(&self, status: u16) -> Option<&ResponseMapping> {
        self.by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, m)| m)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_status.is_empty()
    }
}

/// An HTTP API's `HTTP_PROXY` integration.
#[derive(Debug)]
pub struct HttpApiProxy {
    /// `integrationMethod`; `None` = the request's.
    pub method: Option<Method>,
    /// The URL, stage variables substituted; `{name}` slots are path parameters.
    pub uri: UriTemplate,
    /// For each slot, the route's capture index (`None`: left empty).
    pub slots: Vec<Option<usize>>,
    /// Header mappings, in key order.
    pub header_ops: Vec<(MapMode, HeaderName, ValueTemplate)>,
    /// Query-string mappings, in key order.
    pub query_ops: Vec<(MapMode, Box<str>, ValueTemplate)>,
    /// `overwrite:path`.
    pub path: Option<ValueTemplate>,
    /// The `$default` route's integration: when the URL has no path of its own, the
    /// request path (stage-relative) is sent, as AWS documents for `$default` ("the full
    /// request path"); a URL with a path is called as it is.
    pub append_path: bool,
    /// `timeoutInMillis` (default 30 s).
    pub timeout: Duration,
    /// `responseParameters`.
    pub responses: ResponseParameters,
    /// Whether a request mapping reads the request's body.
    pub reads_body: bool,
}

/// An HTTP API's `AWS_PROXY` (Lambda) integration.
#[derive(Debug)]
pub struct HttpApiFunction {
    /// The function and timeout (templates and responses unused).
    pub function: FunctionIntegration,
    /// `payloadFormatVersion` 2.0.
    pub v2: bool,
    /// `responseParameters`.
    pub responses: ResponseParameters,
}

fn stage_err(stage: &HttpStageConfig, at: &str, kind: CompileErrorKind) -> CompileError {
    CompileError {
        api_id: stage.api_id.clone(),
        stage: stage.stage_name.clone(),
        at: at.to_owned(),
        kind: Box::new(kind),
    }
}

fn api_err(message: String) -> CompileErrorKind {
    CompileErrorKind::WebSocket(message)
}

/// A function URI as HTTP APIs take it: a Lambda function ARN, or API Gateway's
/// invocation URI.
fn function_target(
    uri: &str,
    variables: &BTreeMap<String, String>,
) -> Result<FunctionTarget, String> {
    let uri = substitute_stage_variables(uri, variables);
    let uri = uri.trim();
    let full = if uri.starts_with("arn:") && uri.split(':').nth(2) == Some("lambda") {
        let region = uri.split(':').nth(3).unwrap_or("us-east-1");
        format!("arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{uri}/invocations")
    } else {
        uri.to_owned()
    };
    function::parse_function_uri(&full).map_err(|e| e.to_string())
}

fn integration_timeout(ms: i32) -> Duration {
    if ms <= 0 {
        HTTP_API_TIMEOUT
    } else {
        Duration::from_millis(u64::from(ms.unsigned_abs())).min(HTTP_API_TIMEOUT)
    }
}

fn response_parameters(
    integration: &pb::HttpIntegration,
    scope: &ValueScope<'_>,
) -> Result<ResponseParameters, HttpApiError> {
    let mut by_status = Vec::new();
    for (status, map) in &integration.response_parameters {
        let status = check_response_status_key(status)?;
        let mut entries: Vec<(&String, &String)> = map.entries.iter().collect();
        entries.sort();
        let mut ops = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            ops.push(compile_response_op(key, value, scope)?);
        }
        let reads_body = ops.iter().any(|op| match op {
            ResponseOp::Header(_, _, v) | ResponseOp::Status(v) => v.reads_body(),
        });
        by_status.push((status, ResponseMapping { ops, reads_body }));
    }
    by_status.sort_by_key(|(s, _)| *s);
    Ok(ResponseParameters { by_status })
}

fn compile_integration(
    stage: &HttpStageConfig,
    integration: &pb::HttpIntegration,
    scope: &ValueScope<'_>,
) -> Result<Integration, HttpApiError> {
    let kind = integration.integration_type.to_ascii_uppercase();
    match kind.as_str() {
        "HTTP_PROXY" => {
            let method = match integration.method.trim() {
                "" => None,
                m if m.eq_ignore_ascii_case("ANY") => None,
                m => Some(
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                        .map_err(|_| bad(format!("Invalid integrationMethod {m:?}")))?,
                ),
            };
            let text = substitute_stage_variables(&integration.uri, &stage.variables);
            let uri = UriTemplate::compile(&text)
                .map_err(|e| bad(format!("Invalid integrationUri {text:?}: {e}")))?;
            let names: &[Box<str>] = scope.source.map_or(&[], |s| s.param_names);
            let slots = uri
                .slot_names()
                .iter()
                .map(|slot| names.iter().position(|n| n == slot))
                .collect();
            let mut entries: Vec<(&String, &String)> =
                integration.request_parameters.iter().collect();
            entries.sort();
            let (mut header_ops, mut query_ops, mut path) = (Vec::new(), Vec::new(), None);
            for (key, value) in entries {
                match compile_request_op(key, value, scope)? {
                    RequestOp::Header(m, n, v) => header_ops.push((m, n, v)),
                    RequestOp::Query(m, n, v) => query_ops.push((m, n, v)),
                    RequestOp::Path(v) => path = Some(v),
                }
            }
            let reads_body = header_ops.iter().any(|(_, _, v)| v.reads_body())
                || query_ops.iter().any(|(_, _, v)| v.reads_body())
                || path.as_ref().is_some_and(ValueTemplate::reads_body);
            Ok(Integration::HttpApiProxy(Box::new(HttpApiProxy {
                method,
                uri,
                slots,
                header_ops,
                query_ops,
                path,
                append_path: scope.route_key == "$default",
                timeout: integration_timeout(integration.timeout_in_millis),
                responses: response_parameters(integration, scope)?,
                reads_body,
            })))
        }
        "AWS_PROXY" => {
            let target = function_target(&integration.uri, &stage.variables)
                .map_err(|why| bad(format!("Invalid integrationUri: {why}")))?;
            let v2 = match integration.payload_format_version.trim() {
                "2.0" => true,
                "1.0" | "" => false,
                other => {
                    return Err(bad(format!(
                        "Invalid payloadFormatVersion {other:?}: must be 1.0 or 2.0"
                    )))
                }
            };
            Ok(Integration::HttpApiFunction(Box::new(HttpApiFunction {
                function: FunctionIntegration {
                    target,
                    timeout: integration_timeout(integration.timeout_in_millis),
                    templates: super::RequestTemplates {
                        entries: Box::default(),
                        passthrough: super::Passthrough::WhenNoMatch,
                    },
                    responses: super::IntegrationResponses::default(),
                    content_handling: function::ContentHandling::parse(""),
                    binary_media_types: Arc::new(function::BinaryMediaTypes::new::<&str>(&[])),
                },
                v2,
                responses: response_parameters(integration, scope)?,
            })))
        }
        other => Ok(Integration::Unsupported(other.into())),
    }
}

/// How a JWT authorizer checks a token.
#[derive(Debug)]
pub struct JwtConfig {
    /// Where the token is (`$request.header.Authorization`, ...).
    pub source: ValueSource,
    /// `jwtConfiguration.issuer`.
    pub issuer: apigw_oidc::Issuer,
    /// `jwtConfiguration.audience`: `aud` (or `client_id` when no `aud`) must be one.
    pub audience: Box<[Box<str>]>,
}

/// How a Lambda REQUEST authorizer of an HTTP API is called.
#[derive(Debug)]
pub struct LambdaConfig {
    /// The function.
    pub function: FunctionTarget,
    /// `authorizerPayloadFormatVersion` 2.0.
    pub v2: bool,
    /// `enableSimpleResponses`.
    pub simple: bool,
}

/// An identity source of an HTTP API authorizer (`$request.header.x`, ...) as a value
/// source; stage variables and fixed context values become constants.
fn identity_source(text: &str, scope: &SourceScope<'_>) -> Result<ValueSource, String> {
    let expr = text.trim();
    let inner = expr
        .strip_prefix("${")
        .and_then(|e| e.strip_suffix('}'))
        .or_else(|| expr.strip_prefix('$'))
        .ok_or_else(|| format!("invalid identity source {text:?}"))?;
    if let Some(name) = inner.strip_prefix("request.header.") {
        return HeaderName::from_bytes(name.as_bytes())
            .map(ValueSource::Header)
            .map_err(|_| format!("invalid identity source {text:?}"));
    }
    if let Some(name) = inner.strip_prefix("request.querystring.") {
        return Ok(ValueSource::QueryString(name.into()));
    }
    if inner.starts_with("context.") || inner.starts_with("stageVariables.") {
        return ValueSource::parse(inner, scope).map_err(|e| e.to_string());
    }
    Err(format!("invalid identity source {text:?}"))
}

fn compile_authorizer(
    a: &pb::HttpAuthorizer,
    scope: &SourceScope<'_>,
    variables: &BTreeMap<String, String>,
) -> Result<CompiledAuthorizer, String> {
    let sources = a
        .identity_source
        .iter()
        .map(|s| identity_source(s, scope))
        .collect::<Result<Vec<_>, _>>()?;
    let kind = match a.authorizer_type.to_ascii_uppercase().as_str() {
        "JWT" => {
            let issuer = apigw_oidc::Issuer::from_url(&a.jwt_issuer)
                .map_err(|e| format!("invalid issuer: {e}"))?;
            let source = match sources.as_slice() {
                [] => ValueSource::Header(http::header::AUTHORIZATION),
                [one] => one.clone(),
                _ => return Err("a JWT authorizer takes one identity source".into()),
            };
            AuthorizerKind::Jwt(Box::new(JwtConfig {
                source,
                issuer,
                audience: a.jwt_audience.iter().map(|s| s.as_str().into()).collect(),
            }))
        }
        "REQUEST" => {
            let function = function_target(&a.uri, variables)?;
            let v2 = match a.payload_format_version.trim() {
                "2.0" => true,
                "1.0" | "" => false,
                other => return Err(format!("invalid authorizerPayloadFormatVersion {other:?}")),
            };
            if a.enable_simple_responses && !v2 {
                return Err(
                    "enableSimpleResponses needs authorizerPayloadFormatVersion 2.0".into(),
                );
            }
            AuthorizerKind::HttpRequest(Box::new(LambdaConfig {
                function,
                v2,
                simple: a.enable_simple_responses,
            }))
        }
        other => {
            return Err(format!(
                "invalid authorizer type {other:?}: must be JWT or REQUEST"
            ))
        }
    };
    if !(0..=3600).contains(&a.result_ttl_in_seconds) {
        return Err("authorizerResultTtlInSeconds must be between 0 and 3600".into());
    }
    Ok(CompiledAuthorizer {
        id: a.id.as_str().into(),
        name: a.name.as_str().into(),
        kind,
        ttl: Duration::from_secs(u64::try_from(a.result_ttl_in_seconds).unwrap_or(0)),
        request_sources: a
            .identity_source
            .iter()
            .map(|s| s.as_str().into())
            .collect(),
    })
}

/// Compiles a deployed HTTP API stage.
pub fn compile_http_stage(stage: &HttpStageConfig) -> Result<CompiledStage, CompileError> {
    let variables = &stage.variables;
    let stage_variables = template::stage_variables(variables);
    let region = if stage.region.is_empty() {
        "us-east-1"
    } else {
        &stage.region
    };
    let account_id = if stage.account_id.is_empty() {
        "000000000000"
    } else {
        &stage.account_id
    };
    let cors = match &stage.cors {
        Some(c) => Some(Cors::compile(c).map_err(|e| stage_err(stage, "cors", api_err(e.0)))?),
        None => None,
    };
    let throttle_of = |key: &str| {
        stage
            .route_throttle
            .get(key)
            .or(stage.default_throttle.as_ref())
            .filter(|t| t.rate_limit > 0.0 || t.burst_limit > 0)
            .map(|t| NamedLimit {
                name: format!("b:h:{}:{}:{key}", stage.api_id, stage.stage_name).into(),
                limit: Limit {
                    rate: t.rate_limit.max(0.0),
                    burst: f64::from(t.burst_limit.max(0)),
                },
            })
    };
    // Authorizers are compiled against the stage (identity sources may read fixed context).
    let empty: Vec<Box<str>> = Vec::new();
    let stage_scope = SourceScope {
        param_names: &empty,
        stage_variables: variables,
        api_id: &stage.api_id,
        stage: &stage.stage_name,
        resource_path: "",
        resource_id: "",
        deployment_id: &stage.deployment_id,
    };
    let mut authorizers = Vec::with_capacity(stage.authorizers.len());
    for a in &stage.authorizers {
        let compiled = compile_authorizer(a, &stage_scope, variables)
            .map_err(|why| stage_err(stage, &format!("authorizer {}", a.name), api_err(why)))?;
        authorizers.push(Arc::new(compiled));
    }
    let mut by_path: Vec<(&str, ResourceMethods)> = Vec::new();
    let mut default_route = None;
    let mut seen_keys: Vec<&str> = Vec::new();
    for route in &stage.routes {
        let at = format!("route {:?}", route.route_key);
        let fail = |why: String| stage_err(stage, &at, api_err(why));
        if seen_keys.contains(&route.route_key.as_str()) {
            return Err(fail("duplicate route key".into()));
        }
        seen_keys.push(&route.route_key);
        let key = parse_route_key(&route.route_key).map_err(|e| fail(e.0))?;
        let (method, path) = match key {
            RouteKey::Default => ("ANY", ""),
            RouteKey::Route { method, path } => (method, path),
        };
        let names = param_names(path);
        let scope = SourceScope {
            param_names: &names,
            stage_variables: variables,
            api_id: &stage.api_id,
            stage: &stage.stage_name,
            resource_path: path,
            resource_id: "",
            deployment_id: &stage.deployment_id,
        };
        let value_scope = ValueScope {
            source: Some(&scope),
            route_key: &route.route_key,
        };
        let integration = if route.integration_id.is_empty() {
            Integration::Missing
        } else {
            let found = stage
                .integrations
                .iter()
                .find(|i| i.id == route.integration_id)
                .ok_or_else(|| fail(format!("unknown integration {:?}", route.integration_id)))?;
            compile_integration(stage, found, &value_scope)
                .map_err(|e| fail(format!("integration {}: {}", found.id, e.0)))?
        };
        let authorization = match route.authorization_type.to_ascii_uppercase().as_str() {
            "" | "NONE" => Authorization::None,
            "AWS_IAM" => Authorization::Iam,
            kind @ ("JWT" | "CUSTOM") => {
                let found = authorizers
                    .iter()
                    .find(|a| *a.id == *route.authorizer_id)
                    .ok_or_else(|| fail(format!("unknown authorizer {:?}", route.authorizer_id)))?;
                match (&found.kind, kind) {
                    (AuthorizerKind::Jwt(_), "JWT") => Authorization::Jwt {
                        authorizer: Arc::clone(found),
                        scopes: route
                            .authorization_scopes
                            .iter()
                            .map(|s| s.as_str().into())
                            .collect(),
                    },
                    (AuthorizerKind::HttpRequest(_), "CUSTOM") => {
                        let sources = found
                            .request_sources
                            .iter()
                            .map(|s| identity_source(s, &scope))
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(fail)?;
                        Authorization::Custom {
                            authorizer: Arc::clone(found),
                            sources: sources.into(),
                        }
                    }
                    _ => {
                        return Err(fail(format!(
                            "authorizer {:?} cannot be used with authorizationType {kind}",
                            route.authorizer_id
                        )))
                    }
                }
            }
            other => return Err(fail(format!("invalid authorizationType {other:?}"))),
        };
        let resource_path = if path.is_empty() { "$default" } else { path };
        let compiled = Arc::new(CompiledMethod {
            resource_path: resource_path.into(),
            http_method: method.into(),
            api_key_required: false,
            guarded: !matches!(authorization, Authorization::None),
            authorization,
            method_key: route.route_key.as_str().into(),
            stage_throttle: throttle_of(&route.route_key),
            integration,
            template_scope: Arc::new(TemplateScope {
                resource_id: "".into(),
                param_names: names.clone(),
                stage_variables: Arc::clone(&stage_variables),
                deployment_id: stage.deployment_id.as_str().into(),
            }),
            validation: None,
            metrics_enabled: stage
                .route_detailed_metrics
                .get(&route.route_key)
                .copied()
                .unwrap_or(stage.detailed_metrics),
            logging: MethodLogging::default(),
            hook_slot: HookSlot::default(),
            cache: None,
            route_key: Some(route.route_key.as_str().into()),
        });
        if path.is_empty() {
            default_route = Some(compiled);
            continue;
        }
        let slot = match by_path.iter().position(|(p, _)| *p == path) {
            Some(i) => &mut by_path[i].1,
            None => {
                by_path.push((path, ResourceMethods::default()));
                let last = by_path.len() - 1;
                &mut by_path[last].1
            }
        };
        super::add_method(slot, method, compiled).map_err(|kind| stage_err(stage, &at, kind))?;
    }
    let mut routes = RouteTrie::default();
    for (path, mut methods) in by_path {
        methods.shrink_to_fit();
        routes
            .insert(path, methods)
            .map_err(|e| stage_err(stage, path, e.into()))?;
    }
    routes.shrink_to_fit();
    let logging_config = pb::StageConfig {
        api_id: stage.api_id.clone(),
        stage_name: stage.stage_name.clone(),
        access_log: stage.access_log.clone(),
        ..Default::default()
    };
    Ok(CompiledStage {
        api_id: stage.api_id.as_str().into(),
        stage_name: stage.stage_name.as_str().into(),
        deployment_id: stage.deployment_id.as_str().into(),
        routes,
        api_key_from_header: true,
        execute_api_disabled: stage.disable_execute_api_endpoint,
        gateway_responses: super::gateway_responses::GatewayResponses::default(),
        stage_variables,
        authorizers,
        policy: None,
        arn_prefix: format!(
            "arn:aws:execute-api:{region}:{account_id}:{}/{}/",
            stage.api_id, stage.stage_name
        )
        .into(),
        account_id: account_id.into(),
        authorizer_epoch: authorizer_epoch(stage),
        api_name: stage.api_name.as_str().into(),
        hook_slot: HookSlot::default(),
        tracing_enabled: false,
        client_certificate_id: None,
        logging: StageLogging::compile(&logging_config, false),
        canary: None,
        is_canary: false,
        canary_uses_cache: false,
        http: Some(Box::new(HttpApiStage {
            default_route,
            cors,
        })),
    })
}

/// The stage's authorizer cache epoch: a fingerprint of its authorizers as deployed and
/// of the stage variables their URIs may read. A deployment that changes an authorizer
/// (its function, TTL, identity sources, payload format, simple responses…) changes every
/// cache key of the stage, so no decision cached under the old definition is served, on
/// any node or from the shared store; a deployment that leaves them alone keeps the cache.
/// ResetAuthorizersCache bumps the stage's `authorizer_cache_reset`, part of the
/// fingerprint too: a reset drops every cached decision of the stage the same way.
pub fn authorizer_epoch(stage: &HttpStageConfig) -> u64 {
    use prost::Message;
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(stage.authorizer_cache_reset.to_le_bytes());
    for a in &stage.authorizers {
        let encoded = a.encode_to_vec();
        hash.update((encoded.len() as u64).to_le_bytes());
        hash.update(&encoded);
    }
    let mut variables: Vec<(&String, &String)> = stage.variables.iter().collect();
    variables.sort();
    for (name, value) in variables {
        for part in [name, value] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests;
