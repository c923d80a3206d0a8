//! The HTTP server: accepts connections (HTTP/1.1 keep-alive and h2c, detected per
//! connection; on the HTTPS listener after the TLS handshake of [`crate::tls`], HTTP/2 by
//! ALPN), hands each request to the [`Gateway`], and on shutdown stops accepting and
//! drains in-flight requests (hyper-util graceful shutdown) before returning.

use std::convert::Infallible;
use std::future::Future;
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

/// How long shutdown waits for in-flight requests before giving up on them.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The per-connection service: each request to the gateway, as from `peer`.
fn service(
    gateway: Arc<Gateway<Limiter>>,
    peer: Peer,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<apigw_gateway::body::Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<hyper::Response<apigw_gateway::body::Body>, Infallible>> + Send,
> + Clone {
    service_fn(move |request| {
        let gateway = Arc::clone(&gateway);
        let peer = peer.clone();
        async move {
            let response = gateway.handle(request, &peer).await;
            // hyper writes the response as soon as this returns: batch it with the
            // tick's other responses (see `write_batching`).
            apigw_gateway::write_batching::end_of_tick().await;
            Ok::<_, Infallible>(response)
        }
    })
}

/// Serves `listener` until `shutdown` resolves, then drains (at most `drain_timeout`).
/// Connections opened and closed are counted in `metrics`, when given. With `tls`, every
/// connection is a TLS one whose configuration the SNI name picks from that state.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<SharedState>>,
    gateway: Arc<Gateway<Limiter>>,
    metrics: Option<Arc<Registry>>,
    shutdown: impl Future<Output = ()>,
    drain_timeout: Duration,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).keep_alive(true);
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
                if let Some(state) = &tls {
                    let state = Arc::clone(state);
                    let gateway = Arc::clone(&gateway);
                    let builder = builder.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let (stream, cert) = match crate::tls::accept(stream, &state).await {
                            Ok(accepted) => accepted,
                            Err(error) => {
                                tracing::debug!(%error, %remote, "TLS connection refused");
                                return;
                            }
                        };
                        if let Some(m) = &metrics {
                            m.connections_opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        let service = service(gateway, Peer::new(remote).with_client_cert(cert));
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        if let Err(error) = watcher.watch(connection).await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                        if let Some(m) = metrics {
                            m.connections_closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    });
                    continue;
                }
                let service = service(Arc::clone(&gateway), Peer::new(remote));
                let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                if let Some(m) = &metrics {
                    m.connections_opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
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
