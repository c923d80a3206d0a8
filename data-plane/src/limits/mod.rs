//! Cluster-wide limits: token buckets, quotas and usage counts shared by every node through
//! Redis, with local fallback buckets while Redis is unreachable.
//!
//! A request needs at most one admission in an `EVALSHA` of [`script::ADMIT`] (loaded once,
//! re-sent on `NOSCRIPT`), and usually none when only high-rate buckets apply:
//! - **Group commit** ([`batch`]): the admissions of concurrent requests on a node share
//!   calls. At most [`batch::IN_FLIGHT`] (2) calls are in flight per node; a request arriving
//!   while fewer are sends its admission at once, alone (no timer, so a lone request waits
//!   for nothing), and requests arriving meanwhile queue and all go in the next call (up to
//!   [`batch::MAX_BATCH`]). The script runs the admissions of a call one after the other,
//!   each exactly as if alone, in one atomic run: each request gets its own reply and
//!   installs its own leases and memos. A failed or timed-out call ([`CALL_TIMEOUT`], from
//!   when it is sent) sends every request in it to the fallback, as a lone call would; an
//!   admission that raises a script error fails alone. A request that gave up before its
//!   call was sent is left out (and counted nowhere). Metrics: `admissions / calls`
//!   (`apigw_redis_admissions_total`, `apigw_redis_admission_calls_total`) is the mean batch.
//! - **Leases** ([`lease`]): a bucket whose [`lease::lease_size`] `n` is above one (rate ≥
//!   100/s: `n = clamp(⌊rate × 20 ms⌋, 1, ⌊burst⌋)`) is spent from a node-local lease of `n`
//!   tokens granted by the script; the node calls Redis again only when the lease is empty
//!   (about 50 calls/s per busy bucket per node). Leases expire after [`lease::LEASE_TTL`]
//!   (250 ms). This applies to every bucket kind: the account bucket and stage method
//!   settings (the keyless hot path) and high-rate per-key buckets alike.
//! - **Memo**: when the script says a bucket is empty, the node refuses requests for it
//!   without a call until the tokens it asked for are due (at most [`lease::MEMO_MAX`]),
//!   timed from before the call, so time spent queued for a call never lengthens it.
//! - **Keyed requests** (quota, usage count) always need their admission in a call: quota
//!   check and count, usage count and every bucket not served from a lease (including lease
//!   refills) are one atomic admission, so a 429 never counts and quota and usage stay
//!   exact. Buckets are checked most specific first; local tokens are taken before the call
//!   and given back to their lease if the request is then refused, so it is admitted only
//!   with a token from every bucket.
//! - **Used-up quota memo**: when the script says a key's quota is used up, the node
//!   refuses that key (429 Limit Exceeded, counted nowhere) without a call for at most
//!   [`apigw_quota::USED_UP_MEMO`] (1 s), timed from before the call that read the counter,
//!   and only for the same period (`period_start`) and a limit no higher than the one
//!   refused: a raised quota (a new config) or the next period asks Redis at once, and a
//!   counter rewritten by UpdateUsage is in effect on every node 1 s after the write (the
//!   control plane answers UpdateUsage only then). Idle memos are pruned with the bucket
//!   states.
//!
//! **Bounds** (N nodes, lease size n, rate r, burst b, TTL 250 ms).
//! - *Never more tokens than the bucket gave out*: nodes spend only tokens Redis granted.
//!   Leasing only shifts when they are spent, by at most a TTL, so over any window of
//!   length w the cluster admits at most `b + r·w + min(N·n, r·TTL)`: at the window's start
//!   the tokens held in leases were taken at most a TTL earlier, when the bucket held at
//!   most b and has since refilled at most `r·TTL`. With n = 20 ms of rate the excess is
//!   at most `N × 2 %` of one second's rate (and never above 25 %).
//! - *Under-admission at most the unspent leases*: a lease expiring unspent loses at most
//!   `n − 1` tokens; it happens only on a node whose demand for that bucket is below n per
//!   TTL (under 8 % of the rate), i.e. when the bucket is not the limit. A lease refused by
//!   an empty bucket memoises until `min(n, b)` tokens are due, so at most `N·n` refilled
//!   tokens wait in Redis for the next lease at any instant (they are not lost: spent later).
//! - Low-rate buckets (n = 1) are exact, as without leases; keyed checks stay one call.
//! - Cost: about one admission per 20 ms per busy leased bucket per node (≈ 50/s), also
//!   while throttled (the memo waits for a lease's worth of tokens); keyed requests one
//!   admission each (none while their quota is memoised as used up), with concurrent
//!   admissions sharing calls.
//!
//! Redis keys, all under the configured prefix `{P}` so clusters (and tests) sharing a Redis
//! stay apart (on a Redis Cluster `{P}` is a hash tag, so the script's keys share one slot:
//! `apigw_shared_redis`, docs/redis-cluster.md); names below the prefix are built when the config is compiled
//! ([`apigw_gateway::compile::usage`], [`apigw_gateway::compile::CompiledMethod::stage_throttle`]):
//! - `{P}b:acct` — account bucket; `{P}b:s:{api}:{stage}:{method}` — stage method setting;
//!   `{P}b:k:{plan}:{key}` — per key; `{P}b:km:{plan}:{key}:{api}:{stage}:{method}` — per
//!   key per method; `{P}b:ws:{api}:{stage}:{routeKey}` — WebSocket route throttling
//!   ([`apigw_gateway::compile::websocket`]); `{P}b:wsc:{api}:{stage}` — a WebSocket
//!   stage's new connections (`--ws-connect-rate`). Hashes `{t: tokens, ts: ms}`, expiring
//!   once they would be full again.
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

pub mod batch;
pub mod bucket;
pub mod fallback;
pub mod lease;
pub mod script;

pub use apigw_gateway::limits::{
    Admission, BucketCheck, QuotaCheck, UsageCount, Verdict, ACCOUNT_BUCKET,
};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use apigw_shared_redis::{RedisConfigError, RedisTarget, SharedRedis, Timeouts};

use apigw_quota::DayText;
use batch::{Batcher, CallError, Counters, Prepared};
use fallback::{Fallback, Pending};
use lease::{lease_size, LocalBucket, RefillGuard, Ticket};

/// How long one admission call may take before Redis is considered down.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How often the node heartbeats (and probes Redis while it is down).
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
/// A node that has not heartbeated for this long is no longer counted as live.
pub const NODE_TTL: Duration = Duration::from_secs(5);

/// Why the limiter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    /// The Redis URL (or, on a cluster, the key prefix) is invalid.
    #[error(transparent)]
    Config(#[from] RedisConfigError),
}

/// How the limiter is configured.
#[derive(Debug, Clone)]
pub struct LimiterConfig {
    /// Redis (one server or a cluster); `None`: local limits only (a single-node setup).
    pub redis: Option<RedisTarget>,
    /// Prefix of every key (already in its cluster form, [`RedisTarget::key_prefix`]).
    pub prefix: String,
    /// While Redis is down, reject (429) instead of enforcing local shares.
    pub fail_closed: bool,
    /// This node's id (heartbeat member).
    pub node_id: String,
}

/// Where a request's token for one bucket comes from.
enum Source {
    /// Spent from this node's lease.
    Local(Arc<LocalBucket>, Ticket),
    /// Asked from Redis in the script call: `want` tokens (a lease when above one, in which
    /// case `claim` is this node's single in-flight refill of that bucket).
    Remote {
        index: usize,
        state: Arc<LocalBucket>,
        want: u64,
        _claim: Option<RefillGuard>,
    },
}

/// Redis said a key's quota is used up: until `until` (ms, limiter clock), admissions of the
/// same period with a limit no higher are refused without a call.
#[derive(Debug, Clone, Copy)]
struct QuotaMemo {
    period_start: i64,
    limit: i64,
    until: u64,
}

/// Shared limits for one node.
pub struct Limiter {
    redis: Option<SharedRedis>,
    script: redis::Script,
    prefix: String,
    /// `{P}q:none`, `{P}u`: fixed keys, built once.
    quota_none: String,
    usage_key: String,
    fail_closed: bool,
    node_id: String,
    /// Shared enforcement in effect (also read by the batcher: admissions queued when Redis
    /// is marked down fall back without a call).
    up: Arc<AtomicBool>,
    live_nodes: AtomicUsize,
    fallback: Fallback,
    /// Quota counter name → Redis said it is used up ([`QuotaMemo`]).
    quota_memo: RwLock<HashMap<Box<str>, QuotaMemo>>,
    /// Bucket name → this node's lease and memo for it.
    local: RwLock<HashMap<Box<str>, Arc<LocalBucket>>>,
    /// Origin of the millisecond clock leases and memos use.
    epoch: Instant,
    /// Admission script calls made and admissions sent in them (metrics, tests).
    counters: Arc<Counters>,
    /// Groups the admission calls of concurrent requests (started on first use).
    batcher: OnceLock<Batcher>,
    /// Admissions decided while Redis was unreachable (metrics).
    fallbacks: AtomicU64,
}

impl apigw_gateway::limits::Limits for Limiter {
    fn admit<'a>(
        &'a self,
        admission: &'a Admission<'a>,
    ) -> impl std::future::Future<Output = Verdict> + Send + 'a {
        Limiter::admit(self, admission)
    }
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("prefix", &self.prefix)
            .field("up", &self.up.load(Ordering::Relaxed))
            .field("live_nodes", &self.live_nodes.load(Ordering::Relaxed))
            .field("calls", &self.redis_calls())
            .finish()
    }
}

impl Limiter {
    /// The Redis connection (shared by the node's other Redis users), if configured.
    pub fn redis(&self) -> Option<SharedRedis> {
        self.redis.clone()
    }

    /// A node-local limiter (no Redis): every limit enforced by this node alone.
    pub fn local() -> Self {
        Self::build(None, String::new(), false, String::new())
    }

    /// A limiter; connects lazily, so a node starts (on local limits) while Redis is down.
    pub fn new(config: LimiterConfig) -> Result<Self, LimitsError> {
        let redis = match &config.redis {
            Some(target) => Some(target.connect_lazy(Timeouts {
                connect: CALL_TIMEOUT,
                response: CALL_TIMEOUT,
                retries: 0,
            })?),
            None => None,
        };
        Ok(Self::build(
            redis,
            config.prefix,
            config.fail_closed,
            config.node_id,
        ))
    }

    fn build(
        redis: Option<SharedRedis>,
        prefix: String,
        fail_closed: bool,
        node_id: String,
    ) -> Self {
        Limiter {
            up: Arc::new(AtomicBool::new(redis.is_some())),
            redis,
            script: redis::Script::new(script::ADMIT),
            quota_none: format!("{prefix}q:none"),
            usage_key: format!("{prefix}u"),
            prefix,
            fail_closed,
            node_id,
            live_nodes: AtomicUsize::new(1),
            fallback: Fallback::default(),
            quota_memo: RwLock::new(HashMap::new()),
            local: RwLock::new(HashMap::new()),
            epoch: Instant::now(),
            counters: Arc::default(),
            batcher: OnceLock::new(),
            fallbacks: AtomicU64::new(0),
        }
    }

    /// A key under this cluster's prefix (setup and tests; requests use precompiled names).
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

    /// Admission script calls made so far (shows how many requests leases and memos spared).
    pub fn redis_calls(&self) -> u64 {
        self.counters.calls.load(Ordering::Relaxed)
    }

    /// Admissions sent to Redis in those calls: `admissions ÷ calls` is the mean batch
    /// ([`batch`]).
    pub fn redis_admissions(&self) -> u64 {
        self.counters.admissions.load(Ordering::Relaxed)
    }

    /// Admissions decided locally (or refused) because Redis was unreachable.
    pub fn fallback_admissions(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// This node's state for a bucket (created on first use, pruned when idle).
    fn local_state(&self, name: &str) -> Arc<LocalBucket> {
        if let Some(b) = self
            .local
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Arc::clone(b);
        }
        let mut map = self.local.write().unwrap_or_else(|e| e.into_inner());
        Arc::clone(map.entry(name.into()).or_default())
    }

    /// Forgets bucket states that hold no lease, no memo and no request.
    fn prune(&self) {
        let now = self.now_ms();
        self.local
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, b| Arc::strong_count(b) > 1 || !b.idle(now));
        let mut memo = self.quota_memo.write().unwrap_or_else(|e| e.into_inner());
        if !memo.is_empty() {
            memo.retain(|_, m| now < m.until);
        }
    }

    /// Checks (and on success counts) one request.
    pub async fn admit(&self, a: &Admission<'_>) -> Verdict {
        if a.is_empty() {
            return Verdict::Admitted;
        }
        let Some(redis) = &self.redis else {
            return self.fallback.admit(a, 1, &self.prefix, Instant::now());
        };
        if !self.shared() {
            return self.when_down(a);
        }
        // Taken before the call: memos set from its answer are timed from here, so they never
        // outlast what Redis said (USED_UP_MEMO for a quota, the wait for a bucket).
        let asked = self.now_ms();
        if let Some(q) = &a.quota {
            if self.quota_used_up(q, asked) {
                return Verdict::QuotaExceeded;
            }
        }
        let mut sources = Vec::with_capacity(a.buckets.len());
        for (index, bucket) in a.buckets.iter().enumerate() {
            match self.source(index, bucket).await {
                Some(source) => sources.push(source),
                None => {
                    self.give_back(&sources);
                    return Verdict::Throttled;
                }
            }
        }
        let remote = sources.iter().any(|s| matches!(s, Source::Remote { .. }));
        if !remote && a.quota.is_none() && a.usage.is_none() {
            return Verdict::Admitted;
        }
        let batcher = self.batcher.get_or_init(|| {
            Batcher::start(
                redis.clone(),
                self.script.clone(),
                Arc::clone(&self.counters),
                Arc::clone(&self.up),
            )
        });
        let answer = match batcher.admit(self.prepare(a, &sources)).await {
            Ok(answer) => answer,
            Err(error) => return self.call_failed(a, &sources, error.describe()),
        };
        let reply = answer.reply();
        let now = self.now_ms();
        let mut remotes = sources.iter().filter_map(|s| match s {
            Source::Remote { state, want, .. } => Some((state, *want)),
            Source::Local(..) => None,
        });
        match reply.first().copied() {
            Some(script::ADMITTED) => {
                for ((state, want), granted) in remotes.zip(reply.iter().skip(1)) {
                    if want > 1 {
                        state.install((*granted).max(1) as u64 - 1, now);
                    }
                }
                Verdict::Admitted
            }
            Some(script::THROTTLED) => {
                let empty = reply.get(1).map_or(0, |i| (*i).max(1) as usize - 1);
                if let Some((state, _)) = remotes.nth(empty) {
                    let wait = match reply.get(2) {
                        Some(ms) if *ms >= 0 => Duration::from_millis(*ms as u64),
                        _ => lease::MEMO_MAX,
                    };
                    // From before the call: the tokens are due `wait` after Redis looked,
                    // which was later (however long the call queued).
                    state.block_for(asked, wait);
                }
                self.give_back(&sources);
                Verdict::Throttled
            }
            Some(script::QUOTA_EXCEEDED) => {
                self.give_back(&sources);
                if let Some(q) = &a.quota {
                    self.remember_used_up(q, asked);
                }
                Verdict::QuotaExceeded
            }
            Some(script::FAILED) => self.call_failed(a, &sources, "admission script error"),
            _ => self.call_failed(a, &sources, CallError::BadReply.describe()),
        }
    }

    /// Whether Redis said, less than [`apigw_quota::USED_UP_MEMO`] ago, that this quota is
    /// used up for the same period at a limit at least this one's.
    fn quota_used_up(&self, q: &QuotaCheck<'_>, now: u64) -> bool {
        let memo = self.quota_memo.read().unwrap_or_else(|e| e.into_inner());
        if memo.is_empty() {
            return false;
        }
        memo.get(q.name.as_ref()).is_some_and(|m| {
            now < m.until && m.period_start == q.period_start && q.limit <= m.limit
        })
    }

    /// Remembers that the quota was used up when the call asked at `asked`.
    fn remember_used_up(&self, q: &QuotaCheck<'_>, asked: u64) {
        let memo = QuotaMemo {
            period_start: q.period_start,
            limit: q.limit,
            until: asked + apigw_quota::USED_UP_MEMO.as_millis() as u64,
        };
        let mut map = self.quota_memo.write().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(q.name.as_ref()) {
            Some(m) => *m = memo,
            None => {
                map.insert(q.name.as_ref().into(), memo);
            }
        }
    }

    /// Where this request's token for `bucket` comes from; `None`: refused (memo).
    async fn source(&self, index: usize, bucket: &BucketCheck<'_>) -> Option<Source> {
        let state = self.local_state(&bucket.name);
        let now = self.now_ms();
        if state.blocked(now) {
            return None;
        }
        if let Some(ticket) = state.try_take(now) {
            return Some(Source::Local(state, ticket));
        }
        let n = lease_size(bucket.limit);
        if n > 1 {
            if let Some(claim) = state.begin_refill() {
                return Some(Source::Remote {
                    index,
                    state,
                    want: n,
                    _claim: Some(claim),
                });
            }
            // Another request is leasing for this bucket: wait for its tokens.
            state.wait_refill(CALL_TIMEOUT).await;
            let now = self.now_ms();
            if state.blocked(now) {
                return None;
            }
            if let Some(ticket) = state.try_take(now) {
                return Some(Source::Local(state, ticket));
            }
        }
        Some(Source::Remote {
            index,
            state,
            want: 1,
            _claim: None,
        })
    }

    fn give_back(&self, sources: &[Source]) {
        let now = self.now_ms();
        for s in sources {
            if let Source::Local(state, ticket) = s {
                state.give_back(*ticket, now);
            }
        }
    }

    fn call_failed(&self, a: &Admission<'_>, sources: &[Source], why: &str) -> Verdict {
        self.give_back(sources);
        self.mark_down(why);
        self.when_down(a)
    }

    fn when_down(&self, a: &Admission<'_>) -> Verdict {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        if self.fail_closed {
            return Verdict::Throttled;
        }
        self.fallback
            .admit(a, self.live_nodes(), &self.prefix, Instant::now())
    }

    /// The admission's keys and arguments for the script (see [`script`]).
    fn prepare(&self, a: &Admission<'_>, sources: &[Source]) -> Prepared {
        let prefix = self.prefix.as_bytes();
        let mut p = Prepared::new();
        let mut n = 0usize;
        for s in sources {
            if let Source::Remote { index, .. } = s {
                p.key(&[prefix, a.buckets[*index].name.as_bytes()]);
                n += 1;
            }
        }
        match &a.quota {
            Some(q) => p.key_fmt(
                &[prefix, q.name.as_bytes()],
                format_args!("{}", q.period_start),
            ),
            None => p.key(&[self.quota_none.as_bytes()]),
        };
        p.key(&[self.usage_key.as_bytes()]);
        p.arg(format_args!("{n}"));
        for s in sources {
            if let Source::Remote { index, want, .. } = s {
                let limit = a.buckets[*index].limit;
                p.arg(format_args!("{}", limit.rate))
                    .arg(format_args!("{}", limit.burst))
                    .arg(format_args!("{want}"));
            }
        }
        match &a.quota {
            Some(q) => p
                .arg(format_args!("{}", q.limit))
                .arg(format_args!("{}", q.ttl_secs)),
            None => p.arg(format_args!("-1")).arg(format_args!("0")),
        };
        match &a.usage {
            Some(u) => p.arg(format_args!("{}{}", u.prefix, DayText(u.day))),
            None => p.arg_bytes(&[]),
        };
        p
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
    /// while Redis is down, probes it; on recovery adds the counts admitted meanwhile. Also
    /// forgets idle bucket states.
    pub async fn run_heartbeat(self: Arc<Self>) {
        let Some(redis) = self.redis.clone() else {
            return;
        };
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.prune();
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

    async fn heartbeat(&self, mut redis: SharedRedis) -> redis::RedisResult<usize> {
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
    async fn recover(&self, mut redis: SharedRedis) {
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
    //! The admission script, leases and memos against a real Redis (`TEST_REDIS_URL`,
    //! default the machine's), each test under its own key prefix.
    use super::*;
    use bucket::Limit;

    fn redis_url() -> String {
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    fn limiter_with(url: &str, prefix: &str, fail_closed: bool) -> Limiter {
        Limiter::new(LimiterConfig {
            redis: Some(RedisTarget::parse(url).unwrap()),
            prefix: prefix.into(),
            fail_closed,
            node_id: "unit".into(),
        })
        .unwrap()
    }

    fn limiter(url: &str, fail_closed: bool) -> (Limiter, String) {
        let prefix = format!("unit:{}:", uuid::Uuid::new_v4().simple());
        (limiter_with(url, &prefix, fail_closed), prefix)
    }

    fn bucket(name: &'static str, rate: f64, burst: f64) -> BucketCheck<'static> {
        BucketCheck {
            name: name.into(),
            limit: Limit { rate, burst },
        }
    }

    fn admission(burst: f64, quota: Option<i64>) -> Admission<'static> {
        Admission {
            buckets: vec![bucket("b:k:p:k", 0.0, burst)],
            quota: quota.map(|limit| QuotaCheck {
                name: "q:p:k:".into(),
                period_start: 0,
                limit,
                ttl_secs: 60,
            }),
            usage: Some(UsageCount {
                prefix: "p|k|".into(),
                day: time::macros::date!(2026 - 11 - 22),
            }),
        }
    }

    async fn connection() -> redis::aio::MultiplexedConnection {
        redis::Client::open(redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Redis's clock in whole milliseconds, floored as the admission script floors it: the
    /// clock the shared buckets refill by, so bounds on a bucket are measured with it.
    async fn redis_now_ms(redis: &mut redis::aio::MultiplexedConnection) -> u64 {
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(redis).await.unwrap();
        secs * 1000 + micros / 1000
    }

    /// The usage count the tests' admissions record (plan `p`, key `k`, their fixed day).
    async fn usage_count(prefix: &str) -> i64 {
        redis::cmd("HGET")
            .arg(format!("{prefix}u"))
            .arg("p|k|2026-11-22")
            .query_async(&mut connection().await)
            .await
            .unwrap()
    }

    async fn cleanup(prefix: &str) {
        let mut redis = connection().await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut redis)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut redis)
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn script_takes_tokens_counts_quota_and_usage_atomically() {
        let (l, prefix) = limiter(&redis_url(), false);
        let a = admission(3.0, Some(5));
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
        let mut redis = connection().await;
        let used = usage_count(&prefix).await;
        assert_eq!(used, 3, "throttled requests are not counted");
        let quota: i64 = redis::cmd("GET")
            .arg(format!("{prefix}q:p:k:0"))
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(quota, 3);
        // The quota is checked before the buckets and never over-admits.
        let b = Admission {
            buckets: vec![bucket("b:other", 0.0, 100.0)],
            ..admission(100.0, Some(5))
        };
        assert_eq!(l.admit(&b).await, Verdict::Admitted);
        assert_eq!(l.admit(&b).await, Verdict::Admitted);
        assert_eq!(l.admit(&b).await, Verdict::QuotaExceeded);
        cleanup(&prefix).await;
    }

    #[tokio::test]
    async fn concurrent_admissions_share_calls_and_stay_exact() {
        let (l, prefix) = limiter(&redis_url(), false);
        // Quota 40, a key bucket that never runs out: 100 requests at once.
        let a = admission(1000.0, Some(40));
        let verdicts = futures::future::join_all((0..100).map(|_| l.admit(&a))).await;
        let admitted = verdicts.iter().filter(|v| **v == Verdict::Admitted).count();
        let refused = verdicts
            .iter()
            .filter(|v| **v == Verdict::QuotaExceeded)
            .count();
        assert_eq!((admitted, refused), (40, 60), "{verdicts:?}");
        assert!(l.shared(), "no call failed");
        assert_eq!(
            usage_count(&prefix).await,
            40,
            "exactly the admitted counted"
        );
        let quota: i64 = redis::cmd("GET")
            .arg(format!("{prefix}q:p:k:0"))
            .query_async(&mut connection().await)
            .await
            .unwrap();
        assert_eq!(quota, 40);
        // All 100 were queued before the driver ran: they went in one call (or a few,
        // at most MAX_BATCH each).
        assert_eq!(l.redis_admissions(), 100);
        let calls = l.redis_calls();
        assert!(
            (1..=100usize.div_ceil(batch::MAX_BATCH) as u64).contains(&calls),
            "{calls} calls for 100 admissions"
        );
        cleanup(&prefix).await;
    }

    #[tokio::test]
    async fn a_failing_admission_leaves_the_others_of_its_call_alone() {
        let (l, prefix) = limiter(&redis_url(), false);
        // Admission `bad`'s quota counter holds a hash: its GET fails inside the script.
        let _: () = redis::cmd("HSET")
            .arg(format!("{prefix}q:bad:0"))
            .arg("x")
            .arg(1)
            .query_async(&mut connection().await)
            .await
            .unwrap();
        let good = admission(10.0, Some(10));
        let bad = Admission {
            quota: Some(QuotaCheck {
                name: "q:bad:".into(),
                period_start: 0,
                limit: 10,
                ttl_secs: 60,
            }),
            usage: None,
            ..admission(10.0, None)
        };
        let (g, b, g2) = tokio::join!(l.admit(&good), l.admit(&bad), l.admit(&good));
        assert_eq!(l.redis_calls(), 1, "one call for the three");
        assert_eq!((g, g2), (Verdict::Admitted, Verdict::Admitted));
        // The failing one is decided as when a call fails: Redis marked down, local share.
        assert_eq!(b, Verdict::Admitted);
        assert!(!l.shared());
        assert_eq!(l.fallback_admissions(), 1);
        assert_eq!(usage_count(&prefix).await, 2, "the others were counted");
        cleanup(&prefix).await;
    }

    #[tokio::test]
    async fn used_up_quota_is_remembered_unless_raised() {
        let (l, prefix) = limiter(&redis_url(), false);
        let a = admission(1000.0, Some(2));
        assert_eq!(l.admit(&a).await, Verdict::Admitted);
        assert_eq!(l.admit(&a).await, Verdict::Admitted);
        let before = l.now_ms();
        assert_eq!(l.admit(&a).await, Verdict::QuotaExceeded);
        let calls = l.redis_calls();
        for _ in 0..20 {
            assert_eq!(l.admit(&a).await, Verdict::QuotaExceeded);
        }
        // No call unless the loop outlasted the memo (a loaded machine may pause it).
        let allowed = (l.now_ms() - before) / apigw_quota::USED_UP_MEMO.as_millis() as u64;
        assert!(
            l.redis_calls() - calls <= allowed,
            "refused from the memo: {} calls",
            l.redis_calls() - calls
        );
        // A raised limit (a new config) asks Redis again at once.
        let raised = admission(1000.0, Some(3));
        assert_eq!(l.admit(&raised).await, Verdict::Admitted);
        // So does the next period (another counter).
        let mut next = admission(1000.0, Some(2));
        if let Some(q) = &mut next.quota {
            q.period_start = 86_400;
        }
        assert_eq!(l.admit(&next).await, Verdict::Admitted);
        assert_eq!(usage_count(&prefix).await, 4);
        cleanup(&prefix).await;
    }

    #[tokio::test]
    async fn high_rate_buckets_are_spent_from_leases() {
        let (l, prefix) = limiter(&redis_url(), false);
        // Rate 1000/s: leases of 20 tokens; the burst (1000) is never the limit here.
        let a = Admission {
            buckets: vec![
                bucket("b:s:a:prod:/GET", 1000.0, 1000.0),
                bucket(ACCOUNT_BUCKET, 5000.0, 5000.0),
            ],
            ..Admission::default()
        };
        let mut redis = connection().await;
        let redis_before = redis_now_ms(&mut redis).await;
        let before = l.now_ms();
        for _ in 0..100 {
            assert_eq!(l.admit(&a).await, Verdict::Admitted);
        }
        let took = l.now_ms() - before;
        let redis_after = redis_now_ms(&mut redis).await;
        assert!(
            l.shared(),
            "Redis answered every call within {CALL_TIMEOUT:?}"
        );
        // 100 ÷ 20 leases of the stage bucket (the account lease of 100 is taken in the
        // first of those calls and lasts). A lease expires unspent only LEASE_TTL after it
        // was granted, by the limiter's own clock, and then costs at most one more call
        // (19 tokens lost from a stage lease, or a new account lease): at most one expiry
        // of each bucket per TTL of the loop. Exactly 5 when the loop took less.
        let expiries = 2 * took / lease::LEASE_TTL.as_millis() as u64;
        let calls = l.redis_calls();
        assert!(
            (5..=5 + expiries).contains(&calls),
            "{calls} calls for 100 requests in {took} ms"
        );
        let left: f64 = redis::cmd("HGET")
            .arg(format!("{prefix}b:s:a:prod:/GET"))
            .arg("t")
            .query_async(&mut redis)
            .await
            .unwrap();
        // Redis refills the bucket (1 token per ms) by its own clock between the first and
        // the last call, both within [redis_before, redis_after]: measured with the same
        // clock and rounding, this is exact.
        let refilled = (redis_after - redis_before) as f64;
        assert!(
            left <= 900.0 + refilled,
            "the leases were taken from Redis: {left} left, {refilled} refilled"
        );
        cleanup(&prefix).await;
    }

    #[tokio::test]
    async fn nodes_never_spend_more_than_the_shared_bucket_gave() {
        let prefix = format!("unit:{}:", uuid::Uuid::new_v4().simple());
        let nodes: Vec<Limiter> = (0..3)
            .map(|_| limiter_with(&redis_url(), &prefix, false))
            .collect();
        // Rate 100/s, burst 30: leases of 2.
        let a = Admission {
            buckets: vec![bucket(ACCOUNT_BUCKET, 100.0, 30.0)],
            ..Admission::default()
        };
        let mut redis = connection().await;
        let redis_before = redis_now_ms(&mut redis).await;
        let mut admitted = 0u32;
        for i in 0..300 {
            if nodes[i % 3].admit(&a).await == Verdict::Admitted {
                admitted += 1;
            }
        }
        let redis_after = redis_now_ms(&mut redis).await;
        assert!(
            nodes.iter().all(Limiter::shared),
            "Redis answered every call within {CALL_TIMEOUT:?}"
        );
        // The burst plus what Redis refilled by its own clock (whole ms, as the script
        // counts them) between the first and the last call.
        let bound = 30.0 + 100.0 * (redis_after - redis_before) as f64 / 1000.0;
        assert!(f64::from(admitted) <= bound, "{admitted} > {bound}");
        assert!(admitted >= 30, "the burst is available: {admitted}");
        cleanup(&prefix).await;
    }

    #[tokio::test]
    async fn empty_bucket_is_remembered_until_a_token_is_due() {
        let (l, prefix) = limiter(&redis_url(), false);
        // Rate one an hour, burst 2: the third request is refused, with the next token
        // an hour away, so the memo lasts its longest (MEMO_MAX), and no token comes
        // however slowly this runs.
        let a = Admission {
            buckets: vec![bucket("b:k:p:k", 1.0 / 3600.0, 2.0)],
            ..Admission::default()
        };
        assert_eq!(l.admit(&a).await, Verdict::Admitted);
        assert_eq!(l.admit(&a).await, Verdict::Admitted);
        let before = l.now_ms();
        assert_eq!(l.admit(&a).await, Verdict::Throttled);
        let calls = l.redis_calls();
        for _ in 0..20 {
            assert_eq!(l.admit(&a).await, Verdict::Throttled);
        }
        // The memo set by the third request's answer lasts MEMO_MAX by the limiter's own
        // clock; each call after it sets a new one. No call at all unless the loop outlasted
        // it (it takes microseconds, but a loaded machine may pause it).
        let allowed = (l.now_ms() - before) / lease::MEMO_MAX.as_millis() as u64;
        assert!(
            l.redis_calls() - calls <= allowed,
            "refused from the memo, no Redis call: {} calls",
            l.redis_calls() - calls
        );
        cleanup(&prefix).await;
    }

    #[tokio::test]
    async fn local_tokens_go_back_when_another_bucket_refuses() {
        // The account lease expires LEASE_TTL after it was granted, by the limiter's own
        // clock, and the two refused requests below each make a Redis call meanwhile. What
        // the lease holds is checked only on a run that stayed within the TTL (by that
        // clock); a loaded machine that paused one gets a fresh try, with a fresh limiter.
        let ttl = lease::LEASE_TTL.as_millis() as u64;
        for attempt in 1.. {
            let (l, prefix) = limiter(&redis_url(), false);
            // A key bucket with one token (no refill) and a leased account bucket (lease 20).
            let a = Admission {
                buckets: vec![
                    bucket("b:k:p:k", 0.0, 1.0),
                    bucket(ACCOUNT_BUCKET, 1000.0, 1000.0),
                ],
                ..admission(1.0, None)
            };
            let started = l.now_ms();
            assert_eq!(l.admit(&a).await, Verdict::Admitted);
            let account = l.local_state(ACCOUNT_BUCKET);
            let held = account.available(l.now_ms());
            let second = l.admit(&a).await;
            let after_second = account.available(l.now_ms());
            let third = l.admit(&a).await;
            let after_third = account.available(l.now_ms());
            let within_ttl = l.now_ms() - started < ttl;
            // Whatever the timing: the key bucket refuses, and refused requests never count.
            assert_eq!(second, Verdict::Throttled, "the key bucket is empty");
            assert_eq!(third, Verdict::Throttled);
            let used = usage_count(&prefix).await;
            assert_eq!(used, 1, "refused requests never count");
            cleanup(&prefix).await;
            if within_ttl {
                assert_eq!(held, 19, "leased 20, spent 1");
                assert_eq!(after_second, held, "the account token was given back");
                assert_eq!(after_third, held);
                return;
            }
            assert!(
                attempt < 20,
                "20 runs of three admissions each outlasted the lease TTL ({ttl} ms)"
            );
        }
    }

    #[tokio::test]
    async fn unreachable_redis_falls_back_or_fails_closed() {
        // Nothing listens on port 1.
        let (open, _) = limiter("redis://127.0.0.1:1", false);
        let a = admission(2.0, None);
        assert_eq!(open.admit(&a).await, Verdict::Admitted);
        assert!(!open.shared(), "marked down after the failed call");
        assert_eq!(open.admit(&a).await, Verdict::Admitted);
        assert_eq!(open.admit(&a).await, Verdict::Throttled, "local burst of 2");
        let (closed, _) = limiter("redis://127.0.0.1:1", true);
        let a = admission(2.0, None);
        assert_eq!(closed.admit(&a).await, Verdict::Throttled);
        // Leased buckets fall back too: rate 100/s (leases of 2), burst 3.
        let (leased, _) = limiter("redis://127.0.0.1:1", false);
        let a = Admission {
            buckets: vec![bucket(ACCOUNT_BUCKET, 100.0, 3.0)],
            ..Admission::default()
        };
        let started = Instant::now();
        let mut n = 0;
        for _ in 0..10 {
            if leased.admit(&a).await == Verdict::Admitted {
                n += 1;
            }
        }
        let bound = 3.0 + 100.0 * started.elapsed().as_secs_f64();
        assert!(
            f64::from(n) <= bound,
            "the local share of the burst: {n} > {bound}"
        );
        assert!(n >= 3, "the local burst is served: {n}");
    }
}
