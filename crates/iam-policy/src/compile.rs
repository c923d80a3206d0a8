//! Policy JSON → [`Policy`]: every check, expansion and pattern compilation happens here,
//! once, so evaluation only compares.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde_json::{Map, Value};

use crate::error::{PolicyError, StatementError, StatementRef};
use crate::eval::{
    Compiled, Condition, Patterns, Policy, Principal, PrincipalEntry, Statement, Test,
};
use crate::pattern::Pattern;

/// Where a RestApi's resource policy lives: needed to expand the `execute-api:/...`
/// shorthand that AWS accepts in resource policies.
#[derive(Debug, Clone, Copy)]
pub struct CompileContext<'a> {
    /// The region of the API, e.g. `us-east-1`.
    pub region: &'a str,
    /// The account that owns the API, e.g. `123456789012`.
    pub account_id: &'a str,
    /// The RestApi id.
    pub api_id: &'a str,
}

impl Policy {
    /// Compiles a RestApi resource policy from its JSON text.
    ///
    /// `Resource`/`NotResource` entries written `execute-api:/{stage}/{METHOD}/{path}` are
    /// expanded to `arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{METHOD}/{path}`.
    pub fn parse(json: &str, ctx: &CompileContext<'_>) -> Result<Policy, PolicyError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| PolicyError::Json(e.to_string()))?;
        Policy::from_value(&value, ctx)
    }

    /// [`Policy::parse`] for an already parsed document.
    pub fn from_value(value: &Value, ctx: &CompileContext<'_>) -> Result<Policy, PolicyError> {
        compile(value, Mode::ResourcePolicy(ctx))
    }
}

/// Compiles the `policyDocument` a Lambda authorizer returned.
///
/// It is an identity policy: no `Principal` (an error if present), no `execute-api:/`
/// shorthand (such a resource is kept literally and so matches no method ARN). Unlike
/// [`Policy::parse`], the `Effect` value is accepted in any ASCII case (`allow`, `DENY`):
/// hand-written authorizers often get it wrong, and a strict reading would turn each such
/// answer into a 500 for every caller while the author's intent is unambiguous. Element
/// names (`Effect`, `Action`, ...) stay case-sensitive, as in IAM.
pub fn parse_authorizer_policy(value: &Value) -> Result<Policy, PolicyError> {
    compile(value, Mode::Authorizer)
}

/// Compiles an **identity policy**: a document attached to a user (or an access key) that
/// says what that principal may do, for any action (`apigateway:DELETE`,
/// `logs:FilterLogEvents`, `iam:CreatePolicy`, ...), evaluated with
/// [`evaluate_identity`](crate::evaluate_identity).
///
/// The grammar is the resource policy's without `Principal` (an error if present) and
/// without the `execute-api:/` shorthand: every `Resource`/`NotResource` entry must be `*`
/// or an ARN pattern (`arn:...`), as IAM requires. `Effect` is exact (`Allow`/`Deny`).
pub fn parse_identity_policy(value: &Value) -> Result<Policy, PolicyError> {
    compile(value, Mode::Identity)
}

#[derive(Clone, Copy)]
enum Mode<'c> {
    ResourcePolicy(&'c CompileContext<'c>),
    Authorizer,
    Identity,
}

fn compile(value: &Value, mode: Mode<'_>) -> Result<Policy, PolicyError> {
    let doc = value.as_object().ok_or(PolicyError::NotAnObject)?;
    for key in doc.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(PolicyError::UnknownElement(key.clone()));
        }
    }
    if let Some(version) = doc.get("Version") {
        if !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17")) {
            return Err(PolicyError::UnsupportedVersion(version.to_string()));
        }
    }
    let statements: &[Value] = match doc.get("Statement") {
        None => return Err(PolicyError::MissingStatement),
        Some(Value::Array(list)) => list,
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        Some(_) => return Err(PolicyError::InvalidStatementList),
    };
    let (mut deny, mut allow) = (Vec::new(), Vec::new());
    for (index, raw) in statements.iter().enumerate() {
        let sid = raw.get("Sid").and_then(Value::as_str).map(str::to_owned);
        let (effect, statement) = statement(raw, mode).map_err(|error| PolicyError::Statement {
            at: StatementRef { index, sid },
            error,
        })?;
        match effect {
            Effect::Allow => allow.push(statement),
            Effect::Deny => deny.push(statement),
        }
    }
    Ok(Policy {
        inner: Arc::new(Compiled {
            deny: deny.into(),
            allow: allow.into(),
        }),
    })
}

enum Effect {
    Allow,
    Deny,
}

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn statement(raw: &Value, mode: Mode<'_>) -> Result<(Effect, Statement), StatementError> {
    let st = raw.as_object().ok_or(StatementError::NotAnObject)?;
    if let Some(unknown) = st
        .keys()
        .find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(StatementError::UnknownElement(unknown.clone()));
    }
    if st.contains_key("NotPrincipal") {
        return Err(StatementError::UnsupportedElement("NotPrincipal"));
    }

    let effect = match (st.get("Effect"), mode) {
        (None, _) => return Err(StatementError::Missing("Effect")),
        (Some(Value::String(e)), _) if e == "Allow" => Effect::Allow,
        (Some(Value::String(e)), _) if e == "Deny" => Effect::Deny,
        (Some(Value::String(e)), Mode::Authorizer) if e.eq_ignore_ascii_case("allow") => {
            Effect::Allow
        }
        (Some(Value::String(e)), Mode::Authorizer) if e.eq_ignore_ascii_case("deny") => {
            Effect::Deny
        }
        (Some(other), _) => return Err(StatementError::InvalidEffect(other.to_string())),
    };

    let actions = either(st, "Action", "NotAction", |a| {
        let valid = a == "*"
            || a.split_once(':')
                .is_some_and(|(service, action)| !service.is_empty() && !action.is_empty());
        if valid {
            Ok(Pattern::ascii_case_insensitive(a))
        } else {
            Err(StatementError::InvalidAction(a.to_owned()))
        }
    })?;

    let resources = either(st, "Resource", "NotResource", |r| {
        if matches!(mode, Mode::Identity) && r != "*" && !r.starts_with("arn:") {
            return Err(StatementError::InvalidResource(r.to_owned()));
        }
        Ok(match (mode, r.strip_prefix("execute-api:")) {
            (Mode::ResourcePolicy(ctx), Some(rest)) if rest.starts_with('/') => {
                Pattern::case_sensitive(&format!(
                    "arn:aws:execute-api:{}:{}:{}{rest}",
                    ctx.region, ctx.account_id, ctx.api_id
                ))
            }
            _ => Pattern::case_sensitive(r),
        })
    })?;

    let principal = match (st.get("Principal"), mode) {
        (None, _) => Principal::Any,
        (Some(_), Mode::Authorizer) => return Err(StatementError::PrincipalNotAllowed),
        (Some(_), Mode::Identity) => return Err(StatementError::PrincipalInIdentityPolicy),
        (Some(p), Mode::ResourcePolicy(_)) => principal(p)?,
    };

    let conditions = match st.get("Condition") {
        None => Box::default(),
        Some(c) => conditions(c)?,
    };

    Ok((
        effect,
        Statement {
            principal,
            actions,
            resources,
            conditions,
        },
    ))
}

/// `name` or `not_name` (exactly one of them), as a string or a non-empty array of strings,
/// each compiled by `compile_one`.
fn either(
    st: &Map<String, Value>,
    name: &'static str,
    not_name: &'static str,
    compile_one: impl Fn(&str) -> Result<Pattern, StatementError>,
) -> Result<Patterns, StatementError> {
    let (element, value, negated) = match (st.get(name), st.get(not_name)) {
        (Some(_), Some(_)) => return Err(StatementError::Conflicting(name, not_name)),
        (None, None) => return Err(StatementError::MissingEither(name, not_name)),
        (Some(v), None) => (name, v, false),
        (None, Some(v)) => (not_name, v, true),
    };
    let patterns = strings(value, element)?
        .map(compile_one)
        .collect::<Result<Box<[Pattern]>, _>>()?;
    Ok(Patterns { negated, patterns })
}

/// A string or a non-empty array of strings.
fn strings<'v>(
    value: &'v Value,
    element: &'static str,
) -> Result<impl Iterator<Item = &'v str>, StatementError> {
    let list: &[Value] = match value {
        Value::String(_) => std::slice::from_ref(value),
        Value::Array(list) if list.is_empty() => return Err(StatementError::Empty(element)),
        Value::Array(list) if list.iter().all(Value::is_string) => list,
        _ => return Err(StatementError::NotStrings(element)),
    };
    Ok(list.iter().filter_map(Value::as_str))
}

fn principal(value: &Value) -> Result<Principal, StatementError> {
    let map = match value {
        Value::String(s) if s == "*" => return Ok(Principal::Any),
        Value::Object(map) if !map.is_empty() => map,
        Value::Object(_) => {
            return Err(StatementError::InvalidPrincipal(
                "the object names no principal".to_owned(),
            ))
        }
        other => {
            return Err(StatementError::InvalidPrincipal(format!(
                "expected \"*\" or {{\"AWS\": ...}}, not {other}"
            )))
        }
    };
    let mut entries = Vec::new();
    for (kind, ids) in map {
        if kind != "AWS" {
            return Err(StatementError::UnsupportedPrincipalType(kind.clone()));
        }
        for id in strings(ids, "Principal.AWS")? {
            if id == "*" {
                return Ok(Principal::Any);
            }
            entries.push(principal_entry(id)?);
        }
    }
    Ok(Principal::Listed(entries.into()))
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn principal_entry(id: &str) -> Result<PrincipalEntry, StatementError> {
    if is_account_id(id) {
        return Ok(PrincipalEntry::Account(id.into()));
    }
    // arn:{partition}:iam::{account}:{resource}
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(StatementError::InvalidPrincipal(format!(
            "\"{id}\" is not \"*\", an account id or an ARN"
        )));
    };
    if *arn != "arn" || partition.is_empty() || resource.is_empty() {
        return Err(StatementError::InvalidPrincipal(format!(
            "\"{id}\" is not \"*\", an account id or an ARN"
        )));
    }
    if *service == "iam" && region.is_empty() && is_account_id(account) {
        if *resource == "root" {
            return Ok(PrincipalEntry::Account((*account).into()));
        }
        if let Some(role_path) = resource.strip_prefix("role/") {
            let name = role_path.rsplit('/').next().unwrap_or(role_path);
            if !name.is_empty() {
                return Ok(PrincipalEntry::Arn {
                    arn: id.into(),
                    session_prefix: Some(
                        format!("arn:{partition}:sts::{account}:assumed-role/{name}/").into(),
                    ),
                });
            }
        }
    }
    Ok(PrincipalEntry::Arn {
        arn: id.into(),
        session_prefix: None,
    })
}

enum Operator {
    StringEquals,
    StringLike,
    IpAddress,
}

fn operator(name: &str) -> Option<(Operator, bool, bool)> {
    let (base, if_exists) = match name.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let (op, negated) = match base {
        "StringEquals" => (Operator::StringEquals, false),
        "StringNotEquals" => (Operator::StringEquals, true),
        "StringLike" => (Operator::StringLike, false),
        "StringNotLike" => (Operator::StringLike, true),
        "IpAddress" => (Operator::IpAddress, false),
        "NotIpAddress" => (Operator::IpAddress, true),
        _ => return None,
    };
    Some((op, negated, if_exists))
}

fn conditions(value: &Value) -> Result<Box<[Condition]>, StatementError> {
    let ops = value.as_object().ok_or_else(|| {
        StatementError::InvalidCondition(
            "expected an object of condition operators, e.g. {\"IpAddress\": {...}}".to_owned(),
        )
    })?;
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let (op, negated, if_exists) = operator(op_name)
            .ok_or_else(|| StatementError::UnknownConditionOperator(op_name.clone()))?;
        let keys = keys.as_object().ok_or_else(|| {
            StatementError::InvalidCondition(format!(
                "'{op_name}' must be an object of condition keys to values"
            ))
        })?;
        if keys.is_empty() {
            return Err(StatementError::InvalidCondition(format!(
                "'{op_name}' names no condition key"
            )));
        }
        for (key, values) in keys {
            let values = condition_values(op_name, key, values)?;
            let test = match op {
                Operator::StringEquals => {
                    Test::Equals(values.iter().map(|v| v.as_str().into()).collect())
                }
                Operator::StringLike => {
                    Test::Like(values.iter().map(|v| Pattern::case_sensitive(v)).collect())
                }
                Operator::IpAddress => {
                    if !key.eq_ignore_ascii_case("aws:SourceIp") {
                        return Err(StatementError::UnsupportedConditionKey {
                            operator: op_name.clone(),
                            key: key.clone(),
                        });
                    }
                    Test::Ip(
                        values
                            .iter()
                            .map(|v| {
                                ip_net(v).ok_or_else(|| StatementError::InvalidIp {
                                    operator: op_name.clone(),
                                    key: key.clone(),
                                    value: v.clone(),
                                })
                            })
                            .collect::<Result<_, _>>()?,
                    )
                }
            };
            out.push(Condition {
                key: key.to_ascii_lowercase().into(),
                test,
                negated,
                if_exists,
            });
        }
    }
    Ok(out.into())
}

/// A condition's values: a scalar or a non-empty array of scalars. Numbers and booleans are
/// taken as their JSON text (`true`, `443`), as IAM compares them as strings.
fn condition_values(op: &str, key: &str, value: &Value) -> Result<Vec<String>, StatementError> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    let bad = || {
        StatementError::InvalidCondition(format!(
            "the value of '{op}' '{key}' must be a string or an array of strings"
        ))
    };
    match value {
        Value::Array(list) if list.is_empty() => Err(StatementError::InvalidCondition(format!(
            "'{op}' '{key}' has no values"
        ))),
        Value::Array(list) => list.iter().map(|v| scalar(v).ok_or_else(bad)).collect(),
        v => Ok(vec![scalar(v).ok_or_else(bad)?]),
    }
}

/// `192.0.2.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128).
fn ip_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if s.contains('/') {
        s.parse().ok()
    } else {
        s.parse::<IpAddr>().ok().map(IpNet::from)
    }
}
