//! Extractors for console handlers: [`SignedIn`] (any enabled user with a valid session)
//! and [`Admin`] (an admin one). Both run the CSRF check for cookie sessions.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ConsoleError;
use super::session::{self, Identity};
use crate::AppState;

/// The signed-in caller of a console endpoint.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Identity);

/// The signed-in caller, who must be an admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Identity);

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

impl FromRequestParts<AppState> for Admin {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(id) = SignedIn::from_request_parts(parts, state).await?;
        if id.user.is_admin {
            Ok(Admin(id))
        } else {
            Err(ConsoleError::AccessDenied(
                "Only administrators can manage console users".into(),
            ))
        }
    }
}
