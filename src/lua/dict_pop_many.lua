-- Removes and returns up to a count of (field, value) of a hash: KEYS = model hash, dict hash;
-- ARGV = count (checked by HRANDFIELD). Returns field, value, ... (empty when the hash is).
local entries = redis.call('HRANDFIELD', KEYS[2], ARGV[1], 'WITHVALUES')
for i = 1, #entries, 2 do
  redis.call('HDEL', KEYS[2], entries[i])
end
return entries
