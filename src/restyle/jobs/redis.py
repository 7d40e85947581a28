"""Job queue in Redis, shared by every node: any node takes Submits, any node runs jobs.

Every check-and-change is one Lua script, so two nodes never both insert one ClientToken, never both
claim one job, and a dead node's jobs are put back in line exactly once. Durability is Redis's: run it
with ``appendonly yes`` (``appendfsync everysec`` or ``always``) so an accepted job survives a Redis
restart too.

Keys (``{prefix}`` is ``redis_prefix`` + ``jobs:``)::

    {prefix}j:{id}            HASH    the job record (params and effective parameters as JSON)
    {prefix}w:{account}       LIST    waiting job ids of an account, oldest first
    {prefix}turns             ZSET    accounts with waiting jobs -> turn last served (smallest goes next)
    {prefix}served            HASH    account -> turn last served (kept when its line empties)
    {prefix}turn              STRING  turn counter
    {prefix}running           ZSET    running job id -> lease expiry (ms)
    {prefix}exp               ZSET    job id -> result expiry (s)
    {prefix}cbl               ZSET    job id -> callback lease expiry (ms; 0: nobody sends it yet)
    {prefix}cbo               HASH    job id -> the node sending its callback
    {prefix}t:{account}:{tok} STRING  ClientToken -> job id, expires after 24 h

Finished records expire ``jobs_keep_s`` after their result is gone (Redis does the purge).
Needs ``pip install restyle[redis]``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import fields
from typing import Any

from restyle import errors
from restyle.jobs import CANCELLED, LOST, TOKEN_WINDOW_S, BaseQueue, Finish, JobRecord

try:
    import redis
except ImportError as exc:  # pragma: no cover - depends on the environment
    msg = "jobs queue 'redis' needs `pip install restyle[redis]`"
    raise ImportError(msg) from exc

log = logging.getLogger("restyle.jobs.redis")
_FIELDS = {f.name: f for f in fields(JobRecord)}
_JSON = {"params", "effective"}
_FLOAT = {"created_at", "started_at", "finished_at", "result_expires_at"}
_INT = {"result_ttl_s", "progress", "attempts"}

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

# KEYS: job hash, running, exp, cb; ARGV: id, node, keep (s), done?, field, value, ...
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

# KEYS: job hash, waiting list, turns, cb; ARGV: id, account, now, keep, cancelled code, message
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

# KEYS: running, waiting prefix, turns, served, cb; ARGV: now (s), max attempts, job prefix, keep,
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


def _encode(name: str, value: Any) -> str:
    if name in _JSON:
        return json.dumps(value, ensure_ascii=False) if value is not None else ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _decode(raw: dict[bytes, bytes]) -> JobRecord:
    values: dict[str, Any] = {}
    for k, v in raw.items():
        name, text = k.decode(), v.decode("utf-8")
        if name not in _FIELDS:
            continue
        if name in _JSON:
            values[name] = json.loads(text) if text else None
        elif name in _FLOAT:
            values[name] = float(text) if text else None
        elif name in _INT:
            values[name] = int(text or 0)
        elif name == "cancel_requested":
            values[name] = text == "1"
        elif name in ("client_token", "callback_url", "result_key", "node"):
            values[name] = text or None
        else:
            values[name] = text
    if values.get("params") is None:
        values["params"] = {}
    return JobRecord(**values)


def _pairs(values: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for k, v in values.items():
        out += [k, _encode(k, v)]
    return out


class Queue(BaseQueue):
    name = "redis"

    def __init__(
        self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "restyle:", keep_s: float = 2 * 86400
    ) -> None:
        self.url = url
        self.p = f"{prefix}jobs:"
        self.keep_s = int(keep_s)
        self.redis: Any = redis.Redis.from_url(
            url, socket_timeout=5.0, socket_connect_timeout=2.0, health_check_interval=30
        )
        self._submit = self.redis.register_script(SUBMIT)
        self._claim = self.redis.register_script(CLAIM)
        self._heartbeat = self.redis.register_script(HEARTBEAT)
        self._finish = self.redis.register_script(FINISH)
        self._release = self.redis.register_script(RELEASE)
        self._cancel = self.redis.register_script(CANCEL)
        self._requeue = self.redis.register_script(REQUEUE)
        self._claim_callbacks = self.redis.register_script(CLAIM_CALLBACKS)
        self._lines = self.redis.register_script(LINES)
        self._renew_callback = self.redis.register_script(RENEW_CALLBACK)

    @classmethod
    def from_settings(cls, settings: Any) -> Queue:
        return cls(settings.redis_url, prefix=settings.redis_prefix, keep_s=settings.jobs_keep_s)

    def _k(self, *parts: str) -> str:
        return self.p + ":".join(parts)

    def _do(self, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except redis.RedisError as exc:
            log.error("redis job queue at %s failed: %s", self.url, exc)
            msg = "The job queue is unreachable; retry the call."
            raise errors.ServerError(msg) from exc

    # --- submit / read ----------------------------------------------------------------------------
    def submit(self, rec: JobRecord, *, max_waiting: int) -> tuple[JobRecord, bool]:
        token = rec.client_token
        values = {name: getattr(rec, name) for name in _FIELDS}
        status, value = self._do(
            self._submit,
            keys=[
                self._k("t", rec.account_id, token or "-"),
                self._k("w", rec.account_id),
                self._k("j", rec.job_id),
                self._k("turns"),
                self._k("served"),
            ],
            args=[
                "1" if token is not None else "0",
                rec.job_id,
                rec.account_id,
                max_waiting,
                TOKEN_WINDOW_S,
                "",
                "",
                self._k("j", ""),
                *_pairs(values),
            ],
        )
        if status == -1:
            msg = (
                f"This account already has {int(value)} jobs waiting; at most {max_waiting} may wait. "
                "Query them and submit more when some have finished."
            )
            raise errors.JobNumExceed(msg)
        if status == 0:
            old = self.get(value.decode())
            if old is not None:
                return old, False
        return rec, True

    def get(self, job_id: str) -> JobRecord | None:
        raw = self._do(self.redis.hgetall, self._k("j", job_id))
        return _decode(raw) if raw else None

    def lines(self, rec: JobRecord) -> tuple[int, list[tuple[str, int]]] | None:
        raw = self._do(
            self._lines, keys=[self._k("turns")], args=[self._k("w", ""), rec.account_id, rec.job_id]
        )
        if not raw or raw[0] == 0:
            return None
        pairs = raw[1:]
        return int(raw[0]), [(pairs[i].decode(), int(pairs[i + 1])) for i in range(0, len(pairs), 2)]

    def waiting_accounts(self) -> list[str]:
        return [a.decode() for a in self._do(self.redis.zrange, self._k("turns"), 0, -1)]

    # --- running ----------------------------------------------------------------------------------
    def claim(self, account_id: str, *, node: str, lease_s: float) -> JobRecord | None:
        job_id = self._do(
            self._claim,
            keys=[
                self._k("w", account_id),
                self._k("turns"),
                self._k("served"),
                self._k("turn"),
                self._k("running"),
            ],
            args=[account_id, node, repr(time.time()), int(lease_s * 1000), self._k("j", "")],
        )
        return self.get(job_id.decode()) if job_id else None

    def heartbeat(self, job_id: str, *, node: str, progress: int, lease_s: float) -> tuple[bool, bool]:
        owned, cancel = self._do(
            self._heartbeat,
            keys=[self._k("j", job_id), self._k("running")],
            args=[job_id, node, repr(time.time()), int(lease_s * 1000), progress],
        )
        return bool(owned), bool(cancel)

    def finish(self, job_id: str, *, node: str, outcome: Finish) -> bool:
        values: dict[str, Any] = {
            "state": outcome.state,
            "error_code": outcome.error_code,
            "error_msg": outcome.error_msg,
            "result_key": outcome.result_key,
            "result_expires_at": outcome.result_expires_at,
            "effective": outcome.effective,
            "finished_at": time.time(),
        }
        if outcome.state == "5":
            values["progress"] = 100
        ok = self._do(
            self._finish,
            keys=[self._k("j", job_id), self._k("running"), self._k("exp"), self._k("cbl")],
            args=[job_id, node, self.keep_s, "", *_pairs(values)],
        )
        return bool(ok)

    def release(self, job_id: str, *, node: str) -> bool:
        rec = self.get(job_id)
        if rec is None:
            return False
        ok = self._do(
            self._release,
            keys=[
                self._k("j", job_id),
                self._k("running"),
                self._k("w", rec.account_id),
                self._k("turns"),
                self._k("served"),
            ],
            args=[job_id, node, rec.account_id],
        )
        return bool(ok)

    def cancel(self, job_id: str) -> JobRecord | None:
        rec = self.get(job_id)
        if rec is None:
            return None
        self._do(
            self._cancel,
            keys=[self._k("j", job_id), self._k("w", rec.account_id), self._k("turns"), self._k("cbl")],
            args=[
                job_id,
                rec.account_id,
                repr(time.time()),
                self.keep_s,
                CANCELLED,
                "The job was cancelled before it started.",
            ],
        )
        return self.get(job_id)

    def requeue_expired(self, *, max_attempts: int) -> list[str]:
        ids = self._do(
            self._requeue,
            keys=[self._k("running"), self._k("w", ""), self._k("turns"), self._k("served"), self._k("cbl")],
            args=[repr(time.time()), max_attempts, self._k("j", ""), self.keep_s, CANCELLED, LOST],
        )
        return [i.decode() for i in ids]

    # --- results and callbacks --------------------------------------------------------------------
    def clear_result(self, job_id: str) -> str | None:
        jk = self._k("j", job_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hget(jk, "result_key")
        pipe.hset(jk, mapping={"result_key": "", "result_expires_at": ""})
        pipe.zrem(self._k("exp"), job_id)
        pipe.expire(jk, self.keep_s)
        key = self._do(pipe.execute)[0]
        return key.decode() if key else None

    def expired_results(self, now: float) -> list[tuple[str, str]]:
        ids = [i.decode() for i in self._do(self.redis.zrangebyscore, self._k("exp"), "-inf", now)]
        out = []
        for job_id in ids:
            key = self._do(self.redis.hget, self._k("j", job_id), "result_key")
            if key:
                out.append((job_id, key.decode()))
            else:
                self._do(self.redis.zrem, self._k("exp"), job_id)
        return out

    def set_callback_state(self, job_id: str, state: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self._k("j", job_id), "callback_state", state)
        pipe.hdel(self._k("cbo"), job_id)
        if state == "pending":
            pipe.zadd(self._k("cbl"), {job_id: 0})
        else:
            pipe.zrem(self._k("cbl"), job_id)
        self._do(pipe.execute)

    def pending_callbacks(self) -> list[str]:
        return [i.decode() for i in self._do(self.redis.zrange, self._k("cbl"), 0, -1)]

    def claim_callbacks(
        self, *, node: str, lease_s: float, job_id: str | None = None, limit: int = 100
    ) -> list[str]:
        now_ms = int(time.time() * 1000)
        args: list[Any] = [now_ms, int(lease_s * 1000), node, limit]
        if job_id is not None:
            args.append(job_id)
        ids = self._do(self._claim_callbacks, keys=[self._k("cbl"), self._k("cbo")], args=args)
        return [i.decode() for i in ids]

    def renew_callback(self, job_id: str, *, node: str, lease_s: float) -> bool:
        until = int((time.time() + lease_s) * 1000)
        ok = self._do(self._renew_callback, keys=[self._k("cbl"), self._k("cbo")], args=[job_id, node, until])
        return bool(ok)

    def purge(self, *, older_than_s: float) -> int:
        return 0  # finished records carry an EXPIRE

    def ready(self) -> None:
        self.redis.ping()

    def close(self) -> None:
        self.redis.close()
