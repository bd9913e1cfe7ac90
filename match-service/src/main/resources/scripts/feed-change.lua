-- Prepended by Queues to every script that changes who waits: the queue's change feed (the
-- matcher reads only what changed since its last tick); each entry carries the counter's next
-- value, so a reader sees a gap (trimmed, Redis lost its data).
local function changed(stream, counter, op, player, ticket)
  local seq = redis.call('INCR', counter)
  redis.call('XADD', stream, 'MAXLEN', '~', 200000, '*', 's', seq, 'o', op, 'p', player, 't', ticket)
end
