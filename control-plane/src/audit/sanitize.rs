//! What of a call goes into its event: the request parameters (path, query, JSON body)
//! with every secret replaced by `HIDDEN_DUE_TO_SECURITY_REASONS`, as CloudTrail writes
//! it, and a small summary of the answer. A secret is any member named like one
//! (`secret`, `password`, `credential`, `token`, `privateKey`), an API key's `value`, and a
//! `patchOperations` entry whose `path` names one. Documents (imports) are kept as their
//! size only.

use serde_json::{json, Map, Value};

use super::operations::Operation;

/// CloudTrail's placeholder for a hidden value.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Operations whose body is a document (OpenAPI, CSV), recorded by size.
const DOCUMENT_BODIES: &[&str] = &[
    "ImportRestApi",
    "PutRestApi",
    "ImportDocumentationParts",
    "ImportApiKeys",
];

fn secret_name(name: &str, api_key_call: bool) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "secret",
        "password",
        "credential",
        "token",
        "privatekey",
        "authorization",
    ]
    .iter()
    .any(|w| n.contains(w))
        || (api_key_call && n == "value")
}

/// Hides the secrets in a JSON value, recursively.
pub fn hide(v: &mut Value, api_key_call: bool) {
    match v {
        Value::Object(map) => {
            let path_secret = map
                .get("path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.split('/').any(|seg| secret_name(seg, api_key_call)));
            for (k, val) in map.iter_mut() {
                if secret_name(k, api_key_call) || (path_secret && k == "value") {
                    *val = Value::String(HIDDEN.into());
                } else {
                    hide(val, api_key_call);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| hide(i, api_key_call)),
        _ => {}
    }
}

/// The event's `requestParameters`.
pub fn request_parameters(
    op: &Operation,
    query: &str,
    body: Option<&Value>,
    body_len: usize,
) -> Value {
    let api_key_call = op.name.contains("ApiKey");
    let mut out = Map::new();
    for (k, v) in &op.path_params {
        out.insert(k.clone(), Value::String(v.clone()));
    }
    for (k, v) in apigw_gateway::query::pairs(query) {
        out.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    if DOCUMENT_BODIES.contains(&op.name.as_str()) {
        if body_len > 0 {
            out.insert("bodyLength".into(), json!(body_len));
        }
    } else if let Some(Value::Object(b)) = body {
        for (k, v) in b {
            out.insert(k.clone(), v.clone());
        }
    } else if body_len > 0 {
        out.insert("bodyLength".into(), json!(body_len));
    }
    let mut v = Value::Object(out);
    hide(&mut v, api_key_call);
    v
}

/// The event's `responseElements`: the identifying members of the answer only (never a
/// key's value or a secret), or `None`.
pub fn response_summary(response: &Value) -> Option<Value> {
    let obj = response.as_object()?;
    let mut out = Map::new();
    for k in [
        "id",
        "name",
        "stageName",
        "deploymentId",
        "version",
        "path",
        "accessKeyId",
        "username",
    ] {
        if let Some(v @ (Value::String(_) | Value::Number(_))) = obj.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_secrets() {
        let mut v = json!({
            "name": "k", "value": "abcdefghijklmnopqrstuvwxyz",
            "authorizerCredentials": "arn:aws:iam::1:role/x",
            "nested": {"secretAccessKey": "s", "password": "p"},
            "patchOperations": [{"op": "replace", "path": "/authorizerCredentials", "value": "x"},
                                {"op": "replace", "path": "/name", "value": "n"}]
        });
        hide(&mut v, true);
        assert_eq!(v["value"], HIDDEN);
        assert_eq!(v["authorizerCredentials"], HIDDEN);
        assert_eq!(v["nested"]["secretAccessKey"], HIDDEN);
        assert_eq!(v["nested"]["password"], HIDDEN);
        assert_eq!(v["patchOperations"][0]["value"], HIDDEN);
        assert_eq!(v["name"], "k");
        let mut p = json!({"patchOperations": [{"op": "replace", "path": "/name", "value": "n"}]});
        hide(&mut p, false);
        assert_eq!(p["patchOperations"][0]["value"], "n");
    }
}
