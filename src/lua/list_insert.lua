-- Python's list.insert(i, v): KEYS = list; ARGV = index, value. Returns the new length.
local length = redis.call('LLEN', KEYS[1])
local i = tonumber(ARGV[1])
if i < 0 then i = math.max(i + length, 0) end
if i >= length then return redis.call('RPUSH', KEYS[1], ARGV[2]) end
if i == 0 then return redis.call('LPUSH', KEYS[1], ARGV[2]) end
local tail = redis.call('LRANGE', KEYS[1], i, -1)
redis.call('LTRIM', KEYS[1], 0, i - 1)
redis.call('RPUSH', KEYS[1], ARGV[2])
for at = 1, #tail, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(tail, at, math.min(at + 999, #tail)))
end
return length + 1
