-- Takes the relayed presence changes off the stream's start, where XDEL of a thousand ids looked
-- each up (8-11 ms of Redis's single thread a batch under a 100,000-player round). Only while the
-- stream still starts with ARGV[1], the first entry the relay read, and still holds ARGV[2], the
-- last one: ids only grow and nothing deletes from the middle, so the ARGV[3] oldest entries are
-- then exactly the ones it read and sent (kept the newest XLEN - ARGV[3], as XTRIM MAXLEN does
-- since Redis 5: no id arithmetic, and none of MINID's trimming bug before 6.2.7). Otherwise
-- (another relay trimmed first; Redis lost the stream, or its newest entries, and began again)
-- nothing is taken: at worst a change is sent twice, which readers ignore.
-- KEYS[1] presence stream; ARGV[1] first id relayed, ARGV[2] last id relayed, ARGV[3] how many
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #head == 0 or head[1][1] ~= ARGV[1] then
  return 0
end
if #redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2]) == 0 then
  return 0
end
local keep = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[3])
if keep < 0 then
  return 0
end
return redis.call('XTRIM', KEYS[1], 'MAXLEN', keep)
