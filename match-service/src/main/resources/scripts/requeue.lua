-- Gives a pending match's players back to the queue with their ORIGINAL enqueue time, and
-- forgets the match. Idempotent: an unknown match returns 0.
-- KEYS[1] tickets hash, KEYS[2] matched hash, KEYS[3] pending hash, KEYS[4] pending deadlines
-- zset, KEYS[5] presence stream, KEYS[6] the queue's change feed, KEYS[7] its counter
-- ARGV[1] match id
local pending = redis.call('HGET', KEYS[3], ARGV[1])
if not pending then
  return 0
end
local players = string.match(pending, '^[^#]*#[^#]*#(.*)$')
for entry in string.gmatch(players, '[^;]+') do
  local player, elo, enqueued, nick = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  local ticket = elo .. '|' .. enqueued .. '|' .. nick
  redis.call('HSET', KEYS[1], player, ticket)
  changed(KEYS[6], KEYS[7], '+', player, ticket)
  redis.call('HDEL', KEYS[2], player)
  redis.call('XADD', KEYS[5], '*', 'p', player, 's', 'QUEUED', 'm', '')
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
