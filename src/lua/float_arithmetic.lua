-- Floating-point multiply / divide / floor-divide / modulo / power of a hash field with Python's
-- semantics (CPython's float divmod), refusing division by zero and results that are not finite:
-- KEYS = hash; ARGV = field, operation ("mul", "div", "floordiv", "mod", "pow"), operand. The
-- result is stored in the shortest of 15-17 significant digits that reads back as the same double.
local a, b = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0'), tonumber(ARGV[3])
if not a or not b then return redis.error_reply('ERR hash value is not a number') end
local operation = ARGV[2]
local result
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
