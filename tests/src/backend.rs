//! A small real HTTP backend the tests start: it echoes what it received.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};

/// A running echo backend.
pub struct Backend {
    /// Where it listens.
    pub addr: SocketAddr,
    slow_started: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo(name: String, req: Request) -> Json<Value> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    // Names sent more than once (the map above keeps one value of each).
    let repeated: Vec<&str> = parts
        .headers
        .keys()
        .filter(|k| parts.headers.get_all(*k).iter().count() > 1)
        .map(|k| k.as_str())
        .collect();
    Json(json!({
        "backend": name,
        "repeated": repeated,
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query().unwrap_or_default(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

impl Backend {
    /// Starts a backend named `name` (echoed back so tests see which one answered).
    /// `/slow/{ms}` sleeps before answering (counted in [`Backend::slow_started`]);
    /// `/status/{code}` answers that status; `/raw` answers with the request's body and
    /// Content-Type, byte for byte.
    pub async fn start(name: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a backend");
        let addr = listener.local_addr().expect("backend address");
        let n1 = name.to_string();
        let n2 = name.to_string();
        let slow_started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = std::sync::Arc::clone(&slow_started);
        let app = Router::new()
            .route(
                "/slow/{ms}",
                get(move |Path(ms): Path<u64>| async move {
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "slow"
                }),
            )
            .route(
                "/status/{code}",
                any(
                    |Path(code): Path<u16>, headers: HeaderMap, _b: Bytes| async move {
                        let _ = headers;
                        (
                            StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT),
                            [("x-backend-header", "from-backend")],
                            format!("{{\"status\":{code}}}"),
                        )
                    },
                ),
            )
            .route(
                "/raw",
                any(|headers: HeaderMap, body: Bytes| async move {
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("application/octet-stream")
                        .to_string();
                    ([("content-type", content_type)], body)
                }),
            )
            .route("/", any(move |req: Request| echo(n1.clone(), req)))
            .route("/{*rest}", any(move |req: Request| echo(n2.clone(), req)));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            slow_started,
            task,
        }
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `/slow/{ms}` requests received so far (each counted as its sleep begins): a test can
    /// wait until a request is in flight at the backend instead of sleeping on a guess.
    pub fn slow_started(&self) -> usize {
        self.slow_started.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A backend that sends a response head and the first 10 bytes of its body, then stalls:
/// `/…chunked…` paths answer chunked, any other with `Content-Length: 100`. It counts the
/// connections it accepted, so a test can tell whether the gateway reused one. A stalled
/// connection is held until the gateway closes it, for at most two minutes.
pub struct StallingBackend {
    /// Where it listens.
    pub addr: SocketAddr,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StallingBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StallingBackend {
    /// Starts it on a free port.
    pub async fn start() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a backend");
        let addr = listener.local_addr().expect("backend address");
        let accepted = std::sync::Arc::new(AtomicUsize::new(0));
        let count = std::sync::Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&head);
                    let chunked = line.lines().next().unwrap_or("").contains("chunked");
                    let response: &[u8] = if chunked {
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\na\r\n0123456789\r\n"
                    } else {
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n0123456789"
                    };
                    if socket.write_all(response).await.is_err() {
                        return;
                    }
                    // Stall: hold the connection until the gateway closes it (bounded).
                    let _ = tokio::time::timeout(Duration::from_secs(120), async {
                        while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                    })
                    .await;
                });
            }
        });
        Self {
            addr,
            accepted,
            task,
        }
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}
