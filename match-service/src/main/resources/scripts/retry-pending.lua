-- An unanswered match gets one more try: attempt 2 with a new deadline. Returns the new
-- attempt number, or 0 if the match is no longer pending.
-- KEYS[1] pending hash, KEYS[2] pending deadlines zset
-- ARGV[1] match id, ARGV[2] new deadline
local pending = redis.call('HGET', KEYS[1], ARGV[1])
if not pending then
  return 0
end
local created, attempt, players = string.match(pending, '^([^#]*)#([^#]*)#(.*)$')
local next = tonumber(attempt) + 1
redis.call('HSET', KEYS[1], ARGV[1], created .. '#' .. next .. '#' .. players)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return next
