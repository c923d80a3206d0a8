//! Step 5, throttling and quota: every token bucket that applies to the request, most
//! specific first — per key per method (the plan's `apiStages[].throttle`), per key (the
//! plan's `throttle`), the stage's method setting (`{path}/{METHOD}`, else `*/*`), the
//! account — plus the key's quota and its usage count, checked and counted in one atomic
//! step by the [`Limits`] implementation (high-rate buckets from node-local leases). Quota exhausted:
//! 429 Limit Exceeded; a bucket empty: 429 Too Many Requests; neither counts as usage.
//!
//! Key names come precompiled from the config (no formatting per request); only a key
//! missing its names, which compilation rules out, would have them built here.

use std::borrow::Cow;
use std::time::SystemTime;

use apigw_proto::config::AccountSettings;

use super::api_key::KeyPlan;
use super::route::Routed;
use crate::compile::usage::KeyNames;
use crate::error::GatewayError;
use crate::limits::{
    Admission, BucketCheck, Limit, Limits, QuotaCheck, UsageCount, Verdict, ACCOUNT_BUCKET,
};
use apigw_quota::{day_of, effective_limit, midnight_epoch};

/// What one request is checked against, at `now`.
pub fn admission<'a>(
    account: Option<&AccountSettings>,
    routed: &'a Routed,
    key: Option<&'a KeyPlan>,
    now: SystemTime,
) -> Admission<'a> {
    let stage = &routed.stage;
    let method = &routed.method;
    let mut admission = Admission {
        buckets: Vec::with_capacity(4),
        quota: None,
        usage: None,
    };
    let epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if let Some(k) = key {
        let plan = &k.plan;
        let names: Option<&'a KeyNames> = plan.names(&k.key_id);
        if let Some(m) = plan
            .stage(&stage.api_id, &stage.stage_name)
            .and_then(|m| m.get(&method.method_key))
        {
            let name = match names.and_then(|n| n.methods.get(m.slot)) {
                Some(n) => Cow::Borrowed(&**n),
                None => Cow::Owned(format!(
                    "b:km:{}:{}:{}:{}:{}",
                    plan.id, k.key_id, stage.api_id, stage.stage_name, method.method_key
                )),
            };
            admission.buckets.push(BucketCheck {
                name,
                limit: m.limit,
            });
        }
        if let Some(limit) = plan.throttle {
            let name = match names {
                Some(n) => Cow::Borrowed(&*n.bucket),
                None => Cow::Owned(format!("b:k:{}:{}", plan.id, k.key_id)),
            };
            admission.buckets.push(BucketCheck { name, limit });
        }
        let today = day_of(epoch);
        if let Some(q) = plan.quota {
            let start = q.period.start_of(today);
            let end = q.period.end_of(today);
            admission.quota = Some(QuotaCheck {
                name: match names {
                    Some(n) => Cow::Borrowed(&*n.quota),
                    None => Cow::Owned(format!("q:{}:{}:", plan.id, k.key_id)),
                },
                period_start: midnight_epoch(start),
                limit: effective_limit(q.period, q.limit, q.offset, plan.created, start),
                ttl_secs: (midnight_epoch(end) - epoch).max(1) + 86_400,
            });
        }
        admission.usage = Some(UsageCount {
            prefix: match names {
                Some(n) => Cow::Borrowed(&*n.usage),
                None => Cow::Owned(format!("{}|{}|", plan.id, k.key_id)),
            },
            day: today,
        });
    }
    if let Some(stage_limit) = &method.stage_throttle {
        admission.buckets.push(BucketCheck {
            name: Cow::Borrowed(&*stage_limit.name),
            limit: stage_limit.limit,
        });
    }
    if let Some(a) = account {
        admission.buckets.push(BucketCheck {
            name: Cow::Borrowed(ACCOUNT_BUCKET),
            limit: Limit {
                rate: a.throttle_rate_limit.max(0.0),
                burst: f64::from(a.throttle_burst_limit.max(0)),
            },
        });
    }
    admission
}

/// Runs the admission check.
pub async fn check<L: Limits>(limiter: &L, admission: &Admission<'_>) -> Result<(), GatewayError> {
    match limiter.admit(admission).await {
        Verdict::Admitted => Ok(()),
        Verdict::Throttled => Err(GatewayError::Throttled),
        Verdict::QuotaExceeded => Err(GatewayError::QuotaExceeded),
    }
}
