// The Lua scripts behind operations that need a read and a write in one atomic step. They move
// strings and compute indices; user numbers are never parsed by Lua except where the script checks
// that they are integers within the exactly representable range (|n| < 2^53), and where an index
// scores a number field (a sorted-set score is a double; queries re-check exact values).
#pragma once

#include <string>
#include <string_view>

#include "rapyer/detail/script.hpp"

namespace rapyer::detail::scripts {

/// Lua function shared by the scripts that change indexed fields (see index.hpp): reindex(hash,
/// key_at, arg_at) brings the index entries of one model up to date with its hash as it is now.
/// ARGV from arg_at: spec count, model id, then per spec: kind ("n" number, "s" text), field path.
/// KEYS from key_at: per spec, the index (a sorted set); for "s" also its id -> member hash.
/// A number field is scored by its value; a text field is the member "<escaped text>\0\0<id>" of a
/// zero-score set (NUL escaped as NUL 0x01, so the first NUL NUL ends the text and order is kept).
inline constexpr std::string_view reindex_function = R"lua(
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
)lua";

/// Replaces a model (or only its collections) and updates its index entries: KEYS = model hash,
/// collection keys, index keys. ARGV = ttl_ms ("0" keeps the current TTL), version field ("" for
/// none), expected version text, hash pair count (-1 leaves the hash alone), collection key count,
/// pairs..., then per collection key: kind ("l", "h", "s"), item count, items...; then the index
/// section of reindex(). A version mismatch (compared as text) changes nothing.
inline const script save{std::string(reindex_function) + R"lua(
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
local previous_ttl = redis.call('PTTL', KEYS[1])
local pair_count, last_key = tonumber(ARGV[4]), 1 + tonumber(ARGV[5])
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
)lua"};

/// Deletes a model and its index entries: KEYS = model keys, index keys; ARGV = model key count,
/// then the index section of reindex(). Returns DEL's count.
inline const script remove{std::string(reindex_function) + R"lua(
local model_keys = tonumber(ARGV[1])
local deleted = redis.call('DEL', unpack(KEYS, 1, model_keys))
reindex(KEYS[1], model_keys + 1, 2)
return deleted
)lua"};

/// Brings a model's index entries up to date after a field operation, or removes those of a model
/// that expired: KEYS = model hash, index keys; ARGV = the index section of reindex().
inline const script reindex{std::string(reindex_function) + R"lua(
reindex(KEYS[1], 2, 1)
return 1
)lua"};

/// Sets the expiry of several keys at once: KEYS = keys; ARGV = ttl in seconds.
inline const script expire_all{R"lua(
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
return #KEYS
)lua"};

/// A lock's compare-and-delete. KEYS = lock; ARGV = token. 1 when it was ours.
inline const script lock_release{R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua"};

/// A lock's compare-and-extend. KEYS = lock; ARGV = token, ttl ms. 1 when it was ours.
inline const script lock_extend{R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua"};

/// Python's list.insert(i, v): KEYS = list; ARGV = index, value. Returns the new length.
inline const script list_insert{R"lua(
local length = redis.call('LLEN', KEYS[1])
local i = tonumber(ARGV[1])
if i < 0 then i = math.max(i + length, 0) end
if i >= length then return redis.call('RPUSH', KEYS[1], ARGV[2]) end
if i == 0 then return redis.call('LPUSH', KEYS[1], ARGV[2]) end
local tail = redis.call('LRANGE', KEYS[1], i, -1)
redis.call('LTRIM', KEYS[1], 0, i - 1)
redis.call('RPUSH', KEYS[1], ARGV[2])
for at = 1, #tail, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(tail, at, math.min(at + 999, #tail)))
end
return length + 1
)lua"};

/// Removes and returns the element at an index: KEYS = list; ARGV = index, unique tombstone.
inline const script list_pop_at{R"lua(
local value = redis.call('LINDEX', KEYS[1], ARGV[1])
if not value then return false end
redis.call('LSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('LREM', KEYS[1], 1, ARGV[2])
return value
)lua"};

/// Python's del lst[start:end]: KEYS = list; ARGV = start, end, unique tombstone. Returns the count.
inline const script list_remove_range{R"lua(
local length = redis.call('LLEN', KEYS[1])
local first, last = tonumber(ARGV[1]), tonumber(ARGV[2])
if first < 0 then first = math.max(first + length, 0) end
if last < 0 then last = math.max(last + length, 0) end
if last > length then last = length end
if first >= last then return 0 end
for i = first, last - 1 do redis.call('LSET', KEYS[1], i, ARGV[3]) end
redis.call('LREM', KEYS[1], 0, ARGV[3])
return last - first
)lua"};

/// Removes and returns the value of one hash field: KEYS = hash; ARGV = field. Nil when absent.
inline const script dict_pop{R"lua(
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then redis.call('HDEL', KEYS[1], ARGV[1]) end
return value
)lua"};

/// Removes and returns some (field, value) of a hash: KEYS = hash. Nil when empty.
inline const script dict_pop_item{R"lua(
local field = redis.call('HRANDFIELD', KEYS[1])
if not field then return false end
local value = redis.call('HGET', KEYS[1], field)
redis.call('HDEL', KEYS[1], field)
return {field, value}
)lua"};

/// Appends to a string hash field: KEYS = hash; ARGV = field, suffix. Returns the new value.
inline const script string_append{R"lua(
local value = (redis.call('HGET', KEYS[1], ARGV[1]) or '') .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], value)
return value
)lua"};

/// Integer multiply / floor-divide / modulo / power of a hash field, Python semantics, refusing any
/// operand or result outside +-2^53 (where Lua's doubles stop being exact) and negative exponents:
/// KEYS = hash; ARGV = field, operation ("mul", "floordiv", "mod", "pow"), operand. Returns the new
/// value.
inline const script integer_arithmetic{R"lua(
local stored = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
if not string.match(stored, '^%-?%d+$') or not string.match(ARGV[3], '^%-?%d+$') then
  return redis.error_reply('ERR hash value is not an integer')
end
local limit = 9007199254740992
local a, b = tonumber(stored), tonumber(ARGV[3])
if math.abs(a) >= limit or math.abs(b) >= limit then
  return redis.error_reply('ERR operand outside the exact integer range of server-side arithmetic')
end
local result
if ARGV[2] == 'mul' then
  result = a * b
elseif ARGV[2] == 'pow' then
  if b < 0 then return redis.error_reply('ERR negative exponent: the result is not an integer') end
  if b == 0 or a == 1 then
    result = 1
  elseif a == 0 then
    result = 0
  elseif a == -1 then
    result = (b % 2 == 0) and 1 or -1
  else
    result = 1
    for _ = 1, b do
      result = result * a
      if math.abs(result) >= limit then break end
    end
  end
else
  if b == 0 then return redis.error_reply('ERR division by zero') end
  local quotient = math.floor(a / b)
  if ARGV[2] == 'floordiv' then result = quotient else result = a - quotient * b end
end
if math.abs(result) >= limit then
  return redis.error_reply('ERR result outside the exact integer range of server-side arithmetic')
end
local text = string.format('%.0f', result)
if text == '-0' then text = '0' end
redis.call('HSET', KEYS[1], ARGV[1], text)
return text
)lua"};

/// Floating-point multiply / divide / floor-divide / modulo / power of a hash field with Python's
/// semantics (CPython's float divmod), refusing division by zero and results that are not finite:
/// KEYS = hash; ARGV = field, operation ("mul", "div", "floordiv", "mod", "pow"), operand. The
/// result is stored in the shortest of 15-17 significant digits that reads back as the same double.
inline const script float_arithmetic{R"lua(
local a, b = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0'), tonumber(ARGV[3])
if not a or not b then return redis.error_reply('ERR hash value is not a number') end
local operation, result = ARGV[2], nil
if operation == 'mul' then
  result = a * b
elseif operation == 'pow' then
  result = a ^ b
else
  if b == 0 then return redis.error_reply('ERR division by zero') end
  if operation == 'div' then
    result = a / b
  else
    local mod = math.fmod(a, b)
    local div = (a - mod) / b
    if mod ~= 0 and (b < 0) ~= (mod < 0) then
      mod = mod + b
      div = div - 1
    end
    if operation == 'mod' then
      result = mod
    else
      result = math.floor(div)
      if div - result > 0.5 then result = result + 1 end
    end
  end
end
if result ~= result or result == math.huge or result == -math.huge then
  return redis.error_reply('ERR result is not a finite number')
end
local text
for digits = 15, 17 do
  text = string.format('%.' .. digits .. 'g', result)
  if tonumber(text) == result then break end
end
redis.call('HSET', KEYS[1], ARGV[1], text)
return text
)lua"};

/// Repeats a string hash field n times (Python's str * n): KEYS = hash; ARGV = field, n >= 0.
inline const script string_repeat{R"lua(
local n = tonumber(ARGV[2])
if not n or n < 0 or n % 1 ~= 0 then return redis.error_reply('ERR the count is not a non-negative integer') end
local value = string.rep(redis.call('HGET', KEYS[1], ARGV[1]) or '', n)
redis.call('HSET', KEYS[1], ARGV[1], value)
return value
)lua"};

/// Adds microseconds to an ISO-8601 UTC time in a hash field: KEYS = hash; ARGV = field, delta.
/// Returns the new text. Calendar arithmetic after H. Hinnant's days_from_civil / civil_from_days.
inline const script datetime_add{R"lua(
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then return redis.error_reply('ERR no time stored in the field') end
local y, mo, d, h, mi, s, fraction =
  string.match(stored, '^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)%.?(%d*)Z$')
if not y then return redis.error_reply('ERR stored value is not an ISO-8601 UTC time') end
if not string.match(ARGV[2], '^%-?%d+$') then return redis.error_reply('ERR delta is not an integer') end
fraction = string.sub(fraction .. '000000', 1, 6)
y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
if mo <= 2 then y = y - 1 end
local era = math.floor(y / 400)
local yoe = y - era * 400
local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1
local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
local days = era * 146097 + doe - 719468
local total = (days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)) * 1000000
  + tonumber(fraction) + tonumber(ARGV[2])
if math.abs(total) >= 9007199254740992 then return redis.error_reply('ERR time out of range') end
local micros = total % 1000000
local seconds = (total - micros) / 1000000
local second_of_day = seconds % 86400
local z = (seconds - second_of_day) / 86400 + 719468
era = math.floor(z / 146097)
doe = z - era * 146097
yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
y = yoe + era * 400
doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
local mp = math.floor((5 * doy + 2) / 153)
d = doy - math.floor((153 * mp + 2) / 5) + 1
if mp < 10 then mo = mp + 3 else mo = mp - 9 end
if mo <= 2 then y = y + 1 end
local text = string.format('%04d-%02d-%02dT%02d:%02d:%02d.%06dZ', y, mo, d, math.floor(second_of_day / 3600),
  math.floor(second_of_day % 3600 / 60), second_of_day % 60, micros)
redis.call('HSET', KEYS[1], ARGV[1], text)
return text
)lua"};

}  // namespace rapyer::detail::scripts
