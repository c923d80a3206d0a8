//! HTTP (non-proxy) integration: only what the mappings say goes to the backend (mapped
//! headers and query parameters, the body passed through or the request template), and
//! the backend status selects the integration response that shapes the method response.

use http::header::{HeaderValue, CONTENT_TYPE, HOST};
use http::request::Parts;
use http::{HeaderMap, Request, Response, Version};
use hyper::body::Incoming;

use super::{backend_uri, mapped_headers, media_type, request_view, send};
use crate::backend_client::BackendClient;
use crate::body::Body;
use crate::compile::{HttpIntegration, TemplateChoice, DEFAULT_CONTENT_TYPE};
use crate::pipeline::context::RequestContext;
use crate::pipeline::gateway_response::GatewayError;
use crate::pipeline::integration_response;
use crate::pipeline::route::Routed;

/// Calls an HTTP integration and maps its response.
pub async fn invoke(
    client: &BackendClient,
    integration: &HttpIntegration,
    ctx: &RequestContext,
    routed: &Routed,
    parts: Parts,
    body: Incoming,
) -> Result<Response<Body>, GatewayError> {
    let view = request_view(ctx, routed, &parts);
    let uri = backend_uri(integration, &view, None)?;
    let mut headers = HeaderMap::with_capacity(integration.header_mappings.len() + 2);
    headers.insert(HOST, integration.uri.host().clone());
    let body = match integration.templates.choose(media_type(&parts.headers)) {
        TemplateChoice::Template(text) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
            Body::full(text.clone())
        }
        TemplateChoice::Passthrough => {
            if let Some(content_type) = parts.headers.get(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, content_type.clone());
            }
            Body::limited(body)
        }
        TemplateChoice::Unsupported => return Err(GatewayError::UnsupportedMediaType),
    };
    for (name, value) in mapped_headers(integration, &view) {
        headers.insert(name, value);
    }
    let mut request = Request::new(body);
    *request.method_mut() = integration
        .method
        .clone()
        .unwrap_or_else(|| parts.method.clone());
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;

    let response = send(client, request, integration.timeout).await?;
    let (backend, backend_body) = response.into_parts();
    let selected = integration_response::select(&integration.responses, backend.status.as_str())?;
    Ok(integration_response::respond(
        selected,
        Some((&backend.headers, Body::stream(backend_body))),
        ctx,
    ))
}
