-- A live message (RedisLive): picks, for each group with a member on some node whose pattern matches the subject,
-- one node at random; announces the message with those picks on the live channel; answers the groups picked for the
-- sender. KEYS[1]: the groups hash, KEYS[2]: the channel (same slot). ARGV: sender node, subject, reply subject ('.'
-- when none), a random number, header block, payload. Fields past their validity (a node that died) are removed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sender, subject = ARGV[1], ARGV[2]
local tokens = {}
for token in string.gmatch(subject, '[^.]+') do
  tokens[#tokens + 1] = token
end
-- NATS subject matching: '*' is one token, '>' one or more at the end.
local function matches(pattern)
  local i = 0
  for p in string.gmatch(pattern, '[^.]+') do
    i = i + 1
    if p == '>' then
      return i <= #tokens
    end
    if i > #tokens or (p ~= '*' and p ~= tokens[i]) then
      return false
    end
  end
  return i == #tokens
end
local nodesOf, groups = {}, {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local group, node, pattern = string.match(fields[i], '^(%S+) (%S+) (%S+)$')
  if tonumber(fields[i + 1]) < now then
    redis.call('HDEL', KEYS[1], fields[i])
  elseif group and matches(pattern) then
    if not nodesOf[group] then
      nodesOf[group] = {}
      groups[#groups + 1] = group
    end
    nodesOf[group][node] = true
  end
end
table.sort(groups)
local seed = tonumber(ARGV[4])
local head = sender .. ' ' .. subject .. ' ' .. ARGV[3] .. ' ' .. #ARGV[5] .. ' ' .. #ARGV[6]
local mine = {}
for k, group in ipairs(groups) do
  local nodes = {}
  for node in pairs(nodesOf[group]) do
    nodes[#nodes + 1] = node
  end
  table.sort(nodes)
  local chosen = nodes[(seed + (k - 1) * 7919) % #nodes + 1]
  head = head .. ' ' .. group .. ' ' .. chosen
  if chosen == sender then
    mine[#mine + 1] = group
  end
end
redis.call('SPUBLISH', KEYS[2], head .. '\n' .. ARGV[5] .. ARGV[6])
return mine
