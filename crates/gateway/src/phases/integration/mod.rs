//! Step 3, integration request: dispatch by integration type, plus what the HTTP types
//! share — building the backend URI and mapped headers from pre-compiled mappings, and
//! calling the backend with the integration's timeout.

pub mod aws;
pub mod aws_proxy;
pub mod aws_proxy_v2;
pub mod content_handling;
pub mod http;
pub mod http_api;
pub mod http_proxy;
pub mod invoke_api;
pub mod mock;

use std::error::Error as StdError;
use std::time::Duration;

use ::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use ::http::request::Parts;
use ::http::{Request, Response, Uri};

use bytes::Bytes;
use http_body_util::BodyExt;

use crate::backend_client::{BackendBody, BackendClient, ClientError};
use crate::body::{Body, BodyError};
use crate::compile::mapping::RequestView;
use crate::compile::uri_template::encode_query_component;
use crate::compile::{HttpIntegration, Integration};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::route::Routed;
use crate::trace;

/// Runs the method's integration and returns the method response. `functions` is the
/// Invoke API that function (`AWS`, `AWS_PROXY`) integrations call, if configured.
pub async fn invoke(
    client: &BackendClient,
    functions: Option<&invoke_api::FunctionsEndpoint>,
    ctx: &RequestContext,
    routed: &Routed,
    parts: Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    match &routed.method.integration {
        Integration::Mock(mock) => mock::invoke(mock, ctx, routed, &parts, body).await,
        Integration::Http(http) => http::invoke(client, http, ctx, routed, parts, body).await,
        Integration::HttpProxy(http) => {
            http_proxy::invoke(client, http, ctx, routed, parts, body).await
        }
        Integration::Function(function) => {
            aws::invoke(client, functions, function, ctx, routed, parts, body).await
        }
        Integration::FunctionProxy(function) => {
            aws_proxy::invoke(client, functions, function, ctx, routed, parts, body).await
        }
        Integration::HttpApiProxy(proxy) => {
            http_api::invoke(client, proxy, ctx, routed, parts, body).await
        }
        Integration::HttpApiFunction(function) => {
            http_api::invoke_function(client, functions, function, ctx, routed, parts, body).await
        }
        Integration::Unsupported(_) => Err(GatewayError::Configuration(
            "integration type not supported by this node",
        )),
        Integration::Missing => Err(GatewayError::Configuration(
            "no integration defined for method",
        )),
        Integration::Misconfigured(reason) => {
            tracing::warn!(%reason, "execution failed due to configuration error");
            Err(GatewayError::Configuration(
                "invalid integration endpoint for this stage",
            ))
        }
    }
}

/// The mapping evaluator's view of the request.
pub(crate) fn request_view<'a>(
    ctx: &'a RequestContext,
    routed: &'a Routed,
    parts: &'a Parts,
) -> RequestView<'a> {
    RequestView {
        method: &parts.method,
        path: routed.stage_path(parts.uri.path()),
        captures: &routed.captures,
        query: parts.uri.query(),
        headers: &parts.headers,
        request_id: ctx.request_id_str(),
        id_bytes: ctx.id_bytes(),
        client_cert: ctx.client_cert.as_deref(),
        source_ip: ctx.source_ip,
        authorizer: ctx.authorizer.get().map(|a| &**a),
    }
}

/// The request's media type (`Content-Type` without parameters), if any.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or(value).trim())
}

/// Builds the backend URI: slots from their sources, then the template's query, the
/// incoming query (HTTP_PROXY only) and the mapped query parameters.
pub(crate) fn backend_uri(
    integration: &HttpIntegration,
    view: &RequestView<'_>,
    incoming_query: Option<&str>,
) -> Result<Uri, GatewayError> {
    let mut mapped = String::new();
    for (key, source) in &integration.query_mappings {
        source.for_each_query_value(view, |value| {
            if !mapped.is_empty() {
                mapped.push('&');
            }
            mapped.push_str(key);
            mapped.push('=');
            mapped.extend(encode_query_component(&value));
        });
    }
    integration
        .uri
        .render(
            |slot, out| integration.slot_sources[slot].append_path(view, out),
            incoming_query,
            &mapped,
        )
        .map_err(|_| {
            GatewayError::BadRequest("request cannot be mapped to a valid integration URI")
        })
}

/// Evaluates the `integration.request.header.*` mappings (values that are not valid
/// header values are skipped).
pub(crate) fn mapped_headers(
    integration: &HttpIntegration,
    view: &RequestView<'_>,
) -> Vec<(HeaderName, HeaderValue)> {
    integration
        .header_mappings
        .iter()
        .filter_map(|(name, source)| {
            let value = HeaderValue::from_str(&source.text(view)?).ok()?;
            Some((name.clone(), value))
        })
        .collect()
}

/// Calls the backend, waiting at most `timeout` for its response head. A traced request
/// logs what is sent (its streamed body buffered to be shown) and the response status.
pub(crate) async fn send(
    client: &BackendClient,
    ctx: &RequestContext,
    mut request: Request<Body>,
    timeout: Duration,
    insecure_tls: bool,
) -> Result<Response<BackendBody>, GatewayError> {
    if ctx.traced() {
        trace_request(ctx, &mut request).await?;
    } else if ctx.logging() {
        log_endpoint_request(ctx, &request.uri().to_string(), request.headers(), &[]);
    }
    let started = std::time::Instant::now();
    // The integration timeout bounds the whole exchange: the head here, the body in
    // `read_backend_body` when the gateway buffers it.
    let deadline = tokio::time::Instant::now() + timeout;
    let trace_head = ctx.trace_head();
    let outcome = match tokio::time::timeout_at(
        deadline,
        client.request_as(
            request,
            ctx.backend_identity.get().map(|i| &**i),
            insecure_tls,
            trace_head.as_ref().map_or(&[][..], |head| &head[..]),
        ),
    )
    .await
    {
        Err(_) => Err(GatewayError::IntegrationTimeout),
        Ok(Ok(mut response)) => {
            response.body_mut().set_deadline(deadline);
            let _ = ctx.integration_status.set(response.status().as_u16());
            // Broken chunked framing at the body's start is a 502, not an empty reply;
            // a first chunk later than the deadline is left to the streamed body.
            match tokio::time::timeout_at(deadline, response.body_mut().check_start()).await {
                Ok(Err(error)) => Err(classify_client_error(&error)),
                Ok(Ok(())) | Err(_) => Ok(response),
            }
        }
        Ok(Err(error)) => Err(classify_client_error(&error)),
    };
    ctx.log(|| match &outcome {
        Ok(response) => format!(
            "Received response. Status: {}, Integration latency: {} ms",
            response.status().as_u16(),
            started.elapsed().as_millis()
        ),
        Err(error) => format!("Execution failed due to an integration error: {error}"),
    });
    outcome
}

/// The "Endpoint request …" lines of a traced request.
async fn trace_request(
    ctx: &RequestContext,
    request: &mut Request<Body>,
) -> Result<(), GatewayError> {
    let body = std::mem::replace(request.body_mut(), Body::Empty);
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Full(bytes) => bytes.unwrap_or_default(),
        streamed => crate::phases::read_body(streamed).await?,
    };
    log_endpoint_request(ctx, &request.uri().to_string(), request.headers(), &bytes);
    *request.body_mut() = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::full(bytes)
    };
    Ok(())
}

/// The "Endpoint request …" lines of API Gateway's execution log.
pub(crate) fn log_endpoint_request(
    ctx: &RequestContext,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
) {
    ctx.log(|| format!("Endpoint request URI: {uri}"));
    ctx.log_data(|| format!("Endpoint request headers: {}", trace::header_map(headers)));
    ctx.log_data(|| {
        format!(
            "Endpoint request body after transformations: {}",
            trace::body_text(body)
        )
    });
    ctx.log(|| format!("Sending request to {uri}"));
}

/// The "Endpoint response …" lines (body first, as API Gateway writes them).
pub(crate) fn log_endpoint_response(ctx: &RequestContext, headers: &HeaderMap, body: &[u8]) {
    ctx.log_data(|| {
        format!(
            "Endpoint response body before transformations: {}",
            trace::body_text(body)
        )
    });
    ctx.log_data(|| format!("Endpoint response headers: {}", trace::header_map(headers)));
}

/// Reads a backend's whole response body (within the payload limit) by the exchange's
/// deadline: past it (or past the node's idle limit), 504 as for a late head; a broken
/// body is 502.
pub(crate) async fn read_backend_body(body: BackendBody) -> Result<Bytes, GatewayError> {
    let deadline = body.deadline();
    let read = Body::backend_limited(body).collect();
    let collected = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, read)
            .await
            .map_err(|_| GatewayError::IntegrationTimeout)?,
        None => read.await,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        // The node's idle limit came before the deadline: the backend timed out all the same.
        Err(BodyError::Backend(ClientError::IdleTimeout(_))) => {
            Err(GatewayError::IntegrationTimeout)
        }
        Err(e) => Err(GatewayError::IntegrationFailure(e.to_string())),
    }
}

/// A backend's response body for a traced request: buffered, logged ("Endpoint response
/// body before transformations", then the headers), and handed back in memory.
pub(crate) async fn trace_response(
    ctx: &RequestContext,
    headers: &HeaderMap,
    body: BackendBody,
) -> Result<Bytes, GatewayError> {
    let bytes = read_backend_body(body).await?;
    log_endpoint_response(ctx, headers, &bytes);
    Ok(bytes)
}

/// A request body over the limit surfaces as a client error inside the client's error
/// chain: report it as 413; a client body that could not be read (malformed chunking, such
/// as a chunk size that overflows, or a connection cut mid-body) is the client's fault:
/// 400; anything else is an integration failure (502).
fn classify_client_error(error: &(dyn StdError + 'static)) -> GatewayError {
    let mut cause = Some(error);
    let mut message = String::new();
    while let Some(err) = cause {
        let body_error =
            err.downcast_ref::<BodyError>()
                .or_else(|| match err.downcast_ref::<ClientError>() {
                    Some(ClientError::RequestBody(body)) => Some(&**body),
                    _ => None,
                });
        match body_error {
            Some(BodyError::TooLarge) => return GatewayError::RequestTooLarge,
            Some(BodyError::Transport(_)) => {
                return GatewayError::BadRequest("the request body could not be read")
            }
            _ => {}
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&err.to_string());
        cause = err.source();
    }
    GatewayError::IntegrationFailure(message)
}
