-- Shared by login-succeeded.lua and login-withdrawn.lua (prepended to each): takes one attempt
-- back from a key login-attempt.lua counted. Below its threshold the key is unlocked; at or past
-- it, the lock the attempt set (if no later attempt has set another since) gives way to the one
-- the key had before ('' none), as login-attempt.lua returned them. That earlier lock had run out
-- (the attempt would have been refused otherwise), so putting it back unlocks the key while
-- keeping what it said. The callers do not run on their own: LoginThrottle.takingBack puts this
-- function before their text.
local function take_back(key, threshold, before, set)
  if redis.call('EXISTS', key) == 0 then
    return
  end
  local failures = redis.call('HINCRBY', key, 'failures', -1)
  if failures < 0 then
    -- Never below none: a count taken back more often than it was counted would let guesses
    -- through without end.
    redis.call('HSET', key, 'failures', 0)
    failures = 0
  end
  if failures < threshold then
    redis.call('HDEL', key, 'locked_until')
  elseif set ~= '' and redis.call('HGET', key, 'locked_until') == set then
    if before == '' then
      redis.call('HDEL', key, 'locked_until')
    else
      redis.call('HSET', key, 'locked_until', before)
    end
  end
end
