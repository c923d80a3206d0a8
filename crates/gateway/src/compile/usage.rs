//! API keys and usage plans in the form the API-key and throttling steps use: keys by the
//! SHA-256 of their value, each with its plans already resolved, every limit parsed, and
//! the Redis names of each key's buckets, quota counter and usage field built here once
//! (below the cluster prefix; see [`crate::limits`]) so requests never format them.

use std::collections::HashMap;
use std::sync::Arc;

use apigw_proto::config as pb;

use crate::limits::Limit;
use apigw_quota::Period;

/// A plan's quota.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// Requests per period.
    pub limit: i64,
    /// Subtracted from the limit in the first period.
    pub offset: i64,
    /// The period unit.
    pub period: Period,
}

/// A usage plan.
#[derive(Debug)]
pub struct CompiledPlan {
    /// Plan id.
    pub id: Box<str>,
    /// Per-key bucket.
    pub throttle: Option<Limit>,
    /// Per-key quota.
    pub quota: Option<Quota>,
    /// Epoch seconds of the plan's creation (the quota offset's period).
    pub created: i64,
    /// api id → stage → per-method buckets.
    stages: HashMap<Box<str>, HashMap<Box<str>, MethodLimits>>,
    /// Key id → Redis names of that key's state under this plan.
    keys: HashMap<Box<str>, KeyNames>,
}

/// A per-key per-method limit of a plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodLimit {
    /// Rate and burst.
    pub limit: Limit,
    /// Index of its bucket name in [`KeyNames::methods`].
    pub slot: usize,
}

/// `/{path}/{METHOD}` → per-key per-method bucket.
pub type MethodLimits = HashMap<Box<str>, MethodLimit>;

/// Redis names (below the prefix) of one key's state under one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    /// Per-key bucket: `b:k:{plan}:{key}`.
    pub bucket: Box<str>,
    /// Per-key per-method buckets by [`MethodLimit::slot`]:
    /// `b:km:{plan}:{key}:{api}:{stage}:{/path/METHOD}`.
    pub methods: Vec<Box<str>>,
    /// Quota counter without its period: `q:{plan}:{key}:`.
    pub quota: Box<str>,
    /// Usage hash field without its day: `{plan}|{key}|`.
    pub usage: Box<str>,
}

impl KeyNames {
    fn new(plan: &str, key: &str, slots: &[String]) -> Self {
        KeyNames {
            bucket: format!("b:k:{plan}:{key}").into(),
            methods: slots
                .iter()
                .map(|m| format!("b:km:{plan}:{key}:{m}").into())
                .collect(),
            quota: format!("q:{plan}:{key}:").into(),
            usage: format!("{plan}|{key}|").into(),
        }
    }
}

impl CompiledPlan {
    /// Whether the plan covers the API stage; the per-method limits if so.
    pub fn stage(&self, api_id: &str, stage: &str) -> Option<&MethodLimits> {
        self.stages.get(api_id)?.get(stage)
    }

    /// The Redis names of a key's state under this plan (every key in the plan has them).
    pub fn names(&self, key_id: &str) -> Option<&KeyNames> {
        self.keys.get(key_id)
    }
}

/// An API key.
#[derive(Debug)]
pub struct CompiledKey {
    /// Key id (usage records, logs).
    pub id: Box<str>,
    /// Disabled keys are refused.
    pub enabled: bool,
    /// The plans the key is in.
    pub plans: Vec<Arc<CompiledPlan>>,
}

/// Every key and plan.
#[derive(Debug, Default)]
pub struct CompiledUsage {
    keys: HashMap<[u8; 32], CompiledKey>,
}

impl CompiledUsage {
    /// The key whose value hashes to `hash`.
    pub fn key(&self, hash: &[u8; 32]) -> Option<&CompiledKey> {
        self.keys.get(hash)
    }

    /// How many keys are known (logs).
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }
}

fn limit(t: &pb::ThrottleLimit) -> Limit {
    Limit {
        rate: t.rate_limit.max(0.0),
        burst: f64::from(t.burst_limit.max(0)),
    }
}

/// Compiles the streamed usage config. Malformed entries (a hash that is not 32 bytes, an
/// unknown quota period) are skipped with a warning: the control plane validated them.
pub fn compile_usage(config: &pb::UsageConfig) -> CompiledUsage {
    let mut members: HashMap<&str, Vec<&str>> = HashMap::new();
    for k in &config.api_keys {
        for plan in &k.plan_ids {
            members
                .entry(plan.as_str())
                .or_default()
                .push(k.id.as_str());
        }
    }
    let plans: HashMap<&str, Arc<CompiledPlan>> = config
        .usage_plans
        .iter()
        .map(|p| {
            let quota = p.quota.as_ref().and_then(|q| {
                let period = Period::parse(&q.period);
                if period.is_none() {
                    tracing::warn!(plan = %p.id, period = %q.period, "unknown quota period; quota ignored");
                }
                period.map(|period| Quota {
                    limit: q.limit,
                    offset: q.offset,
                    period,
                })
            });
            let mut stages: HashMap<Box<str>, HashMap<Box<str>, MethodLimits>> = HashMap::new();
            // `{api}:{stage}:{/path/METHOD}` per slot, for the per-key per-method names.
            let mut slots: Vec<String> = Vec::new();
            for s in &p.api_stages {
                let mut methods = MethodLimits::with_capacity(s.method_throttle.len());
                for (m, t) in &s.method_throttle {
                    methods.insert(
                        m.as_str().into(),
                        MethodLimit {
                            limit: limit(t),
                            slot: slots.len(),
                        },
                    );
                    slots.push(format!("{}:{}:{m}", s.api_id, s.stage));
                }
                stages
                    .entry(s.api_id.as_str().into())
                    .or_default()
                    .insert(s.stage.as_str().into(), methods);
            }
            let keys = members
                .get(p.id.as_str())
                .into_iter()
                .flatten()
                .map(|key| ((*key).into(), KeyNames::new(&p.id, key, &slots)))
                .collect();
            let plan = CompiledPlan {
                id: p.id.as_str().into(),
                throttle: p.throttle.as_ref().map(limit),
                quota,
                created: p.created_date,
                stages,
                keys,
            };
            (p.id.as_str(), Arc::new(plan))
        })
        .collect();
    let mut keys = HashMap::with_capacity(config.api_keys.len());
    for k in &config.api_keys {
        let Ok(hash) = <[u8; 32]>::try_from(k.value_hash.as_slice()) else {
            tracing::warn!(key = %k.id, "API key hash is not 32 bytes; key ignored");
            continue;
        };
        keys.insert(
            hash,
            CompiledKey {
                id: k.id.as_str().into(),
                enabled: k.enabled,
                plans: k
                    .plan_ids
                    .iter()
                    .filter_map(|id| plans.get(id.as_str()).cloned())
                    .collect(),
            },
        );
    }
    CompiledUsage { keys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_resolve_to_their_plans() {
        let config = pb::UsageConfig {
            api_keys: vec![
                pb::ApiKeyEntry {
                    id: "k1".into(),
                    value_hash: vec![7; 32],
                    enabled: true,
                    plan_ids: vec!["p1".into(), "gone".into()],
                },
                pb::ApiKeyEntry {
                    id: "bad".into(),
                    value_hash: vec![1; 3],
                    ..Default::default()
                },
            ],
            usage_plans: vec![pb::UsagePlanConfig {
                id: "p1".into(),
                throttle: Some(pb::ThrottleLimit {
                    rate_limit: 2.5,
                    burst_limit: 5,
                }),
                quota: Some(pb::QuotaLimit {
                    limit: 100,
                    offset: 0,
                    period: "WEEK".into(),
                }),
                api_stages: vec![pb::PlanApiStage {
                    api_id: "a".into(),
                    stage: "prod".into(),
                    method_throttle: [(
                        "/pets/GET".to_string(),
                        pb::ThrottleLimit {
                            rate_limit: 1.0,
                            burst_limit: 1,
                        },
                    )]
                    .into(),
                }],
                created_date: 0,
            }],
        };
        let usage = compile_usage(&config);
        assert_eq!(usage.key_count(), 1);
        let key = usage.key(&[7; 32]).unwrap();
        assert_eq!(key.plans.len(), 1);
        let plan = &key.plans[0];
        assert_eq!(plan.throttle.unwrap().rate, 2.5);
        assert_eq!(plan.quota.unwrap().period, Period::Week);
        let m = plan.stage("a", "prod").unwrap()["/pets/GET"];
        assert_eq!(m.limit.burst, 1.0);
        assert!(plan.stage("a", "dev").is_none());
        let names = plan.names("k1").expect("names built for the plan's keys");
        assert_eq!(&*names.bucket, "b:k:p1:k1");
        assert_eq!(&*names.methods[m.slot], "b:km:p1:k1:a:prod:/pets/GET");
        assert_eq!(&*names.quota, "q:p1:k1:");
        assert_eq!(&*names.usage, "p1|k1|");
        assert!(plan.names("bad").is_none(), "not in the plan");
    }
}
