-- Leaves the queue if still waiting. Returns CANCELLED, MATCHED, IN_GAME or NOT_QUEUED.
-- KEYS[1] tickets hash, KEYS[2] matched hash, KEYS[3] assigned hash, KEYS[4] presence stream,
-- KEYS[5] the queue's change feed, KEYS[6] its counter
-- ARGV[1] player id
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  changed(KEYS[5], KEYS[6], '-', ARGV[1], '')
  redis.call('XADD', KEYS[4], '*', 'p', ARGV[1], 's', 'LOBBY', 'm', '')
  return 'CANCELLED'
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  return 'MATCHED'
end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  return 'IN_GAME'
end
return 'NOT_QUEUED'
