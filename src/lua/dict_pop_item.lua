-- Removes and returns some (field, value) of a hash: KEYS = model hash, dict hash. Nil when empty.
local field = redis.call('HRANDFIELD', KEYS[2])
if not field then return false end
local value = redis.call('HGET', KEYS[2], field)
redis.call('HDEL', KEYS[2], field)
return {field, value}
