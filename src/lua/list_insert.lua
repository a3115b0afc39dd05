-- Python's list.insert(i, v): KEYS = model hash, list; ARGV = index, value. Returns the new length.
local length = redis.call('LLEN', KEYS[2])
local i = tonumber(ARGV[1])
if i < 0 then i = math.max(i + length, 0) end
if i >= length then return redis.call('RPUSH', KEYS[2], ARGV[2]) end
if i == 0 then return redis.call('LPUSH', KEYS[2], ARGV[2]) end
local tail = redis.call('LRANGE', KEYS[2], i, -1)
redis.call('LTRIM', KEYS[2], 0, i - 1)
redis.call('RPUSH', KEYS[2], ARGV[2])
for at = 1, #tail, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(tail, at, math.min(at + 999, #tail)))
end
return length + 1
