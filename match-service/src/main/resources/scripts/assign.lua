-- A room is confirmed: the match's players are in a game. Idempotent: 0 if already handled.
-- KEYS[1] matched hash, KEYS[2] pending hash, KEYS[3] pending deadlines zset, KEYS[4] assigned hash
-- ARGV[1] match id, ARGV[2] channel, ARGV[3] room
local pending = redis.call('HGET', KEYS[2], ARGV[1])
if not pending then
  return 0
end
local players = string.match(pending, '^[^#]*#[^#]*#(.*)$')
for entry in string.gmatch(players, '[^;]+') do
  local player = string.match(entry, '^([^|]*)|')
  redis.call('HDEL', KEYS[1], player)
  redis.call('HSET', KEYS[4], player, ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3])
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
