-- A game is over: its players are no longer in it. Compare-and-delete: only a seat in THIS match
-- goes (a player already in a newer game, or queued again, is left alone). Idempotent.
-- KEYS[1] assigned hash, KEYS[2] presence stream; ARGV[1] match id, ARGV[2..] players
-- Returns how many players left the game now.
local left = 0
for i = 2, #ARGV do
  local seat = redis.call('HGET', KEYS[1], ARGV[i])
  if seat and string.sub(seat, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('XADD', KEYS[2], '*', 'p', ARGV[i], 's', 'LOBBY', 'm', '')
    left = left + 1
  end
end
return left
