//! The admission script: one `EVALSHA` checks the quota and every token bucket the node
//! could not serve from a local lease, and only if all pass takes the tokens, counts the
//! quota and counts the usage — atomically, so concurrent requests on any node see one
//! consistent state and a rejected request (429) never counts.
//!
//! `KEYS`: the `n` bucket hashes, then the quota counter, then the usage hash.
//! `ARGV`: `n`, then `rate, burst, want` per bucket, then the quota limit (`-1`: none), the
//! quota counter's TTL in seconds, and the usage hash field (empty: no usage counted).
//! A bucket passes with at least one token; it then gives `min(want, ⌊tokens⌋)` (`want > 1`
//! is a lease for the node's local spending, see [`super::lease`]).
//!
//! Replies: `{0, g1, …, gn}` admitted with the tokens granted per bucket;
//! `{1, i, wait_ms}` bucket `i` (1-based) is empty and `min(want, burst)` tokens are due in
//! `wait_ms` (`-1`: never, rate 0); `{2}` the quota is used up. Time is Redis's `TIME`, so
//! node clocks do not skew the buckets. Hashes `{t: tokens, ts: ms}` expire once they
//! would be full again.

/// Reply tag: the request is admitted.
pub const ADMITTED: i64 = 0;
/// Reply tag: a token bucket is empty.
pub const THROTTLED: i64 = 1;
/// Reply tag: the quota for the period is used up.
pub const QUOTA_EXCEEDED: i64 = 2;

/// Lua source (loaded once per connection by `EVALSHA`, re-sent on `NOSCRIPT`).
pub const ADMIT: &str = r#"
local n = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local qkey = KEYS[n + 1]
local ukey = KEYS[n + 2]
local qlimit = tonumber(ARGV[3 * n + 2])
local qttl = tonumber(ARGV[3 * n + 3])
local ufield = ARGV[3 * n + 4]
if qlimit >= 0 then
  local used = tonumber(redis.call('GET', qkey) or '0')
  if used >= qlimit then return {2} end
end
local tokens = {}
local stamps = {}
local grants = {}
for i = 1, n do
  local rate = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  local want = tonumber(ARGV[3 * i + 1])
  local b = redis.call('HMGET', KEYS[i], 't', 'ts')
  local tok = tonumber(b[1])
  local ts = tonumber(b[2])
  if tok == nil or ts == nil then
    tok = burst
    ts = now
  end
  if now > ts then
    tok = math.min(burst, tok + (now - ts) * rate / 1000)
    ts = now
  end
  if tok < 1 then
    local wait = -1
    if rate > 0 then
      wait = math.ceil((math.max(1, math.min(want, burst)) - tok) * 1000 / rate)
    end
    return {1, i, wait}
  end
  tokens[i] = tok
  stamps[i] = ts
  grants[i] = math.min(want, math.floor(tok))
end
for i = 1, n do
  local rate = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  redis.call('HSET', KEYS[i], 't', tostring(tokens[i] - grants[i]), 'ts', stamps[i])
  local ttl = 86400000
  if rate > 0 then ttl = math.ceil(burst / rate * 1000) + 1000 end
  redis.call('PEXPIRE', KEYS[i], ttl)
end
if qlimit >= 0 then
  if redis.call('INCR', qkey) == 1 then redis.call('EXPIRE', qkey, qttl) end
end
if ufield ~= '' then redis.call('HINCRBY', ukey, ufield, 1) end
local reply = {0}
for i = 1, n do reply[i + 1] = grants[i] end
return reply
"#;
