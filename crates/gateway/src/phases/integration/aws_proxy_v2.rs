//! AWS_PROXY for HTTP APIs: the Lambda proxy event in payload format 2.0 (and the 1.0
//! event as HTTP APIs send it), and the 2.0 response rules, as AWS documents them in
//! "Working with AWS Lambda proxy integrations for HTTP APIs".
//!
//! Pure functions: everything the event is made of comes in [`HttpEventInput`], so the
//! engine decides where route keys, stages and authorizer findings come from.
//!
//! The 2.0 event differs from 1.0: no `multiValue*` members (duplicate headers and query
//! parameters are comma-joined), `rawPath`/`rawQueryString`, `cookies` (the `Cookie`
//! headers, split; no `cookie` header), `requestContext.http`, `routeKey`, `time` /
//! `timeEpoch`, `authorizer.{jwt|lambda|iam}`; empty members are left out, not null.
//!
//! The 2.0 response: an object with `statusCode` is read as `{statusCode, headers,
//! cookies, body, isBase64Encoded}` (cookies become `Set-Cookie` headers); any other JSON
//! value is inferred as a 200 `application/json` response whose body is that value (a
//! JSON string's text is sent as is, without its quotes).

use std::net::IpAddr;
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{
    HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE, USER_AGENT,
};
use http::request::Parts;
use http::{HeaderMap, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::aws_proxy::{
    forwarded_for, header_name, header_value, headers as split_headers, non_null, protocol,
    proxy_response, query as split_query, MalformedResult,
};
use super::http_proxy::strip_hop_by_hop;
use crate::body::Body;
use crate::context::ClientCert;
use crate::template::request_time;

/// What an authorizer established, as the integration event shows it
/// (`requestContext.authorizer`).
#[derive(Debug, Clone, PartialEq)]
pub enum EventAuthorizer {
    /// A JWT authorizer: the token's claims (as text, as AWS sends them) and its scopes
    /// (`None` when the token has no `scope`/`scp` claim).
    Jwt {
        /// Claim name and value.
        claims: Vec<(String, String)>,
        /// The token's scopes.
        scopes: Option<Vec<String>>,
    },
    /// A Lambda REQUEST authorizer: its `principalId` (IAM policy answers only) and the
    /// `context` it returned.
    Lambda {
        /// `principalId` of an IAM policy answer (simple answers have none).
        principal_id: Option<String>,
        /// The answer's `context`.
        context: Vec<(String, Value)>,
    },
    /// `AWS_IAM`: the SigV4 caller.
    Iam {
        /// The access key id.
        access_key: String,
        /// The caller's account.
        account_id: String,
        /// The caller's id (`callerId`, `userId`).
        caller_id: String,
        /// The caller's ARN.
        user_arn: String,
    },
}

impl EventAuthorizer {
    /// What a JWT or Lambda authorizer's result shows the integration: claims (their
    /// `scope` claim, else `scp`, split on spaces, as the scopes) make a JWT authorizer;
    /// otherwise a principal or a context make a Lambda authorizer. `None` when the
    /// result is empty. (IAM callers are built with [`EventAuthorizer::Iam`].)
    pub fn from_result(result: &crate::phases::authorize::AuthorizerResult) -> Option<Self> {
        if !result.claims.is_empty() {
            let claim = |name: &str| {
                result
                    .claims
                    .iter()
                    .find(|(k, _)| &**k == name)
                    .map(|(_, v)| v)
            };
            let scopes = claim("scope")
                .or_else(|| claim("scp"))
                .map(|s| s.split_whitespace().map(str::to_owned).collect());
            return Some(EventAuthorizer::Jwt {
                claims: result
                    .claims
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                scopes,
            });
        }
        if result.principal_id.is_none() && result.context.is_empty() {
            return None;
        }
        Some(EventAuthorizer::Lambda {
            principal_id: result.principal_id.as_deref().map(str::to_owned),
            context: result
                .context
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        })
    }

    /// `requestContext.authorizer` in payload format 2.0.
    pub fn to_v2(&self) -> Value {
        match self {
            EventAuthorizer::Jwt { claims, scopes } => json!({
                "jwt": {
                    "claims": claims_object(claims),
                    "scopes": scopes,
                }
            }),
            EventAuthorizer::Lambda { context, .. } => {
                let map: Map<String, Value> = context.iter().cloned().collect();
                json!({ "lambda": map })
            }
            EventAuthorizer::Iam {
                access_key,
                account_id,
                caller_id,
                user_arn,
            } => json!({
                "iam": {
                    "accessKey": access_key,
                    "accountId": account_id,
                    "callerId": caller_id,
                    "cognitoIdentity": null,
                    "principalOrgId": null,
                    "userArn": user_arn,
                    "userId": caller_id,
                }
            }),
        }
    }

    /// `requestContext.authorizer` in payload format 1.0 (HTTP APIs). `None` for IAM
    /// (its caller is in `requestContext.identity`).
    pub fn to_v1(&self) -> Option<Value> {
        match self {
            EventAuthorizer::Jwt { claims, scopes } => Some(json!({
                "claims": claims_object(claims),
                "scopes": scopes,
            })),
            EventAuthorizer::Lambda {
                principal_id,
                context,
            } => {
                let mut map: Map<String, Value> = context.iter().cloned().collect();
                if let Some(p) = principal_id {
                    map.insert("principalId".into(), json!(p));
                }
                Some(Value::Object(map))
            }
            EventAuthorizer::Iam { .. } => None,
        }
    }
}

fn claims_object(claims: &[(String, String)]) -> Value {
    Value::Object(
        claims
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Everything an HTTP API's proxy event (1.0 or 2.0) is made of.
pub struct HttpEventInput<'a> {
    /// The request: method, URI (its query is `rawQueryString`), headers, version.
    pub parts: &'a Parts,
    /// The path as the client sent it, still encoded, stage segment included (a named
    /// stage's invoke URL path is `/{stage}/…`), and through a custom domain with its API
    /// mapping key (`/v1/orders/…`), as AWS sends it (`rawPath`,
    /// `requestContext.http.path`, 1.0 `path`); routes match the path without either.
    pub raw_path: &'a str,
    /// The request body.
    pub body: &'a [u8],
    /// The matched route's key (`GET /pets/{id}`, `$default`).
    pub route_key: &'a str,
    /// The stage name (`$default` included).
    pub stage: &'a str,
    /// The API id.
    pub api_id: &'a str,
    /// The API owner's account.
    pub account_id: &'a str,
    /// The request id.
    pub request_id: &'a str,
    /// The client's address.
    pub source_ip: IpAddr,
    /// When the request arrived.
    pub received_at: SystemTime,
    /// The route's path parameters, decoded.
    pub path_parameters: &'a [(String, String)],
    /// The stage's variables.
    pub stage_variables: &'a std::collections::BTreeMap<String, String>,
    /// What the route's authorizer established.
    pub authorizer: Option<&'a EventAuthorizer>,
    /// The client certificate (mutual TLS): `requestContext.authentication.clientCert`.
    pub client_cert: Option<&'a ClientCert>,
}

impl HttpEventInput<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn domain_name(&self) -> &str {
        let domain = self
            .header(HOST.as_str())
            .or(self.parts.uri.host())
            .unwrap_or("");
        domain.split(':').next().unwrap_or("")
    }

    fn epoch_ms(&self) -> u64 {
        self.received_at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or_default()
    }

    /// The body as the event carries it: `(body, isBase64Encoded)`; `None` when empty.
    fn event_body(&self) -> (Option<Value>, bool) {
        if self.body.is_empty() {
            return (None, false);
        }
        match std::str::from_utf8(self.body) {
            Ok(text) if body_is_text(&self.parts.headers) => {
                (Some(Value::String(text.to_owned())), false)
            }
            _ => (Some(Value::String(BASE64.encode(self.body))), true),
        }
    }
}

/// Whether HTTP APIs pass a body as text (otherwise base64, `isBase64Encoded: true`):
/// its Content-Type is `text/*`, JSON, XML, JavaScript or YAML (`+json`/`+xml` suffixes
/// included). A body without Content-Type, a form (`x-www-form-urlencoded`) and
/// anything else is base64, as AWS's HTTP APIs send them.
pub fn body_is_text(headers: &HeaderMap) -> bool {
    let Some(media) = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    else {
        return false;
    };
    media.starts_with("text/")
        || media.ends_with("+json")
        || media.ends_with("+xml")
        || matches!(
            media.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-javascript"
                | "application/yaml"
                | "application/x-yaml"
        )
}

/// `headers` in 2.0: lower-case names, duplicates comma-joined, no `cookie`; the
/// client's address appended to `x-forwarded-for`.
fn headers_v2(map: &HeaderMap, source_ip: IpAddr) -> Map<String, Value> {
    let mut out = Map::new();
    for name in map.keys() {
        if name == COOKIE {
            continue;
        }
        let joined = map
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(",");
        out.insert(name.as_str().to_owned(), Value::String(joined));
    }
    let mut unused = Map::new();
    forwarded_for(&mut out, &mut unused, source_ip);
    out
}

/// `cookies` in 2.0: every cookie of every `Cookie` header, in order.
fn cookies(map: &HeaderMap) -> Vec<Value> {
    map.get_all(COOKIE)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(';')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        })
        .map(Value::String)
        .collect()
}

/// `queryStringParameters` in 2.0: decoded, duplicates comma-joined.
fn query_v2(raw: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in crate::query::pairs(raw.unwrap_or("")) {
        match out.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                out.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    out
}

fn string_object<'p>(
    pairs: impl IntoIterator<Item = (&'p String, &'p String)>,
) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

fn pairs_object(pairs: &[(String, String)]) -> Map<String, Value> {
    string_object(pairs.iter().map(|(k, v)| (k, v)))
}

/// Inserts `value` under `key` unless it is an empty object or array (AWS leaves such
/// members out of 2.0 events).
fn insert_non_empty(map: &mut Map<String, Value>, key: &str, value: Value) {
    let empty = match &value {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    };
    if !empty {
        map.insert(key.to_owned(), value);
    }
}

/// The 2.0 request members shared by the integration event and the Lambda authorizer's
/// 2.0 event: everything but `version`, `body` and `isBase64Encoded`;
/// `with_authorizer` adds `requestContext.authorizer`.
pub(crate) fn request_members_v2(
    input: &HttpEventInput<'_>,
    with_authorizer: bool,
) -> Map<String, Value> {
    let parts = input.parts;
    let domain_name = input.domain_name();
    let mut context = Map::new();
    context.insert("accountId".into(), json!(input.account_id));
    context.insert("apiId".into(), json!(input.api_id));
    if let Some(cert) = input.client_cert {
        context.insert(
            "authentication".into(),
            json!({ "clientCert": cert.to_json() }),
        );
    }
    if with_authorizer {
        if let Some(authorizer) = input.authorizer {
            context.insert("authorizer".into(), authorizer.to_v2());
        }
    }
    context.insert("domainName".into(), json!(domain_name));
    context.insert(
        "domainPrefix".into(),
        json!(domain_name.split('.').next().unwrap_or("")),
    );
    let mut http = Map::new();
    http.insert("method".into(), json!(parts.method.as_str()));
    http.insert("path".into(), json!(input.raw_path));
    http.insert("protocol".into(), json!(protocol(parts.version)));
    http.insert("sourceIp".into(), json!(input.source_ip.to_string()));
    if let Some(agent) = input.header(USER_AGENT.as_str()) {
        http.insert("userAgent".into(), json!(agent));
    }
    context.insert("http".into(), Value::Object(http));
    context.insert("requestId".into(), json!(input.request_id));
    context.insert("routeKey".into(), json!(input.route_key));
    context.insert("stage".into(), json!(input.stage));
    context.insert("time".into(), json!(request_time(input.received_at)));
    context.insert("timeEpoch".into(), json!(input.epoch_ms()));

    let mut event = Map::new();
    event.insert("routeKey".into(), json!(input.route_key));
    event.insert("rawPath".into(), json!(input.raw_path));
    event.insert(
        "rawQueryString".into(),
        json!(parts.uri.query().unwrap_or("")),
    );
    insert_non_empty(&mut event, "cookies", Value::Array(cookies(&parts.headers)));
    insert_non_empty(
        &mut event,
        "headers",
        Value::Object(headers_v2(&parts.headers, input.source_ip)),
    );
    insert_non_empty(
        &mut event,
        "queryStringParameters",
        Value::Object(query_v2(parts.uri.query())),
    );
    event.insert("requestContext".into(), Value::Object(context));
    insert_non_empty(
        &mut event,
        "pathParameters",
        Value::Object(pairs_object(input.path_parameters)),
    );
    insert_non_empty(
        &mut event,
        "stageVariables",
        Value::Object(string_object(input.stage_variables)),
    );
    event
}

/// The Lambda proxy event, payload format 2.0.
pub fn event_v2(input: &HttpEventInput<'_>) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.extend(request_members_v2(input, true));
    let (body, is_base64) = input.event_body();
    if let Some(body) = body {
        event.insert("body".into(), body);
    }
    event.insert("isBase64Encoded".into(), json!(is_base64));
    Value::Object(event)
}

/// The route's path as 1.0 `resource`/`resourcePath`: the route key's path
/// (`GET /pets/{id}` → `/pets/{id}`), the key itself for `$default`.
fn resource_of(route_key: &str) -> &str {
    match route_key.split_once(' ') {
        Some((_, path)) => path,
        None => route_key,
    }
}

/// The 1.0 request members shared by the integration event and the Lambda authorizer's
/// 1.0 event (everything but `version`, `body` and `isBase64Encoded`).
pub(crate) fn request_members_v1(input: &HttpEventInput<'_>) -> Map<String, Value> {
    let parts = input.parts;
    let domain_name = input.domain_name();
    let (mut headers, mut multi_headers) = split_headers(&parts.headers);
    forwarded_for(&mut headers, &mut multi_headers, input.source_ip);
    let (query, multi_query) = split_query(parts.uri.query());
    let resource = resource_of(input.route_key);
    let or_null = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    let iam = match input.authorizer {
        Some(EventAuthorizer::Iam {
            access_key,
            account_id,
            caller_id,
            user_arn,
        }) => Some((access_key, account_id, caller_id, user_arn)),
        _ => None,
    };
    let mut identity = json!({
        "accessKey": iam.map(|i| i.0),
        "accountId": iam.map(|i| i.1),
        "caller": iam.map(|i| i.2),
        "cognitoAuthenticationProvider": null,
        "cognitoAuthenticationType": null,
        "cognitoIdentityId": null,
        "cognitoIdentityPoolId": null,
        "principalOrgId": null,
        "sourceIp": input.source_ip.to_string(),
        "user": iam.map(|i| i.2),
        "userAgent": input.header(USER_AGENT.as_str()),
        "userArn": iam.map(|i| i.3),
    });
    if let (Some(cert), Some(map)) = (input.client_cert, identity.as_object_mut()) {
        map.insert("clientCert".into(), cert.to_json());
    }
    let authorizer = match input.authorizer {
        None => json!({"claims": null, "scopes": null}),
        Some(a) => a.to_v1().unwrap_or(Value::Null),
    };
    let context = json!({
        "accountId": input.account_id,
        "apiId": input.api_id,
        "authorizer": authorizer,
        "domainName": domain_name,
        "domainPrefix": domain_name.split('.').next().unwrap_or(""),
        "extendedRequestId": input.request_id,
        "httpMethod": parts.method.as_str(),
        "identity": identity,
        "path": input.raw_path,
        "protocol": protocol(parts.version),
        "requestId": input.request_id,
        "requestTime": request_time(input.received_at),
        "requestTimeEpoch": input.epoch_ms(),
        "resourceId": input.route_key,
        "resourcePath": resource,
        "stage": input.stage,
    });
    let mut event = Map::new();
    event.insert("resource".into(), json!(resource));
    event.insert("path".into(), json!(input.raw_path));
    event.insert("httpMethod".into(), json!(parts.method.as_str()));
    event.insert("headers".into(), or_null(headers));
    event.insert("multiValueHeaders".into(), or_null(multi_headers));
    event.insert("queryStringParameters".into(), or_null(query));
    event.insert(
        "multiValueQueryStringParameters".into(),
        or_null(multi_query),
    );
    event.insert("requestContext".into(), context);
    event.insert(
        "pathParameters".into(),
        or_null(pairs_object(input.path_parameters)),
    );
    event.insert(
        "stageVariables".into(),
        or_null(string_object(input.stage_variables)),
    );
    event
}

/// The Lambda proxy event, payload format 1.0, as HTTP APIs send it: the REST API's
/// event with `version: "1.0"`, the route key as `resourceId`, the route's path as
/// `resource`/`resourcePath` (`$default` for the default route), the stage segment in
/// `path`, no `deploymentId`, no API key in `identity`, and the authorizer as
/// `{claims, scopes}` (JWT; both null without authorizer) or the Lambda context.
pub fn event_v1(input: &HttpEventInput<'_>) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), json!("1.0"));
    event.extend(request_members_v1(input));
    let (body, is_base64) = input.event_body();
    event.insert("body".into(), body.unwrap_or(Value::Null));
    event.insert("isBase64Encoded".into(), json!(is_base64));
    Value::Object(event)
}

/// Turns a function's 1.0 result into the response, for an HTTP API: the REST rules
/// ([`proxy_response`]), with a base64 body always decoded (HTTP APIs have no binary
/// media types).
pub fn response_v1(payload: &[u8]) -> Result<Response<Body>, MalformedResult> {
    proxy_response(payload, true)
}

/// The Content-Type of a 2.0 result with `statusCode` and no `content-type` header
/// (what AWS's HTTP APIs send then).
pub const DEFAULT_V2_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Turns a function's 2.0 result into the response.
///
/// - An object with `statusCode`: `statusCode`, `headers` (strings; a value with commas
///   is sent as one header), `cookies` (each a `Set-Cookie` header), `body`,
///   `isBase64Encoded` (the body is decoded); other members are ignored
///   (`multiValueHeaders` is a 1.0 member); without a `content-type` header,
///   [`DEFAULT_V2_CONTENT_TYPE`].
/// - Any other JSON value (an object without `statusCode`, a string, a number, an
///   array, `true`, `null`): 200, `content-type: application/json`, the value as body
///   (a string's text, without quotes; anything else as the function returned it).
/// - Not JSON: [`MalformedResult::NotJson`].
pub fn response_v2(payload: &[u8]) -> Result<Response<Body>, MalformedResult> {
    let value: Value = serde_json::from_slice(payload).map_err(|_| MalformedResult::NotJson)?;
    let result = match value {
        Value::Object(map) if map.contains_key("statusCode") => map,
        other => return Ok(inferred(other, payload)),
    };
    let status = match result.get("statusCode") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .and_then(|n| StatusCode::from_u16(n).ok())
            .ok_or(MalformedResult::StatusCode)?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(|n| StatusCode::from_u16(n).ok())
            .ok_or(MalformedResult::StatusCode)?,
        _ => return Err(MalformedResult::StatusCode),
    };
    let mut headers = HeaderMap::new();
    if let Some(single) = non_null(result.get("headers")) {
        let single = single
            .as_object()
            .ok_or(MalformedResult::Headers("headers"))?;
        for (name, value) in single {
            let name = header_name(name)?;
            let value = header_value(&name, value, "headers")?;
            headers.insert(name, value);
        }
    }
    if let Some(cookies) = non_null(result.get("cookies")) {
        let cookies = cookies
            .as_array()
            .ok_or(MalformedResult::Headers("cookies"))?;
        for cookie in cookies {
            let cookie = cookie.as_str().ok_or(MalformedResult::Headers("cookies"))?;
            let value = HeaderValue::from_str(cookie)
                .map_err(|_| MalformedResult::Header(SET_COOKIE.to_string()))?;
            headers.append(SET_COOKIE, value);
        }
    }
    strip_hop_by_hop(&mut headers);
    headers.remove(CONTENT_LENGTH);
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(DEFAULT_V2_CONTENT_TYPE),
        );
    }
    let base64 = match non_null(result.get("isBase64Encoded")) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(MalformedResult::Base64Flag),
    };
    let body = match non_null(result.get("body")) {
        None => Bytes::new(),
        Some(Value::String(text)) if base64 => Bytes::from(
            BASE64
                .decode(text.trim())
                .map_err(|_| MalformedResult::Base64)?,
        ),
        Some(Value::String(text)) => Bytes::from(text.clone()),
        Some(_) => return Err(MalformedResult::Body),
    };
    Ok(build(status, headers, body))
}

/// AWS's inference for a 2.0 result without `statusCode`.
fn inferred(value: Value, payload: &[u8]) -> Response<Body> {
    let body = match value {
        Value::String(text) => Bytes::from(text),
        _ => Bytes::copy_from_slice(trim_ascii(payload)),
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    build(StatusCode::OK, headers, body)
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn build(status: StatusCode, headers: HeaderMap, body: Bytes) -> Response<Body> {
    let mut response = Response::new(if body.is_empty() {
        Body::Empty
    } else {
        Body::full(body)
    });
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use http::Request;
    use http_body_util::BodyExt;
    use std::time::{Duration, UNIX_EPOCH};

    async fn body_of(response: Response<Body>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    /// The request behind AWS's documented example events.
    pub(crate) fn example_parts() -> Parts {
        Request::post("/my/path?parameter1=value1&parameter1=value2&parameter2=value")
            .header("Header1", "value1")
            .header("Header2", "value1")
            .header("Header2", "value2")
            .header("Cookie", "cookie1; cookie2")
            .header("Host", "id.execute-api.us-east-1.amazonaws.com")
            .header("User-Agent", "agent")
            .header("Content-Type", "text/plain")
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    pub(crate) fn example_cert() -> ClientCert {
        ClientCert {
            client_cert_pem: "CERT_CONTENT".into(),
            subject_dn: "www.example.com".into(),
            issuer_dn: "Example issuer".into(),
            serial_number: "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1".into(),
            not_before: "May 28 12:30:02 2019 GMT".into(),
            not_after: "Aug  5 09:36:04 2021 GMT".into(),
        }
    }

    /// No stage variables.
    pub(crate) static NO_VARS: std::collections::BTreeMap<String, String> =
        std::collections::BTreeMap::new();

    pub(crate) fn example_input<'a>(
        parts: &'a Parts,
        body: &'a [u8],
        path_parameters: &'a [(String, String)],
        stage_variables: &'a std::collections::BTreeMap<String, String>,
        authorizer: Option<&'a EventAuthorizer>,
        cert: Option<&'a ClientCert>,
    ) -> HttpEventInput<'a> {
        HttpEventInput {
            parts,
            raw_path: "/my/path",
            body,
            route_key: "$default",
            stage: "$default",
            api_id: "api-id",
            account_id: "123456789012",
            request_id: "id",
            source_ip: IpAddr::from([192, 0, 2, 1]),
            received_at: UNIX_EPOCH + Duration::from_millis(1583348638390),
            path_parameters,
            stage_variables,
            authorizer,
            client_cert: cert,
        }
    }

    /// The headers AWS's example leaves out but a real request carries.
    fn strip_transport_headers(event: &mut Value, agent: &str) {
        let headers = event["headers"].as_object_mut().unwrap();
        for (name, value) in [
            ("host", "id.execute-api.us-east-1.amazonaws.com"),
            ("user-agent", agent),
            ("content-type", "text/plain"),
            ("x-forwarded-for", "192.0.2.1"),
        ] {
            assert_eq!(headers.remove(name), Some(json!(value)), "{name}");
        }
    }

    #[test]
    fn the_2_0_event_is_aws_documented_example() {
        let parts = example_parts();
        let params = [("parameter1".to_string(), "value1".to_string())];
        let vars: std::collections::BTreeMap<String, String> = [
            ("stageVariable1".to_string(), "value1".to_string()),
            ("stageVariable2".to_string(), "value2".to_string()),
        ]
        .into();
        let jwt = EventAuthorizer::Jwt {
            claims: vec![
                ("claim1".into(), "value1".into()),
                ("claim2".into(), "value2".into()),
            ],
            scopes: Some(vec!["scope1".into(), "scope2".into()]),
        };
        let cert = example_cert();
        let input = example_input(
            &parts,
            b"Hello from Lambda",
            &params,
            &vars,
            Some(&jwt),
            Some(&cert),
        );
        let mut event = event_v2(&input);
        strip_transport_headers(&mut event, "agent");
        // AWS's example, member for member ("Working with AWS Lambda proxy integrations
        // for HTTP APIs"). Its `time` says 12/Mar while its `timeEpoch` is 4 March: the
        // two are derived from one clock here.
        let expected = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/my/path",
            "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
            "cookies": ["cookie1", "cookie2"],
            "headers": {"header1": "value1", "header2": "value1,value2"},
            "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api-id",
                "authentication": {
                    "clientCert": {
                        "clientCertPem": "CERT_CONTENT",
                        "subjectDN": "www.example.com",
                        "issuerDN": "Example issuer",
                        "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
                        "validity": {
                            "notBefore": "May 28 12:30:02 2019 GMT",
                            "notAfter": "Aug  5 09:36:04 2021 GMT"
                        }
                    }
                },
                "authorizer": {
                    "jwt": {
                        "claims": {"claim1": "value1", "claim2": "value2"},
                        "scopes": ["scope1", "scope2"]
                    }
                },
                "domainName": "id.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "id",
                "http": {
                    "method": "POST",
                    "path": "/my/path",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.1",
                    "userAgent": "agent"
                },
                "requestId": "id",
                "routeKey": "$default",
                "stage": "$default",
                "time": "04/Mar/2020:19:03:58 +0000",
                "timeEpoch": 1583348638390u64
            },
            "body": "Hello from Lambda",
            "pathParameters": {"parameter1": "value1"},
            "isBase64Encoded": false,
            "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
        });
        assert_eq!(event, expected);
    }

    #[test]
    fn empty_members_are_absent_in_2_0() {
        let parts = Request::get("/dev/pets")
            .header("Host", "abc.execute-api.local:8080")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let mut input = example_input(&parts, b"", &[], &NO_VARS, None, None);
        input.raw_path = "/dev/pets";
        input.route_key = "GET /pets";
        input.stage = "dev";
        let event = event_v2(&input);
        let map = event.as_object().unwrap();
        for absent in [
            "cookies",
            "queryStringParameters",
            "pathParameters",
            "stageVariables",
            "body",
        ] {
            assert!(!map.contains_key(absent), "{absent}: {event}");
        }
        assert_eq!(event["rawQueryString"], "");
        assert_eq!(event["rawPath"], "/dev/pets");
        assert_eq!(event["isBase64Encoded"], false);
        let context = &event["requestContext"];
        assert!(context.get("authorizer").is_none());
        assert!(context.get("authentication").is_none());
        assert!(context["http"].get("userAgent").is_none());
        assert_eq!(context["domainName"], "abc.execute-api.local");
        assert_eq!(context["domainPrefix"], "abc");
        assert_eq!(context["routeKey"], "GET /pets");
        assert_eq!(context["stage"], "dev");
        assert_eq!(context["http"]["path"], "/dev/pets");
        assert_eq!(context["http"]["method"], "GET");
        assert_eq!(
            event["headers"],
            json!({"host": "abc.execute-api.local:8080", "x-forwarded-for": "192.0.2.1"})
        );
    }

    #[test]
    fn binary_bodies_are_base64() {
        for (content_type, text) in [
            (Some("application/json; charset=utf-8"), true),
            (Some("text/html"), true),
            (Some("application/hal+json"), true),
            (Some("application/x-www-form-urlencoded"), false),
            (Some("image/png"), false),
            (None, false),
        ] {
            let mut builder = Request::post("/");
            if let Some(ct) = content_type {
                builder = builder.header("content-type", ct);
            }
            let parts = builder.body(()).unwrap().into_parts().0;
            let input = example_input(&parts, b"a=1", &[], &NO_VARS, None, None);
            let event = event_v2(&input);
            assert_eq!(event["isBase64Encoded"], !text, "{content_type:?}");
            let expected = if text { "a=1" } else { "YT0x" };
            assert_eq!(event["body"], expected, "{content_type:?}");
        }
        // Invalid UTF-8 is base64 whatever the type says.
        let parts = Request::post("/")
            .header("content-type", "text/plain")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let input = example_input(&parts, &[0xff, 0x00], &[], &NO_VARS, None, None);
        assert_eq!(event_v2(&input)["body"], "/wA=");
    }

    #[test]
    fn authorizers_in_2_0_and_1_0() {
        let lambda = EventAuthorizer::Lambda {
            principal_id: Some("u1".into()),
            context: vec![("tenant".into(), json!("t1")), ("level".into(), json!(3))],
        };
        assert_eq!(
            lambda.to_v2(),
            json!({"lambda": {"tenant": "t1", "level": 3}})
        );
        assert_eq!(
            lambda.to_v1(),
            Some(json!({"principalId": "u1", "tenant": "t1", "level": 3}))
        );
        let iam = EventAuthorizer::Iam {
            access_key: "AKIA1".into(),
            account_id: "111122223333".into(),
            caller_id: "AIDA1".into(),
            user_arn: "arn:aws:iam::111122223333:user/u".into(),
        };
        assert_eq!(
            iam.to_v2(),
            json!({"iam": {
                "accessKey": "AKIA1", "accountId": "111122223333", "callerId": "AIDA1",
                "cognitoIdentity": null, "principalOrgId": null,
                "userArn": "arn:aws:iam::111122223333:user/u", "userId": "AIDA1"
            }})
        );
        assert_eq!(iam.to_v1(), None);
        let parts = example_parts();
        let input = example_input(&parts, b"", &[], &NO_VARS, Some(&iam), None);
        let event = event_v1(&input);
        let identity = &event["requestContext"]["identity"];
        assert_eq!(identity["accessKey"], "AKIA1");
        assert_eq!(identity["userArn"], "arn:aws:iam::111122223333:user/u");
        assert_eq!(event["requestContext"]["authorizer"], Value::Null);
        let jwt = EventAuthorizer::Jwt {
            claims: vec![("sub".into(), "u".into())],
            scopes: None,
        };
        assert_eq!(
            jwt.to_v2(),
            json!({"jwt": {"claims": {"sub": "u"}, "scopes": null}})
        );
    }

    #[test]
    fn authorizer_results_become_event_authorizers() {
        use crate::phases::authorize::AuthorizerResult;
        let jwt = AuthorizerResult {
            principal_id: Some("u".into()),
            claims: vec![
                ("sub".into(), "u".into()),
                ("scope".into(), "read write".into()),
            ],
            ..AuthorizerResult::default()
        };
        assert_eq!(
            EventAuthorizer::from_result(&jwt),
            Some(EventAuthorizer::Jwt {
                claims: vec![
                    ("sub".into(), "u".into()),
                    ("scope".into(), "read write".into())
                ],
                scopes: Some(vec!["read".into(), "write".into()]),
            })
        );
        let lambda = AuthorizerResult {
            context: vec![("k".into(), json!("v"))],
            ..AuthorizerResult::default()
        };
        assert_eq!(
            EventAuthorizer::from_result(&lambda).map(|a| a.to_v2()),
            Some(json!({"lambda": {"k": "v"}}))
        );
        assert_eq!(
            EventAuthorizer::from_result(&AuthorizerResult::default()),
            None
        );
    }

    #[test]
    fn the_1_0_event_is_aws_documented_example() {
        let parts = Request::get("/my/path?parameter1=value1&parameter1=value2&parameter2=value")
            .header("Header1", "value1")
            .header("Header2", "value1")
            .header("Header2", "value2")
            .header("Host", "id.execute-api.us-east-1.amazonaws.com")
            .header("User-Agent", "user-agent")
            .header("Content-Type", "text/plain")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let cert = example_cert();
        let mut input = example_input(
            &parts,
            b"Hello from Lambda!",
            &[],
            &NO_VARS,
            None,
            Some(&cert),
        );
        input.route_key = "GET /my/path";
        input.request_id = "id=";
        input.received_at = UNIX_EPOCH + Duration::from_millis(1583349317135);
        let mut event = event_v1(&input);
        strip_transport_headers(&mut event, "user-agent");
        let multi = event["multiValueHeaders"].as_object_mut().unwrap();
        for name in ["host", "user-agent", "content-type", "x-forwarded-for"] {
            assert!(multi.remove(name).is_some(), "{name}");
        }
        // AWS's 1.0 example for HTTP APIs, member for member; `resourceId` is the route
        // key and `extendedRequestId` the request id here.
        let expected = json!({
            "version": "1.0",
            "resource": "/my/path",
            "path": "/my/path",
            "httpMethod": "GET",
            "headers": {"header1": "value1", "header2": "value2"},
            "multiValueHeaders": {"header1": ["value1"], "header2": ["value1", "value2"]},
            "queryStringParameters": {"parameter1": "value2", "parameter2": "value"},
            "multiValueQueryStringParameters": {
                "parameter1": ["value1", "value2"],
                "parameter2": ["value"]
            },
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api-id",
                "authorizer": {"claims": null, "scopes": null},
                "domainName": "id.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "id",
                "extendedRequestId": "id=",
                "httpMethod": "GET",
                "identity": {
                    "accessKey": null,
                    "accountId": null,
                    "caller": null,
                    "cognitoAuthenticationProvider": null,
                    "cognitoAuthenticationType": null,
                    "cognitoIdentityId": null,
                    "cognitoIdentityPoolId": null,
                    "principalOrgId": null,
                    "sourceIp": "192.0.2.1",
                    "user": null,
                    "userAgent": "user-agent",
                    "userArn": null,
                    "clientCert": {
                        "clientCertPem": "CERT_CONTENT",
                        "subjectDN": "www.example.com",
                        "issuerDN": "Example issuer",
                        "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
                        "validity": {
                            "notBefore": "May 28 12:30:02 2019 GMT",
                            "notAfter": "Aug  5 09:36:04 2021 GMT"
                        }
                    }
                },
                "path": "/my/path",
                "protocol": "HTTP/1.1",
                "requestId": "id=",
                "requestTime": "04/Mar/2020:19:15:17 +0000",
                "requestTimeEpoch": 1583349317135u64,
                "resourceId": "GET /my/path",
                "resourcePath": "/my/path",
                "stage": "$default"
            },
            "pathParameters": null,
            "stageVariables": null,
            "body": "Hello from Lambda!",
            "isBase64Encoded": false
        });
        assert_eq!(event, expected);
    }

    #[tokio::test]
    async fn a_2_0_result_with_status_code() {
        let payload = br#"{"statusCode": 201, "headers": {"X-A": "1,2", "X-N": 3},
            "cookies": ["a=1; Path=/", "b=2"], "body": "{\"ok\":true}", "isBase64Encoded": false,
            "multiValueHeaders": {"X-M": ["ignored"]}, "extra": 1}"#;
        let response = response_v2(payload).unwrap();
        assert_eq!(response.status(), 201);
        let headers = response.headers();
        assert_eq!(headers["x-a"], "1,2");
        assert_eq!(headers["x-n"], "3");
        assert!(headers.get("x-m").is_none());
        let cookies: Vec<_> = headers.get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1; Path=/", "b=2"]);
        assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(body_of(response).await, r#"{"ok":true}"#);

        let binary = response_v2(
            br#"{"statusCode": "200", "headers": {"content-type": "image/png"},
                "body": "AAEC/w==", "isBase64Encoded": true}"#,
        )
        .unwrap();
        assert_eq!(binary.headers()[CONTENT_TYPE], "image/png");
        assert_eq!(body_of(binary).await, Bytes::from_static(&[0, 1, 2, 255]));
    }

    #[tokio::test]
    async fn a_2_0_result_without_status_code_is_inferred() {
        for (payload, body) in [
            (&br#"{"message": "hi"}"#[..], &br#"{"message": "hi"}"#[..]),
            (br#"  "a bare string"  "#, b"a bare string"),
            (b"42", b"42"),
            (br#"[1, "x"]"#, br#"[1, "x"]"#),
            (b"true", b"true"),
            (b"null", b"null"),
            (
                br#"{"body": "x", "headers": {"a": "b"}}"#,
                br#"{"body": "x", "headers": {"a": "b"}}"#,
            ),
        ] {
            let response = response_v2(payload).unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert!(response.headers().get("a").is_none());
            assert_eq!(body_of(response).await, Bytes::copy_from_slice(body));
        }
    }

    #[test]
    fn malformed_2_0_results_are_rejected() {
        for (payload, why) in [
            (&b"not json"[..], MalformedResult::NotJson),
            (b"", MalformedResult::NotJson),
            (br#"{"statusCode": null}"#, MalformedResult::StatusCode),
            (br#"{"statusCode": 99}"#, MalformedResult::StatusCode),
            (br#"{"statusCode": "x"}"#, MalformedResult::StatusCode),
            (
                br#"{"statusCode": 200, "body": {"a": 1}}"#,
                MalformedResult::Body,
            ),
            (
                br#"{"statusCode": 200, "headers": []}"#,
                MalformedResult::Headers("headers"),
            ),
            (
                br#"{"statusCode": 200, "cookies": "a=1"}"#,
                MalformedResult::Headers("cookies"),
            ),
            (
                br#"{"statusCode": 200, "cookies": [1]}"#,
                MalformedResult::Headers("cookies"),
            ),
            (
                br#"{"statusCode": 200, "isBase64Encoded": "no"}"#,
                MalformedResult::Base64Flag,
            ),
            (
                br#"{"statusCode": 200, "body": "%%", "isBase64Encoded": true}"#,
                MalformedResult::Base64,
            ),
        ] {
            assert_eq!(
                response_v2(payload).err(),
                Some(why),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[tokio::test]
    async fn a_1_0_result_for_http_apis_decodes_base64() {
        let response =
            response_v1(br#"{"statusCode": 200, "body": "AAEC/w==", "isBase64Encoded": true}"#)
                .unwrap();
        assert_eq!(body_of(response).await, Bytes::from_static(&[0, 1, 2, 255]));
        assert_eq!(
            response_v1(br#""bare""#).err(),
            Some(MalformedResult::NotAnObject)
        );
    }
}
