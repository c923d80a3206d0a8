//! The control plane's listeners, bounded against clients that connect and send nothing
//! (README "Limits and hardening"):
//!
//! - [`serve`]: the management API / console HTTP server (HTTP/1.1 and h2c, as
//!   `axum::serve`, which bounds nothing): a connection must deliver its first request head
//!   within `header_read_timeout` from accept, an idle keep-alive connection is closed after
//!   `keep_alive_timeout` (hyper's head-read timer), and SIGTERM drains in-flight calls;
//! - [`PrefaceDeadline`]: the gRPC listener's connections must send the HTTP/2 preface
//!   within the same timeout (after it, HTTP/2 keep-alive pings find dead peers); over TLS
//!   the handshake and the preface after it share that timeout (`crate::grpc_tls`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower_service::Service;

/// How long shutdown waits for in-flight calls.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection limits of the control plane's listeners.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// From accept until the first request head (HTTP) or the HTTP/2 preface (gRPC).
    pub header_read_timeout: Duration,
    /// An idle HTTP/1.1 keep-alive connection waiting for its next request head.
    pub keep_alive_timeout: Duration,
}

/// Serves `app` on `listener` (with [`ConnectInfo<SocketAddr>`] in every request's
/// extensions) until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.keep_alive_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // e.g. EMFILE: back off briefly instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = app.clone();
        let started = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&started);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            seen.store(true, Ordering::Relaxed);
            request.extensions_mut().insert(ConnectInfo(remote));
            let mut router = router.clone();
            async move { router.call(request).await }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let header_read_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = &mut connection => Some(ended),
                () = tokio::time::sleep(header_read_timeout) => None,
            };
            let ended = match ended {
                Some(ended) => ended,
                None if started.load(Ordering::Relaxed) => connection.await,
                None => {
                    tracing::debug!(%remote, "no request head within the header read timeout; connection closed");
                    Ok(())
                }
            };
            if let Err(error) = ended {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timed out"),
    }
}

/// A connection whose peer must send `needed` bytes (the HTTP/2 preface) within a deadline;
/// past it, reads fail with `TimedOut` and the server closes the connection.
pub struct PrefaceDeadline<T> {
    inner: T,
    needed: usize,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The HTTP/2 connection preface's length.
pub const H2_PREFACE_LEN: usize = 24;

impl<T> PrefaceDeadline<T> {
    /// Wraps `inner`: `needed` bytes must arrive within `timeout` from now.
    pub fn new(inner: T, needed: usize, timeout: Duration) -> Self {
        PrefaceDeadline {
            inner,
            needed,
            timer: Some(Box::pin(tokio::time::sleep(timeout))),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for PrefaceDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(timer) = &mut this.timer {
            match &read {
                Poll::Ready(Ok(())) => {
                    let got = buf.filled().len() - before;
                    this.needed = this.needed.saturating_sub(got);
                    if this.needed == 0 || got == 0 {
                        this.timer = None;
                    }
                }
                Poll::Ready(Err(_)) => this.timer = None,
                Poll::Pending => {
                    if timer.as_mut().poll(cx).is_ready() {
                        this.timer = None;
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no HTTP/2 preface within the header read timeout",
                        )));
                    }
                }
            }
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for PrefaceDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<T: tonic::transport::server::Connected> tonic::transport::server::Connected
    for PrefaceDeadline<T>
{
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}
