//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`): server-side **verification** and client-side
//! **signing**.
//!
//! The control plane verifies requests from the AWS CLI / boto3 / Terraform (service
//! `apigateway`) against managed access keys; the data plane verifies `AWS_IAM` calls (service
//! `execute-api`) with derived signing keys only; our tests and tools sign their own calls.
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
//! # Node-side usage (derived signing keys)
//!
//! Data-plane nodes verify `execute-api` calls without ever receiving secret access keys:
//! the control plane derives each key's per-day [`SigningKey`] (`kSigning`, bound to one
//! date, region and service) and hands out only those; the node picks the one for the
//! request's scope date and calls [`ParsedAuth::verify_with_signing_key`], which performs the
//! same checks as [`ParsedAuth::verify`].
//!
//! ```
//! use apigw_sigv4::{parse, Payload, Request, SecretKey, SigV4Error, SigningKey};
//!
//! // Control plane: derive, per access key, the keys for the days a node may see.
//! let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! let key = SigningKey::derive(&secret, "20260101", "us-east-1", "execute-api");
//!
//! // Node: look the key up by access key id *and* the request's scope date.
//! # fn lookup_key(_akid: &str, _date: &str) -> Option<SigningKey> { None }
//! # fn handle(parts: &http::request::Parts, body: &[u8]) -> Result<(), SigV4Error> {
//! let parsed = parse(&Request::from_parts(parts, Payload::Bytes(body)))?;
//! parsed.check_region("us-east-1")?;
//! let key = lookup_key(parsed.access_key_id(), &parsed.scope().date)
//!     .ok_or(SigV4Error::UnrecognizedClient)?;
//! parsed.verify_with_signing_key(key.as_bytes(), "execute-api", time::OffsetDateTime::now_utc())?;
//! # Ok(()) }
//! ```
//!
//! A node needs the keys of every scope date it can accept: with the 5-minute clock skew
//! that is today and, around midnight UTC, the neighbouring day; presigned URLs (up to
//! [`MAX_PRESIGNED_EXPIRES_SECS`], a week) may carry a scope date up to 7 days old. A key
//! for a date the node does not have is best answered like an unknown access key.
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

/// A derived SigV4 signing key, `kSigning` =
/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
///
/// It signs only for one credential scope (day, region, service), so it can be handed to a
/// verifier (a data-plane node) without the secret access key. Its `Debug` output is
/// redacted so it never reaches logs.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// Derives the key of `secret` for the scope `date` (`YYYYMMDD`) / `region` / `service`
    /// (see [`canonical::signing_key`]).
    pub fn derive(secret: &SecretKey, date: &str, region: &str, service: &str) -> Self {
        SigningKey(canonical::signing_key(
            secret.expose(),
            date,
            region,
            service,
        ))
    }

    /// The key for [`ParsedAuth::verify_with_signing_key`] (or to send to a node).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for SigningKey {
    fn from(key: [u8; 32]) -> Self {
        SigningKey(key)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}
