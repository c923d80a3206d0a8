//! Step 5, throttling and quota: every token bucket that applies to the request, most
//! specific first — per key per method (the plan's `apiStages[].throttle`), per key (the
//! plan's `throttle`), the stage's method setting (`{path}/{METHOD}`, else `*/*`), the
//! account — plus the key's quota and its usage count, checked and counted in one atomic
//! step by the [`Limiter`]. Quota exhausted: 429 Limit Exceeded; a bucket empty: 429 Too
//! Many Requests; neither counts as usage.

use std::time::SystemTime;

use apigw_proto::config::AccountSettings;

use super::api_key::KeyPlan;
use super::gateway_response::GatewayError;
use super::route::Routed;
use crate::limits::bucket::Limit;
use crate::limits::period::{day_of, day_text, effective_limit, midnight_epoch};
use crate::limits::{Admission, Limiter, QuotaCheck, Verdict};

/// What one request is checked against, at `now`.
pub fn admission(
    limiter: &Limiter,
    account: Option<&AccountSettings>,
    routed: &Routed,
    key: Option<&KeyPlan>,
    now: SystemTime,
) -> Admission {
    let stage = &routed.stage;
    let method = &routed.method;
    let mut buckets = Vec::with_capacity(4);
    let mut quota = None;
    let mut usage_field = None;
    let epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if let Some(k) = key {
        let plan = &k.plan;
        if let Some(limit) = plan
            .stage(&stage.api_id, &stage.stage_name)
            .and_then(|m| m.get(&method.method_key))
        {
            buckets.push((
                limiter.key(&format!(
                    "b:km:{}:{}:{}:{}:{}",
                    plan.id, k.key_id, stage.api_id, stage.stage_name, method.method_key
                )),
                *limit,
            ));
        }
        if let Some(limit) = plan.throttle {
            buckets.push((limiter.key(&format!("b:k:{}:{}", plan.id, k.key_id)), limit));
        }
        let today = day_of(epoch);
        if let Some(q) = plan.quota {
            let start = q.period.start_of(today);
            let end = q.period.end_of(today);
            quota = Some(QuotaCheck {
                key: limiter.key(&format!(
                    "q:{}:{}:{}",
                    plan.id,
                    k.key_id,
                    midnight_epoch(start)
                )),
                limit: effective_limit(q.period, q.limit, q.offset, plan.created, start),
                ttl_secs: (midnight_epoch(end) - epoch).max(1) + 86_400,
            });
        }
        usage_field = Some(format!("{}|{}|{}", plan.id, k.key_id, day_text(today)));
    }
    if let Some(limit) = method.stage_throttle {
        buckets.push((
            limiter.key(&format!(
                "b:s:{}:{}:{}",
                stage.api_id, stage.stage_name, method.method_key
            )),
            limit,
        ));
    }
    if let Some(a) = account {
        buckets.push((
            limiter.key("b:acct"),
            Limit {
                rate: a.throttle_rate_limit.max(0.0),
                burst: f64::from(a.throttle_burst_limit.max(0)),
            },
        ));
    }
    Admission {
        buckets,
        quota,
        usage_field,
    }
}

/// Runs the admission check.
pub async fn check(limiter: &Limiter, admission: &Admission) -> Result<(), GatewayError> {
    match limiter.admit(admission).await {
        Verdict::Admitted => Ok(()),
        Verdict::Throttled => Err(GatewayError::Throttled),
        Verdict::QuotaExceeded => Err(GatewayError::QuotaExceeded),
    }
}
