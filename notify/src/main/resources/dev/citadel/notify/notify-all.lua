-- Publishes many notifications in one call (one round trip instead of one per player).
-- No KEYS: pub/sub channels are not keys. ARGV: (channel, message) pairs.
-- Returns how many subscribers received them, in all.
local received = 0
for i = 1, #ARGV, 2 do
  received = received + redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return received
