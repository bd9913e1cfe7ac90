-- An unanswered match gets one more try: the next attempt with a new deadline. Returns the new
-- attempt number (again for the same call repeated), or 0 if the match is no longer pending, or no
-- longer at the attempt the caller saw, or not due (every replica's expiry lists overdue matches: only one moves each attempt on,
-- so the re-send is never skipped by a second replica's cancel right behind it).
-- KEYS[1] pending hash, KEYS[2] pending deadlines zset
-- ARGV[1] match id, ARGV[2] new deadline, ARGV[3] the attempt the caller saw, ARGV[4] now
local pending = redis.call('HGET', KEYS[1], ARGV[1])
if not pending then
  return 0
end
local created, attempt, players = string.match(pending, '^([^#]*)#([^#]*)#(.*)$')
local due = redis.call('ZSCORE', KEYS[2], ARGV[1])
-- This very call, run before (its reply lost; Lettuce sends a script again after a reconnect, and
-- a caller whose call timed out asks again): the attempt it moved to and the deadline it wrote.
-- Answered again, so its re-send is not skipped. (Another replica's call writes its own deadline.)
if tonumber(attempt) == tonumber(ARGV[3]) + 1 and due and tonumber(due) == tonumber(ARGV[2]) then
  return tonumber(attempt)
end
if attempt ~= ARGV[3] then
  return 0
end
if due and tonumber(due) > tonumber(ARGV[4]) then
  return 0
end
local next = tonumber(attempt) + 1
redis.call('HSET', KEYS[1], ARGV[1], created .. '#' .. next .. '#' .. players)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return next
