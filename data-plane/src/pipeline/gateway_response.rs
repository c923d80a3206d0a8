//! Gateway responses (SPEC 5.8): the single place where an error the gateway itself
//! produces becomes an HTTP response.
//!
//! Every [`GatewayError`] names its [`ResponseType`] and carries its built-in status,
//! `x-amzn-ErrorType` and message. An API may customise types (status, headers from
//! static values / `method.request.*` / `stageVariables.*` / `context.*`, body templates
//! per content type); [`GatewayResponses`] holds them compiled per stage (templates parsed
//! once). Resolution: the specific type's customisation, else DEFAULT_4XX / DEFAULT_5XX
//! by the error's status class, else the built-in (`{"message":"..."}`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use apigw_proto::config as pb;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use http::request::Parts;
use http::{Response, StatusCode};
use serde_json::{json, Value};

use super::context::RequestContext;
use super::route::Routed;
use crate::body::Body;
use crate::compile::{CompiledMethod, CompiledStage};

/// The `x-amzn-ErrorType` header.
pub static X_AMZN_ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// An error produced by the gateway (as opposed to a backend response).
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The host/path names no deployed API and stage.
    #[error("no such API or stage")]
    Forbidden,
    /// No resource/method matches the request.
    #[error("no route matches")]
    MissingAuthenticationToken,
    /// The method needs an API key and the request's is missing, unknown, disabled or not
    /// in a usage plan for the stage.
    #[error("invalid API key")]
    InvalidApiKey,
    /// The key's quota for the period is used up.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// A token bucket (key, method, stage or account) is empty.
    #[error("throttled")]
    Throttled,
    /// The request body is over 10 MB.
    #[error("request body too large")]
    RequestTooLarge,
    /// No request template for the content type and passthrough is not allowed.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The request is malformed in a way hyper let through (e.g. an unusable path).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Required request parameters (names listed) are missing or blank.
    #[error("missing required request parameters: {0:?}")]
    BadRequestParameters(Vec<String>),
    /// The body does not match the method's model (the detail goes to logs only).
    #[error("invalid request body: {0}")]
    BadRequestBody(String),
    /// The backend did not answer within `timeoutInMillis`.
    #[error("integration timed out")]
    IntegrationTimeout,
    /// The backend could not be reached or broke the exchange.
    #[error("integration failure: {0}")]
    IntegrationFailure(String),
    /// The deployment cannot serve this request (no integration, no matching integration
    /// response and no default, unsupported integration type).
    #[error("execution failed due to configuration error: {0}")]
    Configuration(&'static str),
}

/// Gateway response types (SPEC 5.8), the key of per-API customisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    /// DEFAULT_4XX.
    Default4xx,
    /// DEFAULT_5XX.
    Default5xx,
    /// ACCESS_DENIED.
    AccessDenied,
    /// API_CONFIGURATION_ERROR.
    ApiConfigurationError,
    /// AUTHORIZER_CONFIGURATION_ERROR.
    AuthorizerConfigurationError,
    /// AUTHORIZER_FAILURE.
    AuthorizerFailure,
    /// BAD_REQUEST_BODY.
    BadRequestBody,
    /// BAD_REQUEST_PARAMETERS.
    BadRequestParameters,
    /// EXPIRED_TOKEN.
    ExpiredToken,
    /// INTEGRATION_FAILURE.
    IntegrationFailure,
    /// INTEGRATION_TIMEOUT.
    IntegrationTimeout,
    /// INVALID_API_KEY.
    InvalidApiKey,
    /// INVALID_SIGNATURE.
    InvalidSignature,
    /// MISSING_AUTHENTICATION_TOKEN.
    MissingAuthenticationToken,
    /// QUOTA_EXCEEDED.
    QuotaExceeded,
    /// REQUEST_TOO_LARGE.
    RequestTooLarge,
    /// RESOURCE_NOT_FOUND.
    ResourceNotFound,
    /// THROTTLED.
    Throttled,
    /// UNAUTHORIZED.
    Unauthorized,
    /// UNSUPPORTED_MEDIA_TYPE.
    UnsupportedMediaType,
    /// WAF_FILTERED.
    WafFiltered,
}

/// Every type with its wire name, in SPEC order.
pub const ALL_TYPES: [(ResponseType, &str); 21] = [
    (ResponseType::Default4xx, "DEFAULT_4XX"),
    (ResponseType::Default5xx, "DEFAULT_5XX"),
    (ResponseType::AccessDenied, "ACCESS_DENIED"),
    (
        ResponseType::ApiConfigurationError,
        "API_CONFIGURATION_ERROR",
    ),
    (
        ResponseType::AuthorizerConfigurationError,
        "AUTHORIZER_CONFIGURATION_ERROR",
    ),
    (ResponseType::AuthorizerFailure, "AUTHORIZER_FAILURE"),
    (ResponseType::BadRequestBody, "BAD_REQUEST_BODY"),
    (ResponseType::BadRequestParameters, "BAD_REQUEST_PARAMETERS"),
    (ResponseType::ExpiredToken, "EXPIRED_TOKEN"),
    (ResponseType::IntegrationFailure, "INTEGRATION_FAILURE"),
    (ResponseType::IntegrationTimeout, "INTEGRATION_TIMEOUT"),
    (ResponseType::InvalidApiKey, "INVALID_API_KEY"),
    (ResponseType::InvalidSignature, "INVALID_SIGNATURE"),
    (
        ResponseType::MissingAuthenticationToken,
        "MISSING_AUTHENTICATION_TOKEN",
    ),
    (ResponseType::QuotaExceeded, "QUOTA_EXCEEDED"),
    (ResponseType::RequestTooLarge, "REQUEST_TOO_LARGE"),
    (ResponseType::ResourceNotFound, "RESOURCE_NOT_FOUND"),
    (ResponseType::Throttled, "THROTTLED"),
    (ResponseType::Unauthorized, "UNAUTHORIZED"),
    (ResponseType::UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (ResponseType::WafFiltered, "WAF_FILTERED"),
];

impl ResponseType {
    /// The wire name (`THROTTLED`), as `$context.error.responseType` shows it.
    pub fn name(self) -> &'static str {
        ALL_TYPES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("DEFAULT_4XX", |(_, n)| n)
    }

    /// The type named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        ALL_TYPES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }
}

/// How the gateway answers an error when the API did not customise it.
#[derive(Debug, Clone, PartialEq)]
pub struct Builtin {
    /// The gateway response type.
    pub response_type: ResponseType,
    /// The status sent.
    pub status: StatusCode,
    /// The `x-amzn-ErrorType` header.
    pub error_type: &'static str,
    /// `$context.error.message`.
    pub message: Cow<'static, str>,
    /// `$context.error.validationErrorString`: what exactly failed validation.
    pub detail: Option<String>,
}

impl GatewayError {
    /// The built-in rendering: type, status, error type, message (AWS's wording).
    pub fn builtin(&self) -> Builtin {
        let b = |response_type, status, error_type, message: &'static str| Builtin {
            response_type,
            status,
            error_type,
            message: Cow::Borrowed(message),
            detail: None,
        };
        use ResponseType as T;
        match self {
            GatewayError::Forbidden => b(
                T::Default4xx,
                StatusCode::FORBIDDEN,
                "ForbiddenException",
                "Forbidden",
            ),
            GatewayError::MissingAuthenticationToken => b(
                T::MissingAuthenticationToken,
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            GatewayError::InvalidApiKey => b(
                T::InvalidApiKey,
                StatusCode::FORBIDDEN,
                "ForbiddenException",
                "Forbidden",
            ),
            GatewayError::QuotaExceeded => b(
                T::QuotaExceeded,
                StatusCode::TOO_MANY_REQUESTS,
                "LimitExceededException",
                "Limit Exceeded",
            ),
            GatewayError::Throttled => b(
                T::Throttled,
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Too Many Requests",
            ),
            GatewayError::RequestTooLarge => b(
                T::RequestTooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                "Request Too Long",
            ),
            GatewayError::UnsupportedMediaType => b(
                T::UnsupportedMediaType,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaTypeException",
                "Unsupported Media Type",
            ),
            GatewayError::BadRequest(_) => b(
                T::Default4xx,
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                "Bad Request",
            ),
            GatewayError::BadRequestParameters(names) => Builtin {
                response_type: T::BadRequestParameters,
                status: StatusCode::BAD_REQUEST,
                error_type: "BadRequestException",
                message: Cow::Owned(format!(
                    "Missing required request parameters: [{}]",
                    names.join(", ")
                )),
                detail: None,
            },
            GatewayError::BadRequestBody(detail) => Builtin {
                detail: Some(format!("[{detail}]")),
                ..b(
                    T::BadRequestBody,
                    StatusCode::BAD_REQUEST,
                    "BadRequestException",
                    "Invalid request body",
                )
            },
            GatewayError::IntegrationTimeout => b(
                T::IntegrationTimeout,
                StatusCode::GATEWAY_TIMEOUT,
                "InternalServerErrorException",
                "Endpoint request timed out",
            ),
            GatewayError::IntegrationFailure(_) => b(
                T::IntegrationFailure,
                StatusCode::BAD_GATEWAY,
                "InternalServerErrorException",
                "Internal server error",
            ),
            GatewayError::Configuration(_) => b(
                T::ApiConfigurationError,
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerErrorException",
                "Internal server error",
            ),
        }
    }

    /// The gateway response type this error is rendered as.
    pub fn response_type(&self) -> ResponseType {
        self.builtin().response_type
    }

    /// The HTTP status the client sees when the type is not customised.
    pub fn status(&self) -> StatusCode {
        self.builtin().status
    }
}

/// Why a stage's gateway responses cannot be compiled (the control plane refuses these
/// when saved; this guards snapshots from elsewhere).
#[derive(Debug, thiserror::Error)]
pub enum GatewayResponseError {
    /// Not one of SPEC 5.8's types.
    #[error("unknown gateway response type {0:?}")]
    UnknownType(String),
    /// `statusCode` is not an HTTP status.
    #[error("{response_type}: invalid status code {value:?}")]
    Status {
        /// The type.
        response_type: String,
        /// The value.
        value: String,
    },
    /// A `responseParameters` entry is not `gatewayresponse.header.X` ← a known source.
    #[error("{response_type}: invalid response parameter {key:?} = {value:?}")]
    Parameter {
        /// The type.
        response_type: String,
        /// The key.
        key: String,
        /// The source expression.
        value: String,
    },
    /// A body template does not parse.
    #[error("{response_type}: template for {content_type} does not parse: {reason}")]
    Template {
        /// The type.
        response_type: String,
        /// The template's content type.
        content_type: String,
        /// The parser's message with line and column.
        reason: String,
    },
}

/// Where a customised header's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum HeaderSource {
    Static(HeaderValue),
    RequestHeader(HeaderName),
    RequestQuery(Box<str>),
    RequestPath(Box<str>),
    StageVariable(Box<str>),
    Context(Box<str>),
}

/// One customised type, compiled.
#[derive(Debug)]
struct Custom {
    status: Option<StatusCode>,
    headers: Vec<(HeaderName, HeaderSource)>,
    /// Content type → template, in content-type order.
    templates: Vec<(Box<str>, vtl::Template)>,
}

/// The customised gateway responses of one deployment.
#[derive(Debug, Default)]
pub struct GatewayResponses {
    custom: Vec<(ResponseType, Arc<Custom>)>,
    /// Request headers, query parameters and path parameters some customisation reads:
    /// only these are copied from each request, in case it fails.
    read_headers: Vec<HeaderName>,
    read_query: Vec<Box<str>>,
    read_path: Vec<Box<str>>,
    /// Whether some customisation has templates (which see `$context.path` etc.).
    has_templates: bool,
}

impl GatewayResponses {
    /// Compiles a snapshot's customisations.
    pub fn compile(responses: &[pb::GatewayResponse]) -> Result<Self, GatewayResponseError> {
        let mut custom = Vec::with_capacity(responses.len());
        let mut read_headers = Vec::new();
        let mut read_query = Vec::new();
        let mut read_path = Vec::new();
        for r in responses {
            let t = ResponseType::from_name(&r.response_type)
                .ok_or_else(|| GatewayResponseError::UnknownType(r.response_type.clone()))?;
            let status = if r.status_code.is_empty() {
                None
            } else {
                Some(
                    r.status_code
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .ok_or_else(|| GatewayResponseError::Status {
                            response_type: r.response_type.clone(),
                            value: r.status_code.clone(),
                        })?,
                )
            };
            let mut headers = Vec::new();
            for (key, value) in &r.response_parameters {
                let bad = || GatewayResponseError::Parameter {
                    response_type: r.response_type.clone(),
                    key: key.clone(),
                    value: value.clone(),
                };
                let name = key
                    .strip_prefix("gatewayresponse.header.")
                    .and_then(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                    .ok_or_else(bad)?;
                let source = parse_source(value).ok_or_else(bad)?;
                match &source {
                    HeaderSource::RequestHeader(h) => read_headers.push(h.clone()),
                    HeaderSource::RequestQuery(q) => read_query.push(q.clone()),
                    HeaderSource::RequestPath(p) => read_path.push(p.clone()),
                    _ => {}
                }
                headers.push((name, source));
            }
            headers.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            let mut templates = Vec::new();
            let mut sorted: Vec<_> = r.response_templates.iter().collect();
            sorted.sort();
            for (ct, text) in sorted {
                let template =
                    vtl::Template::parse(text).map_err(|e| GatewayResponseError::Template {
                        response_type: r.response_type.clone(),
                        content_type: ct.clone(),
                        reason: format!("line {}, column {}: {}", e.line, e.column, e.message),
                    })?;
                templates.push((ct.trim().to_ascii_lowercase().into_boxed_str(), template));
            }
            custom.push((
                t,
                Arc::new(Custom {
                    status,
                    headers,
                    templates,
                }),
            ));
        }
        let has_templates = custom.iter().any(|(_, c)| !c.templates.is_empty());
        for list in [&mut read_query, &mut read_path] {
            list.sort();
            list.dedup();
        }
        read_headers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        read_headers.dedup();
        Ok(GatewayResponses {
            custom,
            read_headers,
            read_query,
            read_path,
            has_templates,
        })
    }

    fn get(&self, t: ResponseType) -> Option<&Arc<Custom>> {
        self.custom.iter().find(|(c, _)| *c == t).map(|(_, c)| c)
    }

    /// Whether any customisation reads the request (so the pipeline keeps a copy of it
    /// for error responses).
    pub fn needs_request(&self) -> bool {
        !(self.read_headers.is_empty() && self.read_query.is_empty() && self.read_path.is_empty())
    }
}

fn parse_source(value: &str) -> Option<HeaderSource> {
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return HeaderValue::from_str(inner).ok().map(HeaderSource::Static);
    }
    if let Some(rest) = value.strip_prefix("method.request.") {
        let (loc, name) = rest.split_once('.')?;
        if name.is_empty() {
            return None;
        }
        return match loc {
            "header" | "multivalueheader" => HeaderName::from_bytes(name.as_bytes())
                .ok()
                .map(HeaderSource::RequestHeader),
            "querystring" | "multivaluequerystring" => {
                Some(HeaderSource::RequestQuery(name.into()))
            }
            "path" => Some(HeaderSource::RequestPath(name.into())),
            _ => None,
        };
    }
    if let Some(name) = value
        .strip_prefix("stageVariables.")
        .filter(|n| !n.is_empty())
    {
        return Some(HeaderSource::StageVariable(name.into()));
    }
    value
        .strip_prefix("context.")
        .filter(|n| !n.is_empty())
        .map(|n| HeaderSource::Context(n.into()))
}

/// What the pipeline learnt about a request before it failed: enough to render a
/// customised gateway response (the request itself may have been consumed).
#[derive(Debug, Default)]
pub struct ErrorScope {
    /// The stage, once known.
    pub stage: Option<Arc<CompiledStage>>,
    /// The matched method, once routed.
    pub method: Option<Arc<CompiledMethod>>,
    /// A copy of the request's path, query and headers, kept only when the stage's
    /// customisations read them.
    request: Option<RequestCopy>,
}

#[derive(Debug, Default)]
struct RequestCopy {
    path: String,
    http_method: String,
    headers: http::HeaderMap,
    query: BTreeMap<String, String>,
    path_params: BTreeMap<String, String>,
    accept: Option<String>,
}

impl ErrorScope {
    /// Records the stage (and, when routed, the method) and copies what customisations
    /// of this stage read from the request. Cheap when nothing is customised.
    pub fn observe(&mut self, stage: &Arc<CompiledStage>, routed: Option<&Routed>, parts: &Parts) {
        self.stage = Some(Arc::clone(stage));
        self.method = routed.map(|r| Arc::clone(&r.method));
        if stage.gateway_responses.custom.is_empty() {
            return;
        }
        let reads = &stage.gateway_responses;
        if !reads.has_templates && !reads.needs_request() {
            return;
        }
        let mut copy = RequestCopy::default();
        if reads.has_templates {
            copy.path = parts.uri.path().to_string();
            copy.http_method = parts.method.as_str().to_string();
            copy.accept = parts
                .headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        for name in &reads.read_headers {
            if let Some(v) = parts.headers.get(name) {
                copy.headers.insert(name.clone(), v.clone());
            }
        }
        if !reads.read_query.is_empty() {
            for pair in parts.uri.query().unwrap_or("").split('&') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(&s.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned()
                };
                let k = decode(k);
                if reads.read_query.iter().any(|q| **q == *k) {
                    copy.query.insert(k, decode(v));
                }
            }
        }
        if let (false, Some(r)) = (reads.read_path.is_empty(), routed) {
            let stage_path = r.stage_path(parts.uri.path());
            for (name, capture) in r.method.template_scope.param_names.iter().zip(&r.captures) {
                if reads.read_path.contains(name) {
                    let value = percent_encoding::percent_decode_str(capture.of(stage_path))
                        .decode_utf8_lossy()
                        .into_owned();
                    copy.path_params.insert(name.to_string(), value);
                }
            }
        }
        self.request = Some(copy);
    }
}

/// Renders a gateway error as the client-facing response, through the stage's
/// customisations when there are any (the request id is added by the pipeline, as for
/// every response).
pub fn render(error: &GatewayError, ctx: &RequestContext, scope: &ErrorScope) -> Response<Body> {
    let builtin = error.builtin();
    let responses = scope.stage.as_ref().map(|s| &s.gateway_responses);
    let fallback = if builtin.status.is_server_error() {
        ResponseType::Default5xx
    } else {
        ResponseType::Default4xx
    };
    let specific = responses.and_then(|r| r.get(builtin.response_type));
    let custom = specific.or_else(|| responses.and_then(|r| r.get(fallback)));
    let (Some(custom), Some(stage)) = (custom, scope.stage.as_ref()) else {
        return render_builtin(&builtin);
    };
    let status = specific.and_then(|c| c.status).unwrap_or(builtin.status);
    let context = error_context(&builtin, ctx, stage, scope);
    let mut response = if custom.templates.is_empty() {
        json_response(status, default_body(&builtin.message))
    } else {
        let accept = scope.request.as_ref().and_then(|r| r.accept.as_deref());
        let (content_type, template) = choose_template(&custom.templates, accept);
        let input = vtl::RenderInput {
            body: String::new(),
            params: params(scope),
            context: context.clone(),
            stage_variables: (*stage_variables(scope)).clone(),
            variables: serde_json::Map::new(),
        };
        match template.render(&input) {
            Ok(out) => {
                let status = out
                    .response_override_status
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or(status);
                let mut response = Response::new(Body::full(Bytes::from(out.body)));
                *response.status_mut() = status;
                if let Ok(v) = HeaderValue::from_str(content_type) {
                    response.headers_mut().insert(CONTENT_TYPE, v);
                }
                for (k, v) in out.response_override_headers {
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(&v),
                    ) {
                        response.headers_mut().insert(k, v);
                    }
                }
                response
            }
            Err(e) => {
                tracing::warn!(error = %e, response_type = builtin.response_type.name(),
                    "gateway response template failed; sending the built-in body");
                json_response(status, default_body(&builtin.message))
            }
        }
    };
    response.headers_mut().insert(
        X_AMZN_ERROR_TYPE.clone(),
        HeaderValue::from_static(builtin.error_type),
    );
    for (name, source) in &custom.headers {
        if let Some(v) = header_value(source, scope, &context) {
            response.headers_mut().insert(name.clone(), v);
        }
    }
    response
}

fn default_body(message: &str) -> String {
    json!({ "message": message }).to_string()
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::full(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn render_builtin(builtin: &Builtin) -> Response<Body> {
    let mut response = json_response(builtin.status, default_body(&builtin.message));
    response.headers_mut().insert(
        X_AMZN_ERROR_TYPE.clone(),
        HeaderValue::from_static(builtin.error_type),
    );
    response
}

/// The template for the request's `Accept` (exact media type), else
/// `application/json`, else the first.
fn choose_template<'a>(
    templates: &'a [(Box<str>, vtl::Template)],
    accept: Option<&str>,
) -> (&'a str, &'a vtl::Template) {
    let wanted = accept.into_iter().flat_map(|a| a.split(',')).map(|m| {
        m.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let found = wanted
        .filter_map(|w| templates.iter().find(|(ct, _)| **ct == *w))
        .next()
        .or_else(|| templates.iter().find(|(ct, _)| &**ct == "application/json"))
        .unwrap_or(&templates[0]);
    (&found.0, &found.1)
}

fn stage_variables(scope: &ErrorScope) -> Arc<BTreeMap<String, String>> {
    scope
        .method
        .as_ref()
        .map(|m| Arc::clone(&m.template_scope.stage_variables))
        .or_else(|| scope.stage.as_ref().map(|s| Arc::clone(&s.stage_variables)))
        .unwrap_or_default()
}

fn params(scope: &ErrorScope) -> vtl::Params {
    let Some(r) = &scope.request else {
        return vtl::Params::default();
    };
    vtl::Params {
        path: r.path_params.clone(),
        querystring: r.query.clone(),
        header: r
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
    }
}

/// `$context` for error templates and `context.*` headers.
fn error_context(
    builtin: &Builtin,
    ctx: &RequestContext,
    stage: &CompiledStage,
    scope: &ErrorScope,
) -> Value {
    let message = builtin.message.as_ref();
    let epoch_ms = ctx
        .received_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let request = scope.request.as_ref();
    json!({
        "requestId": ctx.request_id_str(),
        "extendedRequestId": ctx.request_id_str(),
        "apiId": &*stage.api_id,
        "stage": &*stage.stage_name,
        "deploymentId": &*stage.deployment_id,
        "resourcePath": scope.method.as_ref().map(|m| &*m.resource_path),
        "httpMethod": request.map(|r| r.http_method.as_str()),
        "path": request.map(|r| r.path.as_str()),
        "requestTimeEpoch": epoch_ms,
        "identity": {
            "sourceIp": ctx.source_ip.to_string(),
            "apiKeyId": ctx.api_key_id.get().map(|k| &**k),
        },
        "error": {
            "message": message,
            "messageString": Value::String(message.to_string()).to_string(),
            "responseType": builtin.response_type.name(),
            "validationErrorString": builtin.detail.as_deref().unwrap_or(message),
        },
    })
}

fn header_value(source: &HeaderSource, scope: &ErrorScope, context: &Value) -> Option<HeaderValue> {
    let text = match source {
        HeaderSource::Static(v) => return Some(v.clone()),
        HeaderSource::RequestHeader(name) => {
            return scope.request.as_ref()?.headers.get(name).cloned();
        }
        HeaderSource::RequestQuery(name) => scope.request.as_ref()?.query.get(&**name)?.clone(),
        HeaderSource::RequestPath(name) => {
            scope.request.as_ref()?.path_params.get(&**name)?.clone()
        }
        HeaderSource::StageVariable(name) => stage_variables(scope).get(&**name)?.clone(),
        HeaderSource::Context(path) => {
            let mut v = context;
            for seg in path.split('.') {
                v = v.get(seg)?;
            }
            match v {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            }
        }
    };
    HeaderValue::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn all_errors() -> Vec<(GatewayError, u16)> {
        vec![
            (GatewayError::Forbidden, 403),
            (GatewayError::MissingAuthenticationToken, 403),
            (GatewayError::InvalidApiKey, 403),
            (GatewayError::QuotaExceeded, 429),
            (GatewayError::Throttled, 429),
            (GatewayError::RequestTooLarge, 413),
            (GatewayError::UnsupportedMediaType, 415),
            (GatewayError::BadRequest("x"), 400),
            (GatewayError::BadRequestParameters(vec!["a".into()]), 400),
            (GatewayError::BadRequestBody("x".into()), 400),
            (GatewayError::IntegrationTimeout, 504),
            (GatewayError::IntegrationFailure("refused".into()), 502),
            (GatewayError::Configuration("x"), 500),
        ]
    }

    async fn body_of(r: Response<Body>) -> String {
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn builtins_are_json_with_an_error_type() {
        let ctx = RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        for (error, status) in all_errors() {
            let response = render(&error, &ctx, &ErrorScope::default());
            assert_eq!(response.status().as_u16(), status, "{error:?}");
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert!(response.headers().contains_key(&X_AMZN_ERROR_TYPE));
            let json: Value = serde_json::from_str(&body_of(response).await).unwrap();
            assert!(json["message"].is_string());
        }
    }

    #[test]
    fn missing_parameters_are_named_as_aws_words_them() {
        let e = GatewayError::BadRequestParameters(vec!["q".into(), "x-token".into()]);
        assert_eq!(
            e.builtin().message,
            "Missing required request parameters: [q, x-token]"
        );
        assert_eq!(
            GatewayError::BadRequestBody("detail".into())
                .builtin()
                .message,
            "Invalid request body"
        );
    }

    #[test]
    fn every_type_round_trips_its_name() {
        for (t, name) in ALL_TYPES {
            assert_eq!(t.name(), name);
            assert_eq!(ResponseType::from_name(name), Some(t));
        }
        assert_eq!(ResponseType::from_name("NOPE"), None);
    }

    fn custom(
        t: &str,
        status: &str,
        params: &[(&str, &str)],
        templates: &[(&str, &str)],
    ) -> pb::GatewayResponse {
        pb::GatewayResponse {
            response_type: t.into(),
            status_code: status.into(),
            response_parameters: params
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            response_templates: templates
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }

    #[test]
    fn compile_refuses_bad_customisations() {
        assert!(GatewayResponses::compile(&[custom("NOPE", "", &[], &[])]).is_err());
        assert!(GatewayResponses::compile(&[custom("THROTTLED", "99x", &[], &[])]).is_err());
        assert!(GatewayResponses::compile(&[custom(
            "THROTTLED",
            "",
            &[("method.response.header.x", "'v'")],
            &[]
        )])
        .is_err());
        assert!(GatewayResponses::compile(&[custom(
            "THROTTLED",
            "",
            &[],
            &[("application/json", "#if(")]
        )])
        .is_err());
        let ok = GatewayResponses::compile(&[custom(
            "DEFAULT_4XX",
            "",
            &[("gatewayresponse.header.Access-Control-Allow-Origin", "'*'")],
            &[(
                "application/json",
                "{\"message\":$context.error.messageString}",
            )],
        )])
        .unwrap();
        assert!(ok.get(ResponseType::Default4xx).is_some());
        assert!(!ok.needs_request());
        let reads = GatewayResponses::compile(&[custom(
            "THROTTLED",
            "",
            &[
                ("gatewayresponse.header.a", "method.request.header.Origin"),
                ("gatewayresponse.header.b", "method.request.querystring.q"),
                ("gatewayresponse.header.c", "method.request.path.id"),
            ],
            &[],
        )])
        .unwrap();
        assert!(reads.needs_request());
        assert_eq!(reads.read_headers, vec![HeaderName::from_static("origin")]);
        assert_eq!(reads.read_query, vec![Box::from("q")]);
        assert_eq!(reads.read_path, vec![Box::from("id")]);
        assert!(!reads.has_templates);
    }

    fn stage_with(responses: Vec<pb::GatewayResponse>) -> Arc<CompiledStage> {
        Arc::new(
            crate::compile::compile_stage(&pb::StageConfig {
                api_id: "api1".into(),
                stage_name: "prod".into(),
                variables: [("who".to_string(), "stage-var".to_string())].into(),
                deployment: Some(pb::DeploymentSnapshot {
                    gateway_responses: responses,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn default_4xx_applies_to_4xx_types_only_and_renders_its_template() {
        let stage = stage_with(vec![custom(
            "DEFAULT_4XX",
            "",
            &[
                ("gatewayresponse.header.x-origin", "method.request.header.origin"),
                ("gatewayresponse.header.x-who", "stageVariables.who"),
                ("gatewayresponse.header.x-type", "context.error.responseType"),
            ],
            &[(
                "application/json",
                "{\"m\":$context.error.messageString,\"v\":\"$context.error.validationErrorString\"}",
            )],
        )]);
        let parts = http::Request::builder()
            .uri("/restapis/api1/prod/_user_request_/x")
            .header("origin", "https://o.example")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let mut scope = ErrorScope::default();
        scope.observe(&stage, None, &parts);
        let ctx = RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        let r = render(
            &GatewayError::BadRequestBody("age: not an integer".into()),
            &ctx,
            &scope,
        );
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["x-origin"], "https://o.example");
        assert_eq!(r.headers()["x-who"], "stage-var");
        assert_eq!(r.headers()["x-type"], "BAD_REQUEST_BODY");
        assert_eq!(r.headers()[&X_AMZN_ERROR_TYPE], "BadRequestException");
        assert_eq!(
            body_of(r).await,
            r#"{"m":"Invalid request body","v":"[age: not an integer]"}"#
        );
        // A 5xx has no customisation to fall back to: the built-in.
        let r = render(&GatewayError::IntegrationTimeout, &ctx, &scope);
        assert_eq!(r.status(), 504);
        assert!(r.headers().get("x-origin").is_none());
        assert_eq!(
            body_of(r).await,
            r#"{"message":"Endpoint request timed out"}"#
        );
    }

    #[tokio::test]
    async fn a_specific_type_wins_over_the_default_and_overrides_the_status() {
        let stage = stage_with(vec![
            custom(
                "DEFAULT_4XX",
                "",
                &[("gatewayresponse.header.x-d", "'4xx'")],
                &[],
            ),
            custom(
                "THROTTLED",
                "503",
                &[("gatewayresponse.header.x-t", "'t'")],
                &[],
            ),
        ]);
        let parts = http::Request::builder()
            .uri("/")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let mut scope = ErrorScope::default();
        scope.observe(&stage, None, &parts);
        let ctx = RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        let r = render(&GatewayError::Throttled, &ctx, &scope);
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["x-t"], "t");
        assert!(r.headers().get("x-d").is_none());
        assert_eq!(body_of(r).await, r#"{"message":"Too Many Requests"}"#);
        let r = render(&GatewayError::InvalidApiKey, &ctx, &scope);
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["x-d"], "4xx");
    }

    #[test]
    fn sources_parse_as_aws_writes_them() {
        assert_eq!(
            parse_source("'*'"),
            Some(HeaderSource::Static(HeaderValue::from_static("*")))
        );
        assert_eq!(
            parse_source("method.request.header.Origin"),
            Some(HeaderSource::RequestHeader(HeaderName::from_static(
                "origin"
            )))
        );
        assert_eq!(
            parse_source("stageVariables.o"),
            Some(HeaderSource::StageVariable("o".into()))
        );
        assert_eq!(
            parse_source("context.requestId"),
            Some(HeaderSource::Context("requestId".into()))
        );
        assert_eq!(parse_source("integration.response.header.x"), None);
        assert_eq!(parse_source("*"), None);
    }

    #[test]
    fn templates_are_chosen_by_accept_then_json_then_first() {
        let t = |s: &str| vtl::Template::parse(s).unwrap();
        let templates = vec![
            ("application/json".into(), t("j")),
            ("application/xml".into(), t("x")),
        ];
        assert_eq!(
            choose_template(&templates, Some("application/xml")).0,
            "application/xml"
        );
        assert_eq!(
            choose_template(&templates, Some("text/html, application/xml;q=0.9")).0,
            "application/xml"
        );
        assert_eq!(
            choose_template(&templates, Some("text/html")).0,
            "application/json"
        );
        assert_eq!(choose_template(&templates, None).0, "application/json");
        let only_xml = vec![("application/xml".into(), t("x"))];
        assert_eq!(choose_template(&only_xml, None).0, "application/xml");
    }
}
