-- Leaves the queue if still waiting. Returns CANCELLED, MATCHED, IN_GAME or NOT_QUEUED.
-- KEYS[1] elo zset, KEYS[2] tickets hash, KEYS[3] matched hash, KEYS[4] assigned hash,
-- KEYS[5] presence stream, KEYS[6] the queue's change feed, KEYS[7] its counter
-- ARGV[1] player id
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  changed(KEYS[6], KEYS[7], '-', ARGV[1], '')
  redis.call('XADD', KEYS[5], '*', 'p', ARGV[1], 's', 'LOBBY', 'm', '')
  return 'CANCELLED'
end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  return 'MATCHED'
end
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then
  return 'IN_GAME'
end
return 'NOT_QUEUED'
