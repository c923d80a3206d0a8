//! Cluster-wide limits: token buckets, quotas and usage counts shared by every node through
//! Redis, with local fallback buckets while Redis is unreachable.
//!
//! Each request that needs a limit costs one `EVALSHA` of [`script::ADMIT`] (loaded once,
//! re-sent on `NOSCRIPT`). Redis keys, all under the configured prefix `{P}` so clusters
//! (and tests) sharing a Redis stay apart:
//! - `{P}b:acct` — account bucket; `{P}b:s:{api}:{stage}:{method}` — stage method setting;
//!   `{P}b:k:{plan}:{key}` — per key; `{P}b:km:{plan}:{key}:{api}:{stage}:{method}` — per
//!   key per method. Hashes `{t: tokens, ts: ms}`, expiring once they would be full again.
//! - `{P}q:{plan}:{key}:{periodStartEpoch}` — quota used in a period.
//! - `{P}u` — hash `{plan}|{key}|{YYYY-MM-DD}` → admitted requests not yet moved to
//!   Postgres by the control plane.
//! - `{P}nodes` — sorted set node id → last heartbeat (ms): the live-node count that
//!   divides limits during an outage.
//!
//! When a call fails or times out the node marks Redis down (logged once), answers from
//! [`fallback`] (its share of each limit, or 429 when configured to fail closed), and a
//! background probe brings Redis back: it first adds the counts admitted meanwhile, then
//! shared enforcement resumes.

pub mod bucket;
pub mod fallback;
pub mod period;
pub mod script;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use bucket::Limit;
use fallback::{Fallback, Pending};

/// How long one admission call may take before Redis is considered down.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How often the node heartbeats (and probes Redis while it is down).
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
/// A node that has not heartbeated for this long is no longer counted as live.
pub const NODE_TTL: Duration = Duration::from_secs(5);

/// Why the limiter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    /// The Redis URL is invalid.
    #[error("invalid Redis URL: {0}")]
    Url(#[from] redis::RedisError),
}

/// A quota to check and count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaCheck {
    /// The counter's Redis key.
    pub key: String,
    /// Requests allowed in the period.
    pub limit: i64,
    /// Counter TTL (until a day after the period ends).
    pub ttl_secs: i64,
}

/// Everything one request is checked against.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    /// Bucket key (with prefix) and limit, most specific first.
    pub buckets: Vec<(String, Limit)>,
    /// The key's quota, if its plan has one.
    pub quota: Option<QuotaCheck>,
    /// Usage hash field to count on admission, if a key is involved.
    pub usage_field: Option<String>,
}

/// The outcome of an admission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on.
    Admitted,
    /// A bucket is empty: 429 Too Many Requests.
    Throttled,
    /// The quota is used up: 429 Limit Exceeded.
    QuotaExceeded,
}

/// How the limiter is configured.
#[derive(Debug, Clone)]
pub struct LimiterConfig {
    /// Redis URL; `None`: local limits only (a single-node setup).
    pub redis_url: Option<String>,
    /// Prefix of every key.
    pub prefix: String,
    /// While Redis is down, reject (429) instead of enforcing local shares.
    pub fail_closed: bool,
    /// This node's id (heartbeat member).
    pub node_id: String,
}

/// Shared limits for one node.
pub struct Limiter {
    redis: Option<ConnectionManager>,
    script: redis::Script,
    prefix: String,
    fail_closed: bool,
    node_id: String,
    up: AtomicBool,
    live_nodes: AtomicUsize,
    fallback: Fallback,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("prefix", &self.prefix)
            .field("up", &self.up.load(Ordering::Relaxed))
            .field("live_nodes", &self.live_nodes.load(Ordering::Relaxed))
            .finish()
    }
}

impl Limiter {
    /// A node-local limiter (no Redis): every limit enforced by this node alone.
    pub fn local() -> Self {
        Limiter {
            up: AtomicBool::new(false),
            redis: None,
            script: redis::Script::new(script::ADMIT),
            prefix: String::new(),
            fail_closed: false,
            node_id: String::new(),
            live_nodes: AtomicUsize::new(1),
            fallback: Fallback::default(),
        }
    }

    /// A limiter; connects lazily, so a node starts (on local limits) while Redis is down.
    pub fn new(config: LimiterConfig) -> Result<Self, LimitsError> {
        let redis = match &config.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str())?;
                let cm = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CALL_TIMEOUT))
                    .set_response_timeout(Some(CALL_TIMEOUT))
                    .set_number_of_retries(0);
                Some(ConnectionManager::new_lazy_with_config(client, cm)?)
            }
            None => None,
        };
        Ok(Limiter {
            up: AtomicBool::new(redis.is_some()),
            redis,
            script: redis::Script::new(script::ADMIT),
            prefix: config.prefix,
            fail_closed: config.fail_closed,
            node_id: config.node_id,
            live_nodes: AtomicUsize::new(1),
            fallback: Fallback::default(),
        })
    }

    /// A key under this cluster's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// Whether shared (Redis) enforcement is in effect.
    pub fn shared(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Live nodes last seen in Redis (at least 1).
    pub fn live_nodes(&self) -> usize {
        self.live_nodes.load(Ordering::Relaxed).max(1)
    }

    /// Checks (and on success counts) one request.
    pub async fn admit(&self, a: &Admission) -> Verdict {
        if a.buckets.is_empty() && a.quota.is_none() && a.usage_field.is_none() {
            return Verdict::Admitted;
        }
        let Some(redis) = &self.redis else {
            return self.fallback.admit(a, 1, Instant::now());
        };
        if self.up.load(Ordering::Acquire) {
            match tokio::time::timeout(CALL_TIMEOUT, self.invoke(redis.clone(), a)).await {
                Ok(Ok(code)) => {
                    return match code {
                        script::ADMITTED => Verdict::Admitted,
                        script::QUOTA_EXCEEDED => Verdict::QuotaExceeded,
                        _ => Verdict::Throttled,
                    }
                }
                Ok(Err(error)) => self.mark_down(&error.to_string()),
                Err(_) => self.mark_down("admission call timed out"),
            }
        }
        if self.fail_closed {
            return Verdict::Throttled;
        }
        self.fallback.admit(a, self.live_nodes(), Instant::now())
    }

    async fn invoke(&self, mut redis: ConnectionManager, a: &Admission) -> redis::RedisResult<i64> {
        let mut call = self.script.prepare_invoke();
        for (key, _) in &a.buckets {
            call.key(key);
        }
        match &a.quota {
            Some(q) => call.key(&q.key),
            None => call.key(self.key("q:none")),
        };
        call.key(self.key("u"));
        call.arg(a.buckets.len());
        for (_, limit) in &a.buckets {
            call.arg(limit.rate).arg(limit.burst);
        }
        match &a.quota {
            Some(q) => call.arg(q.limit).arg(q.ttl_secs),
            None => call.arg(-1).arg(0),
        };
        call.arg(a.usage_field.as_deref().unwrap_or(""));
        call.invoke_async(&mut redis).await
    }

    fn mark_down(&self, why: &str) {
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                error = why,
                live_nodes = self.live_nodes(),
                fail_closed = self.fail_closed,
                "Redis unreachable: enforcing local shares of every limit until it returns"
            );
        }
    }

    /// Heartbeats into Redis every [`HEARTBEAT_EVERY`] (learning the live-node count) and,
    /// while Redis is down, probes it; on recovery adds the counts admitted meanwhile.
    pub async fn run_heartbeat(self: Arc<Self>) {
        let Some(redis) = self.redis.clone() else {
            return;
        };
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let beat = tokio::time::timeout(CALL_TIMEOUT * 2, self.heartbeat(redis.clone())).await;
            match beat {
                Ok(Ok(n)) => {
                    self.live_nodes.store(n.max(1), Ordering::Relaxed);
                    if !self.up.load(Ordering::Acquire) {
                        self.recover(redis.clone()).await;
                    }
                }
                Ok(Err(error)) => self.mark_down(&error.to_string()),
                Err(_) => self.mark_down("heartbeat timed out"),
            }
        }
    }

    async fn heartbeat(&self, mut redis: ConnectionManager) -> redis::RedisResult<usize> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let key = self.key("nodes");
        let (_, _, n): (i64, i64, usize) = redis::pipe()
            .zadd(&key, &self.node_id, now_ms)
            .zrembyscore(&key, "-inf", now_ms - NODE_TTL.as_millis() as i64)
            .zcard(&key)
            .query_async(&mut redis)
            .await?;
        Ok(n)
    }

    /// Adds what was admitted locally, then switches back to shared enforcement.
    async fn recover(&self, mut redis: ConnectionManager) {
        let pending = self.fallback.take_pending();
        if pending != Pending::default() {
            let mut pipe = redis::pipe();
            pipe.atomic();
            let usage = self.key("u");
            for (field, n) in &pending.usage {
                pipe.hincr(&usage, field, *n).ignore();
            }
            for (key, (n, ttl)) in &pending.quota {
                pipe.incr(key, *n).ignore();
                pipe.expire(key, *ttl).ignore();
            }
            let flushed =
                tokio::time::timeout(CALL_TIMEOUT * 4, pipe.query_async::<()>(&mut redis)).await;
            if !matches!(flushed, Ok(Ok(()))) {
                self.fallback.restore(pending);
                return;
            }
        }
        self.up.store(true, Ordering::Release);
        tracing::info!(
            live_nodes = self.live_nodes(),
            "Redis reachable again: limits are shared by the cluster"
        );
    }
}

#[cfg(test)]
mod tests {
    //! The admission script against a real Redis (`TEST_REDIS_URL`, default the machine's),
    //! each test under its own key prefix.
    use super::*;

    fn redis_url() -> String {
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    fn limiter(url: &str, fail_closed: bool) -> (Limiter, String) {
        let prefix = format!("unit:{}:", uuid::Uuid::new_v4().simple());
        let l = Limiter::new(LimiterConfig {
            redis_url: Some(url.into()),
            prefix: prefix.clone(),
            fail_closed,
            node_id: "unit".into(),
        })
        .unwrap();
        (l, prefix)
    }

    fn admission(l: &Limiter, burst: f64, quota: Option<i64>) -> Admission {
        Admission {
            buckets: vec![(l.key("b:k:p:k"), Limit { rate: 0.0, burst })],
            quota: quota.map(|limit| QuotaCheck {
                key: l.key("q:p:k:0"),
                limit,
                ttl_secs: 60,
            }),
            usage_field: Some("p|k|2026-11-22".into()),
        }
    }

    #[tokio::test]
    async fn script_takes_tokens_counts_quota_and_usage_atomically() {
        let (l, prefix) = limiter(&redis_url(), false);
        let a = admission(&l, 3.0, Some(5));
        let mut verdicts = Vec::new();
        for _ in 0..5 {
            verdicts.push(l.admit(&a).await);
        }
        assert_eq!(
            verdicts,
            [
                Verdict::Admitted,
                Verdict::Admitted,
                Verdict::Admitted,
                Verdict::Throttled,
                Verdict::Throttled
            ]
        );
        let mut redis = redis::Client::open(redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let used: i64 = redis::cmd("HGET")
            .arg(format!("{prefix}u"))
            .arg("p|k|2026-11-22")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(used, 3, "throttled requests are not counted");
        let quota: i64 = redis::cmd("GET")
            .arg(format!("{prefix}q:p:k:0"))
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(quota, 3);
        // The quota is checked before the buckets and never over-admits.
        let b = admission(&l, 100.0, Some(5));
        let b = Admission {
            buckets: vec![(l.key("b:other"), b.buckets[0].1)],
            ..b
        };
        assert_eq!(l.admit(&b).await, Verdict::Admitted);
        assert_eq!(l.admit(&b).await, Verdict::Admitted);
        assert_eq!(l.admit(&b).await, Verdict::QuotaExceeded);
        let _: () = redis::cmd("DEL")
            .arg(format!("{prefix}u"))
            .arg(format!("{prefix}q:p:k:0"))
            .arg(format!("{prefix}b:k:p:k"))
            .arg(format!("{prefix}b:other"))
            .query_async(&mut redis)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn unreachable_redis_falls_back_or_fails_closed() {
        // Nothing listens on port 1.
        let (open, _) = limiter("redis://127.0.0.1:1", false);
        let a = admission(&open, 2.0, None);
        assert_eq!(open.admit(&a).await, Verdict::Admitted);
        assert!(!open.shared(), "marked down after the failed call");
        assert_eq!(open.admit(&a).await, Verdict::Admitted);
        assert_eq!(open.admit(&a).await, Verdict::Throttled, "local burst of 2");
        let (closed, _) = limiter("redis://127.0.0.1:1", true);
        let a = admission(&closed, 2.0, None);
        assert_eq!(closed.admit(&a).await, Verdict::Throttled);
    }
}
