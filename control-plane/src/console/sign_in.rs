//! Session endpoints: sign in, who am I, refresh, sign out, change my password.
//!
//! Sign-in answers the same 401 message, after the same argon2 work, for an unknown user,
//! a wrong password and a disabled user, so the answer never says whether a user exists.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::{ConsoleError, ConsoleResult};
use super::identity::SignedIn;
use super::session::{self, Issued};
use super::wire::User;
use super::{password, signin_limit};
use crate::extract::AwsJson;
use crate::ids::now_epoch;
use crate::store::console_users::{self, UserRow};
use crate::AppState;

/// The one message of every failed sign-in.
pub const BAD_CREDENTIALS: &str = "Incorrect username or password";

/// How the client wants the session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// HttpOnly cookies plus a CSRF token (the SPA).
    #[default]
    Cookie,
    /// Tokens in the body, for `Authorization: Bearer` (scripts).
    Bearer,
}

/// Body of SignIn.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInRequest {
    username: String,
    password: String,
    #[serde(default)]
    mode: Mode,
}

/// Body of Refresh (bearer sessions send their refresh token; cookie ones send nothing).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: Option<String>,
}

/// What sign-in and refresh answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    user: User,
    /// Access token expiry (epoch seconds).
    expires_at: i64,
    /// End of the session (epoch seconds).
    session_expires_at: i64,
    /// CSRF token to echo in `X-CSRF-Token` (cookie sessions).
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    /// Access token (bearer sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// Refresh token (bearer sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

fn respond(user: &UserRow, issued: Issued, mode: Mode, headers: &HeaderMap) -> Response {
    let body = SessionResponse {
        user: User::from(user),
        expires_at: issued.access_exp,
        session_expires_at: issued.session_exp,
        csrf_token: (mode == Mode::Cookie).then(|| issued.csrf.clone()),
        token: (mode == Mode::Bearer).then(|| issued.access.clone()),
        refresh_token: (mode == Mode::Bearer).then(|| issued.refresh.clone()),
    };
    let mut resp = Json(body).into_response();
    no_store(resp.headers_mut());
    if mode == Mode::Cookie {
        for c in session::session_cookies(&issued, session::is_https(headers)) {
            resp.headers_mut().append(http::header::SET_COOKIE, c);
        }
    }
    resp
}

fn no_store(h: &mut HeaderMap) {
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
}

fn client_ip(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    connect
        .map(|Extension(ConnectInfo(a))| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// POST /console/api/session — sign in.
pub async fn sign_in(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    AwsJson(req): AwsJson<SignInRequest>,
) -> ConsoleResult<Response> {
    // A cross-site HTML form cannot send JSON without a CORS preflight: no login CSRF.
    let json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ConsoleError::bad_request(
            "Sign-in requires Content-Type: application/json",
        ));
    }
    if req.username.is_empty() || req.password.is_empty() {
        return Err(ConsoleError::bad_request("Enter a username and a password"));
    }
    if req.username.len() > 256 || req.password.len() > 4096 {
        return Err(ConsoleError::bad_request(
            "The username or password is too long",
        ));
    }
    let ip = client_ip(connect);
    let limits = signin_limit::Policy::default();
    signin_limit::check(&state.db, &req.username, &ip).await?;
    let user = console_users::find_by_name(&state.db, &req.username, false).await?;
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::decoy_hash().to_string());
    let matches = password::verify_blocking(req.password, phc).await;
    let user = match user {
        Some(u) if matches && u.enabled => u,
        _ => {
            signin_limit::record_failure(&state.db, &limits, &req.username, &ip).await?;
            tracing::info!(%ip, "console sign-in failed");
            return Err(ConsoleError::Unauthorized(BAD_CREDENTIALS.into()));
        }
    };
    signin_limit::record_success(&state.db, &req.username, &ip).await?;
    let csrf = match req.mode {
        Mode::Cookie => session::new_csrf_token(),
        Mode::Bearer => String::new(),
    };
    let sid = session::new_session_id();
    let issued = session::issue(&state.console.keys, &user, &csrf, &sid, now_epoch())?;
    tracing::info!(user = %user.username, %ip, "console sign-in");
    Ok(respond(&user, issued, req.mode, &headers))
}

/// GET /console/api/session — the signed-in user.
pub async fn current(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "user": User::from(&id.user),
        "expiresAt": id.claims.exp,
        "sessionExpiresAt": id.claims.auth_time + session::MAX_SESSION_SECS,
        // The control plane's region: the console builds resource ARNs (tags) with it.
        "region": state.region,
    }))
}

/// POST /console/api/session/refresh — a new access token from the refresh token.
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    method: http::Method,
    AwsJson(req): AwsJson<RefreshRequest>,
) -> ConsoleResult<Response> {
    let (token, mode) = match (
        req.refresh_token,
        session::cookie_value(&headers, session::REFRESH_COOKIE),
    ) {
        (Some(t), _) => (t, Mode::Bearer),
        (None, Some(t)) => (t, Mode::Cookie),
        (None, None) => return Err(ConsoleError::Unauthorized("Sign in first".into())),
    };
    let (user, claims) = session::check_refresh(&state.db, &state.console.keys, &token).await?;
    if mode == Mode::Cookie {
        session::check_csrf(&headers, &method, &claims.csrf)?;
    }
    let issued = session::issue(
        &state.console.keys,
        &user,
        &claims.csrf,
        &claims.sid,
        claims.auth_time,
    )?;
    Ok(respond(&user, issued, mode, &headers))
}

/// DELETE /console/api/session — sign out: the session's access and refresh tokens are
/// refused from now on (cookie or bearer), and the cookies are cleared.
pub async fn sign_out(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    headers: HeaderMap,
) -> ConsoleResult<Response> {
    session::sign_out(&state.db, &id.claims).await?;
    tracing::info!(user = %id.user.username, "console sign-out");
    let mut resp = StatusCode::NO_CONTENT.into_response();
    for c in session::clearing_cookies(session::is_https(&headers)) {
        resp.headers_mut().append(http::header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// Body of ChangeMyPassword.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// PUT /console/api/me/password — change my password; ends all my other sessions.
pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(id): SignedIn,
    headers: HeaderMap,
    AwsJson(req): AwsJson<ChangePassword>,
) -> ConsoleResult<Response> {
    password::check_password_rules(&req.new_password)?;
    if !password::verify_blocking(req.current_password, id.user.password_hash.clone()).await {
        return Err(ConsoleError::bad_request(
            "The current password is incorrect",
        ));
    }
    let hash = password::hash_blocking(req.new_password).await?;
    let epoch = console_users::set_password(&state.db, id.user.id, &hash).await?;
    // Keep this browser signed in with a session of the new epoch.
    let mut user = id.user.clone();
    user.session_epoch = epoch;
    let mode = match id.carrier {
        session::Carrier::Cookie => Mode::Cookie,
        session::Carrier::Bearer => Mode::Bearer,
    };
    let issued = session::issue(
        &state.console.keys,
        &user,
        &id.claims.csrf,
        &id.claims.sid,
        now_epoch(),
    )?;
    Ok(respond(&user, issued, mode, &headers))
}
