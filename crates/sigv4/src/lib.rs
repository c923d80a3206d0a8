//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`): server-side **verification** and client-side
//! **signing**.
//!
//! The control plane verifies requests from the AWS CLI / boto3 / Terraform (service
//! `apigateway`) against managed access keys; the data plane verifies `AWS_IAM` calls (service
//! `execute-api`); our tests and tools sign their own calls.
//!
//! # Why hand-written
//!
//! The `aws-sigv4` crate only signs, and it chooses which headers to sign. A verifier must
//! rebuild the canonical request from the *client's* `SignedHeaders` list and the request as it
//! arrived on the wire, so the small canonicalisation is written here on `hmac`/`sha2`, once,
//! and shared by the verifier and the signer.
//!
//! # Canonicalisation (non-S3 services, as botocore does it)
//!
//! - URI: the raw wire path, dot segments removed and repeated slashes collapsed, then
//!   URI-encoded *again* (`%7B` → `%257B`): SDKs encode each path segment twice.
//! - Query: every key/value decoded (`+` = space) and re-encoded with the unreserved set
//!   `A-Za-z0-9-_.~`, `=` always present, sorted by key then value; presigned URLs leave out
//!   `X-Amz-Signature`.
//! - Headers: lowercase names in `SignedHeaders` order, values trimmed with inner whitespace
//!   collapsed, repeated headers joined by `,`.
//! - Payload: the `x-amz-content-sha256` value if the client sent one (checked against the
//!   body), otherwise the body's SHA-256.
//!
//! # Server usage
//!
//! Verification is two steps so the secret can be fetched asynchronously in between:
//!
//! ```
//! use apigw_sigv4::{parse, Payload, Request, SecretKey, SigV4Error};
//! # fn lookup(_akid: &str) -> Option<SecretKey> { None }
//! # fn handle(parts: &http::request::Parts, body: &[u8]) -> Result<(), SigV4Error> {
//! let parsed = parse(&Request::from_parts(parts, Payload::Bytes(body)))?;
//! let secret = lookup(parsed.access_key_id()).ok_or(SigV4Error::UnrecognizedClient)?;
//! parsed.check_region("us-east-1")?;
//! parsed.verify(&secret, "apigateway", time::OffsetDateTime::now_utc())?;
//! # Ok(()) }
//! ```
//!
//! On error answer `err.status()` (403) with header `x-amzn-ErrorType: err.error_type()` and
//! body `err.json_body()`.
//!
//! # Client usage
//!
//! ```
//! use apigw_sigv4::{sign, SecretKey, SigningParams};
//! let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! let params = SigningParams {
//!     access_key_id: "AKIDEXAMPLE",
//!     secret: &secret,
//!     security_token: None,
//!     region: "us-east-1",
//!     service: "apigateway",
//!     time: time::OffsetDateTime::now_utc(),
//! };
//! let mut headers = http::HeaderMap::new();
//! headers.insert("content-type", "application/json".parse().unwrap());
//! let out = sign("POST", "http://127.0.0.1:9090/restapis", &headers, b"{}", &params).unwrap();
//! out.apply_to(&mut headers).unwrap(); // Authorization, X-Amz-Date, x-amz-content-sha256
//! ```

use std::fmt;

pub mod canonical;
mod error;
mod sign;
mod verify;

pub use canonical::{ALGORITHM, EMPTY_SHA256, UNSIGNED_PAYLOAD};
pub use error::{SigV4Error, SigningError};
pub use sign::{presign, sign, SigningOutput, SigningParams};
pub use verify::{
    parse, verify_request, AuthKind, CredentialScope, ParsedAuth, Payload, Request, MAX_CLOCK_SKEW,
    MAX_PRESIGNED_EXPIRES_SECS,
};

/// A secret access key. Its `Debug` output is redacted so it never reaches logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret access key.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretKey(secret.into())
    }

    /// The secret itself; needed only to derive signing keys.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl From<String> for SecretKey {
    fn from(s: String) -> Self {
        SecretKey(s)
    }
}

impl From<&str> for SecretKey {
    fn from(s: &str) -> Self {
        SecretKey(s.to_owned())
    }
}
