//! Step 5b, the stage cache: after authorization, the API key, throttling and validation
//! (so a cached answer is still authorised and still counts against quotas and usage),
//! before the integration. A method whose stage caches it ([`crate::compile::cache`])
//! is answered from the cache when an entry for its key is there (a hit: the integration
//! is not called); otherwise (a miss) the integration's final method response (status,
//! headers, body) is kept for the method's TTL when it is a 2xx of at most
//! [`ResponseCache::max_item_bytes`] (default [`MAX_ITEM_BYTES`]), as it streams to the
//! client, without delaying it.
//!
//! Entries live in a cluster-wide store ([`SharedResponses`], the node's is Redis) behind
//! a small node-local front that keeps an entry at most [`LOCAL_FRESHNESS`] (and never
//! past its TTL), so a node's copy is never staler than its TTL, and at most that long
//! behind another node's refresh. Keys are SHA-256 digests of the key parts (stage, cache
//! epoch, method, path, `cacheKeyParameters` values), so the store never holds a request's
//! values in clear; FlushStageCache bumps the epoch, so every older entry is unreachable
//! on every node at once. The store failing or slow is a miss: the cache never fails a
//! request. Entries of `dataEncrypted` methods are sealed (AES-256-GCM, the stage's data
//! key, a random nonce each, bound to their key) before they reach the store and opened
//! when read; one that does not open is a miss. The node-local front holds them in clear
//! (process memory).
//!
//! `Cache-Control: max-age=0` from a caller allowed to (any caller when the method's
//! `requireAuthorizationForCacheControl` is off; else one granted
//! `execute-api:InvalidateCache` on the method by the resource policy or the Lambda
//! authorizer's policy) skips the lookup and refreshes the entry. From anyone else it gets
//! the method's strategy: 403 (`FAIL_WITH_403`), or the header ignored, said in a
//! `Warning` response header (`SUCCEED_WITH_RESPONSE_HEADER`) or not
//! (`SUCCEED_WITHOUT_RESPONSE_HEADER`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use apigw_iam_policy::{Decision, EvalRequest};
use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use http::header::{HeaderName, HeaderValue, CACHE_CONTROL};
use http::request::Parts;
use http::{HeaderMap, Response, StatusCode};
use sha2::{Digest, Sha256};

use crate::body::Body;
use crate::compile::cache::{push_part, MethodCache, Strategy};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::authorize::{cache::now_ms, method_arn};
use crate::phases::integration::request_view;
use crate::phases::route::Routed;

/// The largest response body kept (API Gateway's limit, 1 MB); larger ones pass uncached.
pub const MAX_ITEM_BYTES: usize = 1024 * 1024;

/// How long a node serves an entry from its own memory before asking the shared store
/// again (never past the entry's TTL).
pub const LOCAL_FRESHNESS: Duration = Duration::from_secs(1);

/// The node-local front's size, in bytes of bodies and headers.
pub const LOCAL_BYTES: u64 = 64 * 1024 * 1024;

/// The IAM action that lets a caller refresh a cache entry.
pub const INVALIDATE_ACTION: &str = "execute-api:InvalidateCache";

/// The header `SUCCEED_WITH_RESPONSE_HEADER` adds.
pub static WARNING: HeaderName = HeaderName::from_static("warning");
const WARNING_TEXT: &str =
    "199 - \"Cache-Control: max-age=0 ignored: the caller may not execute-api:InvalidateCache\"";

/// Whether a request was answered from the cache (for the metrics' CacheHitCount and
/// CacheMissCount); only requests of cached methods have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered from the cache.
    Hit,
    /// Not found (or refreshed): the integration answered.
    Miss,
}

/// The cluster-wide store: encoded entries by stage (`{api}:{stage}`, the unit its memory
/// bound applies to) and hex key. Failures are misses; the store logs them.
pub trait SharedResponses: Send + Sync + 'static {
    /// The entry under `key`, if any.
    fn get<'a>(&'a self, stage: &'a str, key: &'a str) -> BoxFuture<'a, Option<Bytes>>;
    /// Keeps `item` under `key` for `ttl`.
    fn put<'a>(
        &'a self,
        stage: &'a str,
        key: &'a str,
        item: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'a, ()>;
}

/// A cached method response.
#[derive(Debug)]
pub struct CachedResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers (without hop-by-hop ones, `Content-Length` and the request id).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// When it expires (Unix ms).
    pub expires_ms: u64,
}

impl CachedResponse {
    /// The wire form: `expires_ms` (u64 LE), status (u16 LE), header count (u16 LE), each
    /// header as name length (u16 LE), name, value length (u32 LE), value; then the body.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.body.len() + 64 + self.headers.len() * 48);
        out.extend_from_slice(&self.expires_ms.to_le_bytes());
        out.extend_from_slice(&self.status.as_u16().to_le_bytes());
        let count = self.headers.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&(count as u16).to_le_bytes());
        for (name, value) in self.headers.iter().take(count) {
            out.extend_from_slice(&(name.as_str().len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(&self.body);
        out.freeze()
    }

    /// Reads the wire form back (`None` if it is not one).
    pub fn decode(mut data: Bytes) -> Option<CachedResponse> {
        fn take(data: &mut Bytes, n: usize) -> Option<Bytes> {
            (data.len() >= n).then(|| data.split_to(n))
        }
        let expires_ms = u64::from_le_bytes(take(&mut data, 8)?.as_ref().try_into().ok()?);
        let status = u16::from_le_bytes(take(&mut data, 2)?.as_ref().try_into().ok()?);
        let status = StatusCode::from_u16(status).ok()?;
        let count = u16::from_le_bytes(take(&mut data, 2)?.as_ref().try_into().ok()?);
        let mut headers = HeaderMap::with_capacity(usize::from(count));
        for _ in 0..count {
            let len = u16::from_le_bytes(take(&mut data, 2)?.as_ref().try_into().ok()?);
            let name = HeaderName::from_bytes(&take(&mut data, usize::from(len))?).ok()?;
            let len = u32::from_le_bytes(take(&mut data, 4)?.as_ref().try_into().ok()?);
            let value = HeaderValue::from_maybe_shared(take(&mut data, len as usize)?).ok()?;
            headers.append(name, value);
        }
        Some(CachedResponse {
            status,
            headers,
            body: data,
            expires_ms,
        })
    }

    fn weight(&self) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 16)
            .sum();
        (self.body.len() + headers + 64) as u64
    }

    fn response(&self) -> Response<Body> {
        let mut response = Response::new(if self.body.is_empty() {
            Body::Empty
        } else {
            Body::full(self.body.clone())
        });
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

#[derive(Clone)]
struct LocalEntry {
    until: Instant,
    item: Arc<CachedResponse>,
}

#[derive(Clone, Copy)]
struct Weight;

impl quick_cache::Weighter<[u8; 32], LocalEntry> for Weight {
    fn weight(&self, _key: &[u8; 32], entry: &LocalEntry) -> u64 {
        entry.item.weight()
    }
}

/// The stage cache of a gateway: the node-local front and the shared store.
pub struct ResponseCache {
    local: quick_cache::sync::Cache<[u8; 32], LocalEntry, Weight>,
    shared: Option<Arc<dyn SharedResponses>>,
    /// Responses with larger bodies are not cached.
    pub max_item_bytes: usize,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("shared", &self.shared.is_some())
            .field("max_item_bytes", &self.max_item_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for ResponseCache {
    fn default() -> Self {
        ResponseCache {
            local: quick_cache::sync::Cache::with_weighter(16_384, LOCAL_BYTES, Weight),
            shared: None,
            max_item_bytes: MAX_ITEM_BYTES,
        }
    }
}

/// What the cache does for one request, decided before the integration.
#[derive(Debug)]
pub struct Plan {
    method: Arc<MethodCache>,
    digest: [u8; 32],
    /// Look the key up (false: `max-age=0` from an allowed caller, a refresh).
    lookup: bool,
    /// Add the `Warning` header (an ignored `max-age=0`).
    warn: bool,
}

/// The method's cache settings when the cache applies to this request: the method is
/// cached and, for a request the canary serves (`canary`), the canary's `useStageCache`
/// is on. `canary`: the canary split picked the canary's deployment for this request
/// ([`crate::compile::CompiledStage::is_canary`]).
pub fn applies(routed: &Routed, canary: bool) -> Option<&Arc<MethodCache>> {
    let method = routed.method.cache.as_ref()?;
    (!canary || routed.stage.canary_uses_cache).then_some(method)
}

/// Decides the request's [`Plan`]: its key, and what its `Cache-Control` asks for (an
/// error for an unauthorised `max-age=0` under `FAIL_WITH_403`).
pub fn plan(
    method: &Arc<MethodCache>,
    ctx: &RequestContext,
    routed: &Routed,
    parts: &Parts,
) -> Result<Plan, GatewayError> {
    let (mut lookup, mut warn) = (true, false);
    if asks_refresh(&parts.headers) {
        if !method.require_authorization || may_invalidate(ctx, routed, parts) {
            ctx.log(|| "Cache-Control: max-age=0: refreshing the cache entry".into());
            lookup = false;
        } else {
            match method.strategy {
                Strategy::FailWith403 => return Err(refused(ctx, routed, parts)),
                Strategy::SucceedWithResponseHeader => warn = true,
                Strategy::SucceedWithoutResponseHeader => {}
            }
        }
    }
    Ok(Plan {
        digest: key(method, ctx, routed, parts),
        method: Arc::clone(method),
        lookup,
        warn,
    })
}

/// `FAIL_WITH_403`'s answer, in the words of a policy refusal.
fn refused(ctx: &RequestContext, routed: &Routed, parts: &Parts) -> GatewayError {
    let caller = ctx.iam_caller.get().map_or("anonymous", |c| &*c.user_arn);
    let arn = method_arn(routed, parts);
    GatewayError::PolicyDenied(format!(
        "User: {caller} is not authorized to perform: {INVALIDATE_ACTION} on resource: {arn}"
    ))
}

/// Whether `Cache-Control` carries `max-age=0`.
fn asks_refresh(headers: &HeaderMap) -> bool {
    headers.get_all(CACHE_CONTROL).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("max-age=0"))
        })
    })
}

/// Whether a policy grants the caller `execute-api:InvalidateCache` on this method: the
/// resource policy or the Lambda authorizer's policy allows it and neither denies it.
fn may_invalidate(ctx: &RequestContext, routed: &Routed, parts: &Parts) -> bool {
    let arn = method_arn(routed, parts);
    let mut request = EvalRequest::invoke(&arn).with_source_ip(ctx.source_ip);
    request.action = INVALIDATE_ACTION;
    let authorizer = ctx
        .authorizer
        .get()
        .and_then(|a| a.compiled_policy.as_ref())
        .map(|p| p.evaluate(&request));
    if let Some(caller) = ctx.iam_caller.get() {
        request = request.with_principal(&caller.user_arn);
    }
    let resource = routed.stage.policy.as_ref().map(|p| p.evaluate(&request));
    let decisions = [authorizer, resource];
    !decisions.contains(&Some(Decision::Deny)) && decisions.contains(&Some(Decision::Allow))
}

/// The request's key: SHA-256 of the method's fixed parts, the HTTP method, the
/// stage-relative path and each cache key parameter's value (length-prefixed; an absent
/// one marked apart from an empty one).
fn key(method: &MethodCache, ctx: &RequestContext, routed: &Routed, parts: &Parts) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(method.key_prefix.len() + 128);
    bytes.extend_from_slice(&method.key_prefix);
    push_part(&mut bytes, parts.method.as_str().as_bytes());
    push_part(&mut bytes, routed.stage_path(parts.uri.path()).as_bytes());
    if !method.key_parameters.is_empty() {
        let view = request_view(ctx, routed, parts);
        for source in &method.key_parameters {
            match source.text(&view) {
                Some(value) => push_part(&mut bytes, value.as_bytes()),
                None => bytes.extend_from_slice(&u32::MAX.to_le_bytes()),
            }
        }
    }
    Sha256::digest(&bytes).into()
}

impl ResponseCache {
    /// A cache whose entries are shared through `shared`.
    pub fn with_shared(mut self, shared: Arc<dyn SharedResponses>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// A cache keeping bodies of at most `bytes`.
    pub fn with_max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = bytes;
        self
    }

    /// The cached response for `plan`, if there is one (never for a refresh).
    pub async fn lookup(&self, plan: &Plan) -> Option<Response<Body>> {
        if !plan.lookup {
            return None;
        }
        let now = Instant::now();
        if let Some(entry) = self.local.get(&plan.digest) {
            if entry.until > now {
                return Some(self.answer(&entry.item, plan));
            }
            self.local.remove(&plan.digest);
        }
        let shared = self.shared.as_ref()?;
        let data = shared
            .get(&plan.method.stage_tag, &hex::encode(plan.digest))
            .await?;
        let data = match &plan.method.sealed {
            None => data,
            Some(key) => match key.open(&plan.digest, &data) {
                Some(plain) => plain,
                None => {
                    // Sealed under another key (a recreated stage, a new master key) or
                    // altered: a miss, and the answer replaces it.
                    tracing::debug!(stage = %plan.method.stage_tag, "cache entry does not open");
                    return None;
                }
            },
        };
        let item = CachedResponse::decode(data)?;
        let left = item.expires_ms.saturating_sub(now_ms());
        if left == 0 {
            return None;
        }
        let item = Arc::new(item);
        let response = self.answer(&item, plan);
        self.local.insert(
            plan.digest,
            LocalEntry {
                until: now + LOCAL_FRESHNESS.min(Duration::from_millis(left)),
                item,
            },
        );
        Some(response)
    }

    fn answer(&self, item: &CachedResponse, plan: &Plan) -> Response<Body> {
        let mut response = item.response();
        if plan.warn {
            response
                .headers_mut()
                .insert(WARNING.clone(), HeaderValue::from_static(WARNING_TEXT));
        }
        response
    }

    /// The integration's `response`, kept under `plan`'s key as it goes to the client
    /// when it is cacheable (a 2xx whose body is at most `max_item_bytes`).
    pub fn keep(self: &Arc<Self>, plan: Plan, mut response: Response<Body>) -> Response<Body> {
        if plan.warn {
            response
                .headers_mut()
                .insert(WARNING.clone(), HeaderValue::from_static(WARNING_TEXT));
        }
        if !response.status().is_success() {
            return response;
        }
        let limit = self.max_item_bytes;
        if http_body::Body::size_hint(response.body())
            .upper()
            .is_some_and(|n| n > limit as u64)
        {
            return response;
        }
        let mut headers = response.headers().clone();
        for hop in [
            http::header::CONNECTION,
            http::header::TRANSFER_ENCODING,
            http::header::CONTENT_LENGTH,
            HeaderName::from_static("keep-alive"),
            crate::context::X_AMZN_REQUEST_ID.clone(),
            crate::context::X_AMZ_APIGW_ID.clone(),
            WARNING.clone(),
        ] {
            headers.remove(hop);
        }
        let status = response.status();
        let cache = Arc::clone(self);
        let finish = move |body: Bytes| cache.insert(&plan, status, headers, body);
        let (head, body) = response.into_parts();
        let body = match body {
            Body::Empty => {
                finish(Bytes::new());
                Body::Empty
            }
            Body::Full(Some(bytes)) => {
                finish(bytes.clone());
                Body::Full(Some(bytes))
            }
            other => Body::Recording(Box::new(crate::body::Recording::new(
                other,
                limit,
                Box::new(finish),
            ))),
        };
        Response::from_parts(head, body)
    }

    /// Keeps a complete response locally and in the shared store (written in the
    /// background: the client never waits for it).
    fn insert(&self, plan: &Plan, status: StatusCode, headers: HeaderMap, body: Bytes) {
        let ttl = plan.method.ttl;
        let item = Arc::new(CachedResponse {
            status,
            headers,
            body,
            expires_ms: now_ms() + u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
        });
        let local_for = if self.shared.is_some() {
            LOCAL_FRESHNESS.min(ttl)
        } else {
            ttl
        };
        self.local.insert(
            plan.digest,
            LocalEntry {
                until: Instant::now() + local_for,
                item: Arc::clone(&item),
            },
        );
        if let Some(shared) = &self.shared {
            let shared = Arc::clone(shared);
            let stage = Arc::clone(&plan.method.stage_tag);
            let key = hex::encode(plan.digest);
            match &plan.method.sealed {
                None => {
                    let encoded = item.encode();
                    tokio::spawn(async move { shared.put(&stage, &key, encoded, ttl).await });
                }
                Some(data_key) => {
                    // Sealed (bound to the entry's key) in the background too.
                    let data_key = Arc::clone(data_key);
                    let digest = plan.digest;
                    tokio::spawn(async move {
                        if let Some(sealed) = data_key.seal(&digest, &item.encode()) {
                            shared.put(&stage, &key, sealed, ttl).await;
                        }
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_their_wire_form() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        let item = CachedResponse {
            status: StatusCode::CREATED,
            headers,
            body: Bytes::from_static(b"{\"a\":1}"),
            expires_ms: 1234,
        };
        let back = CachedResponse::decode(item.encode()).unwrap();
        assert_eq!(back.status, StatusCode::CREATED);
        assert_eq!(back.expires_ms, 1234);
        assert_eq!(back.headers, item.headers);
        assert_eq!(back.body, item.body);
        assert!(CachedResponse::decode(Bytes::from_static(b"short")).is_none());
    }

    #[test]
    fn max_age_zero_is_recognised_among_directives() {
        let mut h = HeaderMap::new();
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store, Max-Age=0"),
        );
        assert!(asks_refresh(&h));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
        assert!(!asks_refresh(&h));
    }
}
