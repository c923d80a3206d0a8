//! What the pipeline learnt about a request before it failed: enough to render a
//! customised gateway response, since the request itself may have been consumed by then.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::header::ACCEPT;
use http::request::Parts;

use crate::compile::{CompiledMethod, CompiledStage};
use crate::phases::route::Routed;

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
    pub(crate) request: Option<RequestCopy>,
    /// The request is for an HTTP API: errors get HTTP API bodies (no gateway responses).
    pub http_api: bool,
    /// An HTTP API with CORS and an allowed `Origin`: the `Access-Control-Allow-Origin`
    /// value every response gets.
    pub cors_origin: Option<http::HeaderValue>,
    /// The gateway answered a CORS preflight itself: its headers are final.
    pub cors_preflight: bool,
}

#[derive(Debug, Default)]
pub(crate) struct RequestCopy {
    pub(crate) path: String,
    pub(crate) http_method: String,
    pub(crate) headers: http::HeaderMap,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) path_params: BTreeMap<String, String>,
    pub(crate) accept: Option<String>,
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
            for (k, v) in crate::query::pairs(parts.uri.query().unwrap_or("")) {
                if reads.read_query.iter().any(|q| **q == *k) {
                    copy.query.insert(k.into_owned(), v.into_owned());
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
