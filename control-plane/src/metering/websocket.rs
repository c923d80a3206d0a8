//! WebSocket usage: the nodes' counters moved from Redis to `ws_usage_records` exactly once,
//! and read back per day (`GET /v2/apis/{apiId}/usage`).
//!
//! Redis: `{P}wsu`, a hash whose fields are `{apiId}|{stage}|{YYYY-MM-DD}|m` (messages in
//! 32 KB units) and `…|c` (connection minutes), `HINCRBY`ed by the nodes
//! (`data-plane/src/websocket`); `{P}wsub:{batch}` and `{P}wsubs` are its batches and
//! pending set. The mover is [`super`]'s algorithm with these keys: rename into a batch,
//! apply each pending batch whose id is new to `usage_batches`, commit, delete.
//!
//! Live connection counts ([`Metering::ws_connection_count`]): each node keeps the hash
//! `{P}ws:count:{instance}` (fields `{apiId}|{stage}` → connections it holds) with the
//! registry's TTL and its instance in the set `{P}ws:counts`; a stage's count is the sum
//! over the nodes whose hash still exists (one small hash per node, not a scan of every
//! connection's key). Instances whose hash expired (a node killed or stopped) are dropped
//! from the set by the same read.

use std::collections::BTreeMap;

use super::{MeterError, Metering, WS};
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

/// Adds a stage's field over every node's live-count hash, dropping nodes whose hash is
/// gone; one atomic step. KEYS[1] the set of instances; ARGV[1] the hashes' key prefix,
/// ARGV[2] the field.
const SUM_COUNTS: &str = r#"
local total = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('SREM', KEYS[1], id)
  else
    total = total + (tonumber(redis.call('HGET', key, ARGV[2])) or 0)
  end
end
return total
"#;

/// One API's usage: (day, stage) → (messages, connection minutes).
pub type WsUsage = BTreeMap<(String, String), (i64, i64)>;

impl Metering {
    /// How many connections a WebSocket stage has now, over every live node.
    pub async fn ws_connection_count(&self, api: &str, stage: &str) -> Result<i64, MeterError> {
        let mut redis = self.redis.clone();
        let total: i64 = redis::Script::new(SUM_COUNTS)
            .key(format!("{}ws:counts", self.prefix))
            .arg(format!("{}ws:count:", self.prefix))
            .arg(format!("{api}|{stage}"))
            .invoke_async(&mut redis)
            .await?;
        Ok(total.max(0))
    }

    /// One round of the WebSocket mover; returns how many batches were applied.
    pub async fn move_ws_once(&self) -> Result<usize, MeterError> {
        let (mut round, fresh) = self.begin_move(&WS).await?;
        for pairs in fresh {
            for (api, stage, day, m, c) in parse(pairs) {
                store::v2::add_usage(round.tx(), &api, &stage, &day, m, c).await?;
            }
        }
        self.finish_move(&WS, round).await
    }

    /// An API's WebSocket usage in `[start, end]` (`YYYY-MM-DD`): Postgres plus what is not
    /// moved yet, each count once (under the mover's lock).
    pub async fn ws_usage(&self, api: &str, start: &str, end: &str) -> Result<WsUsage, MeterError> {
        let mut tx = self.db.begin().await?;
        store::usage::lock(&mut tx).await?;
        let rows = store::v2::usage_records(&mut tx, api, start, end).await?;
        let counts = parse(self.unmoved(&WS, &mut tx).await?);
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
