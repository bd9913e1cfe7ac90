-- Where a player stands in one queue, read at one moment: three separate reads could miss a player
-- moved between them (matched back to waiting by a requeue, say) and answer NOT_QUEUED.
-- KEYS[1] tickets, KEYS[2] matched, KEYS[3] assigned; ARGV[1] player
-- Returns {'WAITING', ticket, how many wait}, {'MATCHED', match}, {'IN_GAME', seat} or
-- {'NOT_QUEUED'}.
local ticket = redis.call('HGET', KEYS[1], ARGV[1])
if ticket then
  return {'WAITING', ticket, tostring(redis.call('HLEN', KEYS[1]))}
end
local match = redis.call('HGET', KEYS[2], ARGV[1])
if match then
  return {'MATCHED', match}
end
local seat = redis.call('HGET', KEYS[3], ARGV[1])
if seat then
  return {'IN_GAME', seat}
end
return {'NOT_QUEUED'}
