-- Shared by every script (RedisScripts puts it before each one, and runs the script's body as main()). ARGV[1] is
-- the key prefix. Every key of a topic carries the topic's name as its hash tag, so a topic lives in one slot; topics
-- derived from it and the records that belong to it take its tag, other records share {:r} (RedisKeys). A script
-- touches the keys of one slot only, as Redis Cluster requires: changes to the sets that span every topic are
-- returned as effects, which the node applies.
local P = ARGV[1]
local REGISTRY = P .. 'topics'
local AGED = P .. 'aged'
local RECORD_TAGS = P .. 'recordtags'

-- {op, key, member} triples: '+' adds member to the sorted set key, '-' removes it, '!' publishes member on the
-- channel key (RedisScripts#applyEffects).
local EFFECTS = {}
local function effect(op, key, member)
  EFFECTS[#EFFECTS + 1] = op
  EFFECTS[#EFFECTS + 1] = key
  EFFECTS[#EFFECTS + 1] = member
end

-- A topic's hash tag (RedisKeys#tag): the topic it derives from (_presence.<t>, <t>.dead), and a job's topic
-- (_jobs.<24 base32 chars>) the tag its id ends with, its queue's slot.
local function topic_tag(t)
  local home = t
  if #home > 10 and string.sub(home, 1, 10) == '_presence.' then home = string.sub(home, 11) end
  while #home > 5 and string.sub(home, -5) == '.dead' do home = string.sub(home, 1, -6) end
  if #home == 30 and string.match(home, '^_jobs%.[a-z2-7]+$') then return string.sub(home, -4) end
  return home
end
local function topic_key(t)
  local g = topic_tag(t)
  if g == t then return P .. '{' .. t .. '}' end
  return P .. '{' .. g .. '}' .. t
end
local function meta_key(t) return topic_key(t) .. ':m' end
local function stream_key(t) return topic_key(t) .. ':s' end
local function channel(t) return topic_key(t) .. ':c' end
-- The epoch in the name: a topic deleted and created again forgets its keys (they expire on their own).
local function idem_key(t, epoch, k) return topic_key(t) .. ':i:' .. epoch .. ':' .. k end
-- A record's tag (RedisKeys#recordTag): that of the topic its key names (<kind>/<topic>/<rest>), else ':r'.
local function record_tag(k)
  local topic = string.match(k, '^[^/]*/([^/{}]+)/')
  if topic then return topic_tag(topic) end
  return ':r'
end
local function record_key(k) return P .. '{' .. record_tag(k) .. '}:r:' .. k end
local function records_key(k) return P .. '{' .. record_tag(k) .. '}:records' end

-- Redis's clock, not a node's: every node stamps messages and ages them by the same time.
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A topic's epoch: Redis's clock in microseconds, which no earlier incarnation of the topic can share (a second one
-- in the same script, after a delete, takes the next number). No counter key: it would be in a slot of its own.
local LAST_EPOCH = 0
local function new_epoch()
  local t = redis.call('TIME')
  local e = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if e <= LAST_EPOCH then e = LAST_EPOCH + 1 end
  LAST_EPOCH = e
  return string.format('%d', e)
end

local function create(t, now, rmax, rage, rbytes)
  local epoch = new_epoch()
  redis.call('HSET', meta_key(t), 'epoch', epoch, 'first', 1, 'last', 0, 'bytes', 0, 'created', now,
    'rmax', rmax, 'rage', rage, 'rbytes', rbytes)
  effect('+', REGISTRY, t)
  if rage ~= '' then effect('+', AGED, t) end
  -- Published by the node once the script ended, so a node that hears it can read the topic (RedisKeys.creations);
  -- through one connection, so in the order of creation (a cluster's nodes would relay theirs in any order).
  effect('!', P .. 'created', t)
  return epoch
end

-- Removes a topic's messages and positions (its idempotency keys expire on their own).
local function forget(t)
  redis.call('DEL', meta_key(t), stream_key(t))
  effect('-', REGISTRY, t)
  effect('-', AGED, t)
end

-- Headers, when a message has them, go last ('h'): the payload stays an entry's 6th field, as trim() reads it.
local function append_one(t, offset, now, type, payload, headers)
  if headers and headers ~= '' then
    redis.call('XADD', stream_key(t), offset .. '-0', 't', now, 'y', type, 'p', payload, 'h', headers)
  else
    redis.call('XADD', stream_key(t), offset .. '-0', 't', now, 'y', type, 'p', payload)
  end
end

-- Announces appended messages on the topic's channel: 'a epoch first last kept time', then, when their payloads
-- are small enough to travel with it, each message's type and payload lengths, a line break, and the types and
-- payloads one after the other. Nodes then need not read them back from the stream (one round trip less, and they
-- hear them even when the topic is deleted right after).
local INLINE_BYTES = 65536
local function announce(t, epoch, first, last, kept, now, messages)
  local head = {'a', epoch, first, last, kept, now}
  local size = 0
  local headers = false
  for _, m in ipairs(messages) do
    size = size + #m[1] + #m[2]
    if m[3] and m[3] ~= '' then headers = true end
  end
  -- Messages with headers are read from the stream, which holds them whole.
  if size > INLINE_BYTES or #messages ~= last - first + 1 or headers then
    redis.call('SPUBLISH', channel(t), table.concat(head, ' '))
    return
  end
  local bodies = {}
  for _, m in ipairs(messages) do
    head[#head + 1] = #m[1]
    head[#head + 1] = #m[2]
    bodies[#bodies + 1] = m[1]
    bodies[#bodies + 1] = m[2]
  end
  redis.call('SPUBLISH', channel(t), table.concat(head, ' ') .. '\n' .. table.concat(bodies))
end

-- Drops the oldest messages outside the topic's retention; returns the first offset kept and the first before.
-- Entries are fields t, y, p in that order, so an entry's time is its 2nd field and its payload its 6th.
local function trim(t, now)
  local m = meta_key(t)
  local f = redis.call('HMGET', m, 'first', 'last', 'bytes', 'rmax', 'rage', 'rbytes')
  local first, last, bytes = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  local rmax, rage, rbytes = tonumber(f[4]), tonumber(f[5]), tonumber(f[6])
  local keep = first
  if rmax and last - rmax + 1 > keep then keep = last - rmax + 1 end
  if keep == first and not rbytes and not rage then return keep, first end
  local function drops(offset, time)
    return offset < keep or (rbytes and bytes > rbytes) or (rage and time < now - rage)
  end
  local cursor = first
  while cursor <= last do
    -- Small reads: usually the first entry already stays, and only its time and size are needed.
    local entries = redis.call('XRANGE', stream_key(t), cursor .. '-0', '+', 'COUNT', keep > cursor and 256 or 8)
    if #entries == 0 then break end
    for _, e in ipairs(entries) do
      local offset = tonumber(string.match(e[1], '^(%d+)'))
      if not drops(offset, tonumber(e[2][2])) then
        cursor = last + 1
        break
      end
      bytes = bytes - #e[2][6]
      if offset >= keep then keep = offset + 1 end
      cursor = offset + 1
    end
  end
  if keep > first then
    redis.call('XTRIM', stream_key(t), 'MINID', keep .. '-0')
    redis.call('HSET', m, 'first', keep, 'bytes', bytes)
  end
  return keep, first
end
