-- A transaction, staged by a node against the positions it read (optimistic: another node's change in between
-- makes it fail whole, changing nothing). ARGV: prefix, commit time ms, default retention (3), the number of topics
-- touched, per topic (name, epoch staged against or '', last offset staged against), then operations:
-- 'A' topic type payload | 'D' topic | 'P' key value | 'X' key. Returns {'T'} or {'C', topic} (conflict).
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[6])
local i = 7
local topics, order = {}, {}
for _ = 1, n do
  local t, epoch, last = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local f = redis.call('HMGET', meta_key(t), 'epoch', 'last')
  if (f[1] or '') ~= epoch or (epoch ~= '' and f[2] ~= last) then return {'C', t} end
  topics[t] = {before = f[1] or nil, epoch = f[1] or nil}
  order[#order + 1] = t
end
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'A' then
    local t, type, payload = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    i = i + 4
    local s = topics[t]
    if not s.epoch then s.epoch = create(t, now, ARGV[3], ARGV[4], ARGV[5]) end
    local offset = redis.call('HINCRBY', meta_key(t), 'last', 1)
    append_one(t, offset, now, type, payload)
    redis.call('HINCRBY', meta_key(t), 'bytes', #payload)
    s.first = s.first or offset
    s.last = offset
    s.messages = s.messages or {}
    s.messages[#s.messages + 1] = {type, payload}
  elseif op == 'D' then
    local t = ARGV[i + 1]
    i = i + 2
    local s = topics[t]
    if s.epoch then
      forget(t)
      -- Watchers hear of the topic they knew; one created and deleted here was never seen.
      if s.epoch == s.before then s.deleted = s.before end
      s.epoch, s.first, s.last, s.messages = nil, nil, nil, nil
    end
  elseif op == 'P' then
    redis.call('SET', record_key(ARGV[i + 1]), ARGV[i + 2])
    redis.call('ZADD', records_key(ARGV[i + 1]), 0, ARGV[i + 1])
    effect('+', RECORD_TAGS, record_tag(ARGV[i + 1]))
    i = i + 3
  elseif op == 'X' then
    redis.call('DEL', record_key(ARGV[i + 1]))
    redis.call('ZREM', records_key(ARGV[i + 1]), ARGV[i + 1])
    i = i + 2
  else
    return redis.error_reply('unknown operation ' .. op)
  end
end
for _, t in ipairs(order) do
  local s = topics[t]
  if s.deleted then redis.call('SPUBLISH', channel(t), 'd ' .. s.deleted) end
  if s.first then
    local kept = trim(t, now)
    announce(t, s.epoch, s.first, s.last, kept, now, s.messages)
  end
end
return {'T'}
