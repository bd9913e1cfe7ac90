-- Takes the relayed presence changes off the stream's start, where XDEL of a thousand ids looked
-- each up (8-11 ms of Redis's single thread a batch under a 100,000-player round). Only while the
-- stream still starts with exactly the entries the relay read and sent (the same ids, in order,
-- each still the same player's, nothing before or among them): they then go by count (XTRIM
-- MAXLEN to the newest XLEN - n, Redis 5+: no id arithmetic, and none of MINID's trimming bug
-- before 6.2.7). Otherwise nothing goes: another relay trimmed first (they went after its send),
-- or Redis lost the stream or its newest entries and began again (new entries may then sit before,
-- among or even on the ids read: the player tells those apart, unless the same player's change
-- got the very same id).
-- KEYS[1] presence stream; ARGV[1..n] the ids relayed, oldest first, ARGV[n+1..2n] their players
-- ('' for an entry without one)
local n = #ARGV / 2
if n < 1 then
  return 0
end
-- From the stream's start: an entry before the first one read shows up here as well.
local read = redis.call('XRANGE', KEYS[1], '-', ARGV[n], 'COUNT', n + 1)
if #read ~= n then
  return 0
end
for i = 1, n do
  if read[i][1] ~= ARGV[i] then
    return 0
  end
  local fields, player = read[i][2], nil
  for f = 1, #fields, 2 do
    if fields[f] == 'p' then
      player = fields[f + 1]
    end
  end
  if (player or '') ~= ARGV[n + i] then
    return 0
  end
end
return redis.call('XTRIM', KEYS[1], 'MAXLEN', redis.call('XLEN', KEYS[1]) - n)
