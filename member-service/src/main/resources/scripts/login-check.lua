-- How long log-in is locked for a nickname and an address (the longer of the two), in ms; 0: not.
-- KEYS[1] the nickname's failures hash, KEYS[2] the address's; ARGV[1] now (ms)
local now = tonumber(ARGV[1])
local wait = 0
for i = 1, 2 do
  local until_ms = tonumber(redis.call('HGET', KEYS[i], 'locked_until') or '0')
  if until_ms - now > wait then
    wait = until_ms - now
  end
end
return wait
