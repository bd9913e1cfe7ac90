-- The attempt login-attempt.lua counted was a success: the nickname's counts (with this address
-- and overall) start again; the address keeps its other failures, minus this attempt.
-- KEYS[1] nickname+address, KEYS[2] nickname, KEYS[3] address; ARGV[1] the address threshold
redis.call('DEL', KEYS[1], KEYS[2])
local failures = redis.call('HINCRBY', KEYS[3], 'failures', -1)
if failures < tonumber(ARGV[1]) then
  redis.call('HDEL', KEYS[3], 'locked_until')
end
return failures
