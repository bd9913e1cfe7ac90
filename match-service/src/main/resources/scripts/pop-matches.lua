-- For many matches in one call: for each group of ARGV[4] players, takes them out of the queue
-- AND records the pending match, atomically (a crash can never lose them between the two). A
-- group with a player who left is skipped (an empty entry, then that player) and its players stay
-- queued; a group taken answers its id and then each player's id and ticket as stored (what the
-- match is announced with), as entries of their own: nothing in them needs escaping. A group's players leave the queue with one call per structure (a tick pops thousands
-- of players inside Redis's single thread: every call per player counts).
-- KEYS[1] tickets hash, KEYS[2] matched hash, KEYS[3] pending hash, KEYS[4] pending deadlines
-- zset, KEYS[5] the queue's change feed, KEYS[6] its counter;
-- ARGV[1] this call's id prefix (the queue and a UUIDv7: never repeats, even after Redis lost its
-- data), ARGV[2] now, ARGV[3] deadline, ARGV[4] group size,
-- ARGV[5..] player ids, group after group; a match's id is the prefix and its group's number
local size = tonumber(ARGV[4])
local ids = {}
for g = 5, #ARGV, size do
  local missing = nil
  local seen = {}
  -- One call for the group's tickets (a call per player costs more than the lookups).
  local tickets = redis.call('HMGET', KEYS[1], unpack(ARGV, g, g + size - 1))
  for i = g, g + size - 1 do
    if seen[ARGV[i]] or not tickets[i - g + 1] then
      missing = ARGV[i] -- gone, or twice in the group (a matcher's bug: refused, not short)
      break
    end
    seen[ARGV[i]] = true
  end
  if missing then
    table.insert(ids, '')
    table.insert(ids, missing)
  else
    local id = ARGV[1] .. '-' .. ((g - 5) / size + 1)
    local players, details, matched = {}, {}, {}
    for k = 1, size do
      local player = ARGV[g + k - 1]
      players[k] = player
      details[k] = player .. '|' .. tickets[k]
      matched[2 * k - 1] = player
      matched[2 * k] = id
    end
    redis.call('HDEL', KEYS[1], unpack(players))
    leftTogether(KEYS[5], KEYS[6], players)
    redis.call('HSET', KEYS[2], unpack(matched))
    redis.call('HSET', KEYS[3], id, ARGV[2] .. '#1#' .. table.concat(details, ';'))
    redis.call('ZADD', KEYS[4], ARGV[3], id)
    table.insert(ids, id)
    for k = 1, size do
      table.insert(ids, players[k])
      table.insert(ids, tickets[k])
    end
  end
end
return ids
