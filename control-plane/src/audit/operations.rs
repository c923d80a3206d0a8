//! Naming a call: the `apigateway` model's operations (`http.method` + `http.requestUri`,
//! the list in `tests/data/apigateway-operations.json`, extracted from botocore's model),
//! matched against the request's method and path; the console's own calls named as the
//! IAM and sign-in operations they correspond to; and the resources a call touched, as
//! CloudTrail names them (`AWS::ApiGateway::RestApi` and `arn:aws:apigateway:{region}::/…`).

use std::sync::OnceLock;

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// The operations list (name, method, requestUri).
const MODEL: &str = include_str!("../../../tests/data/apigateway-operations.json");

/// A call, named.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `CreateRestApi`, `CreateAccessKey`, ...
    pub name: String,
    /// `eventSource`.
    pub source: &'static str,
    /// Path parameters by the model's names, decoded, in order.
    pub path_params: Vec<(String, String)>,
    /// The request's path segments, decoded (for the resource ARN).
    pub segments: Vec<String>,
}

#[derive(Debug)]
struct Template {
    name: String,
    method: http::Method,
    /// `None` for a `{param}` segment.
    segments: Vec<Option<String>>,
    params: Vec<String>,
    /// A query condition such as `mode=import`.
    query: Option<(String, String)>,
}

fn templates() -> &'static [Template] {
    static T: OnceLock<Vec<Template>> = OnceLock::new();
    T.get_or_init(|| {
        let doc: Value = serde_json::from_str(MODEL).unwrap_or(Value::Null);
        let mut out = Vec::new();
        for op in doc
            .get("operations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(method), Some(uri)) = (
                op.get("name").and_then(Value::as_str),
                op.get("method").and_then(Value::as_str),
                op.get("requestUri").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Ok(method) = method.parse::<http::Method>() else {
                continue;
            };
            let (path, query) = match uri.split_once('?') {
                Some((p, q)) => (p, q.split_once('=').map(|(k, v)| (k.into(), v.into()))),
                None => (uri, None),
            };
            let mut segments = Vec::new();
            let mut params = Vec::new();
            for s in path.split('/').filter(|s| !s.is_empty()) {
                if let Some(p) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    params.push(p.trim_end_matches('+').to_string());
                    segments.push(None);
                } else {
                    segments.push(Some(s.to_string()));
                }
            }
            out.push(Template {
                name: name.to_string(),
                method,
                segments,
                params,
                query,
            });
        }
        out
    })
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The management operation a request calls, if the model has one for it.
pub fn management(method: &http::Method, raw_path: &str, query: &str) -> Option<Operation> {
    let raw: Vec<&str> = raw_path.split('/').filter(|s| !s.is_empty()).collect();
    let mut best: Option<(&Template, usize, bool)> = None;
    for t in templates() {
        if t.method != method || t.segments.len() != raw.len() {
            continue;
        }
        let fits = t
            .segments
            .iter()
            .zip(&raw)
            .all(|(seg, r)| seg.as_deref().is_none_or(|lit| lit == *r));
        if !fits {
            continue;
        }
        let query_ok = match &t.query {
            None => true,
            Some((k, v)) => apigw_gateway::query::last(query, k).is_some_and(|q| q == v.as_str()),
        };
        if !query_ok {
            continue;
        }
        let literals = t.segments.iter().filter(|s| s.is_some()).count();
        let has_query = t.query.is_some();
        let better = match best {
            None => true,
            Some((_, l, q)) => (literals, has_query) > (l, q),
        };
        if better {
            best = Some((t, literals, has_query));
        }
    }
    let (t, _, _) = best?;
    let path_params = t
        .segments
        .iter()
        .zip(&raw)
        .filter(|(s, _)| s.is_none())
        .map(|(_, r)| decode(r))
        .zip(&t.params)
        .map(|(v, n)| (n.clone(), v))
        .collect();
    Some(Operation {
        name: t.name.clone(),
        source: super::APIGATEWAY_SOURCE,
        path_params,
        segments: raw.iter().map(|s| decode(s)).collect(),
    })
}

/// The console API call a request makes (its path under `/console/api`), named as the
/// IAM or sign-in operation it corresponds to; sign-in refreshes are not recorded.
pub fn console(method: &http::Method, raw_path: &str) -> Option<Operation> {
    let rest = raw_path.strip_prefix("/console/api")?;
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    const IAM: &str = "iam.amazonaws.com";
    const SIGNIN: &str = "signin.amazonaws.com";
    let (name, source, params): (&str, &str, Vec<(String, String)>) =
        match (method.as_str(), s.as_slice()) {
            ("POST", ["session"]) => ("ConsoleLogin", SIGNIN, vec![]),
            ("DELETE", ["session"]) => ("ConsoleLogout", SIGNIN, vec![]),
            ("PUT", ["me", "password"]) => ("ChangePassword", IAM, vec![]),
            ("POST", ["me", "access-keys"]) => ("CreateAccessKey", IAM, vec![]),
            ("PATCH", ["me", "access-keys", id]) => (
                "UpdateAccessKey",
                IAM,
                vec![("accessKeyId".into(), (*id).into())],
            ),
            ("DELETE", ["me", "access-keys", id]) => (
                "DeleteAccessKey",
                IAM,
                vec![("accessKeyId".into(), (*id).into())],
            ),
            ("POST", ["users"]) => ("CreateUser", IAM, vec![]),
            ("PATCH", ["users", u]) => ("UpdateUser", IAM, vec![("userName".into(), (*u).into())]),
            ("POST", ["users", u, "unlock"]) => {
                ("UnlockUser", IAM, vec![("userName".into(), (*u).into())])
            }
            ("POST", ["policies"]) => ("CreatePolicy", IAM, vec![]),
            ("DELETE", ["policies", p]) => (
                "DeletePolicy",
                IAM,
                vec![("policyName".into(), (*p).into())],
            ),
            ("PUT", ["users", u, "policies", p]) => (
                "AttachUserPolicy",
                IAM,
                vec![
                    ("userName".into(), (*u).into()),
                    ("policyName".into(), (*p).into()),
                ],
            ),
            ("DELETE", ["users", u, "policies", p]) => (
                "DetachUserPolicy",
                IAM,
                vec![
                    ("userName".into(), (*u).into()),
                    ("policyName".into(), (*p).into()),
                ],
            ),
            _ => return None,
        };
    Some(Operation {
        name: name.into(),
        source,
        path_params: params,
        segments: segs,
    })
}

/// The name a create call's answer gives the new resource (its `id`; a stage's
/// `stageName`; a model's `name`), appended to the ARN.
pub fn created_name(op: &Operation, response: &Value) -> Option<String> {
    if op.source != super::APIGATEWAY_SOURCE {
        return None;
    }
    let creates = op.name.starts_with("Create") || op.name == "ImportRestApi";
    if !creates {
        return None;
    }
    let key = match op.name.as_str() {
        "CreateStage" => "stageName",
        "CreateModel" => "name",
        "CreateDocumentationVersion" => "version",
        _ => "id",
    };
    response
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// CloudTrail's type of a collection segment, given the one before it.
fn kind(collection: &str, parent: Option<&str>) -> Option<&'static str> {
    Some(match (collection, parent) {
        ("restapis", _) => "AWS::ApiGateway::RestApi",
        ("resources", _) => "AWS::ApiGateway::Resource",
        ("methods", _) => "AWS::ApiGateway::Method",
        ("responses", Some("integration")) => "AWS::ApiGateway::IntegrationResponse",
        ("responses", _) => "AWS::ApiGateway::MethodResponse",
        ("deployments", _) => "AWS::ApiGateway::Deployment",
        ("stages", _) => "AWS::ApiGateway::Stage",
        ("models", _) => "AWS::ApiGateway::Model",
        ("authorizers", _) => "AWS::ApiGateway::Authorizer",
        ("requestvalidators", _) => "AWS::ApiGateway::RequestValidator",
        ("gatewayresponses", _) => "AWS::ApiGateway::GatewayResponse",
        ("parts", _) => "AWS::ApiGateway::DocumentationPart",
        ("versions", _) => "AWS::ApiGateway::DocumentationVersion",
        ("apikeys", _) => "AWS::ApiGateway::ApiKey",
        ("usageplans", _) => "AWS::ApiGateway::UsagePlan",
        ("keys", _) => "AWS::ApiGateway::UsagePlanKey",
        ("vpclinks", _) => "AWS::ApiGateway::VpcLink",
        _ => return None,
    })
}

/// The resources of a call as (type, name): the one it acts on and, under an API, the
/// RestApi (so an API's ARN finds every change inside it). For the console's calls, the
/// IAM user or access key.
pub fn resources(region: &str, op: &Operation, created: Option<&str>) -> Vec<(String, String)> {
    if op.source != super::APIGATEWAY_SOURCE {
        return console_resources(op);
    }
    let mut segs: Vec<String> = op.segments.clone();
    if op.name == "TagResource" || op.name == "UntagResource" {
        // The resource is the ARN in the path.
        let Some(arn) = segs.get(1) else {
            return vec![];
        };
        let path = arn.split_once("::").map(|(_, p)| p).unwrap_or("");
        segs = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    if let Some(new) = created {
        // POST /restapis/{id}/resources/{parent_id} creates a sibling path of the parent.
        if op.name == "CreateResource" {
            segs.pop();
        }
        segs.push(new.to_string());
    }
    let arn = |n: usize| -> String {
        let mut p = String::new();
        for s in &segs[..n] {
            p.push('/');
            p.push_str(s);
        }
        format!("arn:aws:apigateway:{region}::{p}")
    };
    // Walk (collection, id) pairs; `integration` and `account` are singletons.
    let mut found: Option<(&'static str, usize)> = None;
    let mut i = 0;
    let mut parent: Option<&str> = None;
    while i < segs.len() {
        let s = segs[i].as_str();
        match s {
            "integration" => {
                found = Some(("AWS::ApiGateway::Integration", i + 1));
                parent = Some("integration");
                i += 1;
            }
            "account" => {
                found = Some(("AWS::ApiGateway::Account", i + 1));
                i += 1;
            }
            "documentation" => {
                i += 1;
            }
            _ => match kind(s, parent) {
                Some(k) if i + 1 < segs.len() => {
                    found = Some((k, i + 2));
                    parent = Some(s);
                    i += 2;
                }
                Some(k) => {
                    // A collection (a create whose id is unknown): the parent stays.
                    if found.is_none() {
                        found = Some((k, i + 1));
                    }
                    break;
                }
                None => break,
            },
        }
    }
    let mut out = Vec::new();
    if let Some((k, n)) = found {
        out.push((k.to_string(), arn(n)));
        if k != "AWS::ApiGateway::RestApi"
            && segs.first().is_some_and(|s| s == "restapis")
            && segs.len() >= 2
        {
            out.push(("AWS::ApiGateway::RestApi".to_string(), arn(2)));
        }
    }
    out
}

fn console_resources(op: &Operation) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in &op.path_params {
        match k.as_str() {
            "accessKeyId" => out.push(("AWS::IAM::AccessKey".to_string(), v.clone())),
            "userName" => out.push(("AWS::IAM::User".to_string(), v.clone())),
            "policyName" => out.push(("AWS::IAM::Policy".to_string(), v.clone())),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_operations_and_resources() {
        let op = management(&http::Method::POST, "/restapis", "").map(|o| o.name);
        assert_eq!(op.as_deref(), Some("CreateRestApi"));
        let op = management(&http::Method::POST, "/restapis", "mode=import").map(|o| o.name);
        assert_eq!(op.as_deref(), Some("ImportRestApi"));
        let Some(op) = management(
            &http::Method::PUT,
            "/restapis/a1/resources/r1/methods/GET",
            "",
        ) else {
            panic!("PutMethod")
        };
        assert_eq!(op.name, "PutMethod");
        let r = resources("us-east-1", &op, None);
        assert_eq!(
            r,
            vec![
                (
                    "AWS::ApiGateway::Method".to_string(),
                    "arn:aws:apigateway:us-east-1::/restapis/a1/resources/r1/methods/GET"
                        .to_string()
                ),
                (
                    "AWS::ApiGateway::RestApi".to_string(),
                    "arn:aws:apigateway:us-east-1::/restapis/a1".to_string()
                )
            ]
        );
        let Some(op) = management(&http::Method::POST, "/restapis/a1/resources/root", "") else {
            panic!("CreateResource")
        };
        assert_eq!(op.name, "CreateResource");
        let r = resources("r", &op, Some("new1"));
        assert_eq!(r[0].1, "arn:aws:apigateway:r::/restapis/a1/resources/new1");
        let Some(op) = management(&http::Method::POST, "/apikeys", "") else {
            panic!("CreateApiKey")
        };
        assert_eq!(
            resources("r", &op, Some("k1"))[0].1,
            "arn:aws:apigateway:r::/apikeys/k1"
        );
        let Some(op) = management(&http::Method::PATCH, "/restapis/a1/stages/prod", "") else {
            panic!("UpdateStage")
        };
        assert_eq!(op.name, "UpdateStage");
        assert_eq!(resources("r", &op, None)[0].0, "AWS::ApiGateway::Stage");
        assert!(management(&http::Method::POST, "/nothing/here", "").is_none());
    }
}
