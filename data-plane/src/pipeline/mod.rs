//! The request pipeline, one module per SPEC §5 step in request order:
//!
//! 1. [`route`]: invoke URL → stage → resource → method;
//! 2. (resource policy, auth: later issues);
//! 3. [`api_key`]: `x-api-key` → key → usage plan for the stage (when `apiKeyRequired`);
//! 4. [`throttle`]: token buckets, quota and usage count in one shared atomic step;
//! 5. [`validate`]: required parameters, body against the method's model (cache: later);
//! 6. [`integration`]: MOCK / HTTP / HTTP_PROXY / AWS and AWS_PROXY (functions);
//! 7. [`integration_response`]: selection, status, headers, body;
//! 8. [`gateway_response`]: every error the gateway itself produces.
//!
//! [`Gateway::handle`] runs the steps over the current compiled state and never fails:
//! errors become gateway responses, and every response gets an `x-amzn-RequestId`.

pub mod api_key;
pub mod context;
pub mod gateway_response;
pub mod integration;
pub mod integration_response;
pub mod route;
pub mod template;
pub mod throttle;
pub mod trace;
pub mod validate;

use std::sync::Arc;

use http::header::CONTENT_LENGTH;
use http::{Request, Response};
use hyper::body::Incoming;

use crate::backend_client::BackendClient;
use crate::body::{Body, MAX_PAYLOAD};
use crate::health;
use crate::limits::Limiter;
use crate::state::SharedState;
pub use context::Peer;
use context::{RequestContext, X_AMZN_REQUEST_ID};
use gateway_response::GatewayError;
use route::Target;

/// Everything a request needs: the deployed state, the backend client, the invoke domain.
#[derive(Debug)]
pub struct Gateway {
    state: Arc<SharedState>,
    client: BackendClient,
    /// The Invoke API of function integrations (`--functions-url`), if configured.
    functions: Option<integration::invoke_api::FunctionsEndpoint>,
    /// `.{execute-api-domain}`, lowercase, matched against the Host's tail.
    domain_suffix: Box<str>,
    /// Shared buckets, quotas and usage counts.
    limiter: Arc<Limiter>,
}

impl Gateway {
    /// A gateway over `state`, answering `{apiId}.{execute_api_domain}` hosts.
    pub fn new(state: Arc<SharedState>, client: BackendClient, execute_api_domain: &str) -> Self {
        let domain = execute_api_domain.trim_matches('.').to_ascii_lowercase();
        Gateway {
            state,
            client,
            functions: None,
            domain_suffix: format!(".{domain}").into(),
            limiter: Arc::new(Limiter::local()),
        }
    }

    /// The gateway calling function integrations through `endpoint`.
    pub fn with_functions(mut self, endpoint: integration::invoke_api::FunctionsEndpoint) -> Self {
        self.functions = Some(endpoint);
        self
    }

    /// The gateway with cluster-wide limits (see [`crate::limits`]).
    pub fn with_limiter(mut self, limiter: Arc<Limiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// Serves one request. Infallible: errors are rendered as gateway responses.
    pub async fn handle(&self, request: Request<Incoming>, peer: &Peer) -> Response<Body> {
        self.serve(request, RequestContext::new(peer.clone())).await
    }

    /// Serves one request, writing its execution log (the integration's "Endpoint
    /// request …" / "Endpoint response …" lines) into `trace`.
    pub async fn handle_traced(
        &self,
        request: Request<Incoming>,
        peer: &Peer,
        trace: Arc<trace::ExecutionTrace>,
    ) -> Response<Body> {
        let mut ctx = RequestContext::new(peer.clone());
        ctx.trace = Some(trace);
        self.serve(request, ctx).await
    }

    async fn serve(&self, request: Request<Incoming>, ctx: RequestContext) -> Response<Body> {
        let mut scope = gateway_response::ErrorScope::default();
        let mut response = match self.process(request, &ctx, &mut scope).await {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(request_id = ctx.request_id_str(), %error, "gateway error");
                gateway_response::render(&error, &ctx, &scope)
            }
        };
        response
            .headers_mut()
            .insert(X_AMZN_REQUEST_ID.clone(), ctx.request_id.clone());
        response
    }

    async fn process(
        &self,
        request: Request<Incoming>,
        ctx: &RequestContext,
        scope: &mut gateway_response::ErrorScope,
    ) -> Result<Response<Body>, GatewayError> {
        let (parts, body) = request.into_parts();
        let (routed, usage, account) = match route::classify(&parts, &self.domain_suffix) {
            Target::Invoke {
                api_id,
                stage,
                path_start,
            } => {
                let state = self.state.load();
                let routed = match route::route(&state, api_id, stage, &parts, path_start) {
                    Ok(routed) => routed,
                    Err(error) => {
                        if let Some(stage) = state.stage(api_id, stage) {
                            scope.observe(stage, None, &parts);
                        }
                        return Err(error);
                    }
                };
                scope.observe(&routed.stage, Some(&routed), &parts);
                (routed, Arc::clone(&state.usage), state.account)
            }
            Target::Other => {
                return health::respond(parts.uri.path(), &self.state)
                    .ok_or(GatewayError::Forbidden);
            }
        };
        if declared_length(&parts.headers).is_some_and(|len| len > MAX_PAYLOAD) {
            return Err(GatewayError::RequestTooLarge);
        }
        let key = if routed.method.api_key_required {
            let key = api_key::identify(&usage, &routed.stage, &parts.headers)?;
            // Ignoring the result: the context is fresh, so the cell is empty.
            let _ = ctx.api_key_id.set(key.key_id.clone());
            Some(key)
        } else {
            None
        };
        let admission = throttle::admission(
            account.as_ref(),
            &routed,
            key.as_ref(),
            std::time::SystemTime::now(),
        );
        throttle::check(&self.limiter, &admission).await?;
        let body = match &routed.method.validation {
            Some(validation) => validate::check(validation, &routed, &parts, body).await?,
            None => Body::limited(body),
        };
        integration::invoke(
            &self.client,
            self.functions.as_ref(),
            ctx,
            &routed,
            parts,
            body,
        )
        .await
    }
}

fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
