//! Authentication of management calls: AWS Signature V4 against managed access keys, or
//! a console session (bearer token, or cookie plus CSRF token; see [`crate::console::session`]).
//! A request carrying a SigV4 `Authorization` header is always checked as SigV4.
//!
//! The middleware buffers the body (management payloads are small), rebuilds the
//! canonical request with `apigw-sigv4`, looks the secret up in Postgres (sealed with the
//! master key, [`crate::keys`]) and answers 403 with AWS's error types on any failure.
//! Secrets and signatures are never logged.

use apigw_sigv4::{Payload, SecretKey, SigV4Error};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;
use crate::keys::KeyVault;
use crate::store;
use crate::AppState;

/// Largest management request body accepted (AWS's import limit is of this order).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// Who made an authenticated call; handlers and the audit log read it from extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The access key id that signed the request, or `console:{username}` for a console
    /// session.
    pub access_key_id: String,
}

/// Whether the request is SigV4-signed (header or presigned query).
fn is_sigv4(req: &Request) -> bool {
    signed(req.headers(), req.uri())
}

/// [`is_sigv4`] from a request's headers and URI.
fn signed(headers: &http::HeaderMap, uri: &http::Uri) -> bool {
    let header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-"));
    let presigned = uri.query().is_some_and(|q| q.contains("X-Amz-Signature="));
    header || presigned
}

fn forbidden(e: SigV4Error) -> ApiError {
    ApiError::Forbidden {
        error_type: e.error_type(),
        message: e.message(),
    }
}

/// Axum middleware: accepts a console session (when the request carries one and no SigV4
/// signature) or verifies the SigV4 signature (service `apigateway`) of the request it wraps.
pub async fn require_sigv4(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let console = if is_sigv4(&req) {
        None
    } else {
        console_caller(&state, req.headers(), req.method()).await?
    };
    if let Some(caller) = console {
        let mut req = req;
        req.extensions_mut().insert(caller);
        return Ok(next.run(req).await);
    }
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad_request("Request body too large or unreadable"))?;
    let caller = verify_sigv4(&state, &parts, &bytes, "apigateway").await?;
    parts.extensions.insert(caller);
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// The console user calling, when the request (not SigV4-signed: see [`service_caller`])
/// carries a console session; `None` when it carries none (the caller then checks SigV4).
pub async fn console_caller(
    state: &AppState,
    headers: &http::HeaderMap,
    method: &http::Method,
) -> Result<Option<Caller>, ApiError> {
    if !crate::console::session::has_session_credentials(headers) {
        return Ok(None);
    }
    let keys = &state.console.keys;
    let session = crate::console::session::authenticate(&state.db, keys, headers, method).await?;
    Ok(session.map(|id| Caller {
        access_key_id: format!("console:{}", id.user.username),
    }))
}

/// Who calls one of the AWS JSON/query services on `POST /` (CloudWatch, CloudTrail): a
/// console session when the request is not SigV4-signed and carries one, otherwise the
/// SigV4 signature checked for `service` over the buffered body.
pub async fn service_caller(
    state: &AppState,
    parts: &http::request::Parts,
    bytes: &[u8],
    service: &str,
) -> Result<Caller, ApiError> {
    if !signed(&parts.headers, &parts.uri) {
        if let Some(caller) = console_caller(state, &parts.headers, &parts.method).await? {
            return Ok(caller);
        }
    }
    verify_sigv4(state, parts, bytes, service).await
}

/// Verifies the SigV4 signature of a buffered request for `service` (`apigateway` for the
/// management API, `monitoring` for the CloudWatch API): a known, enabled access key, the
/// control plane's region, the service in the credential scope, the signature.
pub async fn verify_sigv4(
    state: &AppState,
    parts: &http::request::Parts,
    bytes: &[u8],
    service: &str,
) -> Result<Caller, ApiError> {
    let request = apigw_sigv4::Request::from_parts(parts, Payload::Bytes(bytes));
    let parsed = apigw_sigv4::parse(&request).map_err(forbidden)?;
    let stored = store::access_keys::enabled_secret(&state.db, parsed.access_key_id()).await?;
    let secret = stored
        .and_then(|(plain, sealed)| match sealed {
            Some(sealed) => match state.keys.decrypt(&sealed) {
                Ok(secret) => Some(secret),
                Err(error) => {
                    tracing::error!(%error, "an access key secret does not decrypt (was APIGW_MASTER_KEY changed?)");
                    None
                }
            },
            None => plain,
        })
        .map(SecretKey::new)
        .ok_or_else(|| forbidden(SigV4Error::UnrecognizedClient))?;
    parsed.check_region(&state.region).map_err(forbidden)?;
    parsed
        .verify(&secret, service, time::OffsetDateTime::now_utc())
        .map_err(forbidden)?;
    Ok(Caller {
        access_key_id: parsed.access_key_id().to_string(),
    })
}

/// Creates or refreshes the bootstrap access key from the configuration (its secret
/// sealed with the master key).
pub async fn ensure_bootstrap_key(
    db: &sqlx::PgPool,
    vault: &KeyVault,
    access_key_id: &str,
    secret: &str,
) -> Result<(), sqlx::Error> {
    store::access_keys::ensure_bootstrap(db, vault, access_key_id, secret).await
}
