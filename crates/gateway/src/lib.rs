//! The gateway engine: everything between "a request arrived" and "this is the response",
//! over a compiled snapshot of what is deployed, knowing nothing of sockets on the client
//! side. The data-plane node feeds it requests from its HTTP server; TestInvokeMethod in
//! the control plane feeds it one buffered request. Both take exactly the same path.
//!
//! - [`compile`]: the deployment snapshot (protobuf) → the compiled model the hot path
//!   reads (route tries, URI templates, mappings, templates, selection patterns, validators,
//!   gateway responses, usage plans). All parsing happens here, once per config; the
//!   control plane validates management input by calling the same functions.
//! - [`state`]: every compiled stage by API and stage name, swapped atomically.
//! - [`phases`]: the request pipeline, one module per phase in request order, and the
//!   end-of-request hook ([`phases::end`]).
//! - [`error`] and [`gateway_response`]: the errors the gateway itself produces, and their
//!   rendering as (customised) gateway responses.
//! - [`limits`]: the admission contract the throttle phase calls (the node implements it
//!   over Redis).
//! - [`backend_client`]: the HTTP/1.1 client towards backends and the functions host.
//! - [`query`]: the one query-string parser, with API Gateway's rules.
//!
//! [`Gateway::handle`] runs the phases and never fails: errors become gateway responses,
//! and every response gets an `x-amzn-RequestId`.

pub mod access_log;
pub mod backend_client;
pub mod body;
pub mod compile;
pub mod context;
pub mod error;
pub mod gateway_response;
pub mod limits;
pub mod phases;
pub mod query;
pub mod spans;
pub mod state;
pub mod template;
pub mod trace;
pub mod write_batching;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{Request, Response};

use crate::backend_client::BackendClient;
use crate::body::{Body, BoxError, MAX_PAYLOAD};
use crate::compile::authorizer::Authorization;
use crate::compile::LogLevel;
pub use crate::context::{ClientCert, Peer};
use crate::context::{RequestContext, X_AMZN_REQUEST_ID, X_AMZ_APIGW_ID};
use crate::error::GatewayError;
use crate::limits::{Limits, Unlimited};
use crate::phases::authorize::{self, Authorizers};
use crate::phases::cache::{self, ResponseCache};
use crate::phases::end::{RequestEnd, RequestFacts, RequestSummary};
use crate::phases::integration::invoke_api::FunctionsEndpoint;
use crate::phases::route::{self, Target};
use crate::phases::{api_key, integration, throttle, validate};
use crate::state::SharedState;

/// The request id header of HTTP API responses.
static APIGW_REQUEST_ID: http::header::HeaderName =
    http::header::HeaderName::from_static("apigw-requestid");

/// Answers requests that are not for an invoke host (the node's health and metrics
/// endpoints): the path and the deployed state in, a response or `None` (403) out.
pub type LocalEndpoints = Arc<dyn Fn(&str, &SharedState) -> Option<Response<Body>> + Send + Sync>;

/// Everything a request needs: the deployed state, the backend client, the invoke domain,
/// the limits and the end-of-request hook.
pub struct Gateway<L = Unlimited> {
    state: Arc<SharedState>,
    client: BackendClient,
    /// The Invoke API of function integrations (`--functions-url`), if configured.
    functions: Option<FunctionsEndpoint>,
    /// `.{execute-api-domain}`, lowercase, matched against the Host's tail.
    domain_suffix: Box<str>,
    /// Shared buckets, quotas and usage counts.
    limiter: Arc<L>,
    /// Requests for other hosts.
    local: Option<LocalEndpoints>,
    /// Runs once at the end of every request.
    end: Option<Arc<dyn RequestEnd>>,
    /// Authorizer caches and the JWT verifier.
    authorizers: Arc<Authorizers>,
    /// Distributed tracing of stages with `tracingEnabled`.
    tracer: Option<spans::Tracer>,
    /// The stage cache (none: nothing is cached, as in TestInvokeMethod).
    cache: Option<Arc<ResponseCache>>,
}

impl<L> std::fmt::Debug for Gateway<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("domain_suffix", &self.domain_suffix)
            .field("functions", &self.functions)
            .finish_non_exhaustive()
    }
}

impl Gateway<Unlimited> {
    /// A gateway over `state`, answering `{apiId}.{execute_api_domain}` hosts, admitting
    /// every request (no limits).
    pub fn new(state: Arc<SharedState>, client: BackendClient, execute_api_domain: &str) -> Self {
        let domain = execute_api_domain.trim_matches('.').to_ascii_lowercase();
        Gateway {
            state,
            client,
            functions: None,
            domain_suffix: format!(".{domain}").into(),
            limiter: Arc::new(Unlimited),
            local: None,
            end: None,
            authorizers: Arc::clone(default_authorizers()),
            tracer: None,
            cache: None,
        }
    }
}

impl<L> Gateway<L> {
    /// The API id of an invoke Host (`{apiId}.{execute-api-domain}`, optionally with a
    /// port), for the node's WebSocket and `@connections` endpoints.
    pub fn invoke_api_id<'a>(&self, host: &'a str) -> Option<&'a str> {
        route::execute_api_id(host, &self.domain_suffix)
    }

    /// The deployed state the gateway serves.
    pub fn shared_state(&self) -> &Arc<SharedState> {
        &self.state
    }

    /// What decides admissions (the node's WebSocket routes and connections use the same
    /// cluster-wide buckets as REST methods).
    pub fn limiter(&self) -> &Arc<L> {
        &self.limiter
    }

    /// The backend client (HTTP integrations of WebSocket routes).
    pub fn backend_client(&self) -> &BackendClient {
        &self.client
    }

    /// Invokes a function with `event` outside an HTTP request (WebSocket routes and
    /// authorizers), through the same Invoke API client as function integrations.
    pub async fn invoke_function(
        &self,
        target: &compile::function::FunctionTarget,
        event: bytes::Bytes,
        timeout: std::time::Duration,
        peer: &Peer,
    ) -> Result<phases::integration::invoke_api::Invocation, GatewayError> {
        let ctx = RequestContext::new(peer.clone());
        phases::integration::invoke_api::invoke(
            &self.client,
            &ctx,
            self.functions.as_ref(),
            target,
            event,
            timeout,
        )
        .await
    }
}

impl<L: Limits> Gateway<L> {
    /// The gateway calling function integrations through `endpoint`.
    pub fn with_functions(mut self, endpoint: FunctionsEndpoint) -> Self {
        self.functions = Some(endpoint);
        self
    }

    /// The gateway deciding admissions with `limiter` (the node's are cluster-wide).
    pub fn with_limiter<M: Limits>(self, limiter: Arc<M>) -> Gateway<M> {
        Gateway {
            state: self.state,
            client: self.client,
            functions: self.functions,
            domain_suffix: self.domain_suffix,
            limiter,
            local: self.local,
            end: self.end,
            authorizers: self.authorizers,
            tracer: self.tracer,
            cache: self.cache,
        }
    }

    /// The gateway caching the responses of the methods stages cache in `cache`.
    pub fn with_cache(mut self, cache: Arc<ResponseCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The gateway tracing the requests of stages with `tracingEnabled` with `tracer`.
    pub fn with_tracer(mut self, tracer: spans::Tracer) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// The gateway running authorizers with `authorizers` (its caches, shared store and
    /// JWT verifier).
    pub fn with_authorizers(mut self, authorizers: Arc<Authorizers>) -> Self {
        self.authorizers = authorizers;
        self
    }

    /// The gateway answering non-invoke hosts with `endpoints` (else 403 Forbidden).
    pub fn with_local_endpoints(mut self, endpoints: LocalEndpoints) -> Self {
        self.local = Some(endpoints);
        self
    }

    /// The gateway calling `hook` once at the end of every request.
    pub fn with_end_hook(mut self, hook: Arc<dyn RequestEnd>) -> Self {
        self.end = Some(hook);
        self
    }

    /// Serves one request. Infallible: errors are rendered as gateway responses.
    pub async fn handle<B>(&self, request: Request<B>, peer: &Peer) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.serve(request, RequestContext::new(peer.clone())).await
    }

    /// Serves one request, writing its execution log (the integration's "Endpoint
    /// request …" / "Endpoint response …" lines) into `trace`.
    pub async fn handle_traced<B>(
        &self,
        request: Request<B>,
        peer: &Peer,
        trace: Arc<trace::ExecutionTrace>,
    ) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let ctx = RequestContext::new(peer.clone());
        let _ = ctx.trace.set(trace);
        self.serve(request, ctx).await
    }

    /// TestInvokeAuthorizer: routes `request` and runs its method's authorizer once,
    /// uncached, writing the execution log into `trace`.
    pub async fn test_authorizer<B>(
        &self,
        request: Request<B>,
        peer: &Peer,
        trace: Arc<trace::ExecutionTrace>,
    ) -> Result<authorize::TestOutcome, GatewayError> {
        let (parts, _) = request.into_parts();
        let ctx = RequestContext::new(peer.clone());
        let _ = ctx.trace.set(trace);
        let (routed, iam) = {
            let state = self.state.load();
            let Target::Invoke {
                api_id,
                stage,
                path_start,
                custom_domain,
            } = route::classify(&parts, &self.domain_suffix, &state.domains)
            else {
                return Err(GatewayError::Forbidden);
            };
            let routed = route::route(&state, api_id, stage, &parts, path_start, custom_domain)?;
            (routed, Arc::clone(&state.iam))
        };
        Ok(authorize::test_invoke(
            &self.authorizers,
            &authorize::Request {
                ctx: &ctx,
                routed: &routed,
                parts: &parts,
                client: &self.client,
                functions: self.functions.as_ref(),
                iam: &iam,
                body_sha256: "",
            },
        )
        .await)
    }

    async fn serve<B>(&self, request: Request<B>, ctx: RequestContext) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        // Timing is for the hook: without one, no clock is read.
        let started = self.end.as_ref().map(|_| {
            (
                Instant::now(),
                request.method().clone(),
                RequestFacts::of(&request),
            )
        });
        let mut scope = gateway_response::ErrorScope::default();
        let mut integration_latency = None;
        let mut cache_outcome = None;
        let (mut response, error) = match self
            .process(
                request,
                &ctx,
                &mut scope,
                &mut integration_latency,
                &mut cache_outcome,
            )
            .await
        {
            Ok(response) => (response, None),
            Err(error) => {
                if error.is_integration_error() {
                    log_integration_error(&error, &ctx, &scope);
                } else {
                    tracing::debug!(request_id = ctx.request_id_str(), %error, "gateway error");
                }
                ctx.log(|| error.execution_log_line());
                let rendered = if scope.http_api {
                    gateway_response::render_http_api(&error)
                } else {
                    gateway_response::render(&error, &ctx, &scope)
                };
                (rendered, Some(error))
            }
        };
        let headers = response.headers_mut();
        if scope.http_api {
            // HTTP APIs name the request by its extended id only.
            headers.insert(
                APIGW_REQUEST_ID.clone(),
                ctx.extended_request_id().header_value(),
            );
            let cors = scope
                .stage
                .as_ref()
                .and_then(|s| s.http.as_ref()?.cors.as_ref());
            // With a CORS configuration the gateway's headers replace the integration's:
            // none at all for a request without an allowed Origin.
            if let Some(cors) = cors {
                match scope.cors_origin.take() {
                    _ if scope.cors_preflight => {}
                    Some(origin) => cors.decorate(origin, headers),
                    None => cors.strip(headers),
                }
            }
        } else {
            headers.insert(X_AMZN_REQUEST_ID.clone(), ctx.request_id.clone());
            headers.insert(
                X_AMZ_APIGW_ID.clone(),
                ctx.extended_request_id().header_value(),
            );
        }
        if let Some(spans) = ctx.spans.get() {
            self.finish_trace(spans, &ctx, &scope, response.status());
        }
        if let Some(trace) = ctx.trace.get().filter(|t| t.framed) {
            log_completion(trace, &response);
        }
        if let (Some(end), Some((started, method, facts))) = (&self.end, started) {
            let response_length = http_body::Body::size_hint(response.body()).exact();
            end.request_end(&RequestSummary {
                ctx: &ctx,
                http_method: &method,
                stage: scope.stage.as_deref(),
                method: scope.method.as_deref(),
                status: response.status(),
                error: error.as_ref(),
                integration_latency,
                latency: started.elapsed(),
                request: &facts,
                response_length,
                cache: cache_outcome,
            });
        }
        response
    }

    /// Hands a sampled request's spans to the tracer's sink.
    #[cold]
    fn finish_trace(
        &self,
        spans: &spans::RequestSpans,
        ctx: &RequestContext,
        scope: &gateway_response::ErrorScope,
        status: http::StatusCode,
    ) {
        if let (true, Some(tracer), Some(stage)) =
            (spans.sampled, &self.tracer, scope.stage.as_deref())
        {
            tracer.sink.finish(&spans::FinishedTrace {
                spans,
                ctx,
                http_method: &spans.http_method,
                stage,
                method: scope.method.as_deref(),
                status,
                end: std::time::SystemTime::now(),
            });
        }
    }

    async fn process<B>(
        &self,
        request: Request<B>,
        ctx: &RequestContext,
        scope: &mut gateway_response::ErrorScope,
        integration_latency: &mut Option<std::time::Duration>,
        cache_outcome: &mut Option<cache::Outcome>,
    ) -> Result<Response<Body>, GatewayError>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = request.into_parts();
        let state = self.state.load();
        // HTTP API stages refuse dot segments (400) where REST stages resolve them. One
        // scan of the path; only a path that holds one is classified and resolved.
        let dotted = route::has_dot_segments(parts.uri.path());
        let normalized = match dotted {
            true => route::normalize_dot_segments(&mut parts, &self.domain_suffix, &state.domains),
            false => Ok(()),
        };
        if let Err(error) = normalized {
            if let Target::Invoke { api_id, .. } =
                route::classify(&parts, &self.domain_suffix, &state.domains)
            {
                scope.http_api = state.is_http_api(api_id);
            }
            return Err(error);
        }
        let (routed, usage, account, iam) =
            match route::classify(&parts, &self.domain_suffix, &state.domains) {
                Target::Invoke {
                    api_id,
                    stage,
                    path_start,
                    custom_domain,
                } => {
                    let (stage, path_start) = match route::resolve_stage(
                        &state,
                        api_id,
                        stage,
                        parts.uri.path(),
                        path_start,
                        custom_domain,
                    ) {
                        Ok(found) => found,
                        Err(error) => {
                            scope.http_api = state.is_http_api(api_id);
                            if let Some(stage) = state.stage(api_id, stage) {
                                scope.observe(stage, None, &parts);
                            }
                            return Err(error);
                        }
                    };
                    if let Some(http) = &stage.http {
                        scope.http_api = true;
                        if dotted {
                            scope.observe(stage, None, &parts);
                            return Err(GatewayError::BadRequest(
                                "an HTTP API request path cannot hold dot segments",
                            ));
                        }
                        if let Some(cors) = &http.cors {
                            if let Some(origin) = parts.headers.get(http::header::ORIGIN) {
                                scope.cors_origin = cors.allow_origin(origin);
                            }
                            // The gateway answers preflights itself, route or not.
                            if compile::http_api::is_preflight(&parts) {
                                scope.observe(stage, None, &parts);
                                scope.cors_preflight = true;
                                return Ok(cors.preflight(scope.cors_origin.take()));
                            }
                        }
                    }
                    let routed = match route::method(stage, &parts, path_start) {
                        Ok(routed) => routed,
                        Err(error) => {
                            scope.observe(stage, None, &parts);
                            return Err(error);
                        }
                    };
                    scope.observe(&routed.stage, Some(&routed), &parts);
                    if let Some(id) = &routed.stage.client_certificate_id {
                        if let Some(identity) = state.client_identities.get(id) {
                            let _ = ctx.backend_identity.set(Arc::clone(identity));
                        }
                    }
                    if routed.method.logging.level == LogLevel::Info {
                        // Ignored when TestInvokeMethod attached its own trace first.
                        let trace = Arc::new(trace::ExecutionTrace::for_node(
                            routed.method.logging.data_trace,
                        ));
                        trace.push(trace::lines::extended_request_id(
                            ctx.extended_request_id().as_str(),
                        ));
                        let _ = ctx.trace.set(trace);
                    }
                    if routed.stage.tracing_enabled {
                        if let Some(tracer) = &self.tracer {
                            let _ = ctx.spans.set(Box::new(spans::RequestSpans::start(
                                &parts.headers,
                                &parts.method,
                                &tracer.sampler,
                            )));
                        }
                    }
                    (
                        routed,
                        Arc::clone(&state.usage),
                        state.account,
                        Arc::clone(&state.iam),
                    )
                }
                Target::Other => {
                    return self
                        .local
                        .as_ref()
                        .and_then(|local| local(parts.uri.path(), &self.state))
                        .ok_or(GatewayError::Forbidden);
                }
            };
        // The state is read per request, never held across an await.
        drop(state);
        if declared_length(&parts.headers).is_some_and(|len| len > MAX_PAYLOAD) {
            return Err(GatewayError::RequestTooLarge);
        }
        let mut body = Body::limited(body);
        if routed.method.guarded {
            // A signature covers the body: AWS_IAM methods read it whole first.
            let mut body_sha256 = String::new();
            if matches!(routed.method.authorization, Authorization::Iam) {
                let bytes = phases::read_body(body).await?;
                body_sha256 = apigw_sigv4::canonical::sha256_hex(&bytes);
                body = Body::full(bytes);
            }
            let span = ctx.span_start();
            let authorized = authorize::authorize(
                &self.authorizers,
                &authorize::Request {
                    ctx,
                    routed: &routed,
                    parts: &parts,
                    client: &self.client,
                    functions: self.functions.as_ref(),
                    iam: &iam,
                    body_sha256: &body_sha256,
                },
            )
            .await;
            ctx.span_end(spans::Child::Authorizer, span, authorized.is_err());
            authorized?;
        }
        let key = if routed.method.api_key_required {
            let key = api_key::identify(
                &usage,
                &routed.stage,
                &parts.headers,
                ctx,
                parts.method.as_str(),
                &routed.method.resource_path,
            )?;
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
        // A child span only when there is something to check (usually a Redis round trip).
        let span = if admission.is_empty() {
            None
        } else {
            ctx.span_start()
        };
        let admitted = throttle::check(&*self.limiter, &admission).await;
        ctx.span_end(spans::Child::Limits, span, admitted.is_err());
        admitted?;
        if let Some(trace) = ctx.trace.get().filter(|t| t.framed) {
            body = log_method_request(trace, ctx, &routed, &parts, key.is_some(), body).await?;
        }
        let body = match &routed.method.validation {
            Some(validation) => validate::check(validation, &routed, &parts, body).await?,
            None => body,
        };
        // The stage cache: after admission (a hit still counts), before the integration.
        // `false`: no canary split yet; the canary's must say whether it chose the canary.
        let cache = match (&self.cache, cache::applies(&routed, routed.stage.is_canary)) {
            (Some(store), Some(method)) => {
                let plan = cache::plan(method, ctx, &routed, &parts)?;
                if let Some(hit) = store.lookup(&plan).await {
                    ctx.log(|| "Sending the response from the stage cache".into());
                    *cache_outcome = Some(cache::Outcome::Hit);
                    return Ok(hit);
                }
                *cache_outcome = Some(cache::Outcome::Miss);
                Some((store, plan))
            }
            _ => None,
        };
        let integration_started = self.end.as_ref().map(|_| Instant::now());
        if let Some(spans) = ctx.spans.get() {
            match routed.method.integration {
                // It sends headers of its own making (phases/integration/http.rs); the
                // client's stay as they came, for its mappings to read.
                compile::Integration::Http(_) => {}
                // The client's headers go on: its trace headers are replaced, in the head
                // the backend client writes (`RequestContext::trace_head`), or in the map
                // when the execution log shows the endpoint request's headers.
                compile::Integration::HttpProxy(_) => {
                    spans.prepare(&mut parts.headers, ctx.logging())
                }
                // Function events carry them.
                _ => spans.inject(&mut parts.headers),
            }
        }
        let span = ctx.span_start();
        let result = integration::invoke(
            &self.client,
            self.functions.as_ref(),
            ctx,
            &routed,
            parts,
            body,
        )
        .await;
        *integration_latency = integration_started.map(|at| at.elapsed());
        ctx.span_end(spans::Child::Integration, span, result.is_err());
        match (result, cache) {
            (Ok(response), Some((store, plan))) => Ok(store.keep(plan, response)),
            (result, _) => result,
        }
    }
}

/// The lines a node's execution log (INFO) writes once the request is admitted: the
/// usage plan's verdict, then the method request (its headers and body with a data
/// trace, the body then read whole to be shown).
#[cold]
async fn log_method_request(
    trace: &trace::ExecutionTrace,
    ctx: &RequestContext,
    routed: &route::Routed,
    parts: &http::request::Parts,
    keyed: bool,
    body: Body,
) -> Result<Body, GatewayError> {
    use trace::lines;
    let id = ctx.request_id_str();
    let method = &routed.method;
    let api_stage = format!("{}/{}", routed.stage.api_id, routed.stage.stage_name);
    let usage = if keyed {
        let key = parts
            .headers
            .get(api_key::X_API_KEY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                ctx.authorizer
                    .get()
                    .and_then(|a| a.usage_identifier_key.as_deref().map(str::to_owned))
            })
            .unwrap_or_default();
        lines::usage_plan_with_key(
            id,
            &trace::mask(&key),
            &api_stage,
            parts.method.as_str(),
            &method.resource_path,
        )
    } else {
        lines::usage_plan_without_key(id, &api_stage, parts.method.as_str(), &method.resource_path)
    };
    for line in usage {
        trace.push(line);
    }
    trace.push(lines::starting(id));
    trace.push(lines::method(parts.method.as_str(), &method.resource_path));
    let stage_path = routed.stage_path(parts.uri.path());
    let path_params: Vec<(&str, std::borrow::Cow<'_, str>)> = routed
        .method
        .template_scope
        .param_names
        .iter()
        .zip(&routed.captures)
        .map(|(name, capture)| (&**name, compile::mapping::decode(capture.of(stage_path))))
        .collect();
    trace.push(lines::request_path(&trace::java_map(
        path_params.iter().map(|(k, v)| (*k, v.as_ref())),
    )));
    let query: std::collections::BTreeMap<_, _> =
        query::pairs(parts.uri.query().unwrap_or("")).collect();
    trace.push(lines::request_query(&trace::java_map(
        query.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
    )));
    if !trace.data {
        return Ok(body);
    }
    trace.push(lines::request_headers(&trace::header_map(&parts.headers)));
    let bytes = phases::read_body(body).await?;
    trace.push(lines::request_body(&trace::body_text(&bytes)));
    Ok(if bytes.is_empty() {
        Body::Empty
    } else {
        Body::full(bytes)
    })
}

/// The last lines of a node's execution log: the method response (with a data trace,
/// when its body was buffered) and the outcome.
#[cold]
fn log_completion(trace: &trace::ExecutionTrace, response: &Response<Body>) {
    use trace::lines;
    if trace.data {
        if let Body::Full(bytes) = response.body() {
            let body: &[u8] = bytes.as_deref().unwrap_or_default();
            trace.push(lines::response_body(&trace::body_text(body)));
        }
        trace.push(lines::response_headers(&trace::header_map(
            response.headers(),
        )));
    }
    for line in lines::completed(response.status().as_u16()) {
        trace.push(line);
    }
}

/// A backend failure (502) or timeout (504) is the operator's business, not only the
/// client's: one warning line naming the request, its API, stage and method, and why.
#[cold]
fn log_integration_error(
    error: &GatewayError,
    ctx: &RequestContext,
    scope: &gateway_response::ErrorScope,
) {
    let (api, stage) = scope
        .stage
        .as_deref()
        .map_or(("", ""), |s| (&*s.api_id, &*s.stage_name));
    let resource = scope.method.as_deref().map_or("", |m| &*m.resource_path);
    tracing::warn!(
        request_id = ctx.request_id_str(),
        api,
        stage,
        resource,
        status = error.builtin().status.as_u16(),
        %error,
        "integration failed"
    );
}

/// The authorizer state of gateways that were given none (TestInvokeMethod's, which
/// bypass authorization): one per process, so building a gateway allocates no caches.
fn default_authorizers() -> &'static Arc<Authorizers> {
    static DEFAULT: std::sync::OnceLock<Arc<Authorizers>> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(Arc::default)
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

#[cfg(test)]
mod tests {
    //! The engine as a library: one MOCK method served from a buffered request, and the
    //! end-of-request hook seeing every request once.

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use apigw_proto::config::{self as pb, ConfigUpdate, StageConfig};
    use apigw_proto::SNAPSHOT_FORMAT_VERSION;
    use http_body_util::{BodyExt, Full};

    use super::*;

    /// Status, error type, whether an integration latency (within the whole) was given,
    /// and the resource path, of one finished request.
    type Seen = (u16, Option<&'static str>, bool, String);

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Seen>>);

    impl RequestEnd for Recorder {
        fn request_end(&self, s: &RequestSummary<'_>) {
            let error = s.error.map(|e| e.builtin().error_type);
            let path = s
                .method
                .map(|m| m.resource_path.to_string())
                .unwrap_or_default();
            let integrated = s.integration_latency.is_some_and(|d| d <= s.latency);
            self.0
                .lock()
                .unwrap()
                .push((s.status.as_u16(), error, integrated, path));
        }
    }

    fn gateway(hook: Arc<Recorder>) -> Gateway {
        let mock = pb::Integration {
            r#type: "MOCK".into(),
            request_templates: BTreeMap::from([(
                "application/json".into(),
                "{\"statusCode\": 200}".into(),
            )]),
            integration_responses: vec![pb::IntegrationResponse {
                status_code: "200".into(),
                response_templates: BTreeMap::from([(
                    "application/json".into(),
                    "{\"q\": \"$input.params('q')\"}".into(),
                )]),
                ..Default::default()
            }],
            ..Default::default()
        };
        let stage = StageConfig {
            api_id: "api1".into(),
            stage_name: "prod".into(),
            deployment_id: "dep1".into(),
            deployment: Some(pb::DeploymentSnapshot {
                api_id: "api1".into(),
                format_version: SNAPSHOT_FORMAT_VERSION,
                resources: vec![pb::Resource {
                    id: "r1".into(),
                    path: "/pets".into(),
                    methods: vec![pb::Method {
                        http_method: "GET".into(),
                        integration: Some(mock),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let update = ConfigUpdate {
            full: true,
            upsert_stages: vec![stage],
            ..Default::default()
        };
        let state = Arc::new(SharedState::new());
        state.store(state::apply_update(&state::GatewayState::default(), &update).unwrap());
        Gateway::new(state, backend_client::build(), "example.test").with_end_hook(hook)
    }

    fn request(path: &str) -> Request<Full<Bytes>> {
        Request::builder()
            .uri(path)
            .header("host", "api1.example.test")
            .body(Full::new(Bytes::new()))
            .unwrap()
    }

    #[tokio::test]
    async fn serves_buffered_requests_and_calls_the_end_hook_once_each() {
        let hook = Arc::new(Recorder::default());
        let gateway = gateway(Arc::clone(&hook));
        let peer = Peer::from(std::net::IpAddr::from([127, 0, 0, 1]));

        let ok = gateway.handle(request("/prod/pets?q=a+b&q=c"), &peer).await;
        assert_eq!(ok.status(), 200);
        assert!(ok.headers().contains_key("x-amzn-requestid"));
        let body = ok.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"q": "c"}"#);

        let missing = gateway.handle(request("/prod/nowhere"), &peer).await;
        assert_eq!(missing.status(), 403);

        let recorded = hook.0.lock().unwrap().clone();
        assert_eq!(
            recorded,
            [
                (200, None, true, "/pets".to_string()),
                (
                    403,
                    Some("MissingAuthenticationTokenException"),
                    false,
                    String::new()
                ),
            ]
        );
    }
}
