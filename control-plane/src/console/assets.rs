//! Serving the built web console (`web-console/dist`): hashed assets under `/assets` with
//! long caching, and `index.html` for `/` and every client-side route (`/signin`, `/apis/...`,
//! `/settings/...`), which are kept apart from the management API's paths.
//!
//! The directory is read per request, so building the console needs no restart; when it has
//! no `index.html`, a page says how to build it.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
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
    "/settings",
    "/settings/{*rest}",
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
    #[test]
    fn the_help_page_names_the_build_command_and_escapes_the_dir() {
        let page = super::not_built_page(std::path::Path::new("/x/<d>"));
        assert!(page.contains("npm install &amp;&amp; npm run build"));
        assert!(page.contains("/x/&lt;d&gt;"));
    }
}
