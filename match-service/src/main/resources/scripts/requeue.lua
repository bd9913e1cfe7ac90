-- Gives a pending match's players back to the queue with their ORIGINAL enqueue time, and
-- forgets the match. Idempotent: an unknown match returns 0.
-- KEYS[1] elo zset, KEYS[2] tickets hash, KEYS[3] matched hash, KEYS[4] pending hash,
-- KEYS[5] pending deadlines zset, KEYS[6] presence stream, KEYS[7] the queue's change feed,
-- KEYS[8] its counter
-- ARGV[1] match id
local pending = redis.call('HGET', KEYS[4], ARGV[1])
if not pending then
  return 0
end
local players = string.match(pending, '^[^#]*#[^#]*#(.*)$')
for entry in string.gmatch(players, '[^;]+') do
  local player, elo, enqueued, nick = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  redis.call('ZADD', KEYS[1], elo, player)
  local ticket = elo .. '|' .. enqueued .. '|' .. nick
  redis.call('HSET', KEYS[2], player, ticket)
  changed(KEYS[7], KEYS[8], '+', player, ticket)
  redis.call('HDEL', KEYS[3], player)
  redis.call('XADD', KEYS[6], '*', 'p', player, 's', 'QUEUED', 'm', '')
end
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return 1
