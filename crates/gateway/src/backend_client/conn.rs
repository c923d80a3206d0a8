//! One HTTP/1.1 connection to a backend, driven by the task of the request using it:
//! write the request (head and body), then read the response head. Its read and write
//! buffers live as long as the connection, so a pooled connection allocates nothing per
//! request for them.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use http::request::Parts;
use http_body::Body as _;
use hyper_rustls::MaybeHttpsStream;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::net::TcpStream;

use super::chunked::{chunk_header, LAST_CHUNK};
use super::codec::{
    encode_request_head, expects_body, parse_response_head, RequestFraming, ResponseHead, Span,
};
use super::ClientError;
use crate::body::Body;

/// The connection's byte stream (plain TCP or TLS), as tokio I/O.
pub(super) type BackendIo = TokioIo<MaybeHttpsStream<TokioIo<TcpStream>>>;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;
/// Bodies up to this size are copied behind the head and sent in one write.
const COALESCE_BODY: usize = 16 * 1024;

/// A backend connection and its buffers.
pub(super) struct BackendConn {
    io: BackendIo,
    /// Bytes read and not yet consumed (the rest of a head, body bytes, …).
    pub(super) read_buf: BytesMut,
    write_buf: Vec<u8>,
    /// Scratch space for parsing response heads.
    spans: Vec<Span>,
}

/// How far a request got before it failed: whether another connection may be tried.
#[derive(Debug)]
pub(super) struct SendError {
    pub(super) error: ClientError,
    /// Nothing of a response was received (the request may be replayed elsewhere if it
    /// is idempotent and its body was not consumed).
    pub(super) no_response: bool,
    /// The request body was not consumed (empty or in memory).
    pub(super) body_intact: bool,
}

impl BackendConn {
    pub(super) fn new(io: BackendIo) -> Self {
        BackendConn {
            io,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(1024),
            spans: Vec::with_capacity(16),
        }
    }

    /// Sends the request and reads the response head; the body stays in the connection,
    /// for [`super::BackendBody`].
    pub(super) async fn send(
        &mut self,
        head: &Parts,
        target: &str,
        extra: &[u8],
        body: &mut Body,
    ) -> Result<ResponseHead, SendError> {
        let replayable = matches!(body, Body::Empty | Body::Full(_));
        let fail = |error, no_response| SendError {
            error,
            no_response,
            body_intact: replayable,
        };
        if let Err(error) = self.write_request(head, target, extra, body).await {
            if !matches!(error, ClientError::Io(_)) {
                // The client's body failed: the request cannot be completed.
                return Err(fail(error, true));
            }
            // The backend may have answered early (say 413) and closed: take that answer.
            return match self.read_head(&head.method).await {
                Ok(response) => Ok(ResponseHead {
                    keep_alive: false,
                    ..response
                }),
                Err(_) => Err(fail(error, true)),
            };
        }
        self.read_head(&head.method).await.map_err(|error| {
            let received = !self.read_buf.is_empty();
            fail(error, !received)
        })
    }

    async fn write_request(
        &mut self,
        head: &Parts,
        target: &str,
        extra: &[u8],
        body: &mut Body,
    ) -> Result<(), ClientError> {
        let framing = match body {
            Body::Empty | Body::Full(None) if expects_body(&head.method) => {
                RequestFraming::Length(0)
            }
            Body::Empty | Body::Full(None) => RequestFraming::None,
            Body::Full(Some(bytes)) => RequestFraming::Length(bytes.len() as u64),
            _ => match body.size_hint().exact() {
                Some(0) if !expects_body(&head.method) => RequestFraming::None,
                Some(len) => RequestFraming::Length(len),
                None => RequestFraming::Chunked,
            },
        };
        self.write_buf.clear();
        encode_request_head(
            &head.method,
            target,
            &head.headers,
            extra,
            framing,
            &mut self.write_buf,
        );
        // The head waits for the rest of the tick's requests (see `write_batching`).
        crate::write_batching::end_of_tick().await;
        // TLS may hold records back until flushed; for plain TCP a flush is free.
        if let Body::Full(Some(bytes)) = body {
            if bytes.len() <= COALESCE_BODY {
                self.write_buf.extend_from_slice(bytes);
                self.flush_write_buf().await?;
            } else {
                self.flush_write_buf().await?;
                self.io.write_all(bytes).await.map_err(ClientError::Io)?;
            }
            return self.io.flush().await.map_err(ClientError::Io);
        }
        if framing == RequestFraming::None || framing == RequestFraming::Length(0) {
            self.flush_write_buf().await?;
            return self.io.flush().await.map_err(ClientError::Io);
        }
        // A streamed body: the head goes with the first piece of data.
        let chunked = framing == RequestFraming::Chunked;
        let mut sent = 0u64;
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
            let frame = frame.map_err(|e| ClientError::RequestBody(Box::new(e)))?;
            let Ok(mut data) = frame.into_data() else {
                continue; // trailers are not forwarded
            };
            if data.is_empty() {
                continue;
            }
            sent += data.len() as u64;
            if let RequestFraming::Length(len) = framing {
                if sent > len {
                    return Err(ClientError::RequestBodyLength);
                }
            }
            if chunked {
                chunk_header(data.len(), &mut self.write_buf);
            }
            self.write_data(&mut data).await?;
            if chunked {
                self.write_buf.extend_from_slice(b"\r\n");
            }
        }
        if let RequestFraming::Length(len) = framing {
            if sent != len {
                return Err(ClientError::RequestBodyLength);
            }
        }
        if chunked {
            self.write_buf.extend_from_slice(LAST_CHUNK);
        }
        self.flush_write_buf().await?;
        self.io.flush().await.map_err(ClientError::Io)
    }

    /// Writes out what `write_buf` holds.
    async fn flush_write_buf(&mut self) -> Result<(), ClientError> {
        if !self.write_buf.is_empty() {
            self.io
                .write_all(&self.write_buf)
                .await
                .map_err(ClientError::Io)?;
            self.write_buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered plus `data` (copied behind it when small).
    async fn write_data(&mut self, data: &mut Bytes) -> Result<(), ClientError> {
        if data.len() <= COALESCE_BODY - self.write_buf.len().min(COALESCE_BODY) {
            self.write_buf.extend_from_slice(data);
        } else {
            self.flush_write_buf().await?;
            while data.has_remaining() {
                let n = self.io.write(data).await.map_err(ClientError::Io)?;
                if n == 0 {
                    return Err(ClientError::Io(io::ErrorKind::WriteZero.into()));
                }
                data.advance(n);
            }
        }
        Ok(())
    }

    async fn read_head(&mut self, method: &http::Method) -> Result<ResponseHead, ClientError> {
        loop {
            if !self.read_buf.is_empty() {
                if let Some(head) = parse_response_head(&mut self.read_buf, method, &mut self.spans)
                    .map_err(ClientError::Head)?
                {
                    return Ok(head);
                }
            }
            let n = poll_fn(|cx| self.poll_fill(cx))
                .await
                .map_err(ClientError::Io)?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
        }
    }

    /// Reads whatever the socket has into `read_buf` (0: the backend closed it).
    pub(super) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.read_buf.capacity() - self.read_buf.len() < READ_CHUNK / 4 {
            self.read_buf.reserve(READ_CHUNK);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf)
    }

    /// Whether an idle connection can take a request: the backend has neither closed it
    /// nor sent anything unasked. Polls with a no-op waker: nobody owns an idle
    /// connection, so it must not keep (or wake) the task that used it last.
    pub(super) fn is_usable(&mut self) -> bool {
        if !self.read_buf.is_empty() {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut probe = [0u8; 1];
        let mut probe = tokio::io::ReadBuf::new(&mut probe);
        matches!(
            Pin::new(&mut self.io).poll_read(&mut cx, &mut probe),
            Poll::Pending
        )
    }
}
