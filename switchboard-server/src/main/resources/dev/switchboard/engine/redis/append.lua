-- An append or a batch. ARGV: prefix, topic, type, idempotency key ('' for none), key TTL ms, whether a new topic fits
-- the topic limit ('1'), default
-- retention (max messages, max age ms, max bytes; '' = unlimited), the headers of every message (MessageHeaders'
-- bytes, '' for none), then the payloads.
-- Returns {'A', 'first last time'}, {'R', 'first last time'} (replayed) or {'L'} (topic limit).
local t, type, key = ARGV[2], ARGV[3], ARGV[4]
local m = meta_key(t)
local epoch = redis.call('HGET', m, 'epoch')
if epoch and key ~= '' then
  local earlier = redis.call('GET', idem_key(t, epoch, key))
  if earlier then return {'R', earlier} end
end
local now = redis_now()
if not epoch then
  if ARGV[6] ~= '1' then return {'L'} end
  epoch = create(t, now, ARGV[7], ARGV[8], ARGV[9])
end
local first = tonumber(redis.call('HGET', m, 'last')) + 1
local last, added, messages = first - 1, 0, {}
local headers = ARGV[10]
for i = 11, #ARGV do
  last = last + 1
  append_one(t, last, now, type, ARGV[i], headers)
  added = added + #ARGV[i]
  messages[#messages + 1] = {type, ARGV[i], headers}
end
redis.call('HSET', m, 'last', last)
redis.call('HINCRBY', m, 'bytes', added)
local range = first .. ' ' .. last .. ' ' .. now
if key ~= '' then redis.call('SET', idem_key(t, epoch, key), range, 'PX', ARGV[5]) end
local kept = trim(t, now)
announce(t, epoch, first, last, kept, now, messages)
return {'A', range}
