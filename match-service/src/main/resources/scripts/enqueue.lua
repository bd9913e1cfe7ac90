-- Puts players in a queue: one ticket per player, never while matched or in a game.
-- KEYS[1] elo zset, KEYS[2] tickets hash, KEYS[3] matched hash, KEYS[4] assigned hash
-- ARGV: now, then (player, elo, nickname) triples
-- Returns one status per player: OK, QUEUED, MATCHED or IN_GAME
local now = ARGV[1]
local result = {}
for i = 2, #ARGV, 3 do
  local player, elo, nick = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HEXISTS', KEYS[2], player) == 1 then
    table.insert(result, 'QUEUED')
  elseif redis.call('HEXISTS', KEYS[3], player) == 1 then
    table.insert(result, 'MATCHED')
  elseif redis.call('HEXISTS', KEYS[4], player) == 1 then
    table.insert(result, 'IN_GAME')
  else
    redis.call('ZADD', KEYS[1], elo, player)
    redis.call('HSET', KEYS[2], player, elo .. '|' .. now .. '|' .. nick)
    table.insert(result, 'OK')
  end
end
return result
