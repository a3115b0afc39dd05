-- Prepended to every script on a field of a model (cmake/RapyerScripts.cmake), whose KEYS[1] is
-- the model's hash. Every stored model has that hash (its marker field), so when it is gone (never
-- saved, deleted, expired) the operation writes nothing: writing would leave keys that are half a
-- model. The caller turns the NOMODEL reply into key_not_found.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOMODEL ' .. KEYS[1])
end
