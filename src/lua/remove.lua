-- Deletes a model and its index entries: KEYS = model keys, index keys; ARGV = model key count,
-- then the index section of reindex(). Returns DEL's count.
-- Built after reindex_function.lua (cmake/RapyerScripts.cmake), whose reindex() it calls.
local model_keys = tonumber(ARGV[1])
local deleted = redis.call('DEL', unpack(KEYS, 1, model_keys))
reindex(KEYS[1], model_keys + 1, 2)
return deleted
