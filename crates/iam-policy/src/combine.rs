//! [`combine`]: API Gateway's rule for a resource policy together with the method's
//! authorization.

use crate::eval::Decision;

/// What the method's own authorization concluded, for [`combine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    /// `authorizationType` `NONE`: the resource policy alone decides and must explicitly
    /// allow; without a resource policy the call is allowed.
    None,
    /// A Lambda authorizer (TOKEN or REQUEST) returned a policy; this is that policy's
    /// [`Policy::evaluate`](crate::Policy::evaluate) result for the method ARN. (An
    /// authorizer that failed or answered `Unauthorized` never gets this far: 401/500.)
    Lambda(Decision),
    /// A Cognito user pool authorizer accepted the token (a rejected token is a 401 before
    /// any policy is looked at). Table A with the caller side's Allow.
    CognitoUserPools,
    /// `AWS_IAM`: the SigV4 signature is valid; `identity` is the decision of the caller's
    /// own IAM policies for `execute-api:Invoke` on the method ARN.
    Iam {
        /// The caller's identity-policy decision.
        identity: Decision,
        /// Whether the caller belongs to the account that owns the API (Table A) or not
        /// (Table B).
        same_account: bool,
    },
}

/// The final decision for a call, from the resource policy's decision (`None` when the API
/// has no resource policy) and the method's authorization. Only [`Decision::Allow`] lets the
/// call through.
///
/// AWS documents this in "How API Gateway resource policies affect authorization workflow"
/// (two outcome tables plus one flow per authorization type). In the terms of [`Decision`]:
///
/// **Table A** — the caller's side (IAM identity policy of a caller in the API owner's
/// account, a Lambda authorizer's policy, a Cognito user pool) and the resource policy are
/// combined like two policies of one account: an explicit deny on either side wins, otherwise
/// an allow on *either* side is enough, otherwise implicit deny.
///
/// | caller side \ resource policy | Allow | NotApplicable | Deny |
/// |---|---|---|---|
/// | **Allow**         | Allow | Allow          | Deny |
/// | **NotApplicable** | Allow | NotApplicable  | Deny |
/// | **Deny**          | Deny  | Deny           | Deny |
///
/// **Table B** — an IAM caller from *another* account: both sides must allow.
///
/// | caller side \ resource policy | Allow | NotApplicable | Deny |
/// |---|---|---|---|
/// | **Allow**         | Allow         | NotApplicable | Deny |
/// | **NotApplicable** | NotApplicable | NotApplicable | Deny |
/// | **Deny**          | Deny          | Deny          | Deny |
///
/// **No authorization** (`authorizationType` `NONE`): the resource policy alone, and it must
/// allow explicitly.
///
/// A missing resource policy (`None`) counts as a silent one, except with no authorization,
/// where it means "open": an API without policy and without authorizer is public.
///
/// # Choices where AWS's text is not one rule
///
/// - *Lambda authorizer, silent authorizer policy, allowing resource policy*: Table A (which
///   names Lambda authorizers in its header) says **Allow**. That is what this crate does; a
///   reading of the flow chart as "both must allow" would deny. Authorizers that mean "no"
///   should return an explicit `Deny`, which wins everywhere.
/// - *Cognito*: the Cognito section's prose says the resource policy "must explicitly allow",
///   while Table A, which also names Cognito user pools, lets a silent resource policy through
///   once the token is valid. We follow Table A (a successful Cognito authentication is the
///   caller side's Allow), so resource policies holding only `Deny` statements (IP or VPC
///   deny-lists) keep working with Cognito.
/// - *IAM caller from another account, no resource policy*: Table B with a silent resource
///   policy, i.e. denied: cross-account access needs the owner's resource policy to grant it.
///
/// The Lambda flow's *pre-authorization* phase (an explicit deny in the resource policy
/// rejects the call before the authorizer runs) is the caller's job: evaluate the resource
/// policy first and skip the authorizer when it says [`Decision::Deny`]; [`combine`] gives
/// the same final answer either way.
pub fn combine(resource_policy: Option<Decision>, authorizer: AuthOutcome) -> Decision {
    let rp = resource_policy.unwrap_or(Decision::NotApplicable);
    match authorizer {
        AuthOutcome::None => resource_policy.unwrap_or(Decision::Allow),
        AuthOutcome::Lambda(caller) => either_allows(caller, rp),
        AuthOutcome::CognitoUserPools => either_allows(Decision::Allow, rp),
        AuthOutcome::Iam {
            identity,
            same_account: true,
        } => either_allows(identity, rp),
        AuthOutcome::Iam {
            identity,
            same_account: false,
        } => both_allow(identity, rp),
    }
}

/// Table A.
fn either_allows(caller: Decision, rp: Decision) -> Decision {
    use Decision::*;
    match (caller, rp) {
        (Deny, _) | (_, Deny) => Deny,
        (Allow, _) | (_, Allow) => Allow,
        (NotApplicable, NotApplicable) => NotApplicable,
    }
}

/// Table B.
fn both_allow(caller: Decision, rp: Decision) -> Decision {
    use Decision::*;
    match (caller, rp) {
        (Deny, _) | (_, Deny) => Deny,
        (Allow, Allow) => Allow,
        _ => NotApplicable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::{Allow, Deny, NotApplicable as Silent};

    /// Rows: caller side Allow / Silent / Deny; columns: resource policy Allow / Silent / Deny.
    fn table(f: impl Fn(Decision, Decision) -> Decision) -> [[Decision; 3]; 3] {
        let all = [Allow, Silent, Deny];
        all.map(|caller| all.map(|rp| f(caller, rp)))
    }

    #[test]
    fn table_a_same_account_iam_lambda_and_cognito() {
        let expected = [
            [Allow, Allow, Deny],
            [Allow, Silent, Deny],
            [Deny, Deny, Deny],
        ];
        assert_eq!(
            table(|caller, rp| combine(
                Some(rp),
                AuthOutcome::Iam {
                    identity: caller,
                    same_account: true
                }
            )),
            expected
        );
        assert_eq!(
            table(|caller, rp| combine(Some(rp), AuthOutcome::Lambda(caller))),
            expected
        );
        // Cognito is the "Allow" row.
        for (rp, want) in [(Allow, Allow), (Silent, Allow), (Deny, Deny)] {
            assert_eq!(combine(Some(rp), AuthOutcome::CognitoUserPools), want);
        }
    }

    #[test]
    fn table_b_cross_account_iam() {
        assert_eq!(
            table(|caller, rp| combine(
                Some(rp),
                AuthOutcome::Iam {
                    identity: caller,
                    same_account: false
                }
            )),
            [
                [Allow, Silent, Deny],
                [Silent, Silent, Deny],
                [Deny, Deny, Deny],
            ]
        );
    }

    #[test]
    fn no_authorization_needs_an_explicit_allow() {
        assert_eq!(combine(Some(Allow), AuthOutcome::None), Allow);
        assert_eq!(combine(Some(Silent), AuthOutcome::None), Silent);
        assert_eq!(combine(Some(Deny), AuthOutcome::None), Deny);
    }

    #[test]
    fn without_a_resource_policy() {
        // An open API stays open.
        assert_eq!(combine(None, AuthOutcome::None), Allow);
        // Otherwise the caller side decides...
        for d in [Allow, Silent, Deny] {
            assert_eq!(combine(None, AuthOutcome::Lambda(d)), d);
            assert_eq!(
                combine(
                    None,
                    AuthOutcome::Iam {
                        identity: d,
                        same_account: true
                    }
                ),
                d
            );
        }
        assert_eq!(combine(None, AuthOutcome::CognitoUserPools), Allow);
        // ...except across accounts, where the owner's policy must grant access.
        assert_eq!(
            combine(
                None,
                AuthOutcome::Iam {
                    identity: Allow,
                    same_account: false
                }
            ),
            Silent
        );
    }

    #[test]
    fn explicit_deny_anywhere_wins() {
        let outcomes = [
            AuthOutcome::None,
            AuthOutcome::CognitoUserPools,
            AuthOutcome::Lambda(Allow),
            AuthOutcome::Iam {
                identity: Allow,
                same_account: true,
            },
            AuthOutcome::Iam {
                identity: Allow,
                same_account: false,
            },
        ];
        for o in outcomes {
            assert_eq!(combine(Some(Deny), o), Deny, "{o:?}");
        }
        assert_eq!(combine(Some(Allow), AuthOutcome::Lambda(Deny)), Deny);
    }
}
