//! AWS_PROXY with a Lambda function: the request becomes the proxy event (format 1.0, as
//! API Gateway's REST APIs send it), the function's result
//! `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` becomes the response.
//!
//! A result that breaks that contract (not an object, unknown keys, a non-string body,
//! bad header names, invalid base64) and a function error (`X-Amz-Function-Error`) are
//! integration failures: 502 `{"message": "Internal server error"}`, as API Gateway
//! answers "Malformed Lambda proxy response".

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::net::IpAddr;

use bytes::Bytes;
use http::header::{
    HeaderName, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT,
};
use http::request::Parts;
use http::{HeaderMap, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::http_proxy::strip_hop_by_hop;
use super::invoke_api::{self, FunctionsEndpoint};
use super::media_type;
use crate::backend_client::BackendClient;
use crate::body::Body;
use crate::compile::function::FunctionIntegration;
use crate::compile::mapping::decode;
use crate::compile::DEFAULT_CONTENT_TYPE;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::api_key::X_API_KEY;
use crate::phases::route::Routed;
use crate::template::request_time;

/// Why a function's proxy result was rejected (logged; the client sees a 502).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MalformedResult {
    /// The payload is not JSON at all (payload format 2.0 accepts any JSON value).
    #[error("the result is not JSON")]
    NotJson,
    /// The payload is not a JSON object.
    #[error("the result is not a JSON object")]
    NotAnObject,
    /// A key outside the contract.
    #[error("unexpected key {0:?}")]
    UnexpectedKey(String),
    /// `statusCode` is not an HTTP status.
    #[error("invalid statusCode")]
    StatusCode,
    /// `headers` / `multiValueHeaders` are not maps of strings (lists of strings).
    #[error("invalid {0}")]
    Headers(&'static str),
    /// A header name or value cannot be sent.
    #[error("invalid header {0:?}")]
    Header(String),
    /// `body` is neither a string nor null.
    #[error("body must be a string")]
    Body,
    /// `isBase64Encoded` is not a boolean.
    #[error("isBase64Encoded must be a boolean")]
    Base64Flag,
    /// `isBase64Encoded` is true and the body is not base64.
    #[error("body is not valid base64")]
    Base64,
}

/// Invokes the function with the proxy event and turns its result into the response.
pub async fn invoke(
    client: &BackendClient,
    endpoint: Option<&FunctionsEndpoint>,
    integration: &FunctionIntegration,
    ctx: &RequestContext,
    routed: &Routed,
    parts: Parts,
    body: Body,
) -> Result<Response<Body>, GatewayError> {
    let body = crate::phases::read_body(body).await?;
    let binary = integration
        .binary_media_types
        .matches(media_type(&parts.headers));
    let event = proxy_event(&EventInput {
        ctx,
        routed,
        parts: &parts,
        account: integration.target.account.as_deref(),
        body: &body,
        binary,
    });
    let event = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
    let invocation = invoke_api::invoke(
        client,
        ctx,
        endpoint,
        &integration.target,
        event,
        integration.timeout,
    )
    .await?;
    if let Some(kind) = &invocation.function_error {
        tracing::warn!(
            request_id = ctx.request_id_str(),
            function = %integration.target.name,
            error = %kind,
            "function failed"
        );
        return Err(GatewayError::IntegrationFailure(format!(
            "function error ({kind})"
        )));
    }
    let accept = parts.headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let decode_binary = integration.binary_media_types.accepts_binary(accept);
    proxy_response(&invocation.payload, decode_binary).map_err(|reason| {
        tracing::warn!(
            request_id = ctx.request_id_str(),
            function = %integration.target.name,
            %reason,
            "malformed Lambda proxy response"
        );
        GatewayError::IntegrationFailure(format!("malformed Lambda proxy response: {reason}"))
    })
}

/// What the proxy event is made of.
pub(crate) struct EventInput<'a> {
    pub ctx: &'a RequestContext,
    pub routed: &'a Routed,
    pub parts: &'a Parts,
    /// The API owner's account (taken from the function ARN when it names one).
    pub account: Option<&'a str>,
    pub body: &'a [u8],
    /// Whether the body is binary (its Content-Type is a binary media type): base64.
    pub binary: bool,
}

/// Builds the proxy event, format 1.0.
pub(crate) fn proxy_event(input: &EventInput<'_>) -> Value {
    let EventInput {
        ctx,
        routed,
        parts,
        account,
        body,
        binary,
    } = *input;
    let stage_path = match routed.stage_path(parts.uri.path()) {
        "" => "/",
        path => path,
    };
    let (mut headers, mut multi_headers) = headers(&parts.headers);
    forwarded_for(&mut headers, &mut multi_headers, ctx.source_ip);
    let (query, multi_query) = query(parts.uri.query());
    let scope = &routed.method.template_scope;
    let path_parameters: Map<String, Value> = scope
        .param_names
        .iter()
        .zip(&routed.captures)
        .map(|(name, capture)| {
            let value = decode(capture.of(stage_path)).into_owned();
            (name.to_string(), Value::String(value))
        })
        .collect();
    let stage_variables: Map<String, Value> = scope
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let domain = header(HOST.as_str()).or(parts.uri.host()).unwrap_or("");
    let domain_name = domain.split(':').next().unwrap_or("");
    let api_key_id = ctx.api_key_id.get().map(|id| &**id);
    let caller = ctx.iam_caller.get();
    let epoch_ms = ctx
        .received_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default();
    let (body, is_base64) = match (body.is_empty(), binary) {
        (true, _) => (Value::Null, false),
        (false, true) => (Value::String(BASE64.encode(body)), true),
        (false, false) => (
            Value::String(String::from_utf8_lossy(body).into_owned()),
            false,
        ),
    };
    let non_empty = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    json!({
        "resource": &*routed.method.resource_path,
        "path": stage_path,
        "httpMethod": parts.method.as_str(),
        "headers": non_empty(headers),
        "multiValueHeaders": non_empty(multi_headers),
        "queryStringParameters": non_empty(query),
        "multiValueQueryStringParameters": non_empty(multi_query),
        "pathParameters": non_empty(path_parameters),
        "stageVariables": non_empty(stage_variables),
        "requestContext": {
            "resourceId": &*scope.resource_id,
            "resourcePath": &*routed.method.resource_path,
            "httpMethod": parts.method.as_str(),
            "extendedRequestId": ctx.extended_request_id().as_str(),
            "requestTime": request_time(ctx.received_at),
            "path": format!("/{}{}", routed.stage.stage_name, stage_path),
            "accountId": account,
            "protocol": protocol(parts.version),
            "stage": &*routed.stage.stage_name,
            "domainPrefix": domain_name.split('.').next().unwrap_or(""),
            "requestTimeEpoch": epoch_ms,
            "requestId": ctx.request_id_str(),
            "identity": {
                "cognitoIdentityPoolId": null,
                "accountId": null,
                "cognitoIdentityId": null,
                "caller": caller.map(|c| &*c.user_arn),
                "sourceIp": ctx.source_ip.to_string(),
                "principalOrgId": null,
                "accessKey": caller.map(|c| &*c.access_key),
                "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null,
                "userArn": caller.map(|c| &*c.user_arn),
                "userAgent": header(USER_AGENT.as_str()),
                "user": null,
                "apiKey": api_key_id.and(header(X_API_KEY)),
                "apiKeyId": api_key_id,
                "clientCert": ctx.client_cert.as_ref().map(|c| c.to_json()),
            },
            "domainName": domain_name,
            "deploymentId": &*scope.deployment_id,
            "apiId": &*routed.stage.api_id,
            "authorizer": ctx.authorizer.get().map(|a| a.context_object()),
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

pub(crate) fn protocol(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    }
}

/// `headers` (the last value of each) and `multiValueHeaders` (all of them).
pub(crate) fn headers(map: &HeaderMap) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi = Map::new();
    for name in map.keys() {
        let values: Vec<Value> = map
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        if let Some(last) = values.last() {
            single.insert(name.as_str().to_owned(), last.clone());
        }
        multi.insert(name.as_str().to_owned(), Value::Array(values));
    }
    (single, multi)
}

/// Adds the client's address to `X-Forwarded-For`, as API Gateway's front end does.
pub(crate) fn forwarded_for(
    single: &mut Map<String, Value>,
    multi: &mut Map<String, Value>,
    ip: IpAddr,
) {
    const NAME: &str = "x-forwarded-for";
    let value = match single.get(NAME).and_then(Value::as_str) {
        Some(existing) if !existing.trim().is_empty() => format!("{existing}, {ip}"),
        _ => ip.to_string(),
    };
    single.insert(NAME.to_owned(), Value::String(value.clone()));
    multi.insert(NAME.to_owned(), json!([value]));
}

/// `queryStringParameters` (the last value of each key) and
/// `multiValueQueryStringParameters` (all of them, in order), decoded.
pub(crate) fn query(raw: Option<&str>) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi = Map::new();
    for (k, v) in crate::query::pairs(raw.unwrap_or("")) {
        let (k, v) = (k.into_owned(), v.into_owned());
        single.insert(k.clone(), Value::String(v.clone()));
        if let Value::Array(values) = multi.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
            values.push(Value::String(v));
        }
    }
    (single, multi)
}

const RESULT_KEYS: [&str; 5] = [
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
];

/// Turns a proxy result into the response. `decode_binary`: the client accepts a binary
/// media type, so a base64 body (`isBase64Encoded`) is decoded; otherwise it is sent as
/// the base64 text, as API Gateway does.
pub(crate) fn proxy_response(
    payload: &[u8],
    decode_binary: bool,
) -> Result<Response<Body>, MalformedResult> {
    let Ok(Value::Object(result)) = serde_json::from_slice::<Value>(payload) else {
        return Err(MalformedResult::NotAnObject);
    };
    if let Some(key) = result.keys().find(|k| !RESULT_KEYS.contains(&k.as_str())) {
        return Err(MalformedResult::UnexpectedKey(key.clone()));
    }
    let status = match result.get("statusCode") {
        None | Some(Value::Null) => StatusCode::OK,
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
        Some(_) => return Err(MalformedResult::StatusCode),
    };
    let mut headers = HeaderMap::new();
    if let Some(multi) = non_null(result.get("multiValueHeaders")) {
        let multi = multi
            .as_object()
            .ok_or(MalformedResult::Headers("multiValueHeaders"))?;
        for (name, values) in multi {
            let values = values
                .as_array()
                .ok_or(MalformedResult::Headers("multiValueHeaders"))?;
            let name = header_name(name)?;
            for value in values {
                let value = header_value(&name, value, "multiValueHeaders")?;
                headers.append(name.clone(), value);
            }
        }
    }
    if let Some(single) = non_null(result.get("headers")) {
        let single = single
            .as_object()
            .ok_or(MalformedResult::Headers("headers"))?;
        for (name, value) in single {
            let name = header_name(name)?;
            let value = header_value(&name, value, "headers")?;
            // multiValueHeaders win for a name present in both.
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        }
    }
    strip_hop_by_hop(&mut headers);
    headers.remove(CONTENT_LENGTH);
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    }
    let base64 = match non_null(result.get("isBase64Encoded")) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(MalformedResult::Base64Flag),
    };
    let body = match non_null(result.get("body")) {
        None => Bytes::new(),
        Some(Value::String(text)) if base64 && decode_binary => Bytes::from(
            BASE64
                .decode(text.trim())
                .map_err(|_| MalformedResult::Base64)?,
        ),
        Some(Value::String(text)) => Bytes::from(text.clone()),
        Some(_) => return Err(MalformedResult::Body),
    };
    let mut response = Response::new(if body.is_empty() {
        Body::Empty
    } else {
        Body::full(body)
    });
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

pub(crate) fn non_null(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

pub(crate) fn header_name(name: &str) -> Result<HeaderName, MalformedResult> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| MalformedResult::Header(name.to_owned()))
}

pub(crate) fn header_value(
    name: &HeaderName,
    value: &Value,
    field: &'static str,
) -> Result<HeaderValue, MalformedResult> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(MalformedResult::Headers(field)),
    };
    HeaderValue::from_str(&text).map_err(|_| MalformedResult::Header(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(response: Response<Body>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn a_full_result_becomes_the_response() {
        let payload = br#"{"statusCode": 201, "headers": {"Access-Control-Allow-Origin": "*", "X-N": 3},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": "{\"ok\":true}", "isBase64Encoded": false}"#;
        let response = proxy_response(payload, false).unwrap();
        assert_eq!(response.status(), 201);
        let headers = response.headers();
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(headers["x-n"], "3");
        assert_eq!(headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(body_of(response).await, r#"{"ok":true}"#);
    }

    #[tokio::test]
    async fn headers_only_result_defaults_to_200_without_body() {
        // The seed's CORS example: `callback(null, {headers: {...}})`.
        let response = proxy_response(
            br#"{"headers": {"Access-Control-Allow-Origin": "*"}}"#,
            false,
        )
        .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert!(body_of(response).await.is_empty());
    }

    #[tokio::test]
    async fn multi_value_headers_win_over_headers() {
        let payload =
            br#"{"headers": {"x-a": "single"}, "multiValueHeaders": {"X-A": ["m1", "m2"]}}"#;
        let response = proxy_response(payload, false).unwrap();
        let values: Vec<_> = response.headers().get_all("x-a").iter().collect();
        assert_eq!(values, ["m1", "m2"]);
    }

    #[tokio::test]
    async fn base64_bodies_are_decoded_only_for_binary_accepts() {
        let payload = br#"{"statusCode": 200, "body": "AAEC/w==", "isBase64Encoded": true}"#;
        let decoded = proxy_response(payload, true).unwrap();
        assert_eq!(body_of(decoded).await, Bytes::from_static(&[0, 1, 2, 255]));
        let text = proxy_response(payload, false).unwrap();
        assert_eq!(body_of(text).await, "AAEC/w==");
    }

    #[test]
    fn malformed_results_are_rejected() {
        for (payload, why) in [
            (&br#""just a string""#[..], MalformedResult::NotAnObject),
            (b"not json", MalformedResult::NotAnObject),
            (b"null", MalformedResult::NotAnObject),
            (
                br#"{"statusCode": 200, "message": "x"}"#,
                MalformedResult::UnexpectedKey("message".into()),
            ),
            (br#"{"statusCode": "abc"}"#, MalformedResult::StatusCode),
            (br#"{"statusCode": 1000}"#, MalformedResult::StatusCode),
            (br#"{"body": {"an": "object"}}"#, MalformedResult::Body),
            (
                br#"{"headers": ["x"]}"#,
                MalformedResult::Headers("headers"),
            ),
            (
                br#"{"headers": {"x": {"y": 1}}}"#,
                MalformedResult::Headers("headers"),
            ),
            (
                br#"{"multiValueHeaders": {"x": "y"}}"#,
                MalformedResult::Headers("multiValueHeaders"),
            ),
            (
                br#"{"headers": {"bad name": "y"}}"#,
                MalformedResult::Header("bad name".into()),
            ),
            (
                br#"{"isBase64Encoded": "yes"}"#,
                MalformedResult::Base64Flag,
            ),
        ] {
            assert_eq!(
                proxy_response(payload, false).err(),
                Some(why),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
        assert_eq!(
            proxy_response(br#"{"body": "%%%", "isBase64Encoded": true}"#, true).err(),
            Some(MalformedResult::Base64)
        );
    }

    #[test]
    fn query_strings_keep_every_value() {
        let (single, multi) = query(Some("a=1&b=x+y&a=2&flag"));
        assert_eq!(
            Value::Object(single),
            json!({"a": "2", "b": "x y", "flag": ""})
        );
        assert_eq!(
            Value::Object(multi),
            json!({"a": ["1", "2"], "b": ["x y"], "flag": [""]})
        );
        let (single, _) = query(None);
        assert!(single.is_empty());
    }

    #[test]
    fn forwarded_for_gets_the_client_address() {
        let (mut single, mut multi) = (Map::new(), Map::new());
        forwarded_for(&mut single, &mut multi, IpAddr::from([10, 0, 0, 1]));
        assert_eq!(single["x-forwarded-for"], "10.0.0.1");
        single.insert("x-forwarded-for".into(), json!("1.2.3.4"));
        forwarded_for(&mut single, &mut multi, IpAddr::from([10, 0, 0, 1]));
        assert_eq!(single["x-forwarded-for"], "1.2.3.4, 10.0.0.1");
        assert_eq!(multi["x-forwarded-for"], json!(["1.2.3.4, 10.0.0.1"]));
    }

    #[test]
    fn headers_keep_every_value() {
        let mut map = HeaderMap::new();
        map.append("x-a", HeaderValue::from_static("1"));
        map.append("x-a", HeaderValue::from_static("2"));
        let (single, multi) = headers(&map);
        assert_eq!(Value::Object(single), json!({"x-a": "2"}));
        assert_eq!(Value::Object(multi), json!({"x-a": ["1", "2"]}));
    }
}
