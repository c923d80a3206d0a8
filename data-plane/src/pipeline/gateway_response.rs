//! Gateway responses: the single place where an error the gateway itself produces becomes
//! an HTTP response (status, `x-amzn-ErrorType`, JSON message).
//!
//! Every [`GatewayError`] names its [`ResponseType`] (SPEC 5.8), so customisable gateway
//! responses can later be looked up per API by type and fall back to these defaults.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

use crate::body::Body;

/// The `x-amzn-ErrorType` header.
pub static X_AMZN_ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// An error produced by the gateway (as opposed to a backend response).
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The host/path names no deployed API and stage.
    #[error("no such API or stage")]
    Forbidden,
    /// No resource/method matches the request.
    #[error("no route matches")]
    MissingAuthenticationToken,
    /// The method needs an API key and the request's is missing, unknown, disabled or not
    /// in a usage plan for the stage.
    #[error("invalid API key")]
    InvalidApiKey,
    /// The key's quota for the period is used up.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// A token bucket (key, method, stage or account) is empty.
    #[error("throttled")]
    Throttled,
    /// The request body is over 10 MB.
    #[error("request body too large")]
    RequestTooLarge,
    /// No request template for the content type and passthrough is not allowed.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The request is malformed in a way hyper let through (e.g. an unusable path).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The backend did not answer within `timeoutInMillis`.
    #[error("integration timed out")]
    IntegrationTimeout,
    /// The backend could not be reached or broke the exchange.
    #[error("integration failure: {0}")]
    IntegrationFailure(String),
    /// The deployment cannot serve this request (no integration, no matching integration
    /// response and no default, unsupported integration type).
    #[error("execution failed due to configuration error: {0}")]
    Configuration(&'static str),
}

/// Gateway response types (SPEC 5.8), the key for future per-API customisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// DEFAULT_4XX.
    Default4xx,
    /// MISSING_AUTHENTICATION_TOKEN.
    MissingAuthenticationToken,
    /// INVALID_API_KEY.
    InvalidApiKey,
    /// QUOTA_EXCEEDED.
    QuotaExceeded,
    /// THROTTLED.
    Throttled,
    /// REQUEST_TOO_LARGE.
    RequestTooLarge,
    /// UNSUPPORTED_MEDIA_TYPE.
    UnsupportedMediaType,
    /// BAD_REQUEST_PARAMETERS.
    BadRequestParameters,
    /// INTEGRATION_TIMEOUT.
    IntegrationTimeout,
    /// INTEGRATION_FAILURE.
    IntegrationFailure,
    /// API_CONFIGURATION_ERROR.
    ApiConfigurationError,
}

/// The built-in rendering of a response type.
struct Builtin {
    status: StatusCode,
    error_type: &'static str,
    body: &'static str,
}

impl ResponseType {
    fn builtin(self) -> Builtin {
        let d = |status, error_type, body| Builtin {
            status,
            error_type,
            body,
        };
        match self {
            ResponseType::Default4xx => d(
                StatusCode::FORBIDDEN,
                "ForbiddenException",
                r#"{"message":"Forbidden"}"#,
            ),
            ResponseType::MissingAuthenticationToken => d(
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                r#"{"message":"Missing Authentication Token"}"#,
            ),
            ResponseType::InvalidApiKey => d(
                StatusCode::FORBIDDEN,
                "ForbiddenException",
                r#"{"message":"Forbidden"}"#,
            ),
            ResponseType::QuotaExceeded => d(
                StatusCode::TOO_MANY_REQUESTS,
                "LimitExceededException",
                r#"{"message":"Limit Exceeded"}"#,
            ),
            ResponseType::Throttled => d(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                r#"{"message":"Too Many Requests"}"#,
            ),
            ResponseType::RequestTooLarge => d(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                r#"{"message":"Request Too Long"}"#,
            ),
            ResponseType::UnsupportedMediaType => d(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaTypeException",
                r#"{"message":"Unsupported Media Type"}"#,
            ),
            ResponseType::BadRequestParameters => d(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                r#"{"message":"Bad Request"}"#,
            ),
            ResponseType::IntegrationTimeout => d(
                StatusCode::GATEWAY_TIMEOUT,
                "InternalServerErrorException",
                r#"{"message":"Endpoint request timed out"}"#,
            ),
            ResponseType::IntegrationFailure => d(
                StatusCode::BAD_GATEWAY,
                "InternalServerErrorException",
                r#"{"message":"Internal server error"}"#,
            ),
            ResponseType::ApiConfigurationError => d(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerErrorException",
                r#"{"message":"Internal server error"}"#,
            ),
        }
    }
}

impl GatewayError {
    /// The gateway response type this error is rendered as.
    pub fn response_type(&self) -> ResponseType {
        match self {
            GatewayError::Forbidden => ResponseType::Default4xx,
            GatewayError::MissingAuthenticationToken => ResponseType::MissingAuthenticationToken,
            GatewayError::InvalidApiKey => ResponseType::InvalidApiKey,
            GatewayError::QuotaExceeded => ResponseType::QuotaExceeded,
            GatewayError::Throttled => ResponseType::Throttled,
            GatewayError::RequestTooLarge => ResponseType::RequestTooLarge,
            GatewayError::UnsupportedMediaType => ResponseType::UnsupportedMediaType,
            GatewayError::BadRequest(_) => ResponseType::BadRequestParameters,
            GatewayError::IntegrationTimeout => ResponseType::IntegrationTimeout,
            GatewayError::IntegrationFailure(_) => ResponseType::IntegrationFailure,
            GatewayError::Configuration(_) => ResponseType::ApiConfigurationError,
        }
    }

    /// The HTTP status the client will see.
    pub fn status(&self) -> StatusCode {
        self.response_type().builtin().status
    }
}

/// Renders a gateway error as the client-facing response (the request id is added by the
/// pipeline, as for every response).
pub fn render(error: &GatewayError) -> Response<Body> {
    let d = error.response_type().builtin();
    let mut response = Response::new(Body::full(Bytes::from_static(d.body.as_bytes())));
    *response.status_mut() = d.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        X_AMZN_ERROR_TYPE.clone(),
        HeaderValue::from_static(d.error_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_mistakes_are_4xx_and_bodies_are_json() {
        for (error, status) in [
            (GatewayError::Forbidden, 403),
            (GatewayError::MissingAuthenticationToken, 403),
            (GatewayError::InvalidApiKey, 403),
            (GatewayError::QuotaExceeded, 429),
            (GatewayError::Throttled, 429),
            (GatewayError::RequestTooLarge, 413),
            (GatewayError::UnsupportedMediaType, 415),
            (GatewayError::BadRequest("x"), 400),
            (GatewayError::IntegrationTimeout, 504),
            (GatewayError::IntegrationFailure("refused".into()), 502),
            (GatewayError::Configuration("x"), 500),
        ] {
            let d = error.response_type().builtin();
            assert_eq!(d.status.as_u16(), status, "{error:?}");
            let json: serde_json::Value = serde_json::from_str(d.body).unwrap();
            assert!(json["message"].is_string());
            let response = render(&error);
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert!(response.headers().contains_key(&X_AMZN_ERROR_TYPE));
        }
    }
}
