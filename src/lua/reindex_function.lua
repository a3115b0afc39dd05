-- Lua function shared by the scripts that change indexed fields (see index.hpp): reindex(hash,
-- key_at, arg_at) brings the index entries of one model up to date with its hash as it is now.
-- ARGV from arg_at: spec count, model id, then per spec: kind ("n" number, "s" text), field path.
-- KEYS from key_at: per spec, the index (a sorted set); for "s" also its id -> member hash.
-- A number field is scored by its value; a text field is the member "<escaped text>\0\0<id>" of a
-- zero-score set (NUL escaped as NUL 0x01, so the first NUL NUL ends the text and order is kept).
local function reindex(hash, key_at, arg_at)
  local count, id = tonumber(ARGV[arg_at]), ARGV[arg_at + 1]
  arg_at = arg_at + 2
  for _ = 1, count do
    local kind, value = ARGV[arg_at], redis.call('HGET', hash, ARGV[arg_at + 1])
    local index = KEYS[key_at]
    if kind == 'n' then
      local score = value and tonumber(value)
      if score and score == score then
        redis.call('ZADD', index, score, id)
      else
        redis.call('ZREM', index, id)
      end
      key_at = key_at + 1
    else
      local members = KEYS[key_at + 1]
      local previous = redis.call('HGET', members, id)
      if previous then redis.call('ZREM', index, previous) end
      if value then
        local member = (string.gsub(value, '%z', '\0\1')) .. '\0\0' .. id
        redis.call('ZADD', index, 0, member)
        redis.call('HSET', members, id, member)
      elseif previous then
        redis.call('HDEL', members, id)
      end
      key_at = key_at + 2
    end
    arg_at = arg_at + 2
  end
end
