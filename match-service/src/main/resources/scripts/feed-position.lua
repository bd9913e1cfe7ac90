-- Where a queue's change feed stands, read atomically with the queue: how many changes there have
-- been, the id of the newest entry kept ('0-0' if none) and how many players wait. A snapshot of
-- the queue taken after this holds every change up to it, and the feed after that id the rest; a
-- copy caught up to exactly this count must hold exactly that many players.
-- KEYS[1] the queue's change feed, KEYS[2] its counter, KEYS[3] the tickets hash
local count = redis.call('GET', KEYS[2]) or '0'
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if #newest > 0 then
  id = newest[1][1]
end
return {count, id, tostring(redis.call('HLEN', KEYS[3]))}
