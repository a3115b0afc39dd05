-- Set algebra of two sets of one model: KEYS = model hash, this set, the other set; ARGV = SUNION,
-- SINTER or SDIFF, which return the members of (this op other), or their STORE form, which
-- replaces this set with them and returns their count.
if ARGV[1]:sub(-5) == 'STORE' then
  return redis.call(ARGV[1], KEYS[2], KEYS[2], KEYS[3])
end
return redis.call(ARGV[1], KEYS[2], KEYS[3])
