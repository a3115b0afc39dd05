-- Removes and returns the value of one hash field: KEYS = hash; ARGV = field. Nil when absent.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then redis.call('HDEL', KEYS[1], ARGV[1]) end
return value
