-- Prepended by Queues to every script that changes who waits: the queue's change feed (the
-- matcher reads only what changed since its last tick); each entry carries the counter's next
-- value, so a reader sees a gap (trimmed, Redis lost its data).
local function changed(stream, counter, op, player, ticket)
  local seq = redis.call('INCR', counter)
  redis.call('XADD', stream, 'MAXLEN', '~', 200000, '*', 's', seq, 'o', op, 'p', player, 't', ticket)
end
-- Players who left together (a popped match): ONE entry for all of them, numbered from 's' on,
-- 'n' of them as 'p1'..'pn' (a tick pops thousands: one entry each would double the feed's size
-- and its reading). Written only by the matcher's pops, which the matcher holding the queue also
-- reads; joins and cancels stay one entry each, as readers of every version know them.
local function leftTogether(stream, counter, players)
  local n = #players
  if n == 0 then
    return
  end
  local fields = {'s', redis.call('INCRBY', counter, n) - n + 1, 'o', '-', 'n', n}
  for k = 1, n do
    fields[#fields + 1] = 'p' .. k
    fields[#fields + 1] = players[k]
  end
  redis.call('XADD', stream, 'MAXLEN', '~', 200000, '*', unpack(fields))
end
