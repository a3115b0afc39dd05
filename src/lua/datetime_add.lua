-- Adds microseconds to an ISO-8601 UTC time in a hash field: KEYS = hash; ARGV = field, delta.
-- Returns the new text. Calendar arithmetic after H. Hinnant's days_from_civil / civil_from_days.
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
