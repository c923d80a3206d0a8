//! AWS's JSON-protocol error answer, shared by the services on `POST /` that speak it
//! (CloudWatch Logs, CloudTrail; CloudWatch adds its query-protocol header on top): the
//! status, a body `{"__type": "<ModelShape>", "message": "..."}` and the JSON 1.x content
//! type. [`auth_failure`] maps the management API's authentication errors to the error
//! types the AWS SDKs know.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

/// `application/x-amz-json-1.1`, the JSON 1.1 protocol's content type.
pub const JSON_1_1: &str = "application/x-amz-json-1.1";

/// One JSON-protocol error answer.
#[derive(Debug, Clone)]
pub struct AwsJsonError {
    /// HTTP status.
    pub status: StatusCode,
    /// The model's error shape (`__type`).
    pub code: &'static str,
    /// What the caller reads.
    pub message: String,
}

impl AwsJsonError {
    /// The answer, with `content_type` (`application/x-amz-json-1.0` or `-1.1`).
    pub fn response(&self, content_type: &'static str) -> Response {
        let body = serde_json::json!({"__type": self.code, "message": self.message}).to_string();
        let mut resp = (self.status, body).into_response();
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        resp
    }
}

/// A JSON 1.1 success answer.
pub fn ok_1_1(v: &serde_json::Value) -> Response {
    let mut resp = (StatusCode::OK, v.to_string()).into_response();
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_1_1),
    );
    resp
}

/// An authentication failure of [`crate::auth`] as the SDKs expect it (403 with the SigV4
/// error type, 401 for a bad console session); `Err` carries an internal failure's detail.
pub fn auth_failure(e: crate::error::ApiError) -> Result<AwsJsonError, String> {
    use crate::error::ApiError;
    match e {
        ApiError::Forbidden {
            error_type,
            message,
        } => Ok(AwsJsonError {
            status: StatusCode::FORBIDDEN,
            code: error_type,
            message,
        }),
        ApiError::Unauthorized(message) => Ok(AwsJsonError {
            status: StatusCode::UNAUTHORIZED,
            code: "UnauthorizedException",
            message,
        }),
        ApiError::Internal(detail) => Err(detail),
        ApiError::ServiceUnavailable(detail) => {
            tracing::warn!(%detail, "service unavailable");
            Ok(AwsJsonError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "ServiceUnavailableException",
                message: crate::error::UNAVAILABLE_MESSAGE.to_string(),
            })
        }
        other => Ok(AwsJsonError {
            status: StatusCode::FORBIDDEN,
            code: "AccessDeniedException",
            message: other.to_string(),
        }),
    }
}
