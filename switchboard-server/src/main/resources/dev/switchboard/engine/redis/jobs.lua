-- Jobs shared by every node (docs/cluster.md, "Jobs across nodes"). Each call is one operation; a job's change and
-- its event on its topic _jobs.<id> happen in the same script, so its state and its events never disagree, and the
-- time is Redis's TIME, so leases expire by one clock whichever node looks. Every key it touches is in one hash
-- slot, named by KEYS[1] = <prefix>{<tag>}:jobs: the tag is a short string in the slot of the queue's tag {q:<queue>},
-- which a job's id ends with (RedisSlotTags), so a job's records, its queue, its topic and the index of the slot's
-- jobs share the slot. ARGV: prefix, operation, default
-- retention of job topics (3), the queue defaults (max attempts, lease ms, result TTL ms), the queue ('' for
-- operations on a job by id), then the operation's arguments.
-- Replies: {'J', fields} (a job as HGETALL lists it), {'C', {fields, payload}...} (claimed), {'Q', counts,
-- settings, known}, {'N'} (no such job), {'O'} (done), {'E', code, message} (refused; nothing changed).
local OP = ARGV[2]
local RMAX, RAGE, RBYTES = ARGV[3], ARGV[4], ARGV[5]
local DEFAULT_ATTEMPTS, DEFAULT_LEASE, DEFAULT_TTL = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local STATUS_TYPE = 'application/vnd.switchboard.job-status+json'
local PROGRESS_TYPE = 'application/vnd.switchboard.job-progress+json'
local SLOT = string.sub(KEYS[1], 1, #KEYS[1] - #'jobs')
local INDEX = KEYS[1]                -- job id -> queue, for the jobs of this slot
-- This slot's queues with leases to expire or finished jobs to remove, scored by when the first may be due (never
-- later).
local QUEUES_WITH_TIMERS = SLOT .. 'jobqueues'
-- The slots that hold queues, which the nodes' timers visit: outside this slot, so an effect, once per queue.
local SLOTS_WITH_QUEUES = P .. 'jobslots'
-- Every key of a queue has the tag {q:<queue>} (':' is not allowed in topic names, so no topic's tag collides).
local function qkey(q, suffix) return P .. '{q:' .. q .. '}:' .. suffix end

local function num(x) return string.format('%d', x) end

-- JSON text as Jackson writes it (the embedded engine's events): quotes, backslashes and control chars escaped.
local SHORT = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t', ['\b'] = '\\b',
  ['\f'] = '\\f'}
local function jstr(s)
  return '"' .. (string.gsub(s, '[%z\1-\31"\\]', function(c)
    return SHORT[c] or string.format('\\u%04X', string.byte(c))
  end)) .. '"'
end

-- Payloads.formatTime: ISO-8601 UTC with milliseconds (days to civil date, proleptic Gregorian).
local function iso(ms)
  ms = tonumber(ms)
  local s = math.floor(ms / 1000)
  local z = math.floor(s / 86400) + 719468
  local secs = s % 86400
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(secs / 3600),
    math.floor(secs % 3600 / 60), secs % 60, ms % 1000)
end

-- The public form of docs/api.md, field for field as JobJson.publicForm writes it; 'rpub' holds the result's
-- fields as the node rendered them when the job completed.
local function public_json(j)
  local parts = {'{"id":', jstr(j.id), ',"queue":', jstr(j.queue), ',"status":"', j.status, '","attempt":',
    j.attempt, ',"progress":{"percent":', j.percent or 'null', ',"message":', j.msg and jstr(j.msg) or 'null',
    '},"version":', j.version, ',"created":"', iso(j.created), '","updated":"', iso(j.updated), '"'}
  if j.status == 'succeeded' then parts[#parts + 1] = ',' .. j.rpub end
  if j.error then parts[#parts + 1] = ',"error":' .. jstr(j.error) end
  parts[#parts + 1] = '}'
  return table.concat(parts)
end

local FIELDS = {'id', 'queue', 'status', 'attempt', 'percent', 'msg', 'version', 'created', 'updated', 'ptype',
  'pbytes', 'rtype', 'rbytes', 'rpub', 'ires', 'error', 'token', 'expires', 'leasems', 'seq', 'key'}

local function flat(j)
  local out = {}
  for _, f in ipairs(FIELDS) do
    if j[f] then
      out[#out + 1] = f
      out[#out + 1] = j[f]
    end
  end
  return out
end

local function load(q, id)
  local got = redis.call('HGETALL', qkey(q, 'j:' .. id))
  if #got == 0 then return nil end
  local j = {}
  for i = 1, #got, 2 do j[got[i]] = got[i + 1] end
  return j
end

local function settings(q)
  local s = redis.call('HMGET', qkey(q, 'settings'), 'attempts', 'lease', 'ttl')
  return tonumber(s[1]) or DEFAULT_ATTEMPTS, tonumber(s[2]) or DEFAULT_LEASE, tonumber(s[3]) or DEFAULT_TTL
end

local function count(q, status, by) redis.call('HINCRBY', qkey(q, 'counts'), status, by) end

local function wake(q) redis.call('SPUBLISH', qkey(q, 'wake'), '1') end

local function due_by(q, at) redis.call('ZADD', QUEUES_WITH_TIMERS, 'LT', at, q) end

-- Stores the job's new state and appends its event; its version is the event's offset on the job's topic.
local function save(q, j, before, now, event_type)
  local t = '_jobs.' .. j.id
  local epoch = redis.call('HGET', meta_key(t), 'epoch')
  if not epoch then epoch = create(t, now, RMAX, RAGE, RBYTES) end
  local offset = tonumber(redis.call('HGET', meta_key(t), 'last')) + 1
  j.version, j.updated = num(offset), num(now)
  local k = qkey(q, 'j:' .. j.id)
  redis.call('DEL', k)
  redis.call('HSET', k, unpack(flat(j)))
  if before ~= j.status then
    if before then count(q, before, -1) end
    count(q, j.status, 1)
  end
  local json = public_json(j)
  redis.call('HSET', meta_key(t), 'last', offset)
  append_one(t, offset, now, event_type, json)
  redis.call('HINCRBY', meta_key(t), 'bytes', #json)
  local kept = trim(t, now)
  announce(t, epoch, offset, offset, kept, now, {{event_type, json}})
  return j
end

local function clear_lease(j)
  j.token, j.expires, j.leasems = nil, '0', '0'
end

local function finish(q, j, now)
  local _, _, ttl = settings(q)
  redis.call('ZREM', qkey(q, 'leases'), j.id)
  redis.call('ZREM', qkey(q, 'ready'), j.id)
  redis.call('ZADD', qkey(q, 'done'), now + ttl, j.id)
  due_by(q, now + ttl)
end

local function retry_or_fail(q, j, reason, retry, now)
  local attempts = settings(q)
  local before = j.status
  redis.call('ZREM', qkey(q, 'leases'), j.id)
  clear_lease(j)
  j.rtype, j.rbytes, j.rpub, j.ires, j.error = nil, '0', nil, nil, reason
  if retry and tonumber(j.attempt) < attempts then
    j.status, j.attempt, j.percent, j.msg = 'queued', num(tonumber(j.attempt) + 1), nil, nil
    redis.call('ZADD', qkey(q, 'ready'), tonumber(j.seq), j.id)
    save(q, j, before, now, STATUS_TYPE)
    wake(q)
    return j
  end
  if retry then
    j.error = reason .. ' (after ' .. j.attempt .. ' of ' .. attempts .. ' attempts)'
  end
  j.status = 'failed'
  finish(q, j, now)
  return save(q, j, before, now, STATUS_TYPE)
end

-- Requeues (or fails, after the last attempt) each job whose lease expired by Redis's clock.
local function expire_leases(q, now)
  local due = redis.call('ZRANGEBYSCORE', qkey(q, 'leases'), '-inf', now, 'LIMIT', 0, 256)
  for _, id in ipairs(due) do
    local j = load(q, id)
    if j and j.status == 'running' and tonumber(j.expires) <= now then
      retry_or_fail(q, j, 'lease expired', true, now)
    else
      redis.call('ZREM', qkey(q, 'leases'), id)
    end
  end
end

-- Removes finished jobs kept past their result TTL: records, idempotency key and topic (its watchers hear 'd').
local function remove_finished(q, now)
  local due = redis.call('ZRANGEBYSCORE', qkey(q, 'done'), '-inf', now, 'LIMIT', 0, 256)
  for _, id in ipairs(due) do
    local j = load(q, id)
    if j then
      count(q, j.status, -1)
      if j.key then redis.call('DEL', qkey(q, 'k:' .. j.key)) end
    end
    redis.call('DEL', qkey(q, 'j:' .. id), qkey(q, 'p:' .. id), qkey(q, 'r:' .. id))
    redis.call('ZREM', qkey(q, 'done'), id)
    redis.call('HDEL', INDEX, id)
    local t = '_jobs.' .. id
    local epoch = redis.call('HGET', meta_key(t), 'epoch')
    if epoch then
      forget(t)
      redis.call('SPUBLISH', channel(t), 'd ' .. epoch)
    end
  end
end

local function refuse(code, message) return {'E', code, message} end

local function short(id) return string.len(id) > 64 and string.sub(id, 1, 64) .. '…' or id end

-- The job under the caller's lease, or a refusal: as the embedded engine's JobStateMachine#leased.
local function leased(id, token, now)
  local q = redis.call('HGET', INDEX, id)
  local j = q and load(q, id)
  if not j then return nil, nil, refuse('JOB_NOT_FOUND', "no job '" .. short(id) .. "'") end
  if j.status ~= 'running' or token ~= j.token then
    return nil, nil, refuse('LEASE_LOST', "job '" .. id .. "' is " .. j.status
      .. (j.status == 'running' and ' under another lease' or '') .. "; this worker's lease is no longer valid")
  end
  if tonumber(j.expires) <= now then
    return nil, nil, refuse('LEASE_EXPIRED', "the lease on job '" .. id .. "' expired")
  end
  return q, j, nil
end

local now = redis_now()
local q = ARGV[9]

if OP == 'submit' then -- id, type, payload, idempotency key ('')
  local id, type, payload, key = ARGV[10], ARGV[11], ARGV[12], ARGV[13]
  if key ~= '' then
    local earlier = redis.call('GET', qkey(q, 'k:' .. key))
    local j = earlier and load(q, earlier)
    if j then return {'J', flat(j)} end
  end
  local seq = redis.call('INCR', qkey(q, 'seq'))
  if seq == 1 then effect('+', SLOTS_WITH_QUEUES, string.sub(SLOT, #P + 2, #SLOT - 2)) end
  local j = {id = id, queue = q, status = 'queued', attempt = '1', created = num(now), updated = num(now),
    ptype = type, pbytes = num(#payload), rbytes = '0', expires = '0', leasems = '0', seq = num(seq)}
  if key ~= '' then
    j.key = key
    redis.call('SET', qkey(q, 'k:' .. key), id)
  end
  redis.call('SET', qkey(q, 'p:' .. id), payload)
  redis.call('HSET', INDEX, id, q)
  redis.call('ZADD', qkey(q, 'ready'), seq, id)
  save(q, j, nil, now, STATUS_TYPE)
  wake(q)
  return {'J', flat(j)}
elseif OP == 'claim' then -- max, lease ms ('' for the queue's), then one unguessable part per lease token
  expire_leases(q, now)
  local max, lease = tonumber(ARGV[10]), ARGV[11]
  local _, queue_lease = settings(q)
  lease = tonumber(lease) or queue_lease
  local claimed = {'C'}
  while #claimed - 1 < max do
    local popped = redis.call('ZPOPMIN', qkey(q, 'ready'))
    if #popped == 0 then break end
    local j = load(q, popped[1])
    if j and j.status == 'queued' then
      -- A fencing token: it grows with every claim of the queue, and a worker cannot guess another's.
      j.token = redis.call('INCR', qkey(q, 'fence')) .. '.' .. ARGV[12 + #claimed - 1]
      j.status, j.expires, j.leasems = 'running', num(now + lease), num(lease)
      redis.call('ZADD', qkey(q, 'leases'), now + lease, j.id)
      due_by(q, now + lease)
      save(q, j, 'queued', now, STATUS_TYPE)
      claimed[#claimed + 1] = {flat(j), redis.call('GET', qkey(q, 'p:' .. j.id))}
    end
  end
  return claimed
elseif OP == 'progress' then -- id, token, percent (''), message (nil: absent)
  local q2, j, refused = leased(ARGV[10], ARGV[11], now)
  if refused then return refused end
  j.percent = ARGV[12] ~= '' and ARGV[12] or nil
  j.msg = ARGV[13]
  return {'J', flat(save(q2, j, j.status, now, PROGRESS_TYPE))}
elseif OP == 'heartbeat' then -- id, token
  local q2, j, refused = leased(ARGV[10], ARGV[11], now)
  if refused then return refused end
  j.expires = num(now + tonumber(j.leasems))
  redis.call('HSET', qkey(q2, 'j:' .. j.id), 'expires', j.expires)
  redis.call('ZADD', qkey(q2, 'leases'), now + tonumber(j.leasems), j.id)
  return {'J', flat(j)}
elseif OP == 'complete' then -- id, token, type, result, result's public fields, inline result ('' for none)
  local q2, j, refused = leased(ARGV[10], ARGV[11], now)
  if refused then return refused end
  redis.call('SET', qkey(q2, 'r:' .. j.id), ARGV[13])
  j.status, j.percent, j.rtype, j.rbytes, j.rpub, j.error = 'succeeded', '100', ARGV[12], num(#ARGV[13]), ARGV[14], nil
  j.ires = ARGV[15] == '1' and ARGV[13] or nil
  clear_lease(j)
  finish(q2, j, now)
  return {'J', flat(save(q2, j, 'running', now, STATUS_TYPE))}
elseif OP == 'fail' then -- id, token, reason, retry ('1')
  local q2, j, refused = leased(ARGV[10], ARGV[11], now)
  if refused then return refused end
  return {'J', flat(retry_or_fail(q2, j, ARGV[12], ARGV[13] == '1', now))}
elseif OP == 'cancel' then -- id
  local id = ARGV[10]
  local q2 = redis.call('HGET', INDEX, id)
  local j = q2 and load(q2, id)
  if not j then return refuse('JOB_NOT_FOUND', "no job '" .. short(id) .. "'") end
  if j.status == 'succeeded' or j.status == 'failed' or j.status == 'cancelled' then
    return refuse('JOB_FINISHED', "job '" .. id .. "' already " .. j.status)
  end
  local before = j.status
  j.status = 'cancelled'
  clear_lease(j)
  finish(q2, j, now)
  return {'J', flat(save(q2, j, before, now, STATUS_TYPE))}
elseif OP == 'configure' then -- max attempts, lease ms, result TTL ms
  redis.call('HSET', qkey(q, 'settings'), 'attempts', ARGV[10], 'lease', ARGV[11], 'ttl', ARGV[12])
  return {'O'}
elseif OP == 'find' then -- id
  local q2 = redis.call('HGET', INDEX, ARGV[10])
  local j = q2 and load(q2, ARGV[10])
  if not j then return {'N'} end
  return {'J', flat(j)}
elseif OP == 'result' then -- id
  local q2 = redis.call('HGET', INDEX, ARGV[10])
  local r = q2 and redis.call('GET', qkey(q2, 'r:' .. ARGV[10]))
  if not r then return {'N'} end
  return {'R', r}
elseif OP == 'queue' then
  local s = redis.call('HGETALL', qkey(q, 'settings'))
  return {'Q', redis.call('HGETALL', qkey(q, 'counts')), s, redis.call('EXISTS', qkey(q, 'settings'))}
elseif OP == 'expire' then -- every node's timer: the queues that may have leases or finished jobs due
  for _, queue in ipairs(redis.call('ZRANGEBYSCORE', QUEUES_WITH_TIMERS, '-inf', now, 'LIMIT', 0, 256)) do
    expire_leases(queue, now)
    remove_finished(queue, now)
    -- Visited again when its next lease or removal is due (a heartbeat since only makes that visit early).
    local next_lease = redis.call('ZRANGE', qkey(queue, 'leases'), 0, 0, 'WITHSCORES')[2]
    local next_done = redis.call('ZRANGE', qkey(queue, 'done'), 0, 0, 'WITHSCORES')[2]
    local next = math.min(tonumber(next_lease) or math.huge, tonumber(next_done) or math.huge)
    if next == math.huge then
      redis.call('ZREM', QUEUES_WITH_TIMERS, queue)
    else
      redis.call('ZADD', QUEUES_WITH_TIMERS, next, queue)
    end
  end
  return {'O'}
end
return redis.error_reply('unknown job operation ' .. OP)
