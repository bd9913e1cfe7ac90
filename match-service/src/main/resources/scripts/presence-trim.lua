-- Takes relayed presence changes out of the stream: every entry before ARGV[2] (the id after the
-- last one relayed), in whole nodes (XTRIM MINID), where XDEL of a thousand ids looked each up
-- (8 ms of Redis's single thread a batch under a load test). Only while the stream still starts
-- with ARGV[1], the first entry the relay read: ids only grow, so every entry before ARGV[2] is
-- then one the relay read and sent. Otherwise (another relay trimmed first, the stream was lost
-- and begun again) nothing is taken: at worst a change is sent twice, which readers ignore.
-- KEYS[1] presence stream; ARGV[1] first id relayed, ARGV[2] the id after the last one relayed
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #head == 0 or head[1][1] ~= ARGV[1] then
  return 0
end
return redis.call('XTRIM', KEYS[1], 'MINID', ARGV[2])
