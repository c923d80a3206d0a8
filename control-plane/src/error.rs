//! Errors of the management API, in AWS's wire shape.
//!
//! Every failure a handler can produce is an [`ApiError`]; its variant decides the HTTP
//! status and the `x-amzn-ErrorType` header, so that boto3 and the AWS CLI raise the same
//! exception classes they raise against Amazon API Gateway.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A management-API failure, carrying the message the caller sees.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 BadRequestException: the request is well-formed for the service model but
    /// semantically invalid (a bad URI, a missing reference, a rule of API Gateway's).
    #[error("{0}")]
    BadRequest(String),
    /// 400 ValidationException: a member breaks a constraint of the service model itself
    /// (a value outside the shape's `enum`, a `pattern`, a `min`/`max`); the message is
    /// AWS's "N validation error(s) detected: ..." (see [`crate::constraints`]).
    #[error("{0}")]
    Validation(String),
    /// 404: a named entity does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with existing state (duplicates, entities in use).
    #[error("{0}")]
    Conflict(String),
    /// 429 LimitExceededException: a quota on entities is reached.
    #[error("{0}")]
    LimitExceeded(String),
    /// 403 with an authentication error type (SigV4 failures).
    #[error("{message}")]
    Forbidden {
        /// AWS error type, e.g. `InvalidSignatureException`.
        error_type: &'static str,
        /// Human-readable reason.
        message: String,
    },
    /// 401 UnauthorizedException.
    #[error("{0}")]
    Unauthorized(String),
    /// 404 UnknownOperationException: no such path/method in the API.
    #[error("Unknown operation")]
    UnknownOperation,
    /// 500: something on our side failed; details go to the log, not the caller.
    #[error("internal error: {0}")]
    Internal(String),
    /// 503 ServiceUnavailableException: Postgres cannot be reached (no connection within
    /// the pool's acquire timeout, or the connection failed); details go to the log, the
    /// caller is told to retry (`Retry-After`).
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
}

/// Whether a database error means Postgres is unreachable (a fault to retry, 503) rather
/// than a failed statement (500).
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
    )
}

/// What a caller reads when Postgres is unreachable.
pub const UNAVAILABLE_MESSAGE: &str =
    "The service is temporarily unavailable (its database cannot be reached). Retry later.";

impl ApiError {
    /// Shorthand for a 400 with a formatted message.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }

    /// Shorthand for a 404 with a formatted message.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }

    /// Shorthand for a 409 with a formatted message.
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict(msg.into())
    }

    fn status_and_type(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "BadRequestException"),
            Self::Validation(_) => (StatusCode::BAD_REQUEST, "ValidationException"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundException"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "ConflictException"),
            Self::LimitExceeded(_) => (StatusCode::TOO_MANY_REQUESTS, "LimitExceededException"),
            Self::Forbidden { error_type, .. } => (StatusCode::FORBIDDEN, error_type),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UnauthorizedException"),
            Self::UnknownOperation => (StatusCode::NOT_FOUND, "UnknownOperationException"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
            Self::ServiceUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableException",
            ),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            Self::ServiceUnavailable(format!("database: {e}"))
        } else {
            Self::Internal(format!("database: {e}"))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error_type) = self.status_and_type();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "management API internal error");
                "Internal server error".to_string()
            }
            Self::ServiceUnavailable(detail) => {
                tracing::warn!(%detail, "management API unavailable");
                UNAVAILABLE_MESSAGE.to_string()
            }
            other => other.to_string(),
        };
        let body = serde_json::json!({ "message": message }).to_string();
        let mut resp = (status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert("x-amzn-errortype", HeaderValue::from_static(error_type));
        if matches!(self, Self::ServiceUnavailable(_)) {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
