-- Many leaderboard updates in one call, in the order they were committed. Each is seven
-- arguments: kind, player id, nickname, value, games, key index, the player's stream version.
--   'x': the player's experience total. ZADD GT: a late, smaller total never lowers the score.
--   'r': the player's rating in a queue, in KEYS[index] (the queue's rating zset) and
--        KEYS[index + 1] (games per player). Ratings go down as well as up, so the newest one
--        wins by its number of games, not by its value.
-- Both remember the nickname, unless a newer version's is stored already (updates batched on
-- two instances can land out of order: an older one must not bring back a nickname changed since).
-- KEYS[1] the experience zset, KEYS[2] the nickname hash, KEYS[3] each nickname's version.
local n = #ARGV / 7
for i = 0, n - 1 do
  local b = i * 7
  local kind, id, value = ARGV[b + 1], ARGV[b + 2], ARGV[b + 4]
  if kind == 'x' then
    redis.call('ZADD', KEYS[1], 'GT', value, id)
  else
    local k = tonumber(ARGV[b + 6])
    local games = tonumber(ARGV[b + 5])
    local seen = tonumber(redis.call('HGET', KEYS[k + 1], id) or '0')
    if games > seen then
      redis.call('ZADD', KEYS[k], value, id)
      redis.call('HSET', KEYS[k + 1], id, ARGV[b + 5])
    end
  end
  local version = tonumber(ARGV[b + 7])
  local stored = tonumber(redis.call('HGET', KEYS[3], id) or '-1')
  if version >= stored then
    redis.call('HSET', KEYS[2], id, ARGV[b + 3])
    redis.call('HSET', KEYS[3], id, ARGV[b + 7])
  end
end
return n
