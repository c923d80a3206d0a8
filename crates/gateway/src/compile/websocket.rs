//! A deployed WebSocket stage (`WsStageConfig`) compiled for the node's WebSocket
//! pipeline: the route selection expression parsed, routes by key with their integration
//! and authorizer resolved, function URIs parsed with the stage's variables substituted,
//! identity sources parsed. Nothing is parsed per message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apigw_proto::config::{V2Stages, WsStageConfig};

use super::function::{self, FunctionTarget};
use super::selection_expression::SelectionExpression;
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
    /// AWS_PROXY (and AWS): a function, given the WebSocket proxy event.
    Function(FunctionTarget),
    /// HTTP / HTTP_PROXY: the message body is sent to `uri` with `method`.
    Http {
        /// The URI, stage variables substituted.
        uri: Box<str>,
        /// The HTTP method.
        method: http::Method,
    },
    /// MOCK: answers the `$default` integration response's template (static text), else
    /// nothing.
    Mock,
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
    /// The `$default` integration response's `$default` template, if any.
    pub response_template: Option<Box<str>>,
}

/// A route.
#[derive(Debug)]
pub struct WsRoute {
    /// `$connect`, `sendmessage`, ...
    pub key: Box<str>,
    /// The `$connect` authorizer (CUSTOM).
    pub authorizer: Option<Arc<WsAuthorizer>>,
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
    /// `routeSelectionExpression`.
    pub selection: SelectionExpression,
    /// Routes by key.
    pub routes: HashMap<Box<str>, Arc<WsRoute>>,
    /// The stage's variables.
    pub variables: HashMap<String, String>,
    /// The name of the stage's new-connection bucket (`--ws-connect-rate`, shared by the
    /// cluster): `b:wsc:{api}:{stage}` (under the limiter's prefix).
    pub connect_bucket: Arc<str>,
    /// Where the node's metrics keep the stage's series (see [`WsRoute::hook_slot`]).
    pub hook_slot: HookSlot,
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
            Arc::new(WsIntegration {
                id: i.id.as_str().into(),
                target,
                timeout: function::timeout(i.timeout_in_millis),
                response_template: i
                    .response_templates
                    .get("$default")
                    .map(|t| t.as_str().into()),
            }),
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
        selection,
        routes,
        variables,
        connect_bucket: format!("b:wsc:{}:{}", stage.api_id, stage.stage_name).into(),
        hook_slot: HookSlot::default(),
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
    }
}
