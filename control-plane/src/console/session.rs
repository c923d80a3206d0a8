//! Console sessions: short-lived access JWTs, longer-lived refresh JWTs, their cookies and
//! the CSRF check, and [`authenticate`], which the management API's auth middleware calls
//! beside SigV4.
//!
//! Tokens are HS256 (`jsonwebtoken`) signed with the configured key. An access token lives
//! [`ACCESS_TTL_SECS`]; a refresh token is accepted only by the refresh endpoint and never
//! outlives [`MAX_SESSION_SECS`] from sign-in. Every use re-reads the user, so disabling a
//! user or changing their password (which bumps `session_epoch`) ends their sessions at once.
//! Both tokens of a session carry its id (`sid`); signing out records it
//! ([`sign_out`]), so the session's tokens are refused from then on.
//!
//! Browser sessions ride in an HttpOnly `apigw_session` cookie (SameSite=Strict); every
//! unsafe request carried by that cookie must also send `X-CSRF-Token` equal to the token
//! signed into the session (readable by the SPA in the `apigw_csrf` cookie): a signed
//! double-submit. Bearer tokens (`Authorization: Bearer`) need no CSRF token.

use axum::http::{HeaderMap, HeaderValue, Method};
use cookie::{Cookie, SameSite};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::error::{ConsoleError, ConsoleResult};
use crate::ids::now_epoch;
use crate::store::console_sessions;
use crate::store::console_users::{self, UserRow};

/// Lifetime of an access token.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Longest a session can be refreshed for, from sign-in.
pub const MAX_SESSION_SECS: i64 = 12 * 3600;
/// Cookie carrying the access token (HttpOnly).
pub const SESSION_COOKIE: &str = "apigw_session";
/// Cookie carrying the refresh token (HttpOnly, only sent to the session endpoints).
pub const REFRESH_COOKIE: &str = "apigw_refresh";
/// Cookie carrying the CSRF token (readable by the SPA).
pub const CSRF_COOKIE: &str = "apigw_csrf";
/// Header that must echo the CSRF token on unsafe cookie-authenticated requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Path the refresh cookie is limited to.
pub const REFRESH_PATH: &str = "/console/api/session";

const ISSUER: &str = "apigw-control-plane";
const AUD_ACCESS: &str = "apigw-console";
const AUD_REFRESH: &str = "apigw-console-refresh";
/// Clock skew tolerated on `exp` (seconds).
const LEEWAY_SECS: u64 = 5;

const EXPIRED: &str = "The session has expired. Sign in again.";
const INVALID: &str = "The session token is invalid. Sign in again.";
const REVOKED: &str = "The session is no longer valid. Sign in again.";

/// The signing key of sessions.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

impl SessionKeys {
    /// Keys for HS256 with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// What a session token says; `ep` must match the user's `session_epoch`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Username at issue time (display only; the database is authoritative).
    pub name: String,
    /// Issuer.
    pub iss: String,
    /// Audience: access or refresh.
    pub aud: String,
    /// Issued at (epoch seconds).
    pub iat: i64,
    /// Expiry (epoch seconds).
    pub exp: i64,
    /// When the user signed in; refreshes never pass `auth_time + MAX_SESSION_SECS`.
    pub auth_time: i64,
    /// The user's session epoch at sign-in.
    pub ep: i32,
    /// CSRF token bound to a cookie session; empty for bearer sessions.
    #[serde(default)]
    pub csrf: String,
    /// Session id: the same in the access and refresh tokens of one sign-in, and kept by
    /// refreshes; sign-out revokes it.
    pub sid: String,
}

/// How the caller presented the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `apigw_session` cookie (CSRF-checked).
    Cookie,
    /// `Authorization: Bearer`.
    Bearer,
}

/// A signed-in console user, checked against the database on this request.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user as stored now.
    pub user: UserRow,
    /// The access token's claims.
    pub claims: Claims,
    /// How the token came.
    pub carrier: Carrier,
}

/// A freshly issued session.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Access JWT.
    pub access: String,
    /// Refresh JWT.
    pub refresh: String,
    /// Access token expiry (epoch seconds).
    pub access_exp: i64,
    /// Session end (epoch seconds): no refresh after it.
    pub session_exp: i64,
    /// CSRF token (empty for bearer sessions).
    pub csrf: String,
}

/// A new session id.
pub fn new_session_id() -> String {
    Uuid::new_v4().to_string()
}

/// A random URL-safe CSRF token.
pub fn new_csrf_token() -> String {
    rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Issues an access and a refresh token of session `sid` for `user`; `auth_time` is the
/// original sign-in.
pub fn issue(
    keys: &SessionKeys,
    user: &UserRow,
    csrf: &str,
    sid: &str,
    auth_time: i64,
) -> ConsoleResult<Issued> {
    let now = now_epoch();
    let session_exp = auth_time + MAX_SESSION_SECS;
    let access_exp = (now + ACCESS_TTL_SECS).min(session_exp);
    let claims = |aud: &str, exp: i64| Claims {
        sub: user.id.to_string(),
        name: user.username.clone(),
        iss: ISSUER.into(),
        aud: aud.into(),
        iat: now,
        exp,
        auth_time,
        ep: user.session_epoch,
        csrf: csrf.into(),
        sid: sid.into(),
    };
    let sign = |c: &Claims| {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), c, &keys.encoding)
            .map_err(|e| ConsoleError::Internal(format!("signing a session: {e}")))
    };
    Ok(Issued {
        access: sign(&claims(AUD_ACCESS, access_exp))?,
        refresh: sign(&claims(AUD_REFRESH, session_exp))?,
        access_exp,
        session_exp,
        csrf: csrf.into(),
    })
}

fn decode(keys: &SessionKeys, token: &str, audience: &str) -> ConsoleResult<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = LEEWAY_SECS;
    v.set_audience(&[audience]);
    v.set_issuer(&[ISSUER]);
    v.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
    jsonwebtoken::decode::<Claims>(token, &keys.decoding, &v)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => ConsoleError::Unauthorized(EXPIRED.into()),
            _ => ConsoleError::Unauthorized(INVALID.into()),
        })
}

/// Loads the user a token names and checks it may still act: session not signed out,
/// user enabled, same epoch.
async fn live_user(db: &sqlx::PgPool, claims: &Claims) -> ConsoleResult<UserRow> {
    let id =
        Uuid::parse_str(&claims.sub).map_err(|_| ConsoleError::Unauthorized(INVALID.into()))?;
    match console_users::find_for_session(db, id, &claims.sid).await? {
        Some((u, signed_out)) if !signed_out && u.enabled && u.session_epoch == claims.ep => Ok(u),
        _ => Err(ConsoleError::Unauthorized(REVOKED.into())),
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Whether the request carries console session credentials (a bearer token or the
/// session cookie); SigV4 is tried only when it does not.
pub fn has_session_credentials(headers: &HeaderMap) -> bool {
    bearer(headers).is_some() || cookie_value(headers, SESSION_COOKIE).is_some()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Checks the double-submit token of an unsafe cookie-carried request against the one
/// signed into the session.
pub fn check_csrf(headers: &HeaderMap, method: &Method, expected: &str) -> ConsoleResult<()> {
    if is_safe(method) {
        return Ok(());
    }
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if expected.is_empty()
        || sent.is_empty()
        || !bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
    {
        return Err(ConsoleError::AccessDenied(format!(
            "Missing or invalid CSRF token: send the {CSRF_COOKIE} cookie's value in the X-CSRF-Token header"
        )));
    }
    Ok(())
}

/// Authenticates a request by its console session, if it carries one.
///
/// `Ok(None)`: no session credentials (the caller may try SigV4). A bearer token wins over
/// the cookie. Unsafe cookie-carried requests must pass the CSRF check.
pub async fn authenticate(
    db: &sqlx::PgPool,
    keys: &SessionKeys,
    headers: &HeaderMap,
    method: &Method,
) -> ConsoleResult<Option<Identity>> {
    let (token, carrier) = match (bearer(headers), cookie_value(headers, SESSION_COOKIE)) {
        (Some(t), _) => (t, Carrier::Bearer),
        (None, Some(t)) => (t, Carrier::Cookie),
        (None, None) => return Ok(None),
    };
    let claims = decode(keys, &token, AUD_ACCESS)?;
    if carrier == Carrier::Cookie {
        check_csrf(headers, method, &claims.csrf)?;
    }
    let user = live_user(db, &claims).await?;
    Ok(Some(Identity {
        user,
        claims,
        carrier,
    }))
}

/// Validates a refresh token (from the body or the refresh cookie) and the user behind it.
pub async fn check_refresh(
    db: &sqlx::PgPool,
    keys: &SessionKeys,
    token: &str,
) -> ConsoleResult<(UserRow, Claims)> {
    let claims = decode(keys, token, AUD_REFRESH)?;
    if now_epoch() >= claims.auth_time + MAX_SESSION_SECS {
        return Err(ConsoleError::Unauthorized(EXPIRED.into()));
    }
    let user = live_user(db, &claims).await?;
    Ok((user, claims))
}

/// Ends the session `claims` belong to: its access and refresh tokens are refused from now
/// on, until the session would have ended anyway.
pub async fn sign_out(db: &sqlx::PgPool, claims: &Claims) -> ConsoleResult<()> {
    console_sessions::sign_out(db, &claims.sid, claims.auth_time + MAX_SESSION_SECS).await?;
    Ok(())
}

/// Whether the browser reached us over HTTPS (directly or through a TLS-terminating proxy
/// that sets `X-Forwarded-Proto`); cookies are then marked `Secure`.
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    http_only: bool,
    max_age: i64,
    secure: bool,
) -> HeaderValue {
    let c = Cookie::build((name, value))
        .path(path)
        .http_only(http_only)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    // Cookie values are JWTs and alphanumerics: always valid header text.
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` headers that store a cookie session.
pub fn session_cookies(issued: &Issued, secure: bool) -> Vec<HeaderValue> {
    let life = (issued.session_exp - now_epoch()).max(0);
    vec![
        set_cookie(SESSION_COOKIE, &issued.access, "/", true, life, secure),
        set_cookie(
            REFRESH_COOKIE,
            &issued.refresh,
            REFRESH_PATH,
            true,
            life,
            secure,
        ),
        set_cookie(CSRF_COOKIE, &issued.csrf, "/", false, life, secure),
    ]
}

/// `Set-Cookie` headers that end a cookie session.
pub fn clearing_cookies(secure: bool) -> Vec<HeaderValue> {
    vec![
        set_cookie(SESSION_COOKIE, "", "/", true, 0, secure),
        set_cookie(REFRESH_COOKIE, "", REFRESH_PATH, true, 0, secure),
        set_cookie(CSRF_COOKIE, "", "/", false, 0, secure),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRow {
        UserRow {
            id: Uuid::new_v4(),
            username: "alice".into(),
            password_hash: String::new(),
            is_admin: false,
            enabled: true,
            session_epoch: 3,
            created_date: 0,
        }
    }

    #[test]
    fn tokens_round_trip_and_audiences_do_not_mix() {
        let keys = SessionKeys::new(b"0123456789abcdef0123456789abcdef");
        let issued = issue(&keys, &user(), "tok", "s1", now_epoch()).unwrap();
        let c = decode(&keys, &issued.access, AUD_ACCESS).unwrap();
        assert_eq!(
            (c.name.as_str(), c.ep, c.csrf.as_str()),
            ("alice", 3, "tok")
        );
        assert!(decode(&keys, &issued.refresh, AUD_ACCESS).is_err());
        assert!(decode(&keys, &issued.access, AUD_REFRESH).is_err());
        let other = SessionKeys::new(b"another-key-another-key-another-k");
        assert!(decode(&other, &issued.access, AUD_ACCESS).is_err());
    }

    #[test]
    fn expired_tokens_say_so() {
        let keys = SessionKeys::new(b"0123456789abcdef0123456789abcdef");
        let issued = issue(
            &keys,
            &user(),
            "",
            "s2",
            now_epoch() - MAX_SESSION_SECS - 60,
        )
        .unwrap();
        match decode(&keys, &issued.access, AUD_ACCESS) {
            Err(ConsoleError::Unauthorized(m)) => assert_eq!(m, EXPIRED),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csrf_is_required_on_unsafe_methods_only() {
        let mut h = HeaderMap::new();
        assert!(check_csrf(&h, &Method::GET, "abc").is_ok());
        assert!(check_csrf(&h, &Method::POST, "abc").is_err());
        h.insert(CSRF_HEADER, HeaderValue::from_static("abd"));
        assert!(check_csrf(&h, &Method::DELETE, "abc").is_err());
        h.insert(CSRF_HEADER, HeaderValue::from_static("abc"));
        assert!(check_csrf(&h, &Method::PATCH, "abc").is_ok());
        assert!(check_csrf(&h, &Method::PATCH, "").is_err());
    }

    #[test]
    fn cookies_and_bearer_are_found() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            HeaderValue::from_static("a=1; apigw_session=xyz"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        h.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer t.t.t"),
        );
        assert_eq!(bearer(&h).as_deref(), Some("t.t.t"));
        assert!(has_session_credentials(&h));
    }
}
