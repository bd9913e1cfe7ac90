-- A token bucket (Spring Cloud Gateway's, on the same keys) that gives up to the tokens asked
-- for, not all or nothing: a gateway replica leases a busy key's tokens in one call and spends
-- them itself. The time is Redis's own (every replica refills by one clock), in microseconds.
-- KEYS: tokens, timestamp. ARGV: tokens per second, capacity, tokens wanted, the fewest that
-- will do (the request's own), tokens given back (what an expired lease left unused).
-- Returns { tokens given (0: refused), tokens left in the bucket }.
redis.replicate_commands()

local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local fewest = tonumber(ARGV[4])
local back = tonumber(ARGV[5]) or 0
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000

local tokens = tonumber(redis.call('get', KEYS[1])) or capacity
local last = tonumber(redis.call('get', KEYS[2])) or 0
local filled = math.min(capacity, tokens + back + math.max(0, now - last) * rate)
local given = math.min(wanted, math.floor(filled))
if given < fewest then
  given = 0
end
local ttl = math.max(1, math.ceil(capacity / rate * 2))
redis.call('setex', KEYS[1], ttl, string.format('%.6f', filled - given))
redis.call('setex', KEYS[2], ttl, string.format('%.6f', now))
return { given, math.floor(filled - given) }
