-- One plain command on a field of a model, run only while the model exists (model_guard.lua):
-- KEYS = model hash, the key the command works on (the hash itself for a scalar field, the
-- collection's key for a collection field); ARGV = the command's name, its arguments after the
-- key. Returns the command's reply, an error reply unchanged.
return redis.pcall(ARGV[1], KEYS[2], unpack(ARGV, 2))
