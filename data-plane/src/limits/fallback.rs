//! Local limits while Redis is unreachable: each node enforces its share of every limit
//! (rate, burst and quota divided by the number of live nodes last seen in Redis), and
//! keeps the usage and quota counts it admitted so they are added to Redis when it returns.
//! One short-lived `std` mutex per map; never held across an await.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::bucket::{Bucket, Limit};
use super::{Admission, Verdict};

/// Counts admitted while Redis was down, to be added to Redis on recovery.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Usage hash field → requests.
    pub usage: HashMap<String, i64>,
    /// Quota counter key → requests (with the counter's TTL).
    pub quota: HashMap<String, (i64, i64)>,
}

/// The local state.
#[derive(Debug, Default)]
pub struct Fallback {
    buckets: Mutex<HashMap<String, Bucket>>,
    quota: Mutex<HashMap<String, i64>>,
    pending: Mutex<Pending>,
}

impl Fallback {
    /// Checks `a` against the local share of its limits (`nodes` live nodes); on admission
    /// records the usage and quota counts for later (quota counters under `prefix`).
    pub fn admit(&self, a: &Admission<'_>, nodes: usize, prefix: &str, now: Instant) -> Verdict {
        let nodes = nodes.max(1);
        let quota_key = a.quota.as_ref().map(|q| (q, q.redis_key(prefix)));
        if let Some((q, key)) = &quota_key {
            let share = (q.limit + nodes as i64 - 1) / nodes as i64;
            let used = self
                .quota
                .lock()
                .map(|m| m.get(key).copied().unwrap_or(0))
                .unwrap_or(0);
            if used >= share {
                return Verdict::QuotaExceeded;
            }
        }
        {
            let Ok(mut buckets) = self.buckets.lock() else {
                return Verdict::Admitted;
            };
            let mut tokens = Vec::with_capacity(a.buckets.len());
            for b in &a.buckets {
                let share: Limit = b.limit.share(nodes);
                let t = match buckets.get(b.name.as_ref()) {
                    Some(bucket) => bucket.available(share, now),
                    None => share.burst,
                };
                if t < 1.0 {
                    return Verdict::Throttled;
                }
                tokens.push(t);
            }
            for (b, t) in a.buckets.iter().zip(tokens) {
                let share = b.limit.share(nodes);
                buckets
                    .entry(b.name.to_string())
                    .or_insert_with(|| Bucket::full(share, now))
                    .set(t - 1.0, now);
            }
        }
        if let Some((_, key)) = &quota_key {
            if let Ok(mut m) = self.quota.lock() {
                *m.entry(key.clone()).or_default() += 1;
            }
        }
        if let Ok(mut p) = self.pending.lock() {
            if let Some((q, key)) = quota_key {
                let e = p.quota.entry(key).or_insert((0, q.ttl_secs));
                e.0 += 1;
            }
            if let Some(usage) = &a.usage {
                *p.usage.entry(usage.field()).or_default() += 1;
            }
        }
        Verdict::Admitted
    }

    /// Takes the counts not yet added to Redis (and forgets the local quota shares: Redis
    /// is authoritative again).
    pub fn take_pending(&self) -> Pending {
        if let Ok(mut q) = self.quota.lock() {
            q.clear();
        }
        if let Ok(mut b) = self.buckets.lock() {
            b.clear();
        }
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    /// Puts counts back after a failed flush.
    pub fn restore(&self, back: Pending) {
        if let Ok(mut p) = self.pending.lock() {
            for (k, n) in back.usage {
                *p.usage.entry(k).or_default() += n;
            }
            for (k, (n, ttl)) in back.quota {
                p.quota.entry(k).or_insert((0, ttl)).0 += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{BucketCheck, QuotaCheck, UsageCount};

    fn admission(quota: Option<i64>) -> Admission<'static> {
        Admission {
            buckets: vec![BucketCheck {
                name: "b".into(),
                limit: Limit {
                    rate: 0.0,
                    burst: 30.0,
                },
            }],
            quota: quota.map(|limit| QuotaCheck {
                name: "q:".into(),
                period_start: 0,
                limit,
                ttl_secs: 10,
            }),
            usage: Some(UsageCount {
                prefix: "p|k|".into(),
                day: time::macros::date!(2026 - 11 - 22),
            }),
        }
    }

    #[test]
    fn local_share_of_the_burst_and_pending_counts() {
        let f = Fallback::default();
        let now = Instant::now();
        let a = admission(None);
        let admitted = (0..100)
            .filter(|_| f.admit(&a, 3, "P:", now) == Verdict::Admitted)
            .count();
        assert_eq!(admitted, 10, "a third of the burst");
        let p = f.take_pending();
        assert_eq!(p.usage["p|k|2026-11-22"], 10);
        assert!(f.take_pending().usage.is_empty());
        f.restore(p);
        assert_eq!(f.take_pending().usage["p|k|2026-11-22"], 10);
    }

    #[test]
    fn local_share_of_the_quota() {
        let f = Fallback::default();
        let now = Instant::now();
        let a = admission(Some(10));
        let verdicts: Vec<Verdict> = (0..6).map(|_| f.admit(&a, 2, "P:", now)).collect();
        assert_eq!(
            verdicts.iter().filter(|v| **v == Verdict::Admitted).count(),
            5
        );
        assert_eq!(verdicts[5], Verdict::QuotaExceeded);
        assert_eq!(f.take_pending().quota["P:q:0"], (5, 10));
    }
}
