-- Sets a topic's retention (creating it) and applies it. ARGV: prefix, topic, whether a new topic fits the topic limit ('1'), max messages, max age ms,
-- max bytes ('' = unlimited). Returns {'S', epoch, first, last, bytes, created} or {'L'} (topic limit).
local t = ARGV[2]
local m = meta_key(t)
local now = redis_now()
local epoch = redis.call('HGET', m, 'epoch')
if not epoch then
  if ARGV[3] ~= '1' then return {'L'} end
  epoch = create(t, now, ARGV[4], ARGV[5], ARGV[6])
else
  redis.call('HSET', m, 'rmax', ARGV[4], 'rage', ARGV[5], 'rbytes', ARGV[6])
  effect(ARGV[5] ~= '' and '+' or '-', AGED, t)
end
local kept, before = trim(t, now)
if kept > before then redis.call('SPUBLISH', channel(t), 't ' .. epoch .. ' ' .. kept) end
local s = redis.call('HMGET', m, 'epoch', 'first', 'last', 'bytes', 'created')
return {'S', s[1], s[2], s[3], s[4], s[5]}
