//! The end-of-request hook (Pingora's `logging()`): called once for every request the
//! engine serves, after its response is decided, with the final status, the integration
//! latency and the whole latency. Metrics, access logs and traces hang off it.
//!
//! The hook runs on the request's task before the response is written: it must not block
//! (record, enqueue, return).

use std::any::Any;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{HeaderValue, Method, StatusCode, Uri, Version};

use crate::compile::{CompiledMethod, CompiledStage};
use crate::context::RequestContext;
use crate::error::GatewayError;

/// What the hook sees of one finished request.
#[derive(Debug)]
pub struct RequestSummary<'a> {
    /// Request id, source IP, API key id, arrival time.
    pub ctx: &'a RequestContext,
    /// The request's HTTP method.
    pub http_method: &'a Method,
    /// The stage, when the request named a deployed one: the compiled deployment that
    /// served it, whose `is_canary` says whether it was the stage's canary.
    pub stage: Option<&'a CompiledStage>,
    /// The method, when routing found one.
    pub method: Option<&'a CompiledMethod>,
    /// The status sent to the client.
    pub status: StatusCode,
    /// The gateway error the response renders, if any.
    pub error: Option<&'a GatewayError>,
    /// How long the integration took to produce the response head (`None` when the
    /// request never reached it).
    pub integration_latency: Option<Duration>,
    /// From the request's arrival at the engine to its response head.
    pub latency: Duration,
    /// What access logs read of the request itself.
    pub request: &'a RequestFacts,
    /// The response body's length, when known before it is sent (buffered bodies and
    /// `Content-Length`).
    pub response_length: Option<u64>,
    /// Whether the stage cache answered it (`None`: the method is not cached, or the
    /// request did not get that far).
    pub cache: Option<crate::phases::cache::Outcome>,
}

/// What the end-of-request hook may read of the request itself, kept before the phases
/// consume it (reference-counted clones: no copy of the bytes).
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// The request target.
    pub uri: Uri,
    /// The HTTP version.
    pub version: Version,
    /// `User-Agent`.
    pub user_agent: Option<HeaderValue>,
    /// `Host`.
    pub host: Option<HeaderValue>,
    /// The request body's length when known before it is read (`Content-Length`, or a
    /// body the server already holds): HTTP APIs' DataProcessed.
    pub body_length: Option<u64>,
}

impl RequestFacts {
    /// Keeps what the hook reads of `request`.
    pub fn of<B: http_body::Body>(request: &http::Request<B>) -> RequestFacts {
        let headers = request.headers();
        RequestFacts {
            body_length: http_body::Body::size_hint(request.body()).exact(),
            uri: request.uri().clone(),
            version: request.version(),
            user_agent: headers.get(http::header::USER_AGENT).cloned(),
            host: headers.get(http::header::HOST).cloned(),
        }
    }

    /// `$context.path`: the request path as the client sent it to the invoke host,
    /// `/{stage}/…` (the local form `/restapis/{api}/{stage}/_user_request_/…` is shown
    /// in that shape too).
    pub fn path(&self) -> std::borrow::Cow<'_, str> {
        let path = self.uri.path();
        if let Some(rest) = path.strip_prefix("/restapis/") {
            let mut parts = rest.splitn(3, '/');
            if let (Some(_api), Some(stage), Some(tail)) =
                (parts.next(), parts.next(), parts.next())
            {
                if let Some(tail) = tail.strip_prefix("_user_request_") {
                    return std::borrow::Cow::Owned(format!("/{stage}{tail}"));
                }
            }
        }
        std::borrow::Cow::Borrowed(path)
    }
}

/// Receives every [`RequestSummary`].
pub trait RequestEnd: Send + Sync + 'static {
    /// Called once per request.
    fn request_end(&self, summary: &RequestSummary<'_>);
}

/// A slot on a compiled stage or method where the node's hook keeps what it resolved for
/// it when the config was applied (e.g. its metrics series), set once per compiled
/// object and read per request without a lookup. The engine never reads it.
#[derive(Default)]
pub struct HookSlot(OnceLock<Arc<dyn Any + Send + Sync>>);

impl HookSlot {
    /// What was attached, if it is a `T`.
    #[inline]
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.get()?.downcast_ref()
    }

    /// Attaches `value` unless something already is (the first attachment wins).
    pub fn attach(&self, value: Arc<dyn Any + Send + Sync>) {
        let _ = self.0.set(value);
    }

    /// Whether something is attached.
    pub fn is_set(&self) -> bool {
        self.0.get().is_some()
    }
}

impl std::fmt::Debug for HookSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() {
            "HookSlot(set)"
        } else {
            "HookSlot(empty)"
        })
    }
}
