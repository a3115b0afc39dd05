-- Removes and returns some (field, value) of a hash: KEYS = hash. Nil when empty.
local field = redis.call('HRANDFIELD', KEYS[1])
if not field then return false end
local value = redis.call('HGET', KEYS[1], field)
redis.call('HDEL', KEYS[1], field)
return {field, value}
