//! A deployed WebSocket stage (`WsStageConfig`) compiled for the node's WebSocket
//! pipeline: the route selection expression parsed, routes by key with their integration
//! and authorizer resolved, function URIs parsed with the stage's variables substituted,
//! identity sources parsed, and the non-proxy integrations' mapping templates (request
//! templates, integration responses' keys and templates, template selection expressions)
//! parsed with the REST engine's parser. Nothing is parsed per message.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config::{V2Stages, WsStageConfig};

use super::function::{self, ContentHandling, FunctionTarget};
use super::selection::ResponseSelector;
use super::selection_expression::{ResponseFacts, SelectionExpression};
use super::template::{CompiledTemplate, MappingTemplate};
use super::uri_template::substitute_stage_variables;
use super::{CompileError, CompileErrorKind};
use crate::limits::{Limit, NamedLimit};
use crate::phases::end::HookSlot;

/// Where an authorizer reads one identity value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// `route.request.header.X` (lower-cased).
    Header(Box<str>),
    /// `route.request.querystring.X`.
    Query(Box<str>),
    /// `stageVariables.X`.
    StageVariable(Box<str>),
    /// `context.X`.
    Context(Box<str>),
}

impl IdentitySource {
    fn parse(s: &str) -> Option<Self> {
        if let Some(h) = s.strip_prefix("route.request.header.") {
            return Some(Self::Header(h.to_ascii_lowercase().into()));
        }
        if let Some(q) = s.strip_prefix("route.request.querystring.") {
            return Some(Self::Query(q.into()));
        }
        if let Some(v) = s.strip_prefix("stageVariables.") {
            return Some(Self::StageVariable(v.into()));
        }
        s.strip_prefix("context.").map(|c| Self::Context(c.into()))
    }
}

/// Where a `requestParameters` entry puts its value in the call to an HTTP integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsParamTarget {
    /// `integration.request.header.X`.
    Header(http::HeaderName),
    /// `integration.request.querystring.X`.
    Query(Box<str>),
}

/// Where a `requestParameters` entry reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsParamSource {
    /// `route.request.header.X` (`$connect` only; lower-cased).
    Header(Box<str>),
    /// `route.request.querystring.X` (`$connect` only).
    Query(Box<str>),
    /// `route.request.multivalueheader.X` (`$connect` only): the values joined with `,`.
    MultiHeader(Box<str>),
    /// `route.request.multivaluequerystring.X` (`$connect` only): the values joined with `,`.
    MultiQuery(Box<str>),
    /// `route.request.body.a.b` (`$` prefix optional): a JSON message's member.
    Body(Vec<Box<str>>),
    /// `context.a.b`: the event's `requestContext` member (`connectionId`, `routeKey`,
    /// `identity.sourceIp`, `authorizer.x`, ...).
    Context(Vec<Box<str>>),
    /// `stageVariables.X`, resolved when the stage is compiled.
    Static(Box<str>),
}

/// Why a `requestParameters` entry is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsParamError {
    /// The key is not `integration.request.{header|querystring}.{name}`.
    #[error("Invalid mapping expression specified: {0}; use integration.request.header.NAME or integration.request.querystring.NAME")]
    Target(String),
    /// The value is not a supported source.
    #[error("Invalid mapping expression specified: {0}; use route.request.header.NAME, route.request.querystring.NAME, route.request.multivalueheader.NAME, route.request.multivaluequerystring.NAME, route.request.body.PATH, context.NAME, stageVariables.NAME or 'STATIC_VALUE'")]
    Source(String),
}

/// A parameter name, as AWS's `^[a-zA-Z0-9._$-]+$`.
fn param_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$' | b'-'))
}

fn dotted(path: &str) -> Option<Vec<Box<str>>> {
    let path = path.strip_prefix("$.").unwrap_or(path);
    let parts: Vec<Box<str>> = path.split('.').map(Into::into).collect();
    (!parts.iter().any(|p| p.is_empty())).then_some(parts)
}

impl WsParamTarget {
    /// Parses a `requestParameters` key.
    pub fn parse(key: &str) -> Result<Self, WsParamError> {
        let bad = || WsParamError::Target(key.to_string());
        if let Some(h) = key.strip_prefix("integration.request.header.") {
            if !param_name_ok(h) {
                return Err(bad());
            }
            return http::HeaderName::from_bytes(h.as_bytes())
                .map(Self::Header)
                .map_err(|_| bad());
        }
        if let Some(q) = key.strip_prefix("integration.request.querystring.") {
            if param_name_ok(q) {
                return Ok(Self::Query(q.into()));
            }
        }
        Err(bad())
    }
}

impl WsParamSource {
    /// Parses a `requestParameters` value; `stageVariables.X` is resolved from `variables`
    /// (an undefined variable is an empty value).
    pub fn parse(value: &str, variables: &BTreeMap<String, String>) -> Result<Self, WsParamError> {
        let bad = || WsParamError::Source(value.to_string());
        let name = |rest: &str| param_name_ok(rest).then(|| rest.into()).ok_or_else(bad);
        if let Some(text) = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .filter(|_| value.len() >= 2)
        {
            return if text.contains(['\r', '\n']) {
                Err(bad())
            } else {
                Ok(Self::Static(text.into()))
            };
        }
        if let Some(h) = value.strip_prefix("route.request.header.") {
            return name(&h.to_ascii_lowercase()).map(Self::Header);
        }
        if let Some(q) = value.strip_prefix("route.request.querystring.") {
            return name(q).map(Self::Query);
        }
        if let Some(h) = value.strip_prefix("route.request.multivalueheader.") {
            return name(&h.to_ascii_lowercase()).map(Self::MultiHeader);
        }
        if let Some(q) = value.strip_prefix("route.request.multivaluequerystring.") {
            return name(q).map(Self::MultiQuery);
        }
        if let Some(p) = value.strip_prefix("route.request.body.") {
            return dotted(p).map(Self::Body).ok_or_else(bad);
        }
        if let Some(v) = value.strip_prefix("stageVariables.") {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(bad());
            }
            return Ok(Self::Static(
                variables
                    .get(v)
                    .map(String::as_str)
                    .unwrap_or_default()
                    .into(),
            ));
        }
        if let Some(c) = value.strip_prefix("context.") {
            return dotted(c).map(Self::Context).ok_or_else(bad);
        }
        Err(bad())
    }
}

/// A `requestParameters` entry compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsParam {
    /// Where the value goes.
    pub target: WsParamTarget,
    /// Where it comes from.
    pub source: WsParamSource,
}

/// Checks a `requestParameters` entry as the management API saves it (stage variables
/// are resolved per stage when deployed).
pub fn check_request_parameter(key: &str, value: &str) -> Result<(), WsParamError> {
    WsParamTarget::parse(key)?;
    WsParamSource::parse(value, &BTreeMap::new()).map(drop)
}

/// A REQUEST authorizer of `$connect`.
#[derive(Debug)]
pub struct WsAuthorizer {
    /// Its id.
    pub id: Box<str>,
    /// The function it calls.
    pub function: FunctionTarget,
    /// What it reads; a missing value refuses the connection with 401.
    pub identity_source: Vec<IdentitySource>,
}

/// What an integration calls.
#[derive(Debug)]
pub enum WsTarget {
    /// AWS_PROXY (the WebSocket proxy event) and AWS (the request template's output): a
    /// function.
    Function(FunctionTarget),
    /// HTTP / HTTP_PROXY: the message body (HTTP: the request template's output) is sent
    /// to `uri` with `method`.
    Http {
        /// The URI, stage variables substituted.
        uri: Box<str>,
        /// The HTTP method.
        method: http::Method,
    },
    /// MOCK: the request template's output (`{"statusCode": 200}`) picks the integration
    /// response, whose template renders the answer.
    Mock,
}

/// `passthroughBehavior`: what a non-proxy integration does with a message no request
/// template matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    /// WHEN_NO_MATCH (the default): the message passes through as is.
    WhenNoMatch,
    /// WHEN_NO_TEMPLATES: it passes only when the integration has no templates at all.
    WhenNoTemplates,
    /// NEVER: it is refused.
    Never,
}

/// A non-proxy integration's message no template matched and its `passthroughBehavior`
/// refuses (the client gets `Unsupported Media Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// An integration response.
#[derive(Debug)]
pub struct WsIntegrationResponse {
    /// `$default` or `/regex/`.
    pub key: Box<str>,
    /// `responseTemplates` by key (`None`: a blank template, the answer passes through).
    pub templates: HashMap<Box<str>, MappingTemplate>,
    /// `templateSelectionExpression`; `None`: the `$default` template.
    pub selection: Option<SelectionExpression>,
    /// `contentHandlingStrategy` of the answer the route response sends back.
    pub content_handling: ContentHandling,
}

impl WsIntegrationResponse {
    /// The template for an answer: the key its expression selects, else `$default`;
    /// `None` when there is none (the answer passes through).
    pub fn template(&self, message: &[u8], facts: ResponseFacts<'_>) -> Option<&CompiledTemplate> {
        let key = self
            .selection
            .as_ref()
            .and_then(|e| e.select_response(message, Some(facts)));
        key.as_deref()
            .and_then(|k| self.templates.get(k))
            .or_else(|| self.templates.get("$default"))
            .and_then(|t| t.as_deref())
    }
}

/// An integration.
#[derive(Debug)]
pub struct WsIntegration {
    /// Its id.
    pub id: Box<str>,
    /// What it calls.
    pub target: WsTarget,
    /// Its timeout.
    pub timeout: Duration,
    /// AWS_PROXY or HTTP_PROXY: no templates, no integration responses.
    pub proxy: bool,
    /// `requestTemplates` by key (`None`: a blank template, the message passes through).
    pub request_templates: HashMap<Box<str>, MappingTemplate>,
    /// `templateSelectionExpression`; `None`: the `$default` template.
    pub template_selection: Option<SelectionExpression>,
    /// `passthroughBehavior`.
    pub passthrough: Passthrough,
    /// The integration responses, in the API's order.
    pub responses: Vec<WsIntegrationResponse>,
    /// `contentHandlingStrategy` of the message sent to it (non-proxy integrations).
    pub content_handling: ContentHandling,
    /// `requestParameters` (HTTP and HTTP_PROXY), sorted by key.
    pub request_parameters: Vec<WsParam>,
    /// Their keys compiled (`/regex/` anchored, `$default` the fallback).
    pub selector: ResponseSelector,
}

impl WsIntegration {
    /// The request template for a message: the key the integration's expression selects,
    /// else `$default`. `Ok(None)`: the message passes through; `Err`: refused by
    /// `passthroughBehavior`.
    pub fn request_template(
        &self,
        message: &[u8],
    ) -> Result<Option<&CompiledTemplate>, Unsupported> {
        let key = self
            .template_selection
            .as_ref()
            .and_then(|e| e.select(message));
        let found = key
            .as_deref()
            .and_then(|k| self.request_templates.get(k))
            .or_else(|| self.request_templates.get("$default"));
        match (found, self.passthrough) {
            (Some(t), _) => Ok(t.as_deref()),
            (None, Passthrough::WhenNoMatch) => Ok(None),
            (None, Passthrough::WhenNoTemplates) if self.request_templates.is_empty() => Ok(None),
            (None, _) => Err(Unsupported),
        }
    }

    /// The integration response for a selection key (status code, or a function's error
    /// message; `None` for a function that succeeded: the `$default` one).
    pub fn response(&self, key: Option<&str>) -> Option<&WsIntegrationResponse> {
        let index = match key {
            Some(k) => self.selector.select(k),
            None => self.selector.default_index(),
        };
        index.and_then(|i| self.responses.get(i))
    }
}

/// A route.
#[derive(Debug)]
pub struct WsRoute {
    /// `$connect`, `sendmessage`, ...
    pub key: Box<str>,
    /// The `$connect` authorizer (CUSTOM).
    pub authorizer: Option<Arc<WsAuthorizer>>,
    /// `$connect` with AWS_IAM: the upgrade must be SigV4-signed (service `execute-api`).
    pub iam: bool,
    /// Whether `$connect` needs an API key.
    pub api_key_required: bool,
    /// Its integration.
    pub integration: Arc<WsIntegration>,
    /// Whether the integration's answer is sent back to the client.
    pub route_response: bool,
    /// Throttling of this route, from the stage's route settings or its default route
    /// settings: a bucket shared by the cluster, named `b:ws:{api}:{stage}:{routeKey}`
    /// (under the limiter's prefix).
    pub throttle: Option<NamedLimit>,
    /// Whether the stage's route settings (or default route settings) turn detailed
    /// metrics on for this route (CloudWatch's `Route` dimension).
    pub detailed_metrics: bool,
    /// Where the node's metrics keep this route's series (resolved when the config is
    /// applied; the engine never reads it).
    pub hook_slot: HookSlot,
}

/// A compiled WebSocket stage.
#[derive(Debug)]
pub struct WsStage {
    /// The API.
    pub api_id: Box<str>,
    /// The stage.
    pub stage_name: Box<str>,
    /// Its deployment.
    pub deployment_id: Box<str>,
    /// The account in its ARNs (the control plane's `--account-id`).
    pub account_id: Box<str>,
    /// `routeSelectionExpression`.
    pub selection: SelectionExpression,
    /// Routes by key.
    pub routes: HashMap<Box<str>, Arc<WsRoute>>,
    /// The stage's variables.
    pub variables: BTreeMap<String, String>,
    /// The name of the stage's new-connection bucket (`--ws-connect-rate`, shared by the
    /// cluster): `b:wsc:{api}:{stage}` (under the limiter's prefix).
    pub connect_bucket: Arc<str>,
    /// Where the node's metrics keep the stage's series (see [`WsRoute::hook_slot`]).
    pub hook_slot: HookSlot,
    /// Access logging (`accessLogSettings`), compiled; none when the stage has no usable
    /// settings.
    pub access_log: Option<WsAccessLog>,
}

/// A WebSocket stage's access logging: the compiled format and what its lines carry.
#[derive(Debug)]
pub struct WsAccessLog {
    /// The compiled `accessLogSettings.format` (the REST compiler's).
    pub format: crate::access_log::AccessLogFormat,
    /// The log group `accessLogSettings.destinationArn` names.
    pub group: Arc<str>,
    /// The API id, shared by every line.
    pub api_id: Arc<str>,
    /// The stage name, shared by every line.
    pub stage: Arc<str>,
}

impl WsAccessLog {
    /// The stage's access logging, or `None` (with a warning when the settings are
    /// unusable: not a log group ARN, a format that does not compile).
    fn compile(stage: &WsStageConfig) -> Option<WsAccessLog> {
        let settings = stage.access_log.as_ref()?;
        let Some(group) = crate::access_log::log_group_name(&settings.destination_arn) else {
            tracing::warn!(api = %stage.api_id, stage = %stage.stage_name, arn = %settings.destination_arn, "access logging off: the destination is not a log group ARN");
            return None;
        };
        match crate::access_log::AccessLogFormat::compile(&settings.format) {
            Ok(format) => Some(WsAccessLog {
                format,
                group: group.into(),
                api_id: stage.api_id.as_str().into(),
                stage: stage.stage_name.as_str().into(),
            }),
            Err(error) => {
                tracing::warn!(api = %stage.api_id, stage = %stage.stage_name, %error, "access logging off");
                None
            }
        }
    }
}

impl WsStage {
    /// The route for a key, `None` when the API has none.
    pub fn route(&self, key: &str) -> Option<&Arc<WsRoute>> {
        self.routes.get(key)
    }

    /// The route a message selects: its key's route, else `$default`.
    pub fn route_for_message(&self, body: &[u8]) -> Option<&Arc<WsRoute>> {
        self.selection
            .select(body)
            .and_then(|k| self.routes.get(k.as_str()))
            .or_else(|| self.routes.get("$default"))
    }
}

/// Every deployed WebSocket stage: API id → stage name → stage.
pub type WsStages = HashMap<Box<str>, HashMap<Box<str>, Arc<WsStage>>>;

fn err(stage: &WsStageConfig, what: String) -> CompileError {
    CompileError {
        api_id: stage.api_id.clone(),
        stage: stage.stage_name.clone(),
        at: "WebSocket".into(),
        kind: Box::new(CompileErrorKind::WebSocket(what)),
    }
}

fn templates(
    stage: &WsStageConfig,
    what: &str,
    map: &BTreeMap<String, String>,
) -> Result<HashMap<Box<str>, MappingTemplate>, CompileError> {
    map.iter()
        .map(|(key, text)| {
            let parsed = if text.trim().is_empty() {
                None
            } else {
                Some(
                    CompiledTemplate::shared(text)
                        .map_err(|e| err(stage, format!("{what} template {key}: {e}")))?,
                )
            };
            Ok((key.as_str().into(), parsed))
        })
        .collect()
}

fn expression(
    stage: &WsStageConfig,
    what: &str,
    text: &str,
    response: bool,
) -> Result<Option<SelectionExpression>, CompileError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let parsed = if response {
        SelectionExpression::parse_response(text)
    } else {
        SelectionExpression::parse(text)
    };
    parsed
        .map(Some)
        .map_err(|e| err(stage, format!("{what}: {e}")))
}

fn compile_integration(
    stage: &WsStageConfig,
    i: &apigw_proto::config::WsIntegration,
    target: WsTarget,
) -> Result<WsIntegration, CompileError> {
    let what = format!("integration {}", i.id);
    let proxy = matches!(i.integration_type.as_str(), "AWS_PROXY" | "HTTP_PROXY");
    let passthrough = match i.passthrough_behavior.as_str() {
        "NEVER" => Passthrough::Never,
        "WHEN_NO_TEMPLATES" => Passthrough::WhenNoTemplates,
        _ => Passthrough::WhenNoMatch,
    };
    // A config from before integration responses were streamed whole: its `$default`
    // response's templates.
    let legacy;
    let sources: &[apigw_proto::config::WsIntegrationResponse] =
        if i.integration_responses.is_empty() && !i.response_templates.is_empty() {
            legacy = [apigw_proto::config::WsIntegrationResponse {
                integration_response_key: "$default".into(),
                response_templates: i.response_templates.clone(),
                template_selection_expression: String::new(),
                content_handling_strategy: String::new(),
            }];
            &legacy
        } else {
            &i.integration_responses
        };
    let mut responses = Vec::with_capacity(sources.len());
    let mut patterns = Vec::with_capacity(sources.len());
    for r in sources {
        let key = r.integration_response_key.as_str();
        let pattern = if key == "$default" {
            ""
        } else {
            key.strip_prefix('/')
                .and_then(|k| k.strip_suffix('/'))
                .filter(|k| !k.is_empty())
                .ok_or_else(|| err(stage, format!("{what}: integration response key {key}")))?
        };
        patterns.push(pattern);
        let rwhat = format!("{what} response {key}");
        responses.push(WsIntegrationResponse {
            key: key.into(),
            templates: templates(stage, &rwhat, &r.response_templates)?,
            selection: expression(stage, &rwhat, &r.template_selection_expression, true)?,
            content_handling: ContentHandling::parse(&r.content_handling_strategy),
        });
    }
    let mut request_parameters = Vec::new();
    if matches!(i.integration_type.as_str(), "HTTP" | "HTTP_PROXY") {
        let mut keys: Vec<_> = i.request_parameters.iter().collect();
        keys.sort();
        for (key, value) in keys {
            let param = WsParamTarget::parse(key)
                .and_then(|target| {
                    WsParamSource::parse(value, &stage.variables)
                        .map(|source| WsParam { target, source })
                })
                .map_err(|e| err(stage, format!("{what}: requestParameters {key}: {e}")))?;
            request_parameters.push(param);
        }
    }
    let selector = ResponseSelector::compile(patterns.iter().copied())
        .map_err(|e| err(stage, format!("{what}: integration response key: {e}")))?;
    Ok(WsIntegration {
        id: i.id.as_str().into(),
        target,
        timeout: function::timeout(i.timeout_in_millis),
        proxy,
        request_templates: if proxy {
            HashMap::new()
        } else {
            templates(stage, &what, &i.request_templates)?
        },
        template_selection: if proxy {
            None
        } else {
            expression(stage, &what, &i.template_selection_expression, false)?
        },
        passthrough,
        responses,
        content_handling: if proxy {
            ContentHandling::Passthrough
        } else {
            ContentHandling::parse(&i.content_handling_strategy)
        },
        request_parameters,
        selector,
    })
}

/// Compiles every stage of a `V2Stages`.
pub fn compile_all(v2: &V2Stages) -> Result<WsStages, CompileError> {
    let mut out = WsStages::new();
    for stage in &v2.stages {
        let compiled = compile_stage(stage)?;
        out.entry(stage.api_id.as_str().into())
            .or_default()
            .insert(stage.stage_name.as_str().into(), Arc::new(compiled));
    }
    Ok(out)
}

/// Compiles one stage.
pub fn compile_stage(stage: &WsStageConfig) -> Result<WsStage, CompileError> {
    let variables = stage.variables.clone();
    let selection = SelectionExpression::parse(&stage.route_selection_expression)
        .map_err(|e| err(stage, e.to_string()))?;
    let mut authorizers = HashMap::new();
    for a in &stage.authorizers {
        let (target, _) = function::parse_uri(&a.uri, &variables);
        let function = target.map_err(|e| err(stage, format!("authorizer {}: {e}", a.name)))?;
        let identity_source = a
            .identity_source
            .iter()
            .map(|s| {
                IdentitySource::parse(s).ok_or_else(|| {
                    err(stage, format!("authorizer {}: identity source {s}", a.name))
                })
            })
            .collect::<Result<_, _>>()?;
        authorizers.insert(
            a.id.clone(),
            Arc::new(WsAuthorizer {
                id: a.id.as_str().into(),
                function,
                identity_source,
            }),
        );
    }
    let mut integrations = HashMap::new();
    for i in &stage.integrations {
        let target = match i.integration_type.as_str() {
            "AWS_PROXY" | "AWS" => {
                let (t, _) = function::parse_uri(&i.uri, &variables);
                WsTarget::Function(t.map_err(|e| err(stage, format!("integration {}: {e}", i.id)))?)
            }
            "HTTP" | "HTTP_PROXY" => {
                let uri = substitute_stage_variables(&i.uri, &variables);
                let method = if i.method.is_empty() || i.method == "ANY" {
                    http::Method::POST
                } else {
                    http::Method::from_bytes(i.method.as_bytes()).map_err(|_| {
                        err(stage, format!("integration {}: method {}", i.id, i.method))
                    })?
                };
                WsTarget::Http {
                    uri: uri.into(),
                    method,
                }
            }
            _ => WsTarget::Mock,
        };
        integrations.insert(
            i.id.clone(),
            Arc::new(compile_integration(stage, i, target)?),
        );
    }
    let throttle_of = |key: &str| {
        stage
            .route_throttle
            .get(key)
            .or(stage.default_throttle.as_ref())
            .filter(|t| t.rate_limit > 0.0 || t.burst_limit > 0)
            .map(|t| NamedLimit {
                // Stage names are `[A-Za-z0-9_-]` and API ids alphanumeric, so the route
                // key, last, cannot make two routes' names meet.
                name: format!("b:ws:{}:{}:{key}", stage.api_id, stage.stage_name).into(),
                limit: Limit {
                    rate: t.rate_limit.max(0.0),
                    burst: f64::from(t.burst_limit.max(0)),
                },
            })
    };
    let mut routes = HashMap::new();
    for r in &stage.routes {
        let integration = integrations
            .get(&r.integration_id)
            .cloned()
            .ok_or_else(|| {
                err(
                    stage,
                    format!("route {}: no integration {}", r.route_key, r.integration_id),
                )
            })?;
        let authorizer = match r.authorization_type.as_str() {
            "CUSTOM" => Some(authorizers.get(&r.authorizer_id).cloned().ok_or_else(|| {
                err(
                    stage,
                    format!("route {}: no authorizer {}", r.route_key, r.authorizer_id),
                )
            })?),
            _ => None,
        };
        routes.insert(
            r.route_key.as_str().into(),
            Arc::new(WsRoute {
                key: r.route_key.as_str().into(),
                authorizer,
                iam: r.authorization_type == "AWS_IAM",
                api_key_required: r.api_key_required,
                integration,
                route_response: r.has_route_response,
                throttle: throttle_of(&r.route_key),
                detailed_metrics: stage
                    .route_detailed_metrics
                    .get(&r.route_key)
                    .copied()
                    .unwrap_or(stage.detailed_metrics),
                hook_slot: HookSlot::default(),
            }),
        );
    }
    Ok(WsStage {
        api_id: stage.api_id.as_str().into(),
        stage_name: stage.stage_name.as_str().into(),
        deployment_id: stage.deployment_id.as_str().into(),
        account_id: match stage.account_id.as_str() {
            "" => "000000000000".into(),
            id => id.into(),
        },
        selection,
        routes,
        variables,
        connect_bucket: format!("b:wsc:{}:{}", stage.api_id, stage.stage_name).into(),
        hook_slot: HookSlot::default(),
        access_log: WsAccessLog::compile(stage),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_proto::config::{ThrottleLimit, WsIntegration as PbIntegration, WsRoute as PbRoute};

    fn route(key: &str) -> PbRoute {
        PbRoute {
            route_key: key.into(),
            integration_id: "i".into(),
            ..Default::default()
        }
    }

    #[test]
    fn route_throttles_are_named_cluster_buckets() {
        let stage = WsStageConfig {
            api_id: "abc".into(),
            stage_name: "dev".into(),
            route_selection_expression: "$request.body.action".into(),
            integrations: vec![PbIntegration {
                id: "i".into(),
                integration_type: "MOCK".into(),
                ..Default::default()
            }],
            routes: vec![route("$connect"), route("send:x"), route("$default")],
            default_throttle: Some(ThrottleLimit {
                rate_limit: 10.0,
                burst_limit: 20,
            }),
            route_throttle: [
                (
                    "send:x".to_string(),
                    ThrottleLimit {
                        rate_limit: 0.5,
                        burst_limit: 2,
                    },
                ),
                // 0/0: this route is not throttled.
                (
                    "$default".to_string(),
                    ThrottleLimit {
                        rate_limit: 0.0,
                        burst_limit: 0,
                    },
                ),
            ]
            .into(),
            ..Default::default()
        };
        let compiled = compile_stage(&stage).expect("compiles");
        let throttle = |key: &str| {
            compiled
                .route(key)
                .and_then(|r| r.throttle.clone())
                .expect("throttled")
        };
        assert_eq!(&*throttle("send:x").name, "b:ws:abc:dev:send:x");
        assert_eq!(
            throttle("send:x").limit,
            Limit {
                rate: 0.5,
                burst: 2.0
            }
        );
        assert_eq!(&*throttle("$connect").name, "b:ws:abc:dev:$connect");
        assert_eq!(throttle("$connect").limit.burst, 20.0, "the default");
        assert!(compiled
            .route("$default")
            .is_some_and(|r| r.throttle.is_none()));
        assert_eq!(&*compiled.connect_bucket, "b:wsc:abc:dev");
        assert_eq!(
            &*compiled.account_id, "000000000000",
            "none sent: the default"
        );
        let mut config = stage.clone();
        config.account_id = "123456789012".into();
        let compiled = compile_stage(&config).unwrap();
        assert_eq!(&*compiled.account_id, "123456789012");
    }

    use apigw_proto::config as pb;

    fn stage(integration: pb::WsIntegration) -> WsStage {
        compile_stage(&pb::WsStageConfig {
            api_id: "a".into(),
            stage_name: "dev".into(),
            route_selection_expression: "$request.body.action".into(),
            routes: vec![pb::WsRoute {
                route_key: "$default".into(),
                integration_id: "i".into(),
                ..Default::default()
            }],
            integrations: vec![pb::WsIntegration {
                id: "i".into(),
                ..integration
            }],
            ..Default::default()
        })
        .expect("compiles")
    }

    fn templates(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    fn request_source(s: &WsStage, message: &str) -> Result<Option<String>, Unsupported> {
        let i = &s.routes["$default"].integration;
        i.request_template(message.as_bytes()).map(|t| {
            t.map(|t| {
                t.render(&vtl::RenderInput::default())
                    .expect("renders")
                    .body
            })
        })
    }

    #[test]
    fn request_templates_by_selection_and_passthrough() {
        let with = |passthrough: &str, pairs: &[(&str, &str)]| {
            stage(pb::WsIntegration {
                integration_type: "MOCK".into(),
                template_selection_expression: "$request.body.kind".into(),
                request_templates: templates(pairs),
                passthrough_behavior: passthrough.into(),
                ..Default::default()
            })
        };
        let s = with("WHEN_NO_MATCH", &[("a", "A"), ("$default", "D")]);
        assert_eq!(request_source(&s, r#"{"kind":"a"}"#), Ok(Some("A".into())));
        assert_eq!(request_source(&s, r#"{"kind":"b"}"#), Ok(Some("D".into())));
        let s = with("WHEN_NO_MATCH", &[("a", "A")]);
        assert_eq!(request_source(&s, r#"{"kind":"b"}"#), Ok(None));
        let s = with("NEVER", &[("a", "A")]);
        assert_eq!(request_source(&s, r#"{"kind":"b"}"#), Err(Unsupported));
        assert_eq!(request_source(&s, "not json"), Err(Unsupported));
        let s = with("NEVER", &[]);
        assert_eq!(request_source(&s, "{}"), Err(Unsupported));
        let s = with("WHEN_NO_TEMPLATES", &[]);
        assert_eq!(request_source(&s, "{}"), Ok(None));
        let s = with("WHEN_NO_TEMPLATES", &[("a", "A")]);
        assert_eq!(request_source(&s, r#"{"kind":"b"}"#), Err(Unsupported));
    }

    #[test]
    fn integration_responses_by_key_and_template_expression() {
        let s = stage(pb::WsIntegration {
            integration_type: "HTTP".into(),
            uri: "http://backend/".into(),
            integration_responses: vec![
                pb::WsIntegrationResponse {
                    integration_response_key: "/4\\d\\d/".into(),
                    template_selection_expression: "${integration.response.statuscode}".into(),
                    response_templates: templates(&[("404", "nf"), ("$default", "4xx")]),
                    ..Default::default()
                },
                pb::WsIntegrationResponse {
                    integration_response_key: "$default".into(),
                    response_templates: templates(&[("$default", "ok")]),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        let i = &s.routes["$default"].integration;
        let pick = |status: u16| {
            let r = i.response(Some(&status.to_string())).expect("a response");
            let facts = ResponseFacts {
                status,
                headers: None,
            };
            r.template(b"{}", facts).map(|t| {
                t.render(&vtl::RenderInput::default())
                    .expect("renders")
                    .body
            })
        };
        assert_eq!(pick(404).as_deref(), Some("nf"));
        assert_eq!(pick(409).as_deref(), Some("4xx"));
        assert_eq!(pick(200).as_deref(), Some("ok"));
        assert_eq!(pick(4000).as_deref(), Some("ok"), "anchored");
        assert_eq!(i.response(None).map(|r| &*r.key), Some("$default"));
    }

    #[test]
    fn a_bad_template_or_key_does_not_compile() {
        let bad = pb::WsStageConfig {
            api_id: "a".into(),
            stage_name: "dev".into(),
            route_selection_expression: "$request.body.action".into(),
            integrations: vec![pb::WsIntegration {
                id: "i".into(),
                integration_type: "MOCK".into(),
                request_templates: templates(&[("$default", "#if(")]),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(compile_stage(&bad).is_err());
        let bad_key = pb::WsStageConfig {
            integrations: vec![pb::WsIntegration {
                id: "i".into(),
                integration_type: "MOCK".into(),
                integration_responses: vec![pb::WsIntegrationResponse {
                    integration_response_key: "200".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..bad
        };
        assert!(compile_stage(&bad_key).is_err());
    }

    #[test]
    fn request_parameters_compile_to_pairs() {
        let vars: BTreeMap<String, String> = [("color".to_string(), "blue".to_string())].into();
        let source = |v: &str| WsParamSource::parse(v, &vars);
        assert_eq!(
            source("route.request.header.X-Token"),
            Ok(WsParamSource::Header("x-token".into()))
        );
        assert_eq!(
            source("route.request.querystring.q"),
            Ok(WsParamSource::Query("q".into()))
        );
        assert_eq!(
            source("context.identity.sourceIp"),
            Ok(WsParamSource::Context(vec![
                "identity".into(),
                "sourceIp".into()
            ]))
        );
        assert_eq!(
            source("route.request.body.$.a.b"),
            Ok(WsParamSource::Body(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            source("stageVariables.color"),
            Ok(WsParamSource::Static("blue".into()))
        );
        assert_eq!(source("'a b'"), Ok(WsParamSource::Static("a b".into())));
        for bad in [
            "'",
            "unquoted",
            "method.request.header.x",
            "route.request.header.",
            "context.",
            "stageVariables.a-b",
            "'a\nb'",
        ] {
            assert!(source(bad).is_err(), "{bad}");
        }
        assert_eq!(
            WsParamTarget::parse("integration.request.header.X-Id"),
            Ok(WsParamTarget::Header(http::HeaderName::from_static("x-id")))
        );
        assert_eq!(
            WsParamTarget::parse("integration.request.querystring.q"),
            Ok(WsParamTarget::Query("q".into()))
        );
        for bad in [
            "integration.request.path.p",
            "integration.request.body.x",
            "integration.request.header.",
            "integration.request.header.a b",
        ] {
            assert!(WsParamTarget::parse(bad).is_err(), "{bad}");
        }

        let s = stage(pb::WsIntegration {
            integration_type: "HTTP".into(),
            uri: "http://backend/".into(),
            content_handling_strategy: "CONVERT_TO_TEXT".into(),
            request_parameters: templates(&[
                ("integration.request.querystring.b", "'2'"),
                ("integration.request.header.a", "context.connectionId"),
            ]),
            ..Default::default()
        });
        let i = &s.routes["$default"].integration;
        assert_eq!(i.content_handling, ContentHandling::ConvertToText);
        assert_eq!(
            i.request_parameters,
            vec![
                WsParam {
                    target: WsParamTarget::Header(http::HeaderName::from_static("a")),
                    source: WsParamSource::Context(vec!["connectionId".into()]),
                },
                WsParam {
                    target: WsParamTarget::Query("b".into()),
                    source: WsParamSource::Static("2".into()),
                },
            ]
        );
        let bad = pb::WsStageConfig {
            api_id: "a".into(),
            stage_name: "dev".into(),
            route_selection_expression: "$request.body.action".into(),
            integrations: vec![pb::WsIntegration {
                id: "i".into(),
                integration_type: "HTTP".into(),
                uri: "http://backend/".into(),
                request_parameters: templates(&[("integration.request.body", "'x'")]),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(compile_stage(&bad).is_err());
    }
}
