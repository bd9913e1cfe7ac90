-- The attempt login-attempt.lua counted got no verdict: its password was never checked (bcrypt's
-- queue was full, the store failed). It is taken back from every key it counted, and a lock falls
-- with it when that key is then below its threshold: a player told to try again in a second (503)
-- must not lock themselves, or everyone behind their address, out for trying again. Nothing else
-- changes (the address does not become a known one; nothing is reset).
-- KEYS[1] nickname+address, KEYS[2] nickname, KEYS[3] address
-- ARGV[1..3] thresholds of the three keys,
-- ARGV[4] 1 if login-attempt.lua counted the nickname-wide key for this attempt, else 0,
-- ARGV[5..10] per key, as login-attempt.lua returned them: the lock before the attempt ('' none)
-- and the lock the attempt set ('' none), for take_back (login-take-back.lua, which
-- LoginThrottle puts before this text).
-- KEYS[4] the attempt's record: taken back only while it is there (once, whoever asks first).
if redis.call('DEL', KEYS[4]) == 0 then
  return 0
end
for i = 1, 3 do
  if i ~= 2 or ARGV[4] == '1' then
    take_back(KEYS[i], tonumber(ARGV[i]), ARGV[3 + 2 * i], ARGV[4 + 2 * i])
  end
end
return 0
