//! HTTP APIs (`apigatewayv2`, `protocolType: HTTP`): a deployed stage
//! ([`HttpStageConfig`]) compiled into the same [`super::CompiledStage`] the REST pipeline
//! runs, and the checks the control plane runs on management input (one grammar, one
//! parser: it calls these functions).
//!
//! Interface shared by the control plane and the engine (filled in by the engine work):
//! - [`check_route_key`]: `$default`, `METHOD /path` (GET, POST, PUT, PATCH, DELETE, HEAD,
//!   OPTIONS or ANY; `{name}` segments, a greedy `{name+}` last).
//! - [`check_request_parameter`] / [`check_response_parameter`]: one `requestParameters`
//!   / `responseParameters` entry (key and value).
//! - [`check_stage`]: the whole stage compiles (routes, integrations, authorizers, CORS).

use apigw_proto::config::HttpStageConfig;

/// Why an HTTP API's definition is unusable; the message is shown to the management
/// API's caller as is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpApiError(pub String);

/// Checks a route key (`$default`, `GET /pets/{id}`, `ANY /{proxy+}`).
pub fn check_route_key(_key: &str) -> Result<(), HttpApiError> {
    Ok(())
}

/// Checks one `requestParameters` entry of an HTTP API integration
/// (`overwrite:header.x` → `$request.header.y`, ...).
pub fn check_request_parameter(_key: &str, _value: &str) -> Result<(), HttpApiError> {
    Ok(())
}

/// Checks one `responseParameters` entry (`overwrite:statuscode` → `204`, ...) of the
/// map for one status code.
pub fn check_response_parameter(_key: &str, _value: &str) -> Result<(), HttpApiError> {
    Ok(())
}

/// Checks that a whole stage compiles.
pub fn check_stage(_stage: &HttpStageConfig) -> Result<(), HttpApiError> {
    Ok(())
}
