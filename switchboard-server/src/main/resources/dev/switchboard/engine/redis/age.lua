-- Drops a topic's messages older than its maximum age (any node may run it; running it twice changes nothing).
-- ARGV: prefix, topic.
local t = ARGV[2]
local m = meta_key(t)
local epoch = redis.call('HGET', m, 'epoch')
if not epoch or redis.call('HGET', m, 'rage') == '' then
  effect('-', AGED, t)
  return 0
end
local kept, before = trim(t, redis_now())
if kept > before then redis.call('SPUBLISH', channel(t), 't ' .. epoch .. ' ' .. kept) end
return kept - before
