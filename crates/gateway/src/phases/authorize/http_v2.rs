//! HTTP API Lambda authorizers: payload format 2.0 events and simple responses, wired to
//! the pure functions of [`super::lambda_v2`] when they are present.

use serde_json::Value;

use super::lambda::LambdaDecision;
use super::Request;
use crate::error::GatewayError;

/// The 2.0 REQUEST event.
pub fn request_event(
    _req: &Request<'_>,
    _identity: &[String],
    _arn: &str,
) -> Result<Value, GatewayError> {
    Err(GatewayError::AuthorizerConfiguration(
        "authorizer payload format 2.0 is not available on this node".into(),
    ))
}

/// A simple response (`{isAuthorized, context}`).
pub fn simple_answer(_payload: &[u8]) -> Result<LambdaDecision, String> {
    Err("simple responses are not available on this node".into())
}
