//! `COGNITO_USER_POOLS` authorizers: the token from `identitySource` (a `Bearer ` prefix
//! accepted) verified against the providers' keys by [`apigw_oidc`], the client id checked
//! with `identityValidationExpression`, then the method's `authorizationScopes` against
//! the token's scopes. A verified token is reused node-locally until it expires (at most
//! the default TTL), so the signature is checked once per token, not per request.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{cache, AuthorizerResult, Authorizers, Request};
use crate::compile::authorizer::{AuthorizerKind, CompiledAuthorizer};
use crate::error::GatewayError;

/// The longest a verified token is reused without checking it again.
const MAX_REUSE: Duration = Duration::from_secs(300);

/// A verified token: what the request sees, and the scopes it grants.
#[derive(Debug)]
pub struct JwtDecision {
    result: Arc<AuthorizerResult>,
    scopes: Box<[Box<str>]>,
}

fn unauthorized(why: &'static str) -> GatewayError {
    GatewayError::Unauthorized(Cow::Borrowed(why))
}

/// Verifies the request's token; `Ok` carries the claims for `$context.authorizer.claims`.
pub async fn authorize(
    auth: &Authorizers,
    req: &Request<'_>,
    authorizer: &CompiledAuthorizer,
    method_scopes: &[Box<str>],
) -> Result<Arc<AuthorizerResult>, GatewayError> {
    let AuthorizerKind::Cognito {
        header,
        providers,
        client_id,
    } = &authorizer.kind
    else {
        return Err(GatewayError::AuthorizerConfiguration(
            "a Lambda authorizer on a COGNITO_USER_POOLS method".into(),
        ));
    };
    let token = req
        .parts
        .headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| unauthorized("no token"))?;
    let stage = &req.routed.stage;
    let epoch = stage.authorizer_epoch.to_le_bytes();
    let key = cache::Key::new([
        stage.api_id.as_bytes(),
        stage.stage_name.as_bytes(),
        &epoch[..],
        authorizer.id.as_bytes(),
        token.as_bytes(),
    ]);
    let decision = match auth.tokens.get(&key) {
        Some(hit) => hit,
        None => {
            let decision = verify(auth, token, providers, client_id.as_ref()).await?;
            let (decision, reuse) = decision;
            let decision = Arc::new(decision);
            auth.tokens.put(key, Arc::clone(&decision), reuse);
            decision
        }
    };
    if !method_scopes.is_empty()
        && !method_scopes
            .iter()
            .any(|wanted| decision.scopes.iter().any(|s| s == wanted))
    {
        return Err(unauthorized("the token has none of the method's scopes"));
    }
    Ok(Arc::clone(&decision.result))
}

/// An HTTP API's JWT authorizer: the token from the identity source (a `Bearer ` prefix
/// accepted) verified against the issuer's keys, `aud` (or `client_id` when the token has
/// no `aud`) one of the audience, then the route's `authorizationScopes` against the
/// token's `scope` / `scp`. Verified tokens are reused as for Cognito authorizers.
pub async fn authorize_http(
    auth: &Authorizers,
    req: &Request<'_>,
    authorizer: &CompiledAuthorizer,
    route_scopes: &[Box<str>],
) -> Result<Arc<AuthorizerResult>, GatewayError> {
    let AuthorizerKind::Jwt(config) = &authorizer.kind else {
        return Err(GatewayError::AuthorizerConfiguration(
            "not a JWT authorizer".into(),
        ));
    };
    let view = crate::phases::integration::request_view(req.ctx, req.routed, req.parts);
    let token = config
        .source
        .text(&view)
        .map(|t| t.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| unauthorized("no token"))?;
    let stage = &req.routed.stage;
    let key = cache::Key::new([
        stage.api_id.as_bytes(),
        stage.stage_name.as_bytes(),
        authorizer.id.as_bytes(),
        token.as_bytes(),
    ]);
    let decision = match auth.tokens.get(&key) {
        Some(hit) => hit,
        None => {
            let (decision, reuse) = verify_http(auth, &token, config).await?;
            let decision = Arc::new(decision);
            auth.tokens.put(key, Arc::clone(&decision), reuse);
            decision
        }
    };
    if !route_scopes.is_empty()
        && !route_scopes
            .iter()
            .any(|wanted| decision.scopes.iter().any(|s| s == wanted))
    {
        return Err(GatewayError::AccessDenied(Cow::Borrowed(
            "the token has none of the route's scopes",
        )));
    }
    Ok(Arc::clone(&decision.result))
}

async fn verify_http(
    auth: &Authorizers,
    token: &str,
    config: &crate::compile::http_api::JwtConfig,
) -> Result<(JwtDecision, Duration), GatewayError> {
    let claims = auth
        .verifier
        .verify(
            token,
            std::slice::from_ref(&config.issuer),
            SystemTime::now(),
        )
        .await
        .map_err(|e| match e {
            apigw_oidc::JwtError::FetchFailed(why) => GatewayError::AuthorizerFailure(why),
            other => GatewayError::InvalidToken(Cow::Owned(other.to_string())),
        })?;
    let audience_ok = match claims.get("aud") {
        Some(serde_json::Value::String(aud)) => config.audience.iter().any(|a| **a == **aud),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .any(|aud| config.audience.iter().any(|a| **a == *aud)),
        Some(_) => false,
        None => claims
            .get_str("client_id")
            .is_some_and(|c| config.audience.iter().any(|a| **a == *c)),
    };
    if !audience_ok {
        // AWS's words (its JWT troubleshooting page).
        return Err(GatewayError::InvalidToken(Cow::Borrowed(
            "the token does not have a valid audience",
        )));
    }
    Ok(decision_of(&claims))
}

/// What a verified token gives: its claims, scopes, and how long it may be reused.
fn decision_of(claims: &apigw_oidc::Claims) -> (JwtDecision, Duration) {
    let scopes: Box<[Box<str>]> = claims.scopes().into_iter().map(Into::into).collect();
    let expires_in = claims
        .0
        .get("exp")
        .and_then(serde_json::Value::as_u64)
        .map(|exp| {
            let now_s = cache::now_ms() / 1000;
            Duration::from_secs(exp.saturating_sub(now_s))
        })
        .unwrap_or(Duration::ZERO)
        .min(MAX_REUSE);
    let strings = claims.as_strings();
    let principal_id = strings
        .iter()
        .find(|(k, _)| k == "sub")
        .map(|(_, v)| v.as_str().into());
    let result = AuthorizerResult {
        principal_id,
        claims: strings
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        ..Default::default()
    };
    (
        JwtDecision {
            result: Arc::new(result),
            scopes,
        },
        expires_in,
    )
}

async fn verify(
    auth: &Authorizers,
    token: &str,
    providers: &[Box<str>],
    client_id: Option<&regex::Regex>,
) -> Result<(JwtDecision, Duration), GatewayError> {
    let issuers = providers
        .iter()
        .map(|p| apigw_oidc::Issuer::from_provider_arn(p, &auth.issuer_overrides))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| GatewayError::AuthorizerConfiguration(e.to_string()))?;
    let now = SystemTime::now();
    let claims = auth
        .verifier
        .verify(token, &issuers, now)
        .await
        .map_err(|e| match e {
            apigw_oidc::JwtError::FetchFailed(why) => GatewayError::AuthorizerFailure(why),
            other => GatewayError::Unauthorized(Cow::Owned(other.to_string())),
        })?;
    if !claims.client_matches(client_id) {
        return Err(unauthorized("the token is for another client"));
    }
    Ok(decision_of(&claims))
}
