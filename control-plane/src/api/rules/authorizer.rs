//! The rules of an authorizer (CreateAuthorizer, UpdateAuthorizer, and every authorizer an
//! import writes): checked by the engine's own compiler
//! ([`apigw_gateway::compile::authorizer::check`]), so what is accepted is what a node runs.

use crate::error::{ApiError, ApiResult};
use crate::wire::Authorizer;

/// `authorizerResultTtlInSeconds` when not given.
pub const DEFAULT_TTL_SECONDS: i32 = 300;

/// The snapshot form of an authorizer (defaults resolved), as the engine compiles it.
pub fn to_snapshot(a: &Authorizer) -> apigw_proto::config::Authorizer {
    apigw_proto::config::Authorizer {
        id: a.id.clone(),
        name: a.name.clone(),
        r#type: a.authorizer_type.clone(),
        authorizer_uri: a.authorizer_uri.clone().unwrap_or_default(),
        identity_source: a.identity_source.clone().unwrap_or_default(),
        identity_validation_expression: a
            .identity_validation_expression
            .clone()
            .unwrap_or_default(),
        result_ttl_seconds: a
            .authorizer_result_ttl_in_seconds
            .unwrap_or(DEFAULT_TTL_SECONDS),
        provider_arns: a.provider_arns.clone(),
    }
}

/// Checks an authorizer with the engine's compiler, plus the rules only the management
/// API has (a JWT type belongs to HTTP APIs, providers must resolve to issuers).
pub fn check(a: &Authorizer) -> ApiResult<()> {
    if a.name.trim().is_empty() {
        return Err(ApiError::bad_request("Authorizer name must not be blank"));
    }
    if a.authorizer_type == "JWT" {
        return Err(ApiError::bad_request(
            "Invalid authorizer type JWT: JWT authorizers belong to HTTP APIs; use \
             COGNITO_USER_POOLS for a REST API",
        ));
    }
    for provider in &a.provider_arns {
        apigw_oidc::Issuer::from_provider_arn(provider, &Default::default()).map_err(|e| {
            ApiError::bad_request(format!("Invalid providerARNs entry '{provider}': {e}"))
        })?;
    }
    apigw_gateway::compile::authorizer::check(&to_snapshot(a))
        .map_err(|e| ApiError::bad_request(format!("Invalid authorizer: {e}")))
}
