//! The request pipeline, one module per SPEC §5 phase in request order, run by
//! [`crate::Gateway::handle`]:
//!
//! 1. [`route`]: invoke URL → stage → resource → method;
//! 2. [`authorize`]: the resource policy and the method's authorization (AWS_IAM, Lambda
//!    or Cognito authorizers), before the API key, as in API Gateway: a refusal never
//!    touches usage;
//! 3. [`api_key`]: `x-api-key` → key → usage plan for the stage (when `apiKeyRequired`);
//! 4. [`throttle`]: token buckets, quota and usage count in one shared atomic step;
//! 5. [`validate`]: required parameters, body against the method's model; then
//!    [`cache`], the stage cache: a hit answers without the integration, a miss keeps
//!    the integration's response;
//! 6. [`integration`]: MOCK / HTTP / HTTP_PROXY / AWS and AWS_PROXY (functions);
//! 7. [`integration_response`]: selection, status, headers, body;
//! 8. errors at any phase become gateway responses ([`crate::gateway_response`]);
//! 9. [`end`]: the end-of-request hook, once per request with the final status and both
//!    latencies (metrics and access logs go there).

pub mod api_key;
pub mod authorize;
pub mod cache;
pub mod end;
pub mod integration;
pub mod integration_response;
pub mod route;
pub mod throttle;
pub mod validate;

/// Reads a client's request body whole, within the payload limit (413 beyond it; 400 when
/// the client's connection fails mid-body): the one place phases buffer a request body.
pub(crate) async fn read_body(
    body: crate::body::Body,
) -> Result<bytes::Bytes, crate::error::GatewayError> {
    use crate::body::BodyError;
    use crate::error::GatewayError;
    use http_body_util::BodyExt;
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(BodyError::TooLarge) => Err(GatewayError::RequestTooLarge),
        Err(BodyError::Transport(_) | BodyError::Backend(_)) => Err(GatewayError::BadRequest(
            "the request body could not be read",
        )),
    }
}
