-- save.lua when no model is stored at KEYS[1], with save.lua's KEYS and ARGV: returns 0 and writes
-- nothing when the model hash exists, else saves and returns save.lua's 1. Built between
-- reindex_function.lua and save.lua (cmake/RapyerScripts.cmake), so the save is save.lua itself.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
