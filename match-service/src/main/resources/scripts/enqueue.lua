-- Puts players in a queue: one ticket per player, never while matched or in a game, and never
-- while the player waits, is matched or plays in ANY other queue (every queue's keys share the
-- hash tag {mq}, so this one script sees them all and the check cannot race another enqueue).
-- The tickets of the players let in are written together, a thousand values an HSET (a bulk
-- enqueue of a thousand players runs inside Redis's single thread: every call per player counts).
-- KEYS[1] tickets hash, KEYS[2] matched hash, KEYS[3] assigned hash of this queue; then
-- tickets, matched and assigned hashes of each other queue, in ARGV[4..] order; last the
-- presence stream, the queue's change feed and its counter
-- ARGV[1] now, ARGV[2] how many other queues (n), ARGV[3] '1' to record presence (a real player)
-- or '0' (load-test players, who have no account), ARGV[4..3+n] their names, then
-- (player, elo, nickname) triples
-- Returns one status per player: OK, QUEUED, MATCHED, IN_GAME or ELSEWHERE:<queue>
local now = ARGV[1]
local others = tonumber(ARGV[2])
local record = ARGV[3] == '1'
local presence = KEYS[#KEYS - 2]
local feed, counter = KEYS[#KEYS - 1], KEYS[#KEYS]
local function elsewhere(player)
  for q = 1, others do
    local base = 3 + (q - 1) * 3
    for part = 1, 3 do
      if redis.call('HEXISTS', KEYS[base + part], player) == 1 then
        return ARGV[3 + q]
      end
    end
  end
  return nil
end
local result = {}
local fields, seen = {}, {} -- fields: player, ticket, player, ticket, ...
for i = 4 + others, #ARGV, 3 do
  local player, elo, nick = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local other = elsewhere(player)
  if seen[player] or redis.call('HEXISTS', KEYS[1], player) == 1 then
    table.insert(result, 'QUEUED')
  elseif redis.call('HEXISTS', KEYS[2], player) == 1 then
    table.insert(result, 'MATCHED')
  elseif redis.call('HEXISTS', KEYS[3], player) == 1 then
    table.insert(result, 'IN_GAME')
  elseif other then
    table.insert(result, 'ELSEWHERE:' .. other)
  else
    seen[player] = true
    local ticket = elo .. '|' .. now .. '|' .. nick
    fields[#fields + 1] = player
    fields[#fields + 1] = ticket
    if record then
      redis.call('XADD', presence, '*', 'p', player, 's', 'QUEUED', 'm', '')
    end
    table.insert(result, 'OK')
  end
end
-- In pieces: Lua unpacks at most a few thousand values into one call.
for from = 1, #fields, 1000 do
  redis.call('HSET', KEYS[1], unpack(fields, from, math.min(from + 999, #fields)))
end
for k = 1, #fields, 2 do
  changed(feed, counter, '+', fields[k], fields[k + 1])
end
return result
