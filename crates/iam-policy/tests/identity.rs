//! Identity policies (attached to management users and access keys), evaluated together
//! as IAM does: default deny, an explicit deny wins, else any allow allows.

use apigw_iam_policy::{
    evaluate_identity, parse_identity_policy, Decision, EvalRequest, Policy, PolicyError,
    StatementError,
};
use serde_json::{json, Value};

const API: &str = "arn:aws:apigateway:us-east-1::/restapis/abc123";

fn policy(v: Value) -> Policy {
    parse_identity_policy(&v).expect("identity policy compiles")
}

fn err(v: Value) -> PolicyError {
    parse_identity_policy(&v).expect_err("identity policy must be rejected")
}

fn decide(policies: &[Policy], action: &str, resource: &str) -> Decision {
    evaluate_identity(policies, &EvalRequest::new(action, resource))
}

fn statement(effect: &str, action: Value, resource: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": action, "Resource": resource}
    ]})
}

#[test]
fn default_deny_when_nothing_applies() {
    assert_eq!(
        decide(&[], "apigateway:GET", API),
        Decision::NotApplicable,
        "no policy at all"
    );
    let read = policy(statement("Allow", json!("apigateway:GET"), json!("*")));
    assert_eq!(
        decide(std::slice::from_ref(&read), "apigateway:DELETE", API),
        Decision::NotApplicable
    );
    assert_eq!(decide(&[read], "apigateway:GET", API), Decision::Allow);
}

#[test]
fn explicit_deny_wins_over_any_allow_in_any_policy() {
    let admin = policy(statement("Allow", json!("*"), json!("*")));
    let no_delete = policy(statement("Deny", json!("apigateway:DELETE"), json!("*")));
    for order in [
        [admin.clone(), no_delete.clone()],
        [no_delete.clone(), admin.clone()],
    ] {
        assert_eq!(decide(&order, "apigateway:DELETE", API), Decision::Deny);
        assert_eq!(decide(&order, "apigateway:PATCH", API), Decision::Allow);
    }
    // Within one policy too.
    let both = policy(json!({"Statement": [
        {"Effect": "Allow", "Action": "apigateway:*", "Resource": format!("{API}/*")},
        {"Effect": "Deny", "Action": "apigateway:DELETE", "Resource": format!("{API}/*")},
    ]}));
    assert_eq!(
        decide(
            std::slice::from_ref(&both),
            "apigateway:DELETE",
            &format!("{API}/resources/r1")
        ),
        Decision::Deny
    );
    assert_eq!(
        decide(
            std::slice::from_ref(&both),
            "apigateway:PUT",
            &format!("{API}/resources/r1")
        ),
        Decision::Allow
    );
    // Another API is outside both statements.
    assert_eq!(
        decide(
            &[both],
            "apigateway:PUT",
            "arn:aws:apigateway:us-east-1::/restapis/other/resources/r1"
        ),
        Decision::NotApplicable
    );
}

#[test]
fn action_wildcards_and_case() {
    let p = policy(statement(
        "Allow",
        json!([
            "logs:Describe*",
            "cloudwatch:Get?etricData",
            "APIGATEWAY:get"
        ]),
        json!("*"),
    ));
    let ps = std::slice::from_ref(&p);
    for allowed in [
        "logs:DescribeLogGroups",
        "LOGS:describeLogStreams",
        "cloudwatch:GetMetricData",
        "cloudwatch:getmetricdata",
        "apigateway:GET",
        "apigateway:get",
    ] {
        assert_eq!(decide(ps, allowed, "*"), Decision::Allow, "{allowed}");
    }
    for refused in [
        "logs:FilterLogEvents",
        "cloudwatch:GetMetricStatistics",
        "cloudwatch:GetXMetricData",
        "apigateway:GETS",
        "apigateway:POST",
    ] {
        assert_eq!(
            decide(ps, refused, "*"),
            Decision::NotApplicable,
            "{refused}"
        );
    }
}

#[test]
fn resources_are_case_sensitive_with_wildcards() {
    let p = policy(statement(
        "Allow",
        json!("apigateway:*"),
        json!([
            API,
            format!("{API}/*"),
            "arn:aws:apigateway:*::/restapis/x?z"
        ]),
    ));
    let ps = std::slice::from_ref(&p);
    assert_eq!(decide(ps, "apigateway:GET", API), Decision::Allow);
    assert_eq!(
        decide(
            ps,
            "apigateway:GET",
            &format!("{API}/resources/a/methods/GET")
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            ps,
            "apigateway:GET",
            "arn:aws:apigateway:eu-west-1::/restapis/xyz"
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            ps,
            "apigateway:GET",
            "arn:aws:apigateway:us-east-1::/restapis/ABC123"
        ),
        Decision::NotApplicable
    );
    assert_eq!(
        decide(
            ps,
            "apigateway:GET",
            "arn:aws:apigateway:us-east-1::/restapis/abc1234"
        ),
        Decision::NotApplicable
    );
}

#[test]
fn not_action_and_not_resource() {
    // Everything but deletes.
    let p = policy(json!({"Statement": {
        "Effect": "Allow", "NotAction": ["apigateway:DELETE", "iam:*"], "Resource": "*"
    }}));
    let ps = std::slice::from_ref(&p);
    assert_eq!(decide(ps, "apigateway:PATCH", API), Decision::Allow);
    assert_eq!(decide(ps, "logs:FilterLogEvents", "*"), Decision::Allow);
    assert_eq!(
        decide(ps, "apigateway:delete", API),
        Decision::NotApplicable
    );
    assert_eq!(decide(ps, "iam:CreatePolicy", "*"), Decision::NotApplicable);

    // A Deny with NotResource: deny everywhere except one API.
    let fence = policy(json!({"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "apigateway:*", "NotResource": [API, format!("{API}/*")]}
    ]}));
    let fs = std::slice::from_ref(&fence);
    assert_eq!(
        decide(fs, "apigateway:DELETE", &format!("{API}/stages/prod")),
        Decision::Allow
    );
    assert_eq!(
        decide(
            fs,
            "apigateway:GET",
            "arn:aws:apigateway:us-east-1::/restapis/zzz"
        ),
        Decision::Deny
    );
    assert_eq!(decide(fs, "logs:GetLogEvents", "*"), Decision::Allow);
}

#[test]
fn identity_specific_rules() {
    assert_eq!(
        err(
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}})
        ),
        PolicyError::Statement {
            at: apigw_iam_policy::StatementRef {
                index: 0,
                sid: None
            },
            error: StatementError::PrincipalInIdentityPolicy
        }
    );
    let e = err(statement("Allow", json!("*"), json!("restapis/abc")));
    assert!(
        e.to_string().contains("invalid resource \"restapis/abc\""),
        "{e}"
    );
    // The execute-api shorthand of resource policies means nothing here.
    let e = err(statement("Allow", json!("*"), json!("execute-api:/*")));
    assert!(matches!(
        e,
        PolicyError::Statement {
            error: StatementError::InvalidResource(_),
            ..
        }
    ));
    // Effect is exact, as in IAM.
    let e = err(statement("allow", json!("*"), json!("*")));
    assert!(e.to_string().contains("'Effect' must be"), "{e}");
    // The shared grammar's checks hold too.
    let e =
        err(json!({"Statement": [{"Effect": "Allow", "Action": "apigateway", "Resource": "*"}]}));
    assert!(
        e.to_string().contains("invalid action \"apigateway\""),
        "{e}"
    );
    let e = err(json!({"Statement": [{"Effect": "Allow", "Action": "*"}]}));
    assert!(
        e.to_string().contains("'Resource' (or 'NotResource')"),
        "{e}"
    );
    let e = err(json!({"Statment": []}));
    assert!(e.to_string().contains("unknown element 'Statment'"), "{e}");
    let e = err(json!(["not", "an", "object"]));
    assert_eq!(e, PolicyError::NotAnObject);
    let e = err(json!({"Version": "2020-01-01", "Statement": []}));
    assert!(matches!(e, PolicyError::UnsupportedVersion(_)));
}

#[test]
fn an_empty_statement_list_allows_nothing() {
    let p = policy(json!({"Version": "2012-10-17", "Statement": []}));
    assert!(p.is_empty());
    assert_eq!(decide(&[p], "apigateway:GET", API), Decision::NotApplicable);
}
