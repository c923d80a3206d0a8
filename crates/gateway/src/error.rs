//! The errors the gateway itself produces (as opposed to backend responses): every
//! [`GatewayError`] names its gateway response [`ResponseType`] (SPEC 5.8) and carries its
//! built-in status, `x-amzn-ErrorType` and message ([`GatewayError::builtin`]). Rendering,
//! with an API's customisations, is [`crate::gateway_response`]'s job.

use std::borrow::Cow;

use http::header::HeaderName;
use http::StatusCode;

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
    /// An HTTP API without a stage or route for the request (404 Not Found).
    #[error("not found")]
    NotFound,
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
    /// Required request parameters (names listed) are missing or blank.
    #[error("missing required request parameters: {0:?}")]
    BadRequestParameters(Vec<String>),
    /// The body does not match the method's model (the detail goes to logs only).
    #[error("invalid request body: {0}")]
    BadRequestBody(String),
    /// The backend did not answer within `timeoutInMillis`.
    #[error("integration timed out")]
    IntegrationTimeout,
    /// The backend could not be reached or broke the exchange.
    #[error("integration failure: {0}")]
    IntegrationFailure(String),
    /// The identity is missing or invalid, or the authorizer said "Unauthorized" (401).
    #[error("unauthorized: {0}")]
    Unauthorized(Cow<'static, str>),
    /// An HTTP API's JWT authorizer refused the token (401); the reason goes back to the
    /// client in `www-authenticate` (`Bearer scope="" error="invalid_token"
    /// error_description="..."`), as AWS's HTTP APIs send it.
    #[error("invalid token: {0}")]
    InvalidToken(Cow<'static, str>),
    /// A policy (resource policy or the authorizer's) does not allow the call (403).
    #[error("access denied: {0}")]
    AccessDenied(Cow<'static, str>),
    /// The resource policy does not allow the caller (403; the message names the caller
    /// and the method ARN, as AWS's does).
    #[error("{0}")]
    PolicyDenied(String),
    /// `AWS_IAM`: no signature where one is required (403).
    #[error("missing authentication token")]
    MissingSignature,
    /// `AWS_IAM`: the signature does not match, or the key is unknown (403).
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// `AWS_IAM`: the signed request is too old or too far in the future (403).
    #[error("signature expired: {0}")]
    ExpiredSignature(String),
    /// The authorizer function failed, timed out or could not be called (500).
    #[error("authorizer failure: {0}")]
    AuthorizerFailure(String),
    /// The authorizer answered something unusable (500).
    #[error("authorizer configuration error: {0}")]
    AuthorizerConfiguration(String),
    /// The deployment cannot serve this request (no integration, no matching integration
    /// response and no default, unsupported integration type).
    #[error("execution failed due to configuration error: {0}")]
    Configuration(&'static str),
}

/// Gateway response types (SPEC 5.8), the key of per-API customisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    /// DEFAULT_4XX.
    Default4xx,
    /// DEFAULT_5XX.
    Default5xx,
    /// ACCESS_DENIED.
    AccessDenied,
    /// API_CONFIGURATION_ERROR.
    ApiConfigurationError,
    /// AUTHORIZER_CONFIGURATION_ERROR.
    AuthorizerConfigurationError,
    /// AUTHORIZER_FAILURE.
    AuthorizerFailure,
    /// BAD_REQUEST_BODY.
    BadRequestBody,
    /// BAD_REQUEST_PARAMETERS.
    BadRequestParameters,
    /// EXPIRED_TOKEN.
    ExpiredToken,
    /// INTEGRATION_FAILURE.
    IntegrationFailure,
    /// INTEGRATION_TIMEOUT.
    IntegrationTimeout,
    /// INVALID_API_KEY.
    InvalidApiKey,
    /// INVALID_SIGNATURE.
    InvalidSignature,
    /// MISSING_AUTHENTICATION_TOKEN.
    MissingAuthenticationToken,
    /// QUOTA_EXCEEDED.
    QuotaExceeded,
    /// REQUEST_TOO_LARGE.
    RequestTooLarge,
    /// RESOURCE_NOT_FOUND.
    ResourceNotFound,
    /// THROTTLED.
    Throttled,
    /// UNAUTHORIZED.
    Unauthorized,
    /// UNSUPPORTED_MEDIA_TYPE.
    UnsupportedMediaType,
    /// WAF_FILTERED.
    WafFiltered,
}

/// Every type with its wire name, in SPEC order.
pub const ALL_TYPES: [(ResponseType, &str); 21] = [
    (ResponseType::Default4xx, "DEFAULT_4XX"),
    (ResponseType::Default5xx, "DEFAULT_5XX"),
    (ResponseType::AccessDenied, "ACCESS_DENIED"),
    (
        ResponseType::ApiConfigurationError,
        "API_CONFIGURATION_ERROR",
    ),
    (
        ResponseType::AuthorizerConfigurationError,
        "AUTHORIZER_CONFIGURATION_ERROR",
    ),
    (ResponseType::AuthorizerFailure, "AUTHORIZER_FAILURE"),
    (ResponseType::BadRequestBody, "BAD_REQUEST_BODY"),
    (ResponseType::BadRequestParameters, "BAD_REQUEST_PARAMETERS"),
    (ResponseType::ExpiredToken, "EXPIRED_TOKEN"),
    (ResponseType::IntegrationFailure, "INTEGRATION_FAILURE"),
    (ResponseType::IntegrationTimeout, "INTEGRATION_TIMEOUT"),
    (ResponseType::InvalidApiKey, "INVALID_API_KEY"),
    (ResponseType::InvalidSignature, "INVALID_SIGNATURE"),
    (
        ResponseType::MissingAuthenticationToken,
        "MISSING_AUTHENTICATION_TOKEN",
    ),
    (ResponseType::QuotaExceeded, "QUOTA_EXCEEDED"),
    (ResponseType::RequestTooLarge, "REQUEST_TOO_LARGE"),
    (ResponseType::ResourceNotFound, "RESOURCE_NOT_FOUND"),
    (ResponseType::Throttled, "THROTTLED"),
    (ResponseType::Unauthorized, "UNAUTHORIZED"),
    (ResponseType::UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (ResponseType::WafFiltered, "WAF_FILTERED"),
];

impl ResponseType {
    /// The wire name (`THROTTLED`), as `$context.error.responseType` shows it.
    pub fn name(self) -> &'static str {
        ALL_TYPES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("DEFAULT_4XX", |(_, n)| n)
    }

    /// The type named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        ALL_TYPES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }
}

/// How the gateway answers an error when the API did not customise it.
#[derive(Debug, Clone, PartialEq)]
pub struct Builtin {
    /// The gateway response type.
    pub response_type: ResponseType,
    /// The status sent.
    pub status: StatusCode,
    /// The `x-amzn-ErrorType` header.
    pub error_type: &'static str,
    /// `$context.error.message`.
    pub message: Cow<'static, str>,
    /// `$context.error.validationErrorString`: what exactly failed validation.
    pub detail: Option<String>,
}

impl GatewayError {
    /// The built-in rendering: type, status, error type, message (AWS's wording).
    pub fn builtin(&self) -> Builtin {
        let b = |response_type, status, error_type, message: &'static str| Builtin {
            response_type,
            status,
            error_type,
            message: Cow::Borrowed(message),
            detail: None,
        };
        use ResponseType as T;
        match self {
            GatewayError::Forbidden => b(
                T::Default4xx,
                StatusCode::FORBIDDEN,
                "ForbiddenException",
                "Forbidden",
            ),
            GatewayError::MissingAuthenticationToken => b(
                T::MissingAuthenticationToken,
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            GatewayError::NotFound => b(
                T::ResourceNotFound,
                StatusCode::NOT_FOUND,
                "NotFoundException",
                "Not Found",
            ),
            GatewayError::InvalidApiKey => b(
                T::InvalidApiKey,
                StatusCode::FORBIDDEN,
                "ForbiddenException",
                "Forbidden",
            ),
            GatewayError::QuotaExceeded => b(
                T::QuotaExceeded,
                StatusCode::TOO_MANY_REQUESTS,
                "LimitExceededException",
                "Limit Exceeded",
            ),
            GatewayError::Throttled => b(
                T::Throttled,
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Too Many Requests",
            ),
            GatewayError::RequestTooLarge => b(
                T::RequestTooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                "Request Too Long",
            ),
            GatewayError::UnsupportedMediaType => b(
                T::UnsupportedMediaType,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaTypeException",
                "Unsupported Media Type",
            ),
            GatewayError::BadRequest(_) => b(
                T::Default4xx,
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                "Bad Request",
            ),
            GatewayError::BadRequestParameters(names) => Builtin {
                response_type: T::BadRequestParameters,
                status: StatusCode::BAD_REQUEST,
                error_type: "BadRequestException",
                message: Cow::Owned(format!(
                    "Missing required request parameters: [{}]",
                    names.join(", ")
                )),
                detail: None,
            },
            GatewayError::BadRequestBody(detail) => Builtin {
                detail: Some(format!("[{detail}]")),
                ..b(
                    T::BadRequestBody,
                    StatusCode::BAD_REQUEST,
                    "BadRequestException",
                    "Invalid request body",
                )
            },
            GatewayError::IntegrationTimeout => b(
                T::IntegrationTimeout,
                StatusCode::GATEWAY_TIMEOUT,
                "InternalServerErrorException",
                "Endpoint request timed out",
            ),
            GatewayError::IntegrationFailure(_) => b(
                T::IntegrationFailure,
                StatusCode::BAD_GATEWAY,
                "InternalServerErrorException",
                "Internal server error",
            ),
            GatewayError::Unauthorized(_) | GatewayError::InvalidToken(_) => b(
                T::Unauthorized,
                StatusCode::UNAUTHORIZED,
                "UnauthorizedException",
                "Unauthorized",
            ),
            GatewayError::AccessDenied(_) => b(
                T::AccessDenied,
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                "User is not authorized to access this resource",
            ),
            GatewayError::PolicyDenied(message) => Builtin {
                message: Cow::Owned(message.clone()),
                ..b(
                    T::AccessDenied,
                    StatusCode::FORBIDDEN,
                    "AccessDeniedException",
                    "",
                )
            },
            GatewayError::MissingSignature => b(
                T::MissingAuthenticationToken,
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            GatewayError::InvalidSignature(_) => b(
                T::InvalidSignature,
                StatusCode::FORBIDDEN,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.",
            ),
            GatewayError::ExpiredSignature(_) => b(
                T::ExpiredToken,
                StatusCode::FORBIDDEN,
                "InvalidSignatureException",
                "Signature expired",
            ),
            GatewayError::AuthorizerFailure(_) => b(
                T::AuthorizerFailure,
                StatusCode::INTERNAL_SERVER_ERROR,
                "AuthorizerFailureException",
                "Internal server error",
            ),
            GatewayError::AuthorizerConfiguration(_) => b(
                T::AuthorizerConfigurationError,
                StatusCode::INTERNAL_SERVER_ERROR,
                "AuthorizerConfigurationException",
                "Internal server error",
            ),
            GatewayError::Configuration(_) => b(
                T::ApiConfigurationError,
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerErrorException",
                "Internal server error",
            ),
        }
    }

    /// The execution-log line that says why the request failed, in API Gateway's words
    /// where it has them (TestInvokeMethod shows it).
    pub fn execution_log_line(&self) -> String {
        match self {
            GatewayError::Configuration(reason) => {
                format!("Execution failed due to configuration error: {reason}")
            }
            GatewayError::IntegrationFailure(reason) => {
                format!("Execution failed due to an integration failure: {reason}")
            }
            GatewayError::IntegrationTimeout => "Execution failed due to a timeout error".into(),
            GatewayError::AuthorizerFailure(reason) => {
                format!("Execution failed due to an authorizer error: {reason}")
            }
            GatewayError::AuthorizerConfiguration(reason) => {
                format!("Execution failed due to configuration error: {reason}")
            }
            other => format!("Request failed: {other}"),
        }
    }

    /// Whether the integration failed (`$context.integration.error`).
    pub fn is_integration_error(&self) -> bool {
        matches!(
            self,
            GatewayError::IntegrationTimeout | GatewayError::IntegrationFailure(_)
        )
    }

    /// Whether the authorizer failed or refused (`$context.authorizer.error`).
    pub fn is_authorizer_error(&self) -> bool {
        matches!(
            self,
            GatewayError::Unauthorized(_)
                | GatewayError::InvalidToken(_)
                | GatewayError::AuthorizerFailure(_)
                | GatewayError::AuthorizerConfiguration(_)
        )
    }

    /// The gateway response type this error is rendered as.
    pub fn response_type(&self) -> ResponseType {
        self.builtin().response_type
    }

    /// How an HTTP API answers this error: AWS's status and `{"message": ...}` text for
    /// HTTP APIs (no gateway responses, no `x-amzn-ErrorType`).
    pub fn http_api(&self) -> (StatusCode, &'static str) {
        match self {
            GatewayError::Forbidden
            | GatewayError::AccessDenied(_)
            | GatewayError::PolicyDenied(_)
            | GatewayError::MissingSignature
            | GatewayError::InvalidSignature(_)
            | GatewayError::ExpiredSignature(_)
            | GatewayError::InvalidApiKey => (StatusCode::FORBIDDEN, "Forbidden"),
            GatewayError::MissingAuthenticationToken | GatewayError::NotFound => {
                (StatusCode::NOT_FOUND, "Not Found")
            }
            GatewayError::Unauthorized(_) | GatewayError::InvalidToken(_) => {
                (StatusCode::UNAUTHORIZED, "Unauthorized")
            }
            GatewayError::Throttled | GatewayError::QuotaExceeded => {
                (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
            }
            GatewayError::RequestTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
            }
            GatewayError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type")
            }
            GatewayError::BadRequest(_)
            | GatewayError::BadRequestParameters(_)
            | GatewayError::BadRequestBody(_) => (StatusCode::BAD_REQUEST, "Bad Request"),
            GatewayError::IntegrationTimeout => {
                (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            }
            GatewayError::IntegrationFailure(_)
            | GatewayError::AuthorizerFailure(_)
            | GatewayError::AuthorizerConfiguration(_)
            | GatewayError::Configuration(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }

    /// The HTTP status the client sees when the type is not customised.
    pub fn status(&self) -> StatusCode {
        self.builtin().status
    }
}
