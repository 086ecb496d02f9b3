-- A node has members of groups (live-join, RedisLive): each field '<group> <node> <pattern>' is valid until Redis's
-- clock passes its value, which the node's heartbeat pushes on. KEYS[1]: the groups hash; ARGV[1]: the validity in
-- milliseconds, then the fields.
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], expires)
end
return {#ARGV - 1}
