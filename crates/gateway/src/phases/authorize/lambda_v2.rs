//! Lambda REQUEST authorizers of HTTP APIs ("Working with AWS Lambda authorizers for
//! HTTP APIs"): the event in authorizer payload format 2.0 and 1.0, and the answer,
//! simple (`{"isAuthorized": bool, "context": {...}}`, `enableSimpleResponses`) or an
//! IAM policy (the REST rules, [`parse_answer`]).
//!
//! What the answer's `context` exposes: `$context.authorizer.{key}` (parameter mapping,
//! access logs: [`AuthorizerResult::context_object`]) and, in the integration's proxy
//! event, `requestContext.authorizer.lambda.{key}` (2.0) or
//! `requestContext.authorizer.{key}` (1.0): [`integration_authorizer`].

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::lambda::{parse_answer, LambdaDecision};
use super::AuthorizerResult;
use crate::phases::integration::aws_proxy_v2::{
    request_members_v1, request_members_v2, EventAuthorizer, HttpEventInput,
};

/// The authorizer event, payload format 2.0: `version`, `type: "REQUEST"`, `routeArn`,
/// `identitySource` (the identity sources' values, in order), then the request as the
/// 2.0 proxy event has it (without body and authorizer).
pub fn request_event_v2(
    input: &HttpEventInput<'_>,
    route_arn: &str,
    identity_source: &[String],
) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("type".into(), json!("REQUEST"));
    event.insert("routeArn".into(), json!(route_arn));
    event.insert("identitySource".into(), json!(identity_source));
    event.extend(request_members_v2(input, false));
    Value::Object(event)
}

/// The authorizer event, payload format 1.0 (REST-compatible): `version: "1.0"`,
/// `type: "REQUEST"`, `methodArn`, `identitySource` and `authorizationToken` (the
/// identity sources' values joined with commas), then the request as the 1.0 proxy
/// event has it (without body).
pub fn request_event_v1(
    input: &HttpEventInput<'_>,
    method_arn: &str,
    identity_source: &[String],
) -> Value {
    let joined = identity_source.join(",");
    let mut event = Map::new();
    event.insert("version".into(), json!("1.0"));
    event.insert("type".into(), json!("REQUEST"));
    event.insert("methodArn".into(), json!(method_arn));
    event.insert("identitySource".into(), json!(joined));
    event.insert("authorizationToken".into(), json!(joined));
    let mut members = request_members_v1(input);
    // The authorizer has not run yet: no `requestContext.authorizer`.
    if let Some(context) = members
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
    {
        context.remove("authorizer");
    }
    event.extend(members);
    Value::Object(event)
}

/// The values of an authorizer's `identitySource` expressions for this request, in
/// order: `$request.header.{name}` (case-insensitive; repeated headers comma-joined),
/// `$request.querystring.{name}` (decoded; repeated keys comma-joined),
/// `$stageVariables.{name}` and `$context.{variable}` (`requestId`, `routeKey`, `stage`,
/// `apiId`, `accountId`, `domainName`, `domainPrefix`, `httpMethod`, `path`,
/// `protocol`, `identity.sourceIp`, `identity.userAgent`). `None` when one is missing or
/// empty (API Gateway then answers 401 without calling the function) or unknown.
pub fn identity_source_values(
    input: &HttpEventInput<'_>,
    sources: &[String],
) -> Option<Vec<String>> {
    let members = request_members_v2(input, false);
    let context = members.get("requestContext");
    let from = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    sources
        .iter()
        .map(|source| {
            let source = source.trim();
            let value = if let Some(name) = source.strip_prefix("$request.header.") {
                let values: Vec<String> = input
                    .parts
                    .headers
                    .get_all(name.to_ascii_lowercase().as_str())
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                (!values.is_empty()).then(|| values.join(","))
            } else if let Some(name) = source.strip_prefix("$request.querystring.") {
                from(
                    members
                        .get("queryStringParameters")
                        .and_then(|q| q.get(name)),
                )
            } else if let Some(name) = source.strip_prefix("$stageVariables.") {
                input.stage_variables.get(name).cloned()
            } else if let Some(variable) = source.strip_prefix("$context.") {
                let http = context.and_then(|c| c.get("http"));
                match variable {
                    "requestId" | "routeKey" | "stage" | "apiId" | "accountId" | "domainName"
                    | "domainPrefix" => from(context.and_then(|c| c.get(variable))),
                    "httpMethod" => from(http.and_then(|h| h.get("method"))),
                    "path" => from(http.and_then(|h| h.get("path"))),
                    "protocol" => from(http.and_then(|h| h.get("protocol"))),
                    "identity.sourceIp" => from(http.and_then(|h| h.get("sourceIp"))),
                    "identity.userAgent" => from(http.and_then(|h| h.get("userAgent"))),
                    _ => None,
                }
            } else {
                None
            };
            value.filter(|v| !v.is_empty())
        })
        .collect()
}

/// The ARN the authorizer event names (`routeArn` / `methodArn`) and an IAM policy
/// answer is evaluated against: `arn:aws:execute-api:{region}:{account}:{api}/{stage}/
/// {METHOD}/{path without leading slash}`. `path` is the request path after the
/// stage segment.
pub fn route_arn(
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    format!(
        "arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/{}",
        path.trim_start_matches('/')
    )
}

/// A function's answer.
#[derive(Debug)]
pub enum HttpLambdaAnswer {
    /// A simple answer (`enableSimpleResponses`): allowed or not, whatever the route.
    Simple {
        /// `isAuthorized`.
        authorized: bool,
        /// Its `context` (no principal, no policy).
        result: Arc<AuthorizerResult>,
    },
    /// An IAM policy answer, evaluated against the route ARN.
    Policy(LambdaDecision),
}

impl HttpLambdaAnswer {
    /// What the request learns from it (`$context.authorizer`).
    pub fn result(&self) -> &Arc<AuthorizerResult> {
        match self {
            HttpLambdaAnswer::Simple { result, .. } => result,
            HttpLambdaAnswer::Policy(decision) => &decision.result,
        }
    }
}

/// Parses a function's answer. `simple`: the authorizer has `enableSimpleResponses`
/// (payload 2.0 only), so the answer must be `{"isAuthorized": bool, "context": {...}}`;
/// otherwise it is an IAM policy answer (`principalId`, `policyDocument`, `context`).
/// `Err` says why it is unusable (a 500, as API Gateway answers it).
pub fn parse_answer_v2(payload: &[u8], simple: bool) -> Result<HttpLambdaAnswer, String> {
    if !simple {
        return parse_answer(payload).map(HttpLambdaAnswer::Policy);
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the authorizer's answer is not JSON: {e}"))?;
    let map = value
        .as_object()
        .ok_or("the authorizer's answer is not a JSON object")?;
    let authorized = match map.get("isAuthorized") {
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("isAuthorized must be a boolean".into()),
        None => return Err("the authorizer's answer has no isAuthorized".into()),
    };
    let context = match map.get("context") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(entries)) => entries
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.as_str().into(), v.clone()))
            .collect(),
        Some(_) => return Err("the authorizer's context is not an object".into()),
    };
    Ok(HttpLambdaAnswer::Simple {
        authorized,
        result: Arc::new(AuthorizerResult {
            context,
            ..AuthorizerResult::default()
        }),
    })
}

/// A Lambda authorizer's findings as the integration's proxy event shows them
/// (`requestContext.authorizer`: `{lambda: context}` in 2.0, the context and
/// `principalId` in 1.0).
pub fn integration_authorizer(result: &AuthorizerResult) -> EventAuthorizer {
    EventAuthorizer::Lambda {
        principal_id: result.principal_id.as_deref().map(str::to_owned),
        context: result
            .context
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phases::integration::aws_proxy_v2::tests::{
        example_cert, example_input, example_parts, NO_VARS,
    };
    use http::Request;

    #[test]
    fn the_2_0_event_is_aws_documented_example() {
        let parts = example_parts();
        let params = [("parameter1".to_string(), "value1".to_string())];
        let vars: std::collections::BTreeMap<String, String> = [
            ("stageVariable1".to_string(), "value1".to_string()),
            ("stageVariable2".to_string(), "value2".to_string()),
        ]
        .into();
        let mut cert = example_cert();
        cert.serial_number = "1".into();
        let input = example_input(&parts, b"ignored", &params, &vars, None, Some(&cert));
        let arn = route_arn(
            "us-east-1",
            "123456789012",
            "abcdef123",
            "test",
            "GET",
            "/request",
        );
        assert_eq!(
            arn,
            "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request"
        );
        let mut event = request_event_v2(&input, &arn, &["user1".into(), "123".into()]);
        let headers = event["headers"].as_object_mut().unwrap();
        for name in ["host", "user-agent", "content-type", "x-forwarded-for"] {
            assert!(headers.remove(name).is_some(), "{name}");
        }
        // AWS's example ("Working with AWS Lambda authorizers for HTTP APIs"), member
        // for member. Its `header2` has one value; ours was sent twice.
        let expected = json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request",
            "identitySource": ["user1", "123"],
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
                        "serialNumber": "1",
                        "validity": {
                            "notBefore": "May 28 12:30:02 2019 GMT",
                            "notAfter": "Aug  5 09:36:04 2021 GMT"
                        }
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
            "pathParameters": {"parameter1": "value1"},
            "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
        });
        assert_eq!(event, expected);
    }

    #[test]
    fn the_1_0_event_is_the_rest_request_event_with_version() {
        let parts = Request::get("/request?QueryString1=queryValue1")
            .header("Header1", "headerValue1")
            .header("Host", "abcdef123.execute-api.us-east-1.amazonaws.com")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let mut input = example_input(&parts, b"", &[], &NO_VARS, None, None);
        input.raw_path = "/request";
        input.route_key = "GET /request";
        input.stage = "test";
        let arn = route_arn(
            "us-east-1",
            "123456789012",
            "abcdef123",
            "test",
            "GET",
            "/request",
        );
        let event = request_event_v1(&input, &arn, &["user1".into(), "123".into()]);
        assert_eq!(event["version"], "1.0");
        assert_eq!(event["type"], "REQUEST");
        assert_eq!(event["methodArn"], arn);
        assert_eq!(event["identitySource"], "user1,123");
        assert_eq!(event["authorizationToken"], "user1,123");
        assert_eq!(event["resource"], "/request");
        assert_eq!(event["path"], "/request");
        assert_eq!(event["httpMethod"], "GET");
        assert_eq!(event["headers"]["header1"], "headerValue1");
        assert_eq!(
            event["queryStringParameters"],
            json!({"QueryString1": "queryValue1"})
        );
        assert_eq!(event["pathParameters"], Value::Null);
        let context = &event["requestContext"];
        assert_eq!(context["resourcePath"], "/request");
        assert_eq!(context["stage"], "test");
        assert_eq!(context["apiId"], "api-id");
        assert!(context.get("authorizer").is_none());
        let map = event.as_object().unwrap();
        assert!(!map.contains_key("body") && !map.contains_key("isBase64Encoded"));
    }

    #[test]
    fn identity_sources_are_read_from_the_request() {
        let parts = example_parts();
        let vars: std::collections::BTreeMap<String, String> =
            [("v".to_string(), "stage-value".to_string())].into();
        let input = example_input(&parts, b"", &[], &vars, None, None);
        let sources =
            |list: &[&str]| -> Vec<String> { list.iter().map(|s| s.to_string()).collect() };
        assert_eq!(
            identity_source_values(
                &input,
                &sources(&[
                    "$request.header.HEADER2",
                    "$request.querystring.parameter1",
                    "$stageVariables.v",
                    "$context.routeKey",
                    "$context.identity.sourceIp",
                ])
            ),
            Some(vec![
                "value1,value2".to_string(),
                "value1,value2".to_string(),
                "stage-value".to_string(),
                "$default".to_string(),
                "192.0.2.1".to_string(),
            ])
        );
        for missing in [
            "$request.header.Authorization",
            "$request.querystring.nope",
            "$stageVariables.nope",
            "$context.nope",
            "header.Header1",
        ] {
            assert_eq!(
                identity_source_values(&input, &sources(&["$request.header.Header1", missing])),
                None,
                "{missing}"
            );
        }
        assert_eq!(identity_source_values(&input, &[]), Some(Vec::new()));
    }

    #[test]
    fn simple_answers() {
        let answer = parse_answer_v2(
            br#"{"isAuthorized": true, "context": {"exampleKey": "exampleValue", "n": 1, "o": {"a": [1]}, "z": null}}"#,
            true,
        )
        .unwrap();
        let HttpLambdaAnswer::Simple { authorized, result } = &answer else {
            panic!("not simple: {answer:?}");
        };
        assert!(authorized);
        assert_eq!(
            result.context_object(),
            json!({"exampleKey": "exampleValue", "n": 1, "o": {"a": [1]}})
        );
        assert_eq!(result.principal_id, None);
        assert_eq!(
            integration_authorizer(result).to_v2(),
            json!({"lambda": {"exampleKey": "exampleValue", "n": 1, "o": {"a": [1]}}})
        );
        let denied = parse_answer_v2(br#"{"isAuthorized": false}"#, true).unwrap();
        assert!(matches!(
            denied,
            HttpLambdaAnswer::Simple {
                authorized: false,
                ..
            }
        ));
        for bad in [
            &b"not json"[..],
            b"true",
            b"{}",
            br#"{"isAuthorized": "true"}"#,
            br#"{"isAuthorized": true, "context": []}"#,
            // A policy answer is not a simple answer.
            br#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[]}}"#,
        ] {
            assert!(
                parse_answer_v2(bad, true).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn policy_answers_use_the_rest_rules() {
        let payload = br#"{"principalId":"abcdef","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abcdef123/*/*"}]},"context":{"exampleKey":"exampleValue"}}"#;
        let answer = parse_answer_v2(payload, false).unwrap();
        let HttpLambdaAnswer::Policy(decision) = &answer else {
            panic!("not a policy: {answer:?}");
        };
        assert_eq!(decision.result.principal_id.as_deref(), Some("abcdef"));
        assert_eq!(
            answer.result().context_object(),
            json!({"principalId": "abcdef", "exampleKey": "exampleValue"})
        );
        assert_eq!(
            integration_authorizer(answer.result()).to_v1(),
            Some(json!({"principalId": "abcdef", "exampleKey": "exampleValue"}))
        );
        // A simple answer is not a policy answer.
        assert!(parse_answer_v2(br#"{"isAuthorized": true}"#, false).is_err());
    }
}
