-- Brings a model's index entries up to date after a field operation, or removes those of a model
-- that expired: KEYS = model hash, index keys; ARGV = the index section of reindex().
-- Built after reindex_function.lua (cmake/RapyerScripts.cmake), whose reindex() it calls.
reindex(KEYS[1], 2, 1)
return 1
