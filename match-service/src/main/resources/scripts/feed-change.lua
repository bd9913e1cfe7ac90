-- Prepended by Queues to every script that changes who waits: the queue's change feed (the
-- matcher reads only what changed since its last tick); each entry carries the counter's next
-- value, so a reader sees a gap (trimmed, Redis lost its data).
local function changed(stream, counter, op, player, ticket)
  local seq = redis.call('INCR', counter)
  redis.call('XADD', stream, 'MAXLEN', '~', 200000, '*', 's', seq, 'o', op, 'p', player, 't', ticket)
end
-- The same for many players at once (tickets[k] for players[k]; '' for a leave): one counter
-- call, entries in the same order and with the same numbers as one call each would give.
local function changedMany(stream, counter, op, players, tickets)
  local n = #players
  if n == 0 then
    return
  end
  local first = redis.call('INCRBY', counter, n) - n
  for k = 1, n do
    redis.call('XADD', stream, 'MAXLEN', '~', 200000, '*', 's', first + k, 'o', op,
      'p', players[k], 't', tickets and tickets[k] or '')
  end
end
