//! Serving the built web console (`web-console/dist`): hashed assets under `/assets` with
//! long caching, and `index.html` for `/` and every client-side route (`/signin`, `/apis/...`,
//! `/api-keys/...`, `/usage-plans/...`, `/settings/...`, `/alarms/...`, `/audit`, `/logs`,
//! `/custom-domains/...`, `/client-certificates`), which are kept apart from the
//! management API's paths. A browser navigation to a path that is neither gets `index.html`
//! with status 404 ([`unknown_path_navigation`]), so the console says "Page not found"
//! instead of showing the API's JSON error; SDK and script calls still get AWS's errors.
//!
//! The directory is read per request, so building the console needs no restart; when it has
//! no `index.html`, a page says how to build it.

use std::path::{Path, PathBuf};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;

use crate::AppState;

/// Client-side routes of the SPA (all answered with `index.html`).
const SPA_ROUTES: &[&str] = &[
    "/",
    "/index.html",
    "/signin",
    "/apis",
    "/apis/{*rest}",
    "/api-keys",
    "/api-keys/{*rest}",
    "/usage-plans",
    "/usage-plans/{*rest}",
    "/settings",
    "/settings/{*rest}",
    "/alarms",
    "/alarms/{*rest}",
    "/custom-domains",
    "/custom-domains/{*rest}",
    "/client-certificates",
    "/audit",
    "/logs",
];

/// Security headers of the HTML shell: same-origin only, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The routes serving the console from `dir`.
pub fn router(dir: &Path) -> Router<AppState> {
    let assets = ServeDir::new(dir.join("assets"));
    let mut r = Router::new();
    for path in SPA_ROUTES {
        r = r.route(path, get(index));
    }
    r.route("/favicon.svg", get(favicon)).nest_service(
        "/assets",
        Router::new()
            .fallback_service(assets)
            .layer(axum::middleware::map_response(immutable)),
    )
}

async fn immutable(mut resp: Response) -> Response {
    if resp.status().is_success() {
        resp.headers_mut().insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
        resp.headers_mut().insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
    }
    resp
}

fn with_shell_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}

async fn index(State(state): State<AppState>) -> Response {
    let dir: &PathBuf = &state.console.console_dir;
    match tokio::fs::read_to_string(dir.join("index.html")).await {
        Ok(html) => with_shell_headers(Html(html).into_response()),
        Err(_) => with_shell_headers(
            (StatusCode::SERVICE_UNAVAILABLE, Html(not_built_page(dir))).into_response(),
        ),
    }
}

/// Whether a request is a browser loading a page: GET or HEAD asking for HTML, with no
/// `Authorization` header and no presigned SigV4 query (SDKs and the CLI never ask for
/// HTML; the console's own `fetch` calls ask for JSON).
fn is_navigation(req: &Request) -> bool {
    let wants_html = req
        .headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    let signed = req.headers().contains_key(http::header::AUTHORIZATION)
        || req
            .uri()
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature="));
    matches!(*req.method(), Method::GET | Method::HEAD) && wants_html && !signed
}

/// Middleware around the management API (outside its authentication): a browser
/// navigation to a path no route matches (axum's fallback, which sets no [`MatchedPath`])
/// gets the console's `index.html` with status 404, and the console renders its
/// "Page not found". Every other request goes on to the API (`UnknownOperation`, or 403
/// when unsigned, as before).
pub async fn unknown_path_navigation(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if req.extensions().get::<MatchedPath>().is_none() && is_navigation(&req) {
        let mut resp = index(State(state)).await;
        if resp.status() == StatusCode::OK {
            *resp.status_mut() = StatusCode::NOT_FOUND;
        }
        return resp;
    }
    next.run(req).await
}

async fn favicon(State(state): State<AppState>) -> Response {
    match tokio::fs::read(state.console.console_dir.join("favicon.svg")).await {
        Ok(bytes) => ([(http::header::CONTENT_TYPE, "image/svg+xml")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page shown when the console has not been built.
fn not_built_page(dir: &Path) -> String {
    let dir = escape(&dir.display().to_string());
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API Gateway console not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5; color: #111">
<h1>The web console is not built</h1>
<p>The control plane serves the console from <code>{dir}</code>, which has no <code>index.html</code>.
Build it once (Node.js 18 or later), then reload this page:</p>
<pre style="background:#f3f4f6; padding: 1rem">cd web-console &amp;&amp; npm install &amp;&amp; npm run build</pre>
<p>Use <code>--console-dir</code> (or <code>CONSOLE_DIR</code>) to serve it from elsewhere.
The management API works without the console, e.g. with the AWS CLI and <code>--endpoint-url</code>.</p>
</body></html>"#
    )
}

#[cfg(test)]
mod tests {
    fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> axum::extract::Request {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(axum::body::Body::empty()).expect("request")
    }

    #[test]
    fn only_unsigned_html_page_loads_are_navigations() {
        let html = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        assert!(super::is_navigation(&request("GET", "/api-keys", &[html])));
        assert!(super::is_navigation(&request("HEAD", "/x", &[html])));
        assert!(!super::is_navigation(&request("POST", "/x", &[html])));
        assert!(!super::is_navigation(&request(
            "GET",
            "/x",
            &[("accept", "application/json")]
        )));
        assert!(!super::is_navigation(&request("GET", "/x", &[])));
        let sigv4 = ("authorization", "AWS4-HMAC-SHA256 Credential=x");
        assert!(!super::is_navigation(&request("GET", "/x", &[html, sigv4])));
        assert!(!super::is_navigation(&request(
            "GET",
            "/x?X-Amz-Signature=abc",
            &[html]
        )));
    }

    #[test]
    fn the_help_page_names_the_build_command_and_escapes_the_dir() {
        let page = super::not_built_page(std::path::Path::new("/x/<d>"));
        assert!(page.contains("npm install &amp;&amp; npm run build"));
        assert!(page.contains("/x/&lt;d&gt;"));
    }
}
