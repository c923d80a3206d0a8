//! HTTP API Lambda authorizers, wired to the pure functions of [`super::lambda_v2`]: the
//! REQUEST event in authorizer payload format 1.0 or 2.0, and the answers (simple
//! `{isAuthorized, context}` or an IAM policy) as a [`LambdaDecision`].

use std::sync::OnceLock;

use apigw_iam_policy::Policy;
use serde_json::Value;

use super::lambda::LambdaDecision;
use super::lambda_v2::{self, HttpLambdaAnswer};
use super::Request;
use crate::phases::integration::http_api::EventParts;

/// The REQUEST event, format 2.0 (`v2`) or 1.0, with the identity sources' values.
pub fn request_event(req: &Request<'_>, v2: bool, identity: &[String], arn: &str) -> Value {
    let owned = EventParts::of(req.ctx, req.routed, req.parts);
    let input = owned.input(req.ctx, req.routed, req.parts, &[], false);
    if v2 {
        lambda_v2::request_event_v2(&input, arn, identity)
    } else {
        lambda_v2::request_event_v1(&input, arn, identity)
    }
}

/// A simple answer as a decision: its context, and a policy allowing (`isAuthorized`)
/// or denying every route.
pub fn simple_answer(payload: &[u8]) -> Result<LambdaDecision, String> {
    match lambda_v2::parse_answer_v2(payload, true)? {
        HttpLambdaAnswer::Simple { authorized, result } => Ok(LambdaDecision {
            policy: fixed_policy(authorized)?,
            result,
        }),
        HttpLambdaAnswer::Policy(decision) => Ok(decision),
    }
}

fn fixed_policy(allow: bool) -> Result<Policy, String> {
    static ALLOW: OnceLock<Result<Policy, String>> = OnceLock::new();
    static DENY: OnceLock<Result<Policy, String>> = OnceLock::new();
    let cell = if allow { &ALLOW } else { &DENY };
    cell.get_or_init(|| {
        let effect = if allow { "Allow" } else { "Deny" };
        let document = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": "*"}]
        });
        apigw_iam_policy::parse_authorizer_policy(&document).map_err(|e| e.to_string())
    })
    .clone()
}
