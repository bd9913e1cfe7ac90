-- Records a player's experience on the leaderboard and remembers their nickname.
-- GT: a late, smaller total (after-commit work can arrive out of order) never lowers the score.
-- KEYS[1] leaderboard zset, KEYS[2] nickname hash
-- ARGV[1] experience, ARGV[2] player id, ARGV[3] nickname
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
