-- A game is over (game-state's MatchEnded): its players are back in the lobby. A match still
-- pending here (its room was placed and its game ended before the confirmation, on another
-- topic, was read) is released too, so that confirmation, when it comes, finds nothing pending
-- and seats nobody. Compare-and-delete: a player already in a newer game, or queued again, is
-- left alone. Idempotent.
-- A game over is not announced any more when its confirmation is handled again.
-- KEYS[1] matched hash, KEYS[2] pending hash, KEYS[3] pending deadlines zset, KEYS[4] assigned
-- hash, KEYS[5] presence stream, KEYS[6] unannounced hash
-- ARGV[1] match id, ARGV[2..] players
-- Returns the players who left the game (or the pending match) now.
local match = ARGV[1]
local left = {}
redis.call('HDEL', KEYS[6], match)
local pending = redis.call('HGET', KEYS[2], match)
if pending then
  local players = string.match(pending, '^[^#]*#[^#]*#(.*)$')
  for entry in string.gmatch(players, '[^;]+') do
    local player = string.match(entry, '^([^|]*)|')
    if redis.call('HGET', KEYS[1], player) == match then
      redis.call('HDEL', KEYS[1], player)
      redis.call('XADD', KEYS[5], '*', 'p', player, 's', 'LOBBY', 'm', '')
      table.insert(left, player)
    end
  end
  redis.call('HDEL', KEYS[2], match)
  redis.call('ZREM', KEYS[3], match)
end
for i = 2, #ARGV do
  local seat = redis.call('HGET', KEYS[4], ARGV[i])
  if seat and string.sub(seat, 1, #match + 1) == match .. '|' then
    redis.call('HDEL', KEYS[4], ARGV[i])
    redis.call('XADD', KEYS[5], '*', 'p', ARGV[i], 's', 'LOBBY', 'm', '')
    table.insert(left, ARGV[i])
  end
end
return left
