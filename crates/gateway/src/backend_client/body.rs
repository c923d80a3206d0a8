//! The body of a backend response, read straight from the connection it arrives on:
//! polling the body reads the socket; body bytes already read with the head are handed
//! out without a syscall. The connection goes back to the pool the moment the body is
//! complete (so an exactly-sized body never needs a final poll), and is closed instead if
//! the body is dropped part-way, since HTTP/1.1 cannot abandon a response and keep the
//! connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use super::chunked::{ChunkedDecoder, Decoded};
use super::codec::Framing;
use super::conn::BackendConn;
use super::pool::{Pool, PoolKey};
use super::ClientError;

/// What is left of the body.
#[derive(Debug)]
enum Remaining {
    /// This many bytes (0: complete).
    Length(u64),
    /// Chunks, until the last one.
    Chunked(ChunkedDecoder),
    /// Everything until the backend closes.
    UntilClose,
    /// Complete, or failed.
    Done,
}

/// A backend response body (see the module docs).
pub struct BackendBody {
    remaining: Remaining,
    /// The connection, until the body is complete.
    conn: Option<Box<BackendConn>>,
    /// Whether the connection may be reused once the body is complete.
    keep_alive: bool,
    pool: Arc<Pool>,
    key: PoolKey,
    /// How long the backend may send nothing while the body is read; then the body fails
    /// with [`ClientError::IdleTimeout`] and the connection is closed.
    idle: Duration,
    /// The idle timer, created at the first stall and re-armed at each later one.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether `timer` counts down the current stall (else it is re-armed when one starts).
    timer_armed: bool,
    /// When a reader that buffers the whole body must give up (the integration's
    /// `timeoutInMillis` from the request's start); streamed bodies have only `idle`.
    deadline: Option<tokio::time::Instant>,
}

impl std::fmt::Debug for BackendBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendBody")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl BackendBody {
    pub(super) fn new(
        framing: Framing,
        conn: Box<BackendConn>,
        keep_alive: bool,
        pool: Arc<Pool>,
        key: PoolKey,
        idle: Duration,
    ) -> Self {
        let remaining = match framing {
            Framing::Length(len) => Remaining::Length(len),
            Framing::Chunked => Remaining::Chunked(ChunkedDecoder::new()),
            Framing::UntilClose => Remaining::UntilClose,
        };
        let mut body = BackendBody {
            remaining,
            conn: Some(conn),
            keep_alive,
            pool,
            key,
            idle,
            timer: None,
            timer_armed: false,
            deadline: None,
        };
        if matches!(body.remaining, Remaining::Length(0)) {
            body.finish();
        }
        body
    }

    /// Sets when a reader buffering the whole body must give up.
    pub fn set_deadline(&mut self, deadline: tokio::time::Instant) {
        self.deadline = Some(deadline);
    }

    /// When a reader buffering the whole body must give up, if set.
    pub fn deadline(&self) -> Option<tokio::time::Instant> {
        self.deadline
    }

    /// Polls the idle timer of a stall: `Ready` once the backend has sent nothing for
    /// `idle`.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = tokio::time::Instant::now() + self.idle;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.timer_armed {
            timer.as_mut().reset(deadline);
            self.timer_armed = true;
        }
        timer.as_mut().poll(cx)
    }

    /// For a chunked body, waits until the first chunk's size line has arrived and checks
    /// it, so that a backend whose framing is broken from the start (a size that is not
    /// hex, or overflows) fails the exchange, answered 502, before its head is passed on;
    /// later breakage can only cut the streamed body. Other bodies have nothing to check.
    /// The caller bounds the wait (the integration's deadline).
    pub async fn check_start(&mut self) -> Result<(), ClientError> {
        std::future::poll_fn(|cx| self.poll_start(cx)).await
    }

    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ClientError>> {
        loop {
            let (Remaining::Chunked(decoder), Some(conn)) = (&mut self.remaining, &mut self.conn)
            else {
                return Poll::Ready(Ok(()));
            };
            let error = match decoder.read_size_line(&mut conn.read_buf) {
                Ok(true) => return Poll::Ready(Ok(())),
                Ok(false) => match std::task::ready!(conn.poll_fill(cx)) {
                    Ok(0) => ClientError::Closed,
                    Ok(_) => continue,
                    Err(error) => ClientError::Io(error),
                },
                Err(error) => ClientError::Chunked(error),
            };
            self.remaining = Remaining::Done;
            self.conn = None;
            return Poll::Ready(Err(error));
        }
    }

    /// The body is complete: the connection goes back to the pool if it can carry another
    /// request (nothing unread behind this response).
    fn finish(&mut self) {
        self.remaining = Remaining::Done;
        if let Some(conn) = self.conn.take() {
            if self.keep_alive && conn.read_buf.is_empty() {
                self.pool.put(self.key.clone(), conn);
            }
        }
    }

    fn fail(&mut self, error: ClientError) -> Poll<Option<Result<Frame<Bytes>, ClientError>>> {
        self.remaining = Remaining::Done;
        self.conn = None;
        Poll::Ready(Some(Err(error)))
    }
}

impl http_body::Body for BackendBody {
    type Data = Bytes;
    type Error = ClientError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ClientError>>> {
        let this = self.get_mut();
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            let buf = &mut conn.read_buf;
            match &mut this.remaining {
                Remaining::Done => return Poll::Ready(None),
                Remaining::Length(left) if !buf.is_empty() => {
                    let take = usize::try_from(*left).map_or(buf.len(), |l| l.min(buf.len()));
                    let data = buf.split_to(take).freeze();
                    *left -= take as u64;
                    if *left == 0 {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Remaining::Chunked(decoder) if !buf.is_empty() => match decoder.decode(buf) {
                    Ok(Decoded::Data(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                    Ok(Decoded::Done) => {
                        this.finish();
                        return Poll::Ready(None);
                    }
                    Ok(Decoded::NeedMore) => {}
                    Err(error) => return this.fail(ClientError::Chunked(error)),
                },
                Remaining::UntilClose if !buf.is_empty() => {
                    let data = buf.split().freeze();
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                _ => {}
            }
            // Nothing buffered: read.
            let filled = match conn.poll_fill(cx) {
                Poll::Ready(filled) => filled,
                Poll::Pending => {
                    if this.poll_idle(cx).is_ready() {
                        let idle = this.idle;
                        return this.fail(ClientError::IdleTimeout(idle));
                    }
                    return Poll::Pending;
                }
            };
            this.timer_armed = false;
            match filled {
                Ok(0) if matches!(this.remaining, Remaining::UntilClose) => {
                    this.remaining = Remaining::Done;
                    this.conn = None;
                    return Poll::Ready(None);
                }
                Ok(0) => return this.fail(ClientError::Closed),
                Ok(_) => {}
                Err(error) => return this.fail(ClientError::Io(error)),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.remaining, Remaining::Done | Remaining::Length(0))
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Remaining::Length(left) => SizeHint::with_exact(left),
            Remaining::Done => SizeHint::with_exact(0),
            Remaining::Chunked(_) | Remaining::UntilClose => SizeHint::default(),
        }
    }
}
