//! IAM policy documents, evaluated as API Gateway and IAM do for
//!
//! - a RestApi's **resource policy** ([`Policy::parse`] / [`Policy::from_value`]),
//! - the **`policyDocument` a Lambda authorizer returns** ([`parse_authorizer_policy`]), and
//! - **identity policies** attached to the management API's users and access keys
//!   ([`parse_identity_policy`], any action, evaluated together by [`evaluate_identity`]:
//!   default deny, an explicit deny wins, else any allow allows),
//!
//! and the rule that combines the resource policy's answer with the method's authorization
//! ([`combine`], [`AuthOutcome`]).
//!
//! A document is compiled once (control plane: to validate and show errors; data plane: when
//! a deployment is loaded or an authorizer answers) into a [`Policy`] that is cheap to clone
//! and evaluated per request without allocating.
//!
//! ```
//! use apigw_iam_policy::{combine, AuthOutcome, CompileContext, Decision, EvalRequest, Policy};
//!
//! let ctx = CompileContext { region: "us-east-1", account_id: "123456789012", api_id: "abc123" };
//! let policy = Policy::parse(r#"{
//!     "Version": "2012-10-17",
//!     "Statement": [
//!         {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
//!          "Resource": "execute-api:/*"},
//!         {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
//!          "Resource": "execute-api:/*",
//!          "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}}}
//!     ]
//! }"#, &ctx)?;
//!
//! let arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/12";
//! let inside = EvalRequest::invoke(arn).with_source_ip("192.0.2.7".parse().unwrap());
//! let outside = EvalRequest::invoke(arn).with_source_ip("198.51.100.1".parse().unwrap());
//! assert_eq!(policy.evaluate(&inside), Decision::Allow);
//! assert_eq!(policy.evaluate(&outside), Decision::Deny);
//! assert_eq!(combine(Some(policy.evaluate(&inside)), AuthOutcome::None), Decision::Allow);
//! # Ok::<(), apigw_iam_policy::PolicyError>(())
//! ```
//!
//! # Grammar
//!
//! `{"Version"?, "Id"?, "Statement": statement | [statement, ...]}`; `Version`, if present,
//! is `2012-10-17` or `2008-10-17`. A statement has:
//!
//! - `Sid` (optional, only used in error messages);
//! - `Effect`: `Allow` or `Deny` (exactly; authorizer policies accept any case);
//! - `Action` *or* `NotAction`: a string or non-empty array, `*` or `service:action`
//!   patterns (`execute-api:Invoke`, `execute-api:*`), matched **ignoring ASCII case**;
//! - `Resource` *or* `NotResource`: a string or non-empty array of ARN patterns, matched
//!   **case-sensitively**; in resource policies `execute-api:/{stage}/{METHOD}/{path}` is
//!   expanded to `arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{METHOD}/{path}`
//!   from the [`CompileContext`];
//! - `Principal` (resource policies only, optional): `"*"`, `{"AWS": "*"}` (everyone,
//!   anonymous callers included), or `{"AWS": id | [ids]}` where an id is a 12-digit account
//!   id or `arn:aws:iam::{account}:root` (any caller of that account), or an ARN (that
//!   caller; a role ARN also matches its `sts` assumed-role sessions). Listed principals never
//!   match anonymous callers. No `Principal` means every caller. `NotPrincipal` and principal
//!   types other than `AWS` are rejected;
//! - `Condition` (optional): `{operator: {key: value | [values]}}`, see below.
//!
//! Any other element, at either level, is an error: a typo must not silently widen access.
//!
//! Wildcards: `*` matches any run of characters, `/` included, and `?` exactly one
//! character. There is no escape, and policy variables (`${aws:username}`) are not
//! expanded: they are matched literally.
//!
//! # Conditions
//!
//! | operator | key | holds when |
//! |---|---|---|
//! | `IpAddress` | `aws:SourceIp` only | the source IP is in one of the CIDRs / addresses |
//! | `NotIpAddress` | `aws:SourceIp` only | the source IP is in none of them |
//! | `StringEquals` / `StringNotEquals` | any | the value equals one / none of the values (case-sensitive) |
//! | `StringLike` / `StringNotLike` | any | the value matches one / none of the wildcard patterns |
//!
//! Each may carry IAM's `IfExists` suffix (`StringEqualsIfExists`). Values of one key are
//! ORed; keys, and operators, are ANDed. A **missing key** (no source IP, or
//! [`ConditionContext::lookup`] answering `None`) makes a positive operator false and a
//! negated one (`Not...`) true — IAM's rule, which is why `"StringNotEquals":
//! {"aws:SourceVpce": "vpce-1"}` in a `Deny` statement also denies calls that come through no
//! endpoint at all — and makes any `...IfExists` operator true. Keys other than
//! `aws:SourceIp` come from [`EvalRequest::context`], asked with the key ASCII-lowercased.
//! Any other operator (`NumericEquals`, `ForAnyValue:StringLike`, `Null`, ...) is a
//! compile error naming it.
//!
//! # Evaluation
//!
//! [`Policy::evaluate`] answers [`Decision::Deny`] if a `Deny` statement applies,
//! otherwise [`Decision::Allow`] if an `Allow` statement applies, otherwise
//! [`Decision::NotApplicable`] (the policy is silent: an implicit deny on its own).
//! See [`combine`] for how that meets the method's authorizer.

mod combine;
mod compile;
mod error;
mod eval;
mod pattern;

pub use combine::{combine, AuthOutcome};
pub use compile::{parse_authorizer_policy, parse_identity_policy, CompileContext};
pub use error::{PolicyError, StatementError, StatementRef};
pub use eval::{
    evaluate_identity, ConditionContext, Decision, EvalRequest, FnContext, NoContext, Policy,
    INVOKE_ACTION,
};
