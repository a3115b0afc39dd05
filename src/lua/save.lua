-- Replaces a model (or only its collections) and updates its index entries: KEYS = model hash,
-- collection keys, index keys. ARGV = ttl_ms ("0" keeps the current TTL), version field ("" for
-- none), expected version text, hash pair count (-1 leaves the hash alone), collection key count,
-- pairs..., then per collection key: kind ("l", "h", "s"), item count, items...; then the index
-- section of reindex(). A version mismatch (compared as text) changes nothing, and so does a save
-- of only the collections of a model that does not exist (NOMODEL, as model_guard.lua).
-- Built after reindex_function.lua (cmake/RapyerScripts.cmake), whose reindex() it calls.
local function push(command, key, first, count)
  local last = first + count - 1
  while first <= last do
    local upto = math.min(first + 999, last)
    redis.call(command, key, unpack(ARGV, first, upto))
    first = upto + 1
  end
end
if ARGV[2] ~= '' then
  local current = redis.call('HGET', KEYS[1], ARGV[2]) or '0'
  if current ~= ARGV[3] then
    return redis.error_reply('VERSIONCONFLICT ' .. KEYS[1] .. ' is at version ' .. current .. ', not ' .. ARGV[3])
  end
end
local pair_count, last_key = tonumber(ARGV[4]), 1 + tonumber(ARGV[5])
local previous_ttl = redis.call('PTTL', KEYS[1])
if pair_count < 0 and previous_ttl == -2 then return redis.error_reply('NOMODEL ' .. KEYS[1]) end
local at = 6
if pair_count >= 0 then
  redis.call('DEL', unpack(KEYS, 1, last_key))
  push('HSET', KEYS[1], at, pair_count * 2)
  at = at + pair_count * 2
elseif last_key > 1 then
  redis.call('DEL', unpack(KEYS, 2, last_key))
end
local commands = {l = 'RPUSH', h = 'HSET', s = 'SADD'}
for k = 2, last_key do
  local count = tonumber(ARGV[at + 1])
  push(commands[ARGV[at]], KEYS[k], at + 2, count)
  at = at + 2 + count
end
local ttl = tonumber(ARGV[1])
if ttl <= 0 then ttl = previous_ttl end
if ttl > 0 then
  for k = 1, last_key do redis.call('PEXPIRE', KEYS[k], ttl) end
end
reindex(KEYS[1], last_key + 1, at)
return 1
