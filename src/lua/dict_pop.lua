-- Removes and returns the value of one dict entry: KEYS = model hash, dict hash; ARGV = field.
-- Nil when absent.
local value = redis.call('HGET', KEYS[2], ARGV[1])
if value then redis.call('HDEL', KEYS[2], ARGV[1]) end
return value
