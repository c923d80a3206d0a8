//! CloudWatch API errors: the error shapes of `monitoring.service-2.json`, each with its
//! HTTP status, its JSON `__type` (the shape name) and its query-protocol code (the
//! `error.code` the model gives it, which `x-amzn-query-error` carries for the
//! query-compatible JSON protocol).

use http::StatusCode;

/// A failed CloudWatch call.
#[derive(Debug, thiserror::Error)]
pub enum CwError {
    /// A member's value is not acceptable.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// A required member is absent.
    #[error("{0}")]
    MissingParameter(String),
    /// Members that cannot be used together (or a limit over several of them).
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// A named alarm does not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// Too many alarms.
    #[error("{0}")]
    LimitExceeded(String),
    /// A `NextToken` we did not hand out.
    #[error("{0}")]
    InvalidNextToken(String),
    /// SetAlarmState's `StateReasonData` is not JSON.
    #[error("{0}")]
    InvalidFormat(String),
    /// The body is not the protocol's shape (JSON protocol only).
    #[error("{0}")]
    Serialization(String),
    /// An operation this API does not serve.
    #[error("{0}")]
    UnknownOperation(String),
    /// Authentication failed (SigV4 or console session); `code` is the JSON error type.
    #[error("{message}")]
    Auth {
        /// HTTP status (403, or 401 for a bad console session).
        status: StatusCode,
        /// JSON error type, e.g. `InvalidSignatureException`.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Our failure; the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for CwError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

impl CwError {
    /// Shorthand for the "N is required" error.
    pub fn missing(member: &str) -> Self {
        Self::MissingParameter(format!("The parameter {member} is required."))
    }

    /// Shorthand for the "value of N is invalid" error, with a reason.
    pub fn invalid(member: &str, why: impl std::fmt::Display) -> Self {
        Self::InvalidParameterValue(format!("The parameter {member} {why}"))
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::ResourceNotFound(_) => StatusCode::NOT_FOUND,
            Self::Auth { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON protocol's `__type`: the model's shape name.
    pub fn json_type(&self) -> &'static str {
        match self {
            Self::InvalidParameterValue(_) => "InvalidParameterValueException",
            Self::MissingParameter(_) => "MissingRequiredParameterException",
            Self::InvalidParameterCombination(_) => "InvalidParameterCombinationException",
            Self::ResourceNotFound(_) => "ResourceNotFound",
            Self::LimitExceeded(_) => "LimitExceededFault",
            Self::InvalidNextToken(_) => "InvalidNextToken",
            Self::InvalidFormat(_) => "InvalidFormatFault",
            Self::Serialization(_) => "SerializationException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Auth { code, .. } => code,
            Self::Internal(_) => "InternalServiceFault",
        }
    }

    /// The query protocol's code (`x-amzn-query-error`'s first part).
    pub fn query_code(&self) -> &'static str {
        match self {
            Self::InvalidParameterValue(_) => "InvalidParameterValue",
            Self::MissingParameter(_) => "MissingParameter",
            Self::InvalidParameterCombination(_) => "InvalidParameterCombination",
            Self::ResourceNotFound(_) => "ResourceNotFound",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::InvalidNextToken(_) => "InvalidNextToken",
            Self::InvalidFormat(_) => "InvalidFormat",
            Self::Serialization(_) => "MalformedInput",
            Self::UnknownOperation(_) => "InvalidAction",
            Self::Auth { code, .. } => match *code {
                "InvalidSignatureException" => "SignatureDoesNotMatch",
                "UnrecognizedClientException" => "InvalidClientTokenId",
                "IncompleteSignatureException" => "IncompleteSignature",
                "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
                other => other,
            },
            Self::Internal(_) => "InternalServiceError",
        }
    }

    /// `Sender` or `Receiver`, as query errors say whose fault it is.
    pub fn fault(&self) -> &'static str {
        match self {
            Self::Internal(_) => "Receiver",
            _ => "Sender",
        }
    }

    /// The message the caller sees (internal details are logged instead).
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "CloudWatch API internal error");
                "Internal server error".to_string()
            }
            other => other.to_string(),
        }
    }
}

impl From<crate::error::ApiError> for CwError {
    /// Authentication failures of [`crate::auth`] (and its database errors).
    fn from(e: crate::error::ApiError) -> Self {
        match crate::aws_json::auth_failure(e) {
            Ok(f) => Self::Auth {
                status: f.status,
                code: f.code,
                message: f.message,
            },
            Err(detail) => Self::Internal(detail),
        }
    }
}
