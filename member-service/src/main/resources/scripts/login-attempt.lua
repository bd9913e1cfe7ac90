-- A log-in attempt, counted BEFORE its password is checked, so that concurrent guesses all count.
-- Refused (the wait in ms returned, nothing counted) while any of the keys is locked; otherwise
-- counted as a failure on every key (login-succeeded.lua takes it back), and a key that reaches
-- its threshold is locked for base * 2^(failures - threshold) ms, at most cap.
-- KEYS[1] nickname+address, KEYS[2] nickname, KEYS[3] address (hashes: failures, locked_until)
-- ARGV[1] now ms, ARGV[2..4] thresholds of the three keys, ARGV[5] base ms, ARGV[6] cap ms,
-- ARGV[7] how long a count is remembered without new failures (ms)
-- Returns 0 (go ahead) or the ms to wait.
local now = tonumber(ARGV[1])
local wait = 0
for i = 1, 3 do
  local until_ms = tonumber(redis.call('HGET', KEYS[i], 'locked_until') or '0')
  if until_ms - now > wait then
    wait = until_ms - now
  end
end
if wait > 0 then
  return wait
end
local base, cap, keep = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
for i = 1, 3 do
  local threshold = tonumber(ARGV[i + 1])
  local failures = redis.call('HINCRBY', KEYS[i], 'failures', 1)
  local lock = 0
  if failures >= threshold then
    lock = math.min(cap, base * (2 ^ math.min(failures - threshold, 30)))
    redis.call('HSET', KEYS[i], 'locked_until', now + lock)
  end
  redis.call('PEXPIRE', KEYS[i], math.max(keep, lock))
end
return 0
