//! Step 4, integration response: choose the integration response by selection pattern
//! (default otherwise), then build the method response: its status, its
//! `method.response.header.*` mappings, and its body (the response template as written,
//! else the backend body streamed through).

use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::Response;

use super::context::RequestContext;
use super::gateway_response::GatewayError;
use crate::body::Body;
use crate::compile::{IntegrationResponse, IntegrationResponses};

/// Selects by the selection key (status code string). No match and no default is an API
/// configuration error (500), as API Gateway reports it.
pub fn select<'a>(
    responses: &'a IntegrationResponses,
    key: &str,
) -> Result<&'a IntegrationResponse, GatewayError> {
    responses.select(key).ok_or(GatewayError::Configuration(
        "no match for output mapping and no default output mapping configured",
    ))
}

/// Builds the method response from the selected integration response. `backend` is the
/// backend's headers and body (absent for MOCK).
pub fn respond(
    selected: &IntegrationResponse,
    backend: Option<(&HeaderMap, Body)>,
    ctx: &RequestContext,
) -> Response<Body> {
    let json = || HeaderValue::from_static("application/json");
    let backend_headers = backend.as_ref().map(|(headers, _)| *headers);
    let (body, content_type) = match (&selected.body, backend) {
        (Some((content_type, text)), _) => (Body::full(text.clone()), content_type.clone()),
        (None, Some((headers, body))) => (
            body,
            headers.get(CONTENT_TYPE).cloned().unwrap_or_else(json),
        ),
        (None, None) => (Body::Empty, json()),
    };
    let mut response = Response::new(body);
    *response.status_mut() = selected.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, content_type);
    for (name, source) in &selected.headers {
        if let Some(value) = source.value(backend_headers, &ctx.request_id) {
            headers.insert(name.clone(), value);
        }
    }
    response
}
