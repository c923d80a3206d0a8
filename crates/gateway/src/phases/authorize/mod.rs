//! Step 2, authorization, after routing and before the API key (so a refused request
//! never counts as usage), in API Gateway's order:
//!
//! 1. the API's resource policy, evaluated for the anonymous caller: an explicit deny is a
//!    403 before any authorizer runs;
//! 2. the method's authorization: `AWS_IAM` (a SigV4 signature, [`iam`]), `CUSTOM` (a
//!    Lambda TOKEN or REQUEST authorizer, [`lambda`]) or `COGNITO_USER_POOLS` (a JWT,
//!    [`jwt`]);
//! 3. the resource policy again with the caller known (an IAM principal), combined with
//!    the authorizer's decision: explicit deny anywhere wins; with no authorization the
//!    policy must allow; otherwise the method's authorization must have allowed and the
//!    policy must not deny.
//!
//! What an authorizer learns ([`AuthorizerResult`]) is set once on the request context
//! for `$context.authorizer`, mappings, the proxy event and `apiKeySource: AUTHORIZER`.
//! Decisions are cached ([`cache`]) per identity for the authorizer's TTL, node-locally
//! in front of a cluster-wide store.

pub mod cache;
pub mod http_v2;
pub mod iam;
pub mod jwt;
pub mod lambda;
pub mod lambda_v2;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apigw_iam_policy::{combine, AuthOutcome, Decision, EvalRequest};
use bytes::Bytes;
use http::request::Parts;

use self::cache::{LocalDecisions, SharedDecisions};
use self::lambda::LambdaDecision;
use crate::backend_client::BackendClient;
use crate::compile::authorizer::{Authorization, AuthorizerKind, CompiledAuthorizer};
use crate::compile::mapping::ValueSource;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::integration::invoke_api::{self, FunctionsEndpoint};
use crate::phases::integration::request_view;
use crate::phases::route::Routed;

/// How long an authorizer function may take (API Gateway's limit is 30 s).
pub const DEFAULT_AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);

/// What an authorizer established about the caller.
#[derive(Debug, Default)]
pub struct AuthorizerResult {
    /// `principalId` (Lambda authorizers), the token's `sub` (JWT).
    pub principal_id: Option<Box<str>>,
    /// The Lambda authorizer's `context` (strings, numbers, booleans).
    pub context: Vec<(Box<str>, serde_json::Value)>,
    /// The JWT's claims, as text (`$context.authorizer.claims.x`).
    pub claims: Vec<(Box<str>, Box<str>)>,
    /// The API key to meter (`apiKeySource: AUTHORIZER`).
    pub usage_identifier_key: Option<Box<str>>,
    /// The returned policy, as JSON text (TestInvokeAuthorizer shows it).
    pub policy: Option<Box<str>>,
    /// The returned policy, compiled (the stage cache asks it for
    /// `execute-api:InvalidateCache`).
    pub compiled_policy: Option<apigw_iam_policy::Policy>,
}

impl AuthorizerResult {
    /// `$context.authorizer` as a JSON object: `principalId`, the context's keys, and
    /// `claims` (JWT).
    pub fn context_object(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let mut map = Map::new();
        if let Some(p) = &self.principal_id {
            map.insert("principalId".into(), json!(&**p));
        }
        for (k, v) in &self.context {
            map.insert(k.to_string(), v.clone());
        }
        if !self.claims.is_empty() {
            let claims: Map<String, Value> = self
                .claims
                .iter()
                .map(|(k, v)| (k.to_string(), json!(&**v)))
                .collect();
            map.insert("claims".into(), Value::Object(claims));
        }
        Value::Object(map)
    }

    /// A context value or claim by `$context.authorizer` name (`principalId`, `x`,
    /// `claims.x`), as text.
    pub fn value(&self, name: &str) -> Option<Cow<'_, str>> {
        if name == "principalId" {
            return self.principal_id.as_deref().map(Cow::Borrowed);
        }
        if let Some(claim) = name.strip_prefix("claims.") {
            return self
                .claims
                .iter()
                .find(|(k, _)| **k == *claim)
                .map(|(_, v)| Cow::Borrowed(&**v));
        }
        self.context
            .iter()
            .find(|(k, _)| **k == *name)
            .map(|(_, v)| match v {
                serde_json::Value::String(s) => Cow::Borrowed(s.as_str()),
                other => Cow::Owned(other.to_string()),
            })
    }
}

/// The caller a SigV4 signature identified (`AWS_IAM`).
#[derive(Debug, Clone)]
pub struct IamCaller {
    /// The access key id (`$context.identity.accessKey`).
    pub access_key: Box<str>,
    /// Its user's ARN (`$context.identity.userArn`, `.caller`).
    pub user_arn: Box<str>,
}

/// What the authorization phase needs beyond the request: caches, the JWT verifier, the
/// functions endpoint's timeout. One per gateway.
pub struct Authorizers {
    lambda: LocalDecisions<LambdaDecision>,
    tokens: LocalDecisions<jwt::JwtDecision>,
    shared: Option<Arc<dyn SharedDecisions>>,
    verifier: apigw_oidc::Verifier,
    issuer_overrides: HashMap<String, String>,
    timeout: Duration,
}

impl std::fmt::Debug for Authorizers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizers")
            .field("shared", &self.shared.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for Authorizers {
    fn default() -> Self {
        Authorizers {
            lambda: LocalDecisions::default(),
            tokens: LocalDecisions::default(),
            shared: None,
            verifier: apigw_oidc::Verifier::new(apigw_oidc::VerifierConfig::default()),
            issuer_overrides: HashMap::new(),
            timeout: DEFAULT_AUTHORIZER_TIMEOUT,
        }
    }
}

impl Authorizers {
    /// Decisions shared with the cluster through `shared`.
    pub fn with_shared(mut self, shared: Arc<dyn SharedDecisions>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Authorizer functions may take at most `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Cognito user-pool ARNs answered by these issuer URLs instead of AWS's.
    pub fn with_issuer_overrides(mut self, overrides: HashMap<String, String>) -> Self {
        self.issuer_overrides = overrides;
        self
    }
}

/// Everything one authorization needs.
pub struct Request<'a> {
    /// The request's context (the result is set on it).
    pub ctx: &'a RequestContext,
    /// The routed method.
    pub routed: &'a Routed,
    /// The request head.
    pub parts: &'a Parts,
    /// The backend client (function calls).
    pub client: &'a BackendClient,
    /// The functions endpoint, if configured.
    pub functions: Option<&'a FunctionsEndpoint>,
    /// The access keys' verification material (`AWS_IAM`).
    pub iam: &'a iam::IamKeys,
    /// `AWS_IAM`: the hex SHA-256 of the whole body (the caller buffers it first).
    pub body_sha256: &'a str,
}

/// Runs the phase for a guarded method (`CompiledMethod::guarded`, decided when the stage
/// was compiled): `Ok` when the request may go on.
pub async fn authorize(auth: &Authorizers, req: &Request<'_>) -> Result<(), GatewayError> {
    let method = &req.routed.method;
    let policy = req.routed.stage.policy.as_ref();
    // Only policies (the API's, a Lambda authorizer's) need the method ARN.
    let arn = if policy.is_some() || matches!(method.authorization, Authorization::Custom { .. }) {
        method_arn(req.routed, req.parts)
    } else {
        String::new()
    };
    // Pre-authorization: the resource policy's explicit deny stops the call before any
    // authorizer runs.
    let anonymous = policy.map(|p| evaluate(p, &arn, None, req));
    if anonymous == Some(Decision::Deny) {
        return Err(policy_denied(None, &arn));
    }
    let mut principal = None;
    let outcome = match &method.authorization {
        Authorization::None => AuthOutcome::None,
        Authorization::Iam => {
            let caller = iam::verify(req.iam, req.parts, req.body_sha256)?;
            req.ctx
                .log(|| format!("Caller: {} ({})", caller.user_arn, caller.access_key));
            let _ = req.ctx.iam_caller.set(caller);
            principal = req.ctx.iam_caller.get().map(|c| &*c.user_arn);
            // Every access key of the control plane may invoke (its identity policy).
            AuthOutcome::Iam {
                identity: Decision::Allow,
                same_account: true,
            }
        }
        Authorization::Custom {
            authorizer,
            sources,
        } => {
            let decision = lambda_decision(auth, req, authorizer, sources, &arn, true).await?;
            let verdict = decision
                .policy
                .evaluate(&EvalRequest::invoke(&arn).with_source_ip(req.ctx.source_ip));
            let _ = req.ctx.authorizer.set(Arc::clone(&decision.result));
            AuthOutcome::Lambda(verdict)
        }
        Authorization::Cognito { authorizer, scopes } => {
            let result = jwt::authorize(auth, req, authorizer, scopes).await?;
            let _ = req.ctx.authorizer.set(result);
            AuthOutcome::CognitoUserPools
        }
        Authorization::Jwt { authorizer, scopes } => {
            let result = jwt::authorize_http(auth, req, authorizer, scopes).await?;
            let _ = req.ctx.authorizer.set(result);
            AuthOutcome::CognitoUserPools
        }
    };
    let resource = match (principal, policy) {
        (Some(p), Some(policy)) => Some(evaluate(policy, &arn, Some(p), req)),
        _ => anonymous,
    };
    if combine(resource, outcome) == Decision::Allow {
        return Ok(());
    }
    Err(match (outcome, resource) {
        // The authorizer's own policy said no (and the resource policy did not allow).
        (AuthOutcome::Lambda(_), resource) if resource != Some(Decision::Deny) => {
            GatewayError::AccessDenied(Cow::Borrowed(
                "the authorizer's policy does not allow this method",
            ))
        }
        _ => policy_denied(principal, &arn),
    })
}

/// AWS's words for a resource-policy refusal.
fn policy_denied(principal: Option<&str>, arn: &str) -> GatewayError {
    GatewayError::PolicyDenied(format!(
        "User: {} is not authorized to perform: execute-api:Invoke on resource: {arn}",
        principal.unwrap_or("anonymous")
    ))
}

fn evaluate(
    policy: &apigw_iam_policy::Policy,
    arn: &str,
    principal: Option<&str>,
    req: &Request<'_>,
) -> Decision {
    let mut request = EvalRequest::invoke(arn).with_source_ip(req.ctx.source_ip);
    if let Some(p) = principal {
        request = request.with_principal(p);
    }
    policy.evaluate(&request)
}

/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}` of this request
/// (its actual path, without the leading `/`).
pub fn method_arn(routed: &Routed, parts: &Parts) -> String {
    let path = routed.stage_path(parts.uri.path());
    let mut arn = String::with_capacity(routed.stage.arn_prefix.len() + path.len() + 8);
    arn.push_str(&routed.stage.arn_prefix);
    arn.push_str(parts.method.as_str());
    arn.push('/');
    arn.push_str(path.strip_prefix('/').unwrap_or(path));
    arn
}

/// The identity a Lambda authorizer is asked about: what its cache key is made of.
enum Identity<'a> {
    /// A TOKEN authorizer's token.
    Token(&'a str),
    /// A REQUEST authorizer's source values, in order.
    Sources(Vec<String>),
}

impl Identity<'_> {
    fn parts(&self) -> impl Iterator<Item = &[u8]> + Clone {
        let (token, sources) = match self {
            Identity::Token(t) => (Some(t.as_bytes()), &[][..]),
            Identity::Sources(s) => (None, s.as_slice()),
        };
        token
            .into_iter()
            .chain(sources.iter().map(String::as_bytes))
    }
}

/// The request's identity for a Lambda authorizer; `Err(401)` when a required part is
/// missing or the token fails the validation expression (the function is not called).
fn identity<'a>(
    authorizer: &CompiledAuthorizer,
    sources: &[ValueSource],
    req: &'a Request<'_>,
) -> Result<Identity<'a>, GatewayError> {
    let missing = || GatewayError::Unauthorized(Cow::Borrowed("identity source missing or empty"));
    match &authorizer.kind {
        AuthorizerKind::Token {
            header, validation, ..
        } => {
            let token = req
                .parts
                .headers
                .get(header)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .ok_or_else(missing)?;
            if validation.as_ref().is_some_and(|re| !re.is_match(token)) {
                return Err(GatewayError::Unauthorized(Cow::Borrowed(
                    "the token does not match the identity validation expression",
                )));
            }
            Ok(Identity::Token(token))
        }
        AuthorizerKind::Request { .. } => {
            let view = request_view(req.ctx, req.routed, req.parts);
            let mut parts = Vec::with_capacity(sources.len());
            for source in sources {
                match source.text(&view) {
                    Some(v) if !v.is_empty() => parts.push(v.into_owned()),
                    // With caching off, sources are optional (AWS calls the function).
                    _ if authorizer.ttl.is_zero() => parts.push(String::new()),
                    _ => return Err(missing()),
                }
            }
            Ok(Identity::Sources(parts))
        }
        // HTTP APIs: every identity source must be present and non-empty, cached or not.
        AuthorizerKind::HttpRequest(_) => {
            let view = request_view(req.ctx, req.routed, req.parts);
            let mut parts = Vec::with_capacity(sources.len());
            for source in sources {
                match source.text(&view) {
                    Some(v) if !v.is_empty() => parts.push(v.into_owned()),
                    _ => return Err(missing()),
                }
            }
            Ok(Identity::Sources(parts))
        }
        AuthorizerKind::Misconfigured(_)
        | AuthorizerKind::Cognito { .. }
        | AuthorizerKind::Jwt(_) => Ok(Identity::Sources(Vec::new())),
    }
}

/// The Lambda authorizer's decision for this request's identity: cached, or asked.
async fn lambda_decision(
    auth: &Authorizers,
    req: &Request<'_>,
    authorizer: &CompiledAuthorizer,
    sources: &[ValueSource],
    arn: &str,
    cached: bool,
) -> Result<Arc<LambdaDecision>, GatewayError> {
    let function = match &authorizer.kind {
        AuthorizerKind::Token { function, .. } | AuthorizerKind::Request { function } => function,
        AuthorizerKind::HttpRequest(config) => &config.function,
        AuthorizerKind::Misconfigured(why) => {
            return Err(GatewayError::AuthorizerConfiguration(why.to_string()))
        }
        AuthorizerKind::Cognito { .. } | AuthorizerKind::Jwt(_) => {
            return Err(GatewayError::AuthorizerConfiguration(
                "a JWT authorizer on a CUSTOM method".into(),
            ))
        }
    };
    let parts = identity(authorizer, sources, req)?;
    let stage = &req.routed.stage;
    let key = (cached && !authorizer.ttl.is_zero()).then(|| {
        let epoch = stage.authorizer_epoch.to_le_bytes();
        let fixed = [
            stage.api_id.as_bytes(),
            stage.stage_name.as_bytes(),
            &epoch[..],
            authorizer.id.as_bytes(),
        ];
        cache::Key::new(fixed.into_iter().chain(parts.parts()))
    });
    if let Some(key) = &key {
        if let Some(hit) = auth.lambda.get(key) {
            req.ctx
                .log(|| format!("Using cached authorizer result for {}", authorizer.name));
            return Ok(hit);
        }
        if let Some(shared) = &auth.shared {
            if let Some((payload, expires_ms)) = shared.get(&key.shared_name()).await {
                let left = expires_ms.saturating_sub(cache::now_ms());
                if left > 0 {
                    if let Ok(decision) = parse_decision(authorizer, &payload) {
                        let decision = Arc::new(decision);
                        auth.lambda.put(
                            key.clone(),
                            Arc::clone(&decision),
                            Duration::from_millis(left),
                        );
                        return Ok(decision);
                    }
                }
            }
        }
    }
    let event = match (&parts, &authorizer.kind) {
        (Identity::Token(token), _) => lambda::token_event(token, arn),
        (Identity::Sources(values), AuthorizerKind::HttpRequest(config)) => {
            http_v2::request_event(req, config.v2, values, arn)
        }
        _ => lambda::request_event(req.ctx, req.routed, req.parts, &stage.account_id, arn),
    };
    req.ctx.log(|| {
        format!(
            "Starting authorizer: {} ({})",
            authorizer.name, authorizer.id
        )
    });
    let invocation = invoke_api::invoke(
        req.client,
        req.ctx,
        req.functions,
        function,
        Bytes::from(event.to_string()),
        auth.timeout,
    )
    .await
    .map_err(|e| GatewayError::AuthorizerFailure(e.to_string()))?;
    if let Some(message) = invocation.error_message() {
        if message == "Unauthorized" {
            return Err(GatewayError::Unauthorized(Cow::Borrowed(
                "the authorizer answered Unauthorized",
            )));
        }
        return Err(GatewayError::AuthorizerFailure(format!(
            "the authorizer function failed: {message}"
        )));
    }
    let decision = Arc::new(
        parse_decision(authorizer, &invocation.payload)
            .map_err(GatewayError::AuthorizerConfiguration)?,
    );
    if let Some(key) = key {
        if let Some(shared) = &auth.shared {
            let expires = cache::now_ms() + u64::try_from(authorizer.ttl.as_millis()).unwrap_or(0);
            shared
                .put(&key.shared_name(), invocation.payload, expires)
                .await;
        }
        auth.lambda.put(key, Arc::clone(&decision), authorizer.ttl);
    }
    Ok(decision)
}

/// A Lambda authorizer's answer: an IAM policy answer, or (HTTP APIs with
/// `enableSimpleResponses`) `{isAuthorized, context}`.
fn parse_decision(
    authorizer: &CompiledAuthorizer,
    payload: &[u8],
) -> Result<LambdaDecision, String> {
    match &authorizer.kind {
        AuthorizerKind::HttpRequest(config) if config.simple => http_v2::simple_answer(payload),
        _ => lambda::parse_answer(payload),
    }
}

/// What TestInvokeAuthorizer reports.
#[derive(Debug, Default)]
pub struct TestOutcome {
    /// The status the client would get (0: the authorizer answered usably).
    pub client_status: u16,
    /// What the authorizer established, when it answered.
    pub result: Option<Arc<AuthorizerResult>>,
}

/// Runs the routed method's authorizer once, without any cache and without judging the
/// returned policy (TestInvokeAuthorizer has no method to judge it against).
pub async fn test_invoke(auth: &Authorizers, req: &Request<'_>) -> TestOutcome {
    let arn = method_arn(req.routed, req.parts);
    let outcome = match &req.routed.method.authorization {
        Authorization::Custom {
            authorizer,
            sources,
        } => lambda_decision(auth, req, authorizer, sources, &arn, false)
            .await
            .map(|d| Arc::clone(&d.result)),
        Authorization::Cognito { authorizer, scopes } => {
            jwt::authorize(auth, req, authorizer, scopes).await
        }
        Authorization::Jwt { authorizer, scopes } => {
            jwt::authorize_http(auth, req, authorizer, scopes).await
        }
        _ => Err(GatewayError::AuthorizerConfiguration(
            "the method has no authorizer".into(),
        )),
    };
    match outcome {
        Ok(result) => TestOutcome {
            client_status: 0,
            result: Some(result),
        },
        Err(error) => {
            req.ctx.log(|| error.execution_log_line());
            TestOutcome {
                client_status: error.status().as_u16(),
                result: None,
            }
        }
    }
}
