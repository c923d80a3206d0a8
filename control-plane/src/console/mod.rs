//! The web console's server side: console users (argon2id), sessions (JWT in an HttpOnly
//! cookie with a CSRF token, or a bearer token), sign-in rate limiting, users' own access
//! keys, and serving the built single-page app.
//!
//! Endpoints live under `/console/api/` so they never collide with the `apigateway` paths;
//! the SPA calls the management API itself (`/restapis/...`) with its session, which
//! [`crate::auth`] accepts beside SigV4 through [`session::authenticate`].

pub mod access_keys;
pub mod assets;
pub mod bootstrap;
pub mod error;
pub mod identity;
pub mod password;
pub mod session;
pub mod sign_in;
pub mod signin_limit;
pub mod users;
pub mod wire;

use std::path::PathBuf;

use axum::routing::{delete, get, patch, post, put};
use axum::Router;

use crate::AppState;

/// Console configuration shared by handlers and the auth middleware.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Session signing key.
    pub keys: session::SessionKeys,
    /// Where the built SPA is (`index.html`, `assets/`).
    pub console_dir: PathBuf,
}

/// The console's JSON endpoints, to be nested at `/console/api`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route(
            "/session",
            post(sign_in::sign_in)
                .get(sign_in::current)
                .delete(sign_in::sign_out),
        )
        .route("/session/refresh", post(sign_in::refresh))
        .route("/me/password", put(sign_in::change_password))
        .route(
            "/me/access-keys",
            get(access_keys::list).post(access_keys::create),
        )
        .route(
            "/me/access-keys/{access_key_id}",
            patch(access_keys::update).delete(access_keys::delete),
        )
        .route("/users", get(users::list).post(users::create))
        .route("/users/{username}", patch(users::update))
        .route("/users/{username}/unlock", post(users::unlock))
        .route(
            "/users/{username}/policies/{name}",
            put(crate::iam::policies::attach).delete(crate::iam::policies::detach),
        )
        .route(
            "/policies",
            get(crate::iam::policies::list).post(crate::iam::policies::create),
        )
        .route("/policies/{name}", delete(crate::iam::policies::delete))
        .route("/logs/search", get(crate::logs::console::search))
        .fallback(|| async { error::ConsoleError::NotFound("No such console endpoint".into()) })
}

/// Everything the console adds to the HTTP application: its API and the SPA.
pub fn router(config: &ConsoleConfig) -> Router<AppState> {
    Router::new()
        .nest("/console/api", api_router())
        .merge(assets::router(&config.console_dir))
}
