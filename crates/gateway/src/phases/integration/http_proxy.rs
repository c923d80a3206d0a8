//! HTTP_PROXY integration: the request passes through to the backend (method, headers
//! minus hop-by-hop ones, query string, streamed body) with `{param}`s substituted in the
//! URI, and the backend response passes back whole, streamed.

use std::mem;

use http::header::{
    HeaderName, HeaderValue, CONNECTION, HOST, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE,
    TRAILER, TRANSFER_ENCODING, UPGRADE,
};
use http::request::Parts;
use http::{HeaderMap, Request, Response, Version};

use super::{backend_uri, mapped_headers, request_view, send, trace_response};
use crate::backend_client::BackendClient;
use crate::body::Body;
use crate::compile::HttpIntegration;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::route::Routed;

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Proxies the request to the integration's backend.
pub async fn invoke(
    client: &BackendClient,
    integration: &HttpIntegration,
    ctx: &RequestContext,
    routed: &Routed,
    mut parts: Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    let (uri, mapped) = {
        let view = request_view(ctx, routed, &parts);
        (
            backend_uri(integration, &view, parts.uri.query())?,
            mapped_headers(integration, &view),
        )
    };
    let mut headers = mem::take(&mut parts.headers);
    strip_hop_by_hop(&mut headers);
    headers.insert(HOST, integration.uri.host().clone());
    append_forwarded_for(&mut headers, ctx);
    for (name, value) in mapped {
        headers.insert(name, value);
    }
    let mut request = Request::new(body);
    *request.method_mut() = integration.method.clone().unwrap_or(parts.method);
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
    let (mut head, backend_body) = response.into_parts();
    let body = if ctx.traced() {
        Body::full(trace_response(ctx, &head.headers, backend_body).await?)
    } else {
        Body::backend(backend_body)
    };
    strip_hop_by_hop(&mut head.headers);
    head.version = Version::HTTP_11;
    Ok(Response::from_parts(head, body))
}

pub(crate) fn append_forwarded_for(headers: &mut HeaderMap, ctx: &RequestContext) {
    let value = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(existing) if !existing.trim().is_empty() => {
            match HeaderValue::from_str(&format!("{existing}, {}", ctx.source_ip)) {
                Ok(value) => value,
                Err(_) => return,
            }
        }
        _ => ctx.source_ip_header.clone(),
    };
    headers.insert(X_FORWARDED_FOR.clone(), value);
}

/// The fixed hop-by-hop set (RFC 9110 §7.6.1, plus the legacy `Keep-Alive` and
/// `Proxy-Connection`).
static HOP_BY_HOP: [&HeaderName; 9] = [
    &CONNECTION,
    &KEEP_ALIVE,
    &PROXY_AUTHENTICATE,
    &PROXY_AUTHORIZATION,
    &PROXY_CONNECTION,
    &TE,
    &TRAILER,
    &TRANSFER_ENCODING,
    &UPGRADE,
];

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name) || name.as_str().starts_with("proxy-")
}

/// Removes hop-by-hop headers (RFC 9110 §7.6.1): the fixed set, `Proxy-*`, and any header
/// listed in `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none, or only `Connection`: one pass over the names decides.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    // Headers `Connection` names besides its options: rare, so only then a list (a
    // backend's `Connection: keep-alive` costs no allocation).
    if headers.get_all(CONNECTION).iter().any(names_headers) {
        let named: Vec<HeaderName> = headers
            .get_all(CONNECTION)
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .map(<[u8]>::trim_ascii)
            .filter(|t| !is_option(t))
            .filter_map(|name| HeaderName::from_bytes(name).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    while let Some(name) = headers.keys().find(|k| is_hop_by_hop(k)).cloned() {
        headers.remove(name);
    }
}

/// Whether a `Connection` value lists a header name (a token other than its options).
fn names_headers(value: &HeaderValue) -> bool {
    value
        .as_bytes()
        .split(|b| *b == b',')
        .any(|t| !is_option(t.trim_ascii()))
}

/// `Connection` tokens that are options, not header names (`keep-alive` also goes with
/// the fixed set); an empty list element is neither.
fn is_option(token: &[u8]) -> bool {
    token.is_empty()
        || token.eq_ignore_ascii_case(b"close")
        || token.eq_ignore_ascii_case(b"keep-alive")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_headers() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-private"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("proxy-foo", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("accept", "*/*"),
            ("content-length", "3"),
        ] {
            headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "content-length"]);
    }

    #[test]
    fn options_alone_take_only_the_fixed_set() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("Keep-Alive"));
        headers.append(CONNECTION, HeaderValue::from_static(" close ,"));
        headers.insert(KEEP_ALIVE.clone(), HeaderValue::from_static("timeout=5"));
        headers.insert("server", HeaderValue::from_static("nginx"));
        headers.insert(
            "close",
            HeaderValue::from_static("kept: an option, not a name"),
        );
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["close", "server"]);
        // A later `Connection` value naming a header still takes it.
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
        headers.append(CONNECTION, HeaderValue::from_static("Server"));
        strip_hop_by_hop(&mut headers);
        let left: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["close"]);
    }
}
