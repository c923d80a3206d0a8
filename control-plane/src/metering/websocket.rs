//! WebSocket usage: the nodes' counters moved from Redis to `ws_usage_records` exactly once,
//! and read back per day (`GET /v2/apis/{apiId}/usage`).
//!
//! Redis: `{P}wsu`, a hash whose fields are `{apiId}|{stage}|{YYYY-MM-DD}|m` (messages in
//! 32 KB units) and `…|c` (connection minutes), `HINCRBY`ed by the nodes
//! (`data-plane/src/websocket`); `{P}wsub:{batch}` and `{P}wsubs` are its batches and
//! pending set. The mover is [`super`]'s algorithm with these keys: rename into a batch,
//! apply each pending batch whose id is new to `usage_batches`, commit, delete.

use std::collections::{BTreeMap, HashSet};

use super::{MeterError, Metering, READ_UNMOVED, ROTATE};
use crate::store;

/// One counter: (api, stage, day `YYYY-MM-DD`, messages, minutes).
type Count = (String, String, String, i64, i64);

fn parse(pairs: Vec<(String, i64)>) -> Vec<Count> {
    pairs
        .into_iter()
        .filter_map(|(field, n)| {
            let mut p = field.split('|');
            let (api, stage, day, what) = (p.next()?, p.next()?, p.next()?, p.next()?);
            super::parse_day(day)?;
            let (m, c) = match what {
                "m" => (n, 0),
                "c" => (0, n),
                _ => return None,
            };
            Some((api.to_string(), stage.to_string(), day.to_string(), m, c))
        })
        .collect()
}

/// One API's usage: (day, stage) → (messages, connection minutes).
pub type WsUsage = BTreeMap<(String, String), (i64, i64)>;

impl Metering {
    /// One round of the WebSocket mover; returns how many batches were applied.
    pub async fn move_ws_once(&self) -> Result<usize, MeterError> {
        let mut redis = self.redis.clone();
        let pending_set = self.key("wsubs");
        let mut tx = self.db.begin().await?;
        store::usage::lock(&mut tx).await?;
        let batch_id = format!("ws-{}", uuid::Uuid::new_v4().simple());
        let _: i64 = redis::Script::new(ROTATE)
            .key(self.key("wsu"))
            .key(&pending_set)
            .key(self.key(&format!("wsub:{batch_id}")))
            .arg(&batch_id)
            .invoke_async(&mut redis)
            .await?;
        let batches: Vec<String> = redis::cmd("SMEMBERS")
            .arg(&pending_set)
            .query_async(&mut redis)
            .await?;
        for id in &batches {
            let pairs: Vec<(String, i64)> = redis::cmd("HGETALL")
                .arg(self.key(&format!("wsub:{id}")))
                .query_async(&mut redis)
                .await?;
            if !store::usage::record_batch(&mut tx, id).await? {
                continue;
            }
            for (api, stage, day, m, c) in parse(pairs) {
                store::v2::add_usage(&mut tx, &api, &stage, &day, m, c).await?;
            }
        }
        tx.commit().await?;
        for id in &batches {
            redis::pipe()
                .atomic()
                .del(self.key(&format!("wsub:{id}")))
                .srem(&pending_set, id)
                .query_async::<()>(&mut redis)
                .await?;
        }
        Ok(batches.len())
    }

    /// An API's WebSocket usage in `[start, end]` (`YYYY-MM-DD`): Postgres plus what is not
    /// moved yet, each count once (under the mover's lock).
    pub async fn ws_usage(&self, api: &str, start: &str, end: &str) -> Result<WsUsage, MeterError> {
        let mut redis = self.redis.clone();
        let mut tx = self.db.begin().await?;
        store::usage::lock(&mut tx).await?;
        let rows = store::v2::usage_records(&mut tx, api, start, end).await?;
        let unmoved: Vec<redis::Value> = redis::Script::new(READ_UNMOVED)
            .key(self.key("wsu"))
            .key(self.key("wsubs"))
            .arg(self.key("wsub:"))
            .invoke_async(&mut redis)
            .await?;
        let mut counts = Vec::new();
        let mut values = unmoved.into_iter();
        if let Some(live) = values.next() {
            counts.extend(parse(redis::from_redis_value(live)?));
        }
        let mut batches = Vec::new();
        while let (Some(id), Some(content)) = (values.next(), values.next()) {
            let id: String = redis::from_redis_value(id)?;
            let pairs: Vec<(String, i64)> = redis::from_redis_value(content)?;
            batches.push((id, pairs));
        }
        let ids: Vec<&str> = batches.iter().map(|(id, _)| id.as_str()).collect();
        let applied: HashSet<String> = if ids.is_empty() {
            HashSet::new()
        } else {
            store::usage::applied_batches(&mut tx, &ids)
                .await?
                .into_iter()
                .collect()
        };
        for (id, pairs) in batches {
            if !applied.contains(&id) {
                counts.extend(parse(pairs));
            }
        }
        tx.commit().await?;
        let mut out = WsUsage::new();
        for (day, stage, m, c) in rows {
            let e = out.entry((day, stage)).or_default();
            e.0 += m;
            e.1 += c;
        }
        for (a, stage, day, m, c) in counts {
            if a == api && day.as_str() >= start && day.as_str() <= end {
                let e = out.entry((day, stage)).or_default();
                e.0 += m;
                e.1 += c;
            }
        }
        Ok(out)
    }
}
