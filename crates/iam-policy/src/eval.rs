//! The compiled policy and its per-request evaluation.
//!
//! Evaluation allocates nothing: every string comparison runs against data prepared by
//! [`crate::compile`], condition values are looked up through [`ConditionContext`] (which
//! hands back borrowed strings), and the source IP is compared as a number.

use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::pattern::Pattern;

/// The action API Gateway authorizes every call of a REST API with.
pub const INVOKE_ACTION: &str = "execute-api:Invoke";

/// The result of evaluating one policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// At least one `Allow` statement applies and no `Deny` statement does.
    Allow,
    /// A `Deny` statement applies (an *explicit* deny: nothing can override it).
    Deny,
    /// No statement applies: the policy is silent (an *implicit* deny on its own, but another
    /// policy may still allow; see [`crate::combine`]).
    NotApplicable,
}

impl Decision {
    /// `true` only for [`Decision::Allow`].
    pub fn is_allow(self) -> bool {
        self == Decision::Allow
    }
}

/// Values of condition keys other than `aws:SourceIp` (`aws:SourceVpce`, `aws:PrincipalArn`,
/// ...), looked up while a statement's `Condition` is evaluated.
///
/// IAM condition keys are case-insensitive, so `key` is always passed **ASCII-lowercased**
/// (`aws:sourcevpce`, `aws:principalarn`): implementations can `match` on lowercase literals.
/// Multi-valued keys are not supported: a key has at most one value.
///
/// Implemented for [`NoContext`], for `&[(&str, &str)]` and `[(&str, &str); N]` (keys compared
/// ignoring ASCII case) and, through [`FnContext`], for closures.
pub trait ConditionContext {
    /// The value of `key` (lowercase) for this request, or `None` if the request has none.
    fn lookup(&self, key: &str) -> Option<&str>;
}

/// A request with no condition keys besides `aws:SourceIp`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContext;

impl ConditionContext for NoContext {
    fn lookup(&self, _key: &str) -> Option<&str> {
        None
    }
}

impl ConditionContext for &[(&str, &str)] {
    fn lookup(&self, key: &str) -> Option<&str> {
        find_pair(self, key)
    }
}

impl<const N: usize> ConditionContext for [(&str, &str); N] {
    fn lookup(&self, key: &str) -> Option<&str> {
        find_pair(self, key)
    }
}

fn find_pair<'p>(pairs: &'p [(&'p str, &'p str)], key: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

/// A closure as a [`ConditionContext`]: `FnContext::new(|key| match key { "aws:sourcevpce"
/// => Some(vpce), _ => None })`. Keys arrive lowercased.
pub struct FnContext<'v, F> {
    f: F,
    _values: PhantomData<&'v str>,
}

impl<'v, F: Fn(&str) -> Option<&'v str>> FnContext<'v, F> {
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        FnContext {
            f,
            _values: PhantomData,
        }
    }
}

impl<'v, F: Fn(&str) -> Option<&'v str>> ConditionContext for FnContext<'v, F> {
    fn lookup(&self, key: &str) -> Option<&str> {
        (self.f)(key)
    }
}

/// What a request asks for, as far as a policy is concerned.
#[derive(Clone, Copy)]
pub struct EvalRequest<'a> {
    /// The action, e.g. [`INVOKE_ACTION`] (matched ignoring ASCII case).
    pub action: &'a str,
    /// The method ARN:
    /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path without leading /}`
    /// (matched case-sensitively).
    pub resource: &'a str,
    /// The caller's ARN (`AWS_IAM` callers), `None` for anonymous callers (no auth, Lambda
    /// authorizers, Cognito). Only resource policies look at it.
    pub principal: Option<&'a str>,
    /// The client address, for `aws:SourceIp` (IPv4-mapped IPv6 addresses count as IPv4).
    pub source_ip: Option<IpAddr>,
    /// Every other condition key.
    pub context: &'a dyn ConditionContext,
}

impl<'a> EvalRequest<'a> {
    /// An anonymous `execute-api:Invoke` of `method_arn`, without source IP or context.
    pub fn invoke(method_arn: &'a str) -> Self {
        EvalRequest {
            action: INVOKE_ACTION,
            resource: method_arn,
            principal: None,
            source_ip: None,
            context: &NoContext,
        }
    }

    /// A call of `action` on `resource` (an identity policy's request: no principal, source
    /// IP or context).
    pub fn new(action: &'a str, resource: &'a str) -> Self {
        EvalRequest {
            action,
            resource,
            principal: None,
            source_ip: None,
            context: &NoContext,
        }
    }

    /// Sets the caller's ARN.
    pub fn with_principal(mut self, principal_arn: &'a str) -> Self {
        self.principal = Some(principal_arn);
        self
    }

    /// Sets the client address.
    pub fn with_source_ip(mut self, ip: IpAddr) -> Self {
        self.source_ip = Some(ip);
        self
    }

    /// Sets the other condition keys.
    pub fn with_context(mut self, context: &'a dyn ConditionContext) -> Self {
        self.context = context;
        self
    }
}

impl fmt::Debug for EvalRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvalRequest")
            .field("action", &self.action)
            .field("resource", &self.resource)
            .field("principal", &self.principal)
            .field("source_ip", &self.source_ip)
            .finish_non_exhaustive()
    }
}

/// A compiled policy document: parse it once ([`Policy::parse`], [`Policy::from_value`],
/// [`crate::parse_authorizer_policy`]), evaluate it per request ([`Policy::evaluate`]).
/// Cloning is a reference-count increment.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) inner: Arc<Compiled>,
}

#[derive(Debug)]
pub(crate) struct Compiled {
    /// `Deny` statements, evaluated first: the first that applies decides.
    pub(crate) deny: Box<[Statement]>,
    /// `Allow` statements: the first that applies decides (once no deny applied).
    pub(crate) allow: Box<[Statement]>,
}

impl Policy {
    /// Evaluates the policy for `req`: [`Decision::Deny`] if any `Deny` statement applies,
    /// else [`Decision::Allow`] if any `Allow` statement applies, else
    /// [`Decision::NotApplicable`]. A statement applies when its principal, action, resource
    /// and every condition match.
    pub fn evaluate(&self, req: &EvalRequest<'_>) -> Decision {
        if self.inner.deny.iter().any(|s| s.applies(req)) {
            Decision::Deny
        } else if self.inner.allow.iter().any(|s| s.applies(req)) {
            Decision::Allow
        } else {
            Decision::NotApplicable
        }
    }

    /// The number of statements.
    pub fn len(&self) -> usize {
        self.inner.deny.len() + self.inner.allow.len()
    }

    /// Whether the policy has no statement at all (it then never applies).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// IAM's evaluation of the identity policies of one principal: [`Decision::Deny`] if any
/// policy explicitly denies (an explicit deny wins over every allow), else
/// [`Decision::Allow`] if any allows, else [`Decision::NotApplicable`] — the default deny:
/// the caller treats it as a refusal.
pub fn evaluate_identity<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
    req: &EvalRequest<'_>,
) -> Decision {
    let mut allowed = false;
    for policy in policies {
        match policy.evaluate(req) {
            Decision::Deny => return Decision::Deny,
            Decision::Allow => allowed = true,
            Decision::NotApplicable => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::NotApplicable
    }
}

#[derive(Debug)]
pub(crate) struct Statement {
    pub(crate) principal: Principal,
    pub(crate) actions: Patterns,
    pub(crate) resources: Patterns,
    pub(crate) conditions: Box<[Condition]>,
}

impl Statement {
    fn applies(&self, req: &EvalRequest<'_>) -> bool {
        self.principal.matches(req.principal)
            && self.actions.matches(req.action)
            && self.resources.matches(req.resource)
            && self.conditions.iter().all(|c| c.holds(req))
    }
}

/// `Action`/`Resource` (any pattern matches) or `NotAction`/`NotResource` (none matches).
#[derive(Debug)]
pub(crate) struct Patterns {
    pub(crate) negated: bool,
    pub(crate) patterns: Box<[Pattern]>,
}

impl Patterns {
    fn matches(&self, s: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(s)) != self.negated
    }
}

#[derive(Debug)]
pub(crate) enum Principal {
    /// No `Principal` element, `"*"` or `{"AWS": "*"}`: every caller, anonymous ones too.
    Any,
    /// `{"AWS": [...]}`: only authenticated callers that one entry names.
    Listed(Box<[PrincipalEntry]>),
}

#[derive(Debug)]
pub(crate) enum PrincipalEntry {
    /// `"123456789012"` or `arn:aws:iam::123456789012:root`: any caller of that account.
    Account(Box<str>),
    /// An ARN, matched exactly; for a role (`arn:aws:iam::123456789012:role/[path/]Name`),
    /// also its sessions: `arn:aws:sts::123456789012:assumed-role/Name/<session>` (the
    /// prefix stored here).
    Arn {
        arn: Box<str>,
        session_prefix: Option<Box<str>>,
    },
}

impl Principal {
    fn matches(&self, caller: Option<&str>) -> bool {
        match self {
            Principal::Any => true,
            Principal::Listed(entries) => {
                let Some(caller) = caller else {
                    return false;
                };
                entries.iter().any(|e| e.matches(caller))
            }
        }
    }
}

impl PrincipalEntry {
    fn matches(&self, caller: &str) -> bool {
        match self {
            PrincipalEntry::Account(account) => arn_account(caller) == Some(&**account),
            PrincipalEntry::Arn {
                arn,
                session_prefix,
            } => {
                **arn == *caller
                    || session_prefix.as_deref().is_some_and(|prefix| {
                        caller.len() > prefix.len() && caller.starts_with(prefix)
                    })
            }
        }
    }
}

/// The account field of `arn:partition:service:region:account:resource`.
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    // The resource part must exist too.
    parts.next()?;
    Some(account)
}

#[derive(Debug)]
pub(crate) struct Condition {
    /// ASCII-lowercased, as handed to [`ConditionContext::lookup`].
    pub(crate) key: Box<str>,
    pub(crate) test: Test,
    /// `StringNotEquals`, `StringNotLike`, `NotIpAddress`.
    pub(crate) negated: bool,
    /// `...IfExists`: a missing key satisfies the condition.
    pub(crate) if_exists: bool,
}

#[derive(Debug)]
pub(crate) enum Test {
    Equals(Box<[Box<str>]>),
    Like(Box<[Pattern]>),
    Ip(Box<[IpNet]>),
}

impl Condition {
    /// IAM's rules: the values of one key are ORed; a negated operator holds when the value
    /// matches none of them; a missing key fails a positive operator and satisfies a negated
    /// one (and satisfies any `...IfExists` operator).
    fn holds(&self, req: &EvalRequest<'_>) -> bool {
        let matched = match &self.test {
            Test::Ip(nets) => req.source_ip.map(|ip| {
                let ip = ip.to_canonical();
                nets.iter().any(|n| n.contains(&ip))
            }),
            Test::Equals(values) => req
                .context
                .lookup(&self.key)
                .map(|v| values.iter().any(|x| **x == *v)),
            Test::Like(patterns) => req
                .context
                .lookup(&self.key)
                .map(|v| patterns.iter().any(|p| p.matches(v))),
        };
        match matched {
            None => self.if_exists || self.negated,
            Some(m) => m != self.negated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_account_field() {
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:user/alice"),
            Some("123456789012")
        );
        assert_eq!(
            arn_account("arn:aws:sts::123456789012:assumed-role/R/s"),
            Some("123456789012")
        );
        assert_eq!(arn_account("arn:aws:iam::123456789012"), None);
        assert_eq!(arn_account("nope:aws:iam::123456789012:user/a"), None);
        assert_eq!(arn_account("123456789012"), None);
    }

    #[test]
    fn contexts() {
        let pairs = [("aws:SourceVpce", "vpce-1"), ("x", "y")];
        assert_eq!(pairs.lookup("aws:sourcevpce"), Some("vpce-1"));
        assert_eq!(pairs.as_slice().lookup("X"), Some("y"));
        let dynamic: &dyn ConditionContext = &pairs.as_slice();
        assert_eq!(dynamic.lookup("AWS:SOURCEVPCE"), Some("vpce-1"));
        assert_eq!(pairs.lookup("z"), None);
        assert_eq!(NoContext.lookup("x"), None);
        let owned = String::from("vpce-2");
        let f = FnContext::new(|k| (k == "aws:sourcevpce").then_some(owned.as_str()));
        assert_eq!(f.lookup("aws:sourcevpce"), Some("vpce-2"));
        assert_eq!(f.lookup("aws:SourceVpce"), None);
    }

    #[test]
    fn request_builder_and_debug() {
        let ctx = [("k", "v")];
        let r = EvalRequest::invoke("arn:x")
            .with_principal("arn:aws:iam::1:user/a")
            .with_source_ip("10.0.0.1".parse().unwrap())
            .with_context(&ctx);
        assert_eq!(r.action, INVOKE_ACTION);
        assert_eq!(r.context.lookup("k"), Some("v"));
        let d = format!("{r:?}");
        assert!(d.contains("arn:x") && d.contains("10.0.0.1"), "{d}");
    }
}
