//! Errors of the console endpoints (`/console/api/...`), in the same wire shape as the
//! management API (status, `x-amzn-ErrorType`, `{"message"}`) so the SPA handles both alike.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// A console failure, carrying the message the caller sees.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// 400: malformed or invalid input.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid session, or sign-in failed (one message whatever the cause).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in but not allowed (not an admin, missing CSRF token).
    #[error("{0}")]
    AccessDenied(String),
    /// 404: no such user or access key.
    #[error("{0}")]
    NotFound(String),
    /// 409: duplicate username, removing the last admin.
    #[error("{0}")]
    Conflict(String),
    /// 429: too many failed sign-ins; try again after `retry_after_secs`.
    #[error("Too many failed sign-in attempts. Try again in {retry_after_secs} seconds.")]
    TooManyRequests {
        /// Seconds until the lock expires.
        retry_after_secs: i64,
    },
    /// 500: details go to the log, not the caller.
    #[error("internal error: {0}")]
    Internal(String),
    /// 503: Postgres cannot be reached (see [`crate::error::is_unavailable`]).
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
}

impl ConsoleError {
    /// Shorthand for a 400.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }

    fn status_and_type(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "BadRequestException"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UnauthorizedException"),
            Self::AccessDenied(_) => (StatusCode::FORBIDDEN, "AccessDeniedException"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundException"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "ConflictException"),
            Self::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
            Self::ServiceUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableException",
            ),
        }
    }
}

impl From<sqlx::Error> for ConsoleError {
    fn from(e: sqlx::Error) -> Self {
        if crate::error::is_unavailable(&e) {
            Self::ServiceUnavailable(format!("database: {e}"))
        } else {
            Self::Internal(format!("database: {e}"))
        }
    }
}

impl From<ConsoleError> for ApiError {
    /// The management API's auth middleware reports session failures through [`ApiError`].
    fn from(e: ConsoleError) -> Self {
        match e {
            ConsoleError::BadRequest(m) => ApiError::BadRequest(m),
            ConsoleError::Unauthorized(m) => ApiError::Unauthorized(m),
            ConsoleError::AccessDenied(m) => ApiError::Forbidden {
                error_type: "AccessDeniedException",
                message: m,
            },
            ConsoleError::NotFound(m) => ApiError::NotFound(m),
            ConsoleError::Conflict(m) => ApiError::Conflict(m),
            e @ ConsoleError::TooManyRequests { .. } => ApiError::LimitExceeded(e.to_string()),
            ConsoleError::Internal(m) => ApiError::Internal(m),
            ConsoleError::ServiceUnavailable(m) => ApiError::ServiceUnavailable(m),
        }
    }
}

impl From<ApiError> for ConsoleError {
    /// Authorization ([`crate::iam`]) answers in [`ApiError`]; console handlers in this.
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(m) | ApiError::Validation(m) => ConsoleError::BadRequest(m),
            ApiError::NotFound(m) => ConsoleError::NotFound(m),
            ApiError::Conflict(m) | ApiError::LimitExceeded(m) => ConsoleError::Conflict(m),
            ApiError::Forbidden { message, .. } => ConsoleError::AccessDenied(message),
            ApiError::Unauthorized(m) => ConsoleError::Unauthorized(m),
            ApiError::UnknownOperation => ConsoleError::NotFound("Unknown operation".into()),
            ApiError::Internal(m) => ConsoleError::Internal(m),
            ApiError::ServiceUnavailable(m) => ConsoleError::ServiceUnavailable(m),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, error_type) = self.status_and_type();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "console internal error");
                "Internal server error".to_string()
            }
            Self::ServiceUnavailable(detail) => {
                tracing::warn!(%detail, "console unavailable");
                crate::error::UNAVAILABLE_MESSAGE.to_string()
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
        if let Self::TooManyRequests { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                headers.insert(http::header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// Result alias for console handlers.
pub type ConsoleResult<T> = Result<T, ConsoleError>;
