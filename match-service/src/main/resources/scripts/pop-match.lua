-- Takes the players of one match out of the queue AND records the pending match, atomically:
-- a crash can never lose them between the two. Refuses (returns false) if any of them left.
-- KEYS[1] elo zset, KEYS[2] tickets hash, KEYS[3] matched hash, KEYS[4] pending hash,
-- KEYS[5] pending deadlines zset
-- ARGV[1] the match's id (made by the caller: never repeats), ARGV[2] now, ARGV[3] deadline,
-- ARGV[4..] player ids
for i = 4, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    return false
  end
end
local id = ARGV[1]
local details = {}
for i = 4, #ARGV do
  local player = ARGV[i]
  table.insert(details, player .. '|' .. redis.call('HGET', KEYS[2], player))
  redis.call('ZREM', KEYS[1], player)
  redis.call('HDEL', KEYS[2], player)
  redis.call('HSET', KEYS[3], player, id)
end
redis.call('HSET', KEYS[4], id, ARGV[2] .. '#1#' .. table.concat(details, ';'))
redis.call('ZADD', KEYS[5], ARGV[3], id)
return id
