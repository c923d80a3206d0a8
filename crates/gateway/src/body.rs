//! The one body type used on both legs: empty, a single buffer, a client's streamed
//! request body, or a backend's streamed response body, the streamed ones with an optional
//! byte limit. An enum instead of a boxed trait object keeps the HTTP_PROXY response path
//! free of per-request allocations; a client's body is boxed once, and only when it has
//! content (a bodiless request becomes [`Body::Empty`]), which is what lets the engine take
//! any `http_body::Body` (a socket's, or TestInvokeMethod's buffer).

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::backend_client::BackendBody;

/// API Gateway's payload limit (10 MB).
pub const MAX_PAYLOAD: u64 = 10 * 1024 * 1024;

/// A boxed error of a client body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client's request body, whatever produced it.
pub struct ClientBody(Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send>>);

impl std::fmt::Debug for ClientBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientBody")
    }
}

/// Why a body stopped.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The streamed request body went over its limit (→ 413).
    #[error("body exceeds the {MAX_PAYLOAD}-byte limit")]
    TooLarge,
    /// The client's connection failed mid-body.
    #[error("the client body failed: {0}")]
    Transport(BoxError),
    /// The backend's connection failed mid-body, or the body is malformed.
    #[error(transparent)]
    Backend(#[from] crate::backend_client::ClientError),
}

/// A request or response body.
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// One buffer (taken when polled).
    Full(Option<Bytes>),
    /// A client's streamed request body, failing with [`BodyError::TooLarge`] past
    /// `remaining` bytes.
    Stream {
        /// The incoming body.
        inner: ClientBody,
        /// Bytes still allowed.
        remaining: u64,
    },
    /// A backend's streamed response body (it drives its connection), with the same limit.
    Backend {
        /// The backend body.
        inner: BackendBody,
        /// Bytes still allowed.
        remaining: u64,
    },
    /// A body passed on while a copy is kept (the stage cache, [`Recording`]).
    Recording(Box<Recording>),
}

/// What receives a recorded body once it has passed whole.
pub type OnRecorded = Box<dyn FnOnce(Bytes) + Send>;

/// A body passed on unchanged while its frames are copied, up to a limit: once it ends
/// cleanly within the limit, the whole copy goes to the callback. Past the limit, or on
/// an error or a drop before the end, nothing is called.
pub struct Recording {
    inner: Body,
    copy: Vec<Bytes>,
    len: usize,
    limit: usize,
    done: Option<OnRecorded>,
}

impl Recording {
    /// Records `inner` for `done`, up to `limit` bytes.
    pub fn new(inner: Body, limit: usize, done: OnRecorded) -> Self {
        Recording {
            inner,
            copy: Vec::new(),
            len: 0,
            limit,
            done: Some(done),
        }
    }

    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            let whole = match self.copy.len() {
                0 => Bytes::new(),
                1 => self.copy.pop().unwrap_or_default(),
                _ => {
                    let mut all = bytes::BytesMut::with_capacity(self.len);
                    for part in self.copy.drain(..) {
                        all.extend_from_slice(&part);
                    }
                    all.freeze()
                }
            };
            done(whole);
        }
    }
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("len", &self.len)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Body {
    /// A body made of one buffer.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Body::Full(Some(bytes.into()))
    }

    /// A backend response passed back whole, without limit.
    pub fn backend(inner: BackendBody) -> Self {
        Body::Backend {
            inner,
            remaining: u64::MAX,
        }
    }

    /// A backend response limited to [`MAX_PAYLOAD`] bytes (read by the gateway itself).
    pub fn backend_limited(inner: BackendBody) -> Self {
        Body::Backend {
            inner,
            remaining: MAX_PAYLOAD,
        }
    }

    /// A client's request body limited to [`MAX_PAYLOAD`] bytes ([`Body::Empty`] when it
    /// has no content).
    pub fn limited<B>(inner: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if inner.is_end_stream() {
            return Body::Empty;
        }
        Body::Stream {
            inner: ClientBody(Box::pin(http_body_util::BodyExt::map_err(
                inner,
                Into::into,
            ))),
            remaining: MAX_PAYLOAD,
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream { inner, remaining } => {
                let frame = ready!(inner.0.as_mut().poll_frame(cx));
                Poll::Ready(limit(
                    frame.map(|f| f.map_err(BodyError::Transport)),
                    remaining,
                ))
            }
            Body::Backend { inner, remaining } => {
                Poll::Ready(limit(ready!(Pin::new(inner).poll_frame(cx)), remaining))
            }
            Body::Recording(rec) => {
                let frame = ready!(Pin::new(&mut rec.inner).poll_frame(cx));
                match &frame {
                    Some(Ok(frame)) => {
                        if let (Some(data), true) = (frame.data_ref(), rec.done.is_some()) {
                            rec.len += data.len();
                            if rec.len > rec.limit {
                                rec.done = None;
                                rec.copy = Vec::new();
                            } else {
                                rec.copy.push(data.clone());
                            }
                        }
                    }
                    Some(Err(_)) => rec.done = None,
                    None => rec.finish(),
                }
                if frame.is_some() && rec.inner.is_end_stream() {
                    rec.finish();
                }
                Poll::Ready(frame)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Body::Stream { inner, .. } => inner.0.is_end_stream(),
            Body::Backend { inner, .. } => inner.is_end_stream(),
            Body::Recording(rec) => rec.inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream { inner, .. } => inner.0.size_hint(),
            Body::Backend { inner, .. } => inner.size_hint(),
            Body::Recording(rec) => rec.inner.size_hint(),
        }
    }
}

/// Counts a streamed frame against `remaining`, failing past it.
fn limit<E: Into<BodyError>>(
    frame: Option<Result<Frame<Bytes>, E>>,
    remaining: &mut u64,
) -> Option<Result<Frame<Bytes>, BodyError>> {
    match frame? {
        Ok(frame) => {
            if let Some(data) = frame.data_ref() {
                let len = data.len() as u64;
                if len > *remaining {
                    *remaining = 0;
                    return Some(Err(BodyError::TooLarge));
                }
                *remaining -= len;
            }
            Some(Ok(frame))
        }
        Err(e) => Some(Err(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    fn streamed(parts: &[&'static [u8]]) -> Body {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::from_static(p))))
            .collect();
        Body::limited(StreamBody::new(futures::stream::iter(frames)))
    }

    fn recorded(parts: &[&'static [u8]], limit: usize) -> (Bytes, Option<Bytes>) {
        let seen = Arc::new(Mutex::new(None));
        let into = Arc::clone(&seen);
        let body = Body::Recording(Box::new(Recording::new(
            streamed(parts),
            limit,
            Box::new(move |whole| *into.lock().unwrap() = Some(whole)),
        )));
        let passed = futures::executor::block_on(body.collect())
            .unwrap()
            .to_bytes();
        let copy = seen.lock().unwrap().take();
        (passed, copy)
    }

    #[test]
    fn a_recorded_body_passes_unchanged_and_its_copy_arrives_whole_within_the_limit() {
        let (passed, copy) = recorded(&[b"ab", b"cd", b"e"], 5);
        assert_eq!(&passed[..], b"abcde");
        assert_eq!(copy.as_deref(), Some(&b"abcde"[..]));
        let (passed, copy) = recorded(&[b"ab", b"cd", b"ef"], 5);
        assert_eq!(
            &passed[..],
            b"abcdef",
            "passed on whole even past the limit"
        );
        assert_eq!(copy, None, "but not recorded");
    }
}
