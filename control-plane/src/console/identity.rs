//! The extractor for console handlers: [`SignedIn`] (any enabled user with a valid
//! session; it runs the CSRF check for cookie sessions). What a signed-in user may do is
//! decided by their policies ([`crate::iam`]), which each handler asks.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ConsoleError;
use super::session::{self, Identity};
use crate::AppState;

/// The signed-in caller of a console endpoint.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Identity);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        session::authenticate(
            &state.db,
            &state.console.keys,
            &parts.headers,
            &parts.method,
        )
        .await?
        .map(SignedIn)
        .ok_or_else(|| ConsoleError::Unauthorized("Sign in first".into()))
    }
}
