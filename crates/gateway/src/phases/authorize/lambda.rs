//! Lambda authorizers (TOKEN and REQUEST): the event the function receives, and its answer
//! `{principalId, policyDocument, context, usageIdentifierKey}` checked and compiled once
//! (the policy is evaluated per request against that request's method ARN, so a cached
//! answer for one method never decides another by accident).

use std::sync::Arc;

use apigw_iam_policy::Policy;
use http::request::Parts;
use serde_json::{json, Value};

use super::AuthorizerResult;
use crate::context::RequestContext;
use crate::phases::integration::aws_proxy::{proxy_event, EventInput};
use crate::phases::route::Routed;

/// A function's answer, ready to be evaluated.
#[derive(Debug)]
pub struct LambdaDecision {
    /// The returned `policyDocument`, compiled.
    pub policy: Policy,
    /// What the request and its templates see (`$context.authorizer`).
    pub result: Arc<AuthorizerResult>,
}

/// The TOKEN event.
pub fn token_event(token: &str, method_arn: &str) -> Value {
    json!({
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": method_arn,
    })
}

/// The REQUEST event: the proxy event's request fields (no body), `type` and `methodArn`.
pub fn request_event(
    ctx: &RequestContext,
    routed: &Routed,
    parts: &Parts,
    account: &str,
    method_arn: &str,
) -> Value {
    let mut event = proxy_event(&EventInput {
        ctx,
        routed,
        parts,
        account: Some(account),
        body: &[],
        binary: false,
    });
    if let Some(map) = event.as_object_mut() {
        map.remove("body");
        map.remove("isBase64Encoded");
        map.insert("type".into(), json!("REQUEST"));
        map.insert("methodArn".into(), json!(method_arn));
    }
    event
}

/// Parses a function's answer. `Err` says why it is unusable (a 500
/// AUTHORIZER_CONFIGURATION_ERROR, as API Gateway answers it).
pub fn parse_answer(payload: &[u8]) -> Result<LambdaDecision, String> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the authorizer's answer is not JSON: {e}"))?;
    let map = value
        .as_object()
        .ok_or("the authorizer's answer is not a JSON object")?;
    let principal_id = match map.get("principalId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("the authorizer's answer has no principalId".into()),
    };
    let document = map
        .get("policyDocument")
        .ok_or("the authorizer's answer has no policyDocument")?;
    let policy = apigw_iam_policy::parse_authorizer_policy(document)
        .map_err(|e| format!("invalid policyDocument: {e}"))?;
    let mut context = Vec::new();
    match map.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => {
            for (k, v) in entries {
                match v {
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                        context.push((k.as_str().into(), v.clone()))
                    }
                    Value::Null => {}
                    _ => {
                        return Err(format!(
                            "context value {k:?} must be a string, number or boolean"
                        ))
                    }
                }
            }
        }
        Some(_) => return Err("the authorizer's context is not an object".into()),
    }
    let usage_identifier_key = match map.get("usageIdentifierKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str().into()),
        Some(_) => return Err("usageIdentifierKey must be a string".into()),
    };
    Ok(LambdaDecision {
        policy: policy.clone(),
        result: Arc::new(AuthorizerResult {
            compiled_policy: Some(policy),
            principal_id: Some(principal_id.into()),
            context,
            claims: Vec::new(),
            usage_identifier_key,
            policy: Some(document.to_string().into()),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked() {
        let ok = br#"{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"a":"x","n":1,"b":true},"usageIdentifierKey":"k"}"#;
        let d = parse_answer(ok).unwrap();
        assert_eq!(d.result.principal_id.as_deref(), Some("u1"));
        assert_eq!(d.result.context.len(), 3);
        assert_eq!(d.result.usage_identifier_key.as_deref(), Some("k"));
        for bad in [
            &b"[]"[..],
            br#"{"policyDocument":{}}"#,
            br#"{"principalId":"u"}"#,
            br#"{"principalId":"u","policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"o":{}}}"#,
        ] {
            assert!(parse_answer(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
