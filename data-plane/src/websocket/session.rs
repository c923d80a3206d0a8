//! One WebSocket connection: the upgrade runs `$connect` (authorizer, API key,
//! integration) and is answered 101 only if it succeeds (401 missing or rejected
//! identity, 403 denied, 429 over the stage's connection rate or `$connect`'s route
//! throttling, both cluster-wide, 500 integration failure);
//! then every text or binary message is routed by the API's selection expression
//! (`$default` otherwise), its integration called with the WebSocket proxy event and, with
//! a route response, its answer sent back; `$disconnect` runs (best effort) when either
//! side closes. Limits: 128 KB messages (larger: close 1009), idle timeout and maximum
//! duration (close 1001), SIGTERM drain (close 1001 after the grace).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use apigw_gateway::access_log::WsLogEvent;
use apigw_gateway::body::Body;
use apigw_gateway::compile::function::ContentHandling;
use apigw_gateway::compile::selection_expression::ResponseFacts;
use apigw_gateway::compile::websocket::{
    IdentitySource, WsParamSource, WsParamTarget, WsRoute, WsStage, WsTarget,
};
use apigw_gateway::phases::authorize::{iam, IamCaller};
use apigw_gateway::phases::integration::content_handling::{convert_request, convert_response};
use apigw_gateway::template::WsTemplateEnv;
use apigw_gateway::Peer;

use super::{now_ms, LocalConn, Outbound, WsHub, MAX_MESSAGE};

/// Each connection's read buffer (see where the socket is configured).
const WS_READ_BUFFER: usize = 8 * 1024;
use crate::metrics::series::WsEvent;
use crate::metrics::{ws_route_event, ws_route_latency, ws_stage_event};

/// Whether a request asks for a WebSocket upgrade.
pub fn is_upgrade<B>(req: &Request<B>) -> bool {
    let has = |name: http::header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    req.method() == http::Method::GET
        && has(http::header::UPGRADE, "websocket")
        && has(http::header::CONNECTION, "upgrade")
}

fn plain(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(Body::full(json!({ "message": message }).to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn new_connection_id() -> String {
    // AWS's ids are 12 base64 characters ending in `=`; ours are 12 alphanumerics, which
    // need no escaping in `@connections` paths.
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn headers_json(headers: &HeaderMap) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let key = name.as_str().to_string();
        single.insert(key.clone(), json!(v));
        if let Some(a) = multi.entry(key).or_insert_with(|| json!([])).as_array_mut() {
            a.push(json!(v));
        }
    }
    (Value::Object(single), Value::Object(multi))
}

fn query_json(query: Option<&str>) -> (Value, Value) {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return (Value::Null, Value::Null);
    };
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in apigw_gateway::query::pairs(q) {
        single.insert(k.to_string(), json!(v));
        if let Some(a) = multi
            .entry(k.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            a.push(json!(v));
        }
    }
    (Value::Object(single), Value::Object(multi))
}

/// The connection as the events and `@connections` describe it.
#[derive(Debug, Clone)]
struct Conn {
    id: String,
    api_id: String,
    stage: String,
    domain: String,
    connected_at: u64,
    source_ip: String,
    user_agent: String,
    authorizer: Value,
    /// The AWS_IAM caller of `$connect`.
    caller: Option<IamCaller>,
    peer: Peer,
}

impl Conn {
    fn request_context(
        &self,
        route_key: &str,
        event_type: &str,
        message_id: Option<&str>,
        request_id: &str,
    ) -> Value {
        let now = now_ms();
        let mut ctx = json!({
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": httpdate(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": self.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
            "requestId": request_id,
            "domainName": self.domain,
            "connectionId": self.id,
            "apiId": self.api_id,
        });
        if let Some(m) = message_id {
            ctx["messageId"] = json!(m);
        }
        if !self.authorizer.is_null() {
            ctx["authorizer"] = self.authorizer.clone();
        }
        if let Some(c) = &self.caller {
            // AWS gives the principal as `caller` / `user`; ours is the access key's user
            // (its ARN, and the ARN's last part).
            let user = c.user_arn.rsplit(['/', ':']).next().unwrap_or_default();
            ctx["identity"]["accessKey"] = json!(&*c.access_key);
            ctx["identity"]["userArn"] = json!(&*c.user_arn);
            ctx["identity"]["caller"] = json!(&*c.user_arn);
            ctx["identity"]["user"] = json!(user);
        }
        ctx
    }
}

fn httpdate(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(ms / 1000).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Why a route's integration failed.
enum CallError {
    /// The integration answered a status of 400 or more, or a function error no
    /// integration response takes (IntegrationError).
    Status(String),
    /// Calling it failed: unreachable, timed out, an unreadable answer, a template that
    /// does not render, a proxy function that raised an error (ExecutionError).
    Failed(String),
    /// No request template matched and `passthroughBehavior` refuses the message
    /// (ClientError).
    Unsupported,
}

impl CallError {
    fn why(&self) -> &str {
        match self {
            CallError::Status(why) | CallError::Failed(why) => why,
            CallError::Unsupported => "no request template matched (passthroughBehavior)",
        }
    }

    fn event(&self) -> WsEvent {
        match self {
            CallError::Status(_) => WsEvent::IntegrationError,
            CallError::Failed(_) => WsEvent::ExecutionError,
            CallError::Unsupported => WsEvent::ClientError,
        }
    }
}

/// What a route's integration is called with.
struct Inbound<'a> {
    /// The WebSocket proxy event (its `requestContext` is `$context`).
    event: &'a Value,
    /// The message.
    body: &'a Bytes,
    /// Whether it came in a binary frame.
    binary: bool,
    peer: &'a Peer,
    /// The `$connect` request's headers and query (`$input.params()`,
    /// `route.request.header.X`).
    params: Option<(&'a HeaderMap, Option<&'a str>)>,
}

/// What the route response sends back.
struct Reply {
    body: Bytes,
    /// Sent as a binary frame (the integration response converted it to binary, or it is
    /// not UTF-8).
    binary: bool,
}

impl Reply {
    fn of(body: Bytes, binary: bool) -> Option<Self> {
        (!body.is_empty()).then_some(Reply { body, binary })
    }
}

/// [`call_route`] with its metrics: IntegrationLatency of a call the integration answered
/// (not MOCK, as in API Gateway), the error's event when it failed. Also answers that
/// latency (for `$context.integrationLatency` in access logs).
async fn call_metered(
    hub: &WsHub,
    stage: &WsStage,
    route: &WsRoute,
    inbound: Inbound<'_>,
) -> (Result<Option<Reply>, CallError>, Option<Duration>) {
    let started = std::time::Instant::now();
    let result = call_route(hub, stage, route, &inbound).await;
    let answered = matches!(result, Ok(_) | Err(CallError::Status(_)));
    let mut latency = None;
    if answered && !matches!(route.integration.target, WsTarget::Mock) {
        let elapsed = started.elapsed();
        ws_route_latency(route, elapsed);
        latency = Some(elapsed);
    }
    if let Err(e) = &result {
        ws_route_event(route, e.event());
    }
    (result, latency)
}

/// What one event's access-log line says beyond the connection.
struct Logged<'a> {
    event_type: &'static str,
    route_key: &'a str,
    request_id: &'a str,
    message_id: Option<&'a str>,
    received: SystemTime,
    status: u16,
    integration_latency: Option<Duration>,
    error: Option<&'a str>,
}

/// Writes the event's access-log line when the stage has `accessLogSettings` (and the
/// node writes logs): the stage's compiled format, into the node's log queue.
fn access_log(hub: &WsHub, stage: &WsStage, conn: &Conn, l: Logged<'_>) {
    let (Some(logs), Some(access)) = (hub.logs.as_ref(), stage.access_log.as_ref()) else {
        return;
    };
    let event = WsLogEvent {
        request_id: l.request_id,
        extended_request_id: l.request_id,
        connection_id: &conn.id,
        event_type: l.event_type,
        route_key: l.route_key,
        message_id: l.message_id,
        connected_at: conn.connected_at,
        request_time: l.received,
        status: l.status,
        api_id: &conn.api_id,
        stage: &conn.stage,
        domain_name: &conn.domain,
        source_ip: &conn.source_ip,
        user_agent: &conn.user_agent,
        integration_latency: l.integration_latency,
        error_message: l.error,
        user_arn: conn.caller.as_ref().map(|c| &*c.user_arn),
        principal_id: conn.authorizer.get("principalId").and_then(Value::as_str),
    };
    logs.ws_access(access, &event, conn.peer.ip);
}

/// A refused `$connect`: its access-log line, then the answer.
#[allow(clippy::too_many_arguments)]
fn refuse(
    hub: &WsHub,
    stage: &WsStage,
    conn: &Conn,
    request_id: &str,
    received: SystemTime,
    status: StatusCode,
    message: &str,
    integration_latency: Option<Duration>,
) -> Response<Body> {
    access_log(
        hub,
        stage,
        conn,
        Logged {
            event_type: "CONNECT",
            route_key: "$connect",
            request_id,
            message_id: None,
            received,
            status: status.as_u16(),
            integration_latency,
            error: Some(message),
        },
    );
    plain(status, message)
}

fn render_failed(e: impl std::fmt::Display) -> CallError {
    CallError::Failed(format!("mapping template: {e}"))
}

/// What an integration answered, before the integration response.
struct Answer {
    status: u16,
    headers: Option<http::HeaderMap>,
    body: Bytes,
    /// A function's `errorMessage`.
    error: Option<String>,
}

/// The value a `requestParameters` source gives for this call; `None`: absent (the
/// parameter is not sent).
fn param_value(source: &WsParamSource, inbound: &Inbound<'_>) -> Option<String> {
    let walk = |mut v: &Value, path: &[Box<str>]| -> Option<String> {
        for p in path {
            v = v.get(p.as_ref())?;
        }
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    let headers = inbound.params.map(|(h, _)| h);
    let query = || {
        inbound
            .params
            .and_then(|(_, q)| q)
            .map(|q| apigw_gateway::query::pairs(q).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    match source {
        WsParamSource::Static(text) => Some(text.to_string()),
        WsParamSource::Header(name) => headers?
            .get(name.as_ref())
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        WsParamSource::MultiHeader(name) => {
            let all: Vec<String> = headers?
                .get_all(name.as_ref())
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            (!all.is_empty()).then(|| all.join(","))
        }
        WsParamSource::Query(name) => query()
            .into_iter()
            .find(|(k, _)| k.as_ref() == name.as_ref())
            .map(|(_, v)| v.to_string()),
        WsParamSource::MultiQuery(name) => {
            let all: Vec<String> = query()
                .into_iter()
                .filter(|(k, _)| k.as_ref() == name.as_ref())
                .map(|(_, v)| v.to_string())
                .collect();
            (!all.is_empty()).then(|| all.join(","))
        }
        WsParamSource::Body(path) => {
            let message: Value = serde_json::from_slice(inbound.body).ok()?;
            walk(&message, path)
        }
        WsParamSource::Context(path) => walk(&inbound.event["requestContext"], path),
    }
}

/// An HTTP integration's `requestParameters` for this call: headers, and the query
/// appended to `uri`.
fn mapped_request(
    route: &WsRoute,
    uri: &str,
    inbound: &Inbound<'_>,
) -> (String, Vec<(http::HeaderName, http::HeaderValue)>) {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const QUERY: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let mut uri = uri.to_string();
    let mut headers = Vec::new();
    for p in &route.integration.request_parameters {
        let Some(value) = param_value(&p.source, inbound) else {
            continue;
        };
        match &p.target {
            WsParamTarget::Header(name) => {
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    headers.push((name.clone(), v));
                }
            }
            WsParamTarget::Query(name) => {
                uri.push(if uri.contains('?') { '&' } else { '?' });
                uri.push_str(&utf8_percent_encode(name, QUERY).to_string());
                uri.push('=');
                uri.push_str(&utf8_percent_encode(&value, QUERY).to_string());
            }
        }
    }
    (uri, headers)
}

/// Calls an HTTP integration (with its mapped `requestParameters`); any status is an
/// answer.
async fn call_http(
    hub: &WsHub,
    (uri, extra): (String, Vec<(http::HeaderName, http::HeaderValue)>),
    method: &http::Method,
    body: Bytes,
    timeout: std::time::Duration,
) -> Result<Answer, CallError> {
    let uri = uri.as_str();
    let mut req = Request::new(Body::full(body));
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri
        .parse()
        .map_err(|_| CallError::Failed(format!("invalid integration URI {uri}")))?;
    req.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    for (name, value) in extra {
        req.headers_mut().insert(name, value);
    }
    let exchange = async {
        let resp = hub
            .gateway
            .backend_client()
            .request(req)
            .await
            .map_err(|e| CallError::Failed(format!("calling {uri}: {e}")))?;
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        let bytes = http_body_util::BodyExt::collect(body)
            .await
            .map_err(|e| CallError::Failed(format!("reading {uri}: {e}")))?
            .to_bytes();
        Ok(Answer {
            status,
            headers: Some(parts.headers),
            body: bytes,
            error: None,
        })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| CallError::Failed("integration timed out".into()))?
}

/// Calls a route's integration with the event (proxy integrations) or the message
/// through its `contentHandlingStrategy` then its templates (non-proxy); answers what a
/// route response sends back.
async fn call_route(
    hub: &WsHub,
    stage: &WsStage,
    route: &WsRoute,
    inbound: &Inbound<'_>,
) -> Result<Option<Reply>, CallError> {
    let integration = &route.integration;
    if integration.proxy {
        return call_proxy(hub, route, inbound).await;
    }
    let (event, body, peer) = (inbound.event, inbound.body, inbound.peer);
    let context = event.get("requestContext").cloned().unwrap_or(Value::Null);
    let mut env = WsTemplateEnv::new(context, &stage.variables);
    if let Some((headers, query)) = inbound.params {
        env = env.with_params(headers, query);
    }
    // As the REST engine orders it: the conversion, then the template (which sees the
    // converted message; the template is chosen by the message as the client sent it).
    let converted = convert_request(body.clone(), inbound.binary, integration.content_handling)
        .map_err(|_| {
            CallError::Failed("the message is not valid base64 (CONVERT_TO_BINARY)".into())
        })?;
    let payload = match integration.request_template(body) {
        Err(_) => return Err(CallError::Unsupported),
        Ok(None) => converted,
        Ok(Some(t)) => Bytes::from(env.render(t, &converted).map_err(render_failed)?),
    };
    let answer = match &integration.target {
        WsTarget::Function(target) => {
            let inv = hub
                .gateway
                .invoke_function(target, payload, integration.timeout, peer)
                .await
                .map_err(|e| CallError::Failed(e.to_string()))?;
            Answer {
                status: 200,
                headers: None,
                error: inv.error_message(),
                body: inv.payload,
            }
        }
        WsTarget::Http { uri, method } => {
            let mapped = mapped_request(route, uri, inbound);
            call_http(hub, mapped, method, payload, integration.timeout).await?
        }
        WsTarget::Mock => {
            // The request template's output says which response: `{"statusCode": 200}`.
            let asked: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
            let status = asked
                .get("statusCode")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200);
            Answer {
                status,
                headers: None,
                body: Bytes::new(),
                error: None,
            }
        }
    };
    let key = match (&answer.error, &integration.target) {
        (Some(message), _) => Some(message.clone()),
        (None, WsTarget::Function(_)) => None,
        (None, _) => Some(answer.status.to_string()),
    };
    let failed = answer.error.is_some() || answer.status >= 400;
    let Some(response) = integration.response(key.as_deref()) else {
        if failed {
            return Err(CallError::Status(match &answer.error {
                Some(m) => format!("function error: {m}"),
                None => format!("integration answered {}", answer.status),
            }));
        }
        // No integration response: the answer passes through.
        return Ok(Reply::of(answer.body, false));
    };
    let facts = ResponseFacts {
        status: answer.status,
        headers: answer.headers.as_ref(),
    };
    // The integration response's conversion, then its template.
    let handling = response.content_handling;
    let function = matches!(integration.target, WsTarget::Function(_));
    let converted = if answer.body.is_empty() {
        answer.body
    } else {
        convert_response(answer.body, handling, function).map_err(|_| {
            CallError::Failed(
                "the integration's answer is not valid base64 (CONVERT_TO_BINARY)".into(),
            )
        })?
    };
    match response.template(body, facts) {
        Some(t) => Ok(Reply::of(
            Bytes::from(env.render(t, &converted).map_err(render_failed)?),
            false,
        )),
        None => Ok(Reply::of(
            converted,
            handling == ContentHandling::ConvertToBinary,
        )),
    }
}

/// AWS_PROXY and HTTP_PROXY: the WebSocket proxy event to the function, the message as
/// is to the URL; the answer's `body` (the function) or the response body goes back.
async fn call_proxy(
    hub: &WsHub,
    route: &WsRoute,
    inbound: &Inbound<'_>,
) -> Result<Option<Reply>, CallError> {
    let (event, body, peer) = (inbound.event, inbound.body, inbound.peer);
    let integration = &route.integration;
    match &integration.target {
        WsTarget::Function(target) => {
            let payload = Bytes::from(event.to_string());
            let inv = hub
                .gateway
                .invoke_function(target, payload, integration.timeout, peer)
                .await
                .map_err(|e| CallError::Failed(e.to_string()))?;
            if let Some(msg) = inv.error_message() {
                return Err(CallError::Failed(format!("function error: {msg}")));
            }
            let answer: Value = serde_json::from_slice(&inv.payload).unwrap_or(Value::Null);
            let status = answer
                .get("statusCode")
                .and_then(Value::as_u64)
                .unwrap_or(200);
            if status >= 400 {
                return Err(CallError::Status(format!("integration answered {status}")));
            }
            let out = match answer.get("body") {
                Some(Value::String(s)) => Some(Bytes::from(s.clone())),
                Some(Value::Null) | None => None,
                Some(other) => Some(Bytes::from(other.to_string())),
            };
            Ok(out.map(|body| Reply {
                body,
                binary: false,
            }))
        }
        WsTarget::Http { uri, method } => {
            let mapped = mapped_request(route, uri, inbound);
            let answer = call_http(hub, mapped, method, body.clone(), integration.timeout).await?;
            if answer.status >= 400 {
                return Err(CallError::Status(format!(
                    "{uri} answered {}",
                    answer.status
                )));
            }
            Ok(Some(Reply {
                body: answer.body,
                binary: false,
            }))
        }
        WsTarget::Mock => Ok(None),
    }
}

/// Runs the `$connect` authorizer: `Ok(context)` or the refusal's status.
async fn authorize(
    hub: &WsHub,
    stage: &WsStage,
    route: &WsRoute,
    conn: &Conn,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    base_event: &Value,
) -> Result<Value, Response<Body>> {
    let Some(authorizer) = &route.authorizer else {
        return Ok(Value::Null);
    };
    for source in &authorizer.identity_source {
        let present = match source {
            IdentitySource::Header(h) => headers.get(h.as_ref()).is_some(),
            IdentitySource::Query(q) => query.get(q.as_ref()).is_some_and(|v| !v.is_empty()),
            IdentitySource::StageVariable(v) => stage.variables.contains_key(v.as_ref()),
            IdentitySource::Context(_) => true,
        };
        if !present {
            return Err(plain(StatusCode::UNAUTHORIZED, "Unauthorized"));
        }
    }
    let mut event = base_event.clone();
    event["type"] = json!("REQUEST");
    event["methodArn"] = json!(format!(
        "arn:aws:execute-api:{}:{}:{}/{}/$connect",
        hub.region, stage.account_id, conn.api_id, conn.stage
    ));
    event["stageVariables"] = json!(stage.variables);
    let payload = Bytes::from(event.to_string());
    let inv = hub
        .gateway
        .invoke_function(
            &authorizer.function,
            payload,
            std::time::Duration::from_secs(10),
            &conn.peer,
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "WebSocket authorizer failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        })?;
    if let Some(msg) = inv.error_message() {
        return Err(if msg == "Unauthorized" {
            plain(StatusCode::UNAUTHORIZED, "Unauthorized")
        } else {
            plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        });
    }
    let answer: Value = serde_json::from_slice(&inv.payload).unwrap_or(Value::Null);
    let statements = answer["policyDocument"]["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let effect = |e: &str| {
        statements.iter().any(|s| {
            s["Effect"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(e))
        })
    };
    if effect("Deny") || !effect("Allow") {
        return Err(plain(StatusCode::FORBIDDEN, "Forbidden"));
    }
    let mut context = answer
        .get("context")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(p) = answer.get("principalId") {
        context.insert("principalId".into(), p.clone());
    }
    Ok(Value::Object(context))
}

/// AWS_IAM on `$connect`: the upgrade request must be signed with SigV4 for the service
/// `execute-api` by one of the control plane's access keys, in the `Authorization` header
/// or as a presigned URL (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
/// `X-Amz-SignedHeaders`, `X-Amz-Signature` in the query), over an empty body. Verified
/// with the derived signing keys the node holds for REST AWS_IAM methods and
/// `@connections`. A refusal's message (403) is the REST AWS_IAM one.
fn verify_iam(
    hub: &WsHub,
    req: &Request<hyper::body::Incoming>,
) -> Result<IamCaller, &'static str> {
    // The SHA-256 of the empty body (an upgrade request has none).
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let mut head = Request::new(());
    *head.method_mut() = req.method().clone();
    *head.uri_mut() = req.uri().clone();
    *head.version_mut() = req.version();
    *head.headers_mut() = req.headers().clone();
    let (parts, ()) = head.into_parts();
    let keys = std::sync::Arc::clone(&hub.gateway.shared_state().load().iam);
    iam::verify(&keys, &parts, EMPTY).map_err(|e| {
        tracing::info!(error = %e, "AWS_IAM $connect refused");
        match e {
            apigw_gateway::error::GatewayError::MissingSignature => "Missing Authentication Token",
            apigw_gateway::error::GatewayError::ExpiredSignature(_) => "Signature expired",
            _ => {
                "The request signature we calculated does not match the signature you \
                 provided. Check your AWS Secret Access Key and signing method. Consult the \
                 service documentation for details."
            }
        }
    })
}

/// Whether the `$connect` request carries an enabled API key: the `x-api-key` header, or
/// the authorizer's `usageIdentifierKey` (`apiKeySelectionExpression`
/// `$context.authorizer.usageIdentifierKey`). Usage plans name REST API stages only, so a
/// key is not checked against a plan here.
fn api_key_ok(hub: &WsHub, headers: &HeaderMap, authorizer: &Value) -> bool {
    use sha2::{Digest, Sha256};
    let value = headers
        .get("x-api-key")
        .map(|v| v.as_bytes().to_vec())
        .or_else(|| {
            authorizer["usageIdentifierKey"]
                .as_str()
                .map(|s| s.as_bytes().to_vec())
        })
        .filter(|v| !v.is_empty());
    let Some(value) = value else {
        return false;
    };
    let hash: [u8; 32] = Sha256::digest(&value).into();
    hub.gateway
        .shared_state()
        .load()
        .usage
        .key(&hash)
        .is_some_and(|k| k.enabled)
}

/// Handles an upgrade request for a WebSocket stage; `None` when the host and path name
/// no deployed WebSocket stage (the request then goes to the REST engine).
pub async fn handle(
    hub: &Arc<WsHub>,
    req: Request<hyper::body::Incoming>,
    peer: &Peer,
) -> Result<Response<Body>, Request<hyper::body::Incoming>> {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Some(api_id) = hub.gateway.invoke_api_id(&host).map(str::to_string) else {
        return Err(req);
    };
    let stage_name = req.uri().path().trim_matches('/').to_string();
    let stage = hub
        .gateway
        .shared_state()
        .load()
        .ws_stage(&api_id, &stage_name)
        .cloned();
    let Some(stage) = stage else {
        return Err(req);
    };
    Ok(connect(hub, stage, req, peer, host).await)
}

async fn connect(
    hub: &Arc<WsHub>,
    stage: Arc<WsStage>,
    mut req: Request<hyper::body::Incoming>,
    peer: &Peer,
    host: String,
) -> Response<Body> {
    let received = SystemTime::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let domain = host.split(':').next().unwrap_or_default().to_string();
    let mut conn = Conn {
        id: new_connection_id(),
        api_id: stage.api_id.to_string(),
        stage: stage.stage_name.to_string(),
        domain,
        connected_at: now_ms(),
        source_ip: peer.ip.to_string(),
        user_agent: req
            .headers()
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        authorizer: Value::Null,
        caller: None,
        peer: peer.clone(),
    };
    let Some(key) = req.headers().get(http::header::SEC_WEBSOCKET_KEY).cloned() else {
        return refuse(
            hub,
            &stage,
            &conn,
            &request_id,
            received,
            StatusCode::BAD_REQUEST,
            "Missing Sec-WebSocket-Key",
            None,
        );
    };
    if *hub.draining.borrow() {
        return refuse(
            hub,
            &stage,
            &conn,
            &request_id,
            received,
            StatusCode::SERVICE_UNAVAILABLE,
            "The node is shutting down",
            None,
        );
    }
    // The $connect route's series (its own with detailed metrics), else the stage's.
    let connect_event = |event: WsEvent| match stage.route("$connect") {
        Some(route) => ws_route_event(route, event),
        None => ws_stage_event(&stage, event),
    };
    if !hub.admit_connection(&stage).await {
        connect_event(WsEvent::ClientError);
        return refuse(
            hub,
            &stage,
            &conn,
            &request_id,
            received,
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            None,
        );
    }
    let (headers, multi_headers) = headers_json(req.headers());
    let (query, multi_query) = query_json(req.uri().query());
    let query_map: HashMap<String, String> = query
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut integration_latency = None;
    let mut base = json!({
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "isBase64Encoded": false,
    });
    if !query.is_null() {
        base["queryStringParameters"] = query;
        base["multiValueQueryStringParameters"] = multi_query;
    }
    if let Some(route) = stage.route("$connect").cloned() {
        if route.iam {
            match verify_iam(hub, &req) {
                Ok(caller) => conn.caller = Some(caller),
                Err(message) => {
                    connect_event(WsEvent::ClientError);
                    return refuse(
                        hub,
                        &stage,
                        &conn,
                        &request_id,
                        received,
                        StatusCode::FORBIDDEN,
                        message,
                        None,
                    );
                }
            }
        }
        base["requestContext"] = conn.request_context("$connect", "CONNECT", None, &request_id);
        match authorize(hub, &stage, &route, &conn, req.headers(), &query_map, &base).await {
            Ok(context) => conn.authorizer = context,
            Err(refused) => {
                connect_event(if refused.status().is_client_error() {
                    WsEvent::ClientError
                } else {
                    WsEvent::ExecutionError
                });
                let message = match refused.status().as_u16() {
                    401 => "Unauthorized",
                    403 => "Forbidden",
                    _ => "Internal server error",
                };
                access_log(
                    hub,
                    &stage,
                    &conn,
                    Logged {
                        event_type: "CONNECT",
                        route_key: "$connect",
                        request_id: &request_id,
                        message_id: None,
                        received,
                        status: refused.status().as_u16(),
                        integration_latency: None,
                        error: Some(message),
                    },
                );
                return refused;
            }
        }
        if route.api_key_required && !api_key_ok(hub, req.headers(), &conn.authorizer) {
            connect_event(WsEvent::ClientError);
            return refuse(
                hub,
                &stage,
                &conn,
                &request_id,
                received,
                StatusCode::FORBIDDEN,
                "Forbidden",
                None,
            );
        }
        let mut event = base.clone();
        event["requestContext"] = conn.request_context("$connect", "CONNECT", None, &request_id);
        let inbound = Inbound {
            event: &event,
            body: &Bytes::new(),
            binary: false,
            peer,
            params: Some((req.headers(), req.uri().query())),
        };
        let (result, latency) = call_metered(hub, &stage, &route, inbound).await;
        integration_latency = latency;
        match result {
            Ok(_) => {}
            Err(CallError::Unsupported) => {
                return refuse(
                    hub,
                    &stage,
                    &conn,
                    &request_id,
                    received,
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Media Type",
                    latency,
                );
            }
            Err(e) => {
                tracing::info!(connection = %conn.id, why = %e.why(), "$connect refused");
                return refuse(
                    hub,
                    &stage,
                    &conn,
                    &request_id,
                    received,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                    latency,
                );
            }
        }
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let upgrade = hyper::upgrade::on(&mut req);
    let (tx, rx) = mpsc::unbounded_channel();
    let info = json!({
        "apiId": conn.api_id,
        "stage": conn.stage,
        "connectedAt": conn.connected_at,
        "lastActiveAt": conn.connected_at,
        "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
    });
    let local = LocalConn {
        tx,
        info: Arc::new(Mutex::new(info)),
        api_stage: (conn.api_id.clone(), conn.stage.clone()),
    };
    hub.register(&conn.id, local).await;
    connect_event(WsEvent::Connect);
    // Before the 101 goes out: the client cannot send a message (logged after it) sooner.
    access_log(
        hub,
        &stage,
        &conn,
        Logged {
            event_type: "CONNECT",
            route_key: "$connect",
            request_id: &request_id,
            message_id: None,
            received,
            status: 101,
            integration_latency,
            error: None,
        },
    );
    let hub2 = Arc::clone(hub);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                // tungstenite's default read buffer (128 KiB, allocated per connection)
                // would make an idle connection cost ~135 KB; 8 KiB reads in chunks.
                let config = WebSocketConfig::default()
                    .max_message_size(Some(MAX_MESSAGE))
                    .max_frame_size(Some(MAX_MESSAGE))
                    .read_buffer_size(WS_READ_BUFFER);
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                run(&hub2, &stage, &conn, ws, rx).await;
            }
            Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
        }
        hub2.unregister(&conn.id).await;
        let lasted = super::now_ms().saturating_sub(conn.connected_at);
        let minutes = i64::try_from(lasted.div_ceil(60_000).max(1)).unwrap_or(i64::MAX);
        hub2.meter(&conn.api_id, &conn.stage, 0, minutes);
        let received = SystemTime::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut logged = Logged {
            event_type: "DISCONNECT",
            route_key: "$disconnect",
            request_id: &request_id,
            message_id: None,
            received,
            status: 200,
            integration_latency: None,
            error: None,
        };
        if let Some(route) = stage.route("$disconnect") {
            let mut event = json!({"isBase64Encoded": false});
            event["requestContext"] =
                conn.request_context("$disconnect", "DISCONNECT", None, &request_id);
            let inbound = Inbound {
                event: &event,
                body: &Bytes::new(),
                binary: false,
                peer: &conn.peer,
                params: None,
            };
            let (result, latency) = call_metered(&hub2, &stage, route, inbound).await;
            logged.integration_latency = latency;
            if result.is_err() {
                logged.status = 500;
                logged.error = Some("Internal server error");
            }
        }
        access_log(&hub2, &stage, &conn, logged);
    });
    let mut resp = Response::new(Body::Empty);
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_static("websocket"),
    );
    h.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(v) = http::HeaderValue::from_str(&accept) {
        h.insert(http::header::SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

fn close(code: CloseCode, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }))
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// The session loop: messages in, sends and closes out, the limits.
async fn run(
    hub: &Arc<WsHub>,
    stage: &Arc<WsStage>,
    conn: &Conn,
    mut ws: Socket,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
) {
    let settings = &hub.settings;
    let deadline = tokio::time::Instant::now() + settings.max_duration;
    let mut idle = tokio::time::Instant::now() + settings.idle_timeout;
    let mut draining = hub.draining.clone();
    let mut drain_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            incoming = ws.next() => {
                idle = tokio::time::Instant::now() + settings.idle_timeout;
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let body = Bytes::copy_from_slice(text.as_bytes());
                        on_message(hub, stage, conn, &mut ws, body, false).await;
                    }
                    Some(Ok(Message::Binary(data))) => {
                        on_message(hub, stage, conn, &mut ws, data, true).await;
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {} // ping / pong: tungstenite answers pings itself
                    Some(Err(WsError::Capacity(_))) => {
                        ws_stage_event(stage, WsEvent::ClientError);
                        let _ = ws.send(close(CloseCode::Size, "Message too big")).await;
                        break;
                    }
                    Some(Err(_)) => break,
                }
            }
            out = rx.recv() => match out {
                Some(Outbound::Send(data)) => {
                    idle = tokio::time::Instant::now() + settings.idle_timeout;
                    hub.meter(&conn.api_id, &conn.stage, super::message_units(data.len()), 0);
                    ws_stage_event(stage, WsEvent::Message);
                    let msg = match String::from_utf8(data.to_vec()) {
                        Ok(text) => Message::Text(text.into()),
                        Err(_) => Message::Binary(data),
                    };
                    if ws.send(msg).await.is_err() { break; }
                }
                Some(Outbound::Close) | None => {
                    let _ = ws.send(close(CloseCode::Normal, "Closed by the API")).await;
                    break;
                }
            },
            () = tokio::time::sleep_until(idle) => {
                let _ = ws.send(close(CloseCode::Away, "Idle timeout")).await;
                break;
            }
            () = tokio::time::sleep_until(deadline) => {
                let _ = ws.send(close(CloseCode::Away, "Connection duration limit")).await;
                break;
            }
            () = async {
                match drain_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                let _ = ws.send(close(CloseCode::Away, "Going away")).await;
                break;
            }
            () = async { let _ = draining.wait_for(|d| *d).await; }, if drain_at.is_none() => {
                drain_at = Some(tokio::time::Instant::now() + settings.drain_grace);
            }
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), ws.close(None)).await;
}

async fn on_message(
    hub: &Arc<WsHub>,
    stage: &Arc<WsStage>,
    conn: &Conn,
    ws: &mut Socket,
    body: Bytes,
    binary: bool,
) {
    let received = SystemTime::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let message_id = uuid::Uuid::new_v4().to_string();
    let log = |route_key: &str, status: u16, latency: Option<Duration>, error: Option<&str>| {
        access_log(
            hub,
            stage,
            conn,
            Logged {
                event_type: "MESSAGE",
                route_key,
                request_id: &request_id,
                message_id: Some(&message_id),
                received,
                status,
                integration_latency: latency,
                error,
            },
        );
    };
    hub.touch(&conn.id);
    hub.meter(
        &conn.api_id,
        &conn.stage,
        super::message_units(body.len()),
        0,
    );
    let Some(route) = stage.route_for_message(&body).cloned() else {
        ws_stage_event(stage, WsEvent::Message);
        ws_stage_event(stage, WsEvent::ClientError);
        log("$default", 403, None, Some("Forbidden"));
        let _ = ws
            .send(Message::Text(
                json!({"message": "Forbidden", "connectionId": conn.id})
                    .to_string()
                    .into(),
            ))
            .await;
        return;
    };
    ws_route_event(&route, WsEvent::Message);
    if let Some(throttle) = &route.throttle {
        if !hub.admit_message(throttle).await {
            ws_route_event(&route, WsEvent::ClientError);
            log(&route.key, 429, None, Some("Too Many Requests"));
            let _ = ws
                .send(Message::Text(
                    json!({"message": "Too Many Requests", "connectionId": conn.id,
                           "requestId": message_id})
                    .to_string()
                    .into(),
                ))
                .await;
            return;
        }
    }
    let text = String::from_utf8(body.to_vec());
    let mut event = json!({
        "body": match &text {
            Ok(t) => json!(t),
            Err(_) => json!(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &body)),
        },
        "isBase64Encoded": text.is_err(),
    });
    event["requestContext"] =
        conn.request_context(&route.key, "MESSAGE", Some(&message_id), &request_id);
    let inbound = Inbound {
        event: &event,
        body: &body,
        binary,
        peer: &conn.peer,
        params: None,
    };
    let (result, latency) = call_metered(hub, stage, &route, inbound).await;
    match &result {
        Ok(_) => log(&route.key, 200, latency, None),
        Err(CallError::Unsupported) => {
            log(&route.key, 415, latency, Some("Unsupported Media Type"));
        }
        Err(_) => log(&route.key, 500, latency, Some("Internal server error")),
    }
    match result {
        Ok(Some(Reply {
            body: answer,
            binary,
        })) if route.route_response => {
            ws_route_event(&route, WsEvent::Message);
            hub.meter(
                &conn.api_id,
                &conn.stage,
                super::message_units(answer.len()),
                0,
            );
            let msg = if binary {
                Message::Binary(answer)
            } else {
                match String::from_utf8(answer.to_vec()) {
                    Ok(t) => Message::Text(t.into()),
                    Err(_) => Message::Binary(answer),
                }
            };
            let _ = ws.send(msg).await;
        }
        Ok(_) => {}
        Err(CallError::Unsupported) => {
            let _ = ws
                .send(Message::Text(
                    json!({"message": "Unsupported Media Type", "connectionId": conn.id,
                           "requestId": message_id})
                    .to_string()
                    .into(),
                ))
                .await;
        }
        Err(e) => {
            tracing::info!(connection = %conn.id, route = %route.key, why = %e.why(), "WebSocket integration failed");
            let _ = ws
                .send(Message::Text(
                    json!({"message": "Internal server error", "connectionId": conn.id,
                           "requestId": message_id})
                    .to_string()
                    .into(),
                ))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_gateway::compile::websocket::compile_stage;
    use apigw_proto::config as pb;

    #[test]
    fn request_parameters_read_the_connect_request_the_message_and_the_context() {
        let params: std::collections::BTreeMap<String, String> = [
            (
                "integration.request.header.x-token",
                "route.request.header.Token",
            ),
            (
                "integration.request.header.x-all",
                "route.request.multivalueheader.v",
            ),
            (
                "integration.request.querystring.q",
                "route.request.querystring.q",
            ),
            (
                "integration.request.querystring.qs",
                "route.request.multivaluequerystring.m",
            ),
            (
                "integration.request.querystring.who",
                "route.request.body.user.name",
            ),
            (
                "integration.request.querystring.ip",
                "context.identity.sourceIp",
            ),
            (
                "integration.request.querystring.var",
                "stageVariables.color",
            ),
            (
                "integration.request.header.x-absent",
                "route.request.header.nope",
            ),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        let stage = compile_stage(&pb::WsStageConfig {
            api_id: "a".into(),
            stage_name: "dev".into(),
            route_selection_expression: "$request.body.action".into(),
            variables: [("color".to_string(), "b l/ue".to_string())].into(),
            routes: vec![pb::WsRoute {
                route_key: "$connect".into(),
                integration_id: "i".into(),
                ..Default::default()
            }],
            integrations: vec![pb::WsIntegration {
                id: "i".into(),
                integration_type: "HTTP".into(),
                uri: "http://backend/x?fixed=1".into(),
                request_parameters: params,
                ..Default::default()
            }],
            ..Default::default()
        })
        .expect("compiles");
        let route = stage.route("$connect").expect("the route");
        let mut headers = HeaderMap::new();
        headers.insert("token", http::HeaderValue::from_static("t1"));
        headers.append("v", http::HeaderValue::from_static("1"));
        headers.append("v", http::HeaderValue::from_static("2"));
        let event = json!({"requestContext": {"identity": {"sourceIp": "10.0.0.1"}}});
        let body = Bytes::from_static(br#"{"user": {"name": "ann"}}"#);
        let peer = Peer {
            ip: std::net::Ipv4Addr::LOCALHOST.into(),
            ip_header: http::HeaderValue::from_static("127.0.0.1"),
            client_cert: None,
        };
        let inbound = Inbound {
            event: &event,
            body: &body,
            binary: false,
            peer: &peer,
            params: Some((&headers, Some("q=a%20b&m=1&m=2"))),
        };
        let (uri, headers) = mapped_request(route, "http://backend/x?fixed=1", &inbound);
        let query: Vec<&str> = uri
            .split_once('?')
            .map(|(_, q)| q.split('&').collect())
            .unwrap_or_default();
        for q in [
            "fixed=1",
            "q=a%20b",
            "qs=1%2C2",
            "who=ann",
            "ip=10.0.0.1",
            "var=b%20l%2Fue",
        ] {
            assert!(query.contains(&q), "{q} in {uri}");
        }
        let header = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.as_str() == n)
                .map(|(_, v)| v.to_str().unwrap_or_default().to_string())
        };
        assert_eq!(header("x-token").as_deref(), Some("t1"));
        assert_eq!(header("x-all").as_deref(), Some("1,2"));
        assert_eq!(header("x-absent"), None);
    }
}
