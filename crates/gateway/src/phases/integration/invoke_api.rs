//! The client of a Lambda-compatible Invoke API (`POST {base}/2015-03-31/functions/{name}/invocations`,
//! `Qualifier` for an alias or version), as served by AWS Lambda, its runtime interface
//! emulator, local emulators and this repository's `functions/` dev host.
//!
//! One synchronous (`RequestResponse`) invocation per request, over the node's pooled
//! backend client, bounded as a whole (request, response head and payload) by the
//! integration's timeout.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::BodyExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{log_endpoint_request, log_endpoint_response};
use crate::backend_client::{error_chain, BackendClient};
use crate::body::{Body, BodyError};
use crate::compile::function::FunctionTarget;
use crate::context::RequestContext;
use crate::error::GatewayError;

/// `X-Amz-Function-Error`: present (`Unhandled` / `Handled`) when the function failed;
/// the payload is then `{"errorMessage", "errorType", "stackTrace"}`.
pub static X_AMZ_FUNCTION_ERROR: HeaderName = HeaderName::from_static("x-amz-function-error");
static X_AMZ_INVOCATION_TYPE: HeaderName = HeaderName::from_static("x-amz-invocation-type");

/// What may stay unescaped in a path segment or query value (Lambda names and
/// qualifiers are `[A-Za-z0-9-_$]`; `$` of `$LATEST` is escaped).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The largest function result accepted (Lambda's synchronous payload limit is 6 MB; the
/// gateway's own limit is 10 MB).
const MAX_RESULT: usize = 10 * 1024 * 1024;

/// A `--functions-url` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid functions URL {url:?}: {why}")]
pub struct FunctionsUrlError {
    /// The configured value.
    pub url: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// Where function integrations are invoked: the Invoke API's base URL.
#[derive(Debug, Clone)]
pub struct FunctionsEndpoint {
    /// `http(s)://host[:port][/prefix]`, without a trailing `/`.
    base: Box<str>,
}

impl FunctionsEndpoint {
    /// Checks and keeps the base URL (`http` or `https`, with a host, no query).
    pub fn new(url: &str) -> Result<Self, FunctionsUrlError> {
        let err = |why| FunctionsUrlError {
            url: url.to_owned(),
            why,
        };
        let base = url.trim().trim_end_matches('/');
        let uri: Uri = base.parse().map_err(|_| err("not a URL"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(err("the scheme must be http or https")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(err("the URL has no host"));
        }
        if uri.query().is_some() {
            return Err(err("the URL must not have a query"));
        }
        Ok(FunctionsEndpoint { base: base.into() })
    }

    /// The invocation URI of `target`.
    fn invocation_uri(&self, target: &FunctionTarget) -> Result<Uri, GatewayError> {
        let mut uri = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.base,
            utf8_percent_encode(&target.name, COMPONENT)
        );
        if let Some(qualifier) = &target.qualifier {
            uri.push_str("?Qualifier=");
            uri.extend(utf8_percent_encode(qualifier, COMPONENT));
        }
        uri.parse()
            .map_err(|_| GatewayError::Configuration("invalid function name for this stage"))
    }
}

/// A finished invocation.
#[derive(Debug)]
pub struct Invocation {
    /// The function's result (or error object when `function_error` is set).
    pub payload: Bytes,
    /// The `X-Amz-Function-Error` value, when the function failed.
    pub function_error: Option<Box<str>>,
}

impl Invocation {
    /// The `errorMessage` of a failed invocation (empty when the error payload has none).
    pub fn error_message(&self) -> Option<String> {
        self.function_error.as_ref()?;
        let message = serde_json::from_slice::<serde_json::Value>(&self.payload)
            .ok()
            .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_owned))
            .unwrap_or_default();
        Some(message)
    }
}

/// Invokes `target` with `event`, the whole exchange bounded by `timeout`.
///
/// Errors: no endpoint configured or the Invoke API refusing the call (unknown
/// function, bad request: the API's configuration is at fault) → 500; the Invoke API
/// unreachable, failing or throttling → 502; too slow → 504.
pub async fn invoke(
    client: &BackendClient,
    ctx: &RequestContext,
    endpoint: Option<&FunctionsEndpoint>,
    target: &FunctionTarget,
    event: Bytes,
    timeout: Duration,
) -> Result<Invocation, GatewayError> {
    let endpoint = endpoint.ok_or(GatewayError::Configuration(
        "no functions endpoint (--functions-url) configured on this node",
    ))?;
    let mut request = Request::new(Body::full(event));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = endpoint.invocation_uri(target)?;
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        X_AMZ_INVOCATION_TYPE.clone(),
        HeaderValue::from_static("RequestResponse"),
    );
    if ctx.logging() {
        let body: &[u8] = match request.body() {
            Body::Full(Some(bytes)) => bytes,
            _ => &[],
        };
        log_endpoint_request(ctx, &request.uri().to_string(), request.headers(), body);
    }
    let started = std::time::Instant::now();
    let exchange = async {
        let response = client.request(request).await.map_err(|e| {
            GatewayError::IntegrationFailure(format!("invoking function: {}", error_chain(&e)))
        })?;
        let (head, body) = response.into_parts();
        let payload = Body::backend_limited(body)
            .collect()
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => {
                    GatewayError::IntegrationFailure("function result too large".into())
                }
                BodyError::Transport(e) => {
                    GatewayError::IntegrationFailure(format!("reading function result: {e}"))
                }
                BodyError::Backend(e) => GatewayError::IntegrationFailure(format!(
                    "reading function result: {}",
                    error_chain(&e)
                )),
            })?
            .to_bytes();
        Ok::<_, GatewayError>((head, payload))
    };
    let (head, payload) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| GatewayError::IntegrationTimeout)??;
    let _ = ctx.integration_status.set(head.status.as_u16());
    ctx.log(|| {
        format!(
            "Received response. Status: {}, Integration latency: {} ms",
            head.status.as_u16(),
            started.elapsed().as_millis()
        )
    });
    log_endpoint_response(ctx, &head.headers, &payload);
    if payload.len() > MAX_RESULT {
        return Err(GatewayError::IntegrationFailure(
            "function result too large".into(),
        ));
    }
    classify(head.status, &payload)?;
    let function_error = head
        .headers
        .get(&X_AMZ_FUNCTION_ERROR)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into());
    Ok(Invocation {
        payload,
        function_error,
    })
}

/// The Invoke API's own status: 2xx is an invocation; 4xx means the call was refused
/// (the API's configuration names a function that cannot be invoked); 5xx and 429 are
/// the function service failing or throttling.
fn classify(status: StatusCode, payload: &[u8]) -> Result<(), GatewayError> {
    if status.is_success() {
        return Ok(());
    }
    let detail = String::from_utf8_lossy(&payload[..payload.len().min(512)]).into_owned();
    tracing::warn!(%status, %detail, "the Invoke API refused the invocation");
    if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
        Err(GatewayError::Configuration(
            "the function could not be invoked (Invoke API refused the call)",
        ))
    } else {
        Err(GatewayError::IntegrationFailure(format!(
            "Invoke API answered {status}: {detail}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, qualifier: Option<&str>) -> FunctionTarget {
        FunctionTarget {
            name: name.into(),
            qualifier: qualifier.map(Into::into),
            account: None,
        }
    }

    #[test]
    fn builds_invocation_uris() {
        let endpoint = FunctionsEndpoint::new("http://127.0.0.1:9001/").unwrap();
        assert_eq!(
            endpoint.invocation_uri(&target("photos", None)).unwrap(),
            "http://127.0.0.1:9001/2015-03-31/functions/photos/invocations"
        );
        assert_eq!(
            endpoint
                .invocation_uri(&target("photos", Some("$LATEST")))
                .unwrap(),
            "http://127.0.0.1:9001/2015-03-31/functions/photos/invocations?Qualifier=%24LATEST"
        );
    }

    #[test]
    fn rejects_unusable_base_urls() {
        for bad in [
            "",
            "127.0.0.1:9001",
            "ftp://host",
            "http://host/?x=1",
            "not a url",
        ] {
            assert!(FunctionsEndpoint::new(bad).is_err(), "{bad}");
        }
        assert!(FunctionsEndpoint::new("https://lambda.example.com/prefix").is_ok());
    }

    #[test]
    fn invoke_api_statuses_map_to_gateway_errors() {
        assert!(classify(StatusCode::OK, b"").is_ok());
        assert_eq!(
            classify(StatusCode::NOT_FOUND, b"{}").unwrap_err().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, b"")
                .unwrap_err()
                .status(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            classify(StatusCode::SERVICE_UNAVAILABLE, b"")
                .unwrap_err()
                .status(),
            StatusCode::BAD_GATEWAY
        );
    }

    #[tokio::test]
    async fn unconfigured_unreachable_and_slow_endpoints() {
        let client = crate::backend_client::build();
        let ctx = RequestContext::new(std::net::IpAddr::from([127, 0, 0, 1]));
        let f = target("f", None);
        let timeout = Duration::from_secs(5);
        let err = invoke(&client, &ctx, None, &f, Bytes::new(), timeout)
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);

        // Nothing listens there: 502.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let endpoint = FunctionsEndpoint::new(&format!("http://127.0.0.1:{port}")).unwrap();
        let err = invoke(&client, &ctx, Some(&endpoint), &f, Bytes::new(), timeout)
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_GATEWAY);

        // Accepts and never answers: 504 once the (short) timeout passes.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        let endpoint = FunctionsEndpoint::new(&format!("http://{addr}")).unwrap();
        let err = invoke(
            &client,
            &ctx,
            Some(&endpoint),
            &f,
            Bytes::new(),
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status(), StatusCode::GATEWAY_TIMEOUT);
        hold.abort();
    }

    #[test]
    fn error_messages_come_from_error_payloads() {
        let failed = Invocation {
            payload: Bytes::from_static(br#"{"errorMessage":"Not found: 7","errorType":"Error"}"#),
            function_error: Some("Unhandled".into()),
        };
        assert_eq!(failed.error_message().as_deref(), Some("Not found: 7"));
        let ok = Invocation {
            payload: Bytes::from_static(br#"{"errorMessage":"not an error"}"#),
            function_error: None,
        };
        assert_eq!(ok.error_message(), None);
    }
}
