-- For many matches in one call: for each group of ARGV[4] players, takes them out of the queue
-- AND records the pending match, atomically (a crash can never lose them between the two). A
-- group with a player who left is skipped (its id is '!' and that player) and its players stay
-- queued.
-- KEYS[1] elo zset, KEYS[2] tickets hash, KEYS[3] matched hash, KEYS[4] pending hash,
-- KEYS[5] pending deadlines zset, KEYS[6] the queue's change feed, KEYS[7] its counter;
-- ARGV[1] this call's id prefix (the queue and a UUIDv7: never repeats, even after Redis lost its
-- data), ARGV[2] now, ARGV[3] deadline, ARGV[4] group size,
-- ARGV[5..] player ids, group after group; a match's id is the prefix and its group's number
local size = tonumber(ARGV[4])
local ids = {}
for g = 5, #ARGV, size do
  local missing = nil
  for i = g, g + size - 1 do
    if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
      missing = ARGV[i]
      break
    end
  end
  if missing then
    table.insert(ids, '!' .. missing)
  else
    local id = ARGV[1] .. '-' .. ((g - 5) / size + 1)
    local details = {}
    for i = g, g + size - 1 do
      local player = ARGV[i]
      table.insert(details, player .. '|' .. redis.call('HGET', KEYS[2], player))
      redis.call('ZREM', KEYS[1], player)
      redis.call('HDEL', KEYS[2], player)
      changed(KEYS[6], KEYS[7], '-', player, '')
      redis.call('HSET', KEYS[3], player, id)
    end
    redis.call('HSET', KEYS[4], id, ARGV[2] .. '#1#' .. table.concat(details, ';'))
    redis.call('ZADD', KEYS[5], ARGV[3], id)
    table.insert(ids, id)
  end
end
return ids
