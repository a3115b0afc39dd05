-- Repeats a string hash field n times (Python's str * n): KEYS = hash; ARGV = field, n >= 0.
local n = tonumber(ARGV[2])
if not n or n < 0 or n % 1 ~= 0 then return redis.error_reply('ERR the count is not a non-negative integer') end
local value = string.rep(redis.call('HGET', KEYS[1], ARGV[1]) or '', n)
redis.call('HSET', KEYS[1], ARGV[1], value)
return value
