-- Python's del lst[start:end]: KEYS = model hash, list; ARGV = start, end, unique tombstone.
-- Returns the count.
local length = redis.call('LLEN', KEYS[2])
local first, last = tonumber(ARGV[1]), tonumber(ARGV[2])
if first < 0 then first = math.max(first + length, 0) end
if last < 0 then last = math.max(last + length, 0) end
if last > length then last = length end
if first >= last then return 0 end
for i = first, last - 1 do redis.call('LSET', KEYS[2], i, ARGV[3]) end
redis.call('LREM', KEYS[2], 0, ARGV[3])
return last - first
