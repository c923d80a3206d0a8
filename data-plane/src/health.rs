//! The node's own endpoints (`/healthz`, `/readyz`; `/metrics` is added by the node when
//! metrics are on, see `metrics::prometheus`), answered only on non-invoke hosts so they
//! can never shadow an API's routes.

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

use apigw_gateway::body::Body;
use apigw_gateway::state::SharedState;

/// Answers an internal path, or `None` when the path is not one.
/// `/healthz` is 200 while the process serves; `/readyz` is 503 until a config is applied.
pub fn respond(path: &str, state: &SharedState) -> Option<Response<Body>> {
    let (status, body) = match path {
        "/healthz" => (StatusCode::OK, r#"{"status":"ok"}"#),
        "/readyz" if state.is_ready() => (StatusCode::OK, r#"{"status":"ready"}"#),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"no config applied yet"}"#,
        ),
        _ => return None,
    };
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Some(response)
}
