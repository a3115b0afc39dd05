-- Sets the expiry of several keys at once: KEYS = keys; ARGV = ttl in seconds.
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
return #KEYS
