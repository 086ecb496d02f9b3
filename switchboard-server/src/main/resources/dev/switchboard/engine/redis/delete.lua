-- Deletes a topic. ARGV: prefix, topic. Returns 1, or 0 when there was no such topic.
local t = ARGV[2]
local epoch = redis.call('HGET', meta_key(t), 'epoch')
if not epoch then return 0 end
forget(t)
redis.call('SPUBLISH', channel(t), 'd ' .. epoch)
return 1
