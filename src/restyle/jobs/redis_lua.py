"""The Lua scripts of the Redis job queue (``restyle.jobs.redis``): each check-and-change is one script,
so it is atomic across nodes. Key names are described in ``restyle.jobs.redis``."""

# KEYS: token key, waiting list, job hash, turns, served
# ARGV: use token (0/1), job id, account, max waiting, token ttl, field, value, ...
SUBMIT = """
if ARGV[1] == '1' then
  local existing = redis.call('GET', KEYS[1])
  if existing and redis.call('EXISTS', ARGV[8] .. existing) == 1 then
    return {0, existing}
  end
end
local n = redis.call('LLEN', KEYS[2])
if n >= tonumber(ARGV[4]) then
  return {-1, tostring(n)}
end
redis.call('HSET', KEYS[3], unpack(ARGV, 9))
redis.call('RPUSH', KEYS[2], ARGV[2])
local last = redis.call('HGET', KEYS[5], ARGV[3]) or '0'
redis.call('ZADD', KEYS[4], 'NX', last, ARGV[3])
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[5])
end
return {1, ARGV[2]}
"""

# KEYS: waiting list, turns, served, turn counter, running; ARGV: account, node, now (s), lease (ms), job prefix
CLAIM = """
while true do
  local id = redis.call('LPOP', KEYS[1])
  if not id then
    redis.call('ZREM', KEYS[2], ARGV[1])
    return false
  end
  local jk = ARGV[5] .. id
  if redis.call('HGET', jk, 'state') == '1' then
    local turn = redis.call('INCR', KEYS[4])
    redis.call('HSET', KEYS[3], ARGV[1], turn)
    if redis.call('LLEN', KEYS[1]) == 0 then
      redis.call('ZREM', KEYS[2], ARGV[1])
    else
      redis.call('ZADD', KEYS[2], turn, ARGV[1])
    end
    redis.call('HSET', jk, 'state', '2', 'node', ARGV[2], 'started_at', ARGV[3], 'progress', '0')
    redis.call('HINCRBY', jk, 'attempts', 1)
    redis.call('ZADD', KEYS[5], math.floor(tonumber(ARGV[3]) * 1000) + tonumber(ARGV[4]), id)
    return id
  end
end
"""

# KEYS: job hash, running; ARGV: id, node, now (s), lease (ms), progress -> {owned, cancel}
HEARTBEAT = """
if redis.call('HGET', KEYS[1], 'state') ~= '2' or redis.call('HGET', KEYS[1], 'node') ~= ARGV[2] then
  return {0, 0}
end
redis.call('ZADD', KEYS[2], 'XX', math.floor(tonumber(ARGV[3]) * 1000) + tonumber(ARGV[4]), ARGV[1])
local p = tonumber(redis.call('HGET', KEYS[1], 'progress') or '0')
if tonumber(ARGV[5]) > p then redis.call('HSET', KEYS[1], 'progress', ARGV[5]) end
return {1, tonumber(redis.call('HGET', KEYS[1], 'cancel_requested') or '0')}
"""

# KEYS: job hash, running, exp, callback leases; ARGV: id, node, keep (s), done?, field, value, ...
FINISH = """
if redis.call('HGET', KEYS[1], 'state') ~= '2' or redis.call('HGET', KEYS[1], 'node') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZREM', KEYS[2], ARGV[1])
local expires = redis.call('HGET', KEYS[1], 'result_expires_at')
local keep = tonumber(ARGV[3])
if expires and expires ~= '' then
  redis.call('ZADD', KEYS[3], expires, ARGV[1])
  keep = keep + math.ceil(tonumber(expires) - tonumber(redis.call('HGET', KEYS[1], 'finished_at')))
end
if (redis.call('HGET', KEYS[1], 'callback_url') or '') ~= '' then
  redis.call('HSET', KEYS[1], 'callback_state', 'pending')
  redis.call('ZADD', KEYS[4], 0, ARGV[1])
end
redis.call('EXPIRE', KEYS[1], keep)
return 1
"""

# KEYS: job hash, running, waiting list, turns, served; ARGV: id, node, account
RELEASE = """
if redis.call('HGET', KEYS[1], 'state') ~= '2' or redis.call('HGET', KEYS[1], 'node') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', '1', 'node', '', 'progress', '0')
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], 'NX', redis.call('HGET', KEYS[5], ARGV[3]) or '0', ARGV[3])
return 1
"""

# KEYS: job hash, waiting list, turns, callback leases; ARGV: id, account, now, keep, cancelled code, message
CANCEL = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == '1' then
  redis.call('LREM', KEYS[2], 0, ARGV[1])
  if redis.call('LLEN', KEYS[2]) == 0 then redis.call('ZREM', KEYS[3], ARGV[2]) end
  redis.call('HSET', KEYS[1], 'state', '4', 'error_code', ARGV[5], 'error_msg', ARGV[6], 'finished_at', ARGV[3])
  if (redis.call('HGET', KEYS[1], 'callback_url') or '') ~= '' then
    redis.call('HSET', KEYS[1], 'callback_state', 'pending')
    redis.call('ZADD', KEYS[4], 0, ARGV[1])
  end
  redis.call('EXPIRE', KEYS[1], ARGV[4])
elseif state == '2' then
  redis.call('HSET', KEYS[1], 'cancel_requested', '1')
end
return state
"""

# KEYS: turns; ARGV: waiting prefix, account, job id -> {place (0: not waiting), account, n, ...}
LINES = """
local pos = redis.call('LPOS', ARGV[1] .. ARGV[2], ARGV[3])
if not pos then return {0} end
local out = {pos + 1}
for _, account in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  out[#out + 1] = account
  out[#out + 1] = redis.call('LLEN', ARGV[1] .. account)
end
return out
"""

# KEYS: callback leases, owners; ARGV: now (ms), lease (ms), node, limit, [job id] -> claimed ids
CLAIM_CALLBACKS = """
local ids
if ARGV[5] then
  ids = {}
  local score = redis.call('ZSCORE', KEYS[1], ARGV[5])
  if score and tonumber(score) < tonumber(ARGV[1]) then ids[1] = ARGV[5] end
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
end
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
  redis.call('HSET', KEYS[2], id, ARGV[3])
end
return ids
"""

# KEYS: callback leases, owners; ARGV: id, node, until (ms)
RENEW_CALLBACK = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
"""

# KEYS: running, waiting prefix, turns, served, callback leases; ARGV: now (s), max attempts, job prefix, keep,
#        cancelled code, lost code -> ids
REQUEUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', math.floor(tonumber(ARGV[1]) * 1000))
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local jk = ARGV[3] .. id
  if redis.call('HGET', jk, 'state') == '2' then
    local attempts = tonumber(redis.call('HGET', jk, 'attempts') or '0')
    local cancel = redis.call('HGET', jk, 'cancel_requested') == '1'
    if cancel or attempts >= tonumber(ARGV[2]) then
      local code = ARGV[6]
      local text = 'The job\\'s node stopped while running it, ' .. attempts .. ' times.'
      if cancel then code = ARGV[5]; text = 'The job was cancelled.' end
      redis.call('HSET', jk, 'state', '4', 'error_code', code, 'error_msg', text, 'finished_at', ARGV[1], 'node', '')
      if (redis.call('HGET', jk, 'callback_url') or '') ~= '' then
        redis.call('HSET', jk, 'callback_state', 'pending')
        redis.call('ZADD', KEYS[5], 0, id)
      end
      redis.call('EXPIRE', jk, ARGV[4])
    else
      local account = redis.call('HGET', jk, 'account_id')
      redis.call('HSET', jk, 'state', '1', 'node', '', 'progress', '0')
      redis.call('LPUSH', KEYS[2] .. account, id)
      redis.call('ZADD', KEYS[3], 'NX', redis.call('HGET', KEYS[4], account) or '0', account)
    end
  end
end
return ids
"""
