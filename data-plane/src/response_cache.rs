//! The cluster-wide store behind each node's stage cache
//! (`apigw_gateway::phases::cache`): Redis, through the node's connection and key prefix.
//!
//! | key | what |
//! |---|---|
//! | `{P}c:{api}:{stage}:{sha256}` | one cached response (the engine's wire form), `PX` its TTL |
//! | `{P}ci:{api}:{stage}` | sorted set: the stage's entries by expiry (ms) |
//! | `{P}cs:{api}:{stage}` | hash: entry → its size in bytes |
//! | `{P}ct:{api}:{stage}` | the stage's total bytes |
//!
//! Memory is bounded per stage: a write (one Lua script, atomic) first forgets entries that
//! have expired, then adds the new one and, while the stage holds more than its budget
//! (`--cache-stage-max-bytes`), evicts the entries closest to expiry (the oldest, for one
//! TTL). The bookkeeping keys expire an hour (the largest TTL) after the stage's last
//! write. Reads are one `GET`. Both are bounded by the limits' call timeout: a failure or
//! a slow answer is a miss (reads) or a skipped write, never a failed request.

use std::time::Duration;

use apigw_gateway::phases::cache::SharedResponses;
use apigw_shared_redis::SharedRedis;
use bytes::Bytes;
use futures::future::BoxFuture;

use crate::limits::CALL_TIMEOUT;

/// The default per-stage memory budget in Redis.
pub const DEFAULT_STAGE_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// KEYS: entry, index, sizes, total. ARGV: item, ttl ms, budget bytes.
const PUT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local function forget(k)
  local size = tonumber(redis.call('HGET', KEYS[3], k) or '0')
  redis.call('HDEL', KEYS[3], k)
  redis.call('ZREM', KEYS[2], k)
  return redis.call('DECRBY', KEYS[4], size)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 64)
for _, k in ipairs(expired) do forget(k) end
local old = tonumber(redis.call('HGET', KEYS[3], KEYS[1]) or '0')
local size = string.len(ARGV[1]) + string.len(KEYS[1]) + 64
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], size)
local total = redis.call('INCRBY', KEYS[4], size - old)
local evicted = 0
while total > budget do
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #first == 0 then break end
  redis.call('DEL', first[1])
  total = forget(first[1])
  evicted = evicted + 1
end
for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], 3600000 + ttl) end
return evicted
"#;

/// Cached responses in Redis.
pub struct RedisResponses {
    redis: SharedRedis,
    prefix: String,
    budget: u64,
    script: redis::Script,
}

impl RedisResponses {
    /// Responses under `{prefix}c…`, each stage holding at most `budget` bytes.
    pub fn new(redis: SharedRedis, prefix: &str, budget: u64) -> Self {
        RedisResponses {
            redis,
            prefix: prefix.to_owned(),
            budget,
            script: redis::Script::new(PUT),
        }
    }
}

impl SharedResponses for RedisResponses {
    fn get<'a>(&'a self, stage: &'a str, key: &'a str) -> BoxFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            let mut cmd = redis::cmd("GET");
            cmd.arg(format!("{}c:{stage}:{key}", self.prefix));
            let read = cmd.query_async::<Option<Vec<u8>>>(&mut redis);
            match tokio::time::timeout(CALL_TIMEOUT, read).await {
                Ok(Ok(found)) => found.map(Bytes::from),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "stage cache read failed");
                    None
                }
                Err(_) => None,
            }
        })
    }

    fn put<'a>(
        &'a self,
        stage: &'a str,
        key: &'a str,
        item: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut redis = self.redis.clone();
            let p = &self.prefix;
            let mut call = self.script.prepare_invoke();
            call.key(format!("{p}c:{stage}:{key}"))
                .key(format!("{p}ci:{stage}"))
                .key(format!("{p}cs:{stage}"))
                .key(format!("{p}ct:{stage}"))
                .arg(item.as_ref())
                .arg(ttl_ms)
                .arg(self.budget);
            let write = call.invoke_async::<i64>(&mut redis);
            match tokio::time::timeout(CALL_TIMEOUT * 2, write).await {
                Ok(Ok(0)) => {}
                Ok(Ok(evicted)) => tracing::debug!(stage, evicted, "stage cache over its budget"),
                Ok(Err(error)) => tracing::debug!(%error, "stage cache write failed"),
                Err(_) => tracing::debug!("stage cache write timed out"),
            }
        })
    }
}
