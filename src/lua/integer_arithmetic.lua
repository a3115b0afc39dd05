-- Integer multiply / floor-divide / modulo / power of a hash field, Python semantics, refusing any
-- operand or result outside +-2^53 (where Lua's doubles stop being exact) and negative exponents:
-- KEYS = hash; ARGV = field, operation ("mul", "floordiv", "mod", "pow"), operand. Returns the new
-- value.
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
