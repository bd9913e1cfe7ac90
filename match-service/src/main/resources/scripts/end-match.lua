-- A game is over (game-state's MatchEnded): its players are back in the lobby, and the match is
-- remembered as ended for a while, so a room confirmation that arrives after the end (another
-- topic, another partition) cannot seat anyone in it. A match still pending here (its room was
-- placed and its game ended before the confirmation came) is released too. Compare-and-delete: a
-- player already in a newer game, or queued again, is left alone. Idempotent.
-- KEYS[1] matched hash, KEYS[2] pending hash, KEYS[3] pending deadlines zset, KEYS[4] assigned
-- hash, KEYS[5] ended zset (match -> ended at), KEYS[6] presence stream
-- ARGV[1] match id, ARGV[2] now ms, ARGV[3] how long an end is remembered (ms), ARGV[4..] players
-- Returns the players who left the game (or the pending match) now.
local match = ARGV[1]
local now = tonumber(ARGV[2])
redis.call('ZADD', KEYS[5], now, match)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - tonumber(ARGV[3]))
local left = {}
local pending = redis.call('HGET', KEYS[2], match)
if pending then
  local players = string.match(pending, '^[^#]*#[^#]*#(.*)$')
  for entry in string.gmatch(players, '[^;]+') do
    local player = string.match(entry, '^([^|]*)|')
    if redis.call('HGET', KEYS[1], player) == match then
      redis.call('HDEL', KEYS[1], player)
      redis.call('XADD', KEYS[6], '*', 'p', player, 's', 'LOBBY', 'm', '')
      table.insert(left, player)
    end
  end
  redis.call('HDEL', KEYS[2], match)
  redis.call('ZREM', KEYS[3], match)
end
for i = 4, #ARGV do
  local seat = redis.call('HGET', KEYS[4], ARGV[i])
  if seat and string.sub(seat, 1, #match + 1) == match .. '|' then
    redis.call('HDEL', KEYS[4], ARGV[i])
    redis.call('XADD', KEYS[6], '*', 'p', ARGV[i], 's', 'LOBBY', 'm', '')
    table.insert(left, ARGV[i])
  end
end
return left
