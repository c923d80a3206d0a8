//! Parameter mappings (`requestParameters` / `responseParameters`), parsed at compile time
//! into small enums so that a request only looks values up, never parses expressions.
//!
//! Sources that are fixed for a stage (`'static'`, `stageVariables.x`, `context.apiId`, ...)
//! are resolved to constants when the stage is compiled.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;

use super::route_trie::Capture;
use super::template::BodyPath;
use super::uri_template::{encode_path_value, encode_query_component};

/// Why a mapping expression was rejected at compile time.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The expression is not one of the forms API Gateway accepts.
    #[error("unrecognised mapping expression {0:?}")]
    Unrecognised(String),
    /// A header target or source names an invalid HTTP header.
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    /// A static value cannot be sent as an HTTP header value.
    #[error("invalid header value {0:?}")]
    InvalidHeaderValue(String),
}

/// What a method's request looks like to the mapping evaluator (all borrowed, no copies).
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The incoming method.
    pub method: &'a Method,
    /// The stage-relative request path, still percent-encoded; captures index into it.
    pub path: &'a str,
    /// Path parameter captures in the order of the resource's `{param}`s.
    pub captures: &'a [Capture],
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The incoming headers.
    pub headers: &'a HeaderMap,
    /// This request's id (`context.requestId`).
    pub request_id: &'a str,
    /// The bytes both request ids come from (`context.extendedRequestId` is derived from
    /// them when a mapping reads it).
    pub id_bytes: &'a [u8; 16],
    /// The mutual-TLS client certificate (`context.identity.clientCert.*`).
    pub client_cert: Option<&'a crate::context::ClientCert>,
    /// The client's address (`context.identity.sourceIp`).
    pub source_ip: IpAddr,
    /// What the authorizer established (`context.authorizer.x`).
    pub authorizer: Option<&'a crate::phases::authorize::AuthorizerResult>,
}

/// Request-derived context variables that vary per request (the fixed ones become constants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextVar {
    /// `context.authorizer.x` (`principalId`, a context key, `claims.x`).
    Authorizer(Box<str>),
    /// `context.requestId`.
    RequestId,
    /// `context.extendedRequestId`.
    ExtendedRequestId,
    /// `context.httpMethod`.
    HttpMethod,
    /// `context.identity.sourceIp`.
    SourceIp,
    /// `context.identity.userAgent`.
    UserAgent,
    /// `context.identity.clientCert.X`: the member's name (one of
    /// [`crate::context::ClientCert::MEMBERS`]).
    ClientCert(&'static str),
}

/// Where a request-side mapping takes its value from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// `method.request.path.X`: index of the capture on the matched resource.
    PathParam(usize),
    /// `method.request.querystring.X`: decoded key; its last value.
    QueryString(Box<str>),
    /// `method.request.multivaluequerystring.X`: decoded key; all its values, in order,
    /// for a query-string target (the last where one value is wanted).
    MultiQueryString(Box<str>),
    /// `method.request.header.X` (and `multivalueheader`).
    Header(HeaderName),
    /// A constant: `'static'`, a stage variable or a fixed context variable.
    Constant(Box<str>),
    /// A per-request context variable.
    Context(ContextVar),
    /// Valid but without a value here (unknown path parameter, unset stage variable,
    /// body mappings until templates land): the target is left unset.
    Absent,
}

/// Values that are fixed for a method of a stage, used to resolve constant sources.
#[derive(Debug, Clone, Copy)]
pub struct SourceScope<'a> {
    /// Names of the matched resource's path parameters, in capture order.
    pub param_names: &'a [Box<str>],
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
    /// `context.apiId`.
    pub api_id: &'a str,
    /// `context.stage`.
    pub stage: &'a str,
    /// `context.resourcePath`.
    pub resource_path: &'a str,
    /// `context.resourceId`.
    pub resource_id: &'a str,
    /// `context.deploymentId`.
    pub deployment_id: &'a str,
}

impl ValueSource {
    /// Parses a request-side source expression.
    pub fn parse(expr: &str, scope: &SourceScope<'_>) -> Result<Self, MappingError> {
        let expr = expr.trim();
        if let Some(constant) = static_literal(expr) {
            return Ok(ValueSource::Constant(constant.into()));
        }
        if let Some(name) = expr.strip_prefix("method.request.path.") {
            return Ok(scope
                .param_names
                .iter()
                .position(|p| p.as_ref() == name)
                .map_or(ValueSource::Absent, ValueSource::PathParam));
        }
        if let Some(name) = expr.strip_prefix("method.request.querystring.") {
            return Ok(ValueSource::QueryString(name.into()));
        }
        if let Some(name) = expr.strip_prefix("method.request.multivaluequerystring.") {
            return Ok(ValueSource::MultiQueryString(name.into()));
        }
        if let Some(name) = expr
            .strip_prefix("method.request.header.")
            .or_else(|| expr.strip_prefix("method.request.multivalueheader."))
        {
            return Ok(ValueSource::Header(header_name(name)?));
        }
        if expr == "method.request.body" || expr.starts_with("method.request.body.") {
            return Ok(ValueSource::Absent);
        }
        if let Some(name) = expr.strip_prefix("stageVariables.") {
            return Ok(scope
                .stage_variables
                .get(name)
                .map_or(ValueSource::Absent, |v| {
                    ValueSource::Constant(v.as_str().into())
                }));
        }
        if let Some(var) = expr.strip_prefix("context.") {
            return Ok(context_source(var, scope));
        }
        Err(MappingError::Unrecognised(expr.to_owned()))
    }

    /// The decoded text value for this request, or `None` when absent.
    pub fn text<'a>(&'a self, req: &RequestView<'a>) -> Option<Cow<'a, str>> {
        match self {
            ValueSource::PathParam(index) => {
                let capture = req.captures.get(*index)?;
                Some(decode(capture.of(req.path)))
            }
            ValueSource::QueryString(key) | ValueSource::MultiQueryString(key) => {
                crate::query::last(req.query?, key)
            }
            ValueSource::Header(name) => req
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(Cow::Borrowed),
            ValueSource::Constant(value) => Some(Cow::Borrowed(value)),
            ValueSource::Context(var) => match var {
                ContextVar::RequestId => Some(Cow::Borrowed(req.request_id)),
                ContextVar::ExtendedRequestId => Some(Cow::Owned(
                    crate::context::ExtendedRequestId::of(req.id_bytes)
                        .as_str()
                        .to_owned(),
                )),
                ContextVar::HttpMethod => Some(Cow::Borrowed(req.method.as_str())),
                ContextVar::SourceIp => Some(Cow::Owned(req.source_ip.to_string())),
                ContextVar::Authorizer(name) => req.authorizer?.value(name),
                ContextVar::UserAgent => req
                    .headers
                    .get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(Cow::Borrowed),
                ContextVar::ClientCert(member) => {
                    req.client_cert?.member(member).map(Cow::Borrowed)
                }
            },
            ValueSource::Absent => None,
        }
    }

    /// Calls `f` with every value this source gives a query-string target: each value of
    /// a multi-value query parameter, in order; else the one [`ValueSource::text`] gives.
    pub fn for_each_query_value<'a>(
        &'a self,
        req: &RequestView<'a>,
        mut f: impl FnMut(Cow<'a, str>),
    ) {
        match self {
            ValueSource::MultiQueryString(key) => {
                if let Some(query) = req.query {
                    crate::query::all(query, key).for_each(f);
                }
            }
            other => {
                if let Some(value) = other.text(req) {
                    f(value);
                }
            }
        }
    }

    /// Appends the value as URI path text: path captures are copied as the client sent
    /// them (already encoded, a greedy capture keeps its slashes); other values are
    /// percent-encoded. Absent values append nothing.
    pub fn append_path(&self, req: &RequestView<'_>, out: &mut String) {
        match self {
            ValueSource::PathParam(index) => {
                if let Some(capture) = req.captures.get(*index) {
                    out.push_str(capture.of(req.path));
                }
            }
            other => {
                if let Some(text) = other.text(req) {
                    out.extend(encode_path_value(&text));
                }
            }
        }
    }
}

fn context_source(var: &str, scope: &SourceScope<'_>) -> ValueSource {
    let constant = |v: &str| ValueSource::Constant(v.into());
    match var {
        "requestId" => ValueSource::Context(ContextVar::RequestId),
        "extendedRequestId" => ValueSource::Context(ContextVar::ExtendedRequestId),
        "httpMethod" => ValueSource::Context(ContextVar::HttpMethod),
        "identity.sourceIp" => ValueSource::Context(ContextVar::SourceIp),
        "identity.userAgent" => ValueSource::Context(ContextVar::UserAgent),
        _ if var.starts_with("identity.clientCert.") => {
            let member = &var["identity.clientCert.".len()..];
            match crate::context::ClientCert::MEMBERS
                .iter()
                .find(|m| **m == member)
            {
                Some(m) => ValueSource::Context(ContextVar::ClientCert(m)),
                None => ValueSource::Absent,
            }
        }
        _ if var.starts_with("authorizer.") && var.len() > "authorizer.".len() => {
            ValueSource::Context(ContextVar::Authorizer(var["authorizer.".len()..].into()))
        }
        "apiId" => constant(scope.api_id),
        "stage" => constant(scope.stage),
        "resourcePath" => constant(scope.resource_path),
        "resourceId" => constant(scope.resource_id),
        "deploymentId" => constant(scope.deployment_id),
        _ => ValueSource::Absent,
    }
}

/// Where a request-side mapping writes its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTarget {
    /// `integration.request.header.X`.
    Header(HeaderName),
    /// `integration.request.querystring.X`: the key, already percent-encoded.
    QueryString(Box<str>),
    /// `integration.request.path.X`: fills `{X}` in the integration URI.
    Path(Box<str>),
}

impl RequestTarget {
    /// Parses a request-side target expression.
    pub fn parse(expr: &str) -> Result<Self, MappingError> {
        let expr = expr.trim();
        if let Some(name) = expr
            .strip_prefix("integration.request.header.")
            .or_else(|| expr.strip_prefix("integration.request.multivalueheader."))
        {
            return Ok(RequestTarget::Header(header_name(name)?));
        }
        if let Some(name) = expr
            .strip_prefix("integration.request.querystring.")
            .or_else(|| expr.strip_prefix("integration.request.multivaluequerystring."))
        {
            return Ok(RequestTarget::QueryString(
                encode_query_component(name).collect::<String>().into(),
            ));
        }
        if let Some(name) = expr.strip_prefix("integration.request.path.") {
            return Ok(RequestTarget::Path(name.into()));
        }
        Err(MappingError::Unrecognised(expr.to_owned()))
    }
}

/// One compiled `integration.request.* = source` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMapping {
    /// Where the value goes.
    pub target: RequestTarget,
    /// Where it comes from.
    pub source: ValueSource,
}

/// Where a response-side mapping (`method.response.header.X = ...`) takes its value from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseSource {
    /// A constant header value (`'static'`, stage variable, fixed context variable).
    Constant(HeaderValue),
    /// `integration.response.header.Y`.
    BackendHeader(HeaderName),
    /// `context.requestId`.
    RequestId,
    /// `context.extendedRequestId`.
    ExtendedRequestId,
    /// `integration.response.body`: the whole body.
    Body,
    /// `integration.response.body.PATH`: a JSONPath into the (JSON) body.
    BodyPath(BodyPath),
    /// Valid but without a value (unset variables).
    Absent,
}

impl ResponseSource {
    /// Parses a response-side source expression.
    pub fn parse(expr: &str, scope: &SourceScope<'_>) -> Result<Self, MappingError> {
        let expr = expr.trim();
        if let Some(name) = expr
            .strip_prefix("integration.response.header.")
            .or_else(|| expr.strip_prefix("integration.response.multivalueheader."))
        {
            return Ok(ResponseSource::BackendHeader(header_name(name)?));
        }
        if expr == "integration.response.body" {
            return Ok(ResponseSource::Body);
        }
        if let Some(path) = expr.strip_prefix("integration.response.body.") {
            return BodyPath::compile(path)
                .map(ResponseSource::BodyPath)
                .map_err(|_| MappingError::Unrecognised(expr.to_owned()));
        }
        // The request is not a source of integration responses (API Gateway refuses it).
        if expr.starts_with("method.request.") {
            return Err(MappingError::Unrecognised(expr.to_owned()));
        }
        let constant = match ValueSource::parse(expr, scope)? {
            ValueSource::Constant(value) => value,
            ValueSource::Context(ContextVar::RequestId) => return Ok(ResponseSource::RequestId),
            ValueSource::Context(ContextVar::ExtendedRequestId) => {
                return Ok(ResponseSource::ExtendedRequestId)
            }
            ValueSource::Absent => return Ok(ResponseSource::Absent),
            _ => return Err(MappingError::Unrecognised(expr.to_owned())),
        };
        HeaderValue::from_str(&constant)
            .map(ResponseSource::Constant)
            .map_err(|_| MappingError::InvalidHeaderValue(constant.into()))
    }

    /// Whether the value comes from the integration's body (which must then be buffered).
    pub fn reads_body(&self) -> bool {
        matches!(self, ResponseSource::Body | ResponseSource::BodyPath(_))
    }

    /// The header value for this response, or `None` when absent. `body` is the
    /// integration's body when it was buffered; `ctx` gives the request's ids.
    pub fn value(
        &self,
        backend: Option<&HeaderMap>,
        body: Option<&str>,
        ctx: &crate::context::RequestContext,
    ) -> Option<HeaderValue> {
        match self {
            ResponseSource::Constant(value) => Some(value.clone()),
            ResponseSource::BackendHeader(name) => backend?.get(name).cloned(),
            ResponseSource::RequestId => Some(ctx.request_id.clone()),
            ResponseSource::ExtendedRequestId => Some(ctx.extended_request_id().header_value()),
            ResponseSource::Body => HeaderValue::from_str(body?.trim()).ok(),
            ResponseSource::BodyPath(path) => HeaderValue::from_str(&path.evaluate(body?)?).ok(),
            ResponseSource::Absent => None,
        }
    }
}

/// Parses a response-side target (`method.response.header.X`) into the header to set.
pub fn parse_response_target(expr: &str) -> Result<HeaderName, MappingError> {
    let expr = expr.trim();
    expr.strip_prefix("method.response.header.")
        .ok_or_else(|| MappingError::Unrecognised(expr.to_owned()))
        .and_then(header_name)
}

fn static_literal(expr: &str) -> Option<&str> {
    expr.strip_prefix('\'')?.strip_suffix('\'')
}

fn header_name(name: &str) -> Result<HeaderName, MappingError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| MappingError::InvalidHeaderName(name.to_owned()))
}

/// Percent-decodes a path segment (`+` stays a `+`; invalid UTF-8 is replaced, never an
/// error). Query strings have their own rules: [`crate::query`].
pub fn decode(raw: &str) -> Cow<'_, str> {
    if raw.contains('%') {
        percent_decode_str(raw).decode_utf8_lossy()
    } else {
        Cow::Borrowed(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(names: &'a [Box<str>], vars: &'a BTreeMap<String, String>) -> SourceScope<'a> {
        SourceScope {
            param_names: names,
            stage_variables: vars,
            api_id: "abc123",
            stage: "prod",
            resource_path: "/pets/{id}",
            resource_id: "r1",
            deployment_id: "d1",
        }
    }

    #[test]
    fn parses_request_sources() {
        let names: Vec<Box<str>> = vec!["id".into()];
        let vars = BTreeMap::from([("color".to_owned(), "blue".to_owned())]);
        let s = scope(&names, &vars);
        assert_eq!(
            ValueSource::parse("method.request.path.id", &s).unwrap(),
            ValueSource::PathParam(0)
        );
        assert_eq!(
            ValueSource::parse("method.request.path.nope", &s).unwrap(),
            ValueSource::Absent
        );
        assert_eq!(
            ValueSource::parse("method.request.querystring.q", &s).unwrap(),
            ValueSource::QueryString("q".into())
        );
        assert_eq!(
            ValueSource::parse("method.request.header.X-Trace", &s).unwrap(),
            ValueSource::Header(HeaderName::from_static("x-trace"))
        );
        assert_eq!(
            ValueSource::parse("'it''s'", &s).unwrap(),
            ValueSource::Constant("it''s".into())
        );
        assert_eq!(
            ValueSource::parse("stageVariables.color", &s).unwrap(),
            ValueSource::Constant("blue".into())
        );
        assert_eq!(
            ValueSource::parse("stageVariables.missing", &s).unwrap(),
            ValueSource::Absent
        );
        assert_eq!(
            ValueSource::parse("context.stage", &s).unwrap(),
            ValueSource::Constant("prod".into())
        );
        assert_eq!(
            ValueSource::parse("context.requestId", &s).unwrap(),
            ValueSource::Context(ContextVar::RequestId)
        );
        assert!(ValueSource::parse("method.foo", &s).is_err());
        assert!(ValueSource::parse("method.request.header.bad header", &s).is_err());
    }

    #[test]
    fn parses_targets() {
        assert_eq!(
            RequestTarget::parse("integration.request.header.X-Api").unwrap(),
            RequestTarget::Header(HeaderName::from_static("x-api"))
        );
        assert_eq!(
            RequestTarget::parse("integration.request.querystring.a b").unwrap(),
            RequestTarget::QueryString("a%20b".into())
        );
        assert_eq!(
            RequestTarget::parse("integration.request.path.id").unwrap(),
            RequestTarget::Path("id".into())
        );
        assert!(RequestTarget::parse("method.request.path.id").is_err());
        assert_eq!(
            parse_response_target("method.response.header.X-Y").unwrap(),
            HeaderName::from_static("x-y")
        );
        assert!(parse_response_target("method.response.body").is_err());
    }

    #[test]
    fn evaluates_against_a_request() {
        let headers = HeaderMap::from_iter([(
            HeaderName::from_static("x-trace"),
            HeaderValue::from_static("t1"),
        )]);
        let path = "pets/a%20b/rest/of/it";
        let captures = [Capture::new(5, 10), Capture::new(11, path.len())];
        let view = RequestView {
            method: &Method::GET,
            path,
            captures: &captures,
            query: Some("q=hello%20there&x&q=second"),
            headers: &headers,
            request_id: "req-1",
            id_bytes: &[7; 16],
            client_cert: None,
            source_ip: "10.0.0.1".parse().unwrap(),
            authorizer: None,
        };
        assert_eq!(ValueSource::PathParam(0).text(&view).unwrap(), "a b");
        // A repeated key maps its last value, as API Gateway does.
        assert_eq!(
            ValueSource::QueryString("q".into()).text(&view).unwrap(),
            "second"
        );
        assert_eq!(
            ValueSource::QueryString("x".into()).text(&view).unwrap(),
            ""
        );
        assert_eq!(ValueSource::QueryString("zz".into()).text(&view), None);
        let multi = ValueSource::MultiQueryString("q".into());
        let mut all = Vec::new();
        multi.for_each_query_value(&view, |v| all.push(v));
        assert_eq!(all, ["hello there", "second"]);
        assert_eq!(
            ValueSource::MultiQueryString("q".into())
                .text(&view)
                .unwrap(),
            "second"
        );
        assert_eq!(
            ValueSource::Header(HeaderName::from_static("x-trace"))
                .text(&view)
                .unwrap(),
            "t1"
        );
        assert_eq!(
            ValueSource::Context(ContextVar::SourceIp)
                .text(&view)
                .unwrap(),
            "10.0.0.1"
        );
        let mut out = String::new();
        ValueSource::PathParam(1).append_path(&view, &mut out);
        assert_eq!(out, "rest/of/it");
        out.clear();
        ValueSource::Constant("a/b c".into()).append_path(&view, &mut out);
        assert_eq!(out, "a%2Fb%20c");
    }

    #[test]
    fn parses_response_sources() {
        let vars = BTreeMap::new();
        let s = scope(&[], &vars);
        assert_eq!(
            ResponseSource::parse("'*'", &s).unwrap(),
            ResponseSource::Constant(HeaderValue::from_static("*"))
        );
        assert_eq!(
            ResponseSource::parse("integration.response.header.ETag", &s).unwrap(),
            ResponseSource::BackendHeader(HeaderName::from_static("etag"))
        );
        let path = ResponseSource::parse("integration.response.body.a", &s).unwrap();
        assert!(matches!(path, ResponseSource::BodyPath(_)) && path.reads_body());
        let id = crate::context::RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        assert_eq!(
            path.value(None, Some(r#"{"a":"v"}"#), &id),
            Some(HeaderValue::from_static("v"))
        );
        assert_eq!(path.value(None, None, &id), None);
        let whole = ResponseSource::parse("integration.response.body", &s).unwrap();
        assert_eq!(
            whole.value(None, Some("{}"), &id),
            Some(HeaderValue::from_static("{}"))
        );
        assert!(ResponseSource::parse("method.request.header.x", &s).is_err());
        assert!(ResponseSource::parse("'bad\nvalue'", &s).is_err());
    }
}
