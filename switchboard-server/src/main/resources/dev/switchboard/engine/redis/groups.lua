-- Consumer groups shared by every node (docs/cluster.md, "Consumer groups across nodes"). Each call is one operation
-- on one group; every key it touches has the topic's tag, so the script can read the topic's stream for the payloads
-- and stays in one hash slot (KEYS[1] is the topic's meta key). Time is Redis's TIME: a lease expires by one clock
-- whichever node looks, and every operation first gives back the leases due, so any node requeues them.
-- ARGV: prefix, operation, topic, group, ack timeout ms, max deliveries, max pending, max groups per topic, then the
-- operation's arguments.
-- Replies: {'F', {deliveries, entry, ...}, full, upkeep} (fetch), {'K', done, stale, upkeep} (ack, release, leave),
-- {'S', committed, lag, in flight, members, upkeep} (status), {'X', upkeep} (expire), {'B', moved, upkeep} (bury),
-- {'N'} (no such group), {'E', code, message} (refused; nothing changed). upkeep is {dying, due in ms or -1, freed}:
-- the messages out of deliveries that the node is to move to the dead-letter topic ({offset, deliveries, entry}
-- each), when the next lease falls due, and whether messages went back to the group (then members wait for them).
local OP, T, GROUP = ARGV[2], ARGV[3], ARGV[4]
local ACK_TIMEOUT, MAX_DELIVERIES = tonumber(ARGV[5]), tonumber(ARGV[6])
local MAX_PENDING, MAX_GROUPS = tonumber(ARGV[7]), tonumber(ARGV[8])
local META = meta_key(T)
local STREAM = stream_key(T)
-- The topic's groups (name -> the topic's epoch when the group started), for the limit and to forget the groups of
-- a topic deleted meanwhile.
local GROUPS = topic_key(T) .. ':groups'
local WAKE = topic_key(T) .. ':gw'
local function group_keys(name)
  local b = topic_key(T) .. ':g:' .. name
  -- n: epoch and next offset never handed out; l: offset -> 'member deliveries' (member '' when not held);
  -- o: every lease by offset; e: held leases by expiry; a: leases waiting for delivery by offset; d: leases out of
  -- deliveries by when a node may try to move them; h: member -> leases held; s: member -> last seen.
  return {b .. ':n', b .. ':l', b .. ':o', b .. ':e', b .. ':a', b .. ':d', b .. ':h', b .. ':s'}
end
local K = group_keys(GROUP)
local G, L, O, E, A, D, H, S = K[1], K[2], K[3], K[4], K[5], K[6], K[7], K[8]
local function num(x) return string.format('%d', x) end

local now = redis_now()
local meta = redis.call('HMGET', META, 'epoch', 'first', 'last')
local epoch, first, last = meta[1], tonumber(meta[2]), tonumber(meta[3])

-- Whether the group exists on this incarnation of the topic; a group of a deleted one is forgotten here, by the
-- first operation that looks (each node that served the group looks once a second).
local function open(create)
  local started = redis.call('HGET', G, 'epoch')
  if started and started == epoch then return true end
  if started then
    redis.call('DEL', unpack(K))
    redis.call('HDEL', GROUPS, GROUP)
  end
  if not create or not epoch then return false end
  local n = 0
  local all = redis.call('HGETALL', GROUPS)
  for i = 1, #all, 2 do
    if all[i + 1] == epoch then
      n = n + 1
    else
      redis.call('HDEL', GROUPS, all[i])
      redis.call('DEL', unpack(group_keys(all[i])))
    end
  end
  if n >= MAX_GROUPS then
    return false, {'E', 'LIMIT_EXCEEDED', "topic '" .. T .. "' has " .. n .. ' groups, the most a topic may have'}
  end
  redis.call('HSET', G, 'epoch', epoch, 'next', first)
  redis.call('HSET', GROUPS, GROUP, epoch)
  return true
end

local function lease(o)
  local v = redis.call('HGET', L, o)
  if not v then return nil end
  local m, d = string.match(v, '^(%S*) (%d+)$')
  return m, tonumber(d)
end

local function unhold(m)
  if redis.call('HINCRBY', H, m, -1) <= 0 then redis.call('HDEL', H, m) end
end

local function next_offset()
  local n = tonumber(redis.call('HGET', G, 'next'))
  if first and n < first then n = first end
  return n
end

-- The lowest offset not acknowledged.
local function committed()
  local lowest = redis.call('ZRANGE', O, 0, 0)
  local n = next_offset()
  if #lowest > 0 and tonumber(lowest[1]) < n then return tonumber(lowest[1]) end
  return n
end

local function done(o)
  local m = lease(o)
  if m and m ~= '' then unhold(m) end
  redis.call('HDEL', L, o)
  redis.call('ZREM', O, o)
  redis.call('ZREM', E, o)
  redis.call('ZREM', A, o)
  redis.call('ZREM', D, o)
end

local FREED = false
-- A held lease goes back: to the next fetch, or after its last delivery to be moved to the dead-letter topic.
local function give_back(o, m, d)
  unhold(m)
  redis.call('ZREM', E, o)
  redis.call('HSET', L, o, ' ' .. d)
  if d >= MAX_DELIVERIES then
    redis.call('ZADD', D, 0, o)
  else
    redis.call('ZADD', A, o, o)
    FREED = true
  end
end

local function expire()
  for _, o in ipairs(redis.call('ZRANGEBYSCORE', E, '-inf', now)) do
    local m, d = lease(o)
    give_back(o, m, d)
  end
end

local function entry(o)
  return redis.call('XRANGE', STREAM, o .. '-0', o .. '-0')[1]
end

-- What every reply carries. A dying lease handed to a node is not handed to another for an ack timeout: time for
-- that node to move it, after which any node may.
local function upkeep()
  local dying = {}
  for _, o in ipairs(redis.call('ZRANGEBYSCORE', D, '-inf', now, 'LIMIT', 0, 100)) do
    local _, d = lease(o)
    redis.call('ZADD', D, num(now + ACK_TIMEOUT), o)
    dying[#dying + 1] = {o, d, entry(o) or {}}
  end
  local due = -1
  for _, z in ipairs({E, D}) do
    local soonest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
    if #soonest > 0 then
      local wait = math.max(0, tonumber(soonest[2]) - now)
      if due < 0 or wait < due then due = wait end
    end
  end
  if FREED then redis.call('SPUBLISH', WAKE, GROUP) end
  return {dying, due, FREED and 1 or 0}
end

local function no_group()
  return {'E', 'GROUP_NOT_FOUND', "topic '" .. T .. "' has no group '" .. GROUP .. "'"}
end

if OP == 'fetch' then
  -- member, most messages, most held by the member, whether a full member is refused, most payload bytes
  local member, max, limit, refuse, max_bytes = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11]), ARGV[12] == '1',
    tonumber(ARGV[13])
  if not epoch then
    return {'E', 'TOPIC_NOT_FOUND', "no topic '" .. T .. "': a group starts on a topic that has messages"}
  end
  local ok, refusal = open(true)
  if not ok then return refusal end
  expire()
  redis.call('ZADD', S, num(now), member)
  redis.call('ZREMRANGEBYSCORE', S, '-inf', num(now - ACK_TIMEOUT))
  local held = tonumber(redis.call('HGET', H, member) or '0')
  if held >= limit then
    if refuse then
      return {'E', 'LIMIT_EXCEEDED', "member '" .. member .. "' holds " .. held
        .. ' unacknowledged messages, the most a member may; ack some first'}
    end
    return {'F', {}, 1, upkeep()}
  end
  local wants = math.min(max, limit - held)
  local out, bytes, stopped = {}, 0, false
  local expires = num(now + ACK_TIMEOUT)
  -- Leases one message, unless it would take the reply past max_bytes (at least one goes).
  local function hand(o, e, d)
    local size = #e[2][6]
    if #out > 0 and bytes + size > max_bytes then return false end
    bytes = bytes + size
    redis.call('HSET', L, o, member .. ' ' .. d)
    redis.call('ZADD', E, expires, o)
    redis.call('ZADD', O, o, o)
    redis.call('HINCRBY', H, member, 1)
    out[#out + 1] = d
    out[#out + 1] = e
    return true
  end
  -- Those waiting to be delivered again first, oldest first; a message retention dropped meanwhile is done.
  while #out < wants * 2 and not stopped do
    local waiting = redis.call('ZRANGE', A, 0, 0)
    if #waiting == 0 then break end
    local o = waiting[1]
    local _, d = lease(o)
    local e = entry(o)
    if not e then
      done(o)
    elseif hand(o, e, d + 1) then
      redis.call('ZREM', A, o)
    else
      stopped = true
    end
  end
  -- Then new ones, up to the topic's end and max pending past the committed offset.
  local n = next_offset()
  local window = committed() + MAX_PENDING
  while not stopped and #out < wants * 2 and n <= last and n < window do
    local count = math.min(wants - #out / 2, last - n + 1, window - n)
    local entries = redis.call('XRANGE', STREAM, n .. '-0', '+', 'COUNT', count)
    if #entries == 0 then break end
    for _, e in ipairs(entries) do
      local o = tonumber(string.match(e[1], '^(%d+)'))
      if not hand(num(o), e, 1) then
        stopped = true
        break
      end
      n = o + 1
    end
  end
  redis.call('HSET', G, 'next', n)
  return {'F', out, 0, upkeep()}
end

if OP == 'ack' or OP == 'release' or OP == 'leave' then
  if not open(false) then return no_group() end
  expire()
  local member = ARGV[9]
  redis.call('ZADD', S, num(now), member)
  local offsets = {}
  if OP == 'leave' then
    local all = redis.call('HGETALL', L)
    for i = 1, #all, 2 do
      if string.sub(all[i + 1], 1, #member + 1) == member .. ' ' then offsets[#offsets + 1] = all[i] end
    end
  else
    for i = 10, #ARGV do offsets[#offsets + 1] = ARGV[i] end
  end
  local window_full = next_offset() >= committed() + MAX_PENDING
  local ok, stale = {}, {}
  for _, o in ipairs(offsets) do
    local m, d = lease(o)
    if m == member and redis.call('ZSCORE', E, o) then
      if OP == 'ack' then done(o) else give_back(o, m, d) end
      ok[#ok + 1] = o
    else
      stale[#stale + 1] = o
    end
  end
  -- An ack that opens the window lets waiting members have more.
  if OP == 'ack' and #ok > 0 and window_full then FREED = true end
  return {'K', ok, stale, upkeep()}
end

if OP == 'status' then
  if not open(false) then return no_group() end
  expire()
  local members, n = {}, 0
  for _, m in ipairs(redis.call('HKEYS', H)) do members[m] = true end
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', S, num(now - ACK_TIMEOUT), '+inf')) do members[m] = true end
  for _ in pairs(members) do n = n + 1 end
  local lag = math.max(0, last - next_offset() + 1) + redis.call('ZCARD', O)
  return {'S', committed(), lag, redis.call('ZCARD', E), n, upkeep()}
end

if not open(false) then return {'N'} end

if OP == 'expire' then
  expire()
  return {'X', upkeep()}
end

if OP == 'bury' then
  -- offset, its deliveries when it was handed out to be moved, the dead letter ('' when the message is gone), and
  -- the dead-letter topic's retention when it is created (max messages, max age ms, max bytes)
  local o, deliveries, letter = ARGV[9], tonumber(ARGV[10]), ARGV[11]
  local _, d = lease(o)
  if not redis.call('ZSCORE', D, o) or d ~= deliveries then return {'B', 0, upkeep()} end
  if letter ~= '' then
    local dead = T .. '.dead'
    local dm = meta_key(dead)
    local dead_epoch = redis.call('HGET', dm, 'epoch')
    if not dead_epoch then dead_epoch = create(dead, now, ARGV[12], ARGV[13], ARGV[14]) end
    local offset = tonumber(redis.call('HGET', dm, 'last')) + 1
    append_one(dead, offset, now, 'application/json', letter)
    redis.call('HSET', dm, 'last', offset)
    redis.call('HINCRBY', dm, 'bytes', #letter)
    local kept = trim(dead, now)
    announce(dead, dead_epoch, offset, offset, kept, now, {{'application/json', letter}})
  end
  done(o)
  return {'B', letter ~= '' and 1 or 0, upkeep()}
end

return {'E', 'INVALID_OP', 'no group operation ' .. OP}
