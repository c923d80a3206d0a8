//! Resource policies and authorizer policies, end to end through the public API.

use apigw_iam_policy::{
    parse_authorizer_policy, CompileContext, Decision, EvalRequest, FnContext, Policy, PolicyError,
    StatementError,
};
use serde_json::json;

const CTX: CompileContext<'static> = CompileContext {
    region: "us-east-1",
    account_id: "123456789012",
    api_id: "abc",
};
const PREFIX: &str = "arn:aws:execute-api:us-east-1:123456789012:abc";

fn arn(rest: &str) -> String {
    format!("{PREFIX}/{rest}")
}

fn policy(v: serde_json::Value) -> Policy {
    Policy::from_value(&v, &CTX).expect("policy compiles")
}

/// Evaluates an anonymous invoke of `{PREFIX}/{rest}`.
fn invoke(p: &Policy, rest: &str) -> Decision {
    p.evaluate(&EvalRequest::invoke(&arn(rest)))
}

fn err(v: serde_json::Value) -> String {
    Policy::from_value(&v, &CTX)
        .expect_err("policy must be rejected")
        .to_string()
}

fn allow(resource: serde_json::Value) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": resource}
    ]})
}

#[test]
fn policy_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Policy>();
    let p = policy(allow(json!("*")));
    let q = p.clone();
    assert_eq!(invoke(&q, "prod/GET/"), Decision::Allow);
    assert_eq!(p.len(), 1);
    assert!(!p.is_empty());
}

#[test]
fn resource_wildcards() {
    let p = policy(allow(json!(format!("{PREFIX}/*/GET/pets/*"))));
    assert_eq!(invoke(&p, "prod/GET/pets/12"), Decision::Allow);
    // `*` spans `/`.
    assert_eq!(invoke(&p, "prod/GET/pets/12/toys/3"), Decision::Allow);
    assert_eq!(invoke(&p, "a/b/GET/pets/1"), Decision::Allow);
    assert_eq!(invoke(&p, "prod/POST/pets/12"), Decision::NotApplicable);
    assert_eq!(invoke(&p, "prod/GET/pets"), Decision::NotApplicable);
    // Resources are case-sensitive.
    assert_eq!(invoke(&p, "prod/get/pets/12"), Decision::NotApplicable);
    assert_eq!(invoke(&p, "prod/GET/Pets/12"), Decision::NotApplicable);

    let q = policy(allow(json!(format!("{PREFIX}/prod/GET/pets/?"))));
    assert_eq!(invoke(&q, "prod/GET/pets/1"), Decision::Allow);
    assert_eq!(invoke(&q, "prod/GET/pets/12"), Decision::NotApplicable);
    assert_eq!(invoke(&q, "prod/GET/pets/"), Decision::NotApplicable);

    // Another API, region or account never matches.
    let p = policy(allow(json!(format!("{PREFIX}/*"))));
    assert_eq!(
        p.evaluate(&EvalRequest::invoke(
            "arn:aws:execute-api:us-east-1:123456789012:abd/prod/GET/"
        )),
        Decision::NotApplicable
    );
}

#[test]
fn actions_ignore_case_and_support_wildcards() {
    let r = arn("prod/GET/pets");
    for action in [
        "execute-api:Invoke",
        "execute-api:invoke",
        "EXECUTE-API:*",
        "execute-api:Inv?ke",
        "*",
    ] {
        let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
            "Action": action, "Resource": "*"}}));
        assert_eq!(
            p.evaluate(&EvalRequest::invoke(&r)),
            Decision::Allow,
            "{action}"
        );
    }
    let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": ["execute-api:ManageConnections", "s3:GetObject"], "Resource": "*"}}));
    assert_eq!(
        p.evaluate(&EvalRequest::invoke(&r)),
        Decision::NotApplicable
    );
    let mut req = EvalRequest::invoke(&r);
    req.action = "execute-api:manageconnections";
    assert_eq!(p.evaluate(&req), Decision::Allow);
}

#[test]
fn allow_deny_and_silence() {
    let p = policy(json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/prod/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/prod/DELETE/*"}
    ]}));
    assert_eq!(invoke(&p, "prod/GET/pets"), Decision::Allow);
    // Explicit deny wins over a matching allow, whatever the order.
    assert_eq!(invoke(&p, "prod/DELETE/pets"), Decision::Deny);
    // Nothing matches: silent.
    assert_eq!(invoke(&p, "test/GET/pets"), Decision::NotApplicable);

    let only_deny = policy(json!({"Statement": {"Effect": "Deny", "Principal": "*",
        "Action": "*", "Resource": "execute-api:/*/DELETE/*"}}));
    assert_eq!(invoke(&only_deny, "prod/DELETE/x"), Decision::Deny);
    assert_eq!(invoke(&only_deny, "prod/GET/x"), Decision::NotApplicable);

    let empty = policy(json!({"Version": "2012-10-17", "Statement": []}));
    assert!(empty.is_empty());
    assert_eq!(invoke(&empty, "prod/GET/x"), Decision::NotApplicable);
}

#[test]
fn statement_object_or_array() {
    let one = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "*"}}));
    let many = policy(json!({"Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "*"}]}));
    assert_eq!(invoke(&one, "prod/GET/"), Decision::Allow);
    assert_eq!(invoke(&many, "prod/GET/"), Decision::Allow);
    // Arrays for Action and Resource too.
    let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": ["s3:*", "execute-api:Invoke"],
        "Resource": ["execute-api:/prod/GET/a", "execute-api:/prod/GET/b"]}}));
    assert_eq!(invoke(&p, "prod/GET/b"), Decision::Allow);
    assert_eq!(invoke(&p, "prod/GET/c"), Decision::NotApplicable);
}

#[test]
fn not_action_and_not_resource() {
    // Deny everything except GET /health.
    let p = policy(json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "NotResource": ["execute-api:/*/GET/health", "execute-api:/*/OPTIONS/*"]}
    ]}));
    assert_eq!(invoke(&p, "prod/GET/health"), Decision::Allow);
    assert_eq!(invoke(&p, "prod/OPTIONS/pets"), Decision::Allow);
    assert_eq!(invoke(&p, "prod/GET/pets"), Decision::Deny);

    let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "NotAction": "execute-api:ManageConnections", "Resource": "*"}}));
    assert_eq!(invoke(&p, "prod/GET/"), Decision::Allow);
    let mut req = EvalRequest::invoke(PREFIX);
    req.action = "execute-api:ManageConnections";
    assert_eq!(p.evaluate(&req), Decision::NotApplicable);
}

#[test]
fn shorthand_is_expanded_from_the_context() {
    let p = policy(allow(json!("execute-api:/prod/GET/pets/*")));
    assert_eq!(invoke(&p, "prod/GET/pets/1"), Decision::Allow);
    assert_eq!(invoke(&p, "test/GET/pets/1"), Decision::NotApplicable);
    let other = CompileContext {
        api_id: "xyz",
        ..CTX
    };
    let q = Policy::from_value(&allow(json!("execute-api:/*")), &other).unwrap();
    assert_eq!(invoke(&q, "prod/GET/pets/1"), Decision::NotApplicable);
    assert_eq!(
        q.evaluate(&EvalRequest::invoke(
            "arn:aws:execute-api:us-east-1:123456789012:xyz/prod/GET/pets/1"
        )),
        Decision::Allow
    );
    // Also in NotResource.
    let p = policy(json!({"Statement": {"Effect": "Deny", "Principal": "*",
        "Action": "*", "NotResource": "execute-api:/prod/*"}}));
    assert_eq!(invoke(&p, "prod/GET/"), Decision::NotApplicable);
    assert_eq!(invoke(&p, "dev/GET/"), Decision::Deny);
    // Only `execute-api:/...` is the shorthand; full ARNs are left alone.
    let p = policy(allow(json!(format!("{PREFIX}/prod/*"))));
    assert_eq!(invoke(&p, "prod/GET/"), Decision::Allow);
}

#[test]
fn principals() {
    let alice = "arn:aws:iam::111122223333:user/alice";
    let bob = "arn:aws:iam::111122223333:user/bob";
    let carol = "arn:aws:iam::444455556666:user/carol";
    let session = "arn:aws:sts::111122223333:assumed-role/Deployer/ci-42";
    let r = arn("prod/GET/");
    let eval = |p: &Policy, who: Option<&str>| {
        let mut req = EvalRequest::invoke(&r);
        req.principal = who;
        p.evaluate(&req)
    };
    let with = |principal: serde_json::Value| {
        policy(
            json!({"Statement": {"Effect": "Allow", "Principal": principal,
            "Action": "execute-api:Invoke", "Resource": "*"}}),
        )
    };

    // "*" and {"AWS": "*"}: everyone, anonymous included.
    for p in [
        with(json!("*")),
        with(json!({"AWS": "*"})),
        with(json!({"AWS": [alice, "*"]})),
    ] {
        assert_eq!(eval(&p, None), Decision::Allow);
        assert_eq!(eval(&p, Some(carol)), Decision::Allow);
    }

    // A list of ARNs: exactly those, never anonymous.
    let p = with(json!({"AWS": [alice, carol]}));
    assert_eq!(eval(&p, Some(alice)), Decision::Allow);
    assert_eq!(eval(&p, Some(carol)), Decision::Allow);
    assert_eq!(eval(&p, Some(bob)), Decision::NotApplicable);
    assert_eq!(eval(&p, None), Decision::NotApplicable);
    let p = with(json!({"AWS": alice}));
    assert_eq!(eval(&p, Some(alice)), Decision::Allow);
    assert_eq!(eval(&p, Some(bob)), Decision::NotApplicable);

    // An account (bare id or :root): any caller of that account.
    for acct in ["111122223333", "arn:aws:iam::111122223333:root"] {
        let p = with(json!({"AWS": acct}));
        assert_eq!(eval(&p, Some(alice)), Decision::Allow, "{acct}");
        assert_eq!(eval(&p, Some(session)), Decision::Allow, "{acct}");
        assert_eq!(eval(&p, Some(carol)), Decision::NotApplicable, "{acct}");
        assert_eq!(eval(&p, None), Decision::NotApplicable, "{acct}");
    }

    // A role: its sessions too (a path in the role ARN is not part of the session ARN).
    for role in [
        "arn:aws:iam::111122223333:role/Deployer",
        "arn:aws:iam::111122223333:role/team/Deployer",
    ] {
        let p = with(json!({"AWS": role}));
        assert_eq!(eval(&p, Some(session)), Decision::Allow, "{role}");
        assert_eq!(eval(&p, Some(role)), Decision::Allow, "{role}");
        assert_eq!(
            eval(
                &p,
                Some("arn:aws:sts::111122223333:assumed-role/DeployerX/ci")
            ),
            Decision::NotApplicable
        );
        assert_eq!(
            eval(
                &p,
                Some("arn:aws:sts::444455556666:assumed-role/Deployer/ci")
            ),
            Decision::NotApplicable
        );
        assert_eq!(
            eval(&p, Some("arn:aws:sts::111122223333:assumed-role/Deployer/")),
            Decision::NotApplicable
        );
    }

    // No Principal element: every caller.
    let p = policy(json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}));
    assert_eq!(eval(&p, None), Decision::Allow);

    // A Deny for one principal only hits that principal.
    let p = policy(json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": bob}, "Action": "*", "Resource": "*"}
    ]}));
    assert_eq!(eval(&p, Some(bob)), Decision::Deny);
    assert_eq!(eval(&p, Some(alice)), Decision::Allow);
    assert_eq!(eval(&p, None), Decision::Allow);
}

fn ip_policy(op: &str, cidrs: serde_json::Value) -> Policy {
    policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "*",
        "Condition": {op: {"aws:SourceIp": cidrs}}}}))
}

fn from_ip(p: &Policy, ip: Option<&str>) -> Decision {
    let r = arn("prod/GET/");
    let mut req = EvalRequest::invoke(&r);
    req.source_ip = ip.map(|s| s.parse().unwrap());
    p.evaluate(&req)
}

#[test]
fn ip_address_conditions() {
    let p = ip_policy(
        "IpAddress",
        json!([
            "192.0.2.0/24",
            "2001:db8::/32",
            "203.0.113.9",
            "2001:db8:ffff::1"
        ]),
    );
    assert_eq!(from_ip(&p, Some("192.0.2.1")), Decision::Allow);
    assert_eq!(from_ip(&p, Some("192.0.2.255")), Decision::Allow);
    assert_eq!(from_ip(&p, Some("192.0.3.0")), Decision::NotApplicable);
    assert_eq!(from_ip(&p, Some("203.0.113.9")), Decision::Allow);
    assert_eq!(from_ip(&p, Some("203.0.113.10")), Decision::NotApplicable);
    assert_eq!(from_ip(&p, Some("2001:db8:1::5")), Decision::Allow);
    assert_eq!(from_ip(&p, Some("2001:db9::1")), Decision::NotApplicable);
    // An IPv4 client seen through an IPv6 socket.
    assert_eq!(from_ip(&p, Some("::ffff:192.0.2.7")), Decision::Allow);
    // No source address: the positive operator fails.
    assert_eq!(from_ip(&p, None), Decision::NotApplicable);

    // A single string, with host bits set: the network is what counts.
    let p = ip_policy("IpAddress", json!("10.1.2.3/8"));
    assert_eq!(from_ip(&p, Some("10.200.0.1")), Decision::Allow);
    assert_eq!(from_ip(&p, Some("11.0.0.1")), Decision::NotApplicable);

    let p = ip_policy("NotIpAddress", json!(["192.0.2.0/24", "2001:db8::/32"]));
    assert_eq!(from_ip(&p, Some("192.0.2.1")), Decision::NotApplicable);
    assert_eq!(from_ip(&p, Some("2001:db8::1")), Decision::NotApplicable);
    assert_eq!(from_ip(&p, Some("198.51.100.1")), Decision::Allow);
    assert_eq!(from_ip(&p, Some("2001:db9::1")), Decision::Allow);
    // No source address: the negated operator holds.
    assert_eq!(from_ip(&p, None), Decision::Allow);

    let p = ip_policy("IpAddressIfExists", json!("192.0.2.0/24"));
    assert_eq!(from_ip(&p, None), Decision::Allow);
    assert_eq!(from_ip(&p, Some("192.0.3.1")), Decision::NotApplicable);

    // The condition key is case-insensitive.
    let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": "*", "Resource": "*",
        "Condition": {"IpAddress": {"AWS:sourceip": "192.0.2.0/24"}}}}));
    assert_eq!(from_ip(&p, Some("192.0.2.1")), Decision::Allow);
}

/// The AWS documentation's VPC endpoint example.
#[test]
fn string_conditions_and_missing_keys() {
    let p = policy(json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}
    ]}));
    let r = arn("prod/GET/");
    let with = |ctx: &[(&str, &str)]| p.evaluate(&EvalRequest::invoke(&r).with_context(&ctx));
    assert_eq!(
        with(&[("aws:SourceVpce", "vpce-1a2b3c4d")]),
        Decision::Allow
    );
    assert_eq!(
        with(&[("aws:sourcevpce", "vpce-1a2b3c4d")]),
        Decision::Allow
    );
    assert_eq!(with(&[("aws:SourceVpce", "vpce-other")]), Decision::Deny);
    // Values are case-sensitive.
    assert_eq!(with(&[("aws:SourceVpce", "VPCE-1A2B3C4D")]), Decision::Deny);
    // Missing key: StringNotEquals holds, so the deny applies.
    assert_eq!(with(&[]), Decision::Deny);

    let eq = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-1", "o-2"]}}}}));
    let r = arn("prod/GET/");
    let ev = |ctx: &[(&str, &str)]| eq.evaluate(&EvalRequest::invoke(&r).with_context(&ctx));
    assert_eq!(ev(&[("aws:PrincipalOrgID", "o-2")]), Decision::Allow);
    assert_eq!(
        ev(&[("aws:PrincipalOrgID", "o-3")]),
        Decision::NotApplicable
    );
    // Missing key: StringEquals fails.
    assert_eq!(ev(&[]), Decision::NotApplicable);

    let eq_if = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": "*", "Resource": "*",
        "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}}}));
    let ev = |ctx: &[(&str, &str)]| eq_if.evaluate(&EvalRequest::invoke(&r).with_context(&ctx));
    assert_eq!(ev(&[]), Decision::Allow);
    assert_eq!(ev(&[("aws:PrincipalOrgID", "o-1")]), Decision::Allow);
    assert_eq!(
        ev(&[("aws:PrincipalOrgID", "o-9")]),
        Decision::NotApplicable
    );
}

#[test]
fn string_like_and_closure_context() {
    let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
    "Action": "*", "Resource": "*",
    "Condition": {
        "StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/ci-*", "arn:aws:iam::1?3:user/x"]},
        "StringNotLike": {"aws:UserAgent": "*curl*"}
    }}}));
    let r = arn("prod/GET/");
    let ev = |arn: &'static str, ua: &'static str| {
        let ctx = FnContext::new(move |key| match key {
            "aws:principalarn" => Some(arn),
            "aws:useragent" => Some(ua),
            _ => None,
        });
        p.evaluate(&EvalRequest::invoke(&r).with_context(&ctx))
    };
    assert_eq!(
        ev("arn:aws:iam::123:role/ci-build", "boto3"),
        Decision::Allow
    );
    assert_eq!(ev("arn:aws:iam::123:user/x", "boto3"), Decision::Allow);
    assert_eq!(
        ev("arn:aws:iam::1234:user/x", "boto3"),
        Decision::NotApplicable
    );
    assert_eq!(
        ev("arn:aws:iam::123:role/prod", "boto3"),
        Decision::NotApplicable
    );
    // Operators are ANDed.
    assert_eq!(
        ev("arn:aws:iam::123:role/ci-build", "curl/8.0"),
        Decision::NotApplicable
    );
}

#[test]
fn conditions_are_anded_and_values_ored() {
    let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
    "Action": "*", "Resource": "*",
    "Condition": {
        "IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"]},
        "StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"], "x:Tier": "gold"}
    }}}));
    let r = arn("prod/GET/");
    let ev = |ip: &str, ctx: &[(&str, &str)]| {
        p.evaluate(
            &EvalRequest::invoke(&r)
                .with_source_ip(ip.parse().unwrap())
                .with_context(&ctx),
        )
    };
    let good = [("aws:SourceVpce", "vpce-2"), ("x:tier", "gold")];
    assert_eq!(ev("198.51.100.4", &good), Decision::Allow);
    assert_eq!(ev("203.0.113.1", &good), Decision::NotApplicable);
    assert_eq!(
        ev(
            "192.0.2.1",
            &[("aws:SourceVpce", "vpce-2"), ("x:tier", "silver")]
        ),
        Decision::NotApplicable
    );
    assert_eq!(
        ev("192.0.2.1", &[("aws:SourceVpce", "vpce-2")]),
        Decision::NotApplicable
    );
    // Numbers and booleans in conditions compare as their text.
    let p = policy(json!({"Statement": {"Effect": "Allow", "Principal": "*",
        "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"x:port": 443, "x:tls": true}}}}));
    let ctx = [("x:port", "443"), ("x:tls", "true")];
    assert_eq!(
        p.evaluate(&EvalRequest::invoke(&r).with_context(&ctx)),
        Decision::Allow
    );
}

#[test]
fn parse_from_text() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow",
        "Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}"#;
    let p = Policy::parse(text, &CTX).unwrap();
    assert_eq!(invoke(&p, "prod/GET/pets"), Decision::Allow);
    let e = Policy::parse("{\"Statement\": [", &CTX).unwrap_err();
    assert!(matches!(e, PolicyError::Json(_)));
    assert!(
        e.to_string()
            .starts_with("Invalid policy document: not valid JSON: EOF while parsing"),
        "{e}"
    );
}

#[test]
fn malformed_policies() {
    let st = |extra: serde_json::Value| {
        let mut s = json!({"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
            "Resource": "*"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                s.as_object_mut().unwrap().remove(k);
            } else {
                s[k] = v.clone();
            }
        }
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
            "Resource": "*"}, s]})
    };
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (json!([]), "Invalid policy document: the policy must be a JSON object"),
        (json!({"Version": "2012-10-17"}), "Invalid policy document: missing required element 'Statement'"),
        (json!({"Statement": "x"}), "Invalid policy document: 'Statement' must be an object or an array of objects"),
        (json!({"Version": "2020-01-01", "Statement": []}),
         "Invalid policy document: unsupported 'Version' \"2020-01-01\" (expected \"2012-10-17\" or \"2008-10-17\")"),
        (json!({"Version": 1, "Statement": []}),
         "Invalid policy document: unsupported 'Version' 1 (expected \"2012-10-17\" or \"2008-10-17\")"),
        (json!({"Statements": []}), "Invalid policy document: unknown element 'Statements'"),
        (json!({"Statement": ["x"]}), "Invalid policy document: Statement[0]: a statement must be a JSON object"),
        (st(json!({"Sid": "S1", "Effect": null})),
         "Invalid policy document: Statement[1] (Sid \"S1\"): missing required element 'Effect'"),
        (st(json!({"Effect": "allow"})),
         "Invalid policy document: Statement[1]: 'Effect' must be \"Allow\" or \"Deny\", not \"allow\""),
        (st(json!({"Effect": true})),
         "Invalid policy document: Statement[1]: 'Effect' must be \"Allow\" or \"Deny\", not true"),
        (st(json!({"Action": null})),
         "Invalid policy document: Statement[1]: missing required element 'Action' (or 'NotAction')"),
        (st(json!({"NotAction": "s3:*"})),
         "Invalid policy document: Statement[1]: 'Action' and 'NotAction' cannot both be present"),
        (st(json!({"Resource": null})),
         "Invalid policy document: Statement[1]: missing required element 'Resource' (or 'NotResource')"),
        (st(json!({"NotResource": "*"})),
         "Invalid policy document: Statement[1]: 'Resource' and 'NotResource' cannot both be present"),
        (st(json!({"Action": []})), "Invalid policy document: Statement[1]: 'Action' must not be empty"),
        (st(json!({"Resource": ["a", 1]})),
         "Invalid policy document: Statement[1]: 'Resource' must be a string or an array of strings"),
        (st(json!({"Action": "Invoke"})),
         "Invalid policy document: Statement[1]: invalid action \"Invoke\": expected \"*\" or \"<service>:<action>\""),
        (st(json!({"Action": "execute-api:"})),
         "Invalid policy document: Statement[1]: invalid action \"execute-api:\": expected \"*\" or \"<service>:<action>\""),
        (st(json!({"Actions": "*"})), "Invalid policy document: Statement[1]: unknown element 'Actions'"),
        (st(json!({"NotPrincipal": "*"})), "Invalid policy document: Statement[1]: 'NotPrincipal' is not supported"),
        (st(json!({"Principal": "me"})),
         "Invalid policy document: Statement[1]: invalid 'Principal': expected \"*\" or {\"AWS\": ...}, not \"me\""),
        (st(json!({"Principal": {}})),
         "Invalid policy document: Statement[1]: invalid 'Principal': the object names no principal"),
        (st(json!({"Principal": {"Service": "lambda.amazonaws.com"}})),
         "Invalid policy document: Statement[1]: unsupported principal type 'Service' (only \"AWS\" is supported)"),
        (st(json!({"Principal": {"AWS": "alice"}})),
         "Invalid policy document: Statement[1]: invalid 'Principal': \"alice\" is not \"*\", an account id or an ARN"),
        (st(json!({"Principal": {"AWS": []}})),
         "Invalid policy document: Statement[1]: 'Principal.AWS' must not be empty"),
        (st(json!({"Condition": []})),
         "Invalid policy document: Statement[1]: invalid 'Condition': expected an object of condition operators, e.g. {\"IpAddress\": {...}}"),
        (st(json!({"Condition": {"NumericLessThan": {"x:n": "1"}}})),
         "Invalid policy document: Statement[1]: unknown condition operator 'NumericLessThan' (supported: StringEquals, StringNotEquals, StringLike, StringNotLike, IpAddress, NotIpAddress, each optionally with IfExists)"),
        (st(json!({"Condition": {"ForAnyValue:StringLike": {"x:n": "1"}}})),
         "Invalid policy document: Statement[1]: unknown condition operator 'ForAnyValue:StringLike' (supported: StringEquals, StringNotEquals, StringLike, StringNotLike, IpAddress, NotIpAddress, each optionally with IfExists)"),
        (st(json!({"Condition": {"stringequals": {"x:n": "1"}}})),
         "Invalid policy document: Statement[1]: unknown condition operator 'stringequals' (supported: StringEquals, StringNotEquals, StringLike, StringNotLike, IpAddress, NotIpAddress, each optionally with IfExists)"),
        (st(json!({"Condition": {"StringEquals": "x"}})),
         "Invalid policy document: Statement[1]: invalid 'Condition': 'StringEquals' must be an object of condition keys to values"),
        (st(json!({"Condition": {"StringEquals": {}}})),
         "Invalid policy document: Statement[1]: invalid 'Condition': 'StringEquals' names no condition key"),
        (st(json!({"Condition": {"StringEquals": {"x:n": []}}})),
         "Invalid policy document: Statement[1]: invalid 'Condition': 'StringEquals' 'x:n' has no values"),
        (st(json!({"Condition": {"StringEquals": {"x:n": {"a": 1}}}})),
         "Invalid policy document: Statement[1]: invalid 'Condition': the value of 'StringEquals' 'x:n' must be a string or an array of strings"),
        (st(json!({"Condition": {"IpAddress": {"aws:SourceVpce": "vpce-1"}}})),
         "Invalid policy document: Statement[1]: condition operator 'IpAddress' supports only the key 'aws:SourceIp', not 'aws:SourceVpce'"),
        (st(json!({"Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "10.0.0.0/33"]}}})),
         "Invalid policy document: Statement[1]: 'NotIpAddress' value \"10.0.0.0/33\" for 'aws:SourceIp' is not an IP address or CIDR block"),
        (st(json!({"Condition": {"IpAddress": {"aws:SourceIp": "example.com"}}})),
         "Invalid policy document: Statement[1]: 'IpAddress' value \"example.com\" for 'aws:SourceIp' is not an IP address or CIDR block"),
        (st(json!({"Condition": {"IpAddress": {"aws:SourceIp": "2001:db8::/129"}}})),
         "Invalid policy document: Statement[1]: 'IpAddress' value \"2001:db8::/129\" for 'aws:SourceIp' is not an IP address or CIDR block"),
    ];
    for (doc, want) in cases {
        assert_eq!(err(doc.clone()), want, "{doc}");
    }
    // The error is structured too.
    let e = Policy::from_value(
        &json!({"Statement": {"Sid": "X", "Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"Bogus": {}}}}),
        &CTX,
    )
    .unwrap_err();
    match e {
        PolicyError::Statement { at, error } => {
            assert_eq!((at.index, at.sid.as_deref()), (0, Some("X")));
            assert_eq!(
                error,
                StatementError::UnknownConditionOperator("Bogus".into())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn authorizer_policies() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "allow",
         "Resource": [format!("{PREFIX}/prod/GET/*"), format!("{PREFIX}/prod/POST/pets")]},
        {"Action": "execute-api:Invoke", "Effect": "DENY", "Resource": format!("{PREFIX}/prod/GET/admin/*")}
    ]});
    let p = parse_authorizer_policy(&doc).unwrap();
    assert_eq!(invoke(&p, "prod/GET/pets"), Decision::Allow);
    assert_eq!(invoke(&p, "prod/POST/pets"), Decision::Allow);
    assert_eq!(invoke(&p, "prod/GET/admin/x"), Decision::Deny);
    assert_eq!(invoke(&p, "prod/DELETE/pets"), Decision::NotApplicable);

    // A single statement object, as some authorizers return it.
    let p = parse_authorizer_policy(&json!({"Statement": {"Action": "execute-api:Invoke",
        "Effect": "Allow", "Resource": "*"}}))
    .unwrap();
    assert_eq!(invoke(&p, "prod/GET/pets"), Decision::Allow);

    // No shorthand in authorizer policies: kept literally, it matches nothing.
    let p = parse_authorizer_policy(&json!({"Statement": {"Action": "execute-api:Invoke",
        "Effect": "Allow", "Resource": "execute-api:/*"}}))
    .unwrap();
    assert_eq!(invoke(&p, "prod/GET/pets"), Decision::NotApplicable);

    // Identity policies have no Principal.
    let e = parse_authorizer_policy(&json!({"Statement": {"Action": "execute-api:Invoke",
        "Effect": "Allow", "Resource": "*", "Principal": "*"}}))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid policy document: Statement[0]: 'Principal' is not allowed in an authorizer policy"
    );
    // Leniency stops at the case of Allow/Deny.
    let e = parse_authorizer_policy(&json!({"Statement": {"Action": "execute-api:Invoke",
        "Effect": "Permit", "Resource": "*"}}))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid policy document: Statement[0]: 'Effect' must be \"Allow\" or \"Deny\", not \"Permit\""
    );
    let e = parse_authorizer_policy(&json!("{}")).unwrap_err();
    assert_eq!(e, PolicyError::NotAnObject);
}
