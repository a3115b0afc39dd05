-- Appends to a string hash field: KEYS = hash; ARGV = field, suffix. Returns the new value.
local value = (redis.call('HGET', KEYS[1], ARGV[1]) or '') .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], value)
return value
