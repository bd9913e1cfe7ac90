-- Records a player's rating in a queue. Ratings go down as well as up, so the newest one wins by
-- its number of games, not by its value: a late after-commit update never replaces a newer one.
-- KEYS[1] the queue's rating zset, KEYS[2] games per player (hash), KEYS[3] nickname hash
-- ARGV[1] rating, ARGV[2] games, ARGV[3] player id, ARGV[4] nickname
local seen = tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0')
if tonumber(ARGV[2]) > seen then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
return 1
