//! The admission script: one `EVALSHA` carries the admissions of one or more requests
//! ([`super::batch`]) and processes them one after the other. Each admission checks the
//! quota and every token bucket the node could not serve from a local lease, and only if
//! all pass takes the tokens, counts the quota and counts the usage. The whole call is one
//! atomic script run, so concurrent requests on any node see one consistent state, a
//! rejected request (429) never counts, and a later admission of the same call sees what an
//! earlier one took.
//!
//! `KEYS`: per admission, its `n` bucket hashes, then its quota counter, then the usage hash.
//! `ARGV`: `m` (admissions), then per admission `n`, then `rate, burst, want` per bucket,
//! then the quota limit (`-1`: none), the quota counter's TTL in seconds, and the usage hash
//! field (empty: no usage counted). An admission's `n` fixes how many keys (`n + 2`) and
//! arguments (`3n + 4`) are its own.
//! A bucket passes with at least one token; it then gives `min(want, ⌊tokens⌋)` (`want > 1`
//! is a lease for the node's local spending, see [`super::lease`]).
//!
//! Reply: flat, each admission's reply preceded by its length (`{c1, r1…, c2, r2…}`,
//! [`super::batch::reply_ranges`]). An admission's reply: `{0, g1, …, gn}` admitted with the
//! tokens granted per bucket; `{1, i, wait_ms}` bucket `i` (1-based) is empty and
//! `min(want, burst)` tokens are due in `wait_ms` (`-1`: never, rate 0); `{2}` the quota is
//! used up; `{3}` the admission raised an error (e.g. a key of the wrong type; the others
//! of the call are unaffected). Time is Redis's `TIME`, read once per call, so node clocks
//! do not skew the buckets. Hashes `{t: tokens, ts: ms}` expire once they would be full
//! again.

/// Reply tag: the request is admitted.
pub const ADMITTED: i64 = 0;
/// Reply tag: a token bucket is empty.
pub const THROTTLED: i64 = 1;
/// Reply tag: the quota for the period is used up.
pub const QUOTA_EXCEEDED: i64 = 2;

/// Reply tag: the admission raised an error in the script.
pub const FAILED: i64 = 3;

/// Lua source (loaded once per connection by `EVALSHA`, re-sent on `NOSCRIPT`).
pub const ADMIT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- One admission: keys KEYS[k + 1 ..], arguments ARGV[a ..] (ARGV[a] is its n).
local function admit(k, a, n)
  local qkey = KEYS[k + n + 1]
  local ukey = KEYS[k + n + 2]
  local qlimit = tonumber(ARGV[a + 3 * n + 1])
  local qttl = tonumber(ARGV[a + 3 * n + 2])
  local ufield = ARGV[a + 3 * n + 3]
  if qlimit >= 0 then
    local used = tonumber(redis.call('GET', qkey) or '0')
    if used >= qlimit then return {2} end
  end
  local tokens = {}
  local stamps = {}
  local grants = {}
  for i = 1, n do
    local rate = tonumber(ARGV[a + 3 * i - 2])
    local burst = tonumber(ARGV[a + 3 * i - 1])
    local want = tonumber(ARGV[a + 3 * i])
    local b = redis.call('HMGET', KEYS[k + i], 't', 'ts')
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
    local rate = tonumber(ARGV[a + 3 * i - 2])
    local burst = tonumber(ARGV[a + 3 * i - 1])
    redis.call('HSET', KEYS[k + i], 't', tostring(tokens[i] - grants[i]), 'ts', stamps[i])
    local ttl = 86400000
    if rate > 0 then ttl = math.ceil(burst / rate * 1000) + 1000 end
    redis.call('PEXPIRE', KEYS[k + i], ttl)
  end
  if qlimit >= 0 then
    if redis.call('INCR', qkey) == 1 then redis.call('EXPIRE', qkey, qttl) end
  end
  if ufield ~= '' then redis.call('HINCRBY', ukey, ufield, 1) end
  local reply = {0}
  for i = 1, n do reply[i + 1] = grants[i] end
  return reply
end

local m = tonumber(ARGV[1])
local out = {}
local k = 0
local a = 2
for j = 1, m do
  local n = tonumber(ARGV[a])
  local ok, reply = pcall(admit, k, a, n)
  if not ok then reply = {3} end
  out[#out + 1] = #reply
  for i = 1, #reply do out[#out + 1] = reply[i] end
  k = k + n + 2
  a = a + 3 * n + 4
end
return out
"#;
