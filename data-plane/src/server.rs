//! The HTTP server: accepts connections (HTTP/1.1 keep-alive and h2c, detected per
//! connection; on the HTTPS listener after the TLS handshake of [`crate::tls`], HTTP/2 by
//! ALPN), hands each request to the [`Gateway`], and on shutdown stops accepting and
//! drains in-flight requests (hyper-util graceful shutdown) before returning.
//!
//! Hardening at the connection ([`ConnLimits`], README "Limits and hardening"): a new
//! connection must deliver its first request head within `header_read_timeout` from accept
//! (hyper's protocol detection and HTTP/1 head reading have no bound of their own from
//! accept, and HTTP/2 none at all); on the HTTPS listener the same deadline bounds the TLS
//! handshake and then the first request head, over HTTP/1.1 or HTTP/2. An idle keep-alive
//! connection is closed after `keep_alive_timeout`, and a request head is checked by
//! [`crate::request_limits`] before the gateway sees it.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use apigw_gateway::state::SharedState;
use apigw_gateway::{Gateway, Peer};

use crate::limits::Limiter;
use crate::metrics::Registry;
use crate::request_limits::{self, MAX_HEAD_BYTES};
use crate::websocket::WsHub;

/// Connection-level limits of the node's HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// From accept until the first request head is complete.
    pub header_read_timeout: Duration,
    /// An idle HTTP/1.1 keep-alive connection waiting for its next request head.
    pub keep_alive_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(75),
        }
    }
}

/// How long shutdown waits for in-flight requests before giving up on them.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The per-connection service: each request (within the head limits) to the gateway, as
/// from `peer`; `started` records that a request head arrived.
fn service(
    gateway: Arc<Gateway<Limiter>>,
    websocket: Option<Arc<WsHub>>,
    peer: Peer,
    started: Arc<AtomicBool>,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<apigw_gateway::body::Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<hyper::Response<apigw_gateway::body::Body>, Infallible>> + Send,
> + Clone {
    service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        started.store(true, Ordering::Relaxed);
        let gateway = Arc::clone(&gateway);
        let websocket = websocket.clone();
        let peer = peer.clone();
        async move {
            if let Some(refusal) = request_limits::check(&request) {
                return Ok::<_, Infallible>(refusal);
            }
            // WebSocket upgrades and `@connections` calls go to the hub; what it declines
            // is an ordinary request. Their futures are boxed: rare, and inline they would
            // grow every request's future (which hyper moves into place per request).
            let request = match &websocket {
                Some(hub) if crate::websocket::session::is_upgrade(&request) => {
                    match Box::pin(crate::websocket::session::handle(hub, request, &peer)).await {
                        Ok(response) => return Ok(response),
                        Err(request) => request,
                    }
                }
                Some(hub) if request.uri().path().contains("/@connections/") => {
                    match Box::pin(crate::websocket::manage::handle(hub, request)).await {
                        Ok(response) => return Ok(response),
                        Err(request) => request,
                    }
                }
                _ => request,
            };
            let response = gateway.handle(request, &peer).await;
            // hyper writes the response as soon as this returns: batch it with the
            // tick's other responses (see `write_batching`).
            apigw_gateway::write_batching::end_of_tick().await;
            Ok::<_, Infallible>(response)
        }
    })
}

/// What a listener serves, and how.
#[derive(Clone)]
pub struct Site {
    /// The gateway every request goes to.
    pub gateway: Arc<Gateway<Limiter>>,
    /// WebSocket upgrades and `@connections` calls, when the node serves them.
    pub websocket: Option<Arc<WsHub>>,
    /// Connections opened and closed are counted here, when given.
    pub metrics: Option<Arc<Registry>>,
    /// With it, every connection is a TLS one whose configuration the SNI name picks from
    /// this state.
    pub tls: Option<Arc<SharedState>>,
    /// Connection-level limits.
    pub limits: ConnLimits,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
}

/// Drives `connection` to its end, unless no request head has arrived (`started`) by
/// `deadline`: then it is dropped, which closes the socket.
async fn first_head_by<E>(
    connection: impl Future<Output = Result<(), E>>,
    started: &AtomicBool,
    deadline: tokio::time::Instant,
    remote: std::net::SocketAddr,
) -> Result<(), E> {
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        ended = &mut connection => return ended,
        () = tokio::time::sleep_until(deadline) => {}
    }
    if started.load(Ordering::Relaxed) {
        return connection.await;
    }
    tracing::debug!(%remote, "no request head within the header read timeout; connection closed");
    Ok(())
}

/// Serves `listener` until `shutdown` resolves, then drains (at most the site's
/// `drain_timeout`).
pub async fn serve(listener: TcpListener, site: Site, shutdown: impl Future<Output = ()>) {
    let Site {
        gateway,
        websocket,
        metrics,
        tls,
        limits,
        drain_timeout,
    } = site;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A head that does not fit in the read buffer is answered 431 by hyper.
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.keep_alive_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(MAX_HEAD_BYTES).unwrap_or(u32::MAX));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // e.g. EMFILE: back off briefly instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let metrics = metrics.clone();
                let deadline = tokio::time::Instant::now() + limits.header_read_timeout;
                if let Some(state) = &tls {
                    let state = Arc::clone(state);
                    let gateway = Arc::clone(&gateway);
                    let websocket = websocket.clone();
                    let builder = builder.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let (stream, cert) = match crate::tls::accept(stream, &state, deadline).await {
                            Ok(accepted) => accepted,
                            Err(error) => {
                                tracing::debug!(%error, %remote, "TLS connection refused");
                                return;
                            }
                        };
                        if let Some(m) = &metrics {
                            m.connections_opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        let peer = Peer::new(remote).with_client_cert(cert);
                        let started = Arc::new(AtomicBool::new(false));
                        let service = service(gateway, websocket, peer, Arc::clone(&started));
                        let connection =
                            builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                        let connection = watcher.watch(connection);
                        if let Err(error) = first_head_by(connection, &started, deadline, remote).await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                        if let Some(m) = metrics {
                            m.connections_closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    });
                    continue;
                }
                let started = Arc::new(AtomicBool::new(false));
                let service = service(
                    Arc::clone(&gateway),
                    websocket.clone(),
                    Peer::new(remote),
                    Arc::clone(&started),
                );
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                if let Some(m) = &metrics {
                    m.connections_opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::spawn(async move {
                    if let Err(error) = first_head_by(connection, &started, deadline, remote).await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    if let Some(m) = metrics {
                        m.connections_closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "draining in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(drain_timeout) => tracing::warn!("drain timed out"),
    }
}
