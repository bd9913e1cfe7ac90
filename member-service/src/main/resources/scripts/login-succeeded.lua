-- The attempt login-attempt.lua counted was a success. The nickname with this address starts
-- again; the nickname-wide and the address counts lose this one attempt only (a success must not
-- hand an attacker guessing the same account a fresh budget); the address becomes a known one.
-- KEYS[1] nickname+address, KEYS[2] nickname, KEYS[3] address, KEYS[4] known addresses
-- ARGV[1] nickname threshold, ARGV[2] address threshold, ARGV[3] now ms, ARGV[4] the address,
-- ARGV[5] how long an address stays known (ms), ARGV[6] how many addresses are kept,
-- ARGV[7] 1 if login-attempt.lua counted the nickname-wide key for this attempt, else 0,
-- ARGV[8..13] per key, as login-attempt.lua returned them: the lock before the attempt ('' none)
-- and the lock the attempt set ('' none), for take_back (login-take-back.lua, which
-- LoginThrottle puts before this text): the right password must not lock everyone else out.
-- KEYS[5] the attempt's record (login-attempt.lua): the wider counts lose this attempt only if the
-- record is still there, so an attempt is never taken back twice (its caller gone at the same moment
-- took it back by the record already).
redis.call('DEL', KEYS[1])
if redis.call('DEL', KEYS[5]) == 1 then
  for i = 2, 3 do
    if i == 3 or ARGV[7] == '1' then
      take_back(KEYS[i], tonumber(ARGV[i - 1]), ARGV[6 + 2 * i], ARGV[7 + 2 * i])
    end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[5]))
redis.call('ZADD', KEYS[4], tonumber(ARGV[3]), ARGV[4])
local keep = tonumber(ARGV[6])
local size = redis.call('ZCARD', KEYS[4])
if size > keep then
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, size - keep - 1)
end
redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[5]))
return 0
