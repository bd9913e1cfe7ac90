-- An attempt whose reply its caller never got (Redis too slow to answer in time, the caller gone):
-- login-attempt.lua may or may not have counted it. It kept its reply under KEYS[4] if it did;
-- then the attempt is taken back from every key it counted, as login-withdrawn.lua takes back one
-- that got no verdict (its password was never checked), and the record goes. Without a record
-- nothing was counted (or it was forgotten already): nothing changes. Without it, a player whose
-- log-ins met a stalled Redis five times was locked out without one wrong password.
-- KEYS[1] nickname+address, KEYS[2] nickname, KEYS[3] address, KEYS[4] the attempt's record
-- ARGV[1..3] thresholds of the three keys
-- Returns 1 if an attempt was taken back, 0 if there was none.
local r = redis.call('HGETALL', KEYS[4])
if #r == 0 then
  return 0
end
local f = {}
for i = 1, #r, 2 do
  f[r[i]] = r[i + 1]
end
for i = 1, 3 do
  if i ~= 2 or f['c'] == '0' then
    take_back(KEYS[i], tonumber(ARGV[i]), f[tostring(2 * i - 1)], f[tostring(2 * i)])
  end
end
redis.call('DEL', KEYS[4])
return 1
