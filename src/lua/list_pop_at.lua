-- Removes and returns the element at an index: KEYS = model hash, list; ARGV = index, unique
-- tombstone.
local value = redis.call('LINDEX', KEYS[2], ARGV[1])
if not value then return false end
redis.call('LSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('LREM', KEYS[2], 1, ARGV[2])
return value
