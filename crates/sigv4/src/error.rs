//! Verification and signing errors.

use http::StatusCode;

/// Why a request failed SigV4 authentication.
///
/// Every variant knows the AWS error type and message AWS itself would answer with, so the
/// HTTP layer can reply `403` + `x-amzn-ErrorType: <error_type()>` + `{"message": ...}` and the
/// AWS CLI / SDKs show their usual, recognisable errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters were present.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,

    /// The signature material is malformed or incomplete (missing parameters, bad scope,
    /// missing or unparseable date, unsupported payload hash, ...).
    #[error("{0}")]
    IncompleteSignature(String),

    /// The access key id is unknown. Produced by the caller when its secret lookup fails.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,

    /// The recomputed signature differs from the one the client sent.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. \
         Consult the service documentation for details."
    )]
    SignatureDoesNotMatch,

    /// The request date is too far in the past (clock skew) or the presigned URL expired.
    #[error("{0}")]
    SignatureExpired(String),

    /// The request date is too far in the future.
    #[error("{0}")]
    SignatureNotYetCurrent(String),

    /// The credential scope does not fit the request (wrong service, region or date).
    #[error("{0}")]
    InvalidScope(String),

    /// `host` is not part of the signed headers, so the signature could be replayed against
    /// another endpoint.
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,

    /// The signed `x-amz-content-sha256` header does not match the body that arrived.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
}

impl SigV4Error {
    /// The AWS error type name, for the `x-amzn-ErrorType` response header.
    pub fn error_type(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            SigV4Error::IncompleteSignature(_) => "IncompleteSignatureException",
            SigV4Error::UnrecognizedClient => "UnrecognizedClientException",
            SigV4Error::SignatureDoesNotMatch
            | SigV4Error::SignatureExpired(_)
            | SigV4Error::SignatureNotYetCurrent(_)
            | SigV4Error::InvalidScope(_)
            | SigV4Error::HostNotSigned
            | SigV4Error::PayloadHashMismatch => "InvalidSignatureException",
        }
    }

    /// The human-readable message, for the `message` field of the response body.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The HTTP status AWS uses for all authentication failures: `403 Forbidden`.
    pub fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    /// The JSON response body, `{"message": "..."}`, properly escaped.
    pub fn json_body(&self) -> String {
        serde_json::json!({ "message": self.message() }).to_string()
    }
}

/// Why the client-side signer could not sign a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The URL could not be parsed as an absolute URL or an origin-form path.
    #[error("invalid URL {0:?}")]
    InvalidUrl(String),
    /// No `host` header was given and the URL has no authority to derive one from.
    #[error("no Host: pass an absolute URL or a `host` header")]
    MissingHost,
    /// A computed value could not be turned into an HTTP header value.
    #[error("invalid header value for {0}")]
    InvalidHeaderValue(&'static str),
}
