//! Usage metering: moving the data plane's per-key per-day counters from Redis into
//! Postgres usage records, exactly once, and reading usage back (GetUsage, CSV export).
//!
//! Redis layout (shared with `data-plane/src/limits`; `{P}` is the configured prefix):
//! - `{P}u` — hash, field `{planId}|{keyId}|{YYYY-MM-DD}` → requests admitted and not yet
//!   moved. The data plane's admission script `HINCRBY`s it in the same atomic step that
//!   admits a request, so a node killed right after admitting loses nothing.
//! - `{P}ub:{batchId}` — a batch of counters being moved (the renamed `{P}u`).
//! - `{P}ubs` — set of batch ids not yet known to be applied.
//! - `{P}q:{planId}:{keyId}:{periodStartEpoch}` — quota used in a period (UpdateUsage
//!   rewrites it).
//!
//! The mover, every [`MOVE_EVERY`]: inside one Postgres transaction holding an advisory
//! lock, (1) atomically renames `{P}u` to a new batch and records the id in `{P}ubs` (one
//! Lua script), (2) for every pending batch inserts its id into `usage_batches` and, only
//! if that insert happened, adds its counts to `usage_records`; commits; then (3) deletes
//! the batches from Redis. A crash before the commit leaves the batch pending in Redis and
//! it is applied next time; a crash after the commit leaves a batch whose id is already in
//! `usage_batches`, so it is skipped and only deleted. Never counted twice, never lost.
//! GetUsage takes the same lock, so it sees each count exactly once: in Postgres, in a
//! pending batch not yet applied, or still in `{P}u`.
//!
//! On a Redis Cluster (`{P}` is then a hash tag: every key above in one slot) the mover
//! `WAIT`s after (1) for a replica to acknowledge the rename ([`REPLICATION_WAIT`]), so a
//! failover right after it cannot hand the promoted replica the live hash again and have
//! its counts moved twice (docs/redis-cluster.md).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use apigw_shared_redis::{RedisConfigError, RedisTarget, SharedRedis, Timeouts};
use sqlx::PgPool;
use time::Date;

use crate::store;

pub mod websocket;

/// How often counters are moved from Redis to Postgres.
pub const MOVE_EVERY: Duration = Duration::from_secs(2);

/// On a Redis Cluster, how long the mover waits for a replica to acknowledge a batch's
/// rename before it moves the batch's counts to Postgres (`WAIT 1`).
pub const REPLICATION_WAIT: Duration = Duration::from_secs(1);

/// Renames the live counters into a new pending batch, atomically.
pub(crate) const ROTATE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('SADD', KEYS[2], ARGV[1])
  return 1
end
return 0
"#;

/// Reads the live counters and every pending batch in one atomic step.
pub(crate) const READ_UNMOVED: &str = r#"
local out = {}
out[1] = redis.call('HGETALL', KEYS[1])
local ids = redis.call('SMEMBERS', KEYS[2])
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. id)
end
return out
"#;

/// Why metering failed.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    /// Redis failed or is unreachable.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Postgres failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The Redis URL (or its key prefix on a cluster) is invalid.
    #[error(transparent)]
    Config(#[from] RedisConfigError),
    /// A Redis reply had an unexpected shape.
    #[error("redis reply: {0}")]
    Reply(#[from] redis::ParsingError),
}

/// One usage counter's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageKey {
    /// Usage plan id.
    pub plan_id: String,
    /// API key id.
    pub key_id: String,
    /// UTC day.
    pub day: Date,
}

impl UsageKey {
    /// Parses a `{plan}|{key}|{YYYY-MM-DD}` hash field.
    pub fn parse(field: &str) -> Option<Self> {
        let mut parts = field.split('|');
        let (plan, key, day) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(UsageKey {
            plan_id: plan.to_string(),
            key_id: key.to_string(),
            day: parse_day(day)?,
        })
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).ok()
}

/// Access to the shared Redis for usage: counters, quotas, the mover.
#[derive(Clone)]
pub struct Metering {
    redis: SharedRedis,
    prefix: String,
    db: PgPool,
}

impl std::fmt::Debug for Metering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metering")
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn parse_counts(pairs: Vec<(String, i64)>, into: &mut HashMap<UsageKey, i64>) {
    for (field, n) in pairs {
        match UsageKey::parse(&field) {
            Some(k) => *into.entry(k).or_default() += n,
            None => tracing::warn!(%field, "ignoring malformed usage counter"),
        }
    }
}

/// The Redis keys of one family of counters, under the prefix: the hash the nodes
/// increment, the set of pending batch ids, the batches' key prefix, and the prefix of new
/// batch ids (ids share `usage_batches`, so the families' must not collide).
pub(crate) struct Counters {
    live: &'static str,
    pending: &'static str,
    batch: &'static str,
    id_prefix: &'static str,
}

/// REST usage: `{P}u`, fields `{plan}|{key}|{day}`.
const REST: Counters = Counters {
    live: "u",
    pending: "ubs",
    batch: "ub:",
    id_prefix: "",
};

/// WebSocket usage (`websocket.rs`): `{P}wsu`.
pub(crate) const WS: Counters = Counters {
    live: "wsu",
    pending: "wsubs",
    batch: "wsub:",
    id_prefix: "ws-",
};

/// The mover's transaction (it holds the usage lock until commit).
pub(crate) type MoverTx = sqlx::Transaction<'static, sqlx::Postgres>;

/// A mover round between its two halves ([`Metering::begin_move`], [`Metering::finish_move`]).
pub(crate) struct Move {
    tx: MoverTx,
    batches: Vec<String>,
}

impl Move {
    /// The transaction the fresh batches' counts are added in.
    pub(crate) fn tx(&mut self) -> &mut MoverTx {
        &mut self.tx
    }
}

impl Metering {
    /// The first half of a mover round for one family, under the usage lock: the live hash
    /// is renamed into a new batch; every pending batch id is recorded in `usage_batches`,
    /// and the counters of those recorded just now (not applied before a crash) returned
    /// for the caller to add in [`Move::tx`].
    pub(crate) async fn begin_move(
        &self,
        c: &Counters,
    ) -> Result<(Move, Vec<Vec<(String, i64)>>), MeterError> {
        let mut redis = self.redis.clone();
        let pending_set = self.key(c.pending);
        let mut tx = self.db.begin().await?;
        store::usage::lock(&mut tx).await?;
        let batch_id = format!("{}{}", c.id_prefix, uuid::Uuid::new_v4().simple());
        let _: i64 = redis::Script::new(ROTATE)
            .key(self.key(c.live))
            .key(&pending_set)
            .key(self.key(&format!("{}{batch_id}", c.batch)))
            .arg(&batch_id)
            .invoke_async(&mut redis)
            .await?;
        if redis.is_cluster() {
            // The rename must survive a failover before its counts reach Postgres: were the
            // master to die with the rename not yet on its replica, the promoted replica
            // would still hold the live hash, and those counts would be moved twice.
            let acked: i64 = redis::cmd("WAIT")
                .arg(1)
                .arg(REPLICATION_WAIT.as_millis() as u64)
                .query_async(&mut redis)
                .await?;
            if acked < 1 {
                tracing::debug!(
                    "usage batch rename not acknowledged by a replica (none, or lagging)"
                );
            }
        }
        let batches: Vec<String> = redis::cmd("SMEMBERS")
            .arg(&pending_set)
            .query_async(&mut redis)
            .await?;
        let mut fresh = Vec::new();
        for id in &batches {
            let pairs: Vec<(String, i64)> = redis::cmd("HGETALL")
                .arg(self.key(&format!("{}{id}", c.batch)))
                .query_async(&mut redis)
                .await?;
            // Not fresh: applied before a crash; only the Redis cleanup was missing.
            if store::usage::record_batch(&mut tx, id).await? {
                fresh.push(pairs);
            }
        }
        Ok((Move { tx, batches }, fresh))
    }

    /// The second half: commits, then deletes the applied batches from Redis; returns how
    /// many there were.
    pub(crate) async fn finish_move(&self, c: &Counters, round: Move) -> Result<usize, MeterError> {
        let mut redis = self.redis.clone();
        round.tx.commit().await?;
        for id in &round.batches {
            redis::pipe()
                .atomic()
                .del(self.key(&format!("{}{id}", c.batch)))
                .srem(self.key(c.pending), id)
                .query_async::<()>(&mut redis)
                .await?;
        }
        Ok(round.batches.len())
    }

    /// The family's counters not moved to Postgres yet, read under the usage lock held by
    /// `tx`: the live hash's, and those of pending batches not applied.
    pub(crate) async fn unmoved(
        &self,
        c: &Counters,
        tx: &mut MoverTx,
    ) -> Result<Vec<(String, i64)>, MeterError> {
        let mut redis = self.redis.clone();
        let values: Vec<redis::Value> = redis::Script::new(READ_UNMOVED)
            .key(self.key(c.live))
            .key(self.key(c.pending))
            .arg(self.key(c.batch))
            .invoke_async(&mut redis)
            .await?;
        let mut out = Vec::new();
        let mut values = values.into_iter();
        if let Some(live) = values.next() {
            out.extend(redis::from_redis_value::<Vec<(String, i64)>>(live)?);
        }
        let mut batches = Vec::new();
        while let (Some(id), Some(content)) = (values.next(), values.next()) {
            let id: String = redis::from_redis_value(id)?;
            let pairs: Vec<(String, i64)> = redis::from_redis_value(content)?;
            batches.push((id, pairs));
        }
        if !batches.is_empty() {
            let ids: Vec<&str> = batches.iter().map(|(id, _)| id.as_str()).collect();
            let applied: HashSet<String> = store::usage::applied_batches(tx, &ids)
                .await?
                .into_iter()
                .collect();
            for (id, pairs) in batches {
                if !applied.contains(&id) {
                    out.extend(pairs);
                }
            }
        }
        Ok(out)
    }
}

impl Metering {
    /// Connects lazily to `target` (one server or a cluster): the control plane starts even
    /// while Redis is down. `prefix` is already in its cluster form when `target` is one.
    pub fn new(target: &RedisTarget, prefix: &str, db: PgPool) -> Result<Self, MeterError> {
        let redis = target.connect_lazy(Timeouts {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(2),
            retries: 1,
        })?;
        Ok(Metering {
            redis,
            prefix: prefix.to_string(),
            db,
        })
    }

    pub(crate) fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// The shared (lazy, reconnecting) Redis connection.
    pub fn redis(&self) -> SharedRedis {
        self.redis.clone()
    }

    /// The quota counter of a key in a plan for the period starting at `start`.
    pub fn quota_key(&self, plan_id: &str, key_id: &str, start: Date) -> String {
        self.key(&format!(
            "q:{plan_id}:{key_id}:{}",
            apigw_quota::midnight_epoch(start)
        ))
    }

    /// Runs the mover forever (errors are logged; the next round retries).
    pub async fn run_mover(self) {
        let mut tick = tokio::time::interval(MOVE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            let moved = match self.move_once().await {
                Ok(n) => self.move_ws_once().await.map(|w| n + w),
                Err(e) => Err(e),
            };
            match moved {
                Ok(n) => {
                    if failing {
                        tracing::info!("usage mover recovered");
                        failing = false;
                    }
                    if n > 0 {
                        tracing::debug!(batches = n, "usage moved to Postgres");
                    }
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(%error, "usage mover failing; counts stay in Redis until it recovers");
                        failing = true;
                    }
                }
            }
        }
    }

    /// One mover round; returns how many batches were applied.
    pub async fn move_once(&self) -> Result<usize, MeterError> {
        let (mut round, fresh) = self.begin_move(&REST).await?;
        for pairs in fresh {
            let mut counts = HashMap::new();
            parse_counts(pairs, &mut counts);
            for (k, n) in counts {
                store::usage::add(round.tx(), &k.plan_id, &k.key_id, k.day, n).await?;
            }
        }
        self.finish_move(&REST, round).await
    }

    /// Usage of `plan_id` per key and day in `[start, end]`: Postgres records plus what is
    /// not yet moved, each count exactly once (see the module docs).
    pub async fn usage(
        &self,
        plan_id: &str,
        start: Date,
        end: Date,
    ) -> Result<BTreeMap<(String, Date), i64>, MeterError> {
        let mut tx = self.db.begin().await?;
        store::usage::lock(&mut tx).await?;
        let rows = store::usage::records(&mut tx, plan_id, start, end).await?;
        let mut counts = HashMap::new();
        parse_counts(self.unmoved(&REST, &mut tx).await?, &mut counts);
        tx.commit().await?;
        let mut out: BTreeMap<(String, Date), i64> = BTreeMap::new();
        for (key_id, day, n) in rows {
            if let Some(day) = parse_day(&day) {
                *out.entry((key_id, day)).or_default() += n;
            }
        }
        for (k, n) in counts {
            if k.plan_id == plan_id && k.day >= start && k.day <= end {
                *out.entry((k.key_id, k.day)).or_default() += n;
            }
        }
        Ok(out)
    }

    /// Quota used by a key in the period starting `start` (0 when never used).
    pub async fn quota_used(
        &self,
        plan_id: &str,
        key_id: &str,
        start: Date,
    ) -> Result<i64, MeterError> {
        let mut redis = self.redis.clone();
        let v: Option<i64> = redis::cmd("GET")
            .arg(self.quota_key(plan_id, key_id, start))
            .query_async(&mut redis)
            .await?;
        Ok(v.unwrap_or(0))
    }

    /// Sets the quota used by a key in a period (UpdateUsage); expires with the period.
    pub async fn set_quota_used(
        &self,
        plan_id: &str,
        key_id: &str,
        start: Date,
        end: Date,
        used: i64,
    ) -> Result<(), MeterError> {
        let mut redis = self.redis.clone();
        let ttl = (apigw_quota::midnight_epoch(end) - crate::ids::now_epoch()).max(1) + 86_400;
        redis::cmd("SET")
            .arg(self.quota_key(plan_id, key_id, start))
            .arg(used)
            .arg("EX")
            .arg(ttl)
            .query_async::<()>(&mut redis)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn usage_fields_parse() {
        let k = UsageKey::parse("plan1|key1|2026-11-22").unwrap();
        assert_eq!(
            (k.plan_id.as_str(), k.key_id.as_str(), k.day),
            ("plan1", "key1", date!(2026 - 11 - 22))
        );
        assert!(UsageKey::parse("plan1|key1").is_none());
        assert!(UsageKey::parse("plan1|key1|2026-13-01").is_none());
        assert!(UsageKey::parse("a|b|2026-11-22|x").is_none());
    }
}
