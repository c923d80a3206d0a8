//! Console users and sessions against a real control plane process: argon2id hashes in the
//! table, sign-in that never says whether a user exists, expired and tampered session JWTs,
//! disabled users locked out at once, CSRF on cookie sessions, the sign-in rate limit (per
//! user and client IP, with an admin's unlock), sign-out revoking the session's tokens,
//! users' own access keys, and serving the console's assets.

use std::collections::HashMap;

use apigw_e2e::process::{ADMIN_PASSWORD, ADMIN_USER, JWT_SECRET};
use apigw_e2e::{free_port, fresh_database, ControlPlane, Mgmt};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

/// What the console endpoints or the management API answered.
#[derive(Debug)]
struct Reply {
    status: u16,
    error_type: Option<String>,
    body: Value,
    set_cookies: Vec<String>,
    headers: reqwest::header::HeaderMap,
}

impl Reply {
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }

    fn cookie_attrs(&self, name: &str) -> String {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .cloned()
            .unwrap_or_default()
    }
}

/// How a request authenticates.
#[derive(Clone, Default)]
struct Auth {
    bearer: Option<String>,
    cookies: HashMap<String, String>,
    csrf: Option<String>,
}

impl Auth {
    fn bearer(token: &str) -> Self {
        Self {
            bearer: Some(token.to_string()),
            ..Self::default()
        }
    }
}

struct Console {
    base: String,
    http: reqwest::Client,
}

impl Console {
    fn new(cp: &ControlPlane) -> Self {
        Self {
            base: cp.url(),
            http: reqwest::Client::new(),
        }
    }

    /// A client whose connections leave from `ip` (any 127.x.y.z reaches the control plane
    /// on 127.0.0.1 through the loopback interface), so the control plane sees that peer
    /// address: how these tests simulate a second client machine.
    fn from_ip(cp: &ControlPlane, ip: [u8; 4]) -> Self {
        Self {
            base: cp.url(),
            http: reqwest::Client::builder()
                .local_address(std::net::IpAddr::from(ip))
                .build()
                .expect("an HTTP client bound to a loopback address"),
        }
    }

    async fn call(&self, method: &str, path: &str, auth: &Auth, body: Option<Value>) -> Reply {
        let mut req = self.http.request(
            method.parse().expect("method"),
            format!("{}{path}", self.base),
        );
        if let Some(t) = &auth.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if !auth.cookies.is_empty() {
            let c: Vec<String> = auth
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", c.join("; "));
        }
        if let Some(t) = &auth.csrf {
            req = req.header("x-csrf-token", t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request to the control plane");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let error_type = headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let set_cookies = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            error_type,
            body,
            set_cookies,
            headers,
        }
    }

    async fn sign_in(&self, user: &str, password: &str, mode: &str) -> Reply {
        self.call(
            "POST",
            "/console/api/session",
            &Auth::default(),
            Some(json!({"username": user, "password": password, "mode": mode})),
        )
        .await
    }

    /// Signs in for a bearer token; panics on failure.
    async fn bearer(&self, user: &str, password: &str) -> String {
        let r = self.sign_in(user, password, "bearer").await;
        assert_eq!(r.status, 200, "sign-in of {user}: {:?}", r.body);
        r.body["token"].as_str().expect("token").to_string()
    }

    /// Signs in for a cookie session; returns the cookies and the CSRF token.
    async fn cookie_session(&self, user: &str, password: &str) -> (Reply, Auth) {
        let r = self.sign_in(user, password, "cookie").await;
        assert_eq!(r.status, 200, "sign-in of {user}: {:?}", r.body);
        let mut auth = Auth::default();
        for name in ["apigw_session", "apigw_refresh", "apigw_csrf"] {
            auth.cookies
                .insert(name.into(), r.cookie(name).expect("session cookie"));
        }
        let csrf = r.body["csrfToken"].as_str().expect("csrfToken").to_string();
        assert_eq!(auth.cookies["apigw_csrf"], csrf);
        auth.csrf = Some(csrf);
        (r, auth)
    }

    /// Admin creates a user.
    async fn create_user(&self, admin: &Auth, name: &str, password: &str, is_admin: bool) {
        let r = self
            .call(
                "POST",
                "/console/api/users",
                admin,
                Some(json!({"username": name, "password": password, "isAdmin": is_admin})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
}

async fn start() -> (ControlPlane, Console) {
    start_with(&[]).await
}

async fn start_with(env: &[(&str, String)]) -> (ControlPlane, Console) {
    let db = fresh_database().await.expect("test database");
    let cp = ControlPlane::start_with_env(&db, free_port(), free_port(), env).await;
    let console = Console::new(&cp);
    (cp, console)
}

async fn db(cp: &ControlPlane) -> sqlx::PgPool {
    sqlx::PgPool::connect(&cp.database_url)
        .await
        .expect("connect to the test database")
}

fn claims_of(token: &str) -> Value {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(JWT_SECRET.as_bytes()), &v)
        .expect("a token signed with the configured key")
        .claims
}

fn forge(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .expect("signing")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_stored_as_argon2id_hashes_only() {
    let (cp, c) = start().await;
    let admin = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    c.create_user(&admin, "carol", "carol-password-123", false)
        .await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT username, password_hash FROM console_users ORDER BY username")
            .fetch_all(&db(&cp).await)
            .await
            .expect("users");
    assert_eq!(rows.len(), 2);
    for (user, hash) in &rows {
        assert!(hash.starts_with("$argon2id$v=19$"), "{user}: {hash}");
        assert!(!hash.contains(ADMIN_PASSWORD) && !hash.contains("carol-password-123"));
    }
    // The hash never leaves the server.
    let list = c.call("GET", "/console/api/users", &admin, None).await;
    assert_eq!(list.status, 200);
    assert!(!list.body.to_string().contains("argon2"), "{}", list.body);
    assert_eq!(list.body["item"].as_array().map(Vec::len), Some(2));
    // The new user signs in and uses the management API with the session: reading with
    // the ReadOnlyAccess a new user gets, writing once an admin grants it.
    let carol = Auth::bearer(&c.bearer("carol", "carol-password-123").await);
    let me = c.call("GET", "/console/api/session", &carol, None).await;
    assert_eq!(me.body["user"]["username"], "carol");
    assert_eq!(me.body["user"]["isAdmin"], false);
    assert_eq!(c.call("GET", "/restapis", &carol, None).await.status, 200);
    let refused = c
        .call(
            "POST",
            "/restapis",
            &carol,
            Some(json!({"name": "by-carol"})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.error_type.as_deref()),
        (403, Some("AccessDeniedException")),
        "{:?}",
        refused.body
    );
    let granted = c
        .call(
            "PUT",
            "/console/api/users/carol/policies/AdministratorAccess",
            &admin,
            None,
        )
        .await;
    assert_eq!(granted.status, 204, "{:?}", granted.body);
    let created = c
        .call(
            "POST",
            "/restapis",
            &carol,
            Some(json!({"name": "by-carol"})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    // Password rules are enforced with a message that says what is wrong.
    let weak = c
        .call(
            "POST",
            "/console/api/users",
            &admin,
            Some(json!({"username": "dave", "password": "short"})),
        )
        .await;
    assert_eq!(
        (weak.status, weak.error_type.as_deref()),
        (400, Some("BadRequestException"))
    );
    assert!(
        weak.message().contains("at least 12 characters"),
        "{}",
        weak.message()
    );
    let dup = c
        .call(
            "POST",
            "/console/api/users",
            &admin,
            Some(json!({"username": "CAROL", "password": "another-password-1"})),
        )
        .await;
    assert_eq!(
        dup.status, 409,
        "usernames are case-insensitive: {:?}",
        dup.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_reveals_whether_a_user_exists() {
    let (_cp, c) = start().await;
    let admin = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    c.create_user(&admin, "erin", "erin-password-123", false)
        .await;
    let r = c
        .call(
            "PATCH",
            "/console/api/users/erin",
            &admin,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let unknown = c
        .sign_in("nobody-here", "whatever-password", "cookie")
        .await;
    let wrong = c.sign_in(ADMIN_USER, "wrong-password-123", "cookie").await;
    let disabled = c.sign_in("erin", "erin-password-123", "cookie").await;
    for r in [&unknown, &wrong, &disabled] {
        assert_eq!(r.status, 401);
        assert_eq!(r.error_type.as_deref(), Some("UnauthorizedException"));
        assert_eq!(r.body, json!({"message": "Incorrect username or password"}));
        assert!(r.set_cookies.is_empty(), "no session on failure");
    }
    // No session came out of it: the management API still wants credentials.
    let r = c.call("GET", "/restapis", &Auth::default(), None).await;
    assert_eq!(r.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_tampered_session_tokens_are_rejected() {
    let (_cp, c) = start().await;
    let token = c.bearer(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(
        c.call("GET", "/restapis", &Auth::bearer(&token), None)
            .await
            .status,
        200
    );
    let claims = claims_of(&token);
    assert_eq!(claims["aud"], "apigw-console");
    assert!(claims["exp"].as_i64().expect("exp") - now() <= 15 * 60 + 5);

    // A token we sign ourselves with the right key and a future expiry works: the checks
    // below fail for the reason they name, not because forging is broken.
    let mut fresh = claims.clone();
    fresh["exp"] = json!(now() + 300);
    let r = c
        .call(
            "GET",
            "/restapis",
            &Auth::bearer(&forge(&fresh, JWT_SECRET.as_bytes())),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let mut expired = claims.clone();
    expired["iat"] = json!(now() - 3600);
    expired["exp"] = json!(now() - 60);
    let r = c
        .call(
            "GET",
            "/restapis",
            &Auth::bearer(&forge(&expired, JWT_SECRET.as_bytes())),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.error_type.as_deref()),
        (401, Some("UnauthorizedException"))
    );
    assert!(r.message().contains("expired"), "{}", r.message());

    // Payload changed, signature kept.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut admin_claims = claims.clone();
    admin_claims["exp"] = json!(now() + 86_400);
    let forged_payload = forge(&admin_claims, b"irrelevant-key-irrelevant-key-xx");
    parts[1] = forged_payload
        .split('.')
        .nth(1)
        .expect("payload")
        .to_string();
    let tampered = parts.join(".");
    // Signed with another key.
    let other_key = forge(&fresh, b"not-the-configured-key-0123456789abcdef");
    // alg=none.
    let none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        forged_payload.split('.').nth(1).expect("payload")
    );
    // A refresh token is not an access token.
    let refresh = c.sign_in(ADMIN_USER, ADMIN_PASSWORD, "bearer").await.body["refreshToken"]
        .as_str()
        .expect("refreshToken")
        .to_string();
    for bad in [tampered, other_key, none, refresh, "garbage".to_string()] {
        let r = c.call("GET", "/restapis", &Auth::bearer(&bad), None).await;
        assert_eq!(
            (r.status, r.error_type.as_deref()),
            (401, Some("UnauthorizedException")),
            "{bad}: {:?}",
            r.body
        );
        assert!(r.message().contains("invalid"), "{}", r.message());
    }

    // The same rules hold for the session cookie.
    let mut auth = Auth::default();
    auth.cookies.insert(
        "apigw_session".into(),
        forge(&expired, JWT_SECRET.as_bytes()),
    );
    assert_eq!(c.call("GET", "/restapis", &auth, None).await.status, 401);

    // Refreshing a bearer session gives a new access token that works.
    let signed = c.sign_in(ADMIN_USER, ADMIN_PASSWORD, "bearer").await;
    let r = c
        .call(
            "POST",
            "/console/api/session/refresh",
            &Auth::default(),
            Some(json!({"refreshToken": signed.body["refreshToken"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let renewed = r.body["token"].as_str().expect("token");
    assert_eq!(
        c.call("GET", "/restapis", &Auth::bearer(renewed), None)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_users_are_locked_out_immediately() {
    let (cp, c) = start().await;
    let admin = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    c.create_user(&admin, "bob", "bob-password-1234", false)
        .await;
    let bob_bearer = c.sign_in("bob", "bob-password-1234", "bearer").await;
    let bob = Auth::bearer(bob_bearer.body["token"].as_str().expect("token"));
    let (_, bob_cookie) = c.cookie_session("bob", "bob-password-1234").await;
    let key = c
        .call(
            "POST",
            "/console/api/me/access-keys",
            &bob,
            Some(json!({"description": "cli"})),
        )
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    let bob_cli = Mgmt::new(
        &cp.url(),
        key.body["accessKeyId"].as_str().expect("id"),
        key.body["secretAccessKey"].as_str().expect("secret"),
    );
    assert_eq!(c.call("GET", "/restapis", &bob, None).await.status, 200);
    assert_eq!(
        c.call("GET", "/restapis", &bob_cookie, None).await.status,
        200
    );
    assert_eq!(bob_cli.get("/restapis").await.status, 200);

    let r = c
        .call(
            "PATCH",
            "/console/api/users/bob",
            &admin,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!((r.status, &r.body["enabled"]), (200, &json!(false)));

    // Unexpired tokens, the refresh token and the access key all stop working at once.
    for auth in [&bob, &bob_cookie] {
        let r = c.call("GET", "/restapis", auth, None).await;
        assert_eq!(
            (r.status, r.error_type.as_deref()),
            (401, Some("UnauthorizedException"))
        );
    }
    let r = c
        .call(
            "POST",
            "/console/api/session/refresh",
            &Auth::default(),
            Some(json!({"refreshToken": bob_bearer.body["refreshToken"]})),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(bob_cli.get("/restapis").await.status, 403);
    assert_eq!(
        c.sign_in("bob", "bob-password-1234", "bearer").await.status,
        401
    );

    // Re-enabled, bob signs in again; a password reset by the admin ends his sessions.
    let r = c
        .call(
            "PATCH",
            "/console/api/users/bob",
            &admin,
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    let bob = Auth::bearer(&c.bearer("bob", "bob-password-1234").await);
    assert_eq!(c.call("GET", "/restapis", &bob, None).await.status, 200);
    let r = c
        .call(
            "PATCH",
            "/console/api/users/bob",
            &admin,
            Some(json!({"password": "bob-new-password-1"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(c.call("GET", "/restapis", &bob, None).await.status, 401);
    assert_eq!(
        c.sign_in("bob", "bob-password-1234", "bearer").await.status,
        401
    );
    c.bearer("bob", "bob-new-password-1").await;

    // Non-admins cannot manage users; admins cannot lock themselves out.
    let bob = Auth::bearer(&c.bearer("bob", "bob-new-password-1").await);
    let r = c.call("GET", "/console/api/users", &bob, None).await;
    assert_eq!(
        (r.status, r.error_type.as_deref()),
        (403, Some("AccessDeniedException"))
    );
    let r = c
        .call(
            "PATCH",
            &format!("/console/api/users/{ADMIN_USER}"),
            &admin,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.message().contains("own user"), "{}", r.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_sessions_require_the_csrf_token_on_unsafe_methods() {
    let (_cp, c) = start().await;
    let (signed, auth) = c.cookie_session(ADMIN_USER, ADMIN_PASSWORD).await;
    let session = signed.cookie_attrs("apigw_session");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(signed
        .cookie_attrs("apigw_refresh")
        .contains("Path=/console/api/session"));
    assert!(!signed.cookie_attrs("apigw_csrf").contains("HttpOnly"));
    assert!(
        signed.body.get("token").is_none(),
        "cookie sessions keep tokens out of the body"
    );

    let no_csrf = Auth {
        csrf: None,
        ..auth.clone()
    };
    let wrong_csrf = Auth {
        csrf: Some("not-the-token".into()),
        ..auth.clone()
    };
    // Reads need no token.
    assert_eq!(c.call("GET", "/restapis", &no_csrf, None).await.status, 200);
    for bad in [&no_csrf, &wrong_csrf] {
        let r = c
            .call("POST", "/restapis", bad, Some(json!({"name": "csrf"})))
            .await;
        assert_eq!(
            (r.status, r.error_type.as_deref()),
            (403, Some("AccessDeniedException")),
            "{:?}",
            r.body
        );
        assert!(r.message().contains("CSRF"), "{}", r.message());
        let r = c
            .call("POST", "/console/api/me/access-keys", bad, Some(json!({})))
            .await;
        assert_eq!(r.status, 403);
        let r = c
            .call("POST", "/console/api/session/refresh", bad, Some(json!({})))
            .await;
        assert_eq!(r.status, 403);
    }
    let r = c
        .call("POST", "/restapis", &auth, Some(json!({"name": "csrf-ok"})))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // A CSRF token from another session does not do either.
    let (_, other) = c.cookie_session(ADMIN_USER, ADMIN_PASSWORD).await;
    let mixed = Auth {
        csrf: other.csrf.clone(),
        ..auth.clone()
    };
    assert_eq!(
        c.call("POST", "/restapis", &mixed, Some(json!({"name": "x"})))
            .await
            .status,
        403
    );

    // Refresh with the token renews the session cookie.
    let r = c
        .call(
            "POST",
            "/console/api/session/refresh",
            &auth,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let renewed = r.cookie("apigw_session").expect("new session cookie");
    let mut renewed_auth = auth.clone();
    renewed_auth.cookies.insert("apigw_session".into(), renewed);
    assert_eq!(
        c.call(
            "POST",
            "/restapis",
            &renewed_auth,
            Some(json!({"name": "after-refresh"}))
        )
        .await
        .status,
        201
    );

    // Behind a TLS-terminating proxy the cookies are Secure.
    let r = c
        .http
        .post(format!("{}/console/api/session", c.base))
        .header("content-type", "application/json")
        .header("x-forwarded-proto", "https")
        .body(json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}).to_string())
        .send()
        .await
        .expect("request");
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    assert_eq!(cookies.len(), 3);
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
    assert!(!signed.cookie_attrs("apigw_session").contains("Secure"));

    // Sign-in itself must be JSON (a cross-site form cannot log a victim in).
    let r = c
        .http
        .post(format!("{}/console/api/session", c.base))
        .header("content-type", "text/plain")
        .body(json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 400);

    // Sign-out clears the cookies.
    let r = c.call("DELETE", "/console/api/session", &auth, None).await;
    assert_eq!(r.status, 204);
    assert!(r.cookie_attrs("apigw_session").contains("Max-Age=0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_rate_limited_per_user_and_ip() {
    let (_cp, c) = start().await;
    let admin = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    c.create_user(&admin, "frank", "frank-password-12", false)
        .await;
    for _ in 0..5 {
        let r = c.sign_in(ADMIN_USER, "wrong-password-123", "bearer").await;
        assert_eq!(r.status, 401);
    }
    // Locked: even the right password is refused, and the answer says for how long.
    let r = c.sign_in(ADMIN_USER, ADMIN_PASSWORD, "bearer").await;
    assert_eq!(
        (r.status, r.error_type.as_deref()),
        (429, Some("TooManyRequestsException")),
        "{:?}",
        r.body
    );
    let retry: i64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry > 0 && retry <= 900, "{retry}");
    assert!(r.message().contains("Too many failed sign-in attempts"));
    // An unknown username is locked the same way (a lock reveals nothing).
    for _ in 0..5 {
        assert_eq!(
            c.sign_in("ghost", "wrong-password-123", "bearer")
                .await
                .status,
            401
        );
    }
    assert_eq!(
        c.sign_in("ghost", "wrong-password-123", "bearer")
            .await
            .status,
        429
    );
    // Other users are not locked out by someone else's failures.
    c.bearer("frank", "frank-password-12").await;
    // Existing sessions keep working.
    assert_eq!(c.call("GET", "/restapis", &admin, None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_one_ip_do_not_lock_the_user_out_at_another() {
    let (cp, c) = start().await;
    // The attacker's machine: connections from 127.0.0.2; the admin's own: 127.0.0.1.
    let attacker = Console::from_ip(&cp, [127, 0, 0, 2]);
    for _ in 0..5 {
        let r = attacker
            .sign_in(ADMIN_USER, "wrong-password-123", "bearer")
            .await;
        assert_eq!(r.status, 401, "{:?}", r.body);
    }
    let r = attacker.sign_in(ADMIN_USER, ADMIN_PASSWORD, "bearer").await;
    assert_eq!(
        r.status, 429,
        "the attacker's address is locked: {:?}",
        r.body
    );
    // From the admin's own address the right password still works.
    let admin = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    assert_eq!(c.call("GET", "/restapis", &admin, None).await.status, 200);
    // The control plane did count the failures by the peer address it saw.
    let rows: Vec<(String, String, i32)> =
        sqlx::query_as("SELECT username, ip, failures FROM console_signin_failures ORDER BY 1")
            .fetch_all(&db(&cp).await)
            .await
            .expect("failure counters");
    assert_eq!(
        rows,
        vec![
            (String::new(), "127.0.0.2".to_string(), 5),
            (ADMIN_USER.to_string(), "127.0.0.2".to_string(), 5),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_unlocks_a_locked_out_user() {
    let (cp, c) = start().await;
    let admin = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    c.create_user(&admin, "grace", "grace-password-12", false)
        .await;
    c.create_user(&admin, "heidi", "heidi-password-12", false)
        .await;
    // Grace is locked out at two addresses.
    let elsewhere = Console::from_ip(&cp, [127, 0, 0, 3]);
    for client in [&c, &elsewhere] {
        for _ in 0..5 {
            assert_eq!(
                client
                    .sign_in("grace", "wrong-password-123", "bearer")
                    .await
                    .status,
                401
            );
        }
        let r = client.sign_in("grace", "grace-password-12", "bearer").await;
        assert_eq!(r.status, 429, "{:?}", r.body);
    }
    let locked = |r: &Reply, name: &str| {
        r.body["item"]
            .as_array()
            .and_then(|a| a.iter().find(|u| u["username"] == name))
            .map(|u| u["signInLocked"].clone())
    };
    let list = c.call("GET", "/console/api/users", &admin, None).await;
    assert_eq!(locked(&list, "grace"), Some(json!(true)), "{:?}", list.body);
    assert_eq!(locked(&list, "heidi"), Some(json!(false)));
    // Only admins unlock; unknown users are 404.
    let heidi = Auth::bearer(&c.bearer("heidi", "heidi-password-12").await);
    let r = c
        .call("POST", "/console/api/users/grace/unlock", &heidi, None)
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = c
        .call("POST", "/console/api/users/nobody/unlock", &admin, None)
        .await;
    assert_eq!(
        (r.status, r.error_type.as_deref()),
        (404, Some("NotFoundException"))
    );
    // The unlock lifts the locks at every address (the username matches case-insensitively).
    let r = c
        .call("POST", "/console/api/users/Grace/unlock", &admin, None)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let list = c.call("GET", "/console/api/users", &admin, None).await;
    assert_eq!(locked(&list, "grace"), Some(json!(false)));
    c.bearer("grace", "grace-password-12").await;
    elsewhere.bearer("grace", "grace-password-12").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_revokes_the_session_tokens_at_once() {
    let (_cp, c) = start().await;
    // A bearer session: after sign-out its access and refresh tokens are refused.
    let r = c.sign_in(ADMIN_USER, ADMIN_PASSWORD, "bearer").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let token = r.body["token"].as_str().expect("token").to_string();
    let refresh = r.body["refreshToken"]
        .as_str()
        .expect("refreshToken")
        .to_string();
    let auth = Auth::bearer(&token);
    let other = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    assert_eq!(c.call("GET", "/restapis", &auth, None).await.status, 200);
    let r = c.call("DELETE", "/console/api/session", &auth, None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = c.call("GET", "/restapis", &auth, None).await;
    assert_eq!(
        (r.status, r.message()),
        (401, "The session is no longer valid. Sign in again."),
        "{:?}",
        r.body
    );
    assert_eq!(
        c.call("GET", "/console/api/session", &auth, None)
            .await
            .status,
        401
    );
    let r = c
        .call(
            "POST",
            "/console/api/session/refresh",
            &Auth::default(),
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    // The user's other sessions go on.
    assert_eq!(c.call("GET", "/restapis", &other, None).await.status, 200);

    // A cookie session: the old cookies no longer work after sign-out, not even to refresh.
    let (_, cookies) = c.cookie_session(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(c.call("GET", "/restapis", &cookies, None).await.status, 200);
    let r = c
        .call("DELETE", "/console/api/session", &cookies, None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(c.call("GET", "/restapis", &cookies, None).await.status, 401);
    let r = c
        .call(
            "POST",
            "/console/api/session/refresh",
            &cookies,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 401, "{:?}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_their_own_access_keys_and_see_the_secret_once() {
    let (cp, c) = start().await;
    let admin = Auth::bearer(&c.bearer(ADMIN_USER, ADMIN_PASSWORD).await);
    c.create_user(&admin, "gina", "gina-password-12", false)
        .await;
    let gina = Auth::bearer(&c.bearer("gina", "gina-password-12").await);
    let created = c
        .call(
            "POST",
            "/console/api/me/access-keys",
            &gina,
            Some(json!({"description": "laptop"})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["accessKeyId"]
        .as_str()
        .expect("id")
        .to_string();
    let secret = created.body["secretAccessKey"]
        .as_str()
        .expect("secret")
        .to_string();
    assert!(id.starts_with("AKIA") && id.len() == 20 && secret.len() == 40);

    let list = c
        .call("GET", "/console/api/me/access-keys", &gina, None)
        .await;
    assert_eq!(list.body["item"][0]["accessKeyId"], json!(id));
    assert!(
        !list.body.to_string().contains(&secret),
        "secret shown once only"
    );
    // Other users do not see or touch it.
    let admin_list = c
        .call("GET", "/console/api/me/access-keys", &admin, None)
        .await;
    assert_eq!(admin_list.body["item"], json!([]));
    let r = c
        .call(
            "DELETE",
            &format!("/console/api/me/access-keys/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    // It is linked to the user in the table the SigV4 middleware reads.
    let owner: (String,) = sqlx::query_as(
        "SELECT u.username FROM access_keys k JOIN console_users u ON u.id = k.user_id
         WHERE k.access_key_id = $1",
    )
    .bind(&id)
    .fetch_one(&db(&cp).await)
    .await
    .expect("key row");
    assert_eq!(owner.0, "gina");
    // Its secret is stored sealed, not in the clear.
    let (plain, sealed): (Option<String>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT secret, secret_enc FROM access_keys WHERE access_key_id = $1")
            .bind(&id)
            .fetch_one(&db(&cp).await)
            .await
            .expect("key row");
    assert_eq!(plain, None);
    let sealed = sealed.expect("an encrypted secret");
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let cli = Mgmt::new(&cp.url(), &id, &secret);
    assert_eq!(cli.get("/restapis").await.status, 200);
    let r = c
        .call(
            "PATCH",
            &format!("/console/api/me/access-keys/{id}"),
            &gina,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(cli.get("/restapis").await.status, 403);
    let r = c
        .call(
            "DELETE",
            &format!("/console/api/me/access-keys/{id}"),
            &gina,
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    // The bootstrap SigV4 key is untouched by all of this.
    assert_eq!(cp.mgmt().get("/restapis").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_first_admin_and_a_generated_signing_key_work() {
    // No admin password and no signing key configured: both are generated.
    let (cp, c) = start_with(&[
        ("APIGW_ADMIN_PASSWORD", String::new()),
        ("APIGW_JWT_SECRET", String::new()),
    ])
    .await;
    let pool = db(&cp).await;
    let (name, hash): (String, String) =
        sqlx::query_as("SELECT username, password_hash FROM console_users WHERE is_admin")
            .fetch_one(&pool)
            .await
            .expect("the generated admin");
    assert_eq!(name, ADMIN_USER);
    assert!(hash.starts_with("$argon2id$"));
    assert_eq!(
        c.sign_in(ADMIN_USER, ADMIN_PASSWORD, "bearer").await.status,
        401
    );
    // The generated key is kept sealed with the master key.
    let (plain, sealed): (Option<String>, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT value, value_enc FROM console_secrets WHERE name = 'jwt_signing_key'",
    )
    .fetch_one(&pool)
    .await
    .expect("generated key");
    assert_eq!(plain, None);
    assert!(sealed.is_some_and(|s| s.len() >= 12 + 32 + 16));
}

/// Rows an earlier version stored in plaintext (access-key secrets, the generated session
/// key) are sealed at start-up and keep working: a key created by hand in the old shape
/// signs requests after the restart, and no plaintext is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_secrets_from_an_earlier_version_are_sealed_at_start() {
    let env = [("APIGW_JWT_SECRET", String::new())];
    let (mut cp, _) = start_with(&env).await;
    let pool = db(&cp).await;
    let (old_id, old_secret) = (
        "AKIAOLDPLAINTEXT0001",
        "an-old-plaintext-secret-from-before-0005",
    );
    sqlx::query(
        "INSERT INTO access_keys (access_key_id, secret, description) VALUES ($1, $2, 'old')",
    )
    .bind(old_id)
    .bind(old_secret)
    .execute(&pool)
    .await
    .expect("an old-style key");
    let signing_key = "a-plaintext-session-signing-key-of-64-characters-from-before-005";
    sqlx::query(
        "UPDATE console_secrets SET value = $1, value_enc = NULL WHERE name = 'jwt_signing_key'",
    )
    .bind(signing_key)
    .execute(&pool)
    .await
    .expect("an old-style signing key");

    let db_url = cp.database_url.clone();
    cp.stop().await;
    let cp = ControlPlane::start_with_env(&db_url, free_port(), free_port(), &env).await;
    let (plain_keys,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM access_keys WHERE secret IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(plain_keys, 0);
    let (plain_secrets,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM console_secrets WHERE value IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(plain_secrets, 0);
    assert_eq!(
        Mgmt::new(&cp.url(), old_id, old_secret)
            .get("/restapis")
            .await
            .status,
        200
    );
    // Sessions are still signed with the same (now sealed) key.
    let c = Console::new(&cp);
    let token = c.bearer(ADMIN_USER, ADMIN_PASSWORD).await;
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(
        &token,
        &DecodingKey::from_secret(signing_key.as_bytes()),
        &v
    )
    .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_client_routes_or_a_how_to_build_page() {
    let dir = std::env::temp_dir().join(format!("apigw-console-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cp, c) = start_with(&[("CONSOLE_DIR", dir.display().to_string())]).await;
    let none = Auth::default();

    let r = c.call("GET", "/", &none, None).await;
    assert_eq!(r.status, 503);
    let page = r.body.as_str().unwrap_or_default();
    assert!(
        page.contains("npm install &amp;&amp; npm run build"),
        "{page}"
    );

    std::fs::create_dir_all(dir.join("assets")).expect("assets dir");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>console</title>",
    )
    .expect("index");
    std::fs::write(dir.join("assets/app-123.js"), "console.log(1)").expect("asset");
    for path in [
        "/",
        "/signin",
        "/apis",
        "/apis/abc/resources/def/methods/GET",
        "/api-keys",
        "/usage-plans/abc123/usage",
        "/settings/users",
    ] {
        let r = c.call("GET", path, &none, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r
            .body
            .as_str()
            .unwrap_or_default()
            .contains("<title>console</title>"));
        assert!(r.headers.get("content-security-policy").is_some());
    }
    let r = c.call("GET", "/assets/app-123.js", &none, None).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["cache-control"]
        .to_str()
        .unwrap_or_default()
        .contains("immutable"));
    assert_eq!(
        c.call("GET", "/assets/missing.js", &none, None)
            .await
            .status,
        404
    );
    // The management API's paths are not swallowed by the console.
    let r = c.call("GET", "/restapis", &none, None).await;
    assert_eq!(r.status, 403);
    let r = c.call("GET", "/console/api/nope", &none, None).await;
    assert_eq!(r.status, 404);

    // A browser typing an unknown path gets the console (which says "Page not found")
    // with status 404, not the API's JSON; a signed or non-HTML call gets AWS's errors.
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let http = reqwest::Client::new();
    for path in ["/nope", "/api-keys-typo/deep/link", "/restapis/abc/nope"] {
        let r = http
            .get(format!("{}{path}", c.base))
            .header("accept", html)
            .send()
            .await
            .expect("navigation");
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.headers().get("content-security-policy").is_some());
        assert!(r.headers().get("x-amzn-errortype").is_none());
        let body = r.text().await.unwrap_or_default();
        assert!(body.contains("<title>console</title>"), "{path}: {body}");
    }
    let unsigned = c.call("GET", "/nope", &none, None).await;
    assert_eq!(
        (unsigned.status, unsigned.error_type.as_deref()),
        (403, Some("MissingAuthenticationTokenException"))
    );
    let unknown = cp.mgmt().get("/nope").await;
    assert_eq!(
        unknown.err(404, "UnknownOperationException"),
        "Unknown operation"
    );
    // A known management path stays the API even when a browser asks for HTML.
    let r = http
        .get(format!("{}/restapis", c.base))
        .header("accept", html)
        .send()
        .await
        .expect("navigation");
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("x-amzn-errortype").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
