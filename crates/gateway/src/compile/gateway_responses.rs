//! Compiles an API's customised gateway responses (SPEC 5.8): status, headers from static
//! values / `method.request.*` / `stageVariables.*` / `context.*`, body templates per
//! content type, parsed once per stage. [`crate::gateway_response`] renders them.

use std::sync::Arc;

use apigw_proto::config as pb;
use http::header::{HeaderName, HeaderValue};
use http::StatusCode;

use crate::error::ResponseType;

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
pub(crate) enum HeaderSource {
    Static(HeaderValue),
    RequestHeader(HeaderName),
    RequestQuery(Box<str>),
    RequestPath(Box<str>),
    StageVariable(Box<str>),
    Context(Box<str>),
}

/// One customised type, compiled.
#[derive(Debug)]
pub(crate) struct Custom {
    pub(crate) status: Option<StatusCode>,
    pub(crate) headers: Vec<(HeaderName, HeaderSource)>,
    /// Content type → template, in content-type order.
    pub(crate) templates: Vec<(Box<str>, vtl::Template)>,
}

/// The customised gateway responses of one deployment.
#[derive(Debug, Default)]
pub struct GatewayResponses {
    pub(crate) custom: Vec<(ResponseType, Arc<Custom>)>,
    /// Request headers, query parameters and path parameters some customisation reads:
    /// only these are copied from each request, in case it fails.
    pub(crate) read_headers: Vec<HeaderName>,
    pub(crate) read_query: Vec<Box<str>>,
    pub(crate) read_path: Vec<Box<str>>,
    /// Whether some customisation has templates (which see `$context.path` etc.).
    pub(crate) has_templates: bool,
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

    pub(crate) fn get(&self, t: ResponseType) -> Option<&Arc<Custom>> {
        self.custom.iter().find(|(c, _)| *c == t).map(|(_, c)| c)
    }

    /// Whether any customisation reads the request (so the pipeline keeps a copy of it
    /// for error responses).
    pub fn needs_request(&self) -> bool {
        !(self.read_headers.is_empty() && self.read_query.is_empty() && self.read_path.is_empty())
    }
}

pub(crate) fn parse_source(value: &str) -> Option<HeaderSource> {
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
