//! Why a policy document was rejected.
//!
//! Messages are meant to be shown as they are (the control plane returns them in a
//! `BadRequestException`): they name the statement (index and `Sid`), the element and the
//! offending value.

use std::fmt;

/// A policy document that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("Invalid policy document: not valid JSON: {0}")]
    Json(String),
    /// The document is JSON but not an object.
    #[error("Invalid policy document: the policy must be a JSON object")]
    NotAnObject,
    /// No `Statement` element.
    #[error("Invalid policy document: missing required element 'Statement'")]
    MissingStatement,
    /// `Statement` is neither an object nor an array.
    #[error("Invalid policy document: 'Statement' must be an object or an array of objects")]
    InvalidStatementList,
    /// `Version` is not one IAM knows.
    #[error(
        "Invalid policy document: unsupported 'Version' {0} (expected \"2012-10-17\" or \
         \"2008-10-17\")"
    )]
    UnsupportedVersion(String),
    /// A top-level element other than `Version`, `Id`, `Statement`.
    #[error("Invalid policy document: unknown element '{0}'")]
    UnknownElement(String),
    /// One statement is invalid.
    #[error("Invalid policy document: {at}: {error}")]
    Statement {
        /// Which statement.
        at: StatementRef,
        /// What is wrong with it.
        error: StatementError,
    },
}

/// Which statement an error is about: its index in `Statement` (0-based) and its `Sid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// 0-based position in the `Statement` array (0 when `Statement` is a single object).
    pub index: usize,
    /// The statement's `Sid`, if it has a string one.
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Statement[{}]", self.index)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid \"{sid}\")")?;
        }
        Ok(())
    }
}

/// What is wrong with one statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The statement is not a JSON object.
    #[error("a statement must be a JSON object")]
    NotAnObject,
    /// An element IAM does not define.
    #[error("unknown element '{0}'")]
    UnknownElement(String),
    /// An element IAM defines but this evaluator does not (`NotPrincipal`).
    #[error("'{0}' is not supported")]
    UnsupportedElement(&'static str),
    /// A required element is missing (`Effect`).
    #[error("missing required element '{0}'")]
    Missing(&'static str),
    /// Neither `X` nor `NotX` is present.
    #[error("missing required element '{0}' (or '{1}')")]
    MissingEither(&'static str, &'static str),
    /// Both `X` and `NotX` are present.
    #[error("'{0}' and '{1}' cannot both be present")]
    Conflicting(&'static str, &'static str),
    /// `Effect` is not `Allow` or `Deny`.
    #[error("'Effect' must be \"Allow\" or \"Deny\", not {0}")]
    InvalidEffect(String),
    /// An element that must be a string or an array of strings is something else.
    #[error("'{0}' must be a string or an array of strings")]
    NotStrings(&'static str),
    /// An element's array is empty.
    #[error("'{0}' must not be empty")]
    Empty(&'static str),
    /// An action is neither `*` nor `service:action`.
    #[error("invalid action \"{0}\": expected \"*\" or \"<service>:<action>\"")]
    InvalidAction(String),
    /// `Principal` is present where the policy has no principal (authorizer policies).
    #[error("'Principal' is not allowed in an authorizer policy")]
    PrincipalNotAllowed,
    /// `Principal` is present in an identity policy (the policy is attached to its
    /// principal, so it names none).
    #[error("'Principal' is not allowed in an identity policy")]
    PrincipalInIdentityPolicy,
    /// A resource of an identity policy is neither `*` nor an ARN.
    #[error("invalid resource \"{0}\": expected \"*\" or an ARN (\"arn:...\")")]
    InvalidResource(String),
    /// `Principal` is neither `"*"` nor an object with an `AWS` member.
    #[error("invalid 'Principal': {0}")]
    InvalidPrincipal(String),
    /// `Principal` names a principal type other than `AWS`.
    #[error("unsupported principal type '{0}' (only \"AWS\" is supported)")]
    UnsupportedPrincipalType(String),
    /// `Condition` is not an object of operator → object of key → value(s).
    #[error("invalid 'Condition': {0}")]
    InvalidCondition(String),
    /// A condition operator this evaluator does not know.
    #[error(
        "unknown condition operator '{0}' (supported: StringEquals, StringNotEquals, \
         StringLike, StringNotLike, IpAddress, NotIpAddress, each optionally with IfExists)"
    )]
    UnknownConditionOperator(String),
    /// `IpAddress`/`NotIpAddress` on a key other than `aws:SourceIp`.
    #[error("condition operator '{operator}' supports only the key 'aws:SourceIp', not '{key}'")]
    UnsupportedConditionKey {
        /// The operator, as written.
        operator: String,
        /// The key, as written.
        key: String,
    },
    /// A value of `aws:SourceIp` that is neither an IP address nor a CIDR block.
    #[error("'{operator}' value \"{value}\" for '{key}' is not an IP address or CIDR block")]
    InvalidIp {
        /// The operator, as written.
        operator: String,
        /// The key, as written.
        key: String,
        /// The value, as written.
        value: String,
    },
}
