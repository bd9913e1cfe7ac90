-- A room is confirmed for each of many matches, in one call: the match's players are in a game.
-- Each match assigned is also kept as not yet told to its players (KEYS[6]) until Lifecycle has
-- announced it (Queues.announced): a call whose answer was lost (a timeout, Lettuce sending it
-- again after a reconnect, a crash before the announcement) answers it again, so it is announced
-- once it was seated, whatever happened to the first answer.
-- KEYS[1] matched hash, KEYS[2] pending hash, KEYS[3] pending deadlines zset, KEYS[4] assigned hash,
-- KEYS[5] presence stream, KEYS[6] unannounced hash (match id -> its pending record)
-- ARGV: (match id, channel, room, one of its players) quadruples
-- Returns, per match in order:
--   its pending record (created#attempt#players): in a game and not told yet (assigned now, or
--   before by a call whose announcement has not been made);
--   '=': assigned before to this very match and announced (a redelivery: change nothing);
--   '': not this match's any more (cancelled and requeued, or its game ended first): change
--   nothing.
local result = {}
local answered = {} -- matches answered not announced in this call: a second time is '='
for i = 1, #ARGV, 4 do
  local match, channel, room, someone = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local pending = redis.call('HGET', KEYS[2], match)
  if pending then
    local players = string.match(pending, '^[^#]*#[^#]*#(.*)$')
    for entry in string.gmatch(players, '[^;]+') do
      local player = string.match(entry, '^([^|]*)|')
      redis.call('HDEL', KEYS[1], player)
      redis.call('HSET', KEYS[4], player, match .. '|' .. channel .. '|' .. room)
      redis.call('XADD', KEYS[5], '*', 'p', player, 's', 'IN_GAME', 'm', match)
    end
    redis.call('HDEL', KEYS[2], match)
    redis.call('ZREM', KEYS[3], match)
    redis.call('HSET', KEYS[6], match, pending)
    answered[match] = true
    table.insert(result, pending)
  else
    local seat = redis.call('HGET', KEYS[4], someone)
    if seat and string.sub(seat, 1, #match + 1) == match .. '|' then
      local unannounced = not answered[match] and redis.call('HGET', KEYS[6], match)
      answered[match] = true
      table.insert(result, unannounced or '=')
    else
      table.insert(result, '')
    end
  end
end
return result
