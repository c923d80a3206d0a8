//! The one body type used on both legs: empty, a single buffer, or a streamed hyper body
//! with an optional byte limit. An enum instead of a boxed trait object keeps the
//! HTTP_PROXY path free of per-request allocations.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;

/// API Gateway's payload limit (10 MB).
pub const MAX_PAYLOAD: u64 = 10 * 1024 * 1024;

/// Why a body stopped.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The streamed request body went over its limit (→ 413).
    #[error("body exceeds the {MAX_PAYLOAD}-byte limit")]
    TooLarge,
    /// The peer's connection failed mid-body.
    #[error(transparent)]
    Transport(#[from] hyper::Error),
}

/// A request or response body.
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// One buffer (taken when polled).
    Full(Option<Bytes>),
    /// A streamed hyper body, failing with [`BodyError::TooLarge`] past `remaining` bytes.
    Stream {
        /// The incoming body.
        inner: Incoming,
        /// Bytes still allowed.
        remaining: u64,
    },
}

impl Body {
    /// A body made of one buffer.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Body::Full(Some(bytes.into()))
    }

    /// A streamed body without limit (responses passed back from backends).
    pub fn stream(inner: Incoming) -> Self {
        Body::Stream {
            inner,
            remaining: u64::MAX,
        }
    }

    /// A streamed body limited to [`MAX_PAYLOAD`] bytes (client request bodies).
    pub fn limited(inner: Incoming) -> Self {
        Body::Stream {
            inner,
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
            Body::Stream { inner, remaining } => match ready!(Pin::new(inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        let len = data.len() as u64;
                        if len > *remaining {
                            *remaining = 0;
                            return Poll::Ready(Some(Err(BodyError::TooLarge)));
                        }
                        *remaining -= len;
                    }
                    Poll::Ready(Some(Ok(frame)))
                }
                Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
                None => Poll::Ready(None),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Body::Stream { inner, .. } => inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream { inner, .. } => inner.size_hint(),
        }
    }
}
