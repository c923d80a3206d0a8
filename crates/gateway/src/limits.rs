//! The admission contract between the throttle phase and whoever keeps the counters:
//! what one request is checked against ([`Admission`]: token buckets most specific first,
//! the key's quota, the usage count to add) and the answer ([`Verdict`]). The engine builds
//! admissions from the compiled config; an implementation of [`Limits`] decides them. The
//! data-plane node's is shared through Redis; [`Unlimited`] admits everything (test
//! invocations, which bypass throttling as API Gateway's do).

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use apigw_quota::DayText;
use time::Date;

/// The account bucket's key name (under the prefix).
pub const ACCOUNT_BUCKET: &str = "b:acct";

/// A bucket's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Refill per second.
    pub rate: f64,
    /// Capacity.
    pub burst: f64,
}

impl Limit {
    /// This limit divided among `nodes` (the local share while Redis is unreachable);
    /// a share of the burst below one token is rounded up so a node can still admit.
    pub fn share(self, nodes: usize) -> Limit {
        let n = nodes.max(1) as f64;
        Limit {
            rate: self.rate / n,
            burst: if self.burst > 0.0 {
                (self.burst / n).max(1.0)
            } else {
                0.0
            },
        }
    }
}

/// A shared bucket's limit with its Redis key name (without the cluster prefix), built once
/// when the config is compiled so requests never format key names.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedLimit {
    /// Key name under the prefix, e.g. `b:s:{api}:{stage}:{/path/METHOD}`.
    pub name: Arc<str>,
    /// The bucket's limit.
    pub limit: Limit,
}

/// One token bucket a request is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketCheck<'a> {
    /// Key name under the prefix (precompiled; borrowed from the config).
    pub name: Cow<'a, str>,
    /// Rate and burst.
    pub limit: Limit,
}

/// A quota to check and count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaCheck<'a> {
    /// Counter name under the prefix without the period: `q:{plan}:{key}:`.
    pub name: Cow<'a, str>,
    /// Epoch seconds of the period's start (ends the counter's name).
    pub period_start: i64,
    /// Requests allowed in the period.
    pub limit: i64,
    /// Counter TTL (until a day after the period ends).
    pub ttl_secs: i64,
}

impl QuotaCheck<'_> {
    /// The counter's full Redis key (built only off the hot path: outages, tests).
    pub fn redis_key(&self, prefix: &str) -> String {
        format!("{prefix}{}{}", self.name, self.period_start)
    }
}

/// A usage count to add on admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCount<'a> {
    /// `{plan}|{key}|` (precompiled).
    pub prefix: Cow<'a, str>,
    /// The UTC day counted.
    pub day: Date,
}

impl UsageCount<'_> {
    /// The usage hash field `{plan}|{key}|{YYYY-MM-DD}` (built only off the hot path).
    pub fn field(&self) -> String {
        format!("{}{}", self.prefix, DayText(self.day))
    }
}

/// Everything one request is checked against.
#[derive(Debug, Clone, Default)]
pub struct Admission<'a> {
    /// Buckets, most specific first.
    pub buckets: Vec<BucketCheck<'a>>,
    /// The key's quota, if its plan has one.
    pub quota: Option<QuotaCheck<'a>>,
    /// Usage to count on admission, if a key is involved.
    pub usage: Option<UsageCount<'a>>,
}

impl Admission<'_> {
    /// Whether nothing applies (the request is admitted without a check).
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty() && self.quota.is_none() && self.usage.is_none()
    }
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

/// Decides admissions. Called once per request that passed the API-key step.
pub trait Limits: Send + Sync + 'static {
    /// Checks and, when admitted, counts `admission` (atomically: a refused request counts
    /// nowhere).
    fn admit<'a>(
        &'a self,
        admission: &'a Admission<'a>,
    ) -> impl Future<Output = Verdict> + Send + 'a;
}

/// Admits every request and counts nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unlimited;

impl Limits for Unlimited {
    async fn admit<'a>(&'a self, _admission: &'a Admission<'a>) -> Verdict {
        Verdict::Admitted
    }
}
