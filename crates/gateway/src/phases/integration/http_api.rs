//! HTTP API integrations: `HTTP_PROXY` with the v2 parameter mapping (headers and query
//! strings overwritten, appended or removed, the path overwritten, values mixing fixed
//! text and request values) and `AWS_PROXY` (payload format 1.0 / 2.0); both with
//! `responseParameters` applied by the integration's status code.

use std::borrow::Cow;
use std::mem;

use bytes::Bytes;
use http::header::{HeaderValue, HOST};
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{HeaderMap, Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;

use super::aws_proxy_v2::{self, EventAuthorizer, HttpEventInput};
use super::http_proxy::{append_forwarded_for, strip_hop_by_hop};
use super::invoke_api::FunctionsEndpoint;
use super::{request_view, send};
use crate::backend_client::BackendClient;
use crate::body::Body;
use crate::compile::http_api::{
    HttpApiFunction, HttpApiProxy, MapMode, Piece, ResponseOp, ResponseParameters, ValueTemplate,
};
use crate::compile::mapping::{decode, ContextVar, RequestView, ValueSource};
use crate::compile::uri_template::{encode_path_value, encode_query_component};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::route::Routed;

/// How much of a body a JSONPath mapping (`$request.body.x`, `$response.body.x`) reads:
/// AWS "truncates the request body at 100 KB and then applies the selection expression"
/// (and the response body alike); the whole body (`$request.body`) is not truncated.
pub const JSON_PATH_BODY_LIMIT: usize = 100 * 1024;

/// The part of `body` a JSONPath is applied to: its first 100 KB (at a character
/// boundary), so a larger JSON document is cut and its selections find nothing.
pub fn json_path_window(body: &str) -> &str {
    if body.len() <= JSON_PATH_BODY_LIMIT {
        return body;
    }
    let mut end = JSON_PATH_BODY_LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    &body[..end]
}

/// Renders a request-side value into `out`. `for_path`: the value goes into a URI path
/// (captures and the request path stay as sent, other request values are encoded).
pub fn render_request(
    template: &ValueTemplate,
    view: &RequestView<'_>,
    body: Option<&str>,
    for_path: bool,
    out: &mut String,
) {
    let push = |out: &mut String, value: &str| {
        if for_path {
            out.extend(encode_path_value(value));
        } else {
            out.push_str(value);
        }
    };
    for piece in &template.pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Header(name) => {
                let mut joined = String::new();
                for value in view.headers.get_all(name) {
                    if !joined.is_empty() {
                        joined.push(',');
                    }
                    joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
                }
                push(out, &joined);
            }
            Piece::Query(name) => {
                if let Some(query) = view.query {
                    let values: Vec<Cow<'_, str>> = crate::query::all(query, name).collect();
                    push(out, &values.join(","));
                }
            }
            Piece::Path => {
                if for_path {
                    out.push_str(view.path);
                } else {
                    out.push_str(&decode(view.path));
                }
            }
            Piece::PathParam(index) => {
                if let Some(capture) = index.and_then(|i| view.captures.get(i)) {
                    let raw = capture.of(view.path);
                    if for_path {
                        out.push_str(raw);
                    } else {
                        out.push_str(&decode(raw));
                    }
                }
            }
            Piece::Body(path) => {
                if let Some(body) = body {
                    match path {
                        None => push(out, body),
                        Some(path) => {
                            if let Some(value) = path.evaluate(json_path_window(body)) {
                                push(out, &value);
                            }
                        }
                    }
                }
            }
            Piece::Context(source) => {
                if let Some(value) = source.text(view) {
                    push(out, &value);
                }
            }
        }
    }
}

/// The backend URI: the URL's `{name}` slots filled with the route's path parameters,
/// the path overwritten (`overwrite:path`), the query string passed through and mapped.
fn backend_uri(
    proxy: &HttpApiProxy,
    view: &RequestView<'_>,
    body: Option<&str>,
) -> Result<Uri, GatewayError> {
    let unusable = || GatewayError::Configuration("the request cannot be mapped to a valid URI");
    let fill = |slot: usize, out: &mut String| {
        if let Some(capture) = proxy
            .slots
            .get(slot)
            .copied()
            .flatten()
            .and_then(|i| view.captures.get(i))
        {
            out.push_str(capture.of(view.path));
        }
    };
    if proxy.query_ops.is_empty() && proxy.path.is_none() && !proxy.append_path {
        return proxy
            .uri
            .render(fill, view.query, "")
            .map_err(|_| unusable());
    }
    let base = proxy.uri.render(fill, None, "").map_err(|_| unusable())?;
    let mut pq = String::with_capacity(64);
    match &proxy.path {
        Some(template) => {
            render_request(template, view, body, true, &mut pq);
            if !pq.starts_with('/') {
                pq.insert(0, '/');
            }
        }
        // AWS's documented case: a URL without a path of its own gets the request's.
        None if proxy.append_path && matches!(base.path(), "" | "/") => {
            if !view.path.starts_with('/') {
                pq.push('/');
            }
            pq.push_str(view.path);
        }
        None => pq.push_str(base.path()),
    }
    // Raw `k=v` pairs: the URL's own, then the request's; mappings work on decoded names.
    let mut pairs: Vec<Cow<'_, str>> = base
        .query()
        .into_iter()
        .chain(view.query)
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
        .map(|p| Cow::Owned(p.to_owned()))
        .collect();
    let named = |pair: &str, name: &str| {
        crate::query::decode(pair.split_once('=').map_or(pair, |(k, _)| k)) == name
    };
    for (mode, name, template) in &proxy.query_ops {
        if matches!(mode, MapMode::Remove | MapMode::Overwrite) {
            pairs.retain(|p| !named(p, name));
        }
        if *mode == MapMode::Remove {
            continue;
        }
        let mut value = String::new();
        render_request(template, view, body, false, &mut value);
        let mut pair: String = encode_query_component(name).collect();
        pair.push('=');
        pair.extend(encode_query_component(&value));
        pairs.push(Cow::Owned(pair));
    }
    for (i, pair) in pairs.iter().enumerate() {
        pq.push(if i == 0 { '?' } else { '&' });
        pq.push_str(pair);
    }
    let path_and_query = PathAndQuery::try_from(pq).map_err(|_| unusable())?;
    let mut parts = base.into_parts();
    parts.path_and_query = Some(path_and_query);
    Uri::from_parts(parts).map_err(|_| unusable())
}

/// Proxies the request to an HTTP API's `HTTP_PROXY` backend.
pub async fn invoke(
    client: &BackendClient,
    proxy: &HttpApiProxy,
    ctx: &RequestContext,
    routed: &Routed,
    mut parts: Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    // A mapping reading the body needs it whole (JSONPaths read its first 100 KB:
    // `json_path_window`).
    let (body, bytes) = if proxy.reads_body {
        let bytes = crate::phases::read_body(body).await?;
        (Body::full(bytes.clone()), Some(bytes))
    } else {
        (body, None)
    };
    let text = bytes.as_deref().map(String::from_utf8_lossy);
    let (uri, values) = {
        let view = request_view(ctx, routed, &parts);
        let uri = backend_uri(proxy, &view, text.as_deref())?;
        let values: Vec<Option<HeaderValue>> = proxy
            .header_ops
            .iter()
            .map(|(mode, _, template)| {
                if *mode == MapMode::Remove {
                    return None;
                }
                let mut value = String::new();
                render_request(template, &view, text.as_deref(), false, &mut value);
                HeaderValue::from_str(&value).ok()
            })
            .collect();
        (uri, values)
    };
    let mut headers = mem::take(&mut parts.headers);
    strip_hop_by_hop(&mut headers);
    headers.insert(HOST, proxy.uri.host().clone());
    append_forwarded_for(&mut headers, ctx);
    for ((mode, name, _), value) in proxy.header_ops.iter().zip(values) {
        match (mode, value) {
            (MapMode::Remove, _) => {
                headers.remove(name);
            }
            (MapMode::Overwrite, Some(value)) => {
                headers.insert(name.clone(), value);
            }
            (MapMode::Append, Some(value)) => {
                headers.append(name.clone(), value);
            }
            (_, None) => {}
        }
    }
    let mut request = Request::new(body);
    *request.method_mut() = proxy.method.clone().unwrap_or(parts.method);
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    let response = send(client, ctx, request, proxy.timeout, false).await?;
    let (mut head, backend_body) = response.into_parts();
    strip_hop_by_hop(&mut head.headers);
    head.version = Version::HTTP_11;
    let response = Response::from_parts(head, Body::backend(backend_body));
    apply_response_parameters(&proxy.responses, response, ctx).await
}

/// What an HTTP API's proxy and authorizer events are made of, owned for the request.
pub(crate) struct EventParts {
    path_parameters: Vec<(String, String)>,
    authorizer: Option<EventAuthorizer>,
}

impl EventParts {
    /// Collects the path parameters, stage variables and the authorizer's findings.
    pub(crate) fn of(ctx: &RequestContext, routed: &Routed, parts: &Parts) -> EventParts {
        let stage_path = routed.stage_path(parts.uri.path());
        let scope = &routed.method.template_scope;
        let authorizer = match ctx.iam_caller.get() {
            Some(caller) => Some(EventAuthorizer::Iam {
                access_key: caller.access_key.to_string(),
                account_id: routed.stage.account_id.to_string(),
                caller_id: caller.access_key.to_string(),
                user_arn: caller.user_arn.to_string(),
            }),
            None => ctx
                .authorizer
                .get()
                .and_then(|a| EventAuthorizer::from_result(a)),
        };
        EventParts {
            path_parameters: scope
                .param_names
                .iter()
                .zip(&routed.captures)
                .map(|(name, capture)| {
                    (
                        name.to_string(),
                        decode(capture.of(stage_path)).into_owned(),
                    )
                })
                .collect(),
            authorizer,
        }
    }

    /// The event input for this request (`body`: the request's, empty for authorizers).
    pub(crate) fn input<'a>(
        &'a self,
        ctx: &'a RequestContext,
        routed: &'a Routed,
        parts: &'a Parts,
        body: &'a [u8],
        with_authorizer: bool,
    ) -> HttpEventInput<'a> {
        HttpEventInput {
            parts,
            raw_path: parts.uri.path(),
            body,
            route_key: routed.method.route_key.as_deref().unwrap_or("$default"),
            stage: &routed.stage.stage_name,
            api_id: &routed.stage.api_id,
            account_id: &routed.stage.account_id,
            request_id: ctx.request_id_str(),
            source_ip: ctx.source_ip,
            received_at: ctx.received_at,
            path_parameters: &self.path_parameters,
            stage_variables: &routed.method.template_scope.stage_variables,
            authorizer: if with_authorizer {
                self.authorizer.as_ref()
            } else {
                None
            },
            client_cert: ctx.client_cert.as_deref(),
        }
    }
}

/// Invokes an HTTP API's `AWS_PROXY` function: the proxy event in payload format 1.0 or
/// 2.0, its answer by that format's rules; a function error or a malformed answer is
/// 500 Internal Server Error.
pub async fn invoke_function(
    client: &BackendClient,
    functions: Option<&FunctionsEndpoint>,
    function: &HttpApiFunction,
    ctx: &RequestContext,
    routed: &Routed,
    parts: Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    let body = crate::phases::read_body(body).await?;
    let event = {
        let owned = EventParts::of(ctx, routed, &parts);
        let input = owned.input(ctx, routed, &parts, &body, true);
        let event = if function.v2 {
            aws_proxy_v2::event_v2(&input)
        } else {
            aws_proxy_v2::event_v1(&input)
        };
        Bytes::from(serde_json::to_vec(&event).unwrap_or_default())
    };
    let target = &function.function.target;
    let invocation = super::invoke_api::invoke(
        client,
        ctx,
        functions,
        target,
        event,
        function.function.timeout,
    )
    .await?;
    if let Some(kind) = &invocation.function_error {
        tracing::warn!(request_id = ctx.request_id_str(), function = %target.name, error = %kind, "function failed");
        return Err(GatewayError::IntegrationFailure(format!(
            "function error ({kind})"
        )));
    }
    let response = if function.v2 {
        aws_proxy_v2::response_v2(&invocation.payload)
    } else {
        aws_proxy_v2::response_v1(&invocation.payload)
    }
    .map_err(|reason| {
        tracing::warn!(request_id = ctx.request_id_str(), function = %target.name, %reason, "malformed Lambda proxy response");
        GatewayError::IntegrationFailure(format!("malformed Lambda proxy response: {reason}"))
    })?;
    apply_response_parameters(&function.responses, response, ctx).await
}

/// A response-side context value (`$context.requestId`, `$context.authorizer.x`, ...).
fn response_context(source: &ValueSource, ctx: &RequestContext) -> Option<String> {
    match source {
        ValueSource::Constant(value) => Some(value.to_string()),
        ValueSource::Context(var) => match var {
            ContextVar::RequestId => Some(ctx.request_id_str().to_owned()),
            ContextVar::ExtendedRequestId => Some(ctx.extended_request_id().as_str().to_owned()),
            ContextVar::SourceIp => Some(ctx.source_ip.to_string()),
            ContextVar::Authorizer(name) => ctx
                .authorizer
                .get()
                .and_then(|a| a.value(name).map(Cow::into_owned)),
            _ => None,
        },
        _ => None,
    }
}

fn render_response(
    template: &ValueTemplate,
    headers: &HeaderMap,
    body: Option<&str>,
    ctx: &RequestContext,
    out: &mut String,
) {
    for piece in &template.pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Header(name) => {
                for (i, value) in headers.get_all(name).iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&String::from_utf8_lossy(value.as_bytes()));
                }
            }
            Piece::Body(path) => {
                if let Some(body) = body {
                    match path {
                        None => out.push_str(body),
                        Some(path) => {
                            if let Some(value) = path.evaluate(json_path_window(body)) {
                                out.push_str(&value);
                            }
                        }
                    }
                }
            }
            Piece::Context(source) => {
                if let Some(value) = response_context(source, ctx) {
                    out.push_str(&value);
                }
            }
            Piece::Query(_) | Piece::Path | Piece::PathParam(_) => {}
        }
    }
}

/// Applies the `responseParameters` for the response's status, if any: every value is
/// read from the integration's response as it came, then headers are overwritten,
/// appended or removed and the status overwritten.
pub async fn apply_response_parameters(
    params: &ResponseParameters,
    response: Response<Body>,
    ctx: &RequestContext,
) -> Result<Response<Body>, GatewayError> {
    let Some(mapping) = params.get(response.status().as_u16()) else {
        return Ok(response);
    };
    let (mut head, body) = response.into_parts();
    let (body, bytes) = if mapping.reads_body {
        let bytes: Bytes = body
            .collect()
            .await
            .map_err(|e| GatewayError::IntegrationFailure(e.to_string()))?
            .to_bytes();
        (Body::full(bytes.clone()), Some(bytes))
    } else {
        (body, None)
    };
    let text = bytes.as_deref().map(String::from_utf8_lossy);
    let values: Vec<Option<String>> = mapping
        .ops
        .iter()
        .map(|op| match op {
            ResponseOp::Header(MapMode::Remove, _, _) => None,
            ResponseOp::Header(_, _, template) | ResponseOp::Status(template) => {
                let mut value = String::new();
                render_response(template, &head.headers, text.as_deref(), ctx, &mut value);
                Some(value)
            }
        })
        .collect();
    for (op, value) in mapping.ops.iter().zip(values) {
        match op {
            ResponseOp::Header(MapMode::Remove, name, _) => {
                head.headers.remove(name);
            }
            ResponseOp::Header(mode, name, _) => {
                let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) else {
                    continue;
                };
                if *mode == MapMode::Append {
                    head.headers.append(name.clone(), value);
                } else {
                    head.headers.insert(name.clone(), value);
                }
            }
            ResponseOp::Status(_) => {
                if let Some(status) = value
                    .and_then(|v| v.trim().parse::<u16>().ok())
                    .filter(|s| (100..=599).contains(s))
                    .and_then(|s| StatusCode::from_u16(s).ok())
                {
                    head.status = status;
                }
            }
        }
    }
    Ok(Response::from_parts(head, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_read_the_first_100_kb() {
        let small = r#"{"name":"small"}"#;
        assert_eq!(json_path_window(small), small);
        let head = r#"{"name":"x","pad":""#;
        let pad = "a".repeat(JSON_PATH_BODY_LIMIT - head.len() - 2);
        let exact = format!("{head}{pad}\"}}");
        assert_eq!(exact.len(), JSON_PATH_BODY_LIMIT);
        assert_eq!(json_path_window(&exact), exact);
        let big = format!(
            r#"{{"name":"x","pad":"{}"}}"#,
            "a".repeat(JSON_PATH_BODY_LIMIT)
        );
        assert_eq!(json_path_window(&big).len(), JSON_PATH_BODY_LIMIT);
        // A multi-byte character across the limit is left out whole.
        let wide = format!("{}é", "a".repeat(JSON_PATH_BODY_LIMIT - 1));
        assert_eq!(json_path_window(&wide).len(), JSON_PATH_BODY_LIMIT - 1);
    }
}
