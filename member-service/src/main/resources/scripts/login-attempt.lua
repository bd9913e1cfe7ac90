-- A log-in attempt, counted BEFORE its password is checked, so that concurrent guesses all count.
-- Refused (the wait in ms returned, nothing counted) while any of the keys that apply is locked;
-- otherwise counted as a failure on each of them (login-succeeded.lua takes it back), and a key
-- that reaches its threshold is locked for base * 2^(failures - threshold) ms, at most cap.
-- The nickname-wide key does not apply to an address the account logged in from before (KEYS[4]):
-- strangers guessing from everywhere lock the account for strangers, not for its owner at home.
-- KEYS[1] nickname+address, KEYS[2] nickname, KEYS[3] address (hashes: failures, locked_until),
-- KEYS[4] the account's known addresses (sorted set, score = last success ms), KEYS[5] where this
-- attempt's reply is kept (ARGV[10] ms): a caller that never got the reply (a timeout, a cancel)
-- takes the attempt back by it (login-forget.lua) instead of guessing whether it was counted
-- ARGV[1] now ms, ARGV[2..4] thresholds of the three keys, ARGV[5] base ms, ARGV[6] cap ms,
-- ARGV[7] how long a count is remembered without new failures (ms), ARGV[8] the address,
-- ARGV[9] how long an address stays known after its last success (ms)
-- Returns, as strings: {ms to wait} (> 0) when locked, or {code, then for each of the three keys
-- the lock it had before ('' none) and the lock this attempt set ('' none)}, code 0 go ahead, every
-- key counted; -1 go ahead, the nickname-wide key not counted (a known address). The caller hands
-- these back to login-succeeded.lua / login-withdrawn.lua, which never guess them again.
-- The same attempt again (Lettuce sends a script again when its connection dropped before the
-- reply): counted once, answered as the first time.
if redis.call('EXISTS', KEYS[5]) == 1 then
  local f = {}
  local r = redis.call('HGETALL', KEYS[5])
  for i = 1, #r, 2 do
    f[r[i]] = r[i + 1]
  end
  return {f['c'], f['1'], f['2'], f['3'], f['4'], f['5'], f['6']}
end
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[9]))
local known = redis.call('ZSCORE', KEYS[4], ARGV[8])
local applies = {true, not known, true}
local wait = 0
for i = 1, 3 do
  if applies[i] then
    local until_ms = tonumber(redis.call('HGET', KEYS[i], 'locked_until') or '0')
    if until_ms - now > wait then
      wait = until_ms - now
    end
  end
end
if wait > 0 then
  return {tostring(wait)}
end
local locks = {'', '', '', '', '', ''}
local base, cap, keep = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
for i = 1, 3 do
  if applies[i] then
    local threshold = tonumber(ARGV[i + 1])
    local failures = redis.call('HINCRBY', KEYS[i], 'failures', 1)
    local lock = 0
    if failures >= threshold then
      lock = math.min(cap, base * (2 ^ math.min(failures - threshold, 30)))
      locks[2 * i - 1] = redis.call('HGET', KEYS[i], 'locked_until') or ''
      locks[2 * i] = tostring(now + lock)
      redis.call('HSET', KEYS[i], 'locked_until', locks[2 * i])
    end
    redis.call('PEXPIRE', KEYS[i], math.max(keep, lock))
  end
end
local code = '0'
if known then
  code = '-1'
end
local reply = {code, locks[1], locks[2], locks[3], locks[4], locks[5], locks[6]}
redis.call('HSET', KEYS[5], 'c', reply[1], '1', reply[2], '2', reply[3], '3', reply[4],
  '4', reply[5], '5', reply[6], '6', reply[7])
redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[10]))
return reply
