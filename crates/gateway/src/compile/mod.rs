//! The compiled model: a `StageConfig` (with its `DeploymentSnapshot`) turned into the form the
//! hot path uses — a route trie of methods whose integrations hold pre-parsed URIs,
//! mappings, selection regexes and ready-to-send bodies.
//!
//! Everything that can be wrong with a deployment is found here, at config-apply time, and
//! reported as a [`CompileError`] (the node then NACKs and keeps its last good state).

pub mod authorizer;
pub mod cache;
pub mod check;
pub mod domain;
pub mod function;
pub mod gateway_responses;
pub mod http_api;
pub mod mapping;
pub mod route_trie;
pub mod selection;
pub mod selection_expression;
pub mod template;
pub mod uri_template;
pub mod usage;
pub mod validation;
pub mod websocket;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config::{self as pb, StageConfig};
use apigw_proto::SNAPSHOT_FORMAT_VERSION;
use http::header::HeaderName;
use http::{Method, StatusCode};

use mapping::{
    parse_response_target, MappingError, RequestMapping, RequestTarget, ResponseSource,
    SourceScope, ValueSource,
};
use route_trie::{param_names, RouteError, RouteTrie};
use selection::ResponseSelector;
use template::{MappingTemplate, ResponseTemplates, TemplateError, TemplateScope};
use uri_template::{substitute_stage_variables, UriError, UriTemplate};

pub use crate::phases::end::HookSlot;

/// The integration timeout when none is configured (API Gateway's maximum, 29 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(29_000);

/// The content type assumed when a request has none (API Gateway's default).
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// A stage that could not be compiled, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("stage {api_id}/{stage}: {at}: {kind}")]
pub struct CompileError {
    /// The API of the stage.
    pub api_id: String,
    /// The stage name.
    pub stage: String,
    /// The resource/method/element concerned.
    pub at: String,
    /// What is wrong (boxed: keeps `Result`s small).
    pub kind: Box<CompileErrorKind>,
}

/// What is wrong with a stage's deployment.
#[derive(Debug, thiserror::Error)]
pub enum CompileErrorKind {
    /// The snapshot was produced by a newer control plane than this node understands.
    #[error("snapshot format_version {found} is newer than supported {supported}")]
    UnsupportedFormat {
        /// The snapshot's format.
        found: u32,
        /// [`SNAPSHOT_FORMAT_VERSION`].
        supported: u32,
    },
    /// A custom domain's certificate, key or truststore is unusable.
    #[error(transparent)]
    Domain(#[from] domain::DomainError),
    /// The stage carries no deployment snapshot.
    #[error("missing deployment snapshot")]
    MissingSnapshot,
    /// The resource tree is inconsistent.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// A WebSocket stage's definition is unusable (`websocket`).
    #[error("{0}")]
    WebSocket(String),
    /// Not an HTTP method (nor `ANY`).
    #[error("invalid HTTP method {0:?}")]
    Method(String),
    /// The same method appears twice on a resource.
    #[error("duplicate method {0}")]
    DuplicateMethod(String),
    /// The integration URI is unusable.
    #[error("integration uri {uri:?}: {source}")]
    Uri {
        /// The URI after stage-variable substitution.
        uri: String,
        /// Why it was rejected.
        source: UriError,
        /// Whether stage variables were substituted into it: then the stage's variables,
        /// not the deployment, are at fault, and only this method fails (at call time).
        from_stage_variables: bool,
    },
    /// A parameter mapping expression is invalid.
    #[error("mapping {target:?}: {source}")]
    Mapping {
        /// The mapping's target expression.
        target: String,
        /// Why it was rejected.
        source: MappingError,
    },
    /// A `selectionPattern` is not a valid regex.
    #[error("selection pattern: {0}")]
    SelectionPattern(#[from] fancy_regex::Error),
    /// An integration response's `statusCode` is not an HTTP status.
    #[error("invalid status code {0:?}")]
    StatusCode(String),
    /// A mapping template does not parse (the control plane rejects these when saved;
    /// this guards snapshots from elsewhere).
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A customised gateway response is unusable.
    #[error(transparent)]
    GatewayResponse(#[from] gateway_responses::GatewayResponseError),
    /// A model or request validator is unusable.
    #[error(transparent)]
    Validation(#[from] validation::ValidationCompileError),
    /// A function integration URI is unusable.
    #[error("integration uri: {0}")]
    FunctionUri(#[from] function::FunctionUriError),
    /// An authorizer is unusable.
    #[error("authorizer: {0}")]
    Authorizer(#[from] authorizer::AuthorizerError),
    /// The resource policy is unusable.
    #[error("resource policy: {0}")]
    Policy(apigw_iam_policy::PolicyError),
    /// A method names an authorizer the deployment does not have, or one of the wrong
    /// type for its authorization type.
    #[error("authorizer {0:?}: unknown, or not usable with this authorization type")]
    UnknownAuthorizer(String),
    /// A stage's encoded `StageConfig` (a node decodes the stages of an update one at a
    /// time, while compiling them) is not a valid message.
    #[error("does not decode: {0}")]
    Decode(#[from] prost::DecodeError),
}

/// A stage ready to serve: its routes and the identity used in errors and logs.
#[derive(Debug)]
pub struct CompiledStage {
    /// The API id.
    pub api_id: Box<str>,
    /// The stage name.
    pub stage_name: Box<str>,
    /// The deployment the stage points at.
    pub deployment_id: Box<str>,
    /// Resource paths → methods.
    pub routes: RouteTrie<ResourceMethods>,
    /// Whether API keys come from the `x-api-key` header (`apiKeySource` HEADER); with
    /// AUTHORIZER they come from an authorizer, which this node does not run yet.
    pub api_key_from_header: bool,
    /// `disableExecuteApiEndpoint`: the default invoke URLs answer 403 Forbidden (only
    /// custom domain names, a later feature, would serve the API).
    pub execute_api_disabled: bool,
    /// The API's customised gateway responses, compiled.
    pub gateway_responses: gateway_responses::GatewayResponses,
    /// `$stageVariables` for gateway response templates of requests that matched no method.
    pub stage_variables: Arc<std::collections::BTreeMap<String, String>>,
    /// The deployment's authorizers (TestInvokeAuthorizer runs them by id).
    pub authorizers: Vec<Arc<authorizer::CompiledAuthorizer>>,
    /// The RestApi's resource policy, compiled.
    pub policy: Option<apigw_iam_policy::Policy>,
    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/`: method ARNs start so.
    pub arn_prefix: Box<str>,
    /// The account id (`requestContext.accountId` of authorizer events).
    pub account_id: Box<str>,
    /// FlushStageAuthorizersCache's epoch, part of every authorizer cache key.
    pub authorizer_epoch: u64,
    /// The API's name when it was deployed (CloudWatch's `ApiName` dimension).
    pub api_name: Box<str>,
    /// What the node's end-of-request hook attaches to this stage when the config is
    /// applied (its metrics series handle), so a request finds it without a lookup.
    pub hook_slot: HookSlot,
    /// `tracingEnabled`: requests get a distributed trace ([`crate::spans`]).
    pub tracing_enabled: bool,
    /// `clientCertificateId`: HTTP integrations present it to HTTPS backends.
    pub client_certificate_id: Option<Box<str>>,
    /// Access logging (`accessLogSettings`) and the names every log line of the stage
    /// carries.
    pub logging: StageLogging,
    /// The stage's canary release, when it has one (never on a canary itself).
    pub canary: Option<Canary>,
    /// Whether this is a canary's deployment: its requests are told apart in metrics
    /// (`Stage` dimension `{stage}/Canary`) and logs. Everything keyed by the stage (API
    /// keys, usage plans, throttle buckets, quotas, usage records, authorizer caches) uses
    /// the same stage name as the stage's own deployment, so both count alike.
    pub is_canary: bool,
    /// The canary's `useStageCache`: whether requests the canary serves read and write the
    /// stage cache ([`crate::phases::cache::applies`]).
    pub canary_uses_cache: bool,
    /// An HTTP API's stage (`protocolType: HTTP`): the flavour marker, with what HTTP
    /// APIs have besides routes (the `$default` route, CORS). `None` for REST stages.
    pub http: Option<Box<http_api::HttpApiStage>>,
}

/// A stage's logging, resolved once per config: the compiled access-log format (none
/// when the stage has no usable `accessLogSettings`) and the shared names its lines carry.
#[derive(Debug)]
pub struct StageLogging {
    /// The compiled `accessLogSettings.format`.
    pub access: Option<crate::access_log::AccessLogFormat>,
    /// The log group `accessLogSettings.destinationArn` names.
    pub access_group: Arc<str>,
    /// `API-Gateway-Execution-Logs_{apiId}/{stage}`.
    pub execution_group: Arc<str>,
    /// For the canary's requests, `API-Gateway-Execution-Logs_{apiId}/{stage}/Canary`:
    /// API Gateway writes their execution logs to the stage's group and to this one.
    pub canary_execution_group: Option<Arc<str>>,
    /// The API id, shared by every line.
    pub api_id: Arc<str>,
    /// The stage name, shared by every line.
    pub stage: Arc<str>,
}

impl StageLogging {
    fn compile(stage: &StageConfig, is_canary: bool) -> StageLogging {
        let access = stage.access_log.as_ref().and_then(|settings| {
            let group = crate::access_log::log_group_name(&settings.destination_arn);
            match (
                group,
                crate::access_log::AccessLogFormat::compile(&settings.format),
            ) {
                (Some(group), Ok(format)) => Some((format, group)),
                (None, _) => {
                    tracing::warn!(api = %stage.api_id, stage = %stage.stage_name, arn = %settings.destination_arn, "access logging off: the destination is not a log group ARN");
                    None
                }
                (_, Err(error)) => {
                    tracing::warn!(api = %stage.api_id, stage = %stage.stage_name, %error, "access logging off");
                    None
                }
            }
        });
        let (access, access_group) = match access {
            Some((format, group)) => (Some(format), Arc::from(group)),
            None => (None, Arc::from("")),
        };
        StageLogging {
            access,
            access_group,
            execution_group: crate::access_log::execution_log_group(
                &stage.api_id,
                &stage.stage_name,
            )
            .into(),
            canary_execution_group: is_canary.then(|| {
                format!(
                    "{}/Canary",
                    crate::access_log::execution_log_group(&stage.api_id, &stage.stage_name)
                )
                .into()
            }),
            api_id: stage.api_id.as_str().into(),
            stage: stage.stage_name.as_str().into(),
        }
    }
}

/// A method's execution logging (`logging/loglevel`, `logging/dataTrace`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MethodLogging {
    /// The level.
    pub level: LogLevel,
    /// Headers and bodies are logged (INFO only).
    pub data_trace: bool,
}

/// `logging/loglevel`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogLevel {
    /// No execution log.
    #[default]
    Off,
    /// Failed requests only.
    Error,
    /// Every phase of every request.
    Info,
}

/// A stage's canary release: the share of the stage's requests its deployment serves.
#[derive(Debug)]
pub struct Canary {
    /// `percentTraffic` / 100: the probability that a request goes to the canary.
    pub share: f64,
    /// `useStageCache`: whether canary requests read and write the stage cache.
    pub use_stage_cache: bool,
    /// The canary's deployment, compiled with the stage's variables and its overrides.
    pub stage: Arc<CompiledStage>,
}

impl CompiledStage {
    /// The compiled deployment serving one request of this stage: the canary's with
    /// probability `percentTraffic`, else the stage's own. One draw of the thread's random
    /// generator: no lock, no allocation.
    #[inline]
    pub fn pick(self: &Arc<Self>) -> &Arc<CompiledStage> {
        match &self.canary {
            Some(canary) if canary.share > 0.0 && fastrand::f64() < canary.share => &canary.stage,
            _ => self,
        }
    }

    /// This stage and its canary's deployment, if any (for hooks attaching to both).
    pub fn variants(&self) -> impl Iterator<Item = &CompiledStage> {
        std::iter::once(self).chain(self.canary.as_ref().map(|c| &*c.stage))
    }
}

/// The methods of one resource.
#[derive(Debug, Default)]
pub struct ResourceMethods {
    methods: Vec<(Method, Arc<CompiledMethod>)>,
    any: Option<Arc<CompiledMethod>>,
}

impl ResourceMethods {
    /// Every method of the resource (`ANY` last).
    pub fn iter(&self) -> impl Iterator<Item = &Arc<CompiledMethod>> {
        self.methods
            .iter()
            .map(|(_, compiled)| compiled)
            .chain(self.any.as_ref())
    }

    /// Gives back the room the methods' list grew by (compile time).
    pub fn shrink_to_fit(&mut self) {
        self.methods.shrink_to_fit();
    }

    /// The method for an incoming request: exact match first, then `ANY`.
    pub fn get(&self, method: &Method) -> Option<&Arc<CompiledMethod>> {
        self.methods
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, compiled)| compiled)
            .or(self.any.as_ref())
    }
}

/// One method of a resource, as the pipeline needs it.
#[derive(Debug)]
pub struct CompiledMethod {
    /// The resource path (`/pets/{id}`), for context variables and logs.
    pub resource_path: Box<str>,
    /// The declared method (`GET`, `ANY`, ...).
    pub http_method: Box<str>,
    /// Whether callers must present an API key (`apiKeyRequired`).
    pub api_key_required: bool,
    /// How callers are authenticated and authorized.
    pub authorization: authorizer::Authorization,
    /// Whether the authorization phase has anything to do: the method has an authorization
    /// type other than NONE, or the stage's API has a resource policy.
    pub guarded: bool,
    /// `/{resourcePath}/{METHOD}`: the key of usage-plan per-method throttles.
    pub method_key: Box<str>,
    /// The stage's throttle for this method (`{path}/{METHOD}` setting, else `*/*`), with
    /// its bucket's Redis name `b:s:{api}:{stage}:{/path/METHOD}`, built once here.
    pub stage_throttle: Option<crate::limits::NamedLimit>,
    /// What the method calls.
    pub integration: Integration,
    /// What mapping templates of this method see besides the request itself.
    pub template_scope: Arc<TemplateScope>,
    /// Request validation (required parameters, body model), when a validator applies.
    pub validation: Option<Arc<validation::MethodValidation>>,
    /// Detailed (per-method) metrics: the stage's `{path}/{METHOD}` method setting's
    /// `metricsEnabled`, else its `*/*` one's.
    pub metrics_enabled: bool,
    /// Execution logging: the stage's `{path}/{METHOD}` method setting's
    /// `logging/loglevel` and `logging/dataTrace`, else its `*/*` one's.
    pub logging: MethodLogging,
    /// What the node's end-of-request hook attaches to this method at config-apply time.
    pub hook_slot: HookSlot,
    /// The stage cache's settings for this method, when its responses are cached.
    pub cache: Option<Arc<cache::MethodCache>>,
    /// An HTTP API's route key (`GET /pets/{id}`, `$default`); `None` for REST methods.
    pub route_key: Option<Box<str>>,
}

/// A compiled integration, by type.
#[derive(Debug)]
pub enum Integration {
    /// `MOCK`: answered by the gateway itself.
    Mock(MockIntegration),
    /// `HTTP`: a backend call with mappings and integration responses.
    ///
    /// The calling variants are boxed: unboxed, every method (MOCK ones too) took the
    /// size of the largest, ~400 bytes (issue 22's memory per API).
    Http(Box<HttpIntegration>),
    /// `HTTP_PROXY`: the request and response pass through.
    HttpProxy(Box<HttpIntegration>),
    /// `AWS` with a Lambda function URI: templates, invocation, integration responses
    /// selected by the function's error message.
    Function(Box<function::FunctionIntegration>),
    /// `AWS_PROXY` with a Lambda function URI: the proxy event in, the proxy result out.
    FunctionProxy(Box<function::FunctionIntegration>),
    /// A type this node does not run (e.g. `AWS` with a service other than Lambda):
    /// answered with a 500.
    Unsupported(Box<str>),
    /// The method has no integration: answered with a 500, as API Gateway does.
    Missing,
    /// An HTTP API's `HTTP_PROXY`: v2 parameter mapping and response parameters.
    HttpApiProxy(Box<http_api::HttpApiProxy>),
    /// An HTTP API's `AWS_PROXY` (payload format 1.0 or 2.0) with response parameters.
    HttpApiFunction(Box<http_api::HttpApiFunction>),
    /// The integration cannot be called with this stage's variables (e.g. they make the
    /// URI invalid): answered with a 500 at call time, as API Gateway does, while the
    /// stage's other methods keep working.
    Misconfigured(Box<str>),
}

/// How a request body is treated when no template matches (`passthroughBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    /// Pass the body through when no template matches the content type (the default).
    WhenNoMatch,
    /// Pass through only when the integration has no templates at all.
    WhenNoTemplates,
    /// Never pass through: 415 without a matching template.
    Never,
}

/// The outcome of choosing a request template for a content type.
#[derive(Debug, PartialEq, Eq)]
pub enum TemplateChoice<'a, T> {
    /// A template exists for the content type.
    Template(&'a T),
    /// No template applies; the body passes through.
    Passthrough,
    /// No template applies and passthrough is not allowed: 415.
    Unsupported,
}

/// Request templates keyed by content type, plus the passthrough rule.
#[derive(Debug)]
pub struct RequestTemplates<T> {
    /// (lowercase content type, compiled template), sorted by content type.
    entries: Box<[(Box<str>, T)]>,
    passthrough: Passthrough,
}

impl<T> RequestTemplates<T> {
    /// Chooses by the request's media type (`None` = no Content-Type header).
    pub fn choose(&self, media_type: Option<&str>) -> TemplateChoice<'_, T> {
        let wanted = media_type.unwrap_or(DEFAULT_CONTENT_TYPE);
        if let Some((_, t)) = self
            .entries
            .iter()
            .find(|(ct, _)| ct.eq_ignore_ascii_case(wanted))
        {
            return TemplateChoice::Template(t);
        }
        match (self.entries.is_empty(), self.passthrough) {
            (_, Passthrough::Never) => TemplateChoice::Unsupported,
            (true, _) | (false, Passthrough::WhenNoMatch) => TemplateChoice::Passthrough,
            (false, Passthrough::WhenNoTemplates) => TemplateChoice::Unsupported,
        }
    }
}

/// A compiled integration response.
#[derive(Debug)]
pub struct IntegrationResponse {
    /// The method response status it produces.
    pub status: StatusCode,
    /// `method.response.header.X` ← source.
    pub headers: Vec<(HeaderName, ResponseSource)>,
    /// Response templates by content type (empty: the body passes through).
    pub templates: ResponseTemplates,
    /// Whether a header mapping reads the integration's body (which must then be buffered).
    pub needs_body: bool,
    /// `contentHandling`: base64 conversion of the integration's body (HTTP responses and
    /// function results).
    pub content_handling: function::ContentHandling,
}

/// The integration responses of an integration and how to choose one.
#[derive(Debug, Default)]
pub struct IntegrationResponses {
    responses: Box<[IntegrationResponse]>,
    selector: ResponseSelector,
}

impl IntegrationResponses {
    /// Selects by the selection key (a status code string): pattern, then default.
    pub fn select(&self, key: &str) -> Option<&IntegrationResponse> {
        self.selector
            .select(key)
            .and_then(|i| self.responses.get(i))
    }

    /// The default response (empty `selectionPattern`), if any.
    pub fn default_response(&self) -> Option<&IntegrationResponse> {
        self.selector
            .default_index()
            .and_then(|i| self.responses.get(i))
    }
}

/// A `MOCK` integration: the status each request template yields, and the responses.
#[derive(Debug)]
pub struct MockIntegration {
    /// Content type → request template, whose output's `statusCode` picks the response.
    pub templates: RequestTemplates<MappingTemplate>,
    /// The integration responses.
    pub responses: IntegrationResponses,
}

/// An `HTTP` or `HTTP_PROXY` integration.
#[derive(Debug)]
pub struct HttpIntegration {
    /// The backend method; `None` for `ANY` (use the incoming method).
    pub method: Option<Method>,
    /// The backend URI, stage variables substituted.
    pub uri: UriTemplate,
    /// For each URI slot, where its value comes from.
    pub slot_sources: Vec<ValueSource>,
    /// `integration.request.header.X` mappings.
    pub header_mappings: Vec<(HeaderName, ValueSource)>,
    /// `integration.request.querystring.X` mappings (key already encoded).
    pub query_mappings: Vec<(Box<str>, ValueSource)>,
    /// How long to wait for the backend's response headers.
    pub timeout: Duration,
    /// `tlsConfig.insecureSkipVerification`: the HTTPS backend's certificate is not verified.
    pub insecure_tls: bool,
    /// Request templates (parsed) and the passthrough rule.
    pub templates: RequestTemplates<MappingTemplate>,
    /// Integration responses (unused by `HTTP_PROXY`).
    pub responses: IntegrationResponses,
    /// `contentHandling` of the request body (`HTTP` only).
    pub content_handling: function::ContentHandling,
    /// The API's `binaryMediaTypes`, which say whether a request body is binary.
    pub binary_media_types: Arc<function::BinaryMediaTypes>,
}

/// Compiles one stage, and its canary's deployment when it has one. Pure and CPU-only:
/// callers run it off the request threads.
pub fn compile_stage(stage: &StageConfig) -> Result<CompiledStage, CompileError> {
    let mut compiled = compile_variant(
        stage,
        stage.deployment.as_ref(),
        &stage.deployment_id,
        &stage.variables,
        false,
    )?;
    if let Some(canary) = &stage.canary {
        // The canary's requests see the stage's variables with its overrides over them,
        // in `$stageVariables` and wherever stage variables are substituted (URIs, ...).
        let mut variables = stage.variables.clone();
        variables.extend(
            canary
                .stage_variable_overrides
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let variant = compile_variant(
            stage,
            canary.deployment.as_ref(),
            &canary.deployment_id,
            &variables,
            true,
        )
        .map_err(|mut e| {
            e.at = format!("canary {}: {}", canary.deployment_id, e.at);
            e
        })?;
        compiled.canary = Some(Canary {
            share: (canary.percent_traffic / 100.0).clamp(0.0, 1.0),
            use_stage_cache: canary.use_stage_cache,
            stage: Arc::new(variant),
        });
    }
    Ok(compiled)
}

/// Compiles a stage serving `snapshot` (its own deployment's, or its canary's) with
/// `variables`.
fn compile_variant(
    stage: &StageConfig,
    snapshot: Option<&pb::DeploymentSnapshot>,
    deployment_id: &str,
    variables: &BTreeMap<String, String>,
    is_canary: bool,
) -> Result<CompiledStage, CompileError> {
    let err = |at: &str, kind: CompileErrorKind| CompileError {
        api_id: stage.api_id.clone(),
        stage: stage.stage_name.clone(),
        at: at.to_owned(),
        kind: Box::new(kind),
    };
    let snapshot = snapshot.ok_or_else(|| err("deployment", CompileErrorKind::MissingSnapshot))?;
    if snapshot.format_version > SNAPSHOT_FORMAT_VERSION {
        return Err(err(
            "deployment",
            CompileErrorKind::UnsupportedFormat {
                found: snapshot.format_version,
                supported: SNAPSHOT_FORMAT_VERSION,
            },
        ));
    }
    let mut routes = RouteTrie::default();
    let stage_variables = template::stage_variables(variables);
    let models = validation::StageModels::compile(snapshot).map_err(|e| err("models", e.into()))?;
    let gateway_responses =
        gateway_responses::GatewayResponses::compile(&snapshot.gateway_responses)
            .map_err(|e| err("gatewayresponses", e.into()))?;
    let binary_media_types = Arc::new(function::BinaryMediaTypes::new(
        &snapshot.binary_media_types,
    ));
    let authorizers = snapshot
        .authorizers
        .iter()
        .map(|a| {
            authorizer::compile(a, variables, false)
                .map(Arc::new)
                .map_err(|e| err(&format!("authorizer {}", a.id), e.into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let region = if snapshot.region.is_empty() {
        "us-east-1"
    } else {
        &snapshot.region
    };
    let account_id = if snapshot.account_id.is_empty() {
        "000000000000"
    } else {
        &snapshot.account_id
    };
    let policy = match snapshot.policy.trim() {
        "" => None,
        text => Some(
            apigw_iam_policy::Policy::parse(
                text,
                &apigw_iam_policy::CompileContext {
                    region,
                    account_id,
                    api_id: &stage.api_id,
                },
            )
            .map_err(|e| err("policy", CompileErrorKind::Policy(e)))?,
        ),
    };
    let data_key = cache::DataKey::of_stage(stage);
    for resource in &snapshot.resources {
        if resource.methods.is_empty() {
            continue;
        }
        let names = param_names(&resource.path);
        let template_scope = Arc::new(TemplateScope {
            resource_id: resource.id.as_str().into(),
            param_names: names.clone(),
            stage_variables: Arc::clone(&stage_variables),
            deployment_id: deployment_id.into(),
        });
        let mut methods = ResourceMethods::default();
        for method in &resource.methods {
            let at = format!("{} {}", method.http_method, resource.path);
            let scope = SourceScope {
                param_names: &names,
                stage_variables: variables,
                api_id: &stage.api_id,
                stage: &stage.stage_name,
                resource_path: &resource.path,
                resource_id: &resource.id,
                deployment_id,
            };
            let authorization =
                authorization(method, &authorizers, &scope).map_err(|kind| err(&at, kind))?;
            let compiled = Arc::new(CompiledMethod {
                resource_path: resource.path.as_str().into(),
                http_method: method.http_method.as_str().into(),
                api_key_required: method.api_key_required,
                guarded: policy.is_some()
                    || !matches!(authorization, authorizer::Authorization::None),
                authorization,
                method_key: format!(
                    "{}/{}",
                    resource.path.trim_end_matches('/'),
                    method.http_method
                )
                .into(),
                stage_throttle: stage_throttle(stage, &resource.path, &method.http_method),
                integration: match compile_integration(
                    method.integration.as_ref(),
                    &scope,
                    variables,
                    &binary_media_types,
                ) {
                    Ok(integration) => integration,
                    Err(
                        kind @ CompileErrorKind::Uri {
                            from_stage_variables: true,
                            ..
                        },
                    ) => {
                        let reason = err(&at, kind).to_string();
                        tracing::warn!(%reason, "method unusable with this stage's variables");
                        Integration::Misconfigured(reason.into())
                    }
                    Err(kind) => return Err(err(&at, kind)),
                },
                template_scope: Arc::clone(&template_scope),
                validation: models.method(method).map_err(|e| err(&at, e.into()))?,
                metrics_enabled: method_setting(stage, &resource.path, &method.http_method)
                    .is_some_and(|s| s.metrics_enabled),
                logging: method_logging(stage, &resource.path, &method.http_method),
                hook_slot: HookSlot::default(),
                cache: cache::method_cache(
                    stage,
                    &resource.path,
                    &method.http_method,
                    method.integration.as_ref(),
                    &scope,
                    data_key.as_ref(),
                ),
                route_key: None,
            });
            add_method(&mut methods, &method.http_method, compiled)
                .map_err(|kind| err(&at, kind))?;
        }
        methods.shrink_to_fit();
        routes
            .insert(&resource.path, methods)
            .map_err(|e| err(&resource.path, e.into()))?;
    }
    routes.shrink_to_fit();
    Ok(CompiledStage {
        api_id: stage.api_id.as_str().into(),
        stage_name: stage.stage_name.as_str().into(),
        deployment_id: deployment_id.into(),
        routes,
        api_key_from_header: !snapshot.api_key_source.eq_ignore_ascii_case("AUTHORIZER"),
        execute_api_disabled: snapshot.disable_execute_api_endpoint,
        gateway_responses,
        stage_variables,
        authorizers,
        policy,
        arn_prefix: format!(
            "arn:aws:execute-api:{region}:{account_id}:{}/{}/",
            stage.api_id, stage.stage_name
        )
        .into(),
        account_id: account_id.into(),
        authorizer_epoch: stage.authorizer_cache_epoch,
        api_name: snapshot.api_name.as_str().into(),
        hook_slot: HookSlot::default(),
        tracing_enabled: stage.tracing_enabled,
        client_certificate_id: (!stage.client_certificate_id.is_empty())
            .then(|| stage.client_certificate_id.as_str().into()),
        logging: StageLogging::compile(stage, is_canary),
        canary: None,
        is_canary,
        canary_uses_cache: stage.canary.as_ref().is_some_and(|c| c.use_stage_cache),
        http: None,
    })
}

/// A method's authorization, its authorizer looked up among the deployment's.
fn authorization(
    method: &pb::Method,
    authorizers: &[Arc<authorizer::CompiledAuthorizer>],
    scope: &SourceScope<'_>,
) -> Result<authorizer::Authorization, CompileErrorKind> {
    use authorizer::{Authorization, AuthorizerKind};
    let find = || {
        authorizers
            .iter()
            .find(|a| *a.id == *method.authorizer_id)
            .ok_or_else(|| CompileErrorKind::UnknownAuthorizer(method.authorizer_id.clone()))
    };
    Ok(
        match method.authorization_type.to_ascii_uppercase().as_str() {
            "AWS_IAM" => Authorization::Iam,
            "CUSTOM" => {
                let found = find()?;
                if matches!(found.kind, AuthorizerKind::Cognito { .. }) {
                    return Err(CompileErrorKind::UnknownAuthorizer(
                        method.authorizer_id.clone(),
                    ));
                }
                Authorization::Custom {
                    sources: authorizer::method_sources(found, scope)?,
                    authorizer: Arc::clone(found),
                }
            }
            "COGNITO_USER_POOLS" => {
                let found = find()?;
                if !matches!(found.kind, AuthorizerKind::Cognito { .. }) {
                    return Err(CompileErrorKind::UnknownAuthorizer(
                        method.authorizer_id.clone(),
                    ));
                }
                Authorization::Cognito {
                    authorizer: Arc::clone(found),
                    scopes: method
                        .authorization_scopes
                        .iter()
                        .map(|s| s.as_str().into())
                        .collect(),
                }
            }
            _ => Authorization::None,
        },
    )
}

/// The stage's method settings for a method: its own `{path}/{METHOD}` entry (path
/// without the leading `/`, as the management API keys it), else `*/*`.
fn method_setting<'a>(
    stage: &'a StageConfig,
    resource_path: &str,
    http_method: &str,
) -> Option<&'a pb::MethodSetting> {
    let own = format!("{}/{}", resource_path.trim_start_matches('/'), http_method);
    stage
        .method_settings
        .get(&own)
        .or_else(|| stage.method_settings.get("*/*"))
}

/// A method's execution logging (see [`method_setting`]).
fn method_logging(stage: &StageConfig, resource_path: &str, http_method: &str) -> MethodLogging {
    let Some(setting) = method_setting(stage, resource_path, http_method) else {
        return MethodLogging::default();
    };
    let level = match setting.logging_level.to_ascii_uppercase().as_str() {
        "INFO" => LogLevel::Info,
        "ERROR" => LogLevel::Error,
        _ => LogLevel::Off,
    };
    MethodLogging {
        level,
        data_trace: level == LogLevel::Info && setting.data_trace_enabled,
    }
}

/// The stage's method-settings throttle for a method (see [`method_setting`]).
fn stage_throttle(
    stage: &StageConfig,
    resource_path: &str,
    http_method: &str,
) -> Option<crate::limits::NamedLimit> {
    let setting = method_setting(stage, resource_path, http_method)?;
    let name = format!(
        "b:s:{}:{}:{}/{}",
        stage.api_id,
        stage.stage_name,
        resource_path.trim_end_matches('/'),
        http_method
    );
    Some(crate::limits::NamedLimit {
        name: name.into(),
        limit: crate::limits::Limit {
            rate: setting.throttling_rate_limit.max(0.0),
            burst: f64::from(setting.throttling_burst_limit.max(0)),
        },
    })
}

fn add_method(
    methods: &mut ResourceMethods,
    name: &str,
    compiled: Arc<CompiledMethod>,
) -> Result<(), CompileErrorKind> {
    let duplicate = || CompileErrorKind::DuplicateMethod(name.to_owned());
    if name.eq_ignore_ascii_case("ANY") {
        if methods.any.replace(compiled).is_some() {
            return Err(duplicate());
        }
        return Ok(());
    }
    let method = Method::from_bytes(name.to_ascii_uppercase().as_bytes())
        .map_err(|_| CompileErrorKind::Method(name.to_owned()))?;
    if methods.methods.iter().any(|(m, _)| *m == method) {
        return Err(duplicate());
    }
    methods.methods.push((method, compiled));
    Ok(())
}

fn compile_integration(
    integration: Option<&pb::Integration>,
    scope: &SourceScope<'_>,
    variables: &BTreeMap<String, String>,
    binary_media_types: &Arc<function::BinaryMediaTypes>,
) -> Result<Integration, CompileErrorKind> {
    let Some(integration) = integration else {
        return Ok(Integration::Missing);
    };
    match integration.r#type.to_ascii_uppercase().as_str() {
        "MOCK" => Ok(Integration::Mock(MockIntegration {
            templates: request_templates(integration)?,
            responses: integration_responses(integration, scope)?,
        })),
        "HTTP" => Ok(Integration::Http(Box::new(http_integration(
            integration,
            scope,
            variables,
            binary_media_types,
        )?))),
        "HTTP_PROXY" => Ok(Integration::HttpProxy(Box::new(http_integration(
            integration,
            scope,
            variables,
            binary_media_types,
        )?))),
        kind @ ("AWS" | "AWS_PROXY") => {
            let (target, from_stage_variables) = function::parse_uri(&integration.uri, variables);
            let target = match target {
                Ok(target) => target,
                Err(function::FunctionUriError::UnsupportedService(service)) => {
                    return Ok(Integration::Unsupported(format!("{kind} {service}").into()))
                }
                Err(error) if from_stage_variables => {
                    let reason = format!("integration uri: {error}");
                    tracing::warn!(%reason, "method unusable with this stage's variables");
                    return Ok(Integration::Misconfigured(reason.into()));
                }
                Err(error) => return Err(error.into()),
            };
            let compiled = Box::new(function::FunctionIntegration {
                target,
                timeout: function::timeout(integration.timeout_in_millis),
                templates: request_templates(integration)?,
                responses: integration_responses(integration, scope)?,
                content_handling: function::ContentHandling::parse(&integration.content_handling),
                binary_media_types: Arc::clone(binary_media_types),
            });
            Ok(if kind == "AWS" {
                Integration::Function(compiled)
            } else {
                Integration::FunctionProxy(compiled)
            })
        }
        "" => Ok(Integration::Missing),
        other => Ok(Integration::Unsupported(other.into())),
    }
}

/// The status a mock request template's output yields: its JSON `statusCode` if an
/// integer, else 200.
pub fn mock_status(rendered: &str) -> StatusCode {
    serde_json::from_str::<serde_json::Value>(rendered)
        .ok()
        .and_then(|v| v.get("statusCode")?.as_u64())
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::OK)
}

fn passthrough(behavior: &str) -> Passthrough {
    match behavior.to_ascii_uppercase().as_str() {
        "NEVER" => Passthrough::Never,
        "WHEN_NO_TEMPLATES" => Passthrough::WhenNoTemplates,
        _ => Passthrough::WhenNoMatch,
    }
}

fn request_templates(
    integration: &pb::Integration,
) -> Result<RequestTemplates<MappingTemplate>, CompileErrorKind> {
    let mut entries = integration
        .request_templates
        .iter()
        .map(|(ct, text)| {
            Ok((
                ct.trim().to_ascii_lowercase().into_boxed_str(),
                template::parse(ct, text)?,
            ))
        })
        .collect::<Result<Vec<_>, CompileErrorKind>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(RequestTemplates {
        // Boxed, not a `Vec`: collecting `Result`s reserves room for four.
        entries: entries.into_boxed_slice(),
        passthrough: passthrough(&integration.passthrough_behavior),
    })
}

fn integration_responses(
    integration: &pb::Integration,
    scope: &SourceScope<'_>,
) -> Result<IntegrationResponses, CompileErrorKind> {
    let selector = ResponseSelector::compile(
        integration
            .integration_responses
            .iter()
            .map(|r| r.selection_pattern.as_str()),
    )?;
    let responses = integration
        .integration_responses
        .iter()
        .map(|r| integration_response(r, scope))
        .collect::<Result<Box<[_]>, _>>()?;
    Ok(IntegrationResponses {
        responses,
        selector,
    })
}

fn integration_response(
    response: &pb::IntegrationResponse,
    scope: &SourceScope<'_>,
) -> Result<IntegrationResponse, CompileErrorKind> {
    let status = StatusCode::from_bytes(response.status_code.trim().as_bytes())
        .map_err(|_| CompileErrorKind::StatusCode(response.status_code.clone()))?;
    let mut headers = response
        .response_parameters
        .iter()
        .map(|(target, source)| {
            let mapping_err = |source| CompileErrorKind::Mapping {
                target: target.clone(),
                source,
            };
            let name = parse_response_target(target).map_err(mapping_err)?;
            let source = ResponseSource::parse(source, scope).map_err(mapping_err)?;
            Ok((name, source))
        })
        .collect::<Result<Vec<_>, CompileErrorKind>>()?;
    headers.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    headers.shrink_to_fit();
    let needs_body = headers.iter().any(|(_, source)| source.reads_body());
    Ok(IntegrationResponse {
        status,
        headers,
        templates: ResponseTemplates::compile(&response.response_templates)?,
        needs_body,
        content_handling: function::ContentHandling::parse(&response.content_handling),
    })
}

fn http_integration(
    integration: &pb::Integration,
    scope: &SourceScope<'_>,
    variables: &BTreeMap<String, String>,
    binary_media_types: &Arc<function::BinaryMediaTypes>,
) -> Result<HttpIntegration, CompileErrorKind> {
    let method = match integration.http_method.trim() {
        "" => None,
        m if m.eq_ignore_ascii_case("ANY") => None,
        m => Some(
            Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| CompileErrorKind::Method(m.to_owned()))?,
        ),
    };
    let uri_text = substitute_stage_variables(&integration.uri, variables);
    let from_stage_variables = uri_text != integration.uri;
    let uri = UriTemplate::compile(&uri_text).map_err(|source| CompileErrorKind::Uri {
        uri: uri_text,
        source,
        from_stage_variables,
    })?;

    let mut mappings = integration
        .request_parameters
        .iter()
        .map(|(target, source)| {
            let mapping_err = |source| CompileErrorKind::Mapping {
                target: target.clone(),
                source,
            };
            Ok(RequestMapping {
                target: RequestTarget::parse(target).map_err(mapping_err)?,
                source: ValueSource::parse(source, scope).map_err(mapping_err)?,
            })
        })
        .collect::<Result<Vec<_>, CompileErrorKind>>()?;
    // Deterministic order regardless of the proto map's iteration order.
    mappings.sort_by(|a, b| format!("{:?}", a.target).cmp(&format!("{:?}", b.target)));

    let slot_sources = uri
        .slot_names()
        .iter()
        .map(|name| {
            mappings
                .iter()
                .find(|m| matches!(&m.target, RequestTarget::Path(p) if p == name))
                .map(|m| m.source.clone())
                .or_else(|| {
                    scope
                        .param_names
                        .iter()
                        .position(|p| p == name)
                        .map(ValueSource::PathParam)
                })
                .unwrap_or(ValueSource::Absent)
        })
        .collect();
    let mut header_mappings = Vec::new();
    let mut query_mappings = Vec::new();
    for mapping in mappings {
        match mapping.target {
            RequestTarget::Header(name) => header_mappings.push((name, mapping.source)),
            RequestTarget::QueryString(key) => query_mappings.push((key, mapping.source)),
            RequestTarget::Path(_) => {}
        }
    }
    let timeout = match integration.timeout_in_millis {
        ms if ms <= 0 => DEFAULT_TIMEOUT,
        ms => Duration::from_millis(ms.unsigned_abs().into()),
    };
    Ok(HttpIntegration {
        method,
        uri,
        slot_sources,
        header_mappings,
        query_mappings,
        timeout,
        insecure_tls: integration.insecure_skip_verification,
        templates: request_templates(integration)?,
        responses: integration_responses(integration, scope)?,
        content_handling: function::ContentHandling::parse(&integration.content_handling),
        binary_media_types: Arc::clone(binary_media_types),
    })
}

#[cfg(test)]
mod tests;
