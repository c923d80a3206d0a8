//! HTTP (non-proxy) integration: only what the mappings say goes to the backend (mapped
//! headers and query parameters, the body passed through or the rendered request
//! template, then the template's `$context.requestOverride.*`), and the backend status
//! selects the integration response that shapes the method response. `contentHandling`
//! converts the request body (integration) and the backend's body (integration response)
//! between binary and base64 text.

use std::collections::BTreeMap;

use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use http::request::Parts;
use http::{HeaderMap, Request, Response, Uri, Version};

use super::content_handling::{convert_request, convert_response};
use super::{mapped_headers, media_type, request_view, send, trace_response};
use crate::backend_client::BackendClient;
use crate::body::Body;
use crate::compile::function::ContentHandling;
use crate::compile::mapping::RequestView;
use crate::compile::uri_template::{encode_path_value, encode_query_component};
use crate::compile::{HttpIntegration, TemplateChoice, DEFAULT_CONTENT_TYPE};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::integration_response::{self, IntegrationOutput, OutputBody};
use crate::phases::read_body;
use crate::phases::route::Routed;
use crate::template::{text_of, TemplateEnv};

/// What a request template wrote into `$context.requestOverride`.
#[derive(Debug, Default)]
struct RequestOverrides {
    header: BTreeMap<String, String>,
    querystring: BTreeMap<String, String>,
    path: BTreeMap<String, String>,
}

/// Calls an HTTP integration and maps its response.
pub async fn invoke(
    client: &BackendClient,
    integration: &HttpIntegration,
    ctx: &RequestContext,
    routed: &Routed,
    parts: Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    let mut env = TemplateEnv::new(ctx, routed, &parts);
    let view = request_view(ctx, routed, &parts);
    let mut headers = HeaderMap::with_capacity(integration.header_mappings.len() + 2);
    headers.insert(HOST, integration.uri.host().clone());
    if let Some(spans) = ctx.spans.get() {
        spans.prepare(&mut headers, ctx.logging());
    }
    let content_type = parts.headers.get(CONTENT_TYPE).cloned();
    let mut overrides = RequestOverrides::default();
    let binary = integration
        .binary_media_types
        .matches(media_type(&parts.headers));
    let handling = integration.content_handling;
    let converts = match handling {
        ContentHandling::Passthrough => false,
        ContentHandling::ConvertToText => binary,
        ContentHandling::ConvertToBinary => !binary,
    };
    let body = match integration.templates.choose(media_type(&parts.headers)) {
        TemplateChoice::Template(Some(template)) => {
            let raw = convert_request(read_body(body).await?, binary, handling)?;
            let out = env.render(template, text_of(&raw))?;
            overrides = RequestOverrides {
                header: out.request_override_headers,
                querystring: out.request_override_querystring,
                path: out.request_override_path,
            };
            headers.insert(
                CONTENT_TYPE,
                content_type.unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE)),
            );
            Body::full(out.body)
        }
        TemplateChoice::Template(None) | TemplateChoice::Passthrough => {
            if let Some(content_type) = content_type {
                headers.insert(CONTENT_TYPE, content_type);
            }
            if converts {
                Body::full(convert_request(read_body(body).await?, binary, handling)?)
            } else {
                body
            }
        }
        TemplateChoice::Unsupported => return Err(GatewayError::UnsupportedMediaType),
    };
    let uri = backend_uri(integration, &view, &overrides)?;
    for (name, value) in mapped_headers(integration, &view) {
        headers.insert(name, value);
    }
    for (name, value) in &overrides.header {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => tracing::debug!(%name, "requestOverride header is not a valid header"),
        }
    }
    let mut request = Request::new(body);
    *request.method_mut() = integration
        .method
        .clone()
        .unwrap_or_else(|| parts.method.clone());
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;

    let response = send(
        client,
        ctx,
        request,
        integration.timeout,
        integration.insecure_tls,
    )
    .await?;
    let (backend, backend_body) = response.into_parts();
    let selected = integration_response::select(&integration.responses, backend.status.as_str())?;
    let body = match selected.content_handling {
        ContentHandling::Passthrough if !ctx.traced() => OutputBody::Stream(backend_body),
        ContentHandling::Passthrough => {
            OutputBody::Buffered(trace_response(ctx, &backend.headers, backend_body).await?)
        }
        handling => {
            let bytes = if ctx.traced() {
                trace_response(ctx, &backend.headers, backend_body).await?
            } else {
                super::read_backend_body(backend_body).await?
            };
            OutputBody::Buffered(convert_response(bytes, handling, false)?)
        }
    };
    let output = IntegrationOutput {
        headers: Some(&backend.headers),
        body,
    };
    integration_response::respond(selected, output, &mut env).await
}

/// The backend URI: slots from their sources unless a `requestOverride.path` names them,
/// then the mapped query parameters with `requestOverride.querystring` replacing or
/// adding keys.
fn backend_uri(
    integration: &HttpIntegration,
    view: &RequestView<'_>,
    overrides: &RequestOverrides,
) -> Result<Uri, GatewayError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, source) in &integration.query_mappings {
        source.for_each_query_value(view, |value| {
            pairs.push((key.to_string(), encode_query_component(&value).collect()));
        });
    }
    for (key, value) in &overrides.querystring {
        let key: String = encode_query_component(key).collect();
        pairs.retain(|(k, _)| *k != key);
        pairs.push((key, encode_query_component(value).collect()));
    }
    let mapped = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let slot_names = integration.uri.slot_names();
    integration
        .uri
        .render(
            |slot, out| match slot_names
                .get(slot)
                .and_then(|name| overrides.path.get(&**name))
            {
                Some(value) => out.extend(encode_path_value(value)),
                None => {
                    if let Some(source) = integration.slot_sources.get(slot) {
                        source.append_path(view, out);
                    }
                }
            },
            None,
            &mapped,
        )
        .map_err(|_| {
            GatewayError::BadRequest("request cannot be mapped to a valid integration URI")
        })
}
