-- A failed log-in: counts it for the nickname and the address. From the threshold on, every
-- failure locks that key for base * 2^(failures - threshold) ms, at most cap.
-- KEYS[1] nickname hash, KEYS[2] address hash
-- ARGV[1] now, ARGV[2] nickname threshold, ARGV[3] address threshold, ARGV[4] base ms,
-- ARGV[5] cap ms, ARGV[6] how long a count is remembered (ms)
-- Returns how long log-in is now locked (ms, the longer of the two).
local now = tonumber(ARGV[1])
local base, cap, keep = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local wait = 0
for i = 1, 2 do
  local threshold = tonumber(ARGV[i + 1])
  local failures = redis.call('HINCRBY', KEYS[i], 'failures', 1)
  local lock = 0
  if failures >= threshold then
    local exponent = math.min(failures - threshold, 30)
    lock = math.min(cap, base * (2 ^ exponent))
    redis.call('HSET', KEYS[i], 'locked_until', now + lock)
  end
  redis.call('PEXPIRE', KEYS[i], math.max(keep, lock))
  if lock > wait then
    wait = lock
  end
end
return wait
