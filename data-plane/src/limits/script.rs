//! The admission script: one `EVALSHA` per request checks the quota and every token bucket
//! that applies, and only if all pass takes a token from each, counts the quota and counts
//! the usage — atomically, so concurrent requests on any node see one consistent state and
//! a rejected request (429) never counts.
//!
//! `KEYS`: the `n` bucket hashes, then the quota counter, then the usage hash.
//! `ARGV`: `n`, then `rate, burst` per bucket, then the quota limit (`-1`: none), the quota
//! counter's TTL in seconds, and the usage hash field (empty: no usage counted).
//! Returns [`ADMITTED`], [`THROTTLED`] or [`QUOTA_EXCEEDED`]. Time is Redis's `TIME`, so
//! node clocks do not skew the buckets.

/// The request is admitted.
pub const ADMITTED: i64 = 0;
/// A token bucket is empty.
pub const THROTTLED: i64 = 1;
/// The quota for the period is used up.
pub const QUOTA_EXCEEDED: i64 = 2;

/// Lua source (loaded once per connection by `EVALSHA`, re-sent on `NOSCRIPT`).
pub const ADMIT: &str = r#"
local n = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local qkey = KEYS[n + 1]
local ukey = KEYS[n + 2]
local qlimit = tonumber(ARGV[2 * n + 2])
local qttl = tonumber(ARGV[2 * n + 3])
local ufield = ARGV[2 * n + 4]
if qlimit >= 0 then
  local used = tonumber(redis.call('GET', qkey) or '0')
  if used >= qlimit then return 2 end
end
local tokens = {}
local stamps = {}
for i = 1, n do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
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
  if tok < 1 then return 1 end
  tokens[i] = tok
  stamps[i] = ts
end
for i = 1, n do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  redis.call('HSET', KEYS[i], 't', tostring(tokens[i] - 1), 'ts', stamps[i])
  local ttl = 86400000
  if rate > 0 then ttl = math.ceil(burst / rate * 1000) + 1000 end
  redis.call('PEXPIRE', KEYS[i], ttl)
end
if qlimit >= 0 then
  if redis.call('INCR', qkey) == 1 then redis.call('EXPIRE', qkey, qttl) end
end
if ufield ~= '' then redis.call('HINCRBY', ukey, ufield, 1) end
return 0
"#;
