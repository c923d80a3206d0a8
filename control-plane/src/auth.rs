//! Authentication of management calls: AWS Signature V4 against managed access keys.
//!
//! The middleware buffers the body (management payloads are small), rebuilds the
//! canonical request with `apigw-sigv4`, looks the secret up in Postgres and answers
//! 403 with AWS's error types on any failure. Secrets and signatures are never logged.

use apigw_sigv4::{Payload, SecretKey, SigV4Error};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;
use crate::AppState;

/// Largest management request body accepted (AWS's import limit is of this order).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// Who made an authenticated call; handlers and the audit log read it from extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The access key id that signed the request.
    pub access_key_id: String,
}

fn forbidden(e: SigV4Error) -> ApiError {
    ApiError::Forbidden {
        error_type: e.error_type(),
        message: e.message(),
    }
}

/// Axum middleware: verifies the SigV4 signature of every request it wraps.
pub async fn require_sigv4(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad_request("Request body too large or unreadable"))?;
    let access_key_id = {
        let request = apigw_sigv4::Request::from_parts(&parts, Payload::Bytes(&bytes));
        let parsed = apigw_sigv4::parse(&request).map_err(forbidden)?;
        let secret: Option<(String,)> =
            sqlx::query_as("SELECT secret FROM access_keys WHERE access_key_id = $1 AND enabled")
                .bind(parsed.access_key_id())
                .fetch_optional(&state.db)
                .await?;
        let secret = secret
            .map(|s| SecretKey::new(s.0))
            .ok_or_else(|| forbidden(SigV4Error::UnrecognizedClient))?;
        parsed.check_region(&state.region).map_err(forbidden)?;
        parsed
            .verify(&secret, "apigateway", time::OffsetDateTime::now_utc())
            .map_err(forbidden)?;
        parsed.access_key_id().to_string()
    };
    parts.extensions.insert(Caller { access_key_id });
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// Creates or refreshes the bootstrap access key from the configuration.
pub async fn ensure_bootstrap_key(
    db: &sqlx::PgPool,
    access_key_id: &str,
    secret: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO access_keys (access_key_id, secret, description, enabled)
         VALUES ($1, $2, 'bootstrap key from APIGW_ACCESS_KEY_ID', TRUE)
         ON CONFLICT (access_key_id) DO UPDATE SET secret = EXCLUDED.secret, enabled = TRUE",
    )
    .bind(access_key_id)
    .bind(secret)
    .execute(db)
    .await?;
    Ok(())
}
